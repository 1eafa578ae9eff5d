// DynamoDB adapter for the imaging login's attempt record, one item per username (config table):
//   pk LOGIN_FAILURES  sk <username>   { attempts: { <attemptId>: { at, state } }, revision, expiresAt (TTL, epoch s) }
import { type AttributeValue, type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { decideLoginAttempt, type LoginAttemptEntry, type LoginAttemptState, loginAttemptsExpiresAt } from '../../domain/imaging.ts';
import type { LoginAttemptStore, LoginReservation } from '../../ports/login-attempt-store.ts';
import { callStore } from './client.ts';
import { IMAGING_PK } from './keys.ts';

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
