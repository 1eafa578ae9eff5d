// In-memory UnauthenticatedAttemptStore: the DynamoDB adapter's behaviour (the shared contract suite proves it).
import type { UnauthenticatedAttempt, UnauthenticatedAttemptStore } from '../../ports/attempt-store.ts';
import type { Page } from '../../ports/page.ts';
import { decodePageToken, encodePageToken } from '../page-token.ts';

export class InMemoryUnauthenticatedAttemptStore implements UnauthenticatedAttemptStore {
  private readonly attempts: { attempt: UnauthenticatedAttempt; position: string }[] = [];
  private sequence = 0;

  /** Nothing to mark: in memory there is no stream for the alerts function to read. */
  async record(attempt: UnauthenticatedAttempt, _judgedUnder?: { settingsVersion: number }): Promise<void> {
    this.sequence += 1;
    const position = `${attempt.at}#${String(this.sequence).padStart(12, '0')}`;
    this.attempts.push({ attempt: structuredClone(attempt), position });
  }

  async list(window: { since: Date; now: Date }, limit: number, nextToken?: string): Promise<Page<UnauthenticatedAttempt>> {
    const start = decodePageToken(nextToken, ['position']);
    const since = window.since.toISOString();
    const newestFirst = this.attempts
      .filter(({ attempt }) => attempt.at >= since)
      .sort((a, b) => b.position.localeCompare(a.position))
      .filter(({ position }) => start === undefined || position < start.position);
    const page = newestFirst.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(({ attempt }) => structuredClone(attempt)),
      nextToken: newestFirst.length > limit && last ? encodePageToken({ position: last.position }) : undefined,
    };
  }
}
