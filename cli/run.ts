// `tollgate`: the admin command line over the admin API (API.md §3). Exit 0 done, 1 failed, 2 wrong usage.
// runCli is the whole program minus the process: cli/main.ts runs it, unit tests call it in-process.
import { parseArgs } from 'node:util';
import { AdminApi, apiTargetFromEnv, CliError, UsageError } from './client.ts';
import { type Command, COMMANDS, type OptionSpec } from './commands.ts';

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'print the API\'s JSON instead of tables (for scripts)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

const ENVIRONMENT = [
  'Environment:',
  '  TOLLGATE_URL    the Tollgate API (default http://127.0.0.1:$PORT, PORT 3000: `npm start`)',
  '  TOLLGATE_TOKEN  an admin bearer token (default: the one `npm start` saved in $DATA_DIR/admin-token,',
  '                  DATA_DIR .data, looked for from this folder and from the project folder)',
].join('\n');

/** Control characters (a newline quoted from a file, say) written as escapes: every line of output is one line. */
export function oneLine(text: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  return text.replace(/[\u0000-\u001f\u007f]/g, (ch) => named[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function usageLine(command: Command): string {
  const options = command.options && Object.keys(command.options).length > 0 ? ' [options]' : '';
  return `tollgate ${command.words.join(' ')}${command.argsUsage ? ` ${command.argsUsage}` : ''}${options}`;
}

function describeOptions(options: Record<string, OptionSpec>): string {
  const rows = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`).join('\n');
}

function commandHelp(command: Command): string {
  return [
    `Usage: ${usageLine(command)}`,
    '',
    `${command.summary[0].toUpperCase()}${command.summary.slice(1)}.`,
    ...(command.details ? ['', command.details] : []),
    '',
    'Options:',
    describeOptions({ ...(command.options ?? {}), ...GLOBAL_OPTIONS }),
    '',
    ENVIRONMENT,
  ].join('\n');
}

function overview(commands: Command[] = COMMANDS, heading = 'Usage: tollgate [--json] <command> [arguments] [options]'): string {
  const width = Math.max(...commands.map((c) => usageLine(c).length - 'tollgate '.length));
  return [
    heading,
    '',
    'Commands:',
    ...commands.map((c) => `  ${usageLine(c).slice('tollgate '.length).padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --help and --json.',
    '',
    ENVIRONMENT,
  ].join('\n');
}

const startsWith = (words: string[], prefix: string[]) => prefix.every((word, i) => words[i] === word);

interface Resolved {
  command?: Command;
  /** Leading words that name a group of commands (e.g. `settings`), when no command matched. */
  group?: Command[];
  rest: string[];
  help: boolean;
}

/** Finds the command named by the leading words; global flags may come before them. */
function resolve(argv: string[]): Resolved {
  const leadingFlags: string[] = [];
  let index = 0;
  while (index < argv.length && ['--json', '--help', '-h'].includes(argv[index])) leadingFlags.push(argv[index++]);
  const words: string[] = [];
  for (let i = index; i < argv.length && !argv[i].startsWith('-'); i += 1) words.push(argv[i]);
  const help = leadingFlags.includes('--help') || leadingFlags.includes('-h') || argv.slice(index).some((a) => a === '--help' || a === '-h');

  const matches = COMMANDS.filter((c) => startsWith(words, c.words)).sort((a, b) => b.words.length - a.words.length);
  if (matches[0]) {
    const rest = [...leadingFlags, ...argv.slice(index + matches[0].words.length)];
    return { command: matches[0], rest, help };
  }
  const group = COMMANDS.filter((c) => words.length > 0 && startsWith(c.words, words));
  return { group: group.length > 0 ? group : undefined, rest: [], help };
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'help') argv = [...argv.slice(1), '--help'];
  const resolved = resolve(argv);
  const { command } = resolved;

  if (!command) {
    if (resolved.group) {
      const text = overview(resolved.group, `Usage: tollgate ${resolved.group[0].words.slice(0, -1).join(' ')} <command> …`);
      if (resolved.help) return (process.stdout.write(`${text}\n`), 0);
      throw new UsageError(`which one? ${resolved.group.map((c) => c.words.join(' ')).join(', ')} (see tollgate --help)`);
    }
    const first = argv.find((a) => !a.startsWith('-'));
    if (resolved.help || argv.length === 0) {
      process[argv.length === 0 ? 'stderr' : 'stdout'].write(`${overview()}\n`);
      return argv.length === 0 ? 2 : 0;
    }
    throw new UsageError(first ? `unknown command "${first}" (see tollgate --help)` : 'no command given (see tollgate --help)');
  }

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: resolved.rest,
      options: Object.fromEntries(Object.entries({ ...(command.options ?? {}), ...GLOBAL_OPTIONS }).map(([name, spec]) => [name, spec.short ? { type: spec.type, short: spec.short } : { type: spec.type }])),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0].split('. To specify')[0].replace(/\.$/, '')} (see tollgate ${command.words.join(' ')} --help)`);
  }
  const options = parsed.values as Record<string, string | boolean | undefined>;
  if (options.help) return (process.stdout.write(`${commandHelp(command)}\n`), 0);

  const args = parsed.positionals;
  const min = command.minArgs ?? 0;
  const max = command.maxArgs ?? (command.argsUsage ? Infinity : 0);
  if (args.length < min || args.length > max) {
    throw new UsageError(`${args.length < min ? 'missing arguments' : `unexpected argument "${args[max]}"`}: ${usageLine(command)}`);
  }
  await command.run({ args, options, json: options.json === true, api: new AdminApi(apiTargetFromEnv()) });
  return 0;
}

/** Runs one command line; never throws. Returns the exit status: 0 done, 1 failed, 2 wrong usage (130 cancelled). */
export async function runCli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write([`tollgate: ${error.code}: ${oneLine(error.message)}`, ...error.lines.map((line) => `  ${oneLine(line)}`)].join('\n') + '\n');
      return error.exitCode;
    }
    process.stderr.write(`tollgate: INTERNAL: ${oneLine((error as Error)?.message ?? String(error))}\n`);
    return 1;
  }
}
