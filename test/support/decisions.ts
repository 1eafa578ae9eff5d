// A recorded decision for store tests: an accepted, compliant check-in; override what the test is about.
import type { DecisionRecord } from '../../lib/ports/decision-store.ts';

export function makeDecision(overrides: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    checkinId: 'c-1',
    deviceId: 'D1',
    decision: 'ACCEPT',
    enforced: true,
    violations: [],
    warnings: [],
    facts: { clientTime: '2026-11-25T18:00:00.000Z', serverTime: '2026-11-25T18:00:00.000Z', skewSeconds: 0, skewMilliseconds: 0, phase: 'CHECKIN', serverCertificateVerified: true, packages: [], identity: { way: 'NONE', violations: [] } },
    settingsVersion: 1,
    evaluatedAt: '2026-11-25T18:00:00.000Z',
    statusCode: 200,
    ...overrides,
  };
}
