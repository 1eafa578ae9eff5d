// Local mode on a DATA_DIR kept from an earlier release: its device-status table has the former `byStatus` index and
// no TTL. Starting brings the existing tables up to serverless.yml's indexes and TTL, so that device listings work
// again, and re-keys nothing: an item written before appears in the new index at the device's next check-in.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDecisionStore } from '../../lib/adapters/dynamodb/decision-store.ts';
import { type DynamoDbLocal, ensureTables, localDynamoDbClient, startDynamoDbLocal, tableNamesFor } from '../../local/dynamodb-local.ts';
import { loadServerlessConfig } from '../../local/serverless-config.ts';
import { makeDecision } from '../support/decisions.ts';

// Its own DynamoDB Local on a data folder, as `npm start` runs one on a kept DATA_DIR: the shared one of the test run
// builds and drops indexes behind the whole suite's traffic, which can take longer than a test may wait.
const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-upgrade-'));
let dynamoDb: DynamoDbLocal;
let client: ReturnType<typeof localDynamoDbClient>;
let store: DynamoDbDecisionStore;
const config = loadServerlessConfig();
const names = tableNamesFor(config, `u${randomBytes(4).toString('hex')}`);

const OLD_CHECKIN = '2026-11-30T10:00:00.000Z';

/** The device-status table as serverless.yml defined it before the sharded index, without TTL. */
async function createFormerDeviceStatusTable(): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: names.DeviceStatusTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'deviceId', AttributeType: 'S' },
        { AttributeName: 'status', AttributeType: 'S' },
        { AttributeName: 'lastCheckinAt', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'deviceId', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byStatus',
          KeySchema: [
            { AttributeName: 'status', KeyType: 'HASH' },
            { AttributeName: 'lastCheckinAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  // A status as the former release wrote it: no statusShard, no statusSk.
  await client.send(
    new PutItemCommand({
      TableName: names.DeviceStatusTable,
      Item: marshall({ deviceId: 'MAC-OLD', status: 'ACCEPTED', decision: 'ACCEPT', violations: [], violationCodes: [], lastCheckinAt: OLD_CHECKIN, checkinId: 'old-1', settingsVersion: 1 }),
    }),
  );
}

const lines: string[] = [];
let listingBefore: unknown;

beforeAll(async () => {
  dynamoDb = await startDynamoDbLocal({ port: 0, dataDir: join(dataDir, 'dynamodb') });
  client = localDynamoDbClient(dynamoDb.endpoint);
  store = new DynamoDbDecisionStore(client, { decisionsTable: names.DecisionsTable, deviceStatusTable: names.DeviceStatusTable, retentionDays: 90 });
  await createFormerDeviceStatusTable();
  listingBefore = await store.listDevices('ACCEPTED', 10).then(
    () => 'listed',
    (error: Error) => error.name,
  );
  await ensureTables(client, config, names, (line) => lines.push(line));
}, 120_000);

afterAll(async () => {
  client?.destroy();
  await dynamoDb?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ensureTables on a device-status table of the former layout', () => {
  it('is needed: the former table has no byStatusShard to list devices from', () => {
    expect(listingBefore).toBe('ValidationException');
  });

  it('removes the index serverless.yml no longer has and creates byStatusShard, saying so', async () => {
    expect(lines).toEqual([
      'DeviceStatusTable: index byStatus removed (no longer in serverless.yml)',
      'DeviceStatusTable: index byStatusShard created (items written before it appear in it when they are next written)',
    ]);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: names.DeviceStatusTable }));
    expect(Table!.GlobalSecondaryIndexes!.map(({ IndexName, KeySchema, Projection, IndexStatus }) => ({ IndexName, KeySchema, Projection, IndexStatus }))).toEqual([
      {
        IndexName: 'byStatusShard',
        KeySchema: [
          { AttributeName: 'statusShard', KeyType: 'HASH' },
          { AttributeName: 'statusSk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
        IndexStatus: 'ACTIVE',
      },
    ]);
    expect(Table!.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });

  it.each(['ConfigTable', 'DecisionsTable', 'DeviceStatusTable'])('%s: TTL on expiresAt, as serverless.yml has it', async (logicalId) => {
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: names[logicalId] }));
    expect(TimeToLiveDescription).toEqual({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });
  });

  it('lists devices by status without error; an item written before the index is listed after its next check-in', async () => {
    expect(await store.listDevices('ACCEPTED', 10)).toEqual({ items: [], nextToken: undefined });
    const next = makeDecision({ checkinId: 'new-1', deviceId: 'MAC-OLD', evaluatedAt: '2026-12-01T10:00:00.000Z' });
    expect(await store.record(next, { statusCode: 200, body: '{}' })).toEqual({ outcome: 'RECORDED' });
    const listed = await store.listDevices('ACCEPTED', 10);
    expect(listed.items.map(({ deviceId, lastCheckinAt, checkinId }) => ({ deviceId, lastCheckinAt, checkinId }))).toEqual([
      { deviceId: 'MAC-OLD', lastCheckinAt: '2026-12-01T10:00:00.000Z', checkinId: 'new-1' },
    ]);
    expect(listed.nextToken).toBeUndefined();
  });

  it('changes nothing when the tables already match serverless.yml', async () => {
    const before = lines.length;
    await ensureTables(client, config, names, (line) => lines.push(line));
    expect(lines.length).toBe(before);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: names.DeviceStatusTable }));
    expect(Table!.GlobalSecondaryIndexes!.map((index) => index.IndexName)).toEqual(['byStatusShard']);
  });
});
