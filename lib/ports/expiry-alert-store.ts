// Which certificate expiry alerts were sent: the certificate expiry scan's memory, so that each is sent once.

/** How long a claim holds unless the adapter is told otherwise: longer than the scan function's timeout (60 s), so no live scan can still hold a claim this old. */
export const DEFAULT_CLAIM_LEASE_MS = 90_000;

export type ExpiryMarkState = 'SENDING' | 'SENT' | 'SUPERSEDED';

export interface ExpiryMark {
  state: ExpiryMarkState;
  alertId?: string;
  /** Epoch ms; SENDING only. */
  leaseUntil?: number;
}

/** A claim held by one scan on one mark; hand it back to confirm() or release(). */
export interface ExpiryClaim {
  sha256: string;
  mark: string;
  token: string;
}

export type ClaimOutcome =
  | { outcome: 'CLAIMED'; claim: ExpiryClaim }
  /** Alerted before (SENT or SUPERSEDED): nothing to do. */
  | { outcome: 'DONE' }
  /** Another scan holds a live claim: it is publishing this alert now (or died, and the claim lapses soon). */
  | { outcome: 'BUSY' };

/**
 * One mark per certificate and alert (`<threshold>`, `<YYYY-MM-DD>`, …). A claim is exclusive: two scans running at
 * once cannot both hold it, and a claim whose lease lapsed (its scan died) can be taken over.
 */
export interface ExpiryAlertStore {
  /**
   * Claims the mark for publishing unless it is settled or claimed by a live scan.
   * `expiresAt` (epoch seconds) is when the store may forget the mark.
   */
  claim(input: { sha256: string; mark: string; alertId: string; now: Date; expiresAt: number }): Promise<ClaimOutcome>;
  /**
   * Remembers the claimed mark as SENT, and `superseded` marks of the same certificate as SUPERSEDED. A claim taken
   * over by another scan meanwhile is left to that scan.
   */
  confirm(claim: ExpiryClaim, input: { sentAt: Date; superseded: string[]; expiresAt: number }): Promise<void>;
  /** Forgets the claim after a failed publish, so that the alert is sent on the next run. */
  release(claim: ExpiryClaim): Promise<void>;
  /** The mark as stored, if any (for tests and operators). */
  getMark(sha256: string, mark: string): Promise<ExpiryMark | undefined>;
}
