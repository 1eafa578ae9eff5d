// Reading secrets for the command line: a password file, or a prompt with hidden input when stdin is a terminal.
import { readFileSync } from 'node:fs';
import { CliError, UsageError } from './client.ts';

/** The file's content without one trailing line end (what `echo secret > file` leaves). */
export function readPasswordFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new CliError('FILE_UNREADABLE', `cannot read password file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Prompts on stderr and reads a line from the terminal without echoing it. */
export function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new UsageError('no terminal to prompt for the password on; use --password-file FILE');
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error?: CliError) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new CliError('CANCELLED', 'cancelled', 130));
        if (ch === '\u007f' || ch === '\b') value = Array.from(value).slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The password from --password-file, else prompted (twice when `confirm`, for a new password). */
export async function obtainPassword(options: { passwordFile?: string; prompt: string; confirm?: boolean }): Promise<string> {
  if (options.passwordFile !== undefined) return readPasswordFile(options.passwordFile);
  if (!process.stdin.isTTY) throw new UsageError('stdin is not a terminal, so the password cannot be prompted for; use --password-file FILE');
  const first = await promptHidden(options.prompt);
  if (options.confirm) {
    const second = await promptHidden('Repeat it: ');
    if (first !== second) throw new CliError('PASSWORD_MISMATCH', 'the two passwords differ; nothing was changed');
  }
  return first;
}
