// DynamoDB adapter for imaging accounts, PreStage and Autorun documents, and the imaging login guard (config table).
//   pk IMAGING_ACCOUNT sk <username>   { username, passwordHash, createdAt, updatedAt, updatedBy, revision }
//   pk PRESTAGE        sk <id>         { id, json, sha256, sizeBytes, createdAt, updatedAt, updatedBy, revision }
//   pk AUTORUN         sk <deviceId>   (as PRESTAGE)
//   pk LOGIN_FAILURES  sk <username>   { attempts: { <attemptId>: { at, state } }, revision, expiresAt (TTL, epoch s) }
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
  decideLoginAttempt,
  type LoginAttemptEntry,
  type LoginAttemptState,
  loginAttemptsExpiresAt,
  type PasswordHash,
} from '../../domain/imaging.ts';
import type { FieldChange } from '../../domain/settings.ts';
import type {
  ChangeAudit,
  ImagingAccount,
  ImagingAccountSummary,
  ImagingDocument,
  ImagingStore,
  LoginAttemptStore,
  LoginReservation,
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
    throw new ConflictError('CONCURRENT_MODIFICATION', 'The item kept changing while this request tried to change it; retry');
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

function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/** Reservation rounds (read, decide, conditional write) before a reservation that keeps losing gives up. */
const MAX_RESERVE_ROUNDS = 25;
/** Stale entries removed by one reservation: keeps the UpdateExpression far below DynamoDB's 4 KB limit. */
const MAX_STALE_REMOVALS = 40;

const ATTEMPT_STATES = new Set(['PENDING', 'FAILED']);

/** The per-username record as read. */
interface AttemptRecord {
  /** Absent before the first reservation (no item, or an item written by the failure-list version). */
  revision: number | undefined;
  entries: LoginAttemptEntry[];
}

/** Full jitter over a ceiling that doubles from 5 ms up to 100 ms. */
const backoff = (round: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.random() * Math.min(5 * 2 ** round, 100)));

/**
 * The login guard's attempt record, one item per username:
 *   pk LOGIN_FAILURES sk <username> { attempts: { <attemptId>: { at, state: PENDING|FAILED } }, revision, expiresAt (TTL) }
 *
 * A reservation reads the item (consistent read), decides with decideLoginAttempt, and writes its PENDING entry (and
 * removes stale ones) with a condition on `revision`, which it increments: two reservations that read the same
 * revision cannot both be written, so the count they decided on holds when they land, and at most 10 entries
 * count. The loser reads again (bounded, with jitter). Marking an entry FAILED and removing a successful one touch
 * only that entry's own map key, never raise the count, and so need no revision: a reservation that read before
 * them decided on a count at least as high. Only the removal of a stale PENDING entry could race with its late
 * marking as FAILED; that removal is conditional on the entry still being PENDING.
 * Every call is an UpdateItem or a GetItem (the imaging role has no PutItem).
 */
export class DynamoDbLoginAttemptStore implements LoginAttemptStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async reserve(username: string, attemptId: string, nowMs: number): Promise<LoginReservation> {
    for (let round = 0; round < MAX_RESERVE_ROUNDS; round += 1) {
      if (round > 0) await backoff(round);
      const record = await this.read(username);
      const decision = decideLoginAttempt(record.entries, nowMs);
      if (!decision.allowed) return { reserved: false, reason: 'LOCKED', decision };
      try {
        await callStore(() => this.client.send(this.reservation(username, attemptId, nowMs, record, decision.stale)));
        return { reserved: true, counted: decision.counted + 1 };
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
    return { reserved: false, reason: 'CONTENDED' };
  }

  async markFailed(username: string, attemptId: string, atMs: number): Promise<void> {
    await this.updateEntry(username, {
      UpdateExpression: 'SET #attempts.#id = :entry, #expiresAt = :expiresAt',
      ExpressionAttributeNames: { '#attempts': 'attempts', '#id': attemptId, '#expiresAt': 'expiresAt' },
      ExpressionAttributeValues: marshall({ ':entry': { at: atMs, state: 'FAILED' }, ':expiresAt': loginAttemptsExpiresAt(atMs) }),
    });
  }

  async release(username: string, attemptId: string): Promise<void> {
    await this.updateEntry(username, {
      UpdateExpression: 'REMOVE #attempts.#id',
      ExpressionAttributeNames: { '#attempts': 'attempts', '#id': attemptId },
    });
  }

  async getAttempts(username: string): Promise<LoginAttemptEntry[]> {
    return (await this.read(username)).entries;
  }

  /** One change of one entry of an existing record. A record that is gone (TTL, after 15 minutes) has nothing to change. */
  private async updateEntry(
    username: string,
    expression: { UpdateExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Record<string, AttributeValue> },
  ): Promise<void> {
    try {
      await callStore(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: marshall({ pk: IMAGING_PK.loginFailures, sk: username }),
            ConditionExpression: 'attribute_exists(#attempts)',
            ...expression,
          }),
        ),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  private async read(username: string): Promise<AttemptRecord> {
    const result = await callStore(() =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: IMAGING_PK.loginFailures, sk: username }),
          ProjectionExpression: '#attempts, #revision, #failures',
          ExpressionAttributeNames: { '#attempts': 'attempts', '#revision': 'revision', '#failures': 'failures' },
          ConsistentRead: true,
        }),
      ),
    );
    const item = result.Item ? unmarshall(result.Item) : {};
    const entries: LoginAttemptEntry[] = [];
    const attempts = item.attempts;
    if (typeof attempts === 'object' && attempts !== null && !Array.isArray(attempts)) {
      for (const [id, value] of Object.entries(attempts as Record<string, unknown>)) {
        const { at, state } = (value ?? {}) as { at?: unknown; state?: unknown };
        // Anything unreadable counts as a long-expired failure, so the next reservation removes it.
        entries.push(
          typeof at === 'number' && typeof state === 'string' && ATTEMPT_STATES.has(state)
            ? { id, at, state: state as LoginAttemptState }
            : { id, at: 0, state: 'FAILED' },
        );
      }
    }
    // The previous version's record: a list of failure times. Read as failures; converted on the next reservation.
    if (Array.isArray(item.failures)) {
      item.failures.forEach((at, i) => {
        if (typeof at === 'number') entries.push({ id: `legacy-${i}`, at, state: 'FAILED' });
      });
    }
    return { revision: typeof item.revision === 'number' ? item.revision : undefined, entries };
  }

  /** The conditional write of one reservation, decided on `record`. */
  private reservation(username: string, attemptId: string, nowMs: number, record: AttemptRecord, stale: LoginAttemptEntry[]): UpdateItemCommand {
    const key = marshall({ pk: IMAGING_PK.loginFailures, sk: username });
    const entry = { at: nowMs, state: 'PENDING' };
    if (record.revision === undefined) {
      // First reservation: the whole map at once (with what still counts of an old failure list).
      const staleIds = new Set(stale.map((e) => e.id));
      const attempts: Record<string, { at: number; state: string }> = {};
      for (const e of record.entries) if (!staleIds.has(e.id)) attempts[e.id] = { at: e.at, state: e.state };
      attempts[attemptId] = entry;
      return new UpdateItemCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET #attempts = :attempts, #revision = :revision, #expiresAt = :expiresAt REMOVE #failures',
        ConditionExpression: 'attribute_not_exists(#revision)',
        ExpressionAttributeNames: { '#attempts': 'attempts', '#revision': 'revision', '#expiresAt': 'expiresAt', '#failures': 'failures' },
        ExpressionAttributeValues: marshall({ ':attempts': attempts, ':revision': 1, ':expiresAt': loginAttemptsExpiresAt(nowMs) }),
      });
    }
    const names: Record<string, string> = { '#attempts': 'attempts', '#revision': 'revision', '#expiresAt': 'expiresAt', '#new': attemptId };
    const values: Record<string, unknown> = { ':entry': entry, ':revision': record.revision, ':next': record.revision + 1, ':expiresAt': loginAttemptsExpiresAt(nowMs) };
    const removals: string[] = [];
    const conditions = ['#revision = :revision'];
    stale.slice(0, MAX_STALE_REMOVALS).forEach((e, i) => {
      names[`#s${i}`] = e.id;
      removals.push(`#attempts.#s${i}`);
      if (e.state === 'PENDING') {
        // Unless it was marked FAILED meanwhile (a failure that must keep counting).
        names['#state'] = 'state';
        values[':pending'] = 'PENDING';
        conditions.push(`#attempts.#s${i}.#state = :pending`);
      }
    });
    return new UpdateItemCommand({
      TableName: this.tableName,
      Key: key,
      UpdateExpression: `SET #attempts.#new = :entry, #revision = :next, #expiresAt = :expiresAt${removals.length > 0 ? ` REMOVE ${removals.join(', ')}` : ''}`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall(values),
    });
  }
}
