// The behaviour every DeviceStatusStore adapter must have, fed by its DecisionWriter (the status is written with the
// decision): latest status per device, out-of-order check-ins, listing by status page by page; run against each.
import { describe, expect, it } from 'vitest';
import type { DecisionRecord, DecisionWriter } from '../../lib/ports/decision-store.ts';
import type { DeviceStatusStore } from '../../lib/ports/device-status-store.ts';
import { InvalidPageTokenError } from '../../lib/ports/errors.ts';
import { makeDecision } from '../support/decisions.ts';

let sequence = 0;
function decision(overrides: Partial<DecisionRecord> = {}): DecisionRecord {
  sequence += 1;
  return makeDecision({ checkinId: `status-${sequence}`, deviceId: `DEV-${sequence}`, ...overrides });
}

const answer = { statusCode: 200, body: '' };

export function deviceStatusStoreContract(name: string, makeStores: () => Promise<{ writer: DecisionWriter; statuses: DeviceStatusStore }>): void {
  describe(`${name} (DeviceStatusStore contract)`, () => {
    it('does not let a check-in that finishes late turn the status back to an older decision', async () => {
      const { writer, statuses } = await makeStores();
      const deviceId = `LATE-${sequence}`;
      await writer.record(decision({ deviceId, decision: 'BLOCK', evaluatedAt: '2027-02-01T00:05:00.000Z' }), { statusCode: 403, body: '' });
      await writer.record(decision({ deviceId, decision: 'ACCEPT', evaluatedAt: '2027-02-01T00:04:00.000Z' }), answer);
      const blocked = (await statuses.listDevices('BLOCKED', 500)).items.filter((d) => d.deviceId === deviceId);
      expect(blocked.map((d) => d.lastCheckinAt)).toEqual(['2027-02-01T00:05:00.000Z']);
      expect((await statuses.listDevices('ACCEPTED', 500)).items.filter((d) => d.deviceId === deviceId)).toEqual([]);
    });

    it('keeps the latest status per device and lists it by status, with the decision that set it', async () => {
      const { writer, statuses } = await makeStores();
      const deviceId = `STATUS-${sequence}`;
      const blocking = decision({ deviceId, decision: 'BLOCK', evaluatedAt: '2027-01-01T00:00:00.000Z', violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'm' }] });
      await writer.record(blocking, { statusCode: 403, body: '' });
      expect((await statuses.listDevices('BLOCKED', 500)).items.find((d) => d.deviceId === deviceId)).toEqual({
        deviceId,
        status: 'BLOCKED',
        decision: 'BLOCK',
        violations: blocking.violations,
        lastCheckinAt: blocking.evaluatedAt,
        checkinId: blocking.checkinId,
        settingsVersion: blocking.settingsVersion,
        facts: blocking.facts,
      });
      await writer.record(decision({ deviceId, evaluatedAt: '2027-01-01T00:01:00.000Z' }), answer);
      expect((await statuses.listDevices('BLOCKED', 500)).items.map((d) => d.deviceId)).not.toContain(deviceId);
      const accepted = await statuses.listDevices('ACCEPTED', 500);
      expect(accepted.items.find((d) => d.deviceId === deviceId)).toMatchObject({ status: 'ACCEPTED', lastCheckinAt: '2027-01-01T00:01:00.000Z' });
    });

    it('gives every device seen since a time once, with its latest observations, whatever its status', async () => {
      const { writer, statuses } = await makeStores();
      const run = `OBS-${sequence}`;
      const skewed = (skewSeconds: number) => ({ ...makeDecision().facts, skewSeconds, skewMilliseconds: skewSeconds * 1000 });
      await writer.record(decision({ deviceId: `${run}-old`, evaluatedAt: '2027-04-01T00:00:00.000Z', facts: skewed(1) }), answer);
      await writer.record(decision({ deviceId: `${run}-a`, evaluatedAt: '2027-04-02T00:00:00.000Z', facts: skewed(2) }), answer);
      await writer.record(decision({ deviceId: `${run}-a`, evaluatedAt: '2027-04-03T00:00:00.000Z', facts: skewed(3) }), answer);
      await writer.record(decision({ deviceId: `${run}-b`, decision: 'BLOCK', evaluatedAt: '2027-04-02T12:00:00.000Z', facts: skewed(400) }), { statusCode: 403, body: '' });
      const seen = [];
      for await (const page of statuses.observedSince('2027-04-02T00:00:00.000Z', '2027-04-02T06:00:00.000Z')) seen.push(...page.devices.filter((d) => d.deviceId.startsWith(run)));
      expect(seen.sort((x, y) => x.deviceId.localeCompare(y.deviceId))).toEqual([
        { deviceId: `${run}-a`, lastCheckinAt: '2027-04-03T00:00:00.000Z', facts: skewed(3) },
        { deviceId: `${run}-b`, lastCheckinAt: '2027-04-02T12:00:00.000Z', facts: skewed(400) },
      ]);
    });

    it('a replayed check-in changes no status', async () => {
      const { writer, statuses } = await makeStores();
      const first = decision({ decision: 'BLOCK', evaluatedAt: '2027-03-01T00:00:00.000Z' });
      await writer.record(first, { statusCode: 403, body: '' });
      await writer.record({ ...first, decision: 'ACCEPT', evaluatedAt: '2027-03-01T00:09:00.000Z' }, answer);
      expect((await statuses.listDevices('BLOCKED', 500)).items.find((d) => d.deviceId === first.deviceId)?.lastCheckinAt).toBe(first.evaluatedAt);
    });

    it('pages devices most recent check-in first, each once, and refuses a token of another status', async () => {
      const { writer, statuses } = await makeStores();
      const minutes = [3, 1, 4, 0, 2];
      for (const minute of minutes) {
        await writer.record(decision({ deviceId: `PAGE-${minute}`, decision: 'BLOCK', evaluatedAt: `2028-01-01T00:0${minute}:00.000Z` }), answer);
      }
      const seen: string[] = [];
      let token: string | undefined;
      let first: string | undefined;
      do {
        const page = await statuses.listDevices('BLOCKED', 2, token);
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((d) => d.deviceId).filter((id) => id.startsWith('PAGE-')));
        token = page.nextToken;
        first ??= token;
      } while (token);
      expect(seen).toEqual(['PAGE-4', 'PAGE-3', 'PAGE-2', 'PAGE-1', 'PAGE-0']);
      await expect(statuses.listDevices('ACCEPTED', 2, first)).rejects.toBeInstanceOf(InvalidPageTokenError);
      await expect(statuses.listDevices('BLOCKED', 2, 'not a token!')).rejects.toBeInstanceOf(InvalidPageTokenError);
    });
  });
}
