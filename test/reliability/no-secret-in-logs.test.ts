// No secret in any log: the local runner's whole output — every function's structured log at DEBUG, the runner's
// own lines (SNS alerts, handler failures) — captured through an end-to-end run that uses every secret the service
// handles: admin and auditor tokens (right and wrong), a .p12 upload with its password (right and wrong), imaging
// accounts and logins (right and wrong passwords), the trusted proxy's secret (right and wrong), signed check-ins,
// alerts. None of the secrets, private keys or password hashes may appear in it.
import { createHash } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Every log line the functions write, at the most talkative level, from the first import on.
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
const captured: string[] = [];
const originalStdout = process.stdout.write.bind(process.stdout);
const originalStderr = process.stderr.write.bind(process.stderr);
process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
  captured.push(String(chunk));
  return (originalStdout as (...args: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;
process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
  captured.push(String(chunk));
  return (originalStderr as (...args: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stderr.write;

const { parseDeviceCaBundle } = await import('../../lib/domain/trust-material.ts');
const { DynamoDbConfigStore } = await import('../../lib/adapters/dynamodb/config-store.ts');
const { localDynamoDbClient } = await import('../../local/dynamodb-local.ts');
const { seed, seedSettings } = await import('../support/config.ts');
const { CertificateFactory, signBody } = await import('../support/certificates.ts');
const { call } = await import('../support/http.ts');
const { startTestStack, TEST_ADMIN_TOKEN, TEST_TRUSTED_PROXY_SECRET } = await import('../support/local-stack.ts');
const { OpensslWorkbench, pushSubject } = await import('../support/pkcs12.ts');
type LocalStack = import('../../local/stack.ts').LocalStack;

const AUDITOR_TOKEN = 'auditor-token-that-must-not-be-logged-7f3a';
const WRONG_TOKEN = 'wrong-admin-token-that-must-not-be-logged-91bd';
const P12_PASSWORD = 'p12-password-that-must-not-be-logged-c0de';
const WRONG_P12_PASSWORD = 'wrong-p12-password-not-to-be-logged-aa11';
const IMAGING_PASSWORD = 'imaging-password-not-to-be-logged-5e5e';
const WRONG_IMAGING_PASSWORD = 'wrong-imaging-password-unlogged-6f6f';
const WRONG_PROXY_SECRET = 'wrong-proxy-secret-that-must-not-be-logged-0000';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let stack: LocalStack;
let factory: ReturnType<typeof CertificateFactory.create>;
let bench: ReturnType<typeof OpensslWorkbench.create>;
const secrets: Record<string, string> = {};

beforeAll(async () => {
  factory = CertificateFactory.create('tollgate-log-secrets-');
  bench = OpensslWorkbench.create();
  stack = await startTestStack({
    adminTokens: `auditor1:auditor:${sha256(AUDITOR_TOKEN)}`,
    params: { trustedClientCertHeader: 'x-client-cert' },
    trustedProxySecret: TEST_TRUSTED_PROXY_SECRET,
    // The runner's own lines (alerts printed, handler failures) are part of its log.
    log: (line) => captured.push(line),
  });
}, 120_000);

afterAll(async () => {
  process.stdout.write = originalStdout;
  process.stderr.write = originalStderr;
  await stack?.stop();
  factory?.cleanup();
  bench?.cleanup();
});

describe('the logs of a whole run', () => {
  it('hold none of the secrets, private keys or password hashes used in it', async () => {
    const admin = (method: string, path: string, json?: unknown, token = TEST_ADMIN_TOKEN) =>
      call(`${stack.httpUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` }, json });

    // Admin tokens: right, an auditor's, a wrong one, a malformed header.
    expect((await admin('GET', '/admin/settings')).status).toBe(200);
    expect((await admin('GET', '/admin/settings', undefined, AUDITOR_TOKEN)).status).toBe(200);
    expect((await admin('PATCH', '/admin/settings', { mode: 'MONITOR' }, AUDITOR_TOKEN)).status).toBe(403);
    expect((await admin('GET', '/admin/settings', undefined, WRONG_TOKEN)).status).toBe(401);
    expect((await call(`${stack.httpUrl}/admin/settings`, { headers: { authorization: `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString('base64')}` } })).status).toBe(401);

    // A push certificate: a wrong password, then the right one.
    const pushKey = bench.makeKey();
    const p12 = bench.exportPkcs12({ certificate: bench.makeCertificate({ subject: pushSubject(), key: pushKey }), password: P12_PASSWORD });
    expect((await admin('PUT', '/admin/push-certificate', { p12, password: WRONG_P12_PASSWORD })).status).toBe(422);
    const pushUpload = await admin('PUT', '/admin/push-certificate', { p12, password: P12_PASSWORD });
    expect(pushUpload.status, pushUpload.text).toBe(200);

    // Device CA and certificate-based authentication; a device key.
    const root = factory.makeRootCa({ cn: 'Log Secrets Root' });
    const device = factory.makeDeviceCertificate(root, { cn: 'LOG-DEVICE' });
    const config = new DynamoDbConfigStore(localDynamoDbClient(stack.dynamoDbEndpoint), stack.tableNames.ConfigTable);
    await seed(config, { kind: 'DEVICE_CAS', certificates: parseDeviceCaBundle(root.pem) });
    await seedSettings(config, { certificateBasedAuthentication: true });

    // Imaging: an account (scrypt hash stored), right and wrong logins.
    expect((await admin('PUT', '/admin/imaging/accounts/log-imager', { password: IMAGING_PASSWORD })).status).toBe(201);
    expect((await admin('PUT', '/admin/imaging/prestages/p1', { name: 'Lab' })).status).toBeLessThan(300);
    const imaging = (password: string) => call(`${stack.httpUrl}/imaging/prestages/p1`, { headers: { authorization: `Basic ${Buffer.from(`log-imager:${password}`).toString('base64')}` } });
    expect((await imaging(IMAGING_PASSWORD)).status).toBe(200);
    expect((await imaging(WRONG_IMAGING_PASSWORD)).status).toBe(401);
    const stored = await localDynamoDbClient(stack.dynamoDbEndpoint).send(
      new GetItemCommand({ TableName: stack.tableNames.ConfigTable, Key: { pk: { S: 'IMAGING_ACCOUNT' }, sk: { S: 'log-imager' } } }),
    );
    const hashAttribute = Object.entries(stored.Item ?? {}).find(([name]) => /hash|scrypt|password/i.test(name));
    expect(hashAttribute, JSON.stringify(Object.keys(stored.Item ?? {}))).toBeDefined();
    const hashValue = JSON.stringify(hashAttribute![1]).replace(/^\{"[A-Z]+":"?|"?\}$/g, '');

    // Check-ins: signed, through the trusted proxy with the right and a wrong secret, a replay, a block (alert).
    const checkin = (checkinId: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ checkinId, deviceId: 'LOG-DEVICE', clientTime: new Date().toISOString(), serverCertificateVerified: true, ...extra });
    const signedBody = checkin('log-1');
    const signedHeaders = { 'content-type': 'application/json', 'x-device-certificate': device.base64, 'x-device-signature': signBody(Buffer.from(signedBody), device).toString('base64') };
    expect((await call(`${stack.httpUrl}/checkin`, { body: signedBody, headers: signedHeaders })).status).toBe(200);
    expect((await call(`${stack.httpUrl}/checkin`, { body: signedBody, headers: signedHeaders })).headers['idempotent-replay']).toBe('true');
    const proxied = (checkinId: string, secret: string) =>
      call(`${stack.httpUrl}/checkin`, { body: checkin(checkinId), headers: { 'content-type': 'application/json', 'x-client-cert': encodeURIComponent(device.pem), 'x-tollgate-proxy-secret': secret } });
    expect((await proxied('log-2', TEST_TRUSTED_PROXY_SECRET)).status).toBe(200);
    expect((await proxied('log-3', WRONG_PROXY_SECRET)).status).toBe(403);
    const blockedBody = checkin('log-4', { serverCertificateVerified: false });
    const blocked = await call(`${stack.httpUrl}/checkin`, { body: blockedBody, headers: { 'content-type': 'application/json', 'x-device-certificate': device.base64, 'x-device-signature': signBody(Buffer.from(blockedBody), device).toString('base64') } });
    expect(blocked.status).toBe(403);
    await stack.drainAlerts();
    await stack.invoke('certExpiryScan');

    Object.assign(secrets, {
      'admin token': TEST_ADMIN_TOKEN,
      'auditor token': AUDITOR_TOKEN,
      'wrong admin token': WRONG_TOKEN,
      'admin token as Basic': Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString('base64'),
      'p12 password': P12_PASSWORD,
      'wrong p12 password': WRONG_P12_PASSWORD,
      '.p12 file': p12.slice(100, 180),
      'push private key': pushKey.pem.split('\n')[1],
      'device private key': device.keyPem.split('\n')[1],
      'imaging password': IMAGING_PASSWORD,
      'wrong imaging password': WRONG_IMAGING_PASSWORD,
      'imaging credentials': Buffer.from(`log-imager:${IMAGING_PASSWORD}`).toString('base64'),
      'imaging password hash': hashValue,
      'proxy secret': TEST_TRUSTED_PROXY_SECRET,
      'wrong proxy secret': WRONG_PROXY_SECRET,
    });
    const log = captured.join('\n');
    // The capture works: the functions logged at DEBUG/INFO (refusals, requests) and the runner printed the alert.
    expect(log).toMatch(/Admin request refused/);
    expect(log).toMatch(/DEVICE_BLOCKED/);
    const found = Object.entries(secrets).filter(([, secret]) => secret.length >= 16 && log.includes(secret)).map(([name]) => name);
    expect(found).toEqual([]);
    expect(log).not.toMatch(/PRIVATE KEY/);
    expect(Object.values(secrets).every((secret) => secret.length >= 16)).toBe(true);
  }, 120_000);
});
