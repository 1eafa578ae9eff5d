// In-memory ExpiryAlertStore: the DynamoDB adapter's behaviour (the shared contract suite proves it).
import { randomUUID } from 'node:crypto';
import { type ClaimOutcome, DEFAULT_CLAIM_LEASE_MS, type ExpiryAlertStore, type ExpiryClaim, type ExpiryMark } from '../../ports/expiry-alert-store.ts';

interface StoredMark extends ExpiryMark {
  claimToken?: string;
}

export class InMemoryExpiryAlertStore implements ExpiryAlertStore {
  private readonly marks = new Map<string, StoredMark>();

  constructor(private readonly leaseMs: number = DEFAULT_CLAIM_LEASE_MS) {}

  async getMark(sha256: string, mark: string): Promise<ExpiryMark | undefined> {
    const stored = this.marks.get(`${sha256}#${mark}`);
    return stored && { state: stored.state, alertId: stored.alertId, leaseUntil: stored.leaseUntil };
  }

  async claim(input: { sha256: string; mark: string; alertId: string; now: Date; expiresAt: number }): Promise<ClaimOutcome> {
    const now = input.now.getTime();
    const existing = this.marks.get(`${input.sha256}#${input.mark}`);
    if (existing && existing.state !== 'SENDING') return { outcome: 'DONE' };
    if (existing && (existing.leaseUntil ?? 0) >= now) return { outcome: 'BUSY' };
    const token = randomUUID();
    this.marks.set(`${input.sha256}#${input.mark}`, { state: 'SENDING', alertId: input.alertId, leaseUntil: now + this.leaseMs, claimToken: token });
    return { outcome: 'CLAIMED', claim: { sha256: input.sha256, mark: input.mark, token } };
  }

  async confirm(claim: ExpiryClaim, input: { sentAt: Date; superseded: string[]; expiresAt: number }): Promise<void> {
    const key = `${claim.sha256}#${claim.mark}`;
    const stored = this.marks.get(key);
    // A lease that lapsed and was taken over by another scan: that scan remembers the mark itself.
    if (stored?.claimToken === claim.token) this.marks.set(key, { state: 'SENT', alertId: stored.alertId });
    for (const mark of input.superseded) {
      const supersededKey = `${claim.sha256}#${mark}`;
      if (!this.marks.has(supersededKey)) this.marks.set(supersededKey, { state: 'SUPERSEDED' });
    }
  }

  async release(claim: ExpiryClaim): Promise<void> {
    const key = `${claim.sha256}#${claim.mark}`;
    if (this.marks.get(key)?.claimToken === claim.token) this.marks.delete(key);
  }
}
