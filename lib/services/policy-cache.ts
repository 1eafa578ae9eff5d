// What check-ins are judged against, per container: refreshed at most every 5 s. A refresh asks the reader what
// changed since the snapshot held (with DynamoDB: one GetItem of the ~100-byte VERSION item, then only the changed
// part); the certificate verifier is rebuilt only when the device CA set or the revocations change (so its chain
// cache survives ordinary reloads).
import { DeviceCertificateVerifier } from '../domain/device-certificates.ts';
import type { Clock } from '../ports/clock.ts';
import type { ConfigReader, ConfigSnapshot, IncrementalConfigReader, RevocationRecord } from '../ports/config-store.ts';
import { MAX_POLICY_AGE_MS, MaxAgeCache } from './max-age-cache.ts';

export interface CheckinPolicy {
  snapshot: ConfigSnapshot;
  verifier: DeviceCertificateVerifier;
}

export const POLICY_MAX_AGE_MS = MAX_POLICY_AGE_MS;

/** The same fingerprints revoked (the records' other fields do not matter to the verifier). */
function sameRevoked(a: ReadonlyMap<string, RevocationRecord>, b: ReadonlyMap<string, RevocationRecord>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const sha256 of a.keys()) if (!b.has(sha256)) return false;
  return true;
}

export class PolicyCache {
  private readonly cache: MaxAgeCache<CheckinPolicy>;
  private held?: CheckinPolicy;

  constructor(
    private readonly reader: ConfigReader | IncrementalConfigReader,
    clock: Clock,
    maxAgeMs = POLICY_MAX_AGE_MS,
  ) {
    this.cache = new MaxAgeCache(() => this.load(), clock, maxAgeMs);
  }

  get(): Promise<CheckinPolicy> {
    return this.cache.get();
  }

  private async load(): Promise<CheckinPolicy> {
    const held = this.held;
    const snapshot = 'refreshSnapshot' in this.reader ? await this.reader.refreshSnapshot(held?.snapshot) : await this.reader.loadSnapshot();
    if (held?.snapshot === snapshot) return held;
    const sameTrust =
      held !== undefined &&
      held.snapshot.deviceCas.map((ca) => ca.sha256).join(',') === snapshot.deviceCas.map((ca) => ca.sha256).join(',') &&
      sameRevoked(held.snapshot.revocations, snapshot.revocations);
    const verifier = sameTrust ? held.verifier : new DeviceCertificateVerifier(snapshot.deviceCas.map((ca) => ca.pem), new Set(snapshot.revocations.keys()));
    this.held = { snapshot, verifier };
    return this.held;
  }
}
