// DynamoDB adapter for the settings document, trust material and their history (the config table).
import { randomBytes } from 'node:crypto';
import {
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  type TransactWriteItem,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { HttpError, StoreUnavailableError } from '../../domain/errors.ts';
import { DEFAULT_SETTINGS, type FieldChange, type Settings } from '../../domain/settings.ts';
import type {
  ConfigReader,
  ConfigSnapshot,
  HistoryEntry,
  PackageRecord,
  RevocationRecord,
  StoredCertificate,
  StoredSettings,
} from '../../ports.ts';
import { callStore, queryAllItems } from './client.ts';
import { CONFIG_PK, configSk, HISTORY_PK } from './keys.ts';

export class PreconditionFailedError extends HttpError {
  override name = 'PreconditionFailedError';
  constructor(currentVersion?: number) {
    super(412, 'PRECONDITION_FAILED', currentVersion === undefined
      ? 'The settings changed since you read them; read them again and retry'
      : `The settings are at version ${currentVersion}, not the version in If-Match; read them again and retry`);
  }
}

export const FRESH_SETTINGS: StoredSettings = {
  settings: { ...DEFAULT_SETTINGS, certificateExpiryAlertDays: [...DEFAULT_SETTINGS.certificateExpiryAlertDays] },
  version: 1,
  updatedAt: null,
  updatedBy: null,
};

function freshSettings(): StoredSettings {
  return structuredClone(FRESH_SETTINGS);
}

/** A trust-material change: the config item to put (or delete) and the history line describing it. */
export interface TrustChange {
  sk: string;
  /** The item's attributes (without keys); undefined deletes the item. */
  item?: Record<string, unknown>;
  /** Fail with this error if the item is absent (deletes only). */
  mustExist?: boolean;
  history: { actor: string; changedAt: string; changes: FieldChange[] };
}

function historyItem(entry: HistoryEntry): TransactWriteItem {
  return {
    Put: {
      TableName: '',
      Item: marshall(
        { pk: HISTORY_PK, sk: `${entry.changedAt}#${randomBytes(4).toString('hex')}`, ...entry },
        { removeUndefinedValues: true },
      ),
    },
  };
}

function readSettingsItem(item: Record<string, unknown> | undefined): StoredSettings {
  if (!item) return freshSettings();
  return {
    // Fields added to Settings after the item was written take their defaults.
    settings: { ...DEFAULT_SETTINGS, ...(item.settings as Partial<Settings>) } as Settings,
    version: item.version as number,
    updatedAt: (item.updatedAt as string) ?? null,
    updatedBy: (item.updatedBy as string) ?? null,
  };
}

export class DynamoDbConfigStore implements ConfigReader {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** Loads everything a check-in is judged against with one (paginated) Query of the CONFIG partition. */
  async loadSnapshot(): Promise<ConfigSnapshot> {
    // Strongly consistent: a change admins just made must be seen by the next reload (the 5 s promise).
    const items = await queryAllItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: CONFIG_PK } },
      ConsistentRead: true,
    });

    const snapshot: ConfigSnapshot = { ...freshSettings(), deviceCas: [], packages: new Map(), revocations: new Map() };
    for (const item of items) {
      const sk = item.sk as string;
      if (sk === configSk.settings) Object.assign(snapshot, readSettingsItem(item));
      else if (sk === configSk.deviceCa) snapshot.deviceCas = item.certificates as StoredCertificate[];
      else if (sk === configSk.serverCertificate) snapshot.serverCertificate = item.certificate as StoredCertificate;
      else if (sk === configSk.pushCertificate) snapshot.pushCertificate = item.certificate as StoredCertificate;
      else if (sk.startsWith('PACKAGE#')) {
        const record = stripKeys(item) as unknown as PackageRecord;
        snapshot.packages.set(record.packageId, { ...record, checksum: record.checksum ?? null });
      } else if (sk.startsWith('REVOCATION#')) {
        const record = stripKeys(item) as unknown as RevocationRecord;
        snapshot.revocations.set(record.sha256, record);
      }
    }
    return snapshot;
  }

  async getSettings(): Promise<StoredSettings> {
    const result = await callStore(() =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: CONFIG_PK, sk: configSk.settings }),
          ConsistentRead: true,
        }),
      ),
    );
    return readSettingsItem(result.Item ? unmarshall(result.Item) : undefined);
  }

  /**
   * Stores a new settings document as version expectedVersion + 1, with its history entry, in one transaction.
   * Throws PreconditionFailedError when the stored version is no longer expectedVersion. (The admin service builds
   * its guarded writes with commitConfigChange; this is the plain form, for seeding and tools.)
   */
  async saveSettings(input: {
    settings: Settings;
    expectedVersion: number;
    actor: string;
    changedAt: string;
    changes: FieldChange[];
  }): Promise<StoredSettings> {
    const stored: StoredSettings = {
      settings: input.settings,
      version: input.expectedVersion + 1,
      updatedAt: input.changedAt,
      updatedBy: input.actor,
    };
    const outcome = await this.commitConfigChange({
      write: { sk: configSk.settings, item: { ...stored }, expect: { kind: 'SETTINGS_VERSION', version: input.expectedVersion } },
      history: { version: stored.version, changedAt: input.changedAt, actor: input.actor, changes: input.changes },
    });
    if (!outcome.ok) throw new PreconditionFailedError();
    return stored;
  }

  /**
   * Puts or deletes one trust-material item with its history line, atomically. The history line carries the
   * settings version in force, which a trust change does not move. Returns false when a mustExist delete found nothing.
   */
  async changeTrustItem(change: TrustChange): Promise<boolean> {
    const { version } = await this.getSettings();
    const outcome = await this.commitConfigChange({
      write: { sk: change.sk, item: change.item, expect: change.mustExist ? { kind: 'PRESENT' } : undefined },
      history: { version, ...change.history },
    });
    if (outcome.ok) return true;
    if (outcome.reason === 'WRITE_CONDITION') return false;
    throw new StoreUnavailableError(new Error('A concurrent transaction changed the same item'));
  }

  /** Reads one config item's attributes (without keys), or undefined. */
  async getConfigItem(sk: string): Promise<Record<string, unknown> | undefined> {
    const result = await callStore(() =>
      this.client.send(new GetItemCommand({ TableName: this.tableName, Key: marshall({ pk: CONFIG_PK, sk }), ConsistentRead: true })),
    );
    return result.Item ? stripKeys(unmarshall(result.Item)) : undefined;
  }

  /** Lists config items whose sort key starts with the prefix (packages, revocations). */
  async listConfigItems(skPrefix: string): Promise<Record<string, unknown>[]> {
    const items = await queryAllItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': { S: CONFIG_PK }, ':prefix': { S: skPrefix } },
    });
    return items.map(stripKeys);
  }

  /** The history, newest first. */
  async listHistory(limit: number): Promise<HistoryEntry[]> {
    const result = await callStore(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: HISTORY_PK } },
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    );
    return (result.Items ?? []).map((raw) => {
      const { version, changedAt, actor, changes } = unmarshall(raw);
      return { version, changedAt, actor, changes } as HistoryEntry;
    });
  }

  /** Appends a history line on its own (for changes stored outside the config partition, such as imaging accounts). */
  historyWrite(entry: HistoryEntry): TransactWriteItem {
    return this.history(entry);
  }

  /**
   * Writes one config item (put, or delete when `item` is absent) and its history line in one transaction, under
   * conditions on that item and on other config items as they were read (optimistic concurrency for changes whose
   * validity depends on other items: the settings rules read the trust material and the other way round).
   * Never throws for a failed condition or a concurrent transaction; says which guard failed instead.
   */
  async commitConfigChange(change: ConfigCommit): Promise<ConfigCommitResult> {
    const key = (sk: string) => marshall({ pk: CONFIG_PK, sk });
    const write: TransactWriteItem = change.write.item
      ? {
          Put: {
            TableName: this.tableName,
            Item: marshall({ ...change.write.item, pk: CONFIG_PK, sk: change.write.sk }, { removeUndefinedValues: true, convertClassInstanceToMap: true }),
            ...conditionFor(change.write.expect),
          },
        }
      : { Delete: { TableName: this.tableName, Key: key(change.write.sk), ...conditionFor(change.write.expect) } };
    const checks: TransactWriteItem[] = (change.checks ?? []).map((check) => ({
      ConditionCheck: { TableName: this.tableName, Key: key(check.sk), ...conditionFor(check.expect)! } as NonNullable<TransactWriteItem['ConditionCheck']>,
    }));
    const items = [write, ...checks];
    if (change.history) {
      // The version between time and randomness orders two entries of the same millisecond as they were made.
      const history = this.history(change.history);
      const sk = `${change.history.changedAt}#${String(change.history.version).padStart(12, '0')}#${randomBytes(4).toString('hex')}`;
      history.Put!.Item!.sk = { S: sk };
      items.push(history);
    }
    try {
      await callStore(() => this.client.send(new TransactWriteItemsCommand({ TransactItems: items })));
    } catch (error) {
      if (error instanceof TransactionCanceledException || (error as { name?: string })?.name === 'TransactionCanceledException') {
        const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
        const failed = reasons.findIndex((reason) => reason.Code === 'ConditionalCheckFailed');
        if (failed === 0) return { ok: false, reason: 'WRITE_CONDITION', sk: change.write.sk };
        if (failed > 0 && failed <= checks.length) return { ok: false, reason: 'CHECK_CONDITION', sk: change.checks![failed - 1].sk };
        if (reasons.some((reason) => reason.Code === 'TransactionConflict')) return { ok: false, reason: 'TRANSACTION_CONFLICT' };
      }
      throw error;
    }
    return { ok: true };
  }

  private history(entry: HistoryEntry): TransactWriteItem {
    const item = historyItem(entry);
    item.Put!.TableName = this.tableName;
    return item;
  }
}

function stripKeys(item: Record<string, unknown>): Record<string, unknown> {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest;
}

/** What a config item must look like for a guarded write to go ahead. */
export type ConfigItemExpectation =
  | { kind: 'ABSENT' }
  | { kind: 'PRESENT' }
  /** The SETTINGS item is at this version (version 1 also matches a fresh installation, where the item is absent). */
  | { kind: 'SETTINGS_VERSION'; version: number }
  /** A certificate item (SERVER_CERTIFICATE, PUSH_CERTIFICATE) holds the certificate with this SHA-256. */
  | { kind: 'CERTIFICATE'; sha256: string };

export interface ConfigCommit {
  /** The item written: put with `item` (attributes without keys), or deleted when `item` is undefined. */
  write: { sk: string; item?: Record<string, unknown>; expect?: ConfigItemExpectation };
  /** Other config items that must still be as they were read. */
  checks?: { sk: string; expect: ConfigItemExpectation }[];
  history?: HistoryEntry;
}

export type ConfigCommitResult =
  | { ok: true }
  /** WRITE_CONDITION: the written item was not as expected; CHECK_CONDITION: the checked item `sk` changed; TRANSACTION_CONFLICT: another transaction was changing the same items. */
  | { ok: false; reason: 'WRITE_CONDITION' | 'CHECK_CONDITION' | 'TRANSACTION_CONFLICT'; sk?: string };

function conditionFor(expect: ConfigItemExpectation | undefined): {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue>;
} {
  if (!expect) return {};
  switch (expect.kind) {
    case 'ABSENT':
      return { ConditionExpression: 'attribute_not_exists(pk)' };
    case 'PRESENT':
      return { ConditionExpression: 'attribute_exists(pk)' };
    case 'SETTINGS_VERSION':
      return {
        ConditionExpression: expect.version === 1 ? 'attribute_not_exists(pk) OR #version = :version' : '#version = :version',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':version': { N: String(expect.version) } },
      };
    case 'CERTIFICATE':
      return {
        ConditionExpression: '#certificate.#sha256 = :sha256',
        ExpressionAttributeNames: { '#certificate': 'certificate', '#sha256': 'sha256' },
        ExpressionAttributeValues: { ':sha256': { S: expect.sha256 } },
      };
  }
}
