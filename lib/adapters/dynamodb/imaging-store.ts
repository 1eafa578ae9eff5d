// DynamoDB adapter for imaging accounts, PreStage and Autorun documents (config table), each change written with its
// history line. The imaging login's attempt record is in login-attempt-store.ts.
//   pk IMAGING_ACCOUNT sk <username>   { username, passwordHash, createdAt, updatedAt, updatedBy, revision }
//   pk PRESTAGE        sk <id>         { id, json, sha256, sizeBytes, createdAt, updatedAt, updatedBy, revision }
//   pk AUTORUN         sk <deviceId>   (as PRESTAGE)
import { type AttributeValue, type DynamoDBClient, GetItemCommand, QueryCommand, type TransactWriteItem, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { randomBytes } from 'node:crypto';
import {
  accountHistoryChange,
  documentHistoryChange,
  type ImagingDocumentKind,
  type PasswordHash,
} from '../../domain/imaging.ts';
import type { FieldChange } from '../../domain/settings.ts';
import { ConcurrentModificationError } from '../../ports/errors.ts';
import type { ChangeAudit, DocumentContent, ImagingAccount, ImagingAccountSummary, ImagingDocument, ImagingStore } from '../../ports/imaging-store.ts';
import { callStore, queryAllItems } from './client.ts';
import { historyPut, settingsVersionCheck } from './config-transaction.ts';
import { CONFIG_PK, configSk, IMAGING_PK } from './keys.ts';


/** Read-decide-write rounds before a change that keeps meeting concurrent writers gives up with 409. */
const MAX_CHANGE_ATTEMPTS = 5;

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

  async putDocument(kind: ImagingDocumentKind, id: string, document: DocumentContent, audit: ChangeAudit) {
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
      const [previous, version] = await Promise.all([this.getItem(pk, sk), this.settingsVersion()]);
      const plan = decide(previous);
      if (plan.skip) return plan.result;
      const items = [
        this.itemWrite(pk, sk, previous, plan.item),
        historyPut(this.tableName, { version, changedAt: audit.changedAt, actor: audit.actor, changes: plan.changes }, randomBytes(4).toString('hex')),
        settingsVersionCheck(this.tableName, version),
      ];
      try {
        await callStore(() => this.client.send(new TransactWriteItemsCommand({ TransactItems: items })));
        return plan.result;
      } catch (error) {
        if (!isRetryableTransactionFailure(error)) throw error;
      }
    }
    throw new ConcurrentModificationError('The item kept changing while this request tried to change it; retry');
  }

  /** The put (or delete, for a null item) of one item, guarded by its `revision` as read (absent: the item was). */
  private itemWrite(pk: string, sk: string, previous: Item | undefined, item: Item | null): TransactWriteItem {
    const revision = previous?.revision as number | undefined;
    const guard = !previous
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : revision === undefined
        ? { ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revision)' }
        : { ConditionExpression: 'revision = :revision', ExpressionAttributeValues: { ':revision': { N: String(revision) } } };
    const key = { pk, sk };
    return item
      ? { Put: { TableName: this.tableName, Item: marshall({ ...item, ...key, revision: (revision ?? 0) + 1 }, { removeUndefinedValues: true }), ...guard } }
      : { Delete: { TableName: this.tableName, Key: marshall(key), ...guard } };
  }

  /** The settings version in force (1 on a fresh installation), which the history line carries. */
  private async settingsVersion(): Promise<number> {
    const item = await this.getItem(CONFIG_PK, configSk.settings);
    return (item?.version as number | undefined) ?? 1;
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
