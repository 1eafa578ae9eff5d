// The check-in use case with in-memory adapters and a frozen clock: answer, record, replay, conflict.
import { describe, expect, it } from 'vitest';
import { InMemoryDecisionStore } from '../../lib/adapters/memory/decision-store.ts';
import { DEFAULT_SETTINGS } from '../../lib/domain/settings.ts';
import type { ConfigSnapshot } from '../../lib/ports.ts';
import { makeCheckinService } from '../../lib/services/checkin-service.ts';
import { PolicyCache } from '../../lib/services/policy-cache.ts';

const now = new Date('2026-11-25T18:06:03.120Z');
const clock = { now: () => now };

function service(settings = {}) {
  const snapshot: ConfigSnapshot = {
    settings: { ...DEFAULT_SETTINGS, ...settings } as ConfigSnapshot['settings'],
    version: 7,
    updatedAt: null,
    updatedBy: null,
    deviceCas: [],
    packages: new Map(),
    revocations: new Map(),
  };
  const decisions = new InMemoryDecisionStore();
  const handle = makeCheckinService({ policies: new PolicyCache({ loadSnapshot: async () => snapshot }, clock), decisions, clock });
  return { handle, decisions };
}

const request = (body: Record<string, unknown>) => {
  const text = JSON.stringify({ checkinId: 'c-1', deviceId: 'D1', clientTime: now.toISOString(), serverCertificateVerified: true, ...body });
  return { json: JSON.parse(text), rawBody: Buffer.from(text), headers: {} };
};

describe('check-in service', () => {
  it('answers 200 with the contract body and records the decision with its facts', async () => {
    const { handle, decisions } = service();
    const answer = await handle(request({}));
    expect(answer).toMatchObject({ statusCode: 200, replayed: false, decision: 'ACCEPT', violationCodes: [] });
    expect(JSON.parse(answer.body)).toEqual({
      checkinId: 'c-1', deviceId: 'D1', decision: 'ACCEPT', enforced: true, violations: [], warnings: [], settingsVersion: 7, evaluatedAt: '2026-11-25T18:06:03.120Z',
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
    const { handle, decisions } = service();
    await expect(handle(request({ clientTime: 'now' }))).rejects.toMatchObject({ statusCode: 400, code: 'INVALID_CHECKIN', field: 'clientTime' });
    expect((await decisions.listDevices('ACCEPTED', 10)).items).toEqual([]);
  });

  it('blocks a check-in without a certificate when certificate-based authentication is on', async () => {
    const answer = await service({ certificateBasedAuthentication: true }).handle(request({}));
    expect(answer.statusCode).toBe(403);
    expect(answer.violationCodes).toEqual(['CLIENT_CERT_MISSING']);
  });
});
