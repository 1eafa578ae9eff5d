// Per-container cache of what check-ins are judged against: reloaded at most every 5 s, verifier rebuilt only
// when the device CA set or the revocations change (so its chain cache survives ordinary reloads).
import { DeviceCertificateVerifier } from '../domain/device-certificates.ts';
import type { Clock, ConfigReader, ConfigSnapshot } from '../ports.ts';

export interface CheckinPolicy {
  snapshot: ConfigSnapshot;
  verifier: DeviceCertificateVerifier;
}

/** A newly enabled requirement must take effect quickly: never serve a snapshot older than this. */
export const POLICY_MAX_AGE_MS = 5000;

export class PolicyCache {
  private current?: { policy: CheckinPolicy; loadedAt: number; trustKey: string };
  private inflight?: Promise<CheckinPolicy>;

  constructor(
    private readonly reader: ConfigReader,
    private readonly clock: Clock,
    private readonly maxAgeMs = POLICY_MAX_AGE_MS,
  ) {}

  async get(): Promise<CheckinPolicy> {
    const now = this.clock.now().getTime();
    if (this.current && now - this.current.loadedAt < this.maxAgeMs) return this.current.policy;
    // Concurrent callers in one container share one load.
    this.inflight ??= this.load(now).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async load(startedAt: number): Promise<CheckinPolicy> {
    const snapshot = await this.reader.loadSnapshot();
    const trustKey = [
      snapshot.deviceCas.map((ca) => ca.sha256).join(','),
      [...snapshot.revocations.keys()].sort().join(','),
    ].join('|');
    const verifier =
      this.current && this.current.trustKey === trustKey
        ? this.current.policy.verifier
        : new DeviceCertificateVerifier(snapshot.deviceCas.map((ca) => ca.pem), new Set(snapshot.revocations.keys()));
    const policy = { snapshot, verifier };
    this.current = { policy, loadedAt: startedAt, trustKey };
    return policy;
  }
}
