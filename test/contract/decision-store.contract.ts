// The behaviour every DecisionWriter + DecisionReader adapter must have (idempotency, replay bindings, pagination);
// run against each adapter. What the writer leaves in the device status is device-status-store.contract.ts's.
import { describe, expect, it } from 'vitest';
import type { DecisionReader, DecisionRecord, DecisionWriter } from '../../lib/ports/decision-store.ts';
import { InvalidPageTokenError } from '../../lib/ports/errors.ts';
import { makeDecision } from '../support/decisions.ts';

type Store = DecisionWriter & DecisionReader;

let sequence = 0;
function decision(overrides: Partial<DecisionRecord> = {}): DecisionRecord {
  sequence += 1;
  return makeDecision({ checkinId: `contract-${sequence}`, deviceId: `DEV-${sequence}`, ...overrides });
}

export function decisionStoreContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`${name} (DecisionStore contract)`, () => {
    it('records once, replays the first answer for the same device, conflicts for another', async () => {
      const store = await makeStore();
      const first = decision();
      expect(await store.record(first, { statusCode: 403, body: 'first' })).toEqual({ outcome: 'RECORDED' });
      expect(await store.record({ ...first, evaluatedAt: '2026-11-25T18:01:00.000Z' }, { statusCode: 200, body: 'again' })).toEqual({
        outcome: 'REPLAY',
        response: { statusCode: 403, body: 'first' },
      });
      expect(await store.record({ ...first, deviceId: 'SOMEONE-ELSE' }, { statusCode: 200, body: 'x' })).toEqual({ outcome: 'CONFLICT' });
      expect((await store.listDecisions(first.deviceId, 10)).items).toEqual([first]);
      expect((await store.listDecisions('SOMEONE-ELSE', 10)).items).toEqual([]);
    });

    it('lists a device’s decisions newest first, page by page', async () => {
      const store = await makeStore();
      const deviceId = `PAGES-${sequence}`;
      for (let minute = 0; minute < 5; minute += 1) {
        await store.record(decision({ deviceId, evaluatedAt: `2026-11-25T18:0${minute}:00.000Z` }), { statusCode: 200, body: '' });
      }
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await store.listDecisions(deviceId, 2, token);
        seen.push(...page.items.map((d) => d.evaluatedAt.slice(14, 16)));
        token = page.nextToken;
      } while (token);
      expect(seen).toEqual(['04', '03', '02', '01', '00']);
      await expect(store.listDecisions(deviceId, 2, 'e30')).rejects.toBeInstanceOf(InvalidPageTokenError);
      // A token of another device's listing is refused too.
      const other = await store.listDecisions(deviceId, 1);
      await expect(store.listDecisions(`${deviceId}-OTHER`, 2, other.nextToken)).rejects.toBeInstanceOf(InvalidPageTokenError);
    });

    it('with a replay binding, answers a retry only from the same certificate, and conflicts for another', async () => {
      const store = await makeStore();
      const first = decision();
      const bound = { fingerprint: 'a'.repeat(64) };
      expect(await store.record(first, { statusCode: 200, body: 'first' }, bound)).toEqual({ outcome: 'RECORDED' });
      expect(await store.record(first, { statusCode: 200, body: 'again' }, bound)).toEqual({ outcome: 'REPLAY', response: { statusCode: 200, body: 'first' } });
      expect(await store.record(first, { statusCode: 200, body: 'x' }, { fingerprint: 'b'.repeat(64) })).toEqual({ outcome: 'CONFLICT' });
      // A recorded answer that was not bound (the setting was off) is not handed to a bound request either.
      const unbound = decision();
      await store.record(unbound, { statusCode: 200, body: 'unbound' });
      expect(await store.record(unbound, { statusCode: 200, body: 'x' }, bound)).toEqual({ outcome: 'CONFLICT' });
      expect(await store.record(unbound, { statusCode: 200, body: 'x' })).toEqual({ outcome: 'REPLAY', response: { statusCode: 200, body: 'unbound' } });
      expect((await store.listDecisions(first.deviceId, 10)).items).toEqual([first]);
    });
  });
}
