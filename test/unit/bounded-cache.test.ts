// Unit tests: the bounded cache of the check-in path (lib/domain/bounded-cache.ts): never more entries than its bound,
// and when one must go, one not used since it was last passed over, oldest first, never the one just added.
import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../lib/domain/bounded-cache.ts';

type Step = ['set', string] | ['get', string] | ['delete', string];

/** Runs the steps on a cache of `bound` entries (each key set to its own name) and lists the keys still held. */
function keysHeldAfter(bound: number, steps: Step[], candidates: string[]): string[] {
  const cache = new BoundedCache<string>(bound);
  for (const [operation, key] of steps) {
    if (operation === 'set') cache.set(key, key);
    else if (operation === 'get') cache.get(key);
    else cache.delete(key);
  }
  const held = candidates.filter((key) => cache.get(key) === key);
  expect(cache.size).toBe(held.length);
  return held;
}

describe('BoundedCache', () => {
  it.each<[name: string, bound: number, steps: Step[], held: string[]]>([
    ['below the bound, everything is kept', 3, [['set', 'a'], ['set', 'b']], ['a', 'b']],
    ['at the bound, none unused: the oldest goes', 2, [['set', 'a'], ['set', 'b'], ['set', 'c']], ['b', 'c']],
    ['an entry used since it was added outlives an older unused one', 3, [['set', 'a'], ['set', 'b'], ['set', 'c'], ['get', 'a'], ['set', 'd']], ['a', 'c', 'd']],
    ['every entry used: each is passed over once, then the oldest goes', 2, [['set', 'a'], ['set', 'b'], ['get', 'a'], ['get', 'b'], ['set', 'c']], ['b', 'c']],
    ['the entry just added is never the one evicted', 1, [['set', 'a'], ['get', 'a'], ['set', 'b']], ['b']],
    ['a used entry, once passed over, goes before one used since', 2, [['set', 'a'], ['set', 'b'], ['get', 'a'], ['set', 'c'], ['get', 'c'], ['set', 'd']], ['c', 'd']],
    ['setting a held key again replaces it, not adds to it', 2, [['set', 'a'], ['set', 'b'], ['set', 'a'], ['set', 'a']], ['a', 'b']],
    ['a deleted entry leaves room', 2, [['set', 'a'], ['set', 'b'], ['delete', 'a'], ['set', 'c']], ['b', 'c']],
    ['a bound of 0 keeps nothing', 0, [['set', 'a'], ['get', 'a']], []],
  ])('%s', (_name, bound, steps, held) => {
    expect(keysHeldAfter(bound, steps, ['a', 'b', 'c', 'd'])).toEqual(held);
  });

  it('holds no more than its bound over many keys, and the latest value of each', () => {
    const cache = new BoundedCache<number>(100);
    for (let i = 0; i < 1000; i += 1) {
      cache.set(`key ${i % 250}`, i);
      if (i % 3 === 0) cache.get(`key ${(i * 7) % 250}`);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.size).toBe(100);
    // The last write of `key 249` was i = 999, the newest entry.
    expect(cache.get('key 249')).toBe(999);
    for (let k = 0; k < 250; k += 1) {
      const value = cache.get(`key ${k}`);
      if (value !== undefined) expect(value % 250).toBe(k);
    }
  });
});
