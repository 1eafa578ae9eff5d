// A per-container value reloaded once it is maxAgeMs old; concurrent callers share one load; failures are not kept.
import type { Clock } from '../ports/clock.ts';

/** A newly enabled requirement must take effect quickly: settings and trust material are never served older. */
export const MAX_POLICY_AGE_MS = 5000;

export class MaxAgeCache<T> {
  private current?: { value: T; loadedAt: number };
  private inflight?: Promise<T>;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly clock: Clock,
    private readonly maxAgeMs = MAX_POLICY_AGE_MS,
  ) {}

  async get(): Promise<T> {
    const now = this.clock.now().getTime();
    if (this.current && now - this.current.loadedAt < this.maxAgeMs) return this.current.value;
    // The age counts from when the load started, so a slow read never stretches the bound.
    this.inflight ??= this.load()
      .then((value) => {
        this.current = { value, loadedAt: now };
        return value;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
}
