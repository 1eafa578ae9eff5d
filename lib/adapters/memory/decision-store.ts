// In-memory DecisionWriter, DecisionReader and DeviceStatusStore: same behaviour as the DynamoDB adapters (the
// shared contract suites in test/contract prove it), for fast unit tests of the services.
import type { DecisionReader, DecisionRecord, DecisionWriter, RecordedResponse, RecordOutcome, ReplayBinding } from '../../ports/decision-store.ts';
import type { DeviceStatus, DeviceStatusRecord, DeviceStatusStore, ObservedDevicesPage } from '../../ports/device-status-store.ts';
import type { Page } from '../../ports/page.ts';
import { deviceStatusOf } from '../device-status.ts';
import { decodePageToken } from '../page-token.ts';
import { pageAfter } from './paging.ts';

/** A decision's position in its device's list: time, then checkinId (as the DynamoDB sort key). */
const position = (d: DecisionRecord) => `${d.evaluatedAt}#${d.checkinId}`;

export class InMemoryDecisionStore implements DecisionWriter, DecisionReader, DeviceStatusStore {
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
    this.statuses.set(decision.deviceId, deviceStatusOf(decision));
    return { outcome: 'RECORDED' };
  }

  async listDecisions(deviceId: string, limit: number, nextToken?: string): Promise<Page<DecisionRecord>> {
    const start = decodePageToken(nextToken, ['deviceId', 'position'], (key) => key.deviceId === deviceId);
    const sorted = [...(this.decisions.get(deviceId) ?? [])].sort((a, b) => position(b).localeCompare(position(a)));
    return pageAfter(sorted, (d) => ({ deviceId, position: position(d) }), limit, start);
  }

  async listDevices(status: DeviceStatus, limit: number, nextToken?: string): Promise<Page<DeviceStatusRecord>> {
    const start = decodePageToken(nextToken, ['deviceId', 'status', 'lastCheckinAt'], (key) => key.status === status);
    const sorted = [...this.statuses.values()]
      .filter((s) => s.status === status)
      .sort((a, b) => b.lastCheckinAt.localeCompare(a.lastCheckinAt) || b.deviceId.localeCompare(a.deviceId));
    return pageAfter(sorted, (s) => ({ deviceId: s.deviceId, status: s.status, lastCheckinAt: s.lastCheckinAt }), limit, start);
  }

  async *observedSince(since: string, _until: string): AsyncIterable<ObservedDevicesPage> {
    const devices = [...this.statuses.values()]
      .filter((s) => s.lastCheckinAt >= since)
      .map(({ deviceId, lastCheckinAt, facts }) => ({ deviceId, lastCheckinAt, ...(facts ? { facts: structuredClone(facts) } : {}) }));
    yield { devices };
  }
}
