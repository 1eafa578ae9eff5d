// DynamoDB adapter for the settings document, trust material and their history (the config table). The only code
// that knows their sort keys and item shapes (keys.ts, config-transaction.ts).
import { randomBytes } from 'node:crypto';
import { type AttributeValue, type DynamoDBClient, GetItemCommand, QueryCommand, TransactWriteItemsCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Checksum } from '../../domain/checkin.ts';
import type { Exemption } from '../../domain/exemptions.ts';
import type { Settings } from '../../domain/settings.ts';
import { historyQueryScope } from '../../ports/config-store.ts';
import type { CommitOutcome, ConfigCommit, ConfigSnapshot, ConfigStore, HistoryEntry, HistoryQuery, PackageRecord, RevocationRecord, StoredCertificate, StoredSettings } from '../../ports/config-store.ts';
import type { Page } from '../../ports/page.ts';
import { decodeStartKey, encodeStartKey } from './pagination.ts';
import { DEFAULT_SETTINGS } from '../../domain/settings.ts';
import { freshSettings } from '../fresh-settings.ts';
import { callStore, queryAllItems } from './client.ts';
import { buildConfigTransaction, interpretConfigCancellation } from './config-transaction.ts';
import { CONFIG_PK, configSk, HISTORY_PK } from './keys.ts';

type Item = Record<string, unknown>;

function readSettings(item: Item | undefined): StoredSettings {
  if (!item) return freshSettings();
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

  /** Loads everything a check-in is judged against with one (paginated) Query of the CONFIG partition. */
  async loadSnapshot(): Promise<ConfigSnapshot> {
    // Strongly consistent: a change admins just made must be seen by the next reload (the 5 s promise).
    const items = await queryAllItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: CONFIG_PK } },
      ConsistentRead: true,
    });
    const snapshot: ConfigSnapshot = { ...freshSettings(), deviceCas: [], packages: new Map(), revocations: new Map(), exemptions: new Map() };
    for (const item of items) {
      const sk = item.sk as string;
      if (sk === configSk.settings) Object.assign(snapshot, readSettings(item));
      else if (sk === configSk.deviceCa) snapshot.deviceCas = item.certificates as StoredCertificate[];
      else if (sk === configSk.serverCertificate) snapshot.serverCertificate = item.certificate as StoredCertificate;
      else if (sk === configSk.pushCertificate) snapshot.pushCertificate = item.certificate as StoredCertificate;
      else if (sk.startsWith(configSk.packagePrefix)) snapshot.packages.set(item.packageId as string, readPackage(item));
      else if (sk.startsWith(configSk.revocationPrefix)) snapshot.revocations.set(item.sha256 as string, readRevocation(item));
      else if (sk.startsWith(configSk.exemptionPrefix)) snapshot.exemptions.set(item.deviceId as string, readExemption(item));
    }
    return snapshot;
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
    const item = await this.getItem(configSk.revocation(sha256));
    return item && readRevocation(item);
  }

  async listRevocations(): Promise<RevocationRecord[]> {
    return (await this.queryPrefix(configSk.revocationPrefix)).map(readRevocation);
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

  /** One TransactWriteItems: the change, a condition per expectation, the history line (config-transaction.ts). */
  async commit(commit: ConfigCommit): Promise<CommitOutcome> {
    const items = buildConfigTransaction(this.tableName, commit, randomBytes(4).toString('hex'));
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
