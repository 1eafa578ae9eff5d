// The device agent (agent/tollgate-checkin) run for real against the local stack: under sh, dash and bash in POSIX
// mode (what macOS's /bin/sh is), over HTTP and HTTPS, by mutual TLS and by signed request, through a loopback
// proxy that answers 503, loses an answer or says what a test needs. And shellcheck finds nothing in it.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.ts';
import { CertificateFactory, type KeyMaterial, type KeyType, type MadeCertificate } from '../support/certificates.ts';
import { call } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';
import { type LoopbackProxy, startLoopbackProxy } from '../support/loopback-proxy.ts';

const AGENT = fileURLToPath(new URL('../../agent/tollgate-checkin', import.meta.url));

// ---- the shells (and awks) the agent runs under ----

interface Shell {
  label: string;
  command: string;
  args: string[];
  /** Put first on PATH (fake tools, another awk). */
  pathPrefix?: string;
}

function which(command: string): string | undefined {
  try {
    return realpathSync(execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim());
  } catch {
    return undefined;
  }
}

const work = mkdtempSync(join(tmpdir(), 'tollgate-agent-'));
const shPath = which('sh');
const dashPath = which('dash');
const shells: Shell[] = [{ label: shPath && shPath === dashPath ? 'sh (dash)' : 'sh', command: 'sh', args: [] }];
if (dashPath && dashPath !== shPath) shells.push({ label: 'dash', command: 'dash', args: [] });
// macOS's /bin/sh is bash 3.2 in POSIX mode.
if (which('bash')) shells.push({ label: 'bash --posix', command: 'bash', args: ['--posix'] });
// The one-true-awk is the awk macOS ships; where it is installed, the agent's JSON reading runs on it too.
const originalAwk = which('original-awk');
if (originalAwk) {
  const dir = join(work, 'bwk-awk');
  mkdirSync(dir);
  execFileSync('ln', ['-s', originalAwk, join(dir, 'awk')]);
  shells.push({ label: 'sh with original-awk', command: 'sh', args: [], pathPrefix: dir });
}

/** A device id of this shell's own, so that concurrent runs never share a device. */
const idFor = (shell: Shell) => (name: string) => `${name}-${shells.indexOf(shell)}`;

// ---- running the agent ----

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The lines of every private key the tests use: none may ever appear in the agent's output. */
const keyLines = new Set<string>();

function runAgent(shell: Shell, args: string[], options: { pathPrefix?: string } = {}): Promise<Run> {
  const prefixes = [options.pathPrefix, shell.pathPrefix].filter(Boolean);
  // A clean environment: no proxy variables, no curlrc of the user running the tests.
  const env = { PATH: [...prefixes, process.env.PATH].join(':'), HOME: work, TMPDIR: work };
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(shell.command, [...shell.args, AGENT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      for (const line of keyLines) {
        if (stdout.includes(line) || stderr.includes(line)) reject(new Error('the agent printed part of a private key'));
      }
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

// ---- the device PKI, the stack and what it is told ----

let stack: LocalStack;
let factory: CertificateFactory;
let root: MadeCertificate;
let issuing: MadeCertificate;
let strangerRoot: MadeCertificate;
let caFile: string;
let packageFile: string;
let tamperedFile: string;
/** A key no device certificate holds. */
let strangerKey: KeyMaterial;
/** The shared EC device key, encrypted with a passphrase. */
let encryptedKey: string;
const made = new Map<string, MadeCertificate>();

function remember<T extends KeyMaterial>(key: T): T {
  for (const line of key.keyPem.split('\n')) if (line.length >= 40 && !line.startsWith('-----')) keyLines.add(line);
  return key;
}

/** One key per type for every device (a key of its own only where the test is about keys): openssl runs less. */
const sharedKeys = new Map<KeyType, KeyMaterial>();

/** A device certificate for this id (made once), issued by the device CA's intermediate unless told otherwise. */
function device(cn: string, options: { keyType?: KeyType; issuer?: 'issuing' | 'root' | 'stranger' } = {}): MadeCertificate {
  const keyType = options.keyType ?? 'ec256';
  const issuer = options.issuer ?? 'issuing';
  const name = `${cn}/${keyType}/${issuer}`;
  let certificate = made.get(name);
  if (!certificate) {
    let key = sharedKeys.get(keyType);
    if (!key) {
      key = remember(factory.makeKey(keyType));
      sharedKeys.set(keyType, key);
    }
    const by = { issuing, root, stranger: strangerRoot }[issuer];
    certificate = factory.makeDeviceCertificate(by, { cn, key });
    made.set(name, certificate);
  }
  return certificate;
}

/** A PEM file of the device certificate followed by its intermediate (leaf first), as --sign-cert takes it. */
function chainFile(certificate: MadeCertificate): string {
  const path = `${certificate.certPath}.chain.pem`;
  writeFileSync(path, certificate.pem + (certificate.issuer && certificate.issuer !== root ? certificate.issuer.pem : ''));
  return path;
}

const signedBy = (certificate: MadeCertificate) => ['--sign-cert', chainFile(certificate), '--sign-key', certificate.keyPath];
const digest = (algorithm: string, path: string) => createHash(algorithm).update(readFileSync(path)).digest('hex');

async function admin(method: string, path: string, json: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  const res = await call(`${stack.httpUrl}${path}`, { method, headers, json });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

async function decisionsOf(deviceId: string): Promise<any[]> {
  const res = await call(`${stack.httpUrl}/admin/devices/${deviceId}/decisions`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.body.items;
}

beforeAll(async () => {
  factory = CertificateFactory.create();
  root = factory.makeRootCa({ cn: 'Agent Test Device Root', keyType: 'ec384' });
  issuing = factory.makeIntermediateCa(root, { cn: 'Agent Test Issuing CA', keyType: 'ec256' });
  strangerRoot = factory.makeRootCa({ cn: 'Someone Else Root', keyType: 'ec256' });
  strangerKey = remember(factory.makeKey('ec256'));
  // Every device certificate up front: openssl runs synchronously, and would stall the stack amid concurrent tests.
  for (const shell of shells) {
    const id = idFor(shell);
    for (const name of ['MAC-SIGNED', 'MAC-HTTP', 'MAC-503', 'MAC-LOST', 'MAC-BODY', 'C02FAKE']) device(id(name));
    device(id('MAC-MTLS'), { keyType: 'rsa2048', issuer: 'root' });
  }
  const id = idFor(shells[0]);
  for (const name of ['MAC-SUMS', 'MAC-ENROLL-HTTP', 'MAC-ENROLL-INSECURE', 'MAC-JSON', 'MAC-TAMPERED', 'MAC-WRONG-KEY', 'MAC-LONG-TOPIC', 'MAC-BADKEY', 'MAC-503-TWICE']) device(id(name));
  device(id('MAC-STRANGER'), { issuer: 'stranger' });
  device(id('MAC-ENCRYPTED'));
  device(id('MAC-RSA-DER'), { keyType: 'rsa2048', issuer: 'root' });
  encryptedKey = join(work, 'encrypted.key');
  execFileSync('openssl', ['pkey', '-in', sharedKeys.get('ec256')!.keyPath, '-aes256', '-passout', 'pass:a passphrase', '-out', encryptedKey]);
  packageFile = join(work, 'Office Installer.pkg');
  writeFileSync(packageFile, Buffer.from('the package the device installed\n'.repeat(1000)));
  tamperedFile = join(work, 'tampered.pkg');
  writeFileSync(tamperedFile, Buffer.from('the package, with something added\n'.repeat(1000)));

  stack = await startTestStack();
  caFile = join(work, 'server.pem');
  writeFileSync(caFile, stack.serverCertificatePem);
  // Everything is set before the first check-in, so the policy cache starts with it.
  await admin('PUT', '/admin/device-ca', { certificates: root.pem });
  await admin('PATCH', '/admin/settings', { certificateBasedAuthentication: true });
  await admin('PUT', '/admin/packages/office', { name: 'Office', checksum: { type: 'SHA_512', value: digest('sha512', packageFile) } });
  await admin('PUT', '/admin/packages/office-256', { name: 'Office', checksum: { type: 'SHA_256', value: digest('sha256', packageFile) } });
  await admin('PUT', '/admin/packages/office-md5', { name: 'Office', checksum: { type: 'MD5', value: digest('md5', packageFile) } });
});

afterAll(async () => {
  await stack?.stop();
  factory?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

// ---- lint and tools ----

describe('the script', () => {
  it('passes shellcheck as a POSIX sh script, with no finding at all', async () => {
    expect(which('shellcheck'), 'shellcheck is not installed (apt-get install shellcheck; .ci/run installs it)').toBeTruthy();
    const found = await new Promise<{ failed: boolean; output: string }>((resolve) => {
      execFile('shellcheck', ['-s', 'sh', '-f', 'gcc', AGENT], (error, stdout, stderr) => resolve({ failed: error !== null, output: stdout + stderr }));
    });
    expect(found.output).toBe('');
    expect(found.failed).toBe(false);
  });

  it('the launchd example runs it with options it knows', () => {
    const plist = readFileSync(fileURLToPath(new URL('../../agent/com.example.tollgate-checkin.plist', import.meta.url)), 'utf8');
    const array = /<key>ProgramArguments<\/key>\s*<array>([\s\S]*?)<\/array>/.exec(plist)?.[1] ?? '';
    const args = [...array.matchAll(/<string>([^<]*)<\/string>/g)].map((m) => m[1]);
    expect(args.slice(0, 2)).toEqual(['/bin/sh', '/usr/local/libexec/tollgate-checkin']);
    const help = execFileSync('sh', [AGENT, '--help'], { encoding: 'utf8' });
    const options = args.filter((a) => a.startsWith('--'));
    expect(options.length).toBeGreaterThan(0);
    for (const option of options) expect(help).toMatch(new RegExp(`\\s${option} `));
  });

  it('is tried under dash as well as sh (dash is installed)', () => {
    expect(dashPath, 'dash is not installed (apt-get install dash; .ci/run installs it)').toBeTruthy();
  });
});

// ---- helpers for the cases ----

const proxies: LoopbackProxy[] = [];
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
});

/** A loopback proxy in front of the stack's HTTP port. */
async function proxy(options: Parameters<typeof startLoopbackProxy>[0]): Promise<LoopbackProxy> {
  const p = await startLoopbackProxy({ target: stack.httpUrl, ...options });
  proxies.push(p);
  return p;
}

const unavailable = (retryAfter: string) => ({
  kind: 'answer' as const,
  status: 503,
  headers: { 'content-type': 'application/json', 'retry-after': retryAfter },
  body: JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'The store is unreachable; try again shortly.', requestId: 'r-1' } }),
});

/** Runs the agent against a proxy that gives this answer to every request. */
async function answered(shell: Shell, status: number, body: string, args: string[] = []) {
  const p = await proxy({ plan: () => ({ kind: 'answer', status, headers: { 'content-type': 'application/json' }, body }) });
  return { r: await runAgent(shell, ['--url', `${p.url}/checkin`, '--device-id', idFor(shell)('MAC-READ'), ...args]), p };
}

const TRICKY_BLOCK = JSON.stringify({
  checkinId: 'c',
  deviceId: 'd',
  decision: 'BLOCK',
  enforced: true,
  violations: [
    { code: 'CLIENT_CERT_UNTRUSTED', message: 'Subject "CN=a, O={b}]" is not trusted \\ here', fingerprint: 'ab' },
    { code: 'CLOCK_SKEW_EXCEEDED', message: 'Line one\nline two\u001b[31m red', skewSeconds: -3600.3, maxClockSkewSeconds: 300 },
    { code: 'PACKAGE_CHECKSUM_MISMATCH', message: 'Café package, "office"', packageId: 'office' },
  ],
  warnings: [{ code: 'PUSH_TOPIC_MISMATCH', message: 'The push topic differs.' }],
  settingsVersion: 4,
  evaluatedAt: '2026-11-25T18:06:03.120Z',
});

// ---- the main paths, under every shell (and awk) ----

describe.each(shells)('under $label', (shell) => {
  const id = idFor(shell);
  const run = (args: string[], options?: { pathPrefix?: string }) => runAgent(shell, args, options);

  describe.concurrent('the main paths', () => {
    it('accepted: a signed request over HTTPS, EC key and chain, a package hashed with SHA-512, a push topic: exit 0', async ({ expect }) => {
      const deviceId = id('MAC-SIGNED');
      const topic = 'com.apple.mgmt.External."quoted"\\back-slash';
      const r = await run(['--url', `${stack.httpsUrl}/checkin`, '--ca-file', caFile, '--device-id', deviceId, ...signedBy(device(deviceId)), '--package', `office=${packageFile}`, '--push-topic', topic]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^ACCEPT: Tollgate accepted this check-in \\(device ${deviceId}, check-in [0-9a-f]{32}\\)\\.\\n$`));
      const [recorded] = await decisionsOf(deviceId);
      expect(recorded).toMatchObject({ decision: 'ACCEPT', violations: [], facts: { serverCertificateVerified: true, phase: 'CHECKIN', pushTopic: topic, packages: [{ packageId: 'office', checksumType: 'SHA_512' }] } });
      expect(recorded.facts.identity).toMatchObject({ fingerprint: device(deviceId).fingerprint });
    });

    it('accepted: mutual TLS on the TLS port with an RSA key, the server verified with --ca-file: exit 0', async ({ expect }) => {
      const deviceId = id('MAC-MTLS');
      const certificate = device(deviceId, { keyType: 'rsa2048', issuer: 'root' });
      const r = await run(['--url', `${stack.httpsUrl}/checkin`, '--ca-file', caFile, '--device-id', deviceId, '--cert', certificate.certPath, '--key', certificate.keyPath]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ACCEPT: /);
      const [recorded] = await decisionsOf(deviceId);
      expect(recorded.facts).toMatchObject({ serverCertificateVerified: true, identity: { fingerprint: certificate.fingerprint } });
    });

    it('blocked: plain http outside enrollment is SERVER_CERT_NOT_VERIFIED, in words on stderr: exit 2', async ({ expect }) => {
      const deviceId = id('MAC-HTTP');
      const r = await run(['--url', `${stack.httpUrl}/checkin`, '--device-id', deviceId, ...signedBy(device(deviceId))]);
      expect(r.code).toBe(2);
      expect(r.stdout).toMatch(new RegExp(`^BLOCK: Tollgate blocked this device \\(device ${deviceId}, check-in [0-9a-f]{32}\\)\\.\\n$`));
      expect(r.stderr).toContain('plain http, so the server is not verified');
      expect(r.stderr).toMatch(/\nBlocked for:\n {2}- SERVER_CERT_NOT_VERIFIED: The device did not verify the server's SSL certificate[^\n]+\n$/);
      const [recorded] = await decisionsOf(deviceId);
      expect(recorded).toMatchObject({ decision: 'BLOCK', facts: { serverCertificateVerified: false } });
    });

    it('blocked: messages with quotes, brackets, commas, escapes and control characters come out as one safe line each', async ({ expect }) => {
      const { r } = await answered(shell, 403, TRICKY_BLOCK);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        [
          'Blocked for:',
          '  - CLIENT_CERT_UNTRUSTED: Subject "CN=a, O={b}]" is not trusted \\ here',
          '  - CLOCK_SKEW_EXCEEDED: Line one line two?[31m red',
          '  - PACKAGE_CHECKSUM_MISMATCH: Café package, "office"',
          'Warnings:',
          '  - PUSH_TOPIC_MISMATCH: The push topic differs.',
          '',
        ].join('\n'),
      );
      expect(r.stderr).not.toContain('\u001b');
    });

    it('a 503 with Retry-After, then accepted: the same check-in id both times, one decision', async ({ expect }) => {
      const deviceId = id('MAC-503');
      const p = await proxy({ plan: (i) => (i === 0 ? unavailable('1') : { kind: 'forward' }) });
      const r = await run(['--url', `${p.url}/checkin`, '--enrollment', '--device-id', deviceId, ...signedBy(device(deviceId))]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/the server answered HTTP 503; trying again in 1 s \(attempt 2\)/);
      const ids = p.requests.map((q) => JSON.parse(q.body.toString('utf8')).checkinId);
      expect(ids).toHaveLength(2);
      expect(ids[1]).toBe(ids[0]);
      expect(await decisionsOf(deviceId)).toHaveLength(1);
    });

    it('an answer lost on the way: the retry gets the recorded answer (Idempotent-Replay), recorded once', async ({ expect }) => {
      const deviceId = id('MAC-LOST');
      const p = await proxy({ plan: (i) => (i === 0 ? { kind: 'forward-drop-answer' } : { kind: 'forward' }) });
      const r = await run(['--url', `${p.url}/checkin`, '--enrollment', '--device-id', deviceId, ...signedBy(device(deviceId))]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/no answer from the server \(.*\); trying again in 1 s/);
      expect(r.stdout).toMatch(/^ACCEPT: .*the answer recorded for an earlier try\)\.$/m);
      expect(p.requests.map((q) => q.upstream?.status)).toEqual([200, 200]);
      expect(p.requests[0].upstream?.headers['idempotent-replay']).toBeUndefined();
      expect(p.requests[1].upstream?.headers['idempotent-replay']).toBe('true');
      const ids = p.requests.map((q) => JSON.parse(q.body.toString('utf8')).checkinId);
      expect(ids[0]).toBe(ids[1]);
      const recorded = await decisionsOf(deviceId);
      expect(recorded).toHaveLength(1);
      expect(recorded[0].checkinId).toBe(ids[0]);
    });

    it('the body it sends: API.md §1 fields, signed over its exact bytes, the certificate chain presented', async ({ expect }) => {
      const certificate = device(id('MAC-BODY'));
      const { p } = await answered(shell, 200, '{"decision":"ACCEPT","violations":[],"warnings":[]}', [...signedBy(certificate), '--enrollment', '--package', `office=${packageFile}`]);
      const [sent] = p.requests;
      expect(sent.headers['content-type']).toBe('application/json');
      const body = JSON.parse(sent.body.toString('utf8'));
      expect(body).toEqual({
        checkinId: expect.stringMatching(/^[0-9a-f]{32}$/),
        deviceId: id('MAC-READ'),
        clientTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/),
        phase: 'ENROLLMENT',
        serverCertificateVerified: false,
        packages: [{ packageId: 'office', checksum: { type: 'SHA_512', value: digest('sha512', packageFile) } }],
      });
      expect(Math.abs(Date.parse(body.clientTime) - sent.at)).toBeLessThan(5000);
      expect(String(sent.headers['x-device-certificate']).split(',')).toEqual([certificate.base64, issuing.base64]);
      const signature = Buffer.from(String(sent.headers['x-device-signature']), 'base64');
      expect(cryptoVerify('sha256', sent.body, new X509Certificate(certificate.pem).publicKey, signature)).toBe(true);
    });

    it('on macOS the device id is the serial number ioreg reports (ioreg and uname faked here)', async ({ expect }) => {
      const fakes = join(work, `fake-mac-${shells.indexOf(shell)}`);
      const serial = id('C02FAKE');
      mkdirSync(fakes, { recursive: true });
      writeFileSync(join(fakes, 'uname'), '#!/bin/sh\necho Darwin\n');
      writeFileSync(
        join(fakes, 'ioreg'),
        `#!/bin/sh\ncat <<'EOF'\n+-o J314sAP  <class IOPlatformExpertDevice, id 0x100000220, registered, matched, active, busy 0 (0 ms), retain 37>\n    {\n      "IOPlatformUUID" = "6C1E63A3-2E4F-4E4A-9F7B-2D6A1F0B4C11"\n      "IOPlatformSerialNumber" = "${serial}"\n      "manufacturer" = <"Apple Inc.">\n    }\nEOF\n`,
      );
      chmodSync(join(fakes, 'uname'), 0o755);
      chmodSync(join(fakes, 'ioreg'), 0o755);
      const r = await run(['--url', `${stack.httpsUrl}/checkin`, '--ca-file', caFile, ...signedBy(device(serial))], { pathPrefix: fakes });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`device ${serial}`);
    });
  });
});

// ---- everything else, under sh ----

describe(`under ${shells[0].label}`, () => {
  const shell = shells[0];
  const id = idFor(shell);
  const run = (args: string[]) => runAgent(shell, args);

  describe.concurrent('accepted', () => {
    it('packages hashed with SHA-256 and with MD5 (--checksum-type) match what is registered', async ({ expect }) => {
      const deviceId = id('MAC-SUMS');
      for (const [type, packageId] of [['SHA_256', 'office-256'], ['MD5', 'office-md5']]) {
        const r = await run(['--url', `${stack.httpsUrl}/checkin`, '--ca-file', caFile, '--device-id', deviceId, ...signedBy(device(deviceId)), '--checksum-type', type, '--package', `${packageId}=${packageFile}`]);
        expect(r.code, r.stdout + r.stderr).toBe(0);
      }
      const recorded = await decisionsOf(deviceId);
      expect(recorded.map((d) => d.facts.packages[0])).toEqual([
        { packageId: 'office-md5', checksumType: 'MD5', outcome: 'MATCH', expectedChecksumType: 'MD5' },
        { packageId: 'office-256', checksumType: 'SHA_256', outcome: 'MATCH', expectedChecksumType: 'SHA_256' },
      ]);
    });

    it('a signed request with an RSA key, the certificate given as DER, options given as --name=value', async ({ expect }) => {
      const deviceId = id('MAC-RSA-DER');
      const certificate = device(deviceId, { keyType: 'rsa2048', issuer: 'root' });
      const der = join(work, 'rsa-device.der');
      writeFileSync(der, certificate.der);
      const r = await run([`--url=${stack.httpsUrl}/checkin`, `--ca-file=${caFile}`, `--device-id=${deviceId}`, `--sign-cert=${der}`, `--sign-key=${certificate.keyPath}`]);
      expect(r.code, r.stderr).toBe(0);
      const [recorded] = await decisionsOf(deviceId);
      expect(recorded.facts.identity).toMatchObject({ fingerprint: certificate.fingerprint });
    });

    it('enrollment over plain http: the server is reported unverified, which enrollment allows', async ({ expect }) => {
      const deviceId = id('MAC-ENROLL-HTTP');
      const r = await run(['--url', `${stack.httpUrl}/checkin`, '--enrollment', '--device-id', deviceId, ...signedBy(device(deviceId))]);
      expect(r.code, r.stderr).toBe(0);
      const [recorded] = await decisionsOf(deviceId);
      expect(recorded.facts).toMatchObject({ serverCertificateVerified: false, phase: 'ENROLLMENT' });
    });

    it('enrollment over HTTPS without verifying (--insecure-during-enrollment) says so truthfully', async ({ expect }) => {
      const deviceId = id('MAC-ENROLL-INSECURE');
      const r = await run(['--url', `${stack.httpsUrl}/checkin`, '--enrollment', '--insecure-during-enrollment', '--device-id', deviceId, ...signedBy(device(deviceId))]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain("enrolling without verifying the server's certificate");
      const [recorded] = await decisionsOf(deviceId);
      expect(recorded.facts).toMatchObject({ serverCertificateVerified: false, phase: 'ENROLLMENT' });
    });

    it('--json prints the server answer as it is', async ({ expect }) => {
      const deviceId = id('MAC-JSON');
      const r = await run(['--url', `${stack.httpsUrl}/checkin`, '--ca-file', caFile, '--device-id', deviceId, ...signedBy(device(deviceId)), '--json']);
      expect(r.code, r.stderr).toBe(0);
      const answer = JSON.parse(r.stdout);
      expect(answer).toMatchObject({ deviceId, decision: 'ACCEPT', enforced: true, authenticated: true, violations: [] });
      expect(r.stdout).toBe(`${JSON.stringify(answer)}\n`);
    });

    it('monitor mode: ACCEPT with the violations reported as not enforced, exempted ones listed: exit 0', async ({ expect }) => {
      const body = JSON.stringify({
        checkinId: 'c',
        deviceId: 'd',
        decision: 'ACCEPT',
        enforced: false,
        violations: [{ code: 'SERVER_CERT_NOT_VERIFIED', message: 'Not verified.' }],
        exempted: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'Clock off.' }],
        warnings: [],
      });
      const { r } = await answered(shell, 200, body);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^ACCEPT: Tollgate accepted this check-in in monitor mode .*these violations are reported, not enforced:\n$/);
      expect(r.stderr).toContain('  - SERVER_CERT_NOT_VERIFIED: Not verified.\nExempted for now:\n  - CLOCK_SKEW_EXCEEDED: Clock off.\n');
    });
  });

  describe.concurrent('blocked: exit 2, the violations in words on stderr', () => {
    it('a package whose file does not hash to what is registered: PACKAGE_CHECKSUM_MISMATCH', async ({ expect }) => {
      const deviceId = id('MAC-TAMPERED');
      const r = await run(['--url', `${stack.httpsUrl}/checkin`, '--ca-file', caFile, '--device-id', deviceId, ...signedBy(device(deviceId)), '--package', `office=${tamperedFile}`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^ {2}- PACKAGE_CHECKSUM_MISMATCH: .*office/m);
    });

    it.for([
      ['a certificate from an unknown CA', 'CLIENT_CERT_UNTRUSTED', 'MAC-STRANGER', (deviceId: string) => signedBy(device(deviceId, { issuer: 'stranger' }))],
      ['a certificate for another device', 'CLIENT_CERT_DEVICE_MISMATCH', 'MAC-IMPOSTOR', () => signedBy(device(id('MAC-SIGNED')))],
      ['no identity at all', 'CLIENT_CERT_MISSING', 'MAC-ANONYMOUS', () => []],
      ['the wrong key', 'CLIENT_SIGNATURE_INVALID', 'MAC-WRONG-KEY', (deviceId: string) => ['--sign-cert', chainFile(device(deviceId)), '--sign-key', strangerKey.keyPath]],
      ['mutual TLS with a certificate for another device', 'CLIENT_CERT_DEVICE_MISMATCH', 'MAC-MTLS-IMPOSTOR', () => {
        const other = device(id('MAC-MTLS'), { keyType: 'rsa2048', issuer: 'root' });
        return ['--cert', other.certPath, '--key', other.keyPath];
      }],
    ] as const)('%s: %s', async ([, code, name, identity], { expect }) => {
      const deviceId = id(name);
      const r = await run(['--url', `${stack.httpsUrl}/checkin`, '--ca-file', caFile, '--device-id', deviceId, ...identity(deviceId)]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toMatch(/^BLOCK: /);
      expect(r.stderr).toMatch(new RegExp(`^ {2}- ${code}: \\S`, 'm'));
      expect(r.stderr).toContain("The server could not verify this device's identity");
    });
  });

  describe.concurrent('errors: exit 1 with the reason', () => {
    it('a server certificate it cannot verify (no --ca-file, not in the system store): no retry, nothing sent', async ({ expect }) => {
      const r = await run(['--url', `${stack.httpsUrl}/checkin`, '--device-id', id('MAC-NOCA')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/could not verify the server's certificate/);
      expect(r.stderr).not.toMatch(/trying again/);
      expect(await decisionsOf(id('MAC-NOCA'))).toEqual([]);
    });

    it('a 400 from the server (a push topic over 256 characters) prints its message and field', async ({ expect }) => {
      const deviceId = id('MAC-LONG-TOPIC');
      const r = await run(['--url', `${stack.httpsUrl}/checkin`, '--ca-file', caFile, '--device-id', deviceId, ...signedBy(device(deviceId)), '--push-topic', 'x'.repeat(300)]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^tollgate-checkin: the server refused the check-in \(HTTP 400\): INVALID_CHECKIN: .+ \(field: pushTopic\)$/m);
    });

    it('409 CHECKIN_ID_CONFLICT: the server message, not retried; --json still prints the answer', async ({ expect }) => {
      const conflict = { error: { code: 'CHECKIN_ID_CONFLICT', message: 'This checkinId was already used by another device; send a new one.', field: 'checkinId', requestId: 'r-2' } };
      const { r, p } = await answered(shell, 409, JSON.stringify(conflict), ['--json']);
      expect(r.code).toBe(1);
      expect(p.requests).toHaveLength(1);
      expect(JSON.parse(r.stdout)).toEqual(conflict);
      expect(r.stderr).toContain('the server refused the check-in (HTTP 409): CHECKIN_ID_CONFLICT: This checkinId was already used by another device; send a new one. (field: checkinId)');
    });

    it.for([
      [200, '<html>Gateway page</html>', /unexpected answer from the server \(HTTP 200\): an answer that is not JSON/],
      [403, '{"message":"Forbidden"}', /refused the check-in \(HTTP 403\): Forbidden$/m],
      [
        400,
        '{"error":{"code":"INVALID_CHECKIN","message":"Several fields are wrong.","details":[{"field":"clientTime","message":"bad time"},{"field":"deviceId","message":"bad id"}]}}',
        /INVALID_CHECKIN: Several fields are wrong\.\n {2}- clientTime: bad time\n {2}- deviceId: bad id$/m,
      ],
    ] as const)('an answer that is not a decision (HTTP %i %s)', async ([status, body, expected], { expect }) => {
      const { r, p } = await answered(shell, status, body);
      expect(r.code).toBe(1);
      expect(p.requests).toHaveLength(1);
      expect(r.stderr).toMatch(expected);
    });

    it.for([
      [['--device-id', 'X'], '--url is required'],
      [['--url', 'ftp://example/checkin', '--device-id', 'X'], '--url must start with https://'],
      [['--url', 'https://127.0.0.1:1/checkin', '--device-id', 'X', '--insecure-during-enrollment'], '--insecure-during-enrollment needs --enrollment'],
      [['--url', 'http://127.0.0.1:1/checkin', '--device-id', 'X', '--cert', AGENT, '--key', AGENT], 'mutual TLS (--cert/--key) needs an https:// URL'],
      [['--url', 'http://127.0.0.1:1/checkin', '--device-id', 'has space'], '--device-id must be'],
      [['--url', 'http://127.0.0.1:1/checkin', '--device-id', 'X', '--package', 'office=/nonexistent/file.pkg'], 'cannot read /nonexistent/file.pkg'],
      [['--url', 'http://127.0.0.1:1/checkin', '--device-id', 'X', '--checksum-type', 'SHA1'], '--checksum-type must be MD5, SHA_256 or SHA_512'],
      [['--url', 'http://127.0.0.1:1/checkin', '--device-id', 'X', '--sign-cert', AGENT], 'needs both --sign-cert and --sign-key'],
      [['--url', 'http://127.0.0.1:1/checkin', '--max-time', '0'], '--max-time must be from 1 to 86400 seconds'],
      [['--url', 'http://127.0.0.1:1/checkin', '--frobnicate'], 'unknown option: --frobnicate'],
    ] as const)('refuses %j: %s', async ([args, message], { expect }) => {
      const r = await run([...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(message);
    });

    it('an encrypted key, for mutual TLS or for signing: a plain message at once, no passphrase prompt', async ({ expect }) => {
      const deviceId = id('MAC-ENCRYPTED');
      const certificate = device(deviceId);
      const cases: [string[], string][] = [
        [['--cert', certificate.certPath, '--key', encryptedKey], 'cannot use --cert/--key (a PEM certificate and an unencrypted PEM key of it are needed)'],
        [['--sign-cert', certificate.certPath, '--sign-key', encryptedKey], '--sign-key: cannot sign with'],
      ];
      for (const [identity, message] of cases) {
        const r = await run(['--url', `${stack.httpsUrl}/checkin`, '--ca-file', caFile, '--device-id', deviceId, ...identity]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(message);
      }
    });

    it('a key that is not a key: a plain message, nothing of the file', async ({ expect }) => {
      const deviceId = id('MAC-BADKEY');
      const r = await run(['--url', `${stack.httpUrl}/checkin`, '--device-id', deviceId, '--sign-cert', chainFile(device(deviceId)), '--sign-key', chainFile(device(deviceId))]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/--sign-key: cannot sign with .* \(an unencrypted PEM RSA or EC private key is needed/);
    });
  });

  describe.concurrent('retries, bounded by --max-time', () => {
    it('503 twice: waits as long as Retry-After says, longer than its own backoff, then accepted', async ({ expect }) => {
      const deviceId = id('MAC-503-TWICE');
      const p = await proxy({ plan: (i) => (i === 0 ? unavailable('2') : i === 1 ? unavailable('1') : { kind: 'forward' }) });
      const r = await run(['--url', `${p.url}/checkin`, '--enrollment', '--device-id', deviceId, ...signedBy(device(deviceId))]);
      expect(r.code, r.stderr).toBe(0);
      expect(p.requests).toHaveLength(3);
      expect(p.requests[1].at - p.requests[0].at).toBeGreaterThanOrEqual(1900);
      expect(p.requests[2].at - p.requests[1].at).toBeGreaterThanOrEqual(900);
      expect(new Set(p.requests.map((q) => JSON.parse(q.body.toString('utf8')).checkinId)).size).toBe(1);
      expect(r.stderr).toMatch(/the server answered HTTP 503; trying again in 2 s \(attempt 2\)/);
      expect(await decisionsOf(deviceId)).toHaveLength(1);
    });

    it('a server that stays unavailable: gives up within --max-time', async ({ expect }) => {
      const p = await proxy({ plan: () => unavailable('1') });
      const r = await run(['--url', `${p.url}/checkin`, '--device-id', id('MAC-DOWN'), '--max-time', '3']);
      expect(r.code).toBe(1);
      expect(r.ms).toBeLessThan(4500);
      expect(r.stderr).toMatch(/gave up after \d+ attempts? in \d+ s \(--max-time 3\): the server answered HTTP 503$/m);
    });

    it.for(['120', '099999999999999999999'])('a Retry-After longer than the time left (%s): gives up at once rather than ask early', async (retryAfter, { expect }) => {
      const p = await proxy({ plan: () => unavailable(retryAfter) });
      const r = await run(['--url', `${p.url}/checkin`, '--device-id', id('MAC-LATER'), '--max-time', '10']);
      expect(r.code).toBe(1);
      expect(p.requests).toHaveLength(1);
      expect(r.ms).toBeLessThan(5000);
      expect(r.stderr).toMatch(/gave up after 1 attempt in \d+ s \(--max-time 10\)/);
    });

    it('nothing listening: network errors retried with backoff, then exit 1 within --max-time', async ({ expect }) => {
      const port = await new Promise<number>((resolve) => {
        const server = createServer().listen(0, '127.0.0.1', () => {
          const { port } = server.address() as { port: number };
          server.close(() => resolve(port));
        });
      });
      const r = await run(['--url', `http://127.0.0.1:${port}/checkin`, '--device-id', id('MAC-NOWHERE'), '--max-time', '4']);
      expect(r.code).toBe(1);
      expect(r.ms).toBeLessThan(5500);
      expect(r.stderr).toMatch(/no answer from the server \(.*\); trying again in 1 s \(attempt 2\)/);
      expect(r.stderr).toMatch(/gave up after [2-9] attempts/);
    });
  });

  it('on Linux the device id is the DMI serial when this user may read it, else --device-id is asked for', async () => {
    const p = await proxy({ plan: () => ({ kind: 'answer', status: 200, headers: { 'content-type': 'application/json' }, body: '{"decision":"ACCEPT"}' }) });
    const r = await runAgent(shell, ['--url', `${p.url}/checkin`]);
    let serial: string | undefined;
    try {
      serial = readFileSync('/sys/class/dmi/id/product_serial', 'utf8').trim();
    } catch {
      serial = undefined;
    }
    if (serial && /^[A-Za-z0-9._:-]{1,128}$/.test(serial) && !/^0*$/.test(serial)) {
      expect(r.code).toBe(0);
      expect(JSON.parse(p.requests[0].body.toString('utf8')).deviceId).toBe(serial);
    } else {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('could not read a usable hardware serial number on this computer; pass --device-id');
      expect(p.requests).toHaveLength(0);
    }
  });
});
