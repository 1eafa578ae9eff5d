// The imaging login: HTTP Basic against imaging accounts, with the lock-out of API.md §2 (10 failures for one
// username within 15 minutes → 429 until the window has passed), counted in DynamoDB for every container. Attempts
// are reserved before the password is checked, so concurrent guesses cannot get past the limit.
import { randomUUID } from 'node:crypto';
import { HttpError } from '../../domain/errors.ts';
import { parseBasicAuthorization } from '../../domain/imaging.ts';
import type { Clock } from '../../ports/clock.ts';
import type { PasswordVerifier } from './passwords.ts';
import type { ImagingStore } from '../../ports/imaging-store.ts';
import type { LoginAttemptStore } from '../../ports/login-attempt-store.ts';

/** Where refusals are reported (the Powertools logger in production; a recorder in tests). */
export interface ImagingLog {
  warn(message: string, fields: Record<string, unknown>): void;
}

export const IMAGING_REALM_HEADER = { 'WWW-Authenticate': 'Basic realm="imaging"' } as const;

/**
 * Why a login was refused, as logged. CONTENDED: so many attempts for the username raced to be reserved at the same
 * moment that this one kept losing; refused with 429 and Retry-After: 1 rather than checked unreserved.
 */
export type RefusalReason = 'MISSING_CREDENTIALS' | 'MALFORMED_CREDENTIALS' | 'UNKNOWN_USERNAME' | 'WRONG_PASSWORD' | 'LOCKED_OUT' | 'CONTENDED';

/** Logged usernames are cut to this many characters (a header can be far longer). */
const MAX_LOGGED_USERNAME = 128;

export interface LoginAttempt {
  /** The Authorization header as received. */
  authorization: string | undefined;
  sourceIp: string;
  requestId: string;
}

export interface LoginGuardDeps {
  accounts: Pick<ImagingStore, 'getAccount'>;
  attempts: LoginAttemptStore;
  passwords: Pick<PasswordVerifier, 'verify'>;
  clock: Clock;
  log: ImagingLog;
  /** Ids of reserved attempts (random UUIDs unless a test wants its own). */
  newAttemptId?: () => string;
}

function unauthenticated(message: string): HttpError {
  return new HttpError(401, 'UNAUTHENTICATED', message, { headers: { ...IMAGING_REALM_HEADER } });
}

function tooManyAttempts(retryAfterSeconds: number): HttpError {
  return new HttpError(429, 'TOO_MANY_ATTEMPTS', `Too many login attempts for this username; retry in ${retryAfterSeconds} seconds`, {
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}

/**
 * Checks one request's credentials; resolves with the username, or throws 401 UNAUTHENTICATED / 429
 * TOO_MANY_ATTEMPTS. Order: parse (missing and malformed headers are refused at once and not counted); then
 * reserve the attempt in the shared store, atomically, BEFORE any password work: while 10 attempts of the username
 * count (failed within 15 minutes, or being checked right now) it is refused with 429, even with the right
 * password, and not recorded; then scrypt against the stored hash or, for an unknown username, a dummy one. A
 * wrong password turns the reservation into a failure that counts for 15 minutes; a right one removes it, so
 * successes never count (and never clear the failures of others). Unknown usernames are reserved, checked and
 * counted exactly like known ones, so neither timing nor the lock-out tells which usernames exist.
 */
export class LoginGuard {
  constructor(private readonly deps: LoginGuardDeps) {}

  async authenticate(attempt: LoginAttempt): Promise<string> {
    const parsed = parseBasicAuthorization(attempt.authorization);
    if (parsed.kind === 'missing') {
      this.refused(attempt, 'MISSING_CREDENTIALS', undefined);
      throw unauthenticated('Imaging information requires HTTP Basic authentication with an imaging account');
    }
    if (parsed.kind === 'malformed') {
      this.refused(attempt, 'MALFORMED_CREDENTIALS', parsed.username, { problem: parsed.reason });
      throw unauthenticated('The Authorization header does not hold HTTP Basic credentials of an imaging account');
    }

    const { username, password } = parsed;
    const attemptId = (this.deps.newAttemptId ?? randomUUID)();
    // Both reads happen for every username, known or not. Should the account read fail (503) after the
    // reservation landed, the PENDING entry counts as a failure for the whole window (LOGIN_IN_FLIGHT_MS).
    const [reservation, account] = await Promise.all([
      this.deps.attempts.reserve(username, attemptId, this.deps.clock.now().getTime()),
      this.deps.accounts.getAccount(username),
    ]);
    if (!reservation.reserved) {
      if (reservation.reason === 'CONTENDED') {
        this.refused(attempt, 'CONTENDED', username);
        throw tooManyAttempts(1);
      }
      const { decision } = reservation;
      this.refused(attempt, 'LOCKED_OUT', username, {
        failedAttempts: decision.failed,
        pendingAttempts: decision.pending,
        lockedUntil: new Date(decision.lockedUntil).toISOString(),
      });
      throw tooManyAttempts(decision.retryAfterSeconds);
    }

    if (await this.deps.passwords.verify(password, account?.passwordHash)) {
      await this.release(attempt, username, attemptId);
      return username;
    }

    // The time of the failure is taken after the password work, when it is recorded.
    await this.deps.attempts.markFailed(username, attemptId, this.deps.clock.now().getTime());
    this.refused(attempt, account ? 'WRONG_PASSWORD' : 'UNKNOWN_USERNAME', username, { recentAttempts: reservation.counted });
    throw unauthenticated('The username or password is wrong');
  }

  /**
   * A successful login's reservation is removed. Should that fail (the store just went away), the login still
   * stands; its PENDING entry, never confirmed, counts as a failure for the rest of the window (LOGIN_IN_FLIGHT_MS):
   * the store cannot tell it from a guess whose failure could not be recorded.
   */
  private async release(attempt: LoginAttempt, username: string, attemptId: string): Promise<void> {
    try {
      await this.deps.attempts.release(username, attemptId);
    } catch (error) {
      this.deps.log.warn('Imaging login attempt not released', {
        requestId: attempt.requestId,
        username: username.slice(0, MAX_LOGGED_USERNAME),
        error: (error as { name?: string })?.name ?? 'Error',
      });
    }
  }

  /** Every refusal is logged with the username tried and the source address; never the password or the header. */
  private refused(attempt: LoginAttempt, reason: RefusalReason, username: string | undefined, extra: Record<string, unknown> = {}): void {
    this.deps.log.warn('Imaging login refused', {
      requestId: attempt.requestId,
      reason,
      username: username === undefined ? null : username.slice(0, MAX_LOGGED_USERNAME),
      sourceIp: attempt.sourceIp,
      ...extra,
    });
  }
}
