// The `tollgate` command line driven as a subprocess (node bin/tollgate.mjs …) against the local runner: what a
// user reads (stdout, stderr, exit status) for each command, its outcomes and its failures.
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import { COMMANDS } from '../../cli/commands.ts';
import { PROJECT_ROOT } from '../../local/serverless-config.ts';
import type { LocalStack } from '../../local/stack.ts';
import { CertificateFactory, type MadeCertificate, signBody } from '../support/certificates.ts';
import { call } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';
import { OpensslWorkbench, pushSubject } from '../support/pkcs12.ts';

// Every step runs the real binary (node, tsx, a fresh compile): slow on a busy machine, so generous limits.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const BIN = join(PROJECT_ROOT, 'bin', 'tollgate.mjs');
const P12_PASSWORD = 'cli p12 password';

let stack: LocalStack;
let dir: string;
let factory: CertificateFactory;
let bench: OpensslWorkbench;
let root: MadeCertificate;
let device: MadeCertificate;
let files: Record<string, string>;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; env replaces TOLLGATE_URL/TOLLGATE_TOKEN (pass undefined to leave one unset). */
function tollgate(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string } = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, TOLLGATE_URL: stack.httpUrl, TOLLGATE_TOKEN: TEST_ADMIN_TOKEN, ...(options.env ?? {}) };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: env as NodeJS.ProcessEnv, cwd: options.cwd ?? dir, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

async function json(args: string[]): Promise<any> {
  const run = await tollgate(['--json', ...args]);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

/** A failure is exactly one line on stderr: `tollgate: <code>: <message>`. */
function expectFailure(run: Run, exitCode: number, code: string) {
  expect(run.code, run.stdout).toBe(exitCode);
  expect(run.stderr.endsWith('\n')).toBe(true);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(new RegExp(`^tollgate: ${code}: \\S`));
}

beforeAll(async () => {
  const starting = startTestStack();
  dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-'));
  factory = CertificateFactory.create();
  root = factory.makeRootCa({ cn: 'CLI Device Root' });
  device = factory.makeDeviceCertificate(root, { cn: 'CLI-DEVICE-1' });
  const server = factory.makeDeviceCertificate(root, { cn: 'cli.example.com', key: device, eku: 'serverAuth' });
  bench = OpensslWorkbench.create();
  const push = bench.makeCertificate({ subject: pushSubject(randomUUID()), key: bench.makeKey('ec256') });
  files = {
    root: join(dir, 'root.pem'),
    device: join(dir, 'device.pem'),
    server: join(dir, 'server.pem'),
    p12: join(dir, 'push.p12'),
    password: join(dir, 'password.txt'),
    wrongPassword: join(dir, 'wrong.txt'),
    pkg: join(dir, 'Agent.pkg'),
    prestage: join(dir, 'prestage.json'),
    broken: join(dir, 'broken.json'),
  };
  writeFileSync(files.root, root.pem);
  writeFileSync(files.device, device.pem);
  writeFileSync(files.server, server.pem);
  writeFileSync(files.p12, Buffer.from(bench.exportPkcs12({ certificate: push, password: P12_PASSWORD }), 'base64'));
  writeFileSync(files.password, `${P12_PASSWORD}\n`);
  writeFileSync(files.wrongPassword, 'not it\n');
  writeFileSync(files.pkg, 'package bytes '.repeat(1000));
  writeFileSync(files.prestage, JSON.stringify({ name: 'Lab Macs', packages: ['agent'] }));
  writeFileSync(files.broken, 'not json\n');
  stack = await starting;
});

afterAll(async () => {
  await stack?.stop();
  factory?.cleanup();
  bench?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('help and usage (the full tables run in-process in test/unit/admin-cli.test.ts)', () => {
  it('--help lists every command; a command\'s --help shows its usage; neither needs a server or a token', async () => {
    const env = { env: { TOLLGATE_TOKEN: undefined, TOLLGATE_URL: 'http://127.0.0.1:9' } };
    const [overview, command] = await Promise.all([tollgate(['--help'], env), tollgate(['packages', 'add', '--help'], env)]);
    expect(overview.code).toBe(0);
    for (const c of COMMANDS) expect(overview.stdout).toContain(c.words.join(' '));
    expect(command.code).toBe(0);
    expect(command.stdout).toMatch(/^Usage: tollgate packages add ID \[options\]/);
    expect(command.stdout).toContain('--file PKG');
  });

  it('usage errors exit 2 with one line: no command, an unknown option, no terminal for a password', async () => {
    const [none, unknown, noTerminal] = await Promise.all([
      tollgate([]),
      tollgate(['devices', '--everything']),
      tollgate(['push-cert', 'upload', 'push.p12']),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: tollgate');
    expectFailure(unknown, 2, 'usage');
    expectFailure(noTerminal, 2, 'usage');
    expect(noTerminal.stderr).toContain('--password-file');
  });
});

describe('settings', () => {
  it('settings get prints a table, or the API\'s JSON with --json', async () => {
    const [table, body, api] = await Promise.all([
      tollgate(['settings', 'get']),
      json(['settings', 'get']),
      call(`${stack.httpUrl}/admin/settings`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }),
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Settings — version 1, never changed\n/);
    expect(table.stdout).toMatch(/^certificateBasedAuthentication\s+false$/m);
    expect(table.stdout).toMatch(/^certificateExpiryAlertDays\s+60, 30, 14, 7, 1$/m);
    expect(body).toEqual(api.body);
  });

  it('settings set types each value (number, enum in any case, list) and reports the changes', async () => {
    const run = await tollgate(['settings', 'set', 'maxClockSkewSeconds=120', 'mode=monitor', 'certificateExpiryAlertDays=30,7', 'requireImagingAuthentication=false']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Settings changed to version 2; check-ins and imaging use them within 5 s:\n');
    expect(run.stdout).toMatch(/^maxClockSkewSeconds\s+300 → 120$/m);
    expect(run.stdout).toMatch(/^mode\s+ENFORCE → MONITOR$/m);
    const [body, again, violation, stale] = await Promise.all([
      json(['settings', 'get']),
      tollgate(['settings', 'set', 'mode=MONITOR']),
      tollgate(['settings', 'set', 'maxClockSkewSeconds=0', 'pushNotifications=true']),
      tollgate(['settings', 'set', '--if-match', '1', 'mode=ENFORCE']),
    ]);
    expect(body.settings).toMatchObject({ maxClockSkewSeconds: 120, mode: 'MONITOR', certificateExpiryAlertDays: [30, 7], requireImagingAuthentication: false });
    expect(again.stdout).toBe('Settings unchanged: they already had these values (version 2).\n');
    // A rule violation: exit 1, then each broken rule on a line of its own, in the CLI's words (no "details").
    expect(violation.code).toBe(1);
    expect(violation.stderr.trimEnd().split('\n')).toEqual([
      'tollgate: INVALID_SETTINGS: nothing was changed; the settings break these rules:',
      '  pushNotifications: Push notifications need a push certificate; upload one first (tollgate push-cert upload FILE.p12)',
      '  maxClockSkewSeconds: maxClockSkewSeconds must be an integer from 1 to 86400',
    ]);
    expectFailure(stale, 1, 'PRECONDITION_FAILED');
    expect(stale.stderr).toBe('tollgate: PRECONDITION_FAILED: The settings are at version 2, not the version given with --if-match; read them again (tollgate settings get) and retry\n');
    const ok = await tollgate(['settings', 'set', '--if-match', '2', 'mode=ENFORCE']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('settings history shows actor and changes', async () => {
    const [run, body] = await Promise.all([tollgate(['settings', 'history', '--limit', '1']), json(['settings', 'history', '--limit', '2'])]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^VERSION\s+CHANGED AT\s+ACTOR\s+CHANGES$/m);
    expect(run.stdout).toMatch(/^3\s+\S+\s+local-admin\s+mode: MONITOR → ENFORCE$/m);
    expect(body.items).toHaveLength(2);
    expect(run.stdout).toMatch(/^More: tollgate settings history --limit 1 --next-token \S+$/m);
  });

  it('settings history --field and --since keep only those changes; --all follows the pages', async () => {
    const [mode, none, all] = await Promise.all([
      json(['settings', 'history', '--field', 'mode', '--all', '--limit', '1']),
      json(['settings', 'history', '--since', '2999-01-01T00:00:00Z']),
      json(['settings', 'history', '--all', '--limit', '1']),
    ]);
    expect(mode.items.length).toBeGreaterThan(0);
    expect(mode.items.every((h: any) => h.changes.some((c: any) => c.field === 'mode'))).toBe(true);
    expect(mode.nextToken).toBeUndefined();
    expect(none.items).toEqual([]);
    expect(all.items.length).toBeGreaterThan(mode.items.length);
  });
});

describe('trust material', () => {
  it('device-ca set and list; then certificate-based authentication can be turned on', async () => {
    const set = await tollgate(['device-ca', 'set', files.root]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout.split('\n')[0]).toBe('Device CA set (1 certificate) created; check-ins see the change within 5 s.');
    expect(set.stdout).toContain(root.fingerprint);
    const again = await tollgate(['device-ca', 'set', files.root]);
    expect(again.stdout.split('\n')[0]).toBe('Device CA set (1 certificate) unchanged: it already had these values.');
    const [list, enable, notCa, missing] = await Promise.all([
      tollgate(['device-ca', 'list']),
      tollgate(['settings', 'set', 'certificateBasedAuthentication=true']),
      tollgate(['device-ca', 'set', files.device]),
      tollgate(['device-ca', 'set', join(dir, 'missing.pem')]),
    ]);
    expect(list.stdout).toMatch(new RegExp(`^CN=CLI Device Root\\s+\\S+\\s+${root.fingerprint}$`, 'm'));
    expect(enable.code, enable.stderr).toBe(0);
    expectFailure(notCa, 1, 'INVALID_CERTIFICATE');
    expectFailure(missing, 1, 'FILE_UNREADABLE');
  });

  it('server-cert set and show; push-cert upload with --password-file, show, and a wrong password', async () => {
    const none = await tollgate(['push-cert', 'show']);
    expect(none).toMatchObject({ code: 1, stdout: '', stderr: 'tollgate: NOT_FOUND: No push certificate is stored; upload one with tollgate push-cert upload FILE.p12\n' });
    const [set, upload, wrong] = await Promise.all([
      tollgate(['server-cert', 'set', files.server]),
      tollgate(['push-cert', 'upload', files.p12, '--password-file', files.password]),
      tollgate(['push-cert', 'upload', files.p12, '--password-file', files.wrongPassword]),
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/^selfSigned\s+false$/m);
    // The local runner registered its own certificate at start: this one replaces it.
    expect(set.stdout.split('\n')[0]).toBe('Server certificate replaced; check-ins see the change within 5 s.');
    expect(upload.code, upload.stderr).toBe(0);
    expect(upload.stdout.split('\n')[0]).toBe('Push certificate created; check-ins see the change within 5 s.');
    expect(upload.stdout).toMatch(/^topic\s+com\.apple\.mgmt\.External\./m);
    expect(upload.stdout).not.toContain(P12_PASSWORD);
    expectFailure(wrong, 1, 'INVALID_P12');
    expect(wrong.stderr).not.toContain('not it');
    const [server, push] = await Promise.all([json(['server-cert', 'show']), json(['push-cert', 'show'])]);
    expect(server.subject).toBe('CN=cli.example.com');
    expect(push).toMatchObject({ topic: expect.stringMatching(/^com\.apple\.mgmt\./), daysRemaining: expect.any(Number) });
    const [serverAgain, pushAgain] = await Promise.all([
      tollgate(['server-cert', 'set', files.server]),
      tollgate(['push-cert', 'upload', files.p12, '--password-file', files.password]),
    ]);
    expect(serverAgain.stdout.split('\n')[0]).toBe('Server certificate unchanged: it already had these values.');
    expect(pushAgain.stdout.split('\n')[0]).toBe('Push certificate unchanged: it already had these values.');
  });

  it('packages add (with --file computing SHA-512, or --sha256), list, show, delete', async () => {
    const sha512 = createHash('sha512').update('package bytes '.repeat(1000)).digest('hex');
    const added = await Promise.all([
      tollgate(['packages', 'add', 'agent', '--name', 'Agent', '--file', files.pkg]),
      tollgate(['packages', 'add', 'office', '--name', 'Office 2026', '--sha256', 'AB'.repeat(32)]),
      tollgate(['packages', 'add', 'bare', '--name', 'No checksum']),
    ]);
    for (const run of added) expect(run.code, run.stderr).toBe(0);
    expect(added.map((run) => run.stdout.split('\n')[0])).toEqual([
      'Package agent created; check-ins see the change within 5 s.',
      'Package office created; check-ins see the change within 5 s.',
      'Package bare created; check-ins see the change within 5 s.',
    ]);
    expect(added[0].stdout.split('\n')[1]).toMatch(/^PACKAGE\s+NAME\s+CHECKSUM\s+UPDATED AT\s+BY$/);
    const [identical, renamed] = await Promise.all([
      tollgate(['packages', 'add', 'agent', '--name', 'Agent', '--file', files.pkg]),
      tollgate(['packages', 'add', 'office', '--name', 'Office 2027', '--sha256', 'AB'.repeat(32)]),
    ]);
    expect(identical.stdout.split('\n')[0]).toBe('Package agent unchanged: it already had these values.');
    expect(renamed.stdout.split('\n')[0]).toBe('Package office replaced; check-ins see the change within 5 s.');
    // History values are ids and digests, the digest shortened for the table.
    const recorded = await tollgate(['settings', 'history', '--field', 'packages', '--limit', '4']);
    expect(recorded.stdout).toContain(`packages: - → agent SHA_512:${sha512.slice(0, 16)}…`);
    expect(recorded.stdout).toContain(`packages: - → office SHA_256:${'ab'.repeat(8)}…`);
    expect(recorded.stdout).toMatch(/packages: - → bare$/m);
    const [shown, list, listed, badMd5] = await Promise.all([
      json(['packages', 'show', 'agent']),
      tollgate(['packages', 'list']),
      json(['packages', 'list']),
      tollgate(['packages', 'add', 'x', '--name', 'X', '--md5', 'abc']),
    ]);
    expect(shown.checksum).toEqual({ type: 'SHA_512', value: sha512 });
    expect(list.stdout).toMatch(/^agent\s+Agent\s+SHA_512 /m);
    expect(list.stdout).toMatch(/^bare\s+No checksum\s+-\s/m);
    expect(listed.items.map((p: any) => p.packageId)).toEqual(['agent', 'bare', 'office']);
    expectFailure(badMd5, 1, 'INVALID_REQUEST');
    expect(await tollgate(['packages', 'delete', 'bare'])).toMatchObject({ code: 0, stdout: 'Package bare deleted; check-ins see the change within 5 s.\n' });
    expectFailure(await tollgate(['packages', 'delete', 'bare']), 1, 'NOT_FOUND');
  });

  it('revoke by certificate file, list, unrevoke by fingerprint with colons', async () => {
    const revoke = await tollgate(['revoke', files.device, '--reason', 'Lost in transit']);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(revoke.stdout).toBe(`Revoked ${device.fingerprint} (Lost in transit); check-ins refuse it within 5 s.\n`);
    const [sameReason, newReason] = [
      await tollgate(['revoke', files.device, '--reason', 'Lost in transit']),
      await tollgate(['revoke', files.device, '--reason', 'Stolen']),
    ];
    expect(sameReason.stdout).toBe(`${device.fingerprint} was already revoked for this reason; nothing changed.\n`);
    expect(newReason.stdout).toBe(`Revoked ${device.fingerprint} (Stolen, a new reason); check-ins refuse it within 5 s.\n`);
    expect((await tollgate(['revoke', files.device, '--reason', 'Lost in transit'])).code).toBe(0);
    const [list, table] = await Promise.all([json(['revocations']), tollgate(['revocations'])]);
    expect(list.items).toEqual([expect.objectContaining({ sha256: device.fingerprint, reason: 'Lost in transit', revokedBy: 'local-admin' })]);
    expect(table.stdout).toMatch(new RegExp(`^${device.fingerprint}\\s+\\S+\\s+local-admin\\s+Lost in transit$`, 'm'));
    const colons = device.fingerprint.toUpperCase().match(/../g)!.join(':');
    expect(await tollgate(['unrevoke', colons])).toMatchObject({ code: 0, stdout: `Revocation of ${device.fingerprint} lifted; check-ins see the change within 5 s.\n` });
    const [after, again] = await Promise.all([json(['revocations']), tollgate(['unrevoke', device.fingerprint])]);
    expect(after.items).toEqual([]);
    expectFailure(again, 1, 'NOT_FOUND');
  });

  it('exempt DEVICE CODE… --until --reason, exemptions, unexempt; a refused code exits 1 with the API code', async () => {
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const exempt = await tollgate(['exempt', 'CLI-EXEMPT-1', 'CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED', '--until', until, '--reason', 'Battery replaced']);
    expect(exempt.code, exempt.stderr).toBe(0);
    expect(exempt.stdout).toBe(`Device CLI-EXEMPT-1 exempted from CLOCK_SKEW_EXCEEDED, SERVER_CERT_NOT_VERIFIED until ${until}; check-ins see the change within 5 s.\n`);
    const replaced = await tollgate(['exempt', 'CLI-EXEMPT-1', 'CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED', '--until', until, '--reason', 'Battery replaced']);
    expect(replaced.stdout).toBe(`Exemption of CLI-EXEMPT-1 replaced: exempted from CLOCK_SKEW_EXCEEDED, SERVER_CERT_NOT_VERIFIED until ${until}; check-ins see the change within 5 s.\n`);
    const [list, table] = await Promise.all([json(['exemptions']), tollgate(['exemptions'])]);
    expect(list.items).toEqual([
      { deviceId: 'CLI-EXEMPT-1', violations: ['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED'], until, reason: 'Battery replaced', createdAt: expect.any(String), createdBy: 'local-admin' },
    ]);
    expect(table.stdout).toMatch(new RegExp(`^CLI-EXEMPT-1\\s+CLOCK_SKEW_EXCEEDED, SERVER_CERT_NOT_VERIFIED\\s+${until}\\s+local-admin\\s+Battery replaced$`, 'm'));
    expectFailure(await tollgate(['exempt', 'CLI-EXEMPT-2', 'CLIENT_CERT_MISSING', '--until', until, '--reason', 'no']), 1, 'INVALID_EXEMPTION');
    expectFailure(await tollgate(['exempt', 'CLI-EXEMPT-2', 'CLOCK_SKEW_EXCEEDED', '--reason', 'no']), 2, 'usage');
    expect((await tollgate(['unexempt', 'CLI-EXEMPT-1'])).stdout).toBe('Exemption of CLI-EXEMPT-1 removed; check-ins see the change within 5 s.\n');
    const [after, again] = await Promise.all([json(['exemptions']), tollgate(['unexempt', 'CLI-EXEMPT-1'])]);
    expect(after.items).toEqual([]);
    expectFailure(again, 1, 'NOT_FOUND');
  });
});

describe('devices and decisions', () => {
  it('devices --blocked lists a device blocked at check-in; decisions DEVICE shows its decisions', async () => {
    // Certificate-based authentication is on (above): the device proves itself, and is blocked for another rule.
    const body = JSON.stringify({ checkinId: 'cli-c-1', deviceId: 'CLI-DEVICE-1', clientTime: new Date().toISOString(), serverCertificateVerified: false });
    const checkin = await call(`${stack.httpUrl}/checkin`, {
      body,
      headers: { 'content-type': 'application/json', 'x-device-certificate': device.base64, 'x-device-signature': signBody(Buffer.from(body), device).toString('base64') },
    });
    expect(checkin.status).toBe(403);
    const [blocked, accepted, decisions, decisionsJson, badLimit, badToken] = await Promise.all([
      tollgate(['devices', '--blocked']),
      json(['devices', '--accepted']),
      tollgate(['decisions', 'CLI-DEVICE-1']),
      json(['decisions', 'CLI-DEVICE-1', '--limit', '1']),
      tollgate(['devices', '--limit', '0']),
      tollgate(['devices', '--next-token', 'tampered']),
    ]);
    // A token made by hand for this very device and list is refused too: only tokens the API gave out name a page.
    const handMade = Buffer.from(JSON.stringify({ pk: 'DEVICE#CLI-DEVICE-1', sk: 'x' })).toString('base64url');
    expect(await tollgate(['decisions', 'CLI-DEVICE-1', '--next-token', handMade])).toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(/^tollgate: INVALID_REQUEST: .*nextToken.*\n$/),
    });
    expect(blocked.code, blocked.stderr).toBe(0);
    expect(blocked.stdout).toMatch(/^CLI-DEVICE-1\s+BLOCK\s+\S+\s+cli-c-1\s+SERVER_CERT_NOT_VERIFIED$/m);
    expect(accepted.items).toEqual([]);
    expect(decisions.stdout).toMatch(/^\S+\s+cli-c-1\s+BLOCK\s+true\s+v\d+\s+SERVER_CERT_NOT_VERIFIED\s+-$/m);
    expect(decisionsJson.items[0]).toMatchObject({ checkinId: 'cli-c-1', facts: expect.any(Object) });
    expectFailure(badLimit, 1, 'INVALID_REQUEST');
    expectFailure(badToken, 1, 'INVALID_REQUEST');
  });

  it('attempts lists a check-in that did not prove its device, which devices does not', async () => {
    const checkin = await call(`${stack.httpUrl}/checkin`, {
      json: { checkinId: 'cli-forged-1', deviceId: 'CLI-CLAIMED', clientTime: new Date().toISOString(), serverCertificateVerified: true },
    });
    expect(checkin.status).toBe(403);
    const [attempts, attemptsJson, blocked] = await Promise.all([tollgate(['attempts']), json(['attempts', '--limit', '1']), tollgate(['devices', '--blocked'])]);
    expect(attempts.code, attempts.stderr).toBe(0);
    expect(attempts.stdout).toMatch(/^AT\s+CLAIMED DEVICE\s+CHECK-IN\s+SOURCE IP\s+VIOLATIONS\s+CERTIFICATE SHA-256$/m);
    expect(attempts.stdout).toMatch(/^\S+\s+CLI-CLAIMED\s+cli-forged-1\s+127\.0\.0\.1\s+CLIENT_CERT_MISSING\s+-$/m);
    expect(attemptsJson.items).toEqual([{ deviceId: 'CLI-CLAIMED', checkinId: 'cli-forged-1', violations: ['CLIENT_CERT_MISSING'], sourceIp: '127.0.0.1', at: expect.any(String) }]);
    expect(blocked.stdout).not.toContain('CLI-CLAIMED');
  });
});

describe('configuration and failures', () => {
  it('defaults: the URL from PORT and the token from $DATA_DIR/admin-token; a wrong token; an unreachable server', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tollgate-cli-home-'));
    try {
      mkdirSync(join(home, 'state'));
      writeFileSync(join(home, 'state', 'admin-token'), `${TEST_ADMIN_TOKEN}\n`);
      const port = new URL(stack.httpUrl).port;
      // A second terminal in another folder, with DATA_DIR as `npm start` got it (relative to the project folder).
      const fromProject = relative(PROJECT_ROOT, join(home, 'state'));
      const [run, absolute, otherFolder, noToken, wrongToken, unreachable] = await Promise.all([
        tollgate(['--json', 'settings', 'get'], { cwd: home, env: { TOLLGATE_URL: undefined, TOLLGATE_TOKEN: undefined, PORT: port, DATA_DIR: 'state' } }),
        tollgate(['--json', 'settings', 'get'], { cwd: dir, env: { TOLLGATE_TOKEN: undefined, DATA_DIR: join(home, 'state') } }),
        tollgate(['--json', 'settings', 'get'], { cwd: dir, env: { TOLLGATE_TOKEN: undefined, DATA_DIR: fromProject } }),
        tollgate(['settings', 'get'], { cwd: home, env: { TOLLGATE_TOKEN: undefined, DATA_DIR: join(home, 'nothing-here') } }),
        tollgate(['settings', 'get'], { env: { TOLLGATE_TOKEN: 'wrong' } }),
        tollgate(['settings', 'get'], { env: { TOLLGATE_URL: 'http://127.0.0.1:9' } }),
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).version).toBeGreaterThan(1);
      expect(absolute.code, absolute.stderr).toBe(0);
      expect(otherFolder.code, otherFolder.stderr).toBe(0);
      expectFailure(noToken, 1, 'NO_TOKEN');
      expect(noToken.stderr).toContain(`TOLLGATE_TOKEN is not set, and there is no token saved by \`npm start\` in ${join(home, 'nothing-here', 'admin-token')} (DATA_DIR=${join(home, 'nothing-here')})`);
      expectFailure(wrongToken, 1, 'UNAUTHENTICATED');
      expectFailure(unreachable, 1, 'UNREACHABLE');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('imaging commands', () => {
  it('accounts: created, then a new password; the list has the same headers as every table', async () => {
    const passwordFile = join(dir, 'lab-imager-password.txt');
    writeFileSync(passwordFile, 'correct horse battery staple\n');
    const created = await tollgate(['imaging', 'account', 'set', 'lab-imager', '--password-file', passwordFile]);
    expect(created).toMatchObject({ code: 0, stdout: 'Imaging account lab-imager created; imaging clients get it on their next request.\n' });
    const changed = await tollgate(['imaging', 'account', 'set', 'lab-imager', '--password-file', passwordFile]);
    expect(changed.stdout).toBe('Imaging account lab-imager replaced (new password); imaging clients get it on their next request.\n');
    const [table, list] = await Promise.all([tollgate(['imaging', 'account', 'list']), json(['imaging', 'account', 'list'])]);
    expect(table.stdout).toMatch(/^USER\s+CREATED AT\s+UPDATED AT\s+BY\n/);
    expect(table.stdout).toMatch(/^lab-imager\s+\S+Z\s+\S+Z\s+local-admin$/m);
    expect(list.items).toEqual([expect.objectContaining({ username: 'lab-imager' })]);
    expect(JSON.stringify(list)).not.toContain('correct horse');
    expect((await tollgate(['imaging', 'account', 'delete', 'lab-imager'])).stdout).toBe('Imaging account lab-imager deleted; imaging clients get it on their next request.\n');
    expectFailure(await tollgate(['imaging', 'account', 'delete', 'lab-imager']), 1, 'NOT_FOUND');
  });

  it.each([
    ['prestage', 'lab', 'PreStage lab', 'imagingPrestages'],
    ['autorun', 'C02IMG1', 'Autorun data for C02IMG1', 'imagingAutorun'],
  ])('%s put: created, the same document again unchanged (no history line), a changed one replaced', async (kind, id, what, field) => {
    const changedFile = join(dir, `${kind}-changed.json`);
    writeFileSync(changedFile, JSON.stringify({ name: 'Lab Macs', packages: ['agent', 'office'] }));
    const created = await tollgate(['imaging', kind, 'put', id, files.prestage]);
    expect(created).toMatchObject({ code: 0, stdout: `${what} created; imaging clients get it on their next request.\n` });
    const same = await tollgate(['imaging', kind, 'put', id, files.prestage]);
    expect(same).toMatchObject({ code: 0, stdout: `${what} unchanged: it already had these values.\n` });
    const history = await json(['settings', 'history', '--field', field]);
    expect(history.items).toHaveLength(1);
    const changed = await tollgate(['imaging', kind, 'put', id, changedFile]);
    expect(changed).toMatchObject({ code: 0, stdout: `${what} replaced; imaging clients get it on their next request.\n` });
    // The history table shortens the documents' digests.
    const table = await tollgate(['settings', 'history', '--field', field, '--limit', '1']);
    expect(table.stdout).toMatch(new RegExp(`${field}: ${id} sha256:[0-9a-f]{16}… → ${id} sha256:[0-9a-f]{16}…$`, 'm'));
    expect((await tollgate(['imaging', kind, 'delete', id])).stdout).toBe(`${what} deleted; imaging clients get it on their next request.\n`);
  });

  it('a file that is not JSON: one line, the parser\'s quote of the file escaped', async () => {
    const run = await tollgate(['imaging', 'prestage', 'put', 'lab', files.broken]);
    expectFailure(run, 1, 'INVALID_JSON');
    expect(run.stderr).toContain('"not json\\n" is not valid JSON');
  });
});
