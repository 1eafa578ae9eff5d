// The behaviour every ExpiryAlertStore adapter must have: a claim is exclusive, a confirmed mark is done for good, a
// released or lapsed claim can be taken again, superseded marks are done too. Run against each adapter.
import { describe, expect, it } from 'vitest';
import type { ExpiryAlertStore } from '../../lib/ports/expiry-alert-store.ts';

const NOW = new Date('2026-11-25T06:00:00.000Z');
const LEASE_MS = 60_000;
const later = (ms: number) => new Date(NOW.getTime() + ms);
let counter = 0;
const certificate = () => `${String((counter += 1)).padStart(4, '0')}${'ab'.repeat(30)}`;
const claimOf = (sha256: string, mark: string, now = NOW) => ({ sha256, mark, alertId: `alert-${mark}`, now, expiresAt: Math.floor(now.getTime() / 1000) + 86_400 });

/** `makeStore(leaseMs)`: a store whose claims lapse after leaseMs. */
export function expiryAlertStoreContract(name: string, makeStore: (leaseMs: number) => Promise<ExpiryAlertStore>): void {
  describe(`${name} (ExpiryAlertStore contract)`, () => {
    it('claims a free mark once: a second claim meanwhile is BUSY; after confirm it is DONE and remembered as SENT', async () => {
      const store = await makeStore(LEASE_MS);
      const sha256 = certificate();
      const first = await store.claim(claimOf(sha256, '30'));
      expect(first).toMatchObject({ outcome: 'CLAIMED', claim: { sha256, mark: '30' } });
      expect(await store.getMark(sha256, '30')).toEqual({ state: 'SENDING', alertId: 'alert-30', leaseUntil: NOW.getTime() + LEASE_MS });
      expect(await store.claim(claimOf(sha256, '30', later(1000)))).toEqual({ outcome: 'BUSY' });
      if (first.outcome !== 'CLAIMED') throw new Error('not claimed');
      await store.confirm(first.claim, { sentAt: later(2000), superseded: [], expiresAt: 0 });
      expect(await store.claim(claimOf(sha256, '30', later(10 * LEASE_MS)))).toEqual({ outcome: 'DONE' });
      expect(await store.getMark(sha256, '30')).toMatchObject({ state: 'SENT', alertId: 'alert-30' });
    });

    it('exactly one of many concurrent claims of one mark wins', async () => {
      const store = await makeStore(LEASE_MS);
      const sha256 = certificate();
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => store.claim(claimOf(sha256, '14'))));
      expect(outcomes.filter((o) => o.outcome === 'CLAIMED')).toHaveLength(1);
      expect(outcomes.filter((o) => o.outcome === 'BUSY')).toHaveLength(7);
    });

    it('a released claim (failed publish) can be claimed again at once', async () => {
      const store = await makeStore(LEASE_MS);
      const sha256 = certificate();
      const first = await store.claim(claimOf(sha256, '7'));
      if (first.outcome !== 'CLAIMED') throw new Error('not claimed');
      await store.release(first.claim);
      expect(await store.getMark(sha256, '7')).toBeUndefined();
      expect(await store.claim(claimOf(sha256, '7', later(1)))).toMatchObject({ outcome: 'CLAIMED' });
    });

    it('a lapsed claim (a scan that died) is taken over; the late scan neither confirms nor releases the new claim', async () => {
      const store = await makeStore(LEASE_MS);
      const sha256 = certificate();
      const dead = await store.claim(claimOf(sha256, '1'));
      const taken = await store.claim(claimOf(sha256, '1', later(LEASE_MS + 1)));
      expect(taken).toMatchObject({ outcome: 'CLAIMED' });
      if (dead.outcome !== 'CLAIMED' || taken.outcome !== 'CLAIMED') throw new Error('not claimed');
      await store.release(dead.claim);
      await store.confirm(dead.claim, { sentAt: later(LEASE_MS + 2), superseded: [], expiresAt: 0 });
      expect(await store.getMark(sha256, '1')).toMatchObject({ state: 'SENDING' });
      await store.confirm(taken.claim, { sentAt: later(LEASE_MS + 3), superseded: [], expiresAt: 0 });
      expect(await store.getMark(sha256, '1')).toMatchObject({ state: 'SENT' });
    });

    it('marks the thresholds a confirmed alert made moot as SUPERSEDED (done), leaving settled marks as they are', async () => {
      const store = await makeStore(LEASE_MS);
      const sha256 = certificate();
      const sent60 = await store.claim(claimOf(sha256, '60'));
      if (sent60.outcome !== 'CLAIMED') throw new Error('not claimed');
      await store.confirm(sent60.claim, { sentAt: NOW, superseded: [], expiresAt: 0 });
      const claimed = await store.claim(claimOf(sha256, '7'));
      if (claimed.outcome !== 'CLAIMED') throw new Error('not claimed');
      await store.confirm(claimed.claim, { sentAt: NOW, superseded: ['60', '30', '14'], expiresAt: 0 });
      expect((await store.getMark(sha256, '60'))?.state).toBe('SENT');
      for (const mark of ['30', '14']) {
        expect((await store.getMark(sha256, mark))?.state).toBe('SUPERSEDED');
        expect(await store.claim(claimOf(sha256, mark, later(1)))).toEqual({ outcome: 'DONE' });
      }
    });
  });
}
