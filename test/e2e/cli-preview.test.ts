// `tollgate settings set … --dry-run` and the confirmation before a change that would block more devices, driven as a
// user would: the real binary against the local runner, on a terminal (a pseudo-terminal made by `script`) or not.
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import { PROJECT_ROOT } from '../../local/serverless-config.ts';
import type { LocalStack } from '../../local/stack.ts';
import { TEST_ADMIN_TOKEN } from '../support/local-stack.ts';
import { adminCall, checkIn, newStack } from '../support/preview.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const BIN = join(PROJECT_ROOT, 'bin', 'tollgate.mjs');
let stack: LocalStack;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const cliEnv = () => ({ ...process.env, TOLLGATE_URL: stack.httpUrl, TOLLGATE_TOKEN: TEST_ADMIN_TOKEN });

/** The CLI with no terminal (stdin closed), as a script runs it. */
function tollgate(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: cliEnv(), timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** The CLI on a pseudo-terminal, typing `answer` (and Enter) at whatever it asks; output is what the terminal shows. */
function onTerminal(args: string[], answer?: string, beforeAnswer?: () => Promise<unknown>): Promise<{ code: number; screen: string }> {
  const command = [process.execPath, BIN, ...args].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: cliEnv() });
    let screen = '';
    let answered = false;
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
      if (answer !== undefined && !answered && screen.includes('[y/N] ')) {
        answered = true;
        void (beforeAnswer ?? (async () => undefined))().then(() => child.stdin.write(`${answer}\r`));
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, screen: screen.replace(/\r\n/g, '\n') });
    });
  });
}

const version = async () => (await adminCall(stack, 'GET', '/admin/settings')).body.version as number;

beforeAll(async () => {
  stack = await newStack();
  for (const [deviceId, skewSeconds] of [['CLI-SKEW-050', 50], ['CLI-SKEW-200', 200], ['CLI-SKEW-400', 400]] as const) {
    expect([200, 403]).toContain((await checkIn(stack, { deviceId, skewSeconds })).status);
  }
});
afterAll(async () => stack?.stop());

describe('tollgate settings set --dry-run', () => {
  it('prints the counts by violation and the devices it would block, and changes nothing', async () => {
    const before = await version();
    const run = await tollgate(['settings', 'set', 'maxClockSkewSeconds=100', '--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Impact preview — nothing was changed\. 3 devices seen since \d{4}-\d\d-\d\dT[\d:.]+Z:$/);
    expect(lines.slice(1)).toEqual([
      '  blocked now: 1; with the change: 2',
      '  would block 1 more device:',
      expect.stringMatching(/^ {4}CLOCK_SKEW_EXCEEDED +1$/),
      expect.stringMatching(/^DEVICE +VIOLATIONS +LAST CHECK-IN$/),
      expect.stringMatching(/^CLI-SKEW-200 +CLOCK_SKEW_EXCEEDED +\d{4}-/),
      '  would let in no devices',
    ]);
    expect(await version()).toBe(before);
  });

  it('--json prints the API answer', async () => {
    const run = await tollgate(['--json', 'settings', 'set', 'maxClockSkewSeconds=100', '--dry-run', '--since-days', '7']);
    expect(run.code, run.stderr).toBe(0);
    const body = JSON.parse(run.stdout);
    expect(body).toMatchObject({ devices: 3, current: { blocked: 1 }, proposed: { blocked: 2 }, newlyBlocked: { count: 1, byViolation: { CLOCK_SKEW_EXCEEDED: 1 } } });
    expect(Math.abs(Date.parse(body.since) - (Date.now() - 7 * 86_400_000))).toBeLessThan(60_000);
  });

  it('refuses an invalid change as the save would, naming the rule', async () => {
    const run = await tollgate(['settings', 'set', 'maxClockSkewSeconds=0', '--dry-run']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/maxClockSkewSeconds/);
    expect(run.stdout).toBe('');
  });
});

describe('tollgate settings set on a terminal', () => {
  it('shows what the change would block and, answered no, saves nothing', async () => {
    const before = await version();
    const { code, screen } = await onTerminal(['settings', 'set', 'maxClockSkewSeconds=100'], 'n');
    expect(code, screen).toBe(1);
    expect(screen).toContain('would block 1 more device:');
    expect(screen).toMatch(/CLI-SKEW-200 +CLOCK_SKEW_EXCEEDED/);
    expect(screen).toContain('Save anyway and block 1 more device? [y/N] ');
    expect(screen).toContain('tollgate: NOT_SAVED: nothing was changed (answered no)');
    expect(await version()).toBe(before);
  });

  it('answered yes, saves and says when check-ins use it', async () => {
    const before = await version();
    const { code, screen } = await onTerminal(['settings', 'set', 'maxClockSkewSeconds=120'], 'y');
    expect(code, screen).toBe(0);
    expect(screen).toContain('Save anyway and block 1 more device? [y/N] ');
    expect(screen).toContain(`Settings changed to version ${before + 1}; check-ins and imaging use them within 5 s:`);
    expect(await version()).toBe(before + 1);
  });

  it('answered yes after someone else changed the settings, saves nothing: what was confirmed was previewed on the old version', async () => {
    const before = await version();
    // The skew is 120 s after the test above: 40 s would block CLI-SKEW-050 too.
    const { code, screen } = await onTerminal(['settings', 'set', 'maxClockSkewSeconds=40'], 'y', () =>
      adminCall(stack, 'PATCH', '/admin/settings', { certificateExpiryAlertDays: [30, 7] }),
    );
    expect(code, screen).toBe(1);
    expect(screen).toContain('[y/N] ');
    expect(screen).toMatch(/tollgate: PRECONDITION_FAILED: /);
    const after = await adminCall(stack, 'GET', '/admin/settings');
    expect(after.body.version).toBe(before + 1);
    expect(after.body.settings.maxClockSkewSeconds).toBe(120);
  });

  it('--yes saves without asking; a change that blocks no more devices is not asked about', async () => {
    const before = await version();
    const forced = await onTerminal(['settings', 'set', 'maxClockSkewSeconds=90', '--yes']);
    expect(forced.code, forced.screen).toBe(0);
    expect(forced.screen).not.toContain('[y/N]');
    const loosened = await onTerminal(['settings', 'set', 'maxClockSkewSeconds=600']);
    expect(loosened.code, loosened.screen).toBe(0);
    expect(loosened.screen).not.toContain('[y/N]');
    expect(await version()).toBe(before + 2);
  });
});
