// Admin use cases for registered packages and their expected checksums (what packageValidation checks against).
import type { DynamoDbConfigStore } from '../../adapters/dynamodb/config-store.ts';
import { configSk } from '../../adapters/dynamodb/keys.ts';
import { CHECKSUM_HEX_LENGTH, CHECKSUM_TYPES, type Checksum, type ChecksumType } from '../../domain/checkin.ts';
import { NotFoundError, ValidationError } from '../../domain/errors.ts';
import type { Clock, PackageRecord } from '../../ports.ts';
import { commitOptimistically, settingsUnchanged } from './optimistic.ts';
import { INVALID_REQUEST, isPlainObject, readObjectBody, requireText } from './request.ts';

export const MAX_PACKAGE_NAME_LENGTH = 256;

export interface PackageInput {
  name: string;
  checksum: Checksum | null;
}

/** The body of PUT /admin/packages/{packageId}: `{ name, checksum: { type, value } | null }` (checksum may be left out: null). */
export function parsePackageBody(json: unknown): PackageInput {
  const body = readObjectBody(json, ['name', 'checksum']);
  const name = requireText(body, 'name', MAX_PACKAGE_NAME_LENGTH);
  const raw = body.checksum;
  if (raw === undefined || raw === null) return { name, checksum: null };
  if (!isPlainObject(raw)) throw new ValidationError(INVALID_REQUEST, 'checksum must be an object with type and value, or null', 'checksum');
  for (const key of Object.keys(raw)) {
    if (key !== 'type' && key !== 'value') throw new ValidationError(INVALID_REQUEST, `Unknown field "checksum.${key}"; expected type and value`, `checksum.${key}`);
  }
  const { type, value } = raw;
  if (typeof type !== 'string' || !(CHECKSUM_TYPES as readonly string[]).includes(type)) {
    throw new ValidationError(INVALID_REQUEST, `checksum.type must be one of ${CHECKSUM_TYPES.join(', ')}`, 'checksum.type');
  }
  const length = CHECKSUM_HEX_LENGTH[type as ChecksumType];
  if (typeof value !== 'string' || value.length !== length || !/^[0-9a-fA-F]+$/.test(value)) {
    throw new ValidationError(INVALID_REQUEST, `checksum.value must be ${length} hexadecimal digits for ${type}`, 'checksum.value');
  }
  return { name, checksum: { type: type as ChecksumType, value: value.toLowerCase() } };
}

function toRecord(item: Record<string, unknown>): PackageRecord {
  return {
    packageId: item.packageId as string,
    name: item.name as string,
    checksum: (item.checksum as Checksum | null | undefined) ?? null,
    updatedAt: item.updatedAt as string,
    updatedBy: item.updatedBy as string,
  };
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

export class AdminPackagesService {
  constructor(private readonly store: DynamoDbConfigStore) {}

  async list(): Promise<PackageRecord[]> {
    const items = await this.store.listConfigItems('PACKAGE#');
    return items.map(toRecord).sort((a, b) => (a.packageId < b.packageId ? -1 : a.packageId > b.packageId ? 1 : 0));
  }

  async get(packageId: string): Promise<PackageRecord> {
    const item = await this.store.getConfigItem(configSk.package(packageId));
    if (!item) throw new NotFoundError(`No package "${packageId}" is registered`);
    return toRecord(item);
  }

  /**
   * Registers or replaces a package (`created` tells which); the same name and checksum again records nothing.
   * History field `packages`, values from packageHistoryValue.
   */
  put(packageId: string, input: PackageInput, context: { actor: string; clock: Clock }): Promise<{ record: PackageRecord; created: boolean }> {
    const sk = configSk.package(packageId);
    return commitOptimistically<{ record: PackageRecord; created: boolean }>(this.store, async () => {
      const [stored, item] = await Promise.all([this.store.getSettings(), this.store.getConfigItem(sk)]);
      const current = item ? toRecord(item) : undefined;
      const now = context.clock.now();
      if (current && sameRegistration(current, input)) return { unchanged: { record: current, created: false } };
      const record: PackageRecord = { packageId, name: input.name, checksum: input.checksum, updatedAt: now.toISOString(), updatedBy: context.actor };
      return {
        result: { record, created: !current },
        commit: {
          write: { sk, item: { ...record }, expect: current ? { kind: 'PRESENT' } : { kind: 'ABSENT' } },
          checks: [settingsUnchanged(stored)],
          history: {
            version: stored.version,
            changedAt: record.updatedAt,
            actor: context.actor,
            changes: [{ field: 'packages', from: packageHistoryValue(packageId, current), to: packageHistoryValue(packageId, input) }],
          },
        },
      };
    });
  }

  delete(packageId: string, context: { actor: string; clock: Clock }): Promise<void> {
    const sk = configSk.package(packageId);
    return commitOptimistically(this.store, async () => {
      const [stored, item] = await Promise.all([this.store.getSettings(), this.store.getConfigItem(sk)]);
      if (!item) throw new NotFoundError(`No package "${packageId}" is registered`);
      return {
        result: undefined,
        commit: {
          write: { sk, expect: { kind: 'PRESENT' } },
          checks: [settingsUnchanged(stored)],
          history: {
            version: stored.version,
            changedAt: context.clock.now().toISOString(),
            actor: context.actor,
            changes: [{ field: 'packages', from: packageHistoryValue(packageId, toRecord(item)), to: null }],
          },
        },
      };
    });
  }
}
