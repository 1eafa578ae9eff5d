// The check-in use case with in-memory adapters and a frozen clock: answer, record, replay, conflict, and identity
// before state (an unproven request changes nothing of the device it claims).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryUnauthenticatedAttemptStore } from '../../lib/adapters/memory/attempt-store.ts';
import { InMemoryDecisionStore } from '../../lib/adapters/memory/decision-store.ts';
import type { TrustedProxy } from '../../lib/domain/device-identity.ts';
import { DEFAULT_SETTINGS } from '../../lib/domain/settings.ts';
import type { ConfigSnapshot, StoredCertificate } from '../../lib/ports/config-store.ts';
import { makeCheckinService } from '../../lib/services/checkin-service.ts';
import type { Exemption } from '../../lib/domain/exemptions.ts';
import { PolicyCache } from '../../lib/services/policy-cache.ts';
import { CertificateFactory, type MadeCertificate, nginxEscapedPem, signBody } from '../support/certificates.ts';

const now = new Date('2026-11-25T18:06:03.120Z');
const clock = { now: () => now };
const WEEK = 7 * 86_400_000;

function service(settings = {}, options: { deviceCas?: StoredCertificate[]; trustedProxy?: TrustedProxy; exemptions?: Exemption[] } = {}) {
  const snapshot: ConfigSnapshot = {
    settings: { ...DEFAULT_SETTINGS, ...settings } as ConfigSnapshot['settings'],
    version: 7,
    updatedAt: null,
    updatedBy: null,
    deviceCas: options.deviceCas ?? [],
    packages: new Map(),
    revocations: new Map(),
    exemptions: new Map((options.exemptions ?? []).map((e) => [e.deviceId, e])),
  };
  const decisions = new InMemoryDecisionStore();
  const attempts = new InMemoryUnauthenticatedAttemptStore();
  const handle = makeCheckinService({
    policies: new PolicyCache({ loadSnapshot: async () => snapshot }, clock),
    decisions,
    attempts,
    clock,
    trustedProxy: options.trustedProxy,
  });
  const listAttempts = async () => (await attempts.list({ since: new Date(now.getTime() - WEEK), now }, 100)).items;
  return { handle, decisions, listAttempts };
}

function request(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const text = JSON.stringify({ checkinId: 'c-1', deviceId: 'D1', clientTime: now.toISOString(), serverCertificateVerified: true, ...body });
  return { json: JSON.parse(text), rawBody: Buffer.from(text), headers, sourceIp: '203.0.113.9' };
}

/** A request signed with the device's key: the signed-request way of proving identity. */
function signedRequest(device: MadeCertificate, body: Record<string, unknown>) {
  const plain = request(body);
  return { ...plain, headers: { 'x-device-certificate': device.base64, 'x-device-signature': signBody(plain.rawBody, device).toString('base64') } };
}

describe('check-in service', () => {
  it('answers 200 with the contract body and records the decision with its facts', async () => {
    const { handle, decisions } = service();
    const answer = await handle(request({}));
    expect(answer).toMatchObject({ statusCode: 200, replayed: false, decision: 'ACCEPT', violationCodes: [] });
    expect(JSON.parse(answer.body)).toEqual({
      checkinId: 'c-1', deviceId: 'D1', decision: 'ACCEPT', enforced: true, violations: [], exempted: [], warnings: [], settingsVersion: 7, evaluatedAt: '2026-11-25T18:06:03.120Z',
    });
    const [recorded] = (await decisions.listDecisions('D1', 1)).items;
    expect(recorded).toMatchObject({ statusCode: 200, settingsVersion: 7, facts: { skewSeconds: 0, phase: 'CHECKIN' } });
  });

  it('answers 403 when blocked and 200 with enforced false in MONITOR mode', async () => {
    expect((await service().handle(request({ serverCertificateVerified: false }))).statusCode).toBe(403);
    const monitored = await service({ mode: 'MONITOR' }).handle(request({ serverCertificateVerified: false }));
    expect(monitored.statusCode).toBe(200);
    expect(JSON.parse(monitored.body)).toMatchObject({ decision: 'ACCEPT', enforced: false, violations: [{ code: 'SERVER_CERT_NOT_VERIFIED' }] });
  });

  it('replays the first answer byte for byte, and refuses the same checkinId from another device with 409', async () => {
    const { handle } = service();
    const first = await handle(request({ serverCertificateVerified: false }));
    const retry = await handle(request({}));
    expect(retry).toMatchObject({ replayed: true, statusCode: 403, body: first.body });
    await expect(handle(request({ deviceId: 'D2' }))).rejects.toMatchObject({ statusCode: 409, code: 'CHECKIN_ID_CONFLICT' });
  });

  it('refuses an invalid check-in with 400 and records nothing', async () => {
    const { handle, decisions, listAttempts } = service({ certificateBasedAuthentication: true });
    await expect(handle(request({ clientTime: 'now' }))).rejects.toMatchObject({ statusCode: 400, code: 'INVALID_CHECKIN', field: 'clientTime' });
    expect((await decisions.listDevices('ACCEPTED', 10)).items).toEqual([]);
    expect((await decisions.listDevices('BLOCKED', 10)).items).toEqual([]);
    expect(await listAttempts()).toEqual([]);
  });
});

describe('check-in service: exemptions', () => {
  const exemption = (until: string, deviceId = 'D1') => ({
    deviceId,
    violations: ['SERVER_CERT_NOT_VERIFIED'],
    until,
    reason: 'repair',
    createdAt: '2026-11-25T00:00:00.000Z',
    createdBy: 'alice',
  });

  it('accepts a device whose only violation is exempted, and records the violation as exempted', async () => {
    const { handle, decisions } = service({}, { exemptions: [exemption('2026-11-25T18:06:04.000Z')] });
    const answer = await handle(request({ serverCertificateVerified: false }));
    expect(answer).toMatchObject({ statusCode: 200, decision: 'ACCEPT', violationCodes: [] });
    const body = JSON.parse(answer.body);
    expect(body).toMatchObject({ decision: 'ACCEPT', violations: [], exempted: [{ code: 'SERVER_CERT_NOT_VERIFIED' }] });
    const [recorded] = (await decisions.listDecisions('D1', 1)).items;
    expect(recorded).toMatchObject({ decision: 'ACCEPT', violations: [], exempted: body.exempted });
    expect((await decisions.listDevices('ACCEPTED', 10)).items.map((d) => d.deviceId)).toEqual(['D1']);
  });

  it("ignores another device's exemption", async () => {
    const answer = await service({}, { exemptions: [exemption('2026-11-26T00:00:00.000Z', 'D2')] }).handle(request({ serverCertificateVerified: false }));
    expect(answer.statusCode).toBe(403);
  });

  it('blocks once until has passed, and the status carries the exemption that ran out (for the alert)', async () => {
    const { handle, decisions } = service({}, { exemptions: [exemption('2026-11-25T18:06:03.000Z')] });
    const answer = await handle(request({ serverCertificateVerified: false }));
    expect(answer).toMatchObject({ statusCode: 403, violationCodes: ['SERVER_CERT_NOT_VERIFIED'] });
    expect(JSON.parse(answer.body)).toMatchObject({ exempted: [] });
    expect(JSON.parse(answer.body)).not.toHaveProperty('exemptionExpired');
    const [status] = (await decisions.listDevices('BLOCKED', 10)).items;
    expect(status.exemptionExpired).toEqual({ violations: ['SERVER_CERT_NOT_VERIFIED'], until: '2026-11-25T18:06:03.000Z', reason: 'repair' });
  });
});

describe('check-in service: identity before state', () => {
  let factory: CertificateFactory;
  let root: MadeCertificate;
  let device: MadeCertificate;
  let sameDeviceOtherCertificate: MadeCertificate;
  let caSet: StoredCertificate[];

  beforeAll(() => {
    factory = CertificateFactory.create();
    root = factory.makeRootCa({ cn: 'Service Test Root', notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2030-01-01T00:00:00Z') });
    const validity = { notBefore: new Date('2026-06-01T00:00:00Z'), notAfter: new Date('2027-06-01T00:00:00Z') };
    device = factory.makeDeviceCertificate(root, { cn: 'D1', ...validity });
    sameDeviceOtherCertificate = factory.makeDeviceCertificate(root, { cn: 'D1', ...validity });
    caSet = [{ pem: root.pem, subject: 'CN=Service Test Root', notAfter: root.notAfter.toISOString(), sha256: root.fingerprint }];
  });
  afterAll(() => factory.cleanup());

  it('answers an unproven check-in 403 with authenticated false, and keeps it as an attempt, not as a decision', async () => {
    const { handle, decisions, listAttempts } = service({ certificateBasedAuthentication: true }, { deviceCas: caSet });
    const answer = await handle(request({ serverCertificateVerified: false }));
    expect(answer).toMatchObject({ statusCode: 403, authenticated: false, violationCodes: ['CLIENT_CERT_MISSING', 'SERVER_CERT_NOT_VERIFIED'] });
    expect(JSON.parse(answer.body)).toMatchObject({ decision: 'BLOCK', enforced: true, authenticated: false });
    expect((await decisions.listDecisions('D1', 10)).items).toEqual([]);
    expect((await decisions.listDevices('BLOCKED', 10)).items).toEqual([]);
    expect(await listAttempts()).toEqual([
      { deviceId: 'D1', checkinId: 'c-1', violations: ['CLIENT_CERT_MISSING'], sourceIp: '203.0.113.9', at: now.toISOString() },
    ]);
  });

  it('keeps the presented fingerprint with an attempt whose certificate did not prove the device', async () => {
    const { handle, listAttempts } = service({ certificateBasedAuthentication: true }, { deviceCas: caSet });
    // The device's public certificate, without its key: the signature is missing.
    const answer = await handle(request({}, { 'x-device-certificate': device.base64 }));
    expect(answer.violationCodes).toEqual(['CLIENT_SIGNATURE_MISSING']);
    expect(await listAttempts()).toEqual([
      { deviceId: 'D1', checkinId: 'c-1', violations: ['CLIENT_SIGNATURE_MISSING'], fingerprint: device.fingerprint, sourceIp: '203.0.113.9', at: now.toISOString() },
    ]);
  });

  it('never takes the checkinId for an unproven request: the genuine device with the same id is judged on its own', async () => {
    const { handle, decisions } = service({ certificateBasedAuthentication: true }, { deviceCas: caSet });
    await handle(request({ serverCertificateVerified: false }));
    const genuine = await handle(signedRequest(device, {}));
    expect(genuine).toMatchObject({ statusCode: 200, replayed: false, authenticated: true, violationCodes: [] });
    expect(JSON.parse(genuine.body)).toMatchObject({ decision: 'ACCEPT', authenticated: true });
    expect((await decisions.listDevices('ACCEPTED', 10)).items.map((d) => d.deviceId)).toEqual(['D1']);
  });

  it('in MONITOR mode answers an unproven request 200 with enforced false, and still changes nothing of the device', async () => {
    const { handle, decisions, listAttempts } = service({ certificateBasedAuthentication: true, mode: 'MONITOR' }, { deviceCas: caSet });
    const answer = await handle(request({}));
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ decision: 'ACCEPT', enforced: false, authenticated: false });
    expect((await decisions.listDecisions('D1', 10)).items).toEqual([]);
    expect((await listAttempts()).map((a) => a.violations)).toEqual([['CLIENT_CERT_MISSING']]);
  });

  it('replays a recorded answer only to the certificate it was recorded with; another valid certificate gets 409', async () => {
    const { handle, decisions } = service({ certificateBasedAuthentication: true }, { deviceCas: caSet });
    const first = await handle(signedRequest(device, {}));
    expect(await handle(signedRequest(device, {}))).toMatchObject({ replayed: true, statusCode: 200, body: first.body });
    await expect(handle(signedRequest(sameDeviceOtherCertificate, {}))).rejects.toMatchObject({ statusCode: 409, code: 'CHECKIN_ID_CONFLICT' });
    expect((await decisions.listDecisions('D1', 10)).items).toHaveLength(1);
  });

  it('does not send the recorded answer to an unproven retry of a recorded checkinId', async () => {
    const { handle, listAttempts } = service({ certificateBasedAuthentication: true }, { deviceCas: caSet });
    await handle(signedRequest(device, {}));
    const forged = await handle(request({}));
    expect(forged).toMatchObject({ statusCode: 403, replayed: false, authenticated: false });
    expect(await listAttempts()).toHaveLength(1);
  });

  it.each([
    // [case, headers besides the certificate header, why it is ignored]
    ['no proxy secret', {}, 'PROXY_SECRET_MISSING'],
    ['a wrong proxy secret', { 'x-tollgate-proxy-secret': 'x'.repeat(40) }, 'PROXY_SECRET_WRONG'],
    ['the secret twice, comma-joined', { 'x-tollgate-proxy-secret': `${'s'.repeat(40)}, ${'s'.repeat(40)}` }, 'PROXY_SECRET_WRONG'],
  ] as const)('ignores the proxy certificate header with %s: the public certificate alone proves nothing', async (_case, extra, reason) => {
    const trustedProxy = { header: 'x-client-cert', secret: 's'.repeat(40) };
    const { handle, decisions } = service({ certificateBasedAuthentication: true }, { deviceCas: caSet, trustedProxy });
    const answer = await handle(request({}, { 'x-client-cert': nginxEscapedPem(device.pem), ...extra }));
    expect(answer).toMatchObject({ statusCode: 403, authenticated: false, violationCodes: ['CLIENT_CERT_MISSING'], ignoredProxyHeader: reason });
    expect((await decisions.listDecisions('D1', 10)).items).toEqual([]);
  });

  it('believes the proxy certificate header with the proxy secret', async () => {
    const trustedProxy = { header: 'x-client-cert', secret: 's'.repeat(40) };
    const { handle } = service({ certificateBasedAuthentication: true }, { deviceCas: caSet, trustedProxy });
    const answer = await handle(request({}, { 'x-client-cert': nginxEscapedPem(device.pem), 'x-tollgate-proxy-secret': 's'.repeat(40) }));
    expect(answer).toMatchObject({ statusCode: 200, authenticated: true, violationCodes: [] });
    expect(answer.ignoredProxyHeader).toBeUndefined();
  });

  it('ignores a comma-joined proxy certificate header (a client value the proxy appended to) even with the secret', async () => {
    const trustedProxy = { header: 'x-client-cert', secret: 's'.repeat(40) };
    const { handle } = service({ certificateBasedAuthentication: true }, { deviceCas: caSet, trustedProxy });
    const joined = `${nginxEscapedPem(device.pem)},${nginxEscapedPem(sameDeviceOtherCertificate.pem)}`;
    const answer = await handle(request({}, { 'x-client-cert': joined, 'x-tollgate-proxy-secret': 's'.repeat(40) }));
    expect(answer).toMatchObject({ statusCode: 403, violationCodes: ['CLIENT_CERT_MISSING'], ignoredProxyHeader: 'AMBIGUOUS_HEADER' });
  });
});
