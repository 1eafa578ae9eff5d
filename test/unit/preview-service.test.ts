// The impact preview use case over the in-memory stores and a manual clock: which devices it judges (those seen
// within sinceDays, each once with its latest observations) and what it leaves alone.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/adapters/memory/clock.ts';
import { InMemoryConfigStore } from '../../lib/adapters/memory/config-store.ts';
import { InMemoryDecisionStore } from '../../lib/adapters/memory/decision-store.ts';
import type { ObservedDevicesPage } from '../../lib/ports/device-status-store.ts';
import { AdminPreviewService } from '../../lib/services/admin/preview-service.ts';
import { makeDecision } from '../support/decisions.ts';

const NOW = '2026-12-01T12:00:00.000Z';
const DAY = 86_400_000;
const ago = (ms: number) => new Date(Date.parse(NOW) - ms).toISOString();
const skewed = (skewSeconds: number) => ({ ...makeDecision().facts, skewSeconds, skewMilliseconds: skewSeconds * 1000 });

describe('AdminPreviewService', () => {
  it('judges the devices seen within sinceDays and leaves the older ones out', async () => {
    const decisions = new InMemoryDecisionStore();
    const record = (deviceId: string, evaluatedAt: string) =>
      decisions.record(makeDecision({ checkinId: `c-${deviceId}`, deviceId, evaluatedAt, facts: skewed(200) }), { statusCode: 200, body: '' });
    await record('RECENT', ago(DAY - 1000));
    await record('EDGE', ago(7 * DAY));
    await record('OLD', ago(7 * DAY + 1));
    const service = new AdminPreviewService(new InMemoryConfigStore(), decisions, new ManualClock(NOW));

    const week = await service.preview({ patch: { maxClockSkewSeconds: 100 }, sinceDays: 7 });
    expect(week.preview.since).toBe(ago(7 * DAY));
    expect(week.preview.devices).toBe(2);
    expect(week.preview.newlyBlocked.devices.map((d) => d.deviceId)).toEqual(['EDGE', 'RECENT']);
    const day = await service.preview({ patch: { maxClockSkewSeconds: 100 }, sinceDays: 1 });
    expect(day.preview.newlyBlocked.devices.map((d) => d.deviceId)).toEqual(['RECENT']);
  });

  it('counts a device read twice (it checked in during the read) once, with its latest observations', async () => {
    const pages: ObservedDevicesPage[] = [
      { devices: [{ deviceId: 'MOVER', lastCheckinAt: ago(60_000), facts: skewed(200) }], readUnits: 1.5 },
      { devices: [{ deviceId: 'STILL', lastCheckinAt: ago(30_000), facts: skewed(250) }] },
      // The same device again, at its new position: now in step.
      { devices: [{ deviceId: 'MOVER', lastCheckinAt: ago(1_000), facts: skewed(0) }], readUnits: 2 },
      // And an older copy after the newer one (another slice), which must not win.
      { devices: [{ deviceId: 'STILL', lastCheckinAt: ago(90_000), facts: skewed(0) }] },
    ];
    const store = { async *observedSince() { yield* pages; } };
    const service = new AdminPreviewService(new InMemoryConfigStore(), store, new ManualClock(NOW));
    const { preview, readUnits } = await service.preview({ patch: { maxClockSkewSeconds: 100 }, sinceDays: 30 });
    expect(readUnits).toBe(3.5);
    expect(preview).toMatchObject({ devices: 2, current: { blocked: 0 }, proposed: { blocked: 1 } });
    expect(preview.newlyBlocked.devices).toEqual([{ deviceId: 'STILL', violations: ['CLOCK_SKEW_EXCEEDED'], lastCheckinAt: ago(30_000) }]);
  });
});
