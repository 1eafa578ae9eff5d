// In-memory DecisionStore and DeviceStatusStore: same behaviour as the DynamoDB adapter (the shared contract
// suite in test/contract proves it), for fast unit tests of the services.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type {
  DecisionRecord,
  DecisionStore,
  DeviceStatus,
  DeviceStatusRecord,
  DeviceStatusStore,
  Page,
  RecordedResponse,
  RecordOutcome,
  ReplayBinding,
} from '../../ports.ts';
import { decisionKey } from '../dynamodb/keys.ts';
import { decodePageToken, encodePageToken } from '../dynamodb/pagination.ts';

function pageAfter<T>(sorted: T[], keyOf: (item: T) => Record<string, string>, limit: number, start: Record<string, AttributeValue> | undefined): Page<T> {
  let from = 0;
  if (start) {
    const wanted = JSON.stringify(Object.fromEntries(Object.entries(start).map(([k, v]) => [k, v.S])));
    const index = sorted.findIndex((item) => JSON.stringify(sortKeys(keyOf(item))) === JSON.stringify(sortKeys(JSON.parse(wanted))));
    from = index + 1;
  }
  const items = sorted.slice(from, from + limit);
  const more = from + limit < sorted.length;
  const last = items.at(-1);
  return { items, nextToken: more && last ? encodePageToken(Object.fromEntries(Object.entries(keyOf(last)).map(([k, v]) => [k, { S: v }]))) : undefined };
}

function sortKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

export class InMemoryDecisionStore implements DecisionStore, DeviceStatusStore {
  private readonly answers = new Map<string, { deviceId: string; fingerprint?: string; response: RecordedResponse }>();
  private readonly decisions = new Map<string, DecisionRecord[]>();
  private readonly statuses = new Map<string, DeviceStatusRecord>();

  async record(decision: DecisionRecord, response: RecordedResponse, binding?: ReplayBinding): Promise<RecordOutcome> {
    const existing = this.answers.get(decision.checkinId);
    if (existing) {
      if (existing.deviceId !== decision.deviceId) return { outcome: 'CONFLICT' };
      if (binding && existing.fingerprint !== binding.fingerprint) return { outcome: 'CONFLICT' };
      return { outcome: 'REPLAY', response: existing.response };
    }
    this.answers.set(decision.checkinId, { deviceId: decision.deviceId, fingerprint: binding?.fingerprint, response });
    const list = this.decisions.get(decision.deviceId) ?? [];
    list.push(structuredClone(decision));
    this.decisions.set(decision.deviceId, list);
    // As the DynamoDB adapter's condition: a check-in that finishes after a newer one leaves the newer status.
    const current = this.statuses.get(decision.deviceId);
    if (current && current.lastCheckinAt > decision.evaluatedAt) return { outcome: 'RECORDED' };
    this.statuses.set(decision.deviceId, {
      deviceId: decision.deviceId,
      status: decision.decision === 'BLOCK' ? 'BLOCKED' : 'ACCEPTED',
      decision: decision.decision,
      violations: decision.violations,
      lastCheckinAt: decision.evaluatedAt,
      checkinId: decision.checkinId,
      settingsVersion: decision.settingsVersion,
    });
    return { outcome: 'RECORDED' };
  }

  async listDecisions(deviceId: string, limit: number, nextToken?: string): Promise<Page<DecisionRecord>> {
    const pk = decisionKey.devicePk(deviceId);
    const start = decodePageToken(nextToken, ['pk', 'sk'], (key) => key.pk === pk);
    const sorted = [...(this.decisions.get(deviceId) ?? [])].sort((a, b) =>
      decisionKey.decisionSk(b.evaluatedAt, b.checkinId).localeCompare(decisionKey.decisionSk(a.evaluatedAt, a.checkinId)),
    );
    return pageAfter(sorted, (d) => ({ pk, sk: decisionKey.decisionSk(d.evaluatedAt, d.checkinId) }), limit, start);
  }

  async listDevices(status: DeviceStatus, limit: number, nextToken?: string): Promise<Page<DeviceStatusRecord>> {
    const start = decodePageToken(nextToken, ['deviceId', 'status', 'lastCheckinAt'], (key) => key.status === status);
    const sorted = [...this.statuses.values()]
      .filter((s) => s.status === status)
      .sort((a, b) => b.lastCheckinAt.localeCompare(a.lastCheckinAt) || b.deviceId.localeCompare(a.deviceId));
    return pageAfter(sorted, (s) => ({ deviceId: s.deviceId, status: s.status, lastCheckinAt: s.lastCheckinAt }), limit, start);
  }
}
