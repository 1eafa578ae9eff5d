// What `npm start` prints: one readable line per request (method, path, status, the check-in's decision, ms) instead
// of the handlers' JSON logs, which LOG_FORMAT=json keeps; a last line once everything has stopped; ADMIN_TOKENS
// mistakes counted in the user's own entries.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config.ts';
import { PROJECT_ROOT } from '../../local/serverless-config.ts';
import { parseLogFormat, readableLogLine, type RequestSummary, requestLine, stoppedLine } from '../../local/terminal.ts';
import { call } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

const checkin = (checkinId: string, verified = true) => ({
  checkinId,
  deviceId: 'C02TERMINAL1',
  clientTime: new Date().toISOString(),
  serverCertificateVerified: verified,
});

describe('the request line', () => {
  it.each([
    [{ method: 'POST', path: '/checkin', status: 403, decision: 'BLOCK', ms: 12.4 }, 'POST /checkin 403 BLOCK 12 ms'],
    [{ method: 'GET', path: '/admin/settings', status: 200, ms: 3.6 }, 'GET /admin/settings 200 4 ms'],
  ] as [RequestSummary, string][])('%j → %s', (summary, line) => {
    expect(requestLine(summary)).toBe(line);
  });

  it('is told of every request by the local API Gateway, with the check-in\'s decision', async () => {
    const seen: RequestSummary[] = [];
    const stack = await startTestStack({ onRequest: (summary) => seen.push(summary) });
    try {
      await call(`${stack.httpUrl}/checkin`, { json: checkin('term-1') });
      await call(`${stack.httpUrl}/checkin`, { json: checkin('term-2', false) });
      await call(`${stack.httpUrl}/health`);
      await call(`${stack.httpUrl}/nowhere`);
      expect(seen.map(({ ms, ...rest }) => (expect(ms).toBeGreaterThanOrEqual(0), rest))).toEqual([
        { method: 'POST', path: '/checkin', status: 200, decision: 'ACCEPT' },
        { method: 'POST', path: '/checkin', status: 403, decision: 'BLOCK' },
        { method: 'GET', path: '/health', status: 200, decision: undefined },
        { method: 'GET', path: '/nowhere', status: 404, decision: undefined },
      ]);
    } finally {
      await stack.stop();
    }
  });
});

describe('the handlers\' JSON logs on the text terminal', () => {
  it.each([
    ['routine INFO is summed up by the request line', '{"level":"INFO","message":"Check-in evaluated","timestamp":"2026-11-25T18:06:03.120Z","service":"tollgate"}', undefined],
    [
      'a warning, readable, with what it is about',
      '{"level":"WARN","message":"Admin request refused","timestamp":"2026-11-25T18:06:03.120Z","service":"tollgate","reason":"unknown token","requestId":"r-1"}',
      'WARN Admin request refused reason=unknown token requestId=r-1',
    ],
    ['an error with an object', '{"level":"ERROR","message":"Unexpected","service":"tollgate","error":{"name":"TypeError"}}', 'ERROR Unexpected error={"name":"TypeError"}'],
    ['a line that is not a log line passes as it is', 'Ready: http://127.0.0.1:3000', 'Ready: http://127.0.0.1:3000'],
    ['JSON that is not a log line passes as it is', '{"subject":"x"}', '{"subject":"x"}'],
  ])('%s', (_case, line, shown) => {
    expect(readableLogLine(line)).toBe(shown);
  });

  it.each([
    [undefined, 'text'],
    ['', 'text'],
    ['TEXT', 'text'],
    ['json', 'json'],
    ['yaml', undefined],
  ])('LOG_FORMAT=%j → %j', (value, format) => {
    expect(parseLogFormat(value)).toBe(format);
  });
});

describe('ADMIN_TOKENS in local mode', () => {
  const hash = 'ab'.repeat(32);
  it.each([
    [`bob:superuser:${hash}`, 'ADMIN_TOKENS entry 1 ("bob"): the role must be admin or auditor'],
    [`alice:admin:${hash},bob:superuser:${'cd'.repeat(32)}`, 'ADMIN_TOKENS entry 2 ("bob"): the role must be admin or auditor'],
    [
      `alice:admin:${createHash('sha256').update(TEST_ADMIN_TOKEN).digest('hex')}`,
      'ADMIN_TOKENS entry 1 ("alice") is the local admin token (ADMIN_TOKEN or $DATA_DIR/admin-token), which npm start accepts as local-admin already; remove that entry',
    ],
  ])('%s is refused, counting the user\'s entries only', async (adminTokens, message) => {
    await expect(startTestStack({ adminTokens })).rejects.toThrow(new ConfigError(message));
  });
});

function withoutTestLogLevel(): NodeJS.ProcessEnv {
  const { POWERTOOLS_LOG_LEVEL: _silent, ...env } = process.env;
  return env;
}

describe('npm start', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  /** Runs local/start.ts until `until` says its output is complete; resolves its output and exit code. */
  function runStart(env: Record<string, string>, whileReady: (url: string) => Promise<void>): Promise<{ stdout: string; stderr: string; code: number | null }> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'local/start.ts')], {
      cwd: PROJECT_ROOT,
      // The handlers log at serverless.yml's level, as under `npm start` (the test run itself is silent).
      env: { ...withoutTestLogLevel(), PORT: '0', TLS_PORT: '0', DYNAMODB_PORT: '0', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    let readySeen = false;
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (chunk) => {
        stdout += chunk;
        const ready = /^Ready: (http:\/\/\S+)$/m.exec(stdout);
        if (ready && !readySeen) {
          readySeen = true;
          whileReady(ready[1]).then(() => child.kill('SIGINT'), reject);
        }
      });
      child.stderr!.on('data', (chunk) => (stderr += chunk));
      // 'close', not 'exit': only then has the last of its output been read (the final "stopped" line).
      child.on('close', (code) => resolve({ stdout, stderr, code }));
    });
  }

  it('prints one line per request, and says when everything has stopped and where the data is kept', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-start-'));
    const run = await runStart({ DATA_DIR: dataDir, LOG_FORMAT: '' }, async (url) => {
      expect((await call(`${url}/checkin`, { json: checkin('start-1') })).status).toBe(200);
      expect((await call(`${url}/checkin`, { json: checkin('start-2', false) })).status).toBe(403);
      expect((await call(`${url}/admin/settings`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    });
    expect(run.code, run.stderr).toBe(0);
    const lines = `${run.stdout}${run.stderr}`.trimEnd().split('\n');
    const out = run.stdout.trimEnd().split('\n');
    const afterReady = out.slice(out.findIndex((l) => l.startsWith('Ready: ')) + 1);
    // The alert of the blocked device is printed whenever the stream delivers it, and the refusal's warning is made
    // readable (below): neither is a request line.
    expect(afterReady.filter((l) => !l.startsWith('SNS alert') && !l.startsWith('WARN ')).map((l) => l.replace(/ \d+ ms$/, ' N ms'))).toEqual([
      'POST /checkin 200 ACCEPT N ms',
      'POST /checkin 403 BLOCK N ms',
      'GET /admin/settings 401 N ms',
      'SIGINT: stopping…',
      stoppedLine(dataDir),
    ]);
    // The refusal's warning, readable; no JSON line anywhere.
    expect(lines.filter((l) => l.startsWith('WARN'))).toEqual([
      expect.stringMatching(/^WARN Admin request refused requestId=\S+ routeKey=GET \/admin\/settings sourceIp=127\.0\.0\.1 reason=\w+$/),
    ]);
    expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
  }, 240_000);

  it('LOG_FORMAT=json keeps the handlers\' JSON logs and prints no request lines; another LOG_FORMAT is refused in one line', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-start-'));
    const run = await runStart({ DATA_DIR: dataDir, LOG_FORMAT: 'json' }, async (url) => {
      expect((await call(`${url}/checkin`, { json: checkin('json-1') })).status).toBe(200);
    });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.some((l) => l.startsWith('{') && JSON.parse(l).level === 'INFO')).toBe(true);
    expect(lines.filter((l) => /^(GET|POST) \//.test(l))).toEqual([]);
    expect(lines.at(-1)).toBe(stoppedLine(dataDir));

    const refused = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'local/start.ts')], { cwd: PROJECT_ROOT, env: { ...process.env, LOG_FORMAT: 'yaml' } });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(refused).toEqual({ code: 2, stderr: 'LOG_FORMAT must be text (one line per request, the default) or json (the handlers\' JSON logs), got "yaml"\n' });
  }, 240_000);
});
