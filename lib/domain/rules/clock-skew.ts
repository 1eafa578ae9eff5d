// Rule: the device clock may differ from the server's by at most maxClockSkewSeconds.
import type { Finding } from '../errors.ts';

/** Device minus server, in seconds, rounded to one decimal. */
export function skewSeconds(clientTimeMs: number, now: Date): number {
  return Math.round((clientTimeMs - now.getTime()) / 100) / 10;
}

export function checkClockSkew(clientTimeMs: number, now: Date, maxClockSkewSeconds: number): Finding[] {
  const skewMs = clientTimeMs - now.getTime();
  if (Math.abs(skewMs) <= maxClockSkewSeconds * 1000) return [];
  const skew = skewSeconds(clientTimeMs, now);
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
