// Admin use cases for device exemptions (API.md §3 "Exemptions"); check-ins see a change within 5 s (the policy
// cache). History field `exemption`: ids and codes only (docs/decisions.md "History entries carry ids and
// fingerprints"), never the reason; the settings version is left as it was.
import { type Exemption, type ExemptionInput, isExemptionActive, validateExemption } from '../../domain/exemptions.ts';
import { NotFoundError } from '../../domain/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CatalogReader, ConfigWriter, RevisionReader, SettingsReader } from '../../ports/config-store.ts';
import { commitOptimistically, planningVersion } from './optimistic.ts';

export type ExemptionsStore = SettingsReader & RevisionReader & CatalogReader & ConfigWriter;

/** The history value of an exemption: its device and codes, e.g. `mac-0042 CLOCK_SKEW_EXCEEDED,SERVER_CERT_NOT_VERIFIED`. */
export function exemptionHistoryValue(exemption: Pick<Exemption, 'deviceId' | 'violations'>): string {
  return `${exemption.deviceId} ${exemption.violations.join(',')}`;
}

/** Soonest to expire first; the same instant by deviceId. */
function soonestFirst(a: Exemption, b: Exemption): number {
  return a.until < b.until ? -1 : a.until > b.until ? 1 : a.deviceId < b.deviceId ? -1 : 1;
}

export class AdminExemptionsService {
  constructor(
    private readonly store: ExemptionsStore,
    private readonly clock: Clock,
  ) {}

  /** The exemptions in force now, soonest to expire first. */
  async list(): Promise<Exemption[]> {
    const now = this.clock.now();
    return (await this.store.listExemptions()).filter((e) => isExemptionActive(e, now)).sort(soonestFirst);
  }

  /** The device's exemption in force now; 404 when there is none or it has run out. */
  async get(deviceId: string): Promise<Exemption> {
    const exemption = await this.store.getExemption(deviceId);
    if (!exemption || !isExemptionActive(exemption, this.clock.now())) throw new NotFoundError(`Device ${deviceId} has no exemption in force`);
    return exemption;
  }

  /** Creates or replaces the device's exemption (`created`: no exemption was in force before). */
  async put(deviceId: string, input: ExemptionInput, actor: string): Promise<{ exemption: Exemption; created: boolean }> {
    const now = this.clock.now();
    const valid = validateExemption(input, now);
    return commitOptimistically<{ exemption: Exemption; created: boolean }>(this.store, async () => {
      const configVersion = await planningVersion(this.store);
      const [stored, current] = await Promise.all([this.store.getSettings(), this.store.getExemption(deviceId)]);
      // Read after the plan's reads: the line's time follows every commit this plan could have seen.
      const at = this.clock.now();
      const exemption: Exemption = { deviceId, ...valid, createdAt: at.toISOString(), createdBy: actor };
      const active = current !== undefined && isExemptionActive(current, at);
      return {
        result: { exemption, created: !active },
        commit: {
          change: { kind: 'EXEMPTION', deviceId, exemption },
          expect: { configVersion, settingsVersion: stored.version, exemption: { deviceId, stored: current !== undefined } },
          history: {
            version: stored.version,
            changedAt: exemption.createdAt,
            actor,
            changes: [{ field: 'exemption', from: active ? exemptionHistoryValue(current) : null, to: exemptionHistoryValue(exemption) }],
          },
        },
      };
    });
  }

  /** Removes the device's exemption; 404 when none is stored. */
  delete(deviceId: string, actor: string): Promise<void> {
    return commitOptimistically(this.store, async () => {
      const configVersion = await planningVersion(this.store);
      const [stored, current] = await Promise.all([this.store.getSettings(), this.store.getExemption(deviceId)]);
      if (!current) throw new NotFoundError(`Device ${deviceId} has no exemption`);
      return {
        result: undefined,
        commit: {
          change: { kind: 'EXEMPTION', deviceId, exemption: null },
          expect: { configVersion, settingsVersion: stored.version, exemption: { deviceId, stored: true } },
          history: {
            version: stored.version,
            changedAt: this.clock.now().toISOString(),
            actor,
            changes: [{ field: 'exemption', from: exemptionHistoryValue(current), to: null }],
          },
        },
      };
    });
  }
}
