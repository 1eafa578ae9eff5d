// DynamoDB adapter for imaging accounts, PreStage and Autorun documents, and the imaging login guard (config table).
//   pk IMAGING_ACCOUNT sk <username>   { username, passwordHash, createdAt, updatedAt, updatedBy, revision }
//   pk PRESTAGE        sk <id>         { id, json, sha256, sizeBytes, createdAt, updatedAt, updatedBy, revision }
//   pk AUTORUN         sk <deviceId>   (as PRESTAGE)
//   pk LOGIN_FAILURES  sk <username>   { failures: [epoch ms, …], expiresAt (TTL, epoch s) }
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  type TransactWriteItem,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ConflictError } from '../../domain/errors.ts';
import {
  accountHistoryChange,
  documentHistoryChange,
  type ImagingDocumentKind,
  LOGIN_FAILURE_TRIM_THRESHOLD,
  loginFailureExpiresAt,
  type PasswordHash,
  staleFailurePrefix,
} from '../../domain/imaging.ts';
import type { FieldChange } from '../../domain/settings.ts';
import type {
  ChangeAudit,
  ImagingAccount,
  ImagingAccountSummary,
  ImagingDocument,
  ImagingStore,
  LoginFailureStore,
} from '../../services/imaging/ports.ts';
import { callStore, queryAllItems } from './client.ts';
import type { DynamoDbConfigStore } from './config-store.ts';
import { CONFIG_PK, configSk } from './keys.ts';

export const IMAGING_PK = {
  account: 'IMAGING_ACCOUNT',
  PRESTAGE: 'PRESTAGE',
  AUTORUN: 'AUTORUN',
  loginFailures: 'LOGIN_FAILURES',
} as const;

/** Read-decide-write rounds before a change that keeps meeting concurrent writers gives up with 409. */
const MAX_CHANGE_ATTEMPTS = 5;
/** Entries removed by one trim: keeps the UpdateExpression far below DynamoDB's 4 KB limit. */
const MAX_TRIM_ENTRIES = 100;

type Item = Record<string, unknown>;

/** What a change does, decided from the item as it was read. */
type ChangePlan<T> = { result: T; skip: true } | { result: T; skip?: false; item: Item | null; changes: FieldChange[] };

function isRetryableTransactionFailure(error: unknown): boolean {
  if ((error as { name?: string })?.name !== 'TransactionCanceledException') return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict');
}

function accountSummary(item: Item): ImagingAccountSummary {
  return {
    username: item.username as string,
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
    updatedBy: item.updatedBy as string,
  };
}

function toDocument(kind: ImagingDocumentKind, item: Item): ImagingDocument {
  return {
    kind,
    id: item.id as string,
    json: item.json as string,
    sha256: item.sha256 as string,
    sizeBytes: item.sizeBytes as number,
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
    updatedBy: item.updatedBy as string,
  };
}

export class DynamoDbImagingStore implements ImagingStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    /** Reads the settings version the history line carries, and writes the line. */
    private readonly configStore: DynamoDbConfigStore,
  ) {}

  async getAccount(username: string): Promise<ImagingAccount | undefined> {
    const item = await this.getItem(IMAGING_PK.account, username);
    return item && { ...accountSummary(item), passwordHash: item.passwordHash as PasswordHash };
  }

  async listAccounts(): Promise<ImagingAccountSummary[]> {
    // The projection keeps hashes out of the listing's path entirely.
    const items = await this.queryAll(IMAGING_PK.account, { projection: 'username, createdAt, updatedAt, updatedBy' });
    return items.map(accountSummary);
  }

  async putAccount(username: string, passwordHash: PasswordHash, audit: ChangeAudit) {
    return this.change(IMAGING_PK.account, username, audit, (previous) => {
      const account: ImagingAccountSummary = {
        username,
        createdAt: (previous?.createdAt as string | undefined) ?? audit.changedAt,
        updatedAt: audit.changedAt,
        updatedBy: audit.actor,
      };
      return {
        item: { ...account, passwordHash },
        changes: [accountHistoryChange(username, previous ? 'updated' : 'created')],
        result: { created: !previous, account },
      };
    });
  }

  async deleteAccount(username: string, audit: ChangeAudit): Promise<boolean> {
    return this.change(IMAGING_PK.account, username, audit, (previous) =>
      previous ? { item: null, changes: [accountHistoryChange(username, 'deleted')], result: true } : { skip: true, result: false },
    );
  }

  async getDocument(kind: ImagingDocumentKind, id: string): Promise<ImagingDocument | undefined> {
    const item = await this.getItem(IMAGING_PK[kind], id);
    return item && toDocument(kind, item);
  }

  async listDocuments(kind: ImagingDocumentKind): Promise<ImagingDocument[]> {
    return (await this.queryAll(IMAGING_PK[kind])).map((item) => toDocument(kind, item));
  }

  async countDocuments(kind: ImagingDocumentKind): Promise<number> {
    let count = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await callStore(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: IMAGING_PK[kind] } },
            Select: 'COUNT',
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return count;
  }

  async putDocument(kind: ImagingDocumentKind, id: string, document: { json: string; sha256: string; sizeBytes: number }, audit: ChangeAudit) {
    return this.change(IMAGING_PK[kind], id, audit, (previous) => {
      const stored: ImagingDocument = {
        kind,
        id,
        ...document,
        createdAt: (previous?.createdAt as string | undefined) ?? audit.changedAt,
        updatedAt: audit.changedAt,
        updatedBy: audit.actor,
      };
      const { kind: _kind, ...item } = stored;
      return {
        item,
        changes: [documentHistoryChange(kind, id, (previous?.sha256 as string | undefined) ?? null, document.sha256)],
        result: { created: !previous, document: stored },
      };
    });
  }

  async deleteDocument(kind: ImagingDocumentKind, id: string, audit: ChangeAudit): Promise<boolean> {
    return this.change(IMAGING_PK[kind], id, audit, (previous) =>
      previous
        ? { item: null, changes: [documentHistoryChange(kind, id, previous.sha256 as string, null)], result: true }
        : { skip: true, result: false },
    );
  }

  /**
   * Reads the item and the settings version, lets `decide` plan the change, then writes the item (or deletes it),
   * its history line and a check that the settings version is unchanged, in one transaction. The item's `revision`
   * guards against a concurrent writer; on any conflict the round is repeated from the read.
   */
  private async change<T>(pk: string, sk: string, audit: ChangeAudit, decide: (previous: Item | undefined) => ChangePlan<T>): Promise<T> {
    for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; attempt += 1) {
      const [previous, settings] = await Promise.all([this.getItem(pk, sk), this.configStore.getSettings()]);
      const plan = decide(previous);
      if (plan.skip) return plan.result;

      const revision = previous?.revision as number | undefined;
      const guard = !previous
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : revision === undefined
          ? { ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revision)' }
          : { ConditionExpression: 'revision = :revision', ExpressionAttributeValues: { ':revision': { N: String(revision) } } };
      const key = { pk, sk };
      const write: TransactWriteItem = plan.item
        ? { Put: { TableName: this.tableName, Item: marshall({ ...plan.item, ...key, revision: (revision ?? 0) + 1 }, { removeUndefinedValues: true }), ...guard } }
        : { Delete: { TableName: this.tableName, Key: marshall(key), ...guard } };
      const settingsUnchanged: TransactWriteItem = {
        ConditionCheck: {
          TableName: this.tableName,
          Key: marshall({ pk: CONFIG_PK, sk: configSk.settings }),
          // A fresh installation has no settings item and is at version 1.
          ConditionExpression: settings.version === 1 ? 'attribute_not_exists(pk) OR version = :version' : 'version = :version',
          ExpressionAttributeValues: { ':version': { N: String(settings.version) } },
        },
      };
      const history = this.configStore.historyWrite({ version: settings.version, changedAt: audit.changedAt, actor: audit.actor, changes: plan.changes });
      try {
        await callStore(() => this.client.send(new TransactWriteItemsCommand({ TransactItems: [write, history, settingsUnchanged] })));
        return plan.result;
      } catch (error) {
        if (!isRetryableTransactionFailure(error)) throw error;
      }
    }
    throw new ConflictError('CONCURRENT_CHANGE', 'The item kept changing while this request tried to change it; retry');
  }

  private async getItem(pk: string, sk: string): Promise<Item | undefined> {
    const result = await callStore(() =>
      this.client.send(new GetItemCommand({ TableName: this.tableName, Key: marshall({ pk, sk }), ConsistentRead: true })),
    );
    return result.Item ? unmarshall(result.Item) : undefined;
  }

  private queryAll(pk: string, options: { projection?: string } = {}): Promise<Item[]> {
    return queryAllItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: pk } },
      ProjectionExpression: options.projection,
    }) as Promise<Item[]>;
  }
}

/**
 * The login guard's failure log: one item per username holding the times of its failures. Recording is a single
 * UpdateItem (list_append), atomic however many containers record at once; the TTL removes the item 15 minutes
 * after its last failure. The list is trimmed of failures outside the window once it grows past 20 entries.
 */
export class DynamoDbLoginFailureStore implements LoginFailureStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async getFailures(username: string): Promise<number[]> {
    const result = await callStore(() =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: IMAGING_PK.loginFailures, sk: username }),
          ProjectionExpression: 'failures',
          ConsistentRead: true,
        }),
      ),
    );
    return result.Item ? ((unmarshall(result.Item).failures as number[] | undefined) ?? []) : [];
  }

  async recordFailure(username: string, atMs: number): Promise<number[]> {
    const result = await callStore(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: IMAGING_PK.loginFailures, sk: username }),
          UpdateExpression: 'SET failures = list_append(if_not_exists(failures, :empty), :failure), expiresAt = :expiresAt',
          ExpressionAttributeValues: marshall({ ':empty': [], ':failure': [atMs], ':expiresAt': loginFailureExpiresAt(atMs) }),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    const failures = (unmarshall(result.Attributes ?? {}).failures as number[] | undefined) ?? [atMs];
    if (failures.length > LOGIN_FAILURE_TRIM_THRESHOLD) await this.trim(username, failures, atMs);
    return failures;
  }

  /** Best effort: removes the stale head of the list unless another writer trimmed it first. */
  private async trim(username: string, failures: number[], nowMs: number): Promise<void> {
    const count = Math.min(staleFailurePrefix(failures, nowMs), MAX_TRIM_ENTRIES);
    if (count === 0) return;
    const removals = Array.from({ length: count }, (_, i) => `failures[${i}]`).join(', ');
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: IMAGING_PK.loginFailures, sk: username }),
          UpdateExpression: `REMOVE ${removals}`,
          ConditionExpression: 'failures[0] = :first',
          ExpressionAttributeValues: { ':first': { N: String(failures[0]) } },
        }),
      );
    } catch {
      // Another container trimmed first, or the store hiccupped: the failure itself is recorded, and reads filter
      // by time anyway.
    }
  }
}
