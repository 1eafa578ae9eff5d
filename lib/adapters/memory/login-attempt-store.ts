// In-memory LoginAttemptStore: the DynamoDB adapter's behaviour (the shared contract suite proves it). Each call runs
// to its end before the next, as DynamoDB's conditional write is atomic.
import { decideLoginAttempt, type LoginAttemptEntry } from '../../domain/imaging.ts';
import type { LoginAttemptStore, LoginReservation } from '../../ports/login-attempt-store.ts';

export class InMemoryLoginAttemptStore implements LoginAttemptStore {
  private readonly records = new Map<string, LoginAttemptEntry[]>();

  async reserve(username: string, attemptId: string, nowMs: number): Promise<LoginReservation> {
    const entries = this.records.get(username) ?? [];
    const decision = decideLoginAttempt(entries, nowMs);
    if (!decision.allowed) return { reserved: false, reason: 'LOCKED', decision };
    const stale = new Set(decision.stale.map((e) => e.id));
    this.records.set(username, [...entries.filter((e) => !stale.has(e.id)), { id: attemptId, at: nowMs, state: 'PENDING' }]);
    return { reserved: true, counted: decision.counted + 1 };
  }

  async markFailed(username: string, attemptId: string, atMs: number): Promise<void> {
    const entries = this.records.get(username);
    // A record that is gone (no reservation, or expired) has nothing to mark, as in DynamoDB.
    if (!entries) return;
    this.records.set(username, [...entries.filter((e) => e.id !== attemptId), { id: attemptId, at: atMs, state: 'FAILED' }]);
  }

  async release(username: string, attemptId: string): Promise<void> {
    const entries = this.records.get(username);
    if (entries) this.records.set(username, entries.filter((e) => e.id !== attemptId));
  }

  async getAttempts(username: string): Promise<LoginAttemptEntry[]> {
    return structuredClone(this.records.get(username) ?? []);
  }
}
