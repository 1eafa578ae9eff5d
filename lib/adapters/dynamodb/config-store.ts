// DynamoDB adapter for the settings document, trust material and their history (the config table). The only code
// that knows their sort keys and item shapes (keys.ts, config-transaction.ts).
import { randomBytes } from 'node:crypto';
import { type AttributeValue, DeleteItemCommand, type DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, TransactWriteItemsCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Checksum } from '../../domain/checkin.ts';
import type { Exemption } from '../../domain/exemptions.ts';
import type { Settings } from '../../domain/settings.ts';
import { historyQueryScope } from '../../ports/config-store.ts';
import type {
  CommitOutcome,
  ConfigCommit,
  ConfigRevision,
  ConfigSnapshot,
  ConfigStore,
  HistoryEntry,
  HistoryQuery,
  PackageRecord,
  RevocationRecord,
  StoredCertificate,
  StoredSettings,
} from '../../ports/config-store.ts';
import { SettingsMissingError } from '../../ports/errors.ts';
import type { Page } from '../../ports/page.ts';
import { decodeStartKey, encodeStartKey } from './pagination.ts';
import { DEFAULT_SETTINGS } from '../../domain/settings.ts';
import { freshSettings } from '../fresh-settings.ts';
import { callStore, queryAllItems } from './client.ts';
import { buildConfigTransaction, interpretConfigCancellation, nextRevision, revisionUpdate, revocationLogPut } from './config-transaction.ts';
import { CONFIG_PK, configSk, HISTORY_PK, REVOCATION_LOG_PK, REVOCATION_SHARDS, revocationKey, revocationLogSk, revocationPk } from './keys.ts';

type Item = Record<string, unknown>;

function readSettings(item: Item | undefined): StoredSettings {
  if (!item) throw new SettingsMissingError();
  return {
    // Fields added to Settings after the item was written take their defaults.
    settings: { ...DEFAULT_SETTINGS, ...(item.settings as Partial<Settings>) } as Settings,
    version: item.version as number,
    updatedAt: (item.updatedAt as string) ?? null,
    updatedBy: (item.updatedBy as string) ?? null,
  };
}

function readPackage(item: Item): PackageRecord {
  return {
    packageId: item.packageId as string,
    name: item.name as string,
    checksum: (item.checksum as Checksum | null | undefined) ?? null,
    updatedAt: item.updatedAt as string,
    updatedBy: item.updatedBy as string,
  };
}

function readRevocation(item: Item): RevocationRecord {
  return { sha256: item.sha256 as string, reason: item.reason as string, revokedAt: item.revokedAt as string, revokedBy: item.revokedBy as string };
}

function readExemption(item: Item): Exemption {
  return {
    deviceId: item.deviceId as string,
    violations: item.violations as string[],
    until: item.until as string,
    reason: item.reason as string,
    createdAt: item.createdAt as string,
    createdBy: item.createdBy as string,
  };
}

function readRevision(item: Item | undefined): ConfigRevision | undefined {
  if (!item) return undefined;
  return { version: item.version as number, policyVersion: item.policyVersion as number, revocationsVersion: item.revocationsVersion as number };
}

/** One revocation log line: the change of one fingerprint at `version`, following the change at `previous`. */
interface RevocationLogLine {
  version: number;
  previous: number;
  sha256: string;
  record?: RevocationRecord;
}

/**
 * The revocations of `held` with the log lines applied, or undefined when the lines are not exactly the chain from
 * `from` to `to` (a line expired, or is not visible yet): the caller then reloads them whole.
 */
function applyRevocationLog(held: ReadonlyMap<string, RevocationRecord>, lines: RevocationLogLine[], from: number, to: number): Map<string, RevocationRecord> | undefined {
  const revocations = new Map(held);
  let at = from;
  for (const line of lines) {
    if (line.previous !== at) return undefined;
    if (line.record) revocations.set(line.sha256, line.record);
    else revocations.delete(line.sha256);
    at = line.version;
  }
  return at === to ? new Map([...revocations].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : undefined;
}

function readHistory(item: Item): HistoryEntry {
  const { version, changedAt, actor, changes } = item;
  return { version, changedAt, actor, changes } as HistoryEntry;
}

function isCancellation(error: unknown): error is TransactionCanceledException {
  return error instanceof TransactionCanceledException || (error as { name?: string })?.name === 'TransactionCanceledException';
}

export class DynamoDbConfigStore implements ConfigStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** Everything, read whole: the revision first, then the CONFIG partition and the revocations side by side. */
  async loadSnapshot(): Promise<ConfigSnapshot> {
    return this.refreshSnapshot();
  }

  /**
   * One strongly consistent GetItem of the VERSION item; then, only when it moved, a Query of the CONFIG partition
   * (if the policy changed) and the revocation log lines after the held revision (if the revocations changed). The
   * revision is read before the rest, so what is read is at least as new as the revision the snapshot says.
   * Without counters (a store not initialised), everything is read every time.
   */
  async refreshSnapshot(held?: ConfigSnapshot): Promise<ConfigSnapshot> {
    const revision = (await this.getRevision()) ?? { version: 0, policyVersion: 0, revocationsVersion: 0 };
    // A snapshot without a revision, or a store without counters, gives nothing to compare: everything is read.
    const usable = held?.revision && held.revision.version > 0 && revision.version > 0 ? { ...held, revision: held.revision } : undefined;
    if (usable && usable.revision.version === revision.version) return held!;
    const [policy, revocations] = await Promise.all([
      usable && usable.revision.policyVersion === revision.policyVersion ? usable : this.loadPolicy(),
      usable ? this.reloadRevocations(usable, revision) : this.loadRevocations(),
    ]);
    const { settings, version, updatedAt, updatedBy, deviceCas, serverCertificate, pushCertificate, packages, exemptions } = policy;
    return { settings, version, updatedAt, updatedBy, revision, deviceCas, serverCertificate, pushCertificate, packages, revocations, exemptions };
  }

  async getRevision(): Promise<ConfigRevision | undefined> {
    return readRevision(await this.getItem(configSk.version));
  }

  /**
   * Stores SETTINGS version 1 with the defaults, with the counters moved in the same transaction, when it is absent;
   * then the counters alone when they are absent (a store whose settings were written before they existed); then
   * moves revocations an earlier release kept in the CONFIG partition to their own (migrateRevocations).
   */
  async initializeSettings(now: Date): Promise<'CREATED' | 'PRESENT'> {
    const outcome = await this.initializeCounters(now);
    await this.migrateRevocations(now);
    return outcome;
  }

  /**
   * Each `CONFIG REVOCATION#<sha256>` item of an earlier release moved to its partition, one transaction each (the
   * item there, the old one deleted, the counters moved and a log line written, so warm containers see nothing
   * change); a fingerprint revoked again since keeps that record; a move that meets a concurrent commit is left to
   * the next run.
   */
  private async migrateRevocations(now: Date): Promise<void> {
    for (const legacy of await this.queryPrefix(configSk.revocationPrefix)) {
      const record = readRevocation(legacy);
      const legacyKey = marshall({ pk: CONFIG_PK, sk: legacy.sk });
      if (await this.getRevocation(record.sha256)) {
        // Revoked again since, in its own partition: that record stands; the old one is read by nothing.
        await callStore(() => this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: legacyKey })));
        continue;
      }
      const current = await this.getRevision();
      const next = nextRevision(current, { kind: 'REVOCATION', sha256: record.sha256, record });
      const items = [
        { Put: { TableName: this.tableName, Item: marshall({ ...revocationKey(record.sha256), ...record }), ConditionExpression: 'attribute_not_exists(pk)' } },
        { Delete: { TableName: this.tableName, Key: legacyKey, ConditionExpression: 'attribute_exists(pk)' } },
        revisionUpdate(this.tableName, current, next, now.toISOString()),
        revocationLogPut(this.tableName, { kind: 'REVOCATION', sha256: record.sha256, record }, current?.revocationsVersion ?? 0, next, Math.floor(now.getTime() / 1000)),
      ];
      try {
        await callStore(() => this.client.send(new TransactWriteItemsCommand({ TransactItems: items })));
      } catch (error) {
        if (!isCancellation(error) || !interpretConfigCancellation(error.CancellationReasons ?? [])) throw error;
      }
    }
  }

  private async initializeCounters(now: Date): Promise<'CREATED' | 'PRESENT'> {
    const settingsItem = marshall({ ...freshSettings(), pk: CONFIG_PK, sk: configSk.settings });
    const versionKey = marshall({ pk: CONFIG_PK, sk: configSk.version });
    try {
      await callStore(() =>
        this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName: this.tableName, Item: settingsItem, ConditionExpression: 'attribute_not_exists(pk)' } },
              {
                Update: {
                  TableName: this.tableName,
                  Key: versionKey,
                  UpdateExpression: 'SET #version = if_not_exists(#version, :zero) + :one, #policy = if_not_exists(#version, :zero) + :one, #revocations = if_not_exists(#revocations, :zero), #changedAt = :now',
                  ExpressionAttributeNames: { '#version': 'version', '#policy': 'policyVersion', '#revocations': 'revocationsVersion', '#changedAt': 'changedAt' },
                  ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' }, ':now': { S: now.toISOString() } },
                },
              },
            ],
          }),
        ),
      );
      return 'CREATED';
    } catch (error) {
      if (!isCancellation(error) || interpretConfigCancellation(error.CancellationReasons ?? []) !== 'EXPECTATION_FAILED') throw error;
    }
    const counters = { pk: CONFIG_PK, sk: configSk.version, version: 1, policyVersion: 1, revocationsVersion: 0, changedAt: now.toISOString() };
    try {
      await callStore(() => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: marshall(counters), ConditionExpression: 'attribute_not_exists(pk)' })));
    } catch (error) {
      if ((error as { name?: string })?.name !== 'ConditionalCheckFailedException') throw error;
    }
    return 'PRESENT';
  }

  /** The CONFIG partition but the counters, in one (paginated) strongly consistent Query. */
  private async loadPolicy(): Promise<Omit<ConfigSnapshot, 'revocations' | 'revision'>> {
    // Strongly consistent: a change admins just made must be seen by the next reload (the 5 s promise).
    const items = await queryAllItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: CONFIG_PK } },
      ConsistentRead: true,
    });
    let stored: StoredSettings | undefined;
    const policy: Omit<ConfigSnapshot, 'revocations' | 'revision' | keyof StoredSettings> = { deviceCas: [], packages: new Map(), exemptions: new Map() };
    for (const item of items) {
      const sk = item.sk as string;
      if (sk === configSk.settings) stored = readSettings(item);
      else if (sk === configSk.deviceCa) policy.deviceCas = item.certificates as StoredCertificate[];
      else if (sk === configSk.serverCertificate) policy.serverCertificate = item.certificate as StoredCertificate;
      else if (sk === configSk.pushCertificate) policy.pushCertificate = item.certificate as StoredCertificate;
      else if (sk.startsWith(configSk.packagePrefix)) policy.packages.set(item.packageId as string, readPackage(item));
      else if (sk.startsWith(configSk.exemptionPrefix)) policy.exemptions.set(item.deviceId as string, readExemption(item));
    }
    return { ...readSettings(stored && { ...stored }), ...policy };
  }

  /** Every revocation: the 16 partitions queried side by side, in fingerprint order. */
  private async loadRevocations(): Promise<Map<string, RevocationRecord>> {
    const shards = await Promise.all(
      REVOCATION_SHARDS.map((shard) =>
        queryAllItems(this.client, {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: revocationPk(shard) } },
          ConsistentRead: true,
        }),
      ),
    );
    return new Map(shards.flat().map((item) => [item.sha256 as string, readRevocation(item)]));
  }

  /** The held revocations with the log lines since them applied; whole when the lines do not chain up. */
  private async reloadRevocations(held: ConfigSnapshot & { revision: ConfigRevision }, revision: ConfigRevision): Promise<Map<string, RevocationRecord>> {
    const from = held.revision.revocationsVersion;
    const to = revision.revocationsVersion;
    if (from === to) return held.revocations;
    if (to < from) return this.loadRevocations();
    const items = await queryAllItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': { S: REVOCATION_LOG_PK }, ':from': { S: revocationLogSk(from + 1) }, ':to': { S: revocationLogSk(to) } },
      ConsistentRead: true,
    });
    const lines = items.map((item) => ({ version: item.version, previous: item.previous, sha256: item.sha256, record: item.record }) as RevocationLogLine);
    return applyRevocationLog(held.revocations, lines, from, to) ?? this.loadRevocations();
  }

  async getSettings(): Promise<StoredSettings> {
    return readSettings(await this.getItem(configSk.settings));
  }

  async getDeviceCas(): Promise<StoredCertificate[] | undefined> {
    return (await this.getItem(configSk.deviceCa))?.certificates as StoredCertificate[] | undefined;
  }

  async getServerCertificate(): Promise<StoredCertificate | undefined> {
    return (await this.getItem(configSk.serverCertificate))?.certificate as StoredCertificate | undefined;
  }

  async getPushCertificate(): Promise<StoredCertificate | undefined> {
    return (await this.getItem(configSk.pushCertificate))?.certificate as StoredCertificate | undefined;
  }

  async getPackage(packageId: string): Promise<PackageRecord | undefined> {
    const item = await this.getItem(configSk.package(packageId));
    return item && readPackage(item);
  }

  async listPackages(): Promise<PackageRecord[]> {
    return (await this.queryPrefix(configSk.packagePrefix)).map(readPackage);
  }

  async getRevocation(sha256: string): Promise<RevocationRecord | undefined> {
    const result = await callStore(() => this.client.send(new GetItemCommand({ TableName: this.tableName, Key: marshall(revocationKey(sha256)), ConsistentRead: true })));
    return result.Item && readRevocation(unmarshall(result.Item));
  }

  async listRevocations(): Promise<RevocationRecord[]> {
    return [...(await this.loadRevocations()).values()];
  }

  async getExemption(deviceId: string): Promise<Exemption | undefined> {
    const item = await this.getItem(configSk.exemption(deviceId));
    return item && readExemption(item);
  }

  async listExemptions(): Promise<Exemption[]> {
    return (await this.queryPrefix(configSk.exemptionPrefix)).map(readExemption);
  }

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
    return (result.Items ?? []).map((raw) => readHistory(unmarshall(raw)));
  }

  /**
   * The history partition newest first, from `since` on (the sort key starts with changedAt). A field filter is
   * applied here, page after page of the partition, until the page is full: the token is the last line given, so a
   * line is never skipped or given twice.
   */
  async queryHistory(query: HistoryQuery): Promise<Page<HistoryEntry>> {
    const scope = historyQueryScope(query);
    const token = decodeStartKey(query.nextToken, ['pk', 'sk', 'scope'], (key) => key.pk === HISTORY_PK && key.scope === scope);
    let start: Record<string, AttributeValue> | undefined = token && { pk: token.pk, sk: token.sk };
    const items: { entry: HistoryEntry; key: Record<string, AttributeValue> }[] = [];
    const condition = query.since ? 'pk = :pk AND sk >= :since' : 'pk = :pk';
    const values: Record<string, AttributeValue> = { ':pk': { S: HISTORY_PK } };
    if (query.since) values[':since'] = { S: query.since.toISOString() };
    for (;;) {
      const result = await callStore(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: condition,
            ExpressionAttributeValues: values,
            ScanIndexForward: false,
            Limit: query.field === undefined ? query.limit - items.length + 1 : 100,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const raw of result.Items ?? []) {
        const entry = readHistory(unmarshall(raw));
        if (query.field !== undefined && !entry.changes.some((change) => change.field === query.field)) continue;
        items.push({ entry, key: { pk: raw.pk, sk: raw.sk } });
        if (items.length > query.limit) break;
      }
      if (items.length > query.limit || !result.LastEvaluatedKey) break;
      start = result.LastEvaluatedKey;
    }
    const page = items.slice(0, query.limit);
    const more = items.length > query.limit;
    return { items: page.map(({ entry }) => entry), nextToken: more ? encodeStartKey({ ...page[page.length - 1].key, scope: { S: scope } }) : undefined };
  }

  /**
   * One TransactWriteItems: the change, a condition per expectation, the counters moved from the revision read
   * here (or expected by the commit), a revocation's log line, the history line (config-transaction.ts).
   */
  async commit(commit: ConfigCommit): Promise<CommitOutcome> {
    const current = await this.getRevision();
    const expected = commit.expect?.configVersion;
    if (expected !== undefined && expected !== (current?.version ?? 0)) return { ok: false, reason: 'EXPECTATION_FAILED' };
    const items = buildConfigTransaction(this.tableName, commit, { current, nowSeconds: Math.floor(Date.now() / 1000), unique: randomBytes(4).toString('hex') });
    try {
      await callStore(() => this.client.send(new TransactWriteItemsCommand({ TransactItems: items })));
      return { ok: true };
    } catch (error) {
      const reason = isCancellation(error) ? interpretConfigCancellation(error.CancellationReasons ?? []) : undefined;
      if (reason) return { ok: false, reason };
      throw error;
    }
  }

  /** One config item's attributes (keys included), strongly consistent. */
  private async getItem(sk: string): Promise<Item | undefined> {
    const result = await callStore(() =>
      this.client.send(new GetItemCommand({ TableName: this.tableName, Key: marshall({ pk: CONFIG_PK, sk }), ConsistentRead: true })),
    );
    return result.Item ? unmarshall(result.Item) : undefined;
  }

  /** The config items whose sort key starts with the prefix, in sort-key order, strongly consistent. */
  private queryPrefix(prefix: string): Promise<Item[]> {
    return queryAllItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': { S: CONFIG_PK }, ':prefix': { S: prefix } },
      ConsistentRead: true,
    });
  }
}
