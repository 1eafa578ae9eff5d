// `npm run invoke -- <function> [--data '<json>']`: runs one function of serverless.yml once, in this process,
// against the RUNNING local stack (`npm start`), and prints its result as JSON on stdout (logs go to stderr, so the
// output can be piped into jq). The stack's environment comes from $DATA_DIR/local-stack.json, which it writes.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { lambdaContext } from './api-gateway.ts';
import { loadServerlessConfig, PROJECT_ROOT } from './serverless-config.ts';
import { type LocalStackState, STATE_FILE } from './stack.ts';

const USAGE = `Usage: npm run invoke -- <function> [--data '<json event>']
Runs one function of serverless.yml once against the running local stack (npm start) and prints its result.
Example: npm run invoke -- certExpiryScan`;

class InvokeError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

interface Arguments {
  functionName: string;
  event: unknown;
}

function parseArguments(argv: readonly string[]): Arguments {
  let functionName: string | undefined;
  let data: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') throw new InvokeError(USAGE, 0);
    if (arg === '--data' || arg === '-d') {
      if (i + 1 >= argv.length) throw new InvokeError(`--data needs a JSON value\n${USAGE}`, 2);
      data = argv[++i];
    } else if (arg.startsWith('--data=')) data = arg.slice('--data='.length);
    else if (arg.startsWith('-')) throw new InvokeError(`Unknown option ${arg}\n${USAGE}`, 2);
    else if (functionName === undefined) functionName = arg;
    else throw new InvokeError(`Unexpected argument ${arg}\n${USAGE}`, 2);
  }
  if (!functionName) throw new InvokeError(USAGE, 2);
  let event: unknown = {};
  if (data !== undefined) {
    try {
      event = JSON.parse(data);
    } catch (error) {
      throw new InvokeError(`--data is not valid JSON: ${(error as Error).message}`, 2);
    }
  }
  return { functionName, event };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(5000) });
    return true; // any HTTP answer (DynamoDB Local says 400 to a bare GET) means it runs
  } catch {
    return false;
  }
}

/** The running stack's environment; an InvokeError saying how to start it when it is not running. */
async function readRunningStack(dataDir: string): Promise<LocalStackState> {
  const path = join(dataDir, STATE_FILE);
  const start = `start it with \`npm start\`${process.env.DATA_DIR ? ' (same DATA_DIR)' : ''} in another terminal, then run this again`;
  if (!existsSync(path)) throw new InvokeError(`The local stack is not running (no ${path}); ${start}.`);
  let state: LocalStackState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as LocalStackState;
  } catch {
    throw new InvokeError(`${path} is unreadable; ${start}.`);
  }
  if (typeof state?.env !== 'object' || state.env === null) throw new InvokeError(`${path} has no environment; ${start}.`);
  if (typeof state.pid === 'number' && !processAlive(state.pid)) {
    throw new InvokeError(`The local stack is not running (process ${state.pid}, which wrote ${path}, has exited); ${start}.`);
  }
  const dynamoDb = state.env.AWS_ENDPOINT_URL_DYNAMODB;
  if (dynamoDb && !(await answers(dynamoDb))) {
    throw new InvokeError(`The local stack is not running (DynamoDB Local at ${dynamoDb} does not answer); ${start}.`);
  }
  return state;
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  const config = loadServerlessConfig();
  const fn = config.functions.find((f) => f.name === args.functionName);
  if (!fn) {
    throw new InvokeError(`No function "${args.functionName}" in serverless.yml; there are: ${config.functions.map((f) => f.name).join(', ')}`, 2);
  }
  const state = await readRunningStack(resolve(process.env.DATA_DIR || '.data'));
  // The handlers read their configuration at import, as in Lambda: set it first.
  Object.assign(process.env, state.env);

  // Logs (Powertools writes to process.stdout) go to stderr while the function runs; stdout carries the result alone.
  const writeStdout = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  let result: unknown;
  try {
    const module = await import(pathToFileURL(join(PROJECT_ROOT, fn.module)).href);
    const handler = module[fn.exportName];
    if (typeof handler !== 'function') throw new InvokeError(`${fn.module} exports no function ${fn.exportName}`);
    result = await handler(args.event, lambdaContext(fn.name, undefined, fn.timeoutSeconds));
  } finally {
    process.stdout.write = writeStdout;
  }
  await new Promise<void>((done) => process.stdout.write(`${JSON.stringify(result ?? null, null, 2)}\n`, () => done()));
}

main().then(
  () => process.exit(0),
  (error) => {
    if (error instanceof InvokeError) {
      (error.exitCode === 0 ? console.log : console.error)(error.message);
      process.exit(error.exitCode);
    }
    const e = error as Error & { summary?: unknown };
    console.error(`The function failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`);
    if (e?.summary !== undefined) console.error(JSON.stringify(e.summary, null, 2));
    process.exit(1);
  },
);
