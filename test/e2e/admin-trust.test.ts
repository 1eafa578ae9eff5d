// Trust material over real HTTP: device CA set, server certificate, push certificate (PKCS#12 made by openssl, legacy
// and modern), their history entries, and the 5-second promise: a CA change or a revocation reaches check-ins.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import type { LocalStack } from '../../local/stack.ts';
import { CertificateFactory, type MadeCertificate, signBody } from '../support/certificates.ts';
import { call, type HttpResult } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';
import { OpensslWorkbench, pushSubject, type MadeCertificate as WorkbenchCertificate } from '../support/pkcs12.ts';

const P12_PASSWORD = 'Push-cert pässword 1';
const DAY = 86_400_000;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let stack: LocalStack;
let factory: CertificateFactory;
let bench: OpensslWorkbench;

// Device PKI (certificates.ts)
let root: MadeCertificate;
let issuing: MadeCertificate;
let device: MadeCertificate;
let notACa: MadeCertificate;
let caIssuedServer: MadeCertificate;
let selfSignedServer: MadeCertificate;

// Push certificates (pkcs12.ts)
let pushA: WorkbenchCertificate;
let pushB: WorkbenchCertificate;
let legacyP12: string;
let modernP12: string;
let notPushP12: string;
let noUidP12: string;
let expiredP12: string;

beforeAll(async () => {
  const starting = startTestStack();
  factory = CertificateFactory.create();
  root = factory.makeRootCa({ cn: 'Tollgate Test Device Root', keyType: 'ec384' });
  issuing = factory.makeIntermediateCa(root, { cn: 'Tollgate Test Device Issuing CA', keyType: 'ec256' });
  device = factory.makeDeviceCertificate(issuing, { cn: 'C02TRUST0001', keyType: 'ec256' });
  notACa = factory.makeDeviceCertificate(issuing, { cn: 'not-a-ca', key: device });
  caIssuedServer = factory.makeDeviceCertificate(issuing, { cn: 'tollgate.example.com', key: device, eku: 'serverAuth' });
  selfSignedServer = factory.makeDeviceCertificate(undefined, { cn: 'self.example.com', key: device, eku: 'serverAuth' });

  bench = OpensslWorkbench.create();
  const key = bench.makeKey('rsa2048');
  pushA = bench.makeCertificate({ subject: pushSubject(randomUUID()), key });
  pushB = bench.makeCertificate({ subject: pushSubject(randomUUID()), key });
  legacyP12 = bench.exportPkcs12({ certificate: pushA, password: P12_PASSWORD, legacy: true });
  modernP12 = bench.exportPkcs12({ certificate: pushB, password: P12_PASSWORD });
  notPushP12 = bench.exportPkcs12({ certificate: bench.makeCertificate({ subject: pushSubject(randomUUID(), { uid: 'com.example.not-mdm' }), key }), password: P12_PASSWORD });
  noUidP12 = bench.exportPkcs12({ certificate: bench.makeCertificate({ subject: pushSubject(randomUUID(), { uid: null }), key }), password: P12_PASSWORD });
  const expired = bench.makeCertificate({ subject: pushSubject(randomUUID()), key, notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
  expiredP12 = bench.exportPkcs12({ certificate: expired, password: P12_PASSWORD });

  stack = await starting;
});

afterAll(async () => {
  await stack?.stop();
  factory?.cleanup();
  bench?.cleanup();
});

function admin(method: string, path: string, json?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  return call(`${stack.httpUrl}${path}`, {
    method,
    json,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...(json !== undefined && method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {}), ...headers },
  });
}

const settingsVersion = async () => (await admin('GET', '/admin/settings')).body.version as number;
const latestHistory = async () => (await admin('GET', '/admin/settings/history?limit=1')).body.items[0];

function expectError(res: HttpResult, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.requestId).toEqual(expect.any(String));
}

describe('device CA set', () => {
  it('is empty on a fresh installation', async () => {
    const res = await admin('GET', '/admin/device-ca');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ certificates: [] });
  });

  it.each([
    // [why, body, status, code, field at fault, what the message says]
    ['no body field', {}, 400, 'INVALID_REQUEST', 'certificates', 'certificates is required'],
    ['certificates not a string', { certificates: ['-----BEGIN CERTIFICATE-----'] }, 400, 'INVALID_REQUEST', 'certificates', 'certificates must be a non-empty string'],
    ['an unknown field', { certificates: 'x', comment: 'hi' }, 400, 'INVALID_REQUEST', 'comment', 'Unknown field "comment"'],
    ['no PEM at all', { certificates: 'hello' }, 422, 'INVALID_CERTIFICATE', 'certificates', 'no PEM certificate'],
  ])('refuses %s', async (_why, body, status, code, field, message) => {
    const res = await admin('PUT', '/admin/device-ca', body);
    expectError(res, status, code);
    expect(res.body.error).toEqual({ code, message: expect.stringContaining(message), field, requestId: expect.any(String) });
  });

  it('refuses a certificate without basicConstraints CA:TRUE (422 INVALID_CERTIFICATE on field certificates) and changes nothing', async () => {
    const res = await admin('PUT', '/admin/device-ca', { certificates: root.pem + notACa.pem });
    expectError(res, 422, 'INVALID_CERTIFICATE');
    expect(res.body).toEqual({
      error: {
        code: 'INVALID_CERTIFICATE',
        message: 'Certificate 2 of 2 (CN=not-a-ca) is not a CA certificate: it lacks basicConstraints CA:TRUE',
        field: 'certificates',
        requestId: expect.any(String),
      },
    });
    expect((await admin('GET', '/admin/device-ca')).body).toEqual({ certificates: [] });
  });

  it('names every problem of a bundle in one message on field certificates, without details or key text', async () => {
    const res = await admin('PUT', '/admin/device-ca', { certificates: notACa.pem + root.pem + device.keyPem });
    expectError(res, 422, 'INVALID_CERTIFICATE');
    expect(res.body.error).toEqual({ code: 'INVALID_CERTIFICATE', message: expect.any(String), field: 'certificates', requestId: expect.any(String) });
    expect(res.body.error.message).toMatch(/^The device CA bundle has 2 problems: \(1\) Certificate 1 of 3 \(CN=not-a-ca\) is not a CA certificate.*; \(2\) PEM block 3 of 3 is a PRIVATE KEY block/);
    for (const line of device.keyPem.split('\n').filter((l) => l.length > 0 && !l.startsWith('-----'))) expect(res.text).not.toContain(line);
    expect((await admin('GET', '/admin/device-ca')).body).toEqual({ certificates: [] });
  });

  it('refuses more than 10 certificates', async () => {
    const many = Array.from({ length: 11 }, (_v, i) => factory.makeRootCa({ cn: `Extra Root ${i}`, key: root }).pem).join('');
    const res = await admin('PUT', '/admin/device-ca', { certificates: many });
    expectError(res, 422, 'INVALID_CERTIFICATE');
    expect(res.body.error).toMatchObject({ field: 'certificates', message: expect.stringContaining('at most 10') });
    expect(res.body.error.details).toBeUndefined();
  });

  it('replaces the set, lists it, and records the change without moving the settings version', async () => {
    const version = await settingsVersion();
    const res = await admin('PUT', '/admin/device-ca', { certificates: `subject=whatever\n${root.pem}\n${issuing.pem}` });
    expect(res.status).toBe(200);
    const expected = {
      certificates: [
        { subject: 'CN=Tollgate Test Device Root', notAfter: root.notAfter.toISOString(), sha256: root.fingerprint },
        { subject: 'CN=Tollgate Test Device Issuing CA', notAfter: issuing.notAfter.toISOString(), sha256: issuing.fingerprint },
      ],
    };
    expect(res.body).toEqual(expected);
    expect((await admin('GET', '/admin/device-ca')).body).toEqual(expected);
    expect(await settingsVersion()).toBe(version);
    expect(await latestHistory()).toEqual({
      version,
      changedAt: expect.stringMatching(ISO),
      actor: 'local-admin',
      changes: [{ field: 'deviceCa', from: null, to: [root.fingerprint, issuing.fingerprint] }],
    });
  });
});

describe('server certificate', () => {
  it('starts as the local runner\'s self-signed HTTPS certificate', async () => {
    const res = await admin('GET', '/admin/server-certificate');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ subject: expect.any(String), issuer: expect.any(String), notAfter: expect.stringMatching(ISO), selfSigned: true, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('takes a CA-issued certificate (selfSigned false), after which sslCertificateVerification ALWAYS is allowed', async () => {
    const before = (await admin('GET', '/admin/server-certificate')).body;
    const res = await admin('PUT', '/admin/server-certificate', { certificate: caIssuedServer.pem + issuing.pem });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      subject: 'CN=tollgate.example.com',
      issuer: 'CN=Tollgate Test Device Issuing CA',
      notAfter: caIssuedServer.notAfter.toISOString(),
      selfSigned: false,
      sha256: caIssuedServer.fingerprint,
    });
    expect((await latestHistory()).changes).toEqual([{ field: 'serverCertificate', from: before.sha256, to: caIssuedServer.fingerprint }]);
    expect((await admin('PATCH', '/admin/settings', { sslCertificateVerification: 'ALWAYS' })).status).toBe(200);
  });

  it('refuses a self-signed certificate while the setting is ALWAYS (422 INVALID_SETTINGS) and keeps the stored one', async () => {
    const res = await admin('PUT', '/admin/server-certificate', { certificate: selfSignedServer.pem });
    expectError(res, 422, 'INVALID_SETTINGS');
    expect(res.body.error.details).toEqual([{ field: 'sslCertificateVerification', message: expect.any(String) }]);
    expect((await admin('GET', '/admin/server-certificate')).body.sha256).toBe(caIssuedServer.fingerprint);
  });

  it('takes the self-signed one once the setting allows it', async () => {
    expect((await admin('PATCH', '/admin/settings', { sslCertificateVerification: 'ALWAYS_EXCEPT_DURING_ENROLLMENT' })).status).toBe(200);
    const res = await admin('PUT', '/admin/server-certificate', { certificate: selfSignedServer.pem });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ selfSigned: true, sha256: selfSignedServer.fingerprint, issuer: 'CN=self.example.com' });
    expectError(await admin('PATCH', '/admin/settings', { sslCertificateVerification: 'ALWAYS' }), 422, 'INVALID_SETTINGS');
  });

  it.each([
    ['a private key', () => device.keyPem, 422, 'INVALID_CERTIFICATE'],
    ['a certificate with its key', () => caIssuedServer.pem + device.keyPem, 422, 'INVALID_CERTIFICATE'],
    ['text that is no PEM', () => 'not a certificate', 422, 'INVALID_CERTIFICATE'],
    ['a number', () => 42, 400, 'INVALID_REQUEST'],
  ])('refuses %s, on field certificate', async (_why, certificate, status, code) => {
    const before = (await admin('GET', '/admin/server-certificate')).body;
    const res = await admin('PUT', '/admin/server-certificate', { certificate: certificate() });
    expectError(res, status, code);
    expect(res.body.error.field).toBe('certificate');
    expect(res.body.error.details).toBeUndefined();
    expect(res.text).not.toContain('PRIVATE KEY-----\n');
    for (const line of device.keyPem.split('\n').filter((l) => l.length > 0 && !l.startsWith('-----'))) expect(res.text).not.toContain(line);
    expect((await admin('GET', '/admin/server-certificate')).body).toEqual(before);
  });
});

describe('push certificate (PKCS#12 made by openssl)', () => {
  it('is 404 for GET and DELETE while none is stored', async () => {
    expectError(await admin('GET', '/admin/push-certificate'), 404, 'NOT_FOUND');
    expectError(await admin('DELETE', '/admin/push-certificate'), 404, 'NOT_FOUND');
  });

  it('opens a legacy file (RC2/3DES, SHA-1 MAC) and keeps only the certificate and its metadata', async () => {
    const res = await admin('PUT', '/admin/push-certificate', { p12: legacyP12, password: P12_PASSWORD });
    expect(res.status, res.text).toBe(200);
    const view = bench.inspect(pushA);
    expect(res.body).toEqual({
      topic: expect.stringMatching(/^com\.apple\.mgmt\.External\./),
      subject: expect.stringContaining('CN=APSP:'),
      notBefore: view.notBefore,
      notAfter: view.notAfter,
      daysRemaining: expect.any(Number),
      sha256: view.sha256,
    });
    expect(res.body.daysRemaining).toBeGreaterThanOrEqual(363);
    expect((await admin('GET', '/admin/push-certificate')).body).toEqual(res.body);
    expect(await latestHistory()).toMatchObject({ changes: [{ field: 'pushCertificate', from: null, to: view.sha256 }] });
  });

  it('opens a modern file (AES-256, PBKDF2) and replaces the stored one', async () => {
    const res = await admin('PUT', '/admin/push-certificate', { p12: modernP12, password: P12_PASSWORD });
    expect(res.status, res.text).toBe(200);
    const view = bench.inspect(pushB);
    expect(res.body.sha256).toBe(view.sha256);
    expect(await latestHistory()).toMatchObject({ changes: [{ field: 'pushCertificate', from: bench.inspect(pushA).sha256, to: view.sha256 }] });
  });

  it('never stores, echoes or records the password or the key', async () => {
    // The item as stored, keys aside.
    const client = localDynamoDbClient(stack.dynamoDbEndpoint);
    const raw = await client.send(new GetItemCommand({ TableName: stack.tableNames.ConfigTable, Key: { pk: { S: 'CONFIG' }, sk: { S: 'PUSH_CERTIFICATE' } } }));
    client.destroy();
    const { pk: _pk, sk: _sk, ...item } = unmarshall(raw.Item!);
    const stored = JSON.stringify(item);
    expect(stored).not.toContain(P12_PASSWORD);
    expect(stored).not.toContain('PRIVATE KEY');
    expect(Object.keys(item)).toEqual(['certificate']);
    expect(Object.keys(item.certificate as object).sort()).toEqual(['issuer', 'notAfter', 'notBefore', 'pem', 'sha256', 'subject', 'topic']);
    const history = await admin('GET', '/admin/settings/history?limit=500');
    expect(history.text).not.toContain(P12_PASSWORD);
    expect(history.text).not.toContain(modernP12.slice(0, 40));
  });

  it.each([
    // [why, body, status, code]
    ['a wrong password', () => ({ p12: modernP12, password: 'wrong password' }), 422, 'INVALID_P12'],
    ['a wrong password (legacy file)', () => ({ p12: legacyP12, password: 'wrong password' }), 422, 'INVALID_P12'],
    ['a file that is not base64', () => ({ p12: '%%% not base64 %%%', password: P12_PASSWORD }), 422, 'INVALID_P12'],
    ['base64 that is not PKCS#12', () => ({ p12: Buffer.from('hello world').toString('base64'), password: P12_PASSWORD }), 422, 'INVALID_P12'],
    ['a topic outside com.apple.mgmt', () => ({ p12: notPushP12, password: P12_PASSWORD }), 422, 'NOT_A_PUSH_CERTIFICATE'],
    ['no UID in the subject', () => ({ p12: noUidP12, password: P12_PASSWORD }), 422, 'NOT_A_PUSH_CERTIFICATE'],
    ['an expired certificate', () => ({ p12: expiredP12, password: P12_PASSWORD }), 422, 'CERTIFICATE_EXPIRED'],
    ['no password field', () => ({ p12: modernP12 }), 400, 'INVALID_REQUEST'],
    ['no p12 field', () => ({ password: P12_PASSWORD }), 400, 'INVALID_REQUEST'],
    ['an unknown field', () => ({ p12: modernP12, password: P12_PASSWORD, keep: true }), 400, 'INVALID_REQUEST'],
  ])('refuses %s and keeps the stored certificate', async (_why, body, status, code) => {
    const res = await admin('PUT', '/admin/push-certificate', body());
    expectError(res, status, code);
    expect(res.text).not.toContain(P12_PASSWORD);
    expect((await admin('GET', '/admin/push-certificate')).body.sha256).toBe(bench.inspect(pushB).sha256);
  });

  it('cannot be deleted while pushNotifications is true (409), and can once it is false', async () => {
    expect((await admin('PATCH', '/admin/settings', { pushNotifications: true })).status).toBe(200);
    expectError(await admin('DELETE', '/admin/push-certificate'), 409, 'PUSH_CERTIFICATE_IN_USE');
    expect((await admin('GET', '/admin/push-certificate')).status).toBe(200);
    expect((await admin('PATCH', '/admin/settings', { pushNotifications: false })).status).toBe(200);
    const deleted = await admin('DELETE', '/admin/push-certificate');
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expectError(await admin('GET', '/admin/push-certificate'), 404, 'NOT_FOUND');
    expect(await latestHistory()).toMatchObject({ changes: [{ field: 'pushCertificate', from: bench.inspect(pushB).sha256, to: null }] });
    expectError(await admin('PATCH', '/admin/settings', { pushNotifications: true }), 422, 'INVALID_SETTINGS');
  });
});

describe('settings and trust material racing each other', () => {
  it('deleting the push certificate while another admin turns push notifications on: never both', async () => {
    expect((await admin('PUT', '/admin/push-certificate', { p12: modernP12, password: P12_PASSWORD })).status).toBe(200);
    for (let round = 0; round < 4; round += 1) {
      const [deleted, enabled] = await Promise.all([
        admin('DELETE', '/admin/push-certificate'),
        admin('PATCH', '/admin/settings', { pushNotifications: true }),
      ]);
      // Either the delete landed first (and enabling found no certificate), or enabling did (and the delete was refused).
      const outcome = [deleted.status, deleted.body?.error?.code, enabled.status, enabled.body?.error?.code];
      const deleteWon = deleted.status === 204;
      expect(outcome, `${deleted.text} / ${enabled.text}`).toEqual(deleteWon ? [204, undefined, 422, 'INVALID_SETTINGS'] : [409, 'PUSH_CERTIFICATE_IN_USE', 200, undefined]);
      // What each order leaves behind: never push notifications on without a certificate.
      const settings = (await admin('GET', '/admin/settings')).body.settings;
      const certificate = await admin('GET', '/admin/push-certificate');
      expect({ pushNotifications: settings.pushNotifications, certificate: certificate.status }).toEqual(
        deleteWon ? { pushNotifications: false, certificate: 404 } : { pushNotifications: true, certificate: 200 },
      );
      // Back to the start of a round: a certificate and push notifications off.
      const restored = deleteWon
        ? await admin('PUT', '/admin/push-certificate', { p12: modernP12, password: P12_PASSWORD })
        : await admin('PATCH', '/admin/settings', { pushNotifications: false });
      expect(restored.status).toBe(200);
    }
  });
});

describe('trust changes reach check-ins within 5 s', () => {
  const checkin = (cert?: MadeCertificate) => {
    const body = JSON.stringify({ checkinId: `c-${randomUUID()}`, deviceId: device.cn, clientTime: new Date().toISOString(), serverCertificateVerified: true });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (cert) {
      headers['x-device-certificate'] = [cert.base64, issuing.base64].join(',');
      headers['x-device-signature'] = signBody(body, cert).toString('base64');
    }
    return call(`${stack.httpUrl}/checkin`, { method: 'POST', body, headers });
  };
  const codes = (res: HttpResult) => (res.body.violations as { code: string }[]).map((v) => v.code);

  /**
   * Repeats check-ins until `done` holds (at most 8 s). Returns the answer, and how long after `changeStartedAt`
   * the last check-in that still saw the old state was sent: the contract's bound is 5 s after the change. Every
   * answer before that is the old state's exactly (200, accepted, no violations), never some other refusal or error.
   */
  async function until(send: () => Promise<HttpResult>, done: (res: HttpResult) => boolean, changeStartedAt: number) {
    let lastStaleSentAfter = 0;
    for (;;) {
      const sentAt = Date.now();
      const res = await send();
      if (done(res)) return { res, lastStaleSentAfter };
      expect([res.status, res.body.decision, res.body.violations], res.text).toEqual([200, 'ACCEPT', []]);
      lastStaleSentAfter = sentAt - changeStartedAt;
      if (Date.now() - changeStartedAt > 8000) return { res, lastStaleSentAfter };
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('enabling certificate-based authentication after the device CA upload blocks a device without a certificate', async () => {
    // Warm the check-in function's policy cache before the change, so this measures the cache's bound.
    expect((await checkin()).status).toBe(200);
    const changeStartedAt = Date.now();
    const patched = await admin('PATCH', '/admin/settings', { certificateBasedAuthentication: true });
    expect(patched.status).toBe(200);
    const { res, lastStaleSentAfter } = await until(() => checkin(), (r) => r.status === 403, changeStartedAt);
    expect(res.status).toBe(403);
    expect(codes(res)).toEqual(['CLIENT_CERT_MISSING']);
    expect(lastStaleSentAfter).toBeLessThanOrEqual(5000);
  });

  it('a revoked device certificate is refused with CLIENT_CERT_REVOKED within 5 s', async () => {
    const accepted = await checkin(device);
    expect(accepted.status, accepted.text).toBe(200);
    const colonForm = device.fingerprint.toUpperCase().match(/../g)!.join(':');
    const changeStartedAt = Date.now();
    const revoked = await admin('PUT', `/admin/revocations/${colonForm}`, { reason: 'Laptop reported stolen' });
    expect(revoked.status).toBe(201);
    expect(revoked.body).toMatchObject({ sha256: device.fingerprint, reason: 'Laptop reported stolen', revokedBy: 'local-admin' });
    const { res, lastStaleSentAfter } = await until(() => checkin(device), (r) => r.status === 403, changeStartedAt);
    expect(codes(res)).toEqual(['CLIENT_CERT_REVOKED']);
    expect(res.body.violations[0].fingerprint).toBe(device.fingerprint);
    expect(lastStaleSentAfter).toBeLessThanOrEqual(5000);
  });
});
