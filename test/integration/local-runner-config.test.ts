// The local runner's configuration (API.md §1 way 2, §5): a trusted proxy header without TRUSTED_PROXY_SECRET is
// refused in one line before anything starts; with it, the handlers get the secret (never the SSM parameter), the
// state file that `npm run invoke` reads does not keep it, and $DATA_DIR is readable by its owner only.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config.ts';
import { PROJECT_ROOT } from '../../local/serverless-config.ts';
import { type LocalStack, STATE_FILE } from '../../local/stack.ts';
import { startTestStack } from '../support/local-stack.ts';

const SECRET = 'local-proxy-secret-0123456789abcdefghij';
const stacks: LocalStack[] = [];

afterAll(async () => {
  for (const stack of stacks) await stack.stop();
});

function freshDir(mode = 0o755): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'tollgate-local-')), 'data');
  mkdirSync(dir, { mode });
  return dir;
}

describe('a trusted proxy header without its secret', () => {
  it('is refused by startLocalStack with one line naming the variables, before the data folder is made', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tollgate-local-')), 'data');
    const starting = startTestStack({ dataDir, params: { trustedClientCertHeader: 'x-client-cert' } });
    await expect(starting).rejects.toBeInstanceOf(ConfigError);
    await expect(starting).rejects.toThrow(/^TRUSTED_CLIENT_CERT_HEADER is set but TRUSTED_PROXY_SECRET \(at least 32 characters\) is not; [^\n]*$/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('is refused when the secret is too short', async () => {
    await expect(startTestStack({ dataDir: freshDir(), params: { trustedClientCertHeader: 'x-client-cert' }, trustedProxySecret: 'short' })).rejects.toThrow(
      /^TRUSTED_PROXY_SECRET must be at least 32 characters$/,
    );
  });

  it('makes `npm start` exit with that one line on stderr', async () => {
    const dataDir = freshDir();
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const env: NodeJS.ProcessEnv = { ...process.env, TRUSTED_CLIENT_CERT_HEADER: 'x-client-cert', DATA_DIR: dataDir, PORT: '0', TLS_PORT: '0', DYNAMODB_PORT: '0' };
      delete env.TRUSTED_PROXY_SECRET;
      // `npm start` is `tsx local/start.ts` (npm would add a second of its own).
      const child = execFile(join(PROJECT_ROOT, 'node_modules/.bin/tsx'), [join(PROJECT_ROOT, 'local/start.ts')], { cwd: PROJECT_ROOT, env, timeout: 60_000 }, (_error, stdout, stderr) =>
        resolve({ code: child.exitCode, stdout, stderr }),
      );
    });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    // Node may print its own warnings first; the refusal is the last line, alone.
    const lines = run.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^TRUSTED_CLIENT_CERT_HEADER is set but TRUSTED_PROXY_SECRET \(at least 32 characters\) is not; /);
    expect(lines.filter((line) => line.includes('TRUSTED_'))).toHaveLength(1);
  });
});

describe('a trusted proxy header with its secret', () => {
  it('gives the handlers TRUSTED_PROXY_SECRET, no SSM parameter name, and keeps the secret out of the state file', async () => {
    const dataDir = freshDir(0o755);
    // A parameter name passed by mistake must not make local mode reach for SSM.
    const stack = await startTestStack({
      dataDir,
      params: { trustedClientCertHeader: 'x-client-cert', trustedProxySecretParameter: '/tollgate/dev/trusted-proxy-secret' },
      trustedProxySecret: SECRET,
    });
    stacks.push(stack);
    expect(process.env.TRUSTED_CLIENT_CERT_HEADER).toBe('x-client-cert');
    expect(process.env.TRUSTED_PROXY_SECRET).toBe(SECRET);
    expect(process.env.TRUSTED_PROXY_SECRET_PARAMETER).toBe('');
    const stateText = readFileSync(join(dataDir, STATE_FILE), 'utf8');
    expect(stateText).not.toContain(SECRET);
    expect(JSON.parse(stateText).env).toMatchObject({ TRUSTED_CLIENT_CERT_HEADER: 'x-client-cert', TRUSTED_PROXY_SECRET_PARAMETER: '' });
    // $DATA_DIR existed with 0755: the runner narrowed it.
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect((await fetch(`${stack.httpUrl}/health`)).status).toBe(200);
  });
});
