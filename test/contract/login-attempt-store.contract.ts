// The behaviour every LoginAttemptStore adapter must have: at most 10 attempts count per username, however many
// reserve at once; failures keep counting, successes stop; what no longer counts is dropped. Run against each adapter.
import { describe, expect, it } from 'vitest';
import { LOGIN_FAILURE_WINDOW_MS } from '../../lib/domain/imaging.ts';
import type { LoginAttemptStore } from '../../lib/ports/login-attempt-store.ts';

const now = Date.parse('2026-11-25T18:00:00.000Z');
let ids = 0;
const id = () => `attempt-${(ids += 1)}`;

export function loginAttemptStoreContract(name: string, makeStore: () => Promise<LoginAttemptStore>): void {
  describe(`${name} (LoginAttemptStore contract)`, () => {
    it('30 parallel reservations for one username: exactly 10 are reserved, each a PENDING entry', async () => {
      const store = await makeStore();
      const results = await Promise.all(Array.from({ length: 30 }, () => store.reserve('racer', id(), now)));
      expect(results.filter((r) => r.reserved)).toHaveLength(10);
      // The others were refused, mostly because ten were already reserved when they read.
      for (const r of results.filter((x) => !x.reserved)) expect(['LOCKED', 'CONTENDED']).toContain(r.reserved ? '' : r.reason);
      expect(results.some((r) => !r.reserved && r.reason === 'LOCKED')).toBe(true);
      const entries = await store.getAttempts('racer');
      expect(entries).toHaveLength(10);
      expect(entries.every((e) => e.state === 'PENDING' && e.at === now)).toBe(true);
      expect(await store.getAttempts('nobody-tried')).toEqual([]);
    });

    it('marks failures (they keep counting) and releases successes (they stop counting), without touching others', async () => {
      const store = await makeStore();
      const [a, b, c] = [id(), id(), id()];
      for (const x of [a, b, c]) expect(await store.reserve('marker', x, now)).toMatchObject({ reserved: true });
      await store.markFailed('marker', a, now + 50);
      await store.release('marker', b);
      expect(await store.reserve('marker', id(), now + 60)).toEqual({ reserved: true, counted: 3 }); // a (FAILED), c, the new one
      const entries = await store.getAttempts('marker');
      expect(entries.find((e) => e.id === a)).toEqual({ id: a, at: now + 50, state: 'FAILED' });
      expect(entries.find((e) => e.id === b)).toBeUndefined();
      expect(entries.find((e) => e.id === c)).toEqual({ id: c, at: now, state: 'PENDING' });
      // Releasing or marking an attempt of a username with no record changes nothing and does not fail.
      await store.release('never-reserved', 'x');
      await store.markFailed('never-reserved', 'x', now);
      expect(await store.getAttempts('never-reserved')).toEqual([]);
    });

    it('refuses the 11th with the lock, and drops what no longer counts on the next reservation', async () => {
      const store = await makeStore();
      const old = now - LOGIN_FAILURE_WINDOW_MS - 1;
      for (let i = 0; i < 10; i += 1) {
        const attemptId = id();
        await store.reserve('stale', attemptId, old);
        await store.markFailed('stale', attemptId, old);
      }
      expect(await store.reserve('stale', id(), old + 1)).toMatchObject({ reserved: false, reason: 'LOCKED', decision: { failed: 10, pending: 0 } });
      // A reservation never confirmed, 15 minutes and 1 s ago: its PENDING entry no longer counts either.
      await store.reserve('stale', id(), now - LOGIN_FAILURE_WINDOW_MS - 1000);
      expect(await store.reserve('stale', id(), now)).toEqual({ reserved: true, counted: 1 });
      expect((await store.getAttempts('stale')).map((e) => [e.at, e.state])).toEqual([[now, 'PENDING']]);
    });
  });
}
