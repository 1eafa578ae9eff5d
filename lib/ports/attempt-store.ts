// Unauthenticated check-in attempts (API.md §1): kept apart from the claimed device's decisions and status.
import type { Page } from './page.ts';

/**
 * A check-in that failed the identity check while certificate-based authentication was on (API.md §1
 * "Unauthenticated check-ins"): kept apart from the claimed device's decisions and status, for 7 days.
 */
export interface UnauthenticatedAttempt {
  /** The deviceId the request claimed (schema-valid, but unproven). */
  deviceId: string;
  checkinId: string;
  /** The identity violation codes (CLIENT_CERT_* / CLIENT_SIGNATURE_*). */
  violations: string[];
  /** SHA-256 of the presented leaf certificate, when one could be decoded. */
  fingerprint?: string;
  sourceIp: string;
  /** When it was judged (RFC 3339, UTC, milliseconds). */
  at: string;
}

export interface UnauthenticatedAttemptStore {
  /**
   * Keeps every attempt, even two with the same checkinId and time (an attacker may repeat one). An adapter that
   * feeds MASS_BLOCK (API.md §4) also makes the attempt countable by the alerts function; `judgedUnder` is the
   * settings version the attempt was judged under, for that alert.
   */
  record(attempt: UnauthenticatedAttempt, judgedUnder?: { settingsVersion: number }): Promise<void>;
  /** Attempts at or after `since`, newest first; `now` bounds the newest. Throws InvalidPageTokenError for a foreign token. */
  list(window: { since: Date; now: Date }, limit: number, nextToken?: string): Promise<Page<UnauthenticatedAttempt>>;
}
