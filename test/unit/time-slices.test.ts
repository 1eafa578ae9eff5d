// The impact preview's device reads: each status partition of the index is cut into time slices read side by side
// (mergePages). The slices must cover every millisecond once, so that no device is read twice or missed, with the
// last one open-ended; the merged reader must give every page once and fail, or stop, cleanly.
import { describe, expect, it } from 'vitest';
import { mergePages, timeSlices } from '../../lib/adapters/dynamodb/device-status-store.ts';

const MINUTE = 60_000;

describe('timeSlices', () => {
  it('cuts 30 days at a day, an hour, 10 and 5 minutes before now, touching without overlapping, the last open-ended', () => {
    expect(timeSlices('2026-11-01T12:00:00.000Z', '2026-12-01T12:00:00.000Z')).toEqual([
      { from: '2026-11-01T12:00:00.000Z', to: '2026-11-30T11:59:59.999Z' },
      { from: '2026-11-30T12:00:00.000Z', to: '2026-12-01T10:59:59.999Z' },
      { from: '2026-12-01T11:00:00.000Z', to: '2026-12-01T11:49:59.999Z' },
      { from: '2026-12-01T11:50:00.000Z', to: '2026-12-01T11:54:59.999Z' },
      { from: '2026-12-01T11:55:00.000Z' },
    ]);
  });

  it('drops the cuts that fall before since', () => {
    expect(timeSlices('2026-12-01T11:52:00.000Z', '2026-12-01T12:00:00.000Z')).toEqual([
      { from: '2026-12-01T11:52:00.000Z', to: '2026-12-01T11:54:59.999Z' },
      { from: '2026-12-01T11:55:00.000Z' },
    ]);
  });

  it.each([
    // [since, until, cuts before until (ms)]
    ['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z', [86_400_000, 3_600_000, 10 * MINUTE, 5 * MINUTE]],
    ['2026-11-30T23:59:59.990Z', '2026-12-01T00:00:00.000Z', [3, 5, 7, 20]],
    ['2026-11-30T00:00:00.000Z', '2026-12-01T00:00:00.000Z', [1, 2, 3, 86_400_000]],
  ])('from %s to %s, every millisecond falls in exactly one slice', (since, until, cuts) => {
    const slices = timeSlices(since, until, cuts);
    const inSlices = (ms: number) => slices.filter((s) => Date.parse(s.from) <= ms && (s.to === undefined || ms <= Date.parse(s.to))).length;
    const start = Date.parse(since);
    const end = Date.parse(until);
    const probes = [start, start + 1, end - 1, end, end + 1, end + 86_400_000, ...cuts.flatMap((c) => [end - c - 1, end - c, end - c + 1])].filter((ms) => ms >= start);
    for (const ms of probes) expect(inSlices(ms), new Date(ms).toISOString()).toBe(1);
    expect(inSlices(start - 1)).toBe(0);
  });
});

async function* lane(name: string, pages: number, options: { delayMs?: number; failAfter?: number; onReturn?: () => void } = {}) {
  try {
    for (let i = 0; i < pages; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 1));
      if (options.failAfter === i) throw new Error(`${name} failed`);
      yield `${name}${i}`;
    }
  } finally {
    options.onReturn?.();
  }
}

describe('mergePages', () => {
  it('gives every page of every lane once', async () => {
    const seen: string[] = [];
    for await (const page of mergePages([lane('a', 3, { delayMs: 3 }), lane('b', 5), lane('c', 0)])) seen.push(page);
    expect(seen.sort()).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2', 'b3', 'b4']);
  });

  it('rethrows a lane failure to a slow consumer, with no unhandled rejection, and stops the other lanes', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    let otherStopped = false;
    try {
      const consume = async () => {
        for await (const _page of mergePages([lane('slow', 50, { delayMs: 5, onReturn: () => (otherStopped = true) }), lane('bad', 3, { failAfter: 1 })])) {
          await new Promise((resolve) => setTimeout(resolve, 20)); // the consumer is busy while the lane fails
        }
      };
      await expect(consume()).rejects.toThrow('bad failed');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
      expect(otherStopped).toBe(true);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('stops the lanes when the consumer stops early', async () => {
    const stopped: string[] = [];
    for await (const _page of mergePages([lane('a', 10, { onReturn: () => stopped.push('a') }), lane('b', 10, { onReturn: () => stopped.push('b') })])) break;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stopped.sort()).toEqual(['a', 'b']);
  });
});
