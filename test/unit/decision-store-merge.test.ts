// mergePages with a bound on the lanes read at once: every page of every lane still comes, and never more than the
// bound are in flight.
import { describe, expect, it } from 'vitest';
import { mergePages } from '../../lib/adapters/dynamodb/device-status-store.ts';

describe('mergePages, at most N lanes at once', () => {
  it.each([1, 3, 10])('with %i at once, yields every page of 10 lanes and never reads more lanes at once', async (maxConcurrent) => {
    let inFlight = 0;
    let most = 0;
    async function* lane(name: string, pages: number) {
      for (let page = 0; page < pages; page += 1) {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight -= 1;
        yield `${name}${page}`;
      }
    }
    const lanes = Array.from({ length: 10 }, (_, i) => lane(String.fromCharCode(97 + i), i % 3));
    const seen: string[] = [];
    for await (const page of mergePages(lanes, maxConcurrent)) seen.push(page);
    expect(seen.sort()).toEqual(['b0', 'c0', 'c1', 'e0', 'f0', 'f1', 'h0', 'i0', 'i1']);
    expect(most).toBeLessThanOrEqual(maxConcurrent);
  });
});
