// Faults DynamoDB Local cannot produce on demand (aws-sdk-client-mock), through the check-in handler: after a write
// whose outcome is unknown (a timeout, a lost connection, a 5xx) the answer is the truth, read back strongly
// consistent: the check-in's own claim landed (carry on), another answer was recorded (store its decision and status,
// then replay it), the checkinId is another device's (409), or nothing can be told (503 UNAVAILABLE, the device's
// retry finds out). Never a 500.
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, InternalServerError, ProvisionedThroughputExceededException, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildCheckinWrites, DynamoDbDecisionStore } from '../../lib/adapters/dynamodb/decision-store.ts';
import { InMemoryUnauthenticatedAttemptStore } from '../../lib/adapters/memory/attempt-store.ts';
import { InMemoryConfigStore } from '../../lib/adapters/memory/config-store.ts';
import { PolicyCache } from '../../lib/services/policy-cache.ts';
import { makeDecision } from '../support/decisions.ts';
import { checkinEvent } from '../support/checkin-event.ts';

Object.assign(process.env, { CONFIG_TABLE: 'unused', DECISIONS_TABLE: 'unused', DEVICE_STATUS_TABLE: 'unused' });
const { makeHandler } = await import('../../functions/check-in.ts');

const NOW = '2026-12-01T10:00:00.000Z';
const clock = { now: () => new Date(NOW) };
const TABLES = { decisionsTable: 'Decisions', deviceStatusTable: 'DeviceStatus', retentionDays: 90, idempotencyRetentionDays: 3 };
const FRESH_BODY = { checkinId: 'c-1', deviceId: 'D1', decision: 'ACCEPT', enforced: true, violations: [], exempted: [], warnings: [], settingsVersion: 1, evaluatedAt: NOW };

const timeout = () => Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
const connectionReset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const serverError = () => new InternalServerError({ message: 'Internal server error', $metadata: { httpStatusCode: 500 } });
const UNKNOWN_OUTCOMES: [string, () => Error][] = [
  ['a timeout', timeout],
  ['a lost connection', connectionReset],
  ['a 500', serverError],
];

const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
const dynamo = mockClient(client);
beforeEach(() => dynamo.reset());

async function checkIn(): Promise<{ status: number; headers: Record<string, unknown>; body: unknown }> {
  const handler = makeHandler({
    policies: new PolicyCache(new InMemoryConfigStore(), clock),
    decisions: new DynamoDbDecisionStore(client, TABLES),
    attempts: new InMemoryUnauthenticatedAttemptStore(),
    clock,
  });
  const response = (await handler(checkinEvent({ clientTime: NOW }), { getRemainingTimeInMillis: () => 10_000 } as Context)) as APIGatewayProxyStructuredResultV2;
  return { status: response.statusCode!, headers: response.headers ?? {}, body: JSON.parse(response.body!) };
}

const UNAVAILABLE = { status: 503, body: { error: { code: 'UNAVAILABLE', message: expect.any(String), requestId: 'req-1' } } };
const isClaim = { Item: { pk: { S: 'CHECKIN#c-1' }, sk: { S: 'CHECKIN' } } } as never;
const isDecision = { Item: { pk: { S: 'DEVICE#D1' } } } as never;
const isStatus = { TableName: 'DeviceStatus' } as never;

/** The Puts DynamoDB was sent, by what they wrote. */
function puts(): string[] {
  return dynamo.commandCalls(PutItemCommand).map((call) => {
    const item = unmarshall(call.args[0].input.Item!);
    return item.pk === undefined ? `status ${item.deviceId}` : String(item.pk).split('#')[0].toLowerCase();
  });
}

/** Another invocation's finished check-in of D1 with the same checkinId: its claim and its decision as stored. */
function recordedEarlier(deviceId = 'D1') {
  const earlier = makeDecision({ checkinId: 'c-1', deviceId, decision: 'BLOCK', violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'm' }], evaluatedAt: '2026-12-01T09:59:58.000Z', statusCode: 403 });
  return buildCheckinWrites(TABLES, earlier, { statusCode: 403, body: '{"recorded":"earlier"}' }, undefined);
}

describe('the claim of the checkinId, when its outcome is unknown', () => {
  it.each(UNKNOWN_OUTCOMES)('after %s, finds its own claim landed and records the rest: 200 with the fresh answer', async (_case, fault) => {
    let landed: Record<string, unknown> | undefined;
    dynamo.on(PutItemCommand, isClaim).callsFake((input) => {
      landed = input.Item;
      throw fault();
    });
    dynamo.on(GetItemCommand).callsFake(() => ({ Item: landed }));
    const answer = await checkIn();
    expect([answer.status, answer.headers['Idempotent-Replay'], answer.body]).toEqual([200, undefined, FRESH_BODY]);
    expect(puts()).toEqual(['checkin', 'device', 'status D1']);
    expect(dynamo.commandCalls(GetItemCommand).map((call) => call.args[0].input.ConsistentRead)).toEqual([true]);
  });

  it.each(UNKNOWN_OUTCOMES)('after %s, finds no claim: 503, nothing else written', async (_case, fault) => {
    dynamo.on(PutItemCommand, isClaim).rejects(fault());
    dynamo.on(GetItemCommand).resolves({});
    expect(await checkIn()).toMatchObject(UNAVAILABLE);
    expect(puts()).toEqual(['checkin']);
  });

  it.each(UNKNOWN_OUTCOMES)('after %s, cannot read the claim back: 503, nothing else written', async (_case, fault) => {
    dynamo.on(PutItemCommand, isClaim).rejects(fault());
    dynamo.on(GetItemCommand).rejects(connectionReset());
    expect(await checkIn()).toMatchObject(UNAVAILABLE);
    expect(puts()).toEqual(['checkin']);
  });

  it("after a timeout, finds the device's earlier answer: replays it, having stored its decision and status first", async () => {
    dynamo.on(PutItemCommand, isClaim).rejects(timeout());
    dynamo.on(GetItemCommand).resolves({ Item: recordedEarlier().claim.Item });
    const answer = await checkIn();
    expect([answer.status, answer.headers['Idempotent-Replay'], answer.body]).toEqual([403, 'true', { recorded: 'earlier' }]);
    // No decision of this attempt: the earlier one's, and its status (idempotent if its writer had stored them).
    expect(puts()).toEqual(['checkin', 'device', 'status D1']);
    const [, decisionPut, statusPut] = dynamo.commandCalls(PutItemCommand).map((call) => unmarshall(call.args[0].input.Item!));
    expect([decisionPut.sk, decisionPut.decision]).toEqual(['2026-12-01T09:59:58.000Z#c-1', 'BLOCK']);
    expect(statusPut).toMatchObject({ checkinId: 'c-1', status: 'BLOCKED', lastCheckinAt: '2026-12-01T09:59:58.000Z' });
  });

  it("refused, and the earlier answer's decision cannot be stored: 503, never the replay", async () => {
    dynamo.on(PutItemCommand, isClaim).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 }, Item: recordedEarlier().claim.Item }));
    dynamo.on(PutItemCommand, isDecision).rejects(timeout());
    expect(await checkIn()).toMatchObject(UNAVAILABLE);
  });

  it("after a timeout, finds the checkinId is another device's: 409 CHECKIN_ID_CONFLICT", async () => {
    dynamo.on(PutItemCommand, isClaim).rejects(timeout());
    dynamo.on(GetItemCommand).resolves({ Item: recordedEarlier('OTHER').claim.Item });
    const answer = await checkIn();
    expect([answer.status, answer.body]).toEqual([409, { error: { code: 'CHECKIN_ID_CONFLICT', message: expect.any(String), requestId: 'req-1' } }]);
    expect(puts()).toEqual(['checkin']);
  });

  it("refused as already taken by its own earlier attempt (the SDK's resend of a write that landed): records the rest", async () => {
    dynamo.on(PutItemCommand, isClaim).callsFake((input) => {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 }, Item: input.Item });
    });
    const answer = await checkIn();
    expect([answer.status, answer.headers['Idempotent-Replay'], answer.body]).toEqual([200, undefined, FRESH_BODY]);
    expect(puts()).toEqual(['checkin', 'device', 'status D1']);
  });

  it('throttled (the write was refused, not applied): 503 without reading back', async () => {
    dynamo.on(PutItemCommand, isClaim).rejects(new ProvisionedThroughputExceededException({ message: 'throughput exceeded', $metadata: { httpStatusCode: 400 } }));
    expect(await checkIn()).toMatchObject(UNAVAILABLE);
    expect(dynamo.commandCalls(GetItemCommand)).toEqual([]);
  });
});

describe('the writes after the claim', () => {
  it.each(UNKNOWN_OUTCOMES)('the decision after %s: 503 though the status (written beside it) landed; the claim left for the retry to finish', async (_case, fault) => {
    dynamo.on(PutItemCommand, isDecision).rejects(fault());
    expect(await checkIn()).toMatchObject(UNAVAILABLE);
    expect(puts()).toEqual(['checkin', 'device', 'status D1']);
  });

  it.each(UNKNOWN_OUTCOMES)('the status after %s: 503 (the retry replays and writes the status)', async (_case, fault) => {
    dynamo.on(PutItemCommand, isStatus).rejects(fault());
    expect(await checkIn()).toMatchObject(UNAVAILABLE);
    expect(puts()).toEqual(['checkin', 'device', 'status D1']);
  });
});
