// local/stream-poller.ts against DynamoDB Local's streams: Lambda-shaped events, order, ReportBatchItemFailures
// (retry from the first failure, never skip), the checkpoint across restarts, and drain().
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DeleteItemCommand, type DynamoDBClient, PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import { createTestTables } from '../support/dynamodb.ts';
import { type StreamPoller, type StreamPollerOptions, startStreamPoller } from '../../local/stream-poller.ts';

let client: DynamoDBClient;
const endpoint = inject('dynamoDbEndpoint');
const pollers: StreamPoller[] = [];

beforeAll(() => {
  client = localDynamoDbClient(endpoint);
});
afterEach(async () => {
  for (const poller of pollers.splice(0)) await poller.stop();
});
afterAll(() => client.destroy());

async function streamTable(): Promise<string> {
  const name = `poller-${randomBytes(4).toString('hex')}`;
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'deviceId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'deviceId', KeyType: 'HASH' }],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  return name;
}

const put = (table: string, deviceId: string, n: number) =>
  client.send(new PutItemCommand({ TableName: table, Item: marshall({ deviceId, n, bytes: new Uint8Array([n, 255]) }) }));

function poll(table: string, handler: StreamPollerOptions['handler'], overrides: Partial<StreamPollerOptions> = {}): StreamPoller {
  const poller = startStreamPoller({
    endpoint,
    tableName: table,
    checkpointFile: join(mkdtempSync(join(tmpdir(), 'tollgate-poller-')), 'checkpoint.json'),
    batchSize: 3,
    handler,
    log: () => undefined,
    pollIntervalMs: 50,
    retryDelayMs: 50,
    maxRetryDelayMs: 200,
    ...overrides,
  });
  pollers.push(poller);
  return poller;
}

/** "deviceId:n" of a record's new (or old) image. */
/** Waits until the poller has handed the record to the handler at least once (a short drain then finds it held). */
async function untilCalled(calls: () => number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (calls() === 0) {
    if (Date.now() > deadline) throw new Error(`the handler was not called within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const label = (r: DynamoDBRecord) => {
  const image = unmarshall((r.dynamodb?.NewImage ?? r.dynamodb?.OldImage) as Record<string, AttributeValue>);
  return `${r.eventName}:${image.deviceId}:${image.n}`;
};

describe('stream poller', () => {
  it('hands records over in order as Lambda DynamoDBStreamEvents of at most batchSize records', async () => {
    const table = await streamTable();
    const events: DynamoDBStreamEvent[] = [];
    const poller = poll(table, async (event) => {
      events.push(event);
      return { batchItemFailures: [] };
    });
    for (let n = 1; n <= 4; n += 1) await put(table, 'D1', n);
    await put(table, 'D2', 1);
    await client.send(new DeleteItemCommand({ TableName: table, Key: marshall({ deviceId: 'D2' }) }));
    await poller.drain(5000);

    const records = events.flatMap((e) => e.Records);
    expect(records.map(label)).toEqual(['INSERT:D1:1', 'MODIFY:D1:2', 'MODIFY:D1:3', 'MODIFY:D1:4', 'INSERT:D2:1', 'REMOVE:D2:1']);
    expect(events.every((e) => e.Records.length <= 3)).toBe(true);
    const sequenceNumbers = records.map((r) => r.dynamodb!.SequenceNumber!);
    expect([...sequenceNumbers].sort()).toEqual(sequenceNumbers);

    const modify = records[1];
    expect(modify).toEqual({
      eventID: expect.any(String),
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: expect.any(String),
      dynamodb: {
        ApproximateCreationDateTime: expect.any(Number),
        Keys: { deviceId: { S: 'D1' } },
        NewImage: { deviceId: { S: 'D1' }, n: { N: '2' }, bytes: { B: Buffer.from([2, 255]).toString('base64') } },
        OldImage: { deviceId: { S: 'D1' }, n: { N: '1' }, bytes: { B: Buffer.from([1, 255]).toString('base64') } },
        SequenceNumber: expect.stringMatching(/^\d+$/),
        SizeBytes: expect.any(Number),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: expect.stringContaining(`table/${table}/stream/`),
    });
  });

  it('retries from the first reported failure, without repeating the records before it or skipping any', async () => {
    const table = await streamTable();
    // Written before the poller starts, so that the batches do not depend on timing.
    for (let n = 1; n <= 5; n += 1) await put(table, `D${n}`, n);
    const seen: string[][] = [];
    let failOnce = true;
    const poller = poll(table, async (event): Promise<DynamoDBBatchResponse> => {
      seen.push(event.Records.map(label));
      const second = event.Records[1];
      if (failOnce && second) {
        failOnce = false;
        // The second record and the third failed (as the alerts handler reports them).
        return { batchItemFailures: event.Records.slice(1).map((r) => ({ itemIdentifier: r.dynamodb!.SequenceNumber! })) };
      }
      return { batchItemFailures: [] };
    });
    await poller.drain(5000);
    expect(seen).toEqual([
      ['INSERT:D1:1', 'INSERT:D2:2', 'INSERT:D3:3'],
      ['INSERT:D2:2', 'INSERT:D3:3', 'INSERT:D4:4'],
      ['INSERT:D5:5'],
    ]);
  });

  it('retries the whole batch when the handler throws or names an unknown record, with backoff, until it succeeds', async () => {
    const table = await streamTable();
    await put(table, 'D1', 1);
    await put(table, 'D2', 2);
    const attempts: number[] = [];
    let calls = 0;
    const poller = poll(table, async (event) => {
      calls += 1;
      attempts.push(Date.now());
      if (calls === 1) throw new Error('function crashed');
      if (calls === 2) return { batchItemFailures: [{ itemIdentifier: 'not-a-sequence-number' }] };
      expect(event.Records.map(label)).toEqual(['INSERT:D1:1', 'INSERT:D2:2']);
      return undefined; // a handler returning nothing succeeded
    });
    await poller.drain(5000);
    expect(calls).toBe(3);
    expect(attempts[1] - attempts[0]).toBeGreaterThanOrEqual(40);
    expect(attempts[2] - attempts[1]).toBeGreaterThanOrEqual(90);
  });

  it('drain() rejects when the handler keeps failing, and nothing is lost once it recovers', async () => {
    const table = await streamTable();
    let healthy = false;
    let attempts = 0;
    const delivered: string[] = [];
    const logged: string[] = [];
    const poller = poll(
      table,
      async (event) => {
        attempts += 1;
        if (!healthy) throw new Error('SNS unreachable');
        delivered.push(...event.Records.map(label));
        return { batchItemFailures: [] };
      },
      { log: (line) => logged.push(line) },
    );
    await put(table, 'D1', 1);
    await untilCalled(() => attempts);
    await expect(poller.drain(600)).rejects.toThrow(/did not catch up within 600 ms: 1 record\(s\) waiting; last problem: handler threw Error: SNS unreachable/);
    healthy = true;
    await poller.drain(5000);
    expect(delivered).toEqual(['INSERT:D1:1']);
    expect(logged.some((line) => /retrying in \d+ ms/.test(line))).toBe(true);
    expect(logged.some((line) => /delivered after \d+ attempts/.test(line))).toBe(true);
  });

  it('a restart continues after the checkpoint: nothing lost, nothing repeated', async () => {
    const table = await streamTable();
    const checkpointFile = join(mkdtempSync(join(tmpdir(), 'tollgate-poller-')), 'checkpoint.json');
    const delivered: string[] = [];
    const handler = async (event: DynamoDBStreamEvent) => {
      delivered.push(...event.Records.map(label));
      return { batchItemFailures: [] };
    };
    const first = poll(table, handler, { checkpointFile });
    await put(table, 'D1', 1);
    await put(table, 'D1', 2);
    await first.drain(5000);
    await first.stop();
    const saved = JSON.parse(readFileSync(checkpointFile, 'utf8'));
    expect(saved.streamArn).toContain(`table/${table}/stream/`);
    expect(Object.values(saved.shards)).toEqual([{ sequenceNumber: expect.stringMatching(/^\d+$/) }]);

    // Written while nothing polls.
    await put(table, 'D1', 3);
    await put(table, 'D2', 1);
    const second = poll(table, handler, { checkpointFile });
    await second.drain(5000);
    expect(delivered).toEqual(['INSERT:D1:1', 'MODIFY:D1:2', 'MODIFY:D1:3', 'INSERT:D2:1']);
  });

  it('a failed record is not checkpointed: after a restart it is delivered again', async () => {
    const table = await streamTable();
    const checkpointFile = join(mkdtempSync(join(tmpdir(), 'tollgate-poller-')), 'checkpoint.json');
    let attempts = 0;
    const first = poll(
      table,
      async (event) => {
        attempts += 1;
        return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.dynamodb!.SequenceNumber! })) };
      },
      { checkpointFile },
    );
    await put(table, 'D1', 1);
    await untilCalled(() => attempts);
    await expect(first.drain(400)).rejects.toThrow(/1 record\(s\) waiting/);
    await first.stop();
    const delivered: string[] = [];
    const second = poll(table, async (event) => void delivered.push(...event.Records.map(label)), { checkpointFile });
    await second.drain(5000);
    expect(delivered).toEqual(['INSERT:D1:1']);
  });

  it('copes with DynamoDB Local\'s sequence numbers of transactions across tables (first record after an empty shard)', async () => {
    // The check-in writes the device status in a transaction with the decisions table: DynamoDB Local numbers the
    // stream records 2, 4, 6…, and an iterator taken on the empty shard then reports TrimmedDataAccessException.
    const tables = await createTestTables();
    const delivered: string[] = [];
    const logged: string[] = [];
    const poller = poll(tables.names.deviceStatusTable, async (event) => void delivered.push(...event.Records.map(label)), { log: (line) => logged.push(line) });
    await poller.drain(5000); // the poller has an iterator on the empty shard now
    for (let n = 1; n <= 3; n += 1) {
      await client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: tables.names.decisionsTable, Item: marshall({ pk: `DEVICE#D1`, sk: `${n}` }) } },
            { Put: { TableName: tables.names.deviceStatusTable, Item: marshall({ deviceId: 'D1', n, status: 'BLOCKED', lastCheckinAt: `${n}` }) } },
          ],
        }),
      );
      await poller.drain(5000);
    }
    expect(delivered).toEqual(['INSERT:D1:1', 'MODIFY:D1:2', 'MODIFY:D1:3']);
    expect(logged).toEqual([]);
  });

  it('drain() resolves on a stream with nothing new (it waits for nothing to arrive), and stop() is clean', async () => {
    const table = await streamTable();
    let calls = 0;
    const poller = poll(table, async () => {
      calls += 1;
      return { batchItemFailures: [] };
    });
    // A drain that waited for a record would reject at its timeout; this one resolves, twice, and nothing was delivered.
    await poller.drain(5000);
    await poller.drain(5000);
    expect(calls).toBe(0);
    await poller.stop();
    await poller.stop();
    await expect(poller.drain(100)).rejects.toThrow(/stopped/);
  });
});
