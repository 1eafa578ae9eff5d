// Imaging login attempts per username, shared by every container: the login guard's memory (API.md §2 lock-out).
import type { LoginAttemptDecision, LoginAttemptEntry } from '../domain/imaging.ts';

/** The outcome of LoginAttemptStore.reserve. */
export type LoginReservation =
  /** The attempt may be checked; `counted` is how many count now, this one included. */
  | { reserved: true; counted: number }
  /** 10 attempts already count: refused, not recorded. */
  | { reserved: false; reason: 'LOCKED'; decision: Extract<LoginAttemptDecision, { allowed: false }> }
  /** Other reservations for the username kept winning the race: refused, not recorded (fail closed). */
  | { reserved: false; reason: 'CONTENDED' };

/**
 * An attempt is reserved before its password is checked, so that at most 10 can be failed or in flight within
 * 15 minutes, however many containers check at once.
 */
export interface LoginAttemptStore {
  /** Atomically: unless 10 attempts count at nowMs (decideLoginAttempt), records a PENDING attempt with this id. */
  reserve(username: string, attemptId: string, nowMs: number): Promise<LoginReservation>;
  /** The attempt's password was wrong: it now counts as a failure at atMs, for 15 minutes. */
  markFailed(username: string, attemptId: string, atMs: number): Promise<void>;
  /** The attempt succeeded: it is removed and never counts. */
  release(username: string, attemptId: string): Promise<void>;
  /** Every recorded entry, counted or not (for tests and operators). */
  getAttempts(username: string): Promise<LoginAttemptEntry[]>;
}
