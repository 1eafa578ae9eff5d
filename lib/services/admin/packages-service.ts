// Admin use cases for registered packages and their expected checksums (what packageValidation checks against).
import type { Checksum } from '../../domain/checkin.ts';
import { NotFoundError } from '../../domain/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CatalogReader, ConfigWriter, RevisionReader, PackageRecord, SettingsReader } from '../../ports/config-store.ts';
import { commitOptimistically, planningVersion } from './optimistic.ts';

export interface PackageInput {
  name: string;
  checksum: Checksum | null;
}

/**
 * What the history shows of a package (field `packages`): its id, followed by its expected checksum when it has
 * one, as `"<packageId> <TYPE>:<lowercase hex>"` (`"office SHA_512:ab12…"`); `null` when it is not registered.
 * Ids and digests only: the display name is not in the history (a rename records the same value on both sides).
 */
export function packageHistoryValue(packageId: string, record: PackageInput | undefined): string | null {
  if (!record) return null;
  return record.checksum ? `${packageId} ${record.checksum.type}:${record.checksum.value.toLowerCase()}` : packageId;
}

function sameRegistration(a: PackageInput, b: PackageInput): boolean {
  return (
    a.name === b.name &&
    (a.checksum?.type ?? null) === (b.checksum?.type ?? null) &&
    (a.checksum?.value.toLowerCase() ?? null) === (b.checksum?.value.toLowerCase() ?? null)
  );
}

export type PackagesStore = SettingsReader & RevisionReader & CatalogReader & ConfigWriter;

export class AdminPackagesService {
  constructor(private readonly store: PackagesStore) {}

  list(): Promise<PackageRecord[]> {
    return this.store.listPackages();
  }

  async get(packageId: string): Promise<PackageRecord> {
    const record = await this.store.getPackage(packageId);
    if (!record) throw new NotFoundError(`No package "${packageId}" is registered`);
    return record;
  }

  /**
   * Registers or replaces a package (`created` tells which); the same name and checksum again records nothing.
   * History field `packages`, values from packageHistoryValue.
   */
  put(packageId: string, input: PackageInput, context: { actor: string; clock: Clock }): Promise<{ record: PackageRecord; created: boolean }> {
    return commitOptimistically<{ record: PackageRecord; created: boolean }>(this.store, async () => {
      const configVersion = await planningVersion(this.store);
      const [stored, current] = await Promise.all([this.store.getSettings(), this.store.getPackage(packageId)]);
      if (current && sameRegistration(current, input)) return { unchanged: { record: current, created: false } };
      const now = context.clock.now().toISOString();
      const record: PackageRecord = { packageId, name: input.name, checksum: input.checksum, updatedAt: now, updatedBy: context.actor };
      const changes = [{ field: 'packages', from: packageHistoryValue(packageId, current), to: packageHistoryValue(packageId, input) }];
      return {
        result: { record, created: !current },
        commit: {
          change: { kind: 'PACKAGE', packageId, record },
          expect: { configVersion, settingsVersion: stored.version, package: { packageId, stored: current !== undefined } },
          history: { version: stored.version, changedAt: now, actor: context.actor, changes },
        },
      };
    });
  }

  delete(packageId: string, context: { actor: string; clock: Clock }): Promise<void> {
    return commitOptimistically(this.store, async () => {
      const configVersion = await planningVersion(this.store);
      const [stored, current] = await Promise.all([this.store.getSettings(), this.store.getPackage(packageId)]);
      if (!current) throw new NotFoundError(`No package "${packageId}" is registered`);
      const changes = [{ field: 'packages', from: packageHistoryValue(packageId, current), to: null }];
      return {
        result: undefined,
        commit: {
          change: { kind: 'PACKAGE', packageId, record: null },
          expect: { configVersion, settingsVersion: stored.version, package: { packageId, stored: true } },
          history: { version: stored.version, changedAt: context.clock.now().toISOString(), actor: context.actor, changes },
        },
      };
    });
  }
}
