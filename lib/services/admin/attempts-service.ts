// Admin reads of unauthenticated check-in attempts (API.md §1): the last 7 days, newest first.
import type { UnauthenticatedAttempt, UnauthenticatedAttemptStore } from '../../ports/attempt-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Page } from '../../ports/page.ts';

/** API.md §1: attempts are kept, and listed, for 7 days. */
export const ATTEMPT_WINDOW_MS = 7 * 86_400_000;

export class AdminAttemptsService {
  constructor(
    private readonly store: UnauthenticatedAttemptStore,
    private readonly clock: Clock,
  ) {}

  list(limit: number, nextToken?: string): Promise<Page<UnauthenticatedAttempt>> {
    const now = this.clock.now();
    return this.store.list({ since: new Date(now.getTime() - ATTEMPT_WINDOW_MS), now }, limit, nextToken);
  }
}
