// The imaging login: HTTP Basic against imaging accounts, with the lock-out of API.md §2 (10 failures for one
// username within 15 minutes → 429 until the window has passed), counted in DynamoDB for every container.
import { HttpError } from '../../domain/errors.ts';
import { loginLockState, parseBasicAuthorization } from '../../domain/imaging.ts';
import type { Clock } from '../../ports.ts';
import type { PasswordVerifier } from './passwords.ts';
import type { ImagingStore, LoginFailureStore } from './ports.ts';

/** Where refusals are reported (the Powertools logger in production; a recorder in tests). */
export interface ImagingLog {
  warn(message: string, fields: Record<string, unknown>): void;
}

export const IMAGING_REALM_HEADER = { 'WWW-Authenticate': 'Basic realm="imaging"' } as const;

/** Why a login was refused, as logged. */
export type RefusalReason = 'MISSING_CREDENTIALS' | 'MALFORMED_CREDENTIALS' | 'UNKNOWN_USERNAME' | 'WRONG_PASSWORD' | 'LOCKED_OUT';

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
  failures: LoginFailureStore;
  passwords: PasswordVerifier;
  clock: Clock;
  log: ImagingLog;
}

function unauthenticated(message: string): HttpError {
  return new HttpError(401, 'UNAUTHENTICATED', message, { headers: { ...IMAGING_REALM_HEADER } });
}

/**
 * Checks one request's credentials; resolves with the username, or throws 401 UNAUTHENTICATED / 429
 * TOO_MANY_ATTEMPTS. Order: parse (missing and malformed headers are refused at once and not counted), then the
 * lock (a locked username is refused before any password work, even with the right password), then scrypt against
 * the stored hash or, for an unknown username, a dummy one. A failure is counted under the username tried, whether
 * or not it exists, so neither timing nor the lock-out tells which usernames exist. A success does not clear
 * earlier failures: with shared imaging accounts, successful requests would otherwise keep wiping an attacker's count.
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
    const [failures, account] = await Promise.all([this.deps.failures.getFailures(username), this.deps.accounts.getAccount(username)]);
    const lock = loginLockState(failures, this.deps.clock.now().getTime());
    if (lock.locked) {
      this.refused(attempt, 'LOCKED_OUT', username, { recentFailures: lock.recentFailures, lockedUntil: new Date(lock.lockedUntil).toISOString() });
      throw new HttpError(
        429,
        'TOO_MANY_ATTEMPTS',
        `Too many failed logins for this username; retry in ${lock.retryAfterSeconds} seconds`,
        { headers: { 'Retry-After': String(lock.retryAfterSeconds) } },
      );
    }

    if (await this.deps.passwords.verify(password, account?.passwordHash)) return username;

    // The time of the failure is taken after the password work, when it is recorded.
    const failedAt = this.deps.clock.now().getTime();
    const recorded = await this.deps.failures.recordFailure(username, failedAt);
    this.refused(attempt, account ? 'WRONG_PASSWORD' : 'UNKNOWN_USERNAME', username, { recentFailures: loginLockState(recorded, failedAt).recentFailures });
    throw unauthenticated('The username or password is wrong');
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
