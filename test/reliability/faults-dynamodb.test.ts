// DynamoDB Local stopped in the middle of a stream of check-ins through the local runner: those check-ins get 503
// with Retry-After, never ACCEPT, never a hang past the function's 10 s timeout; after the restart the devices'
// retries leave every check-in recorded exactly once. (DynamoDB slowed: faults-dynamodb-latency.test.ts; the
// handlers read their endpoint at import, so each stack has a file of its own.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoDbLocal, localDynamoDbClient, startDynamoDbLocal } from '../../local/dynamodb-local.ts';
import type { LocalStack } from '../../local/stack.ts';
import { type Answer, FUNCTION_TIMEOUT_MS, recordedDecisions, send } from '../support/fault-checkins.ts';
import { startTestStack } from '../support/local-stack.ts';

describe('DynamoDB Local stopped in the middle of a stream of check-ins', () => {
  let dynamoDb: DynamoDbLocal;
  let stack: LocalStack;
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-fault-dynamodb-'));

  beforeAll(async () => {
    dynamoDb = await startDynamoDbLocal({ port: 0, dataDir: join(dataDir, 'dynamodb') });
    stack = await startTestStack({ dynamoDbEndpoint: dynamoDb.endpoint });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await dynamoDb?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('503 with Retry-After while it is down, never ACCEPT unrecorded; after the restart the retries record each check-in exactly once', async () => {
    const TOTAL = 120;
    const WORKERS = 4;
    const devices = Array.from({ length: 8 }, (_, i) => `FAULT-${i}`);
    const plan = Array.from({ length: TOTAL }, (_, i) => ({ checkinId: `fault-${i}`, deviceId: devices[i % devices.length], compliant: i % 3 !== 0 }));
    const answers: Answer[] = [];
    let next = 0;
    let outage: Promise<void> | undefined;
    const worker = async () => {
      while (next < plan.length) {
        const item = plan[next++];
        answers.push(await send(stack.httpUrl, item.checkinId, item.deviceId, item.compliant));
        if (answers.length === 30 && !outage) {
          // Down for a few seconds while the stream goes on, then back on the same port with the same data.
          outage = (async () => {
            await dynamoDb.stop();
            await new Promise((resolve) => setTimeout(resolve, 3_000));
            dynamoDb = await startDynamoDbLocal({ port: dynamoDb.port, dataDir: join(dataDir, 'dynamodb') });
          })();
        }
        // Pace the stream so that part of it falls into the outage.
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    await outage;

    expect(answers.filter((a) => ![200, 403, 503].includes(a.status))).toEqual([]);
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length, 'the outage was seen by the stream').toBeGreaterThan(0);
    for (const answer of refused) expect(answer.retryAfter, answer.checkinId).toMatch(/^\d+$/);
    expect(answers.filter((a) => a.ms >= FUNCTION_TIMEOUT_MS)).toEqual([]);

    // The devices retry what was answered 503, honouring Retry-After, until they get a decision.
    const finalAnswers = new Map(answers.filter((a) => a.status !== 503).map((a) => [a.checkinId, a]));
    let retries = 0;
    for (const answer of refused) {
      const item = plan.find((p) => p.checkinId === answer.checkinId)!;
      for (let attempt = 0; ; attempt += 1) {
        const retry = await send(stack.httpUrl, item.checkinId, item.deviceId, item.compliant);
        retries += 1;
        if (retry.status !== 503) {
          finalAnswers.set(item.checkinId, retry);
          break;
        }
        expect(attempt, `${item.checkinId} still 503 after the restart`).toBeLessThan(30);
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, Number(retry.retryAfter ?? 1) * 1_000)));
      }
    }

    const recorded = await recordedDecisions(localDynamoDbClient(dynamoDb.endpoint), stack.tableNames.DecisionsTable, devices);
    // Exactly once: one decision per check-in, no more, none missing.
    expect([...recorded.entries()].filter(([, list]) => list.length !== 1)).toEqual([]);
    expect([...recorded.keys()].sort()).toEqual(plan.map((p) => p.checkinId).sort());
    // Every decision answered is the one recorded (an ACCEPT was never answered for what was not recorded).
    for (const [checkinId, answer] of finalAnswers) expect({ checkinId, decision: answer.decision }).toEqual({ checkinId, decision: recorded.get(checkinId)![0] });
    console.log(
      `DynamoDB Local stopped mid-stream: ${answers.length} check-ins, ${refused.length} answered 503 (slowest ${Math.max(...answers.map((a) => a.ms))} ms), ${retries} retries, ${[...finalAnswers.values()].filter((a) => a.replay).length} of them replays; each recorded once`,
    );
  }, 240_000);
});
