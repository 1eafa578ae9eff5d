// DynamoDB adapter for decisions, the idempotency records of check-ins, and (written with them) the current status
// of each device. The check-in writes (DynamoDbDecisionStore); admins only read (DynamoDbDecisionReader).
//
// A check-in is three single-item writes, not a transaction (docs/decisions.md "Write units per check-in" has the
// measured costs): first the claim of its checkinId (conditional: no one has claimed it), which holds the answer
// and the decision it was given with; then, side by side, the decision and the device's status. The later two are
// idempotent, so whoever finds the claim can finish them: a retry of the same device writes the claim's decision and
// status (again, or for the first time if its writer failed before) and only then replays the claim's answer. No
// answer is ever given for a check-in whose decision and status are not stored.
import { randomBytes } from 'node:crypto';
import type { AttributeValue, DynamoDBClient, PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import { GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DecisionReader, DecisionRecord, DecisionWriter, RecordedResponse, RecordOutcome, ReplayBinding } from '../../ports/decision-store.ts';
import type { DeviceStatus, DeviceStatusRecord, DeviceStatusStore, ObservedDevicesPage } from '../../ports/device-status-store.ts';
import { StoreUnavailableError } from '../../ports/errors.ts';
import type { Page } from '../../ports/page.ts';
import { deviceStatusOf } from '../device-status.ts';
import { callStore, isStoreUnavailable } from './client.ts';
import { DynamoDbDeviceStatusStore } from './device-status-store.ts';
import { decodeFacts, encodeFacts } from './facts-codec.ts';
import { ALERT_RELEVANT_ATTRIBUTE, decisionKey, statusIndexKey, statusShardOf } from './keys.ts';
import { decodeStartKey, encodeStartKey } from './pagination.ts';

export interface DecisionTables {
  decisionsTable: string;
  deviceStatusTable: string;
  /** How long decisions are kept (DynamoDB TTL). */
  retentionDays: number;
  /** How long idempotency records (the replayable answers) are kept; 3 days when not given. */
  idempotencyRetentionDays?: number;
}

export const DEFAULT_IDEMPOTENCY_RETENTION_DAYS = 3;

const DECISION_FIELDS = ['checkinId', 'deviceId', 'decision', 'enforced', 'violations', 'exempted', 'exemptionExpired', 'warnings', 'facts', 'settingsVersion', 'evaluatedAt', 'statusCode'] as const;

/** A decision item as stored (facts compact) read back as the record it was made from. */
function decisionFromItem(item: Record<string, unknown>): DecisionRecord {
  const record: Record<string, unknown> = {};
  for (const field of DECISION_FIELDS) if (item[field] !== undefined) record[field] = item[field];
  record.facts = decodeFacts(item.facts, item.evaluatedAt as string);
  return record as unknown as DecisionRecord;
}

/** Reads a device's decisions (the decisions table). */
export class DynamoDbDecisionReader implements DecisionReader {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly decisionsTable: string,
  ) {}

  /** A device's decisions, newest first. */
  async listDecisions(deviceId: string, limit: number, nextToken?: string): Promise<Page<DecisionRecord>> {
    const pk = decisionKey.devicePk(deviceId);
    const startKey = decodeStartKey(nextToken, ['pk', 'sk'], (key) => key.pk === pk);
    const result = await callStore(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.decisionsTable,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: startKey,
        }),
      ),
    );
    const items = (result.Items ?? []).map((raw) => decisionFromItem(unmarshall(raw)));
    return { items, nextToken: encodeStartKey(result.LastEvaluatedKey) };
  }
}

type Claimed = { outcome: 'CLAIMED' };

/** The check-in's store: records decisions with their status and answer; reads as the reader and status store do. */
export class DynamoDbDecisionStore implements DecisionWriter, DecisionReader, DeviceStatusStore {
  private readonly reader: DynamoDbDecisionReader;
  private readonly statuses: DynamoDbDeviceStatusStore;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tables: DecisionTables,
  ) {
    this.reader = new DynamoDbDecisionReader(client, tables.decisionsTable);
    this.statuses = new DynamoDbDeviceStatusStore(client, tables.deviceStatusTable);
  }

  async record(decision: DecisionRecord, response: RecordedResponse, binding?: ReplayBinding): Promise<RecordOutcome> {
    // The token tells this invocation's claim (landed, its answer lost) from an identical one a parallel retry of the
    // same check-in wrote in the same millisecond: only the first writer records, every other one replays.
    const writes = buildCheckinWrites(this.tables, decision, response, binding, randomBytes(9).toString('base64url'));
    const claim = await this.claim(writes, decision, binding);
    if (claim.outcome !== 'CLAIMED') return claim;
    // Both writes are idempotent: after a failure (answered 503) the device's retry finishes them from the claim.
    await this.writeDecisionAndStatus(writes);
    return { outcome: 'RECORDED' };
  }

  listDecisions(deviceId: string, limit: number, nextToken?: string): Promise<Page<DecisionRecord>> {
    return this.reader.listDecisions(deviceId, limit, nextToken);
  }

  listDevices(status: DeviceStatus, limit: number, nextToken?: string): Promise<Page<DeviceStatusRecord>> {
    return this.statuses.listDevices(status, limit, nextToken);
  }

  observedSince(since: string, until: string): AsyncIterable<ObservedDevicesPage> {
    return this.statuses.observedSince(since, until);
  }

  /**
   * Claims the checkinId for this check-in, or says whose it is. After a write whose outcome is unknown (a timeout,
   * a lost connection, a 5xx: it may have landed), the claim is read back, strongly consistent, to tell.
   */
  private async claim(writes: CheckinWrites, decision: DecisionRecord, binding: ReplayBinding | undefined): Promise<RecordOutcome | Claimed> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      let existing: Record<string, unknown> | undefined;
      try {
        await callStore(() => this.client.send(new PutItemCommand(writes.claim)));
        return { outcome: 'CLAIMED' };
      } catch (error) {
        if (isConditionFailure(error)) {
          existing = error.Item ? unmarshall(error.Item) : await this.readClaim(decision.checkinId);
        } else if (isOutcomeUnknown(error)) {
          existing = await this.readClaim(decision.checkinId);
          if (!existing) throw new StoreUnavailableError(error);
        } else {
          throw error;
        }
      }
      // Gone between the refusal and the read (its TTL): claim again.
      if (!existing) continue;
      // Ours: our own write landed (the SDK's retry of it, or a write whose answer was lost).
      if (isClaimOf(existing, writes)) return { outcome: 'CLAIMED' };
      if (existing.deviceId !== decision.deviceId) return { outcome: 'CONFLICT' };
      if (binding && existing.fingerprint !== binding.fingerprint) return { outcome: 'CONFLICT' };
      await this.finish(existing);
      return { outcome: 'REPLAY', response: { statusCode: existing.statusCode as number, body: existing.body as string } };
    }
    throw new StoreUnavailableError();
  }

  /**
   * Writes the decision and the status of another invocation's claim of this device, so that its answer is replayed
   * only once both are stored, whether its writer finished, failed or is still at it (the writes are idempotent).
   */
  private async finish(claim: Record<string, unknown>): Promise<void> {
    // Written before claims carried their decision: in one transaction with the decision and the status.
    if (typeof claim.record !== 'string') return;
    await this.writeDecisionAndStatus(buildCheckinWrites(this.tables, decisionFromClaim(claim), { statusCode: claim.statusCode as number, body: claim.body as string }, undefined));
  }

  /** Side by side: neither depends on the other, and both must be stored before an answer is given. */
  private async writeDecisionAndStatus(writes: CheckinWrites): Promise<void> {
    const [decision, status] = await Promise.allSettled([callStore(() => this.client.send(new PutItemCommand(writes.decision))), this.writeStatus(writes)]);
    if (decision.status === 'rejected') throw decision.reason;
    if (status.status === 'rejected') throw status.reason;
  }

  /**
   * The device's status, unless a newer check-in set it. Unchanged decision and codes: written without the alert
   * marker, under that condition; otherwise (or for a new device), with it.
   */
  private async writeStatus(writes: CheckinWrites): Promise<void> {
    try {
      await callStore(() => this.client.send(new PutItemCommand(writes.steadyStatus)));
      return;
    } catch (error) {
      if (!isConditionFailure(error)) throw unavailableOr(error);
      const stored = error.Item ? unmarshall(error.Item) : undefined;
      if (typeof stored?.lastCheckinAt === 'string' && stored.lastCheckinAt > writes.evaluatedAt) return;
    }
    try {
      await callStore(() => this.client.send(new PutItemCommand(writes.changedStatus)));
    } catch (error) {
      if (isConditionFailure(error)) return; // a newer check-in set it meanwhile
      throw unavailableOr(error);
    }
  }

  private async readClaim(checkinId: string): Promise<Record<string, unknown> | undefined> {
    const result = await callStore(() =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tables.decisionsTable,
          Key: marshall({ pk: decisionKey.checkinPk(checkinId), sk: decisionKey.checkinSk }),
          ConsistentRead: true,
        }),
      ),
    );
    return result.Item ? unmarshall(result.Item) : undefined;
  }
}

/** The writes of one check-in, each a single-item Put. */
export interface CheckinWrites {
  evaluatedAt: string;
  /**
   * The idempotency record: the answer, whose it is, and the decision it was given with (so that a retry can finish
   * the check-in); only if no one has claimed the checkinId.
   */
  claim: PutItemCommandInput;
  /** The decision, filed under the device by time. */
  decision: PutItemCommandInput;
  /** The status when the stored one has the same decision and codes and is not newer: without the alert marker. */
  steadyStatus: PutItemCommandInput;
  /** The status after a change (or a device's first): with the alert marker, unless a newer check-in set it. */
  changedStatus: PutItemCommandInput;
}

const days = (at: string, count: number) => Math.floor(Date.parse(at) / 1000) + count * 86400;

/** Builds the check-in's writes; pure, so that what each holds and guards is unit-tested without DynamoDB. */
export function buildCheckinWrites(
  tables: DecisionTables,
  decision: DecisionRecord,
  response: RecordedResponse,
  binding: ReplayBinding | undefined,
  /** Names the invocation that writes the claim (absent when finishing another invocation's claim). */
  claimToken?: string,
): CheckinWrites {
  const { evaluatedAt } = decision;
  const facts = encodeFacts(decision.facts, evaluatedAt);
  const status = statusItem(decision, facts);
  const notNewer = 'attribute_not_exists(deviceId) OR lastCheckinAt <= :evaluatedAt';
  return {
    evaluatedAt,
    claim: {
      TableName: tables.decisionsTable,
      Item: marshall(
        {
          pk: decisionKey.checkinPk(decision.checkinId),
          sk: decisionKey.checkinSk,
          deviceId: decision.deviceId,
          evaluatedAt,
          statusCode: response.statusCode,
          body: response.body,
          fingerprint: binding?.fingerprint,
          claimToken,
          record: JSON.stringify(recordOf(decision)),
          facts,
          expiresAt: days(evaluatedAt, tables.idempotencyRetentionDays ?? DEFAULT_IDEMPOTENCY_RETENTION_DAYS),
        },
        { removeUndefinedValues: true },
      ),
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
    decision: {
      TableName: tables.decisionsTable,
      Item: marshall(
        { pk: decisionKey.devicePk(decision.deviceId), sk: decisionKey.decisionSk(evaluatedAt, decision.checkinId), ...decision, facts, expiresAt: days(evaluatedAt, tables.retentionDays) },
        { removeUndefinedValues: true },
      ),
    },
    steadyStatus: {
      TableName: tables.deviceStatusTable,
      Item: marshall(status, { removeUndefinedValues: true }),
      ConditionExpression: 'lastCheckinAt <= :evaluatedAt AND #status = :status AND violationCodes = :codes',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: marshall({ ':evaluatedAt': evaluatedAt, ':status': status.status, ':codes': status.violationCodes }),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
    changedStatus: {
      TableName: tables.deviceStatusTable,
      Item: marshall({ ...status, [ALERT_RELEVANT_ATTRIBUTE]: true }, { removeUndefinedValues: true }),
      ConditionExpression: notNewer,
      ExpressionAttributeValues: marshall({ ':evaluatedAt': evaluatedAt }),
    },
  };
}

/** The status item: what the alerts and the listings read, with the index keys of the device's shard. */
function statusItem(decision: DecisionRecord, facts: string) {
  const status = deviceStatusOf(decision);
  return {
    ...status,
    violationCodes: [...new Set(decision.violations.map((v) => v.code))].sort(),
    facts,
    statusShard: statusIndexKey.shard(status.status, statusShardOf(decision.deviceId)),
    statusSk: statusIndexKey.sortKey(status.lastCheckinAt, decision.deviceId),
  };
}

/** What the claim keeps of the decision besides its keys, time and facts (stored beside it). */
function recordOf(decision: DecisionRecord): Omit<DecisionRecord, 'checkinId' | 'deviceId' | 'evaluatedAt' | 'facts'> {
  const { checkinId: _checkinId, deviceId: _deviceId, evaluatedAt: _evaluatedAt, facts: _facts, ...record } = decision;
  return record;
}

/** The decision a claim was answered with. */
function decisionFromClaim(claim: Record<string, unknown>): DecisionRecord {
  const evaluatedAt = claim.evaluatedAt as string;
  return {
    checkinId: String(claim.pk).slice(decisionKey.checkinPk('').length),
    deviceId: claim.deviceId as string,
    ...(JSON.parse(claim.record as string) as ReturnType<typeof recordOf>),
    facts: decodeFacts(claim.facts, evaluatedAt)!,
    evaluatedAt,
  };
}

/** A claim this very invocation wrote (its token): its own write landed, the answer to it was lost. */
function isClaimOf(existing: Record<string, unknown>, writes: CheckinWrites): boolean {
  const ours = unmarshall(writes.claim.Item!);
  return typeof ours.claimToken === 'string' && existing.claimToken === ours.claimToken;
}

function isConditionFailure(error: unknown): error is { name: string; Item?: Record<string, AttributeValue> } {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/** Failures after which a write may or may not have landed: timeouts, lost connections, 5xx. Throttling did not. */
export function isOutcomeUnknown(error: unknown): boolean {
  const cause = error instanceof StoreUnavailableError ? error.cause : error;
  if (typeof cause !== 'object' || cause === null) return false;
  const e = cause as { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout' || e.name === 'AbortError') return true;
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined) return isStoreUnavailable(cause);
  return status >= 500 || e.$fault === 'server';
}

function unavailableOr(error: unknown): unknown {
  return error instanceof StoreUnavailableError || !isStoreUnavailable(error) ? error : new StoreUnavailableError(error);
}
