// A bounded cache for the check-in path (presented chains, parsed certificates, chain checks): a warm container
// keeps what its recent devices presented, and never more than the bound.
//
// Eviction is "second chance" (CLOCK), an approximation of least recently used: a hit only marks its entry used;
// when the bound is passed, the entries before the one just added are visited oldest first, a used one is unmarked
// and moved behind the newest, and the first unused one goes. An entry used since it was last passed over is never
// evicted while an unused one is older, and the entry just added never is. An exact LRU moves every hit to the end
// of the Map (a delete and a set), which measured ≈ 1 µs a hit on the warm check-in, three hits a check-in; a mark
// costs a property write.

interface Entry<V> {
  value: V;
  used: boolean;
}

export class BoundedCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  constructor(private readonly maxEntries: number) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    entry.used = true;
    return entry.value;
  }

  set(key: string, value: V): void {
    if (this.maxEntries === 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, used: false });
    if (this.entries.size > this.maxEntries) this.evictOneBut(key);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Evicts one entry other than `newest` (just added: it has had no chance to be used yet). */
  private evictOneBut(newest: string): void {
    // Entries moved to the end during the loop are visited again, unmarked, so it always ends with an eviction.
    for (const [key, entry] of this.entries) {
      if (key === newest) continue;
      this.entries.delete(key);
      if (!entry.used) return;
      entry.used = false;
      this.entries.set(key, entry);
    }
  }
}
