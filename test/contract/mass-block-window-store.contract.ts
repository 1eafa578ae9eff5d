// The behaviour every MassBlockWindowStore adapter must have: distinct devices counted once each in arrival order,
// a redelivered device gets its rank back, at most `limit` devices kept, windows and reasons apart, atomic under
// concurrency. Run against each adapter.
import { describe, expect, it } from 'vitest';
import type { MassBlockWindowStore, WindowEntry } from '../../lib/ports/mass-block-window-store.ts';

let windows = 0;
/** A window of its own per test (the DynamoDB adapter's tables are shared within a file). */
const freshWindow = () => new Date(Date.UTC(2026, 11, 1, 0, (windows += 10))).toISOString();
const entry = (windowStart: string, deviceId: string, violationCodes: string[] = ['CLOCK_SKEW_EXCEEDED'], reason: WindowEntry['reason'] = 'BLOCKED'): WindowEntry => ({
  reason,
  windowStart,
  deviceId,
  violationCodes,
  expiresAt: Math.floor(Date.parse(windowStart) / 1000) + 86_400 + 600,
});

export function massBlockWindowStoreContract(name: string, makeStore: () => Promise<MassBlockWindowStore>): void {
  describe(`${name} (MassBlockWindowStore contract)`, () => {
    it('ranks distinct devices in the order they are counted, with the window as it stands', async () => {
      const store = await makeStore();
      const start = freshWindow();
      expect(await store.count(entry(start, 'A', ['CLOCK_SKEW_EXCEEDED']), 3)).toEqual({
        counted: true,
        rank: 1,
        window: { reason: 'BLOCKED', windowStart: start, devices: ['A'], byViolation: { CLOCK_SKEW_EXCEEDED: 1 } },
      });
      expect(await store.count(entry(start, 'B', ['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED']), 3)).toEqual({
        counted: true,
        rank: 2,
        window: { reason: 'BLOCKED', windowStart: start, devices: ['A', 'B'], byViolation: { CLOCK_SKEW_EXCEEDED: 2, SERVER_CERT_NOT_VERIFIED: 1 } },
      });
    });

    it('a device counted again (a redelivered record, or new codes) keeps its rank and changes no count', async () => {
      const store = await makeStore();
      const start = freshWindow();
      await store.count(entry(start, 'A'), 3);
      await store.count(entry(start, 'B'), 3);
      expect(await store.count(entry(start, 'A', ['SERVER_CERT_NOT_VERIFIED']), 3)).toEqual({
        counted: true,
        rank: 1,
        window: { reason: 'BLOCKED', windowStart: start, devices: ['A', 'B'], byViolation: { CLOCK_SKEW_EXCEEDED: 2 } },
      });
    });

    it('keeps at most `limit` devices: a later one is not counted, the ones kept still find their rank', async () => {
      const store = await makeStore();
      const start = freshWindow();
      for (const device of ['A', 'B', 'C']) await store.count(entry(start, device), 3);
      expect(await store.count(entry(start, 'D'), 3)).toEqual({ counted: false });
      expect(await store.count(entry(start, 'E'), 3)).toEqual({ counted: false });
      expect(await store.count(entry(start, 'C'), 3)).toEqual({
        counted: true,
        rank: 3,
        window: { reason: 'BLOCKED', windowStart: start, devices: ['A', 'B', 'C'], byViolation: { CLOCK_SKEW_EXCEEDED: 3 } },
      });
    });

    it('windows and reasons are counted apart', async () => {
      const store = await makeStore();
      const first = freshWindow();
      const second = freshWindow();
      await store.count(entry(first, 'A'), 3);
      expect(await store.count(entry(second, 'A'), 3)).toMatchObject({ counted: true, rank: 1 });
      expect(await store.count(entry(first, 'A', ['CLIENT_CERT_UNTRUSTED'], 'UNAUTHENTICATED'), 3)).toEqual({
        counted: true,
        rank: 1,
        window: { reason: 'UNAUTHENTICATED', windowStart: first, devices: ['A'], byViolation: { CLIENT_CERT_UNTRUSTED: 1 } },
      });
    });

    it('under concurrency every device gets a distinct rank, and exactly `limit` are counted', async () => {
      const store = await makeStore();
      const start = freshWindow();
      const devices = Array.from({ length: 30 }, (_, i) => `DEV-${String(i).padStart(2, '0')}`);
      // Each device twice, all at once: a redelivery racing its first delivery.
      const results = await Promise.all([...devices, ...devices].map((device) => store.count(entry(start, device), 20)));
      const ranks = new Map<string, number>();
      results.forEach((result, i) => {
        if (!result.counted) return;
        const device = [...devices, ...devices][i];
        if (ranks.has(device)) expect(ranks.get(device)).toBe(result.rank);
        ranks.set(device, result.rank);
      });
      expect([...ranks.values()].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const last = await store.count(entry(start, [...ranks.entries()].find(([, rank]) => rank === 20)![0]), 20);
      expect(last.counted && last.window.devices.length).toBe(20);
      expect(last.counted && last.window.byViolation).toEqual({ CLOCK_SKEW_EXCEEDED: 20 });
    });
  });
}
