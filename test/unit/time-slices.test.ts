// The impact preview's device reads cut [since, until] into slices read side by side: they must cover every
// millisecond once, so that no device is read twice or missed, and the last one must stay open-ended.
import { describe, expect, it } from 'vitest';
import { timeSlices } from '../../lib/adapters/dynamodb/device-status-store.ts';

describe('timeSlices', () => {
  it('cuts 30 days into four slices that touch without overlapping, the last open-ended', () => {
    expect(timeSlices('2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z', 4)).toEqual([
      { from: '2026-11-01T00:00:00.000Z', to: '2026-11-08T11:59:59.999Z' },
      { from: '2026-11-08T12:00:00.000Z', to: '2026-11-15T23:59:59.999Z' },
      { from: '2026-11-16T00:00:00.000Z', to: '2026-11-23T11:59:59.999Z' },
      { from: '2026-11-23T12:00:00.000Z' },
    ]);
  });

  it('keeps slices at least a millisecond wide when the range is shorter than the slice count', () => {
    expect(timeSlices('2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.002Z', 4)).toEqual([
      { from: '2026-11-01T00:00:00.000Z', to: '2026-11-01T00:00:00.000Z' },
      { from: '2026-11-01T00:00:00.001Z', to: '2026-11-01T00:00:00.001Z' },
      { from: '2026-11-01T00:00:00.002Z', to: '2026-11-01T00:00:00.002Z' },
      { from: '2026-11-01T00:00:00.003Z' },
    ]);
  });
});
