// Identity before state, end to end (API.md §1 "Unauthenticated check-ins"): with certificate-based authentication
// on, what an attacker without the device's key sends over HTTP changes nothing of that device — no status, no
// decision, no alert, no claimed checkinId — and is listed as an unauthenticated attempt instead.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { parseDeviceCaBundle } from '../../lib/domain/trust-material.ts';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import type { LocalStack } from '../../local/stack.ts';
import { seed, seedSettings } from '../support/config.ts';
import { CertificateFactory, type MadeCertificate, signBody } from '../support/certificates.ts';
import { call } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

const AUDITOR_TOKEN = 'auditor-token-for-the-identity-test';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let stack: LocalStack;
let factory: CertificateFactory;
let genuine: MadeCertificate;
let sameDeviceSecondCertificate: MadeCertificate;
let strangerSignedByOtherRoot: MadeCertificate;

beforeAll(async () => {
  factory = CertificateFactory.create();
  const root = factory.makeRootCa({ cn: 'Identity E2E Root', keyType: 'ec384' });
  genuine = factory.makeDeviceCertificate(root, { cn: 'MAC-GENUINE', keyType: 'ec256' });
  sameDeviceSecondCertificate = factory.makeDeviceCertificate(root, { cn: 'MAC-GENUINE', keyType: 'ec256' });
  strangerSignedByOtherRoot = factory.makeDeviceCertificate(factory.makeRootCa({ cn: 'Attacker Root', keyType: 'ec256' }), { cn: 'MAC-GENUINE', keyType: 'ec256' });

  stack = await startTestStack({ adminTokens: `auditor1:auditor:${sha256(AUDITOR_TOKEN)}` });
  const store = new DynamoDbConfigStore(localDynamoDbClient(stack.dynamoDbEndpoint), stack.tableNames.ConfigTable);
  const changedAt = new Date().toISOString();
  await seed(store, { kind: 'DEVICE_CAS', certificates: parseDeviceCaBundle(root.pem) }, { changedAt });
  await seedSettings(store, { certificateBasedAuthentication: true }, { changedAt });
});

afterAll(async () => {
  await stack?.stop();
  factory?.cleanup();
});

let counter = 0;
function checkinBody(deviceId: string, options: { checkinId?: string; skewed?: boolean; unverified?: boolean } = {}): string {
  counter += 1;
  return JSON.stringify({
    checkinId: options.checkinId ?? `id-${Date.now()}-${counter}`,
    deviceId,
    clientTime: new Date(Date.now() - (options.skewed ? 3_600_000 : 0)).toISOString(),
    serverCertificateVerified: !options.unverified,
  });
}

/** A check-in signed with the certificate's key: the device proving who it is. */
function signed(device: MadeCertificate, body: string) {
  return call(`${stack.httpUrl}/checkin`, {
    body,
    headers: { 'content-type': 'application/json', 'x-device-certificate': device.base64, 'x-device-signature': signBody(Buffer.from(body), device).toString('base64') },
  });
}

function unsigned(body: string, headers: Record<string, string> = {}) {
  return call(`${stack.httpUrl}/checkin`, { body, headers: { 'content-type': 'application/json', ...headers } });
}

const admin = (path: string, token = TEST_ADMIN_TOKEN) => call(`${stack.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });

async function decisionsOf(deviceId: string): Promise<any[]> {
  return (await admin(`/admin/devices/${deviceId}/decisions?limit=500`)).body.items;
}

async function statusOf(deviceId: string): Promise<string | undefined> {
  for (const status of ['BLOCKED', 'ACCEPTED']) {
    const { body } = await admin(`/admin/devices?status=${status}&limit=500`);
    if (body.items.some((d: { deviceId: string }) => d.deviceId === deviceId)) return status;
  }
  return undefined;
}

function alertsFor(deviceId: string): any[] {
  const file = join(stack.dataDir, 'alerts.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)).filter((line) => line.message.deviceId === deviceId);
}

async function allAttempts(): Promise<any[]> {
  const items: any[] = [];
  let token: string | undefined;
  do {
    const { body } = await admin(`/admin/unauthenticated-attempts?limit=7${token ? `&nextToken=${token}` : ''}`);
    items.push(...body.items);
    token = body.nextToken;
  } while (token);
  return items;
}

describe('an attacker without the device key', () => {
  it('cannot turn an accepted device BLOCKED or raise its alerts, however many forged check-ins it sends', async () => {
    expect((await signed(genuine, checkinBody('MAC-GENUINE'))).status).toBe(200);
    // Alternating violation sets: each would be a new DEVICE_BLOCKED if it reached the device's status.
    const forged: Record<string, string>[] = [
      {}, // no certificate at all
      { 'x-device-certificate': genuine.base64 }, // the device's public certificate, no signature
      { 'x-device-certificate': genuine.base64, 'x-device-signature': signBody(Buffer.from('other body'), genuine).toString('base64') }, // a signature over another body
      { 'x-device-certificate': strangerSignedByOtherRoot.base64, 'x-device-signature': 'AAAA' }, // its own certificate from its own CA
    ];
    for (let i = 0; i < 12; i += 1) {
      const res = await unsigned(checkinBody('MAC-GENUINE', { skewed: i % 2 === 0, unverified: i % 3 === 0 }), forged[i % forged.length]);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ deviceId: 'MAC-GENUINE', decision: 'BLOCK', authenticated: false });
    }
    await stack.drainAlerts();
    expect(await statusOf('MAC-GENUINE')).toBe('ACCEPTED');
    expect((await decisionsOf('MAC-GENUINE')).map((d) => d.decision)).toEqual(['ACCEPT']);
    expect(alertsFor('MAC-GENUINE')).toEqual([]);
  });

  it('creates no status row and no decisions for an invented device', async () => {
    const res = await unsigned(checkinBody('INVENTED-0001', { unverified: true }));
    expect(res.status).toBe(403);
    expect(res.body.violations.map((v: { code: string }) => v.code)).toEqual(['CLIENT_CERT_MISSING', 'SERVER_CERT_NOT_VERIFIED']);
    await stack.drainAlerts();
    expect(await statusOf('INVENTED-0001')).toBeUndefined();
    expect(await decisionsOf('INVENTED-0001')).toEqual([]);
    expect(alertsFor('INVENTED-0001')).toEqual([]);
  });

  it('cannot pre-claim a predictable checkinId: the genuine device using it later is judged on its own', async () => {
    const checkinId = `predictable-${Date.now()}`;
    const forged = await unsigned(checkinBody('MAC-GENUINE', { checkinId, unverified: true }));
    expect(forged.status).toBe(403);
    const real = await signed(genuine, checkinBody('MAC-GENUINE', { checkinId }));
    expect(real.status).toBe(200);
    expect(real.headers['idempotent-replay']).toBeUndefined();
    expect(real.body).toMatchObject({ checkinId, decision: 'ACCEPT', authenticated: true, violations: [] });
    // ... and a forged retry of the id the device now holds gets no copy of the device's answer.
    const after = await unsigned(checkinBody('MAC-GENUINE', { checkinId }));
    expect(after.status).toBe(403);
    expect(after.headers['idempotent-replay']).toBeUndefined();
  });

  it('cannot reuse a recorded checkinId with another valid certificate of the same device: 409', async () => {
    const body = checkinBody('MAC-GENUINE');
    const first = await signed(genuine, body);
    expect(first.status).toBe(200);
    const retry = await signed(genuine, body);
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replay']).toBe('true');
    expect(retry.text).toBe(first.text);
    const other = await signed(sameDeviceSecondCertificate, body);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('CHECKIN_ID_CONFLICT');
  });

  it('leaves the genuine device’s check-ins exactly as they would be without any forgery', async () => {
    const before = (await decisionsOf('MAC-GENUINE')).length;
    let genuineCount = 0;
    for (let i = 0; i < 10; i += 1) {
      await unsigned(checkinBody('MAC-GENUINE', { skewed: true }));
      const res = await signed(genuine, checkinBody('MAC-GENUINE'));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ decision: 'ACCEPT', authenticated: true, violations: [] });
      genuineCount += 1;
    }
    const decisions = await decisionsOf('MAC-GENUINE');
    expect(decisions).toHaveLength(before + genuineCount);
    expect(new Set(decisions.map((d) => d.decision))).toEqual(new Set(['ACCEPT']));
    expect(decisions.every((d) => d.facts.identity.fingerprint === genuine.fingerprint)).toBe(true);
  });
});

describe('unauthenticated attempts', () => {
  it('are listed newest first, paged, with the claimed device, the violations, the fingerprint and the source address', async () => {
    const marker = `ATTEMPT-LIST-${Date.now()}`;
    await unsigned(checkinBody(marker, { checkinId: `${marker}-1` }));
    await unsigned(checkinBody(marker, { checkinId: `${marker}-2` }), { 'x-device-certificate': strangerSignedByOtherRoot.base64 });
    const attempts = (await allAttempts()).filter((a) => a.deviceId === marker);
    expect(attempts).toEqual([
      {
        deviceId: marker,
        checkinId: `${marker}-2`,
        violations: ['CLIENT_CERT_UNTRUSTED', 'CLIENT_CERT_DEVICE_MISMATCH', 'CLIENT_SIGNATURE_MISSING'],
        fingerprint: strangerSignedByOtherRoot.fingerprint,
        sourceIp: '127.0.0.1',
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      },
      { deviceId: marker, checkinId: `${marker}-1`, violations: ['CLIENT_CERT_MISSING'], sourceIp: '127.0.0.1', at: expect.any(String) },
    ]);
  });

  it('may be read by an auditor, and not without a token', async () => {
    expect((await admin('/admin/unauthenticated-attempts', AUDITOR_TOKEN)).status).toBe(200);
    const anonymous = await call(`${stack.httpUrl}/admin/unauthenticated-attempts`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a page token it did not give out with 400', async () => {
    const res = await admin('/admin/unauthenticated-attempts?nextToken=e30');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_REQUEST', field: 'nextToken' });
  });
});
