// The behaviour every Clock must have: a valid instant, never earlier than the one before, a new Date every call.
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../lib/ports/clock.ts';

export function clockContract(name: string, makeClock: () => Clock): void {
  describe(`${name} (Clock contract)`, () => {
    it('gives a valid instant that never goes back between calls', () => {
      const clock = makeClock();
      const readings = Array.from({ length: 5 }, () => clock.now().getTime());
      expect(readings.every((ms) => Number.isFinite(ms))).toBe(true);
      expect([...readings].sort((a, b) => a - b)).toEqual(readings);
    });

    it('gives a new Date every call, so a caller changing one changes nothing', () => {
      const clock = makeClock();
      const first = clock.now();
      const before = first.getTime();
      first.setTime(0);
      expect(clock.now().getTime()).toBeGreaterThanOrEqual(before);
      expect(clock.now()).not.toBe(clock.now());
    });
  });
}
