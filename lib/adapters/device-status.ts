// The device status a recorded decision sets, as every decision adapter writes it.
import type { DecisionRecord } from '../ports/decision-store.ts';
import type { DeviceStatusRecord } from '../ports/device-status-store.ts';

export function deviceStatusOf(decision: DecisionRecord): DeviceStatusRecord {
  const { deviceId, decision: verdict, violations, evaluatedAt, checkinId, settingsVersion, exemptionExpired, facts } = decision;
  return {
    deviceId,
    status: verdict === 'BLOCK' ? 'BLOCKED' : 'ACCEPTED',
    decision: verdict,
    violations,
    lastCheckinAt: evaluatedAt,
    checkinId,
    settingsVersion,
    ...(exemptionExpired ? { exemptionExpired } : {}),
    facts,
  };
}
