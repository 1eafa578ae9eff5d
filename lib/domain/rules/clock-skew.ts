// Rule: the device clock may differ from the server's by at most maxClockSkewSeconds.
import type { Finding } from '../errors.ts';
import type { Observations } from '../observations.ts';

/** Exactly the limit passes: only more than maxClockSkewSeconds (compared in milliseconds, unrounded) is a violation. */
export function checkClockSkew(observed: Pick<Observations, 'skewMilliseconds' | 'skewSeconds'>, maxClockSkewSeconds: number): Finding[] {
  if (Math.abs(observed.skewMilliseconds) <= maxClockSkewSeconds * 1000) return [];
  const skew = observed.skewSeconds;
  const direction = skew > 0 ? 'ahead of' : 'behind';
  return [
    {
      code: 'CLOCK_SKEW_EXCEEDED',
      message: `The device clock is ${Math.abs(skew).toFixed(1)} s ${direction} the server's, more than the ${maxClockSkewSeconds} s allowed; set the device to network time.`,
      skewSeconds: skew,
      maxClockSkewSeconds,
    },
  ];
}
