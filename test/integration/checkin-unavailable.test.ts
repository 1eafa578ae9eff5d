// When the store cannot be reached or fails mid-way, a check-in is answered 503 with Retry-After, never accepted.
import { createServer } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '../../lib/adapters/dynamodb/client.ts';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbUnauthenticatedAttemptStore } from '../../lib/adapters/dynamodb/attempt-store.ts';
import { DynamoDbDecisionStore } from '../../lib/adapters/dynamodb/decision-store.ts';
import { systemClock } from '../../lib/adapters/system-clock.ts';
import { PolicyCache } from '../../lib/services/policy-cache.ts';
import { createTestTables } from '../support/dynamodb.ts';
import { checkinEvent } from '../support/checkin-event.ts';

// The module builds its production handler at import, from the environment; this test uses makeHandler only.
Object.assign(process.env, { CONFIG_TABLE: 'unused', DECISIONS_TABLE: 'unused', DEVICE_STATUS_TABLE: 'unused' });
const { makeHandler } = await import('../../functions/check-in.ts');

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

function handlerFor(client: DynamoDBClient, tables: { configTable: string; decisionsTable: string; deviceStatusTable: string }) {
  return makeHandler({
    policies: new PolicyCache(new DynamoDbConfigStore(client, tables.configTable), systemClock),
    decisions: new DynamoDbDecisionStore(client, { ...tables, retentionDays: 90 }),
    attempts: new DynamoDbUnauthenticatedAttemptStore(client, tables.decisionsTable),
    clock: systemClock,
  });
}

describe('check-in while the store is unavailable', () => {
  it('answers 503 UNAVAILABLE with Retry-After when DynamoDB cannot be reached', async () => {
    const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${await closedPort()}`, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    const response = await handlerFor(client, { configTable: 'c', decisionsTable: 'd', deviceStatusTable: 's' })(checkinEvent(), {} as Context);
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '1', 'content-type': 'application/json' });
    expect(JSON.parse(response.body!)).toEqual({ error: { code: 'UNAVAILABLE', message: expect.any(String), requestId: 'req-1' } });
    expect(response.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
  });

  it('answers 503 within seconds when DynamoDB accepts connections but never answers', async () => {
    const stalled = createServer(() => undefined);
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = stalled.address() as { port: number };
      const client = createDynamoDbClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      const started = Date.now();
      const response = await handlerFor(client, { configTable: 'c', decisionsTable: 'd', deviceStatusTable: 's' })(checkinEvent(), { getRemainingTimeInMillis: () => 10_000 } as Context);
      expect(response.statusCode).toBe(503);
      expect(response.headers).toMatchObject({ 'Retry-After': '1' });
      // Three attempts of 1.5 s, inside the function's 10 s timeout.
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      stalled.close();
    }
  }, 15_000);

  it('answers 503 when the settings load but the decision cannot be recorded, and records nothing', async () => {
    const tables = await createTestTables();
    // The decisions table does not exist: the write fails after evaluation.
    const response = await handlerFor(tables.client, { ...tables.names, decisionsTable: 'missing-table' })(checkinEvent(), {} as Context);
    expect(response.statusCode).toBe(503);
    const page = await new DynamoDbDecisionStore(tables.client, { ...tables.names, retentionDays: 90 }).listDevices('ACCEPTED', 10);
    expect(page.items).toEqual([]);
  });
});
