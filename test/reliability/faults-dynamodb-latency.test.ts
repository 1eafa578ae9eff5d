// DynamoDB slowed at the HTTP layer (a proxy that holds DynamoDB's answers back) under check-ins through the local
// runner: 503 with Retry-After before the function's timeout, never a decision or status without its claim, and the
// device's retry replays whatever did land once its decision and status are stored.
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import type { LocalStack } from '../../local/stack.ts';
import { type LatencyProxy, startLatencyProxy } from '../support/fault-proxy.ts';
import { startTestStack } from '../support/local-stack.ts';
import { FUNCTION_TIMEOUT_MS, recordedDecisions, send } from '../support/fault-checkins.ts';

describe('DynamoDB slowed at the HTTP layer', () => {
  let proxy: LatencyProxy;
  let stack: LocalStack;
  let client: DynamoDBClient;

  beforeAll(async () => {
    const endpoint = inject('dynamoDbEndpoint');
    proxy = await startLatencyProxy(endpoint);
    stack = await startTestStack({ dynamoDbEndpoint: proxy.url });
    client = localDynamoDbClient(endpoint);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await proxy?.stop();
    client?.destroy();
  });

  it('503 before the function times out, never a decision without its claim, and the retry replays whatever landed', async () => {
    const devices = Array.from({ length: 6 }, (_, i) => `SLOW-${i}`);
    // The policy is loaded (and cached) before DynamoDB slows down, so that the writes themselves are slowed.
    expect((await send(stack.httpUrl, 'slow-warm-up', 'SLOW-WARM', true)).status).toBe(200);
    proxy.setDelay(2_500);
    const slowed = await Promise.all(devices.map((deviceId, i) => send(stack.httpUrl, `slow-${i}`, deviceId, i % 2 === 0)));
    proxy.setDelay(0);
    expect(slowed.map((a) => ({ status: a.status, retryAfter: a.retryAfter }))).toEqual(devices.map(() => ({ status: 503, retryAfter: expect.stringMatching(/^\d+$/) })));
    for (const answer of slowed) expect(answer.ms, answer.checkinId).toBeLessThan(FUNCTION_TIMEOUT_MS);
    // Writes that reached DynamoDB before their caller gave up land now; give them a moment.
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    let landed = 0;
    const stored = async (checkinId: string, deviceId: string) => {
      const idempotency = await client.send(new GetItemCommand({ TableName: stack.tableNames.DecisionsTable, Key: { pk: { S: `CHECKIN#${checkinId}` }, sk: { S: 'CHECKIN' } }, ConsistentRead: true }));
      const decisions = (await recordedDecisions(client, stack.tableNames.DecisionsTable, [deviceId])).get(checkinId) ?? [];
      const status = await client.send(new GetItemCommand({ TableName: stack.tableNames.DeviceStatusTable, Key: { deviceId: { S: deviceId } }, ConsistentRead: true }));
      return { claimed: idempotency.Item !== undefined, decisions: decisions.length, status: status.Item?.checkinId?.S === checkinId };
    };
    for (const [i, deviceId] of devices.entries()) {
      const checkinId = `slow-${i}`;
      // The check-ins are written in order (claim, decision, status): a 503 may leave the claim alone, never a
      // decision or a status without it.
      const before = await stored(checkinId, deviceId);
      if (before.claimed) landed += 1;
      if (!before.claimed) expect(before, `${checkinId}: written without its claim`).toEqual({ claimed: false, decisions: 0, status: false });
      // The device's retry: the claimed answer replayed once its decision and status are stored, or the first decision now.
      const retry = await send(stack.httpUrl, checkinId, deviceId, i % 2 === 0);
      expect({ status: retry.status, replay: retry.replay }).toEqual({ status: i % 2 === 0 ? 200 : 403, replay: before.claimed });
      expect(await stored(checkinId, deviceId), `${checkinId}: answered without its decision and status`).toEqual({ claimed: true, decisions: 1, status: true });
    }
    console.log(`DynamoDB slowed by 2.5 s: ${slowed.length} check-ins answered 503 in ${Math.min(...slowed.map((a) => a.ms))}-${Math.max(...slowed.map((a) => a.ms))} ms; ${landed} had been claimed (replayed on retry, their decision and status finished), the rest not at all`);
  }, 120_000);
});
