// DynamoDB adapter for decisions, the idempotency records of check-ins, and (written with them) the current status
// of each device. The check-in writes (DynamoDbDecisionStore); admins only read (DynamoDbDecisionReader).
import type { AttributeValue, DynamoDBClient, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { GetItemCommand, QueryCommand, TransactionCanceledException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DecisionReader, DecisionRecord, DecisionWriter, RecordedResponse, RecordOutcome, ReplayBinding } from '../../ports/decision-store.ts';
import type { DeviceStatus, DeviceStatusRecord, DeviceStatusStore, ObservedDevicesPage } from '../../ports/device-status-store.ts';
import { StoreUnavailableError } from '../../ports/errors.ts';
import type { Page } from '../../ports/page.ts';
import { deviceStatusOf } from '../device-status.ts';
import { callStore } from './client.ts';
import { DynamoDbDeviceStatusStore } from './device-status-store.ts';
import { decisionKey } from './keys.ts';
import { decodeStartKey, encodeStartKey } from './pagination.ts';

export interface DecisionTables {
  decisionsTable: string;
  deviceStatusTable: string;
  /** How long decisions and idempotency records are kept (DynamoDB TTL). */
  retentionDays: number;
}

const DECISION_FIELDS = ['checkinId', 'deviceId', 'decision', 'enforced', 'violations', 'exempted', 'exemptionExpired', 'warnings', 'facts', 'settingsVersion', 'evaluatedAt', 'statusCode'] as const;

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
    const items = (result.Items ?? []).map((raw) => {
      const item = unmarshall(raw);
      const record: Record<string, unknown> = {};
      for (const field of DECISION_FIELDS) if (item[field] !== undefined) record[field] = item[field];
      return record as unknown as DecisionRecord;
    });
    return { items, nextToken: encodeStartKey(result.LastEvaluatedKey) };
  }
}

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
    const writes = buildRecordTransaction(this.tables, decision, response, binding);
    let items = [writes.idempotencyPut, writes.decisionPut, writes.statusPut];
    for (let attempt = 0; ; attempt += 1) {
      try {
        await callStore(() => this.client.send(new TransactWriteItemsCommand({ TransactItems: items })));
        return { outcome: 'RECORDED' };
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (reasons === undefined) throw error;
        const verdict = interpretCancellation(reasons, { withStatus: items.length === 3 });
        if (verdict.kind === 'ALREADY_RECORDED') {
          const existing = verdict.existing ? unmarshall(verdict.existing) : await this.readCheckin(decision.checkinId);
          if (existing) return answerFor(existing, decision.deviceId, binding);
          throw error; // the record that cancelled us is gone (TTL) — nothing sensible to replay
        }
        if (verdict.kind === 'NEWER_STATUS') {
          items = [writes.idempotencyPut, writes.decisionPut];
          continue;
        }
        if (verdict.kind === 'TRANSIENT' && attempt < 3) {
          await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
          continue;
        }
        if (verdict.kind === 'TRANSIENT') throw new StoreUnavailableError(error);
        throw error;
      }
    }
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

  private async readCheckin(checkinId: string): Promise<Record<string, unknown> | undefined> {
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

/** The three writes of one check-in: its idempotency record, its decision, and the device's new status. */
export interface RecordTransaction {
  idempotencyPut: TransactWriteItem;
  decisionPut: TransactWriteItem;
  /** Conditional: a check-in that finishes after a newer one of the same device leaves the newer status. */
  statusPut: TransactWriteItem;
}

/** Builds the transaction's writes; pure, so that its conditions are unit-tested without DynamoDB. */
export function buildRecordTransaction(
  tables: DecisionTables,
  decision: DecisionRecord,
  response: RecordedResponse,
  binding: ReplayBinding | undefined,
): RecordTransaction {
  const expiresAt = Math.floor(Date.parse(decision.evaluatedAt) / 1000) + tables.retentionDays * 86400;
  const status = deviceStatusOf(decision);
  return {
    idempotencyPut: {
      Put: {
        TableName: tables.decisionsTable,
        Item: marshall(
          {
            pk: decisionKey.checkinPk(decision.checkinId),
            sk: decisionKey.checkinSk,
            deviceId: decision.deviceId,
            statusCode: response.statusCode,
            body: response.body,
            fingerprint: binding?.fingerprint,
            expiresAt,
          },
          { removeUndefinedValues: true },
        ),
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    },
    decisionPut: {
      Put: {
        TableName: tables.decisionsTable,
        Item: marshall(
          { pk: decisionKey.devicePk(decision.deviceId), sk: decisionKey.decisionSk(decision.evaluatedAt, decision.checkinId), ...decision, expiresAt },
          { removeUndefinedValues: true },
        ),
      },
    },
    statusPut: {
      Put: {
        TableName: tables.deviceStatusTable,
        Item: marshall({ ...status, violationCodes: [...new Set(decision.violations.map((v) => v.code))].sort() }, { removeUndefinedValues: true }),
        ConditionExpression: 'attribute_not_exists(deviceId) OR lastCheckinAt <= :evaluatedAt',
        ExpressionAttributeValues: { ':evaluatedAt': { S: decision.evaluatedAt } },
      },
    },
  };
}

type CancellationReason = { Code?: string; Item?: Record<string, AttributeValue> };

/** What a cancelled record transaction means, from its per-item reasons (idempotency, decision, status order). */
export type CancellationVerdict =
  /** The checkinId was recorded before; `existing` is that record when DynamoDB returned it. */
  | { kind: 'ALREADY_RECORDED'; existing?: Record<string, AttributeValue> }
  /** A newer check-in of the device set its status: record without the status write. */
  | { kind: 'NEWER_STATUS' }
  /** A concurrent transaction or throttling: try again shortly. */
  | { kind: 'TRANSIENT' }
  | { kind: 'OTHER' };

export function interpretCancellation(reasons: readonly CancellationReason[], options: { withStatus: boolean }): CancellationVerdict {
  if (reasons[0]?.Code === 'ConditionalCheckFailed') return { kind: 'ALREADY_RECORDED', existing: reasons[0].Item };
  if (options.withStatus && reasons[2]?.Code === 'ConditionalCheckFailed') return { kind: 'NEWER_STATUS' };
  const transient = reasons.some((r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError' || r.Code === 'ProvisionedThroughputExceeded');
  return transient ? { kind: 'TRANSIENT' } : { kind: 'OTHER' };
}

/** The first answer to a checkinId, given again only to the same device (and, when bound, the same certificate). */
function answerFor(existing: Record<string, unknown>, deviceId: string, binding: ReplayBinding | undefined): RecordOutcome {
  if (existing.deviceId !== deviceId) return { outcome: 'CONFLICT' };
  if (binding && existing.fingerprint !== binding.fingerprint) return { outcome: 'CONFLICT' };
  return { outcome: 'REPLAY', response: { statusCode: existing.statusCode as number, body: existing.body as string } };
}

/** The per-item reasons of a cancelled transaction, or undefined for any other error. */
function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  if (!(error instanceof TransactionCanceledException) && (error as { name?: string })?.name !== 'TransactionCanceledException') return undefined;
  return (error as TransactionCanceledException).CancellationReasons ?? [];
}
