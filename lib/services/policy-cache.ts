// What check-ins are judged against, per container: reloaded at most every 5 s; the certificate verifier is rebuilt
// only when the device CA set or the revocations change (so its chain cache survives ordinary reloads).
import { DeviceCertificateVerifier } from '../domain/device-certificates.ts';
import type { Clock } from '../ports/clock.ts';
import type { ConfigReader, ConfigSnapshot } from '../ports/config-store.ts';
import { MAX_POLICY_AGE_MS, MaxAgeCache } from './max-age-cache.ts';

export interface CheckinPolicy {
  snapshot: ConfigSnapshot;
  verifier: DeviceCertificateVerifier;
}

export const POLICY_MAX_AGE_MS = MAX_POLICY_AGE_MS;

export class PolicyCache {
  private readonly cache: MaxAgeCache<CheckinPolicy>;
  private verifier?: { trustKey: string; verifier: DeviceCertificateVerifier };

  constructor(
    private readonly reader: ConfigReader,
    clock: Clock,
    maxAgeMs = POLICY_MAX_AGE_MS,
  ) {
    this.cache = new MaxAgeCache(() => this.load(), clock, maxAgeMs);
  }

  get(): Promise<CheckinPolicy> {
    return this.cache.get();
  }

  private async load(): Promise<CheckinPolicy> {
    const snapshot = await this.reader.loadSnapshot();
    const trustKey = [snapshot.deviceCas.map((ca) => ca.sha256).join(','), [...snapshot.revocations.keys()].sort().join(',')].join('|');
    if (this.verifier?.trustKey !== trustKey) {
      const verifier = new DeviceCertificateVerifier(snapshot.deviceCas.map((ca) => ca.pem), new Set(snapshot.revocations.keys()));
      this.verifier = { trustKey, verifier };
    }
    return { snapshot, verifier: this.verifier.verifier };
  }
}
