// Deleting and restoring device-status items (docs/operations.md, "Restoring device statuses"), over DynamoDB Local's
// stream and the alerts handler: a deleted status does not break the next recovery alert, a restored copy does not
// re-fire the alert of the state it describes, and the check-in after a restore compares against it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbDecisionReader, DynamoDbDecisionStore } from '../../lib/adapters/dynamodb/decision-store.ts';
import { DynamoDbMassBlockWindowStore } from '../../lib/adapters/dynamodb/mass-block-window-store.ts';
import { InMemoryAlertParking, InMemoryAlertPublisher } from '../../lib/adapters/memory/alert-publisher.ts';
import { type StreamPoller, startStreamPoller } from '../../local/stream-poller.ts';
import { makeDecision } from '../support/decisions.ts';
import { createTestTables, type TestTables } from '../support/dynamodb.ts';

// functions/alerts.ts builds its real dependencies at import, as in Lambda; this test hands it its own.
vi.hoisted(() => {
  process.env.ALERT_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:restore-test';
  process.env.DECISIONS_TABLE = 'restore-test-decisions';
});
const { makeHandler } = await import('../../functions/alerts.ts');

const SKEW = { code: 'CLOCK_SKEW_EXCEEDED', message: 'The device clock is off.', skewSeconds: 412, maxClockSkewSeconds: 300 };

let tables: TestTables;
let decisions: DynamoDbDecisionStore;
let poller: StreamPoller;
let dataDir: string;
const publisher = new InMemoryAlertPublisher();
let minute = 0;

beforeAll(async () => {
  tables = await createTestTables();
  decisions = new DynamoDbDecisionStore(tables.client, { ...tables.names, retentionDays: 90 });
  dataDir = mkdtempSync(join(tmpdir(), 'tollgate-restore-'));
  const handler = makeHandler({
    publisher,
    parking: new InMemoryAlertParking(),
    massBlock: { store: new DynamoDbMassBlockWindowStore(tables.client, tables.names.decisionsTable), policy: { devices: 50, windowMinutes: 10 } },
    decisions: new DynamoDbDecisionReader(tables.client, tables.names.decisionsTable),
  });
  poller = startStreamPoller({
    endpoint: tables.endpoint,
    tableName: tables.names.deviceStatusTable,
    checkpointFile: join(dataDir, 'checkpoint.json'),
    batchSize: 25,
    handler,
    log: () => undefined,
    pollIntervalMs: 50,
  });
});

afterAll(async () => {
  await poller?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A check-in recorded as the check-in function records it (decision, status, answer). */
async function checkin(deviceId: string, checkinId: string, blocked: boolean): Promise<void> {
  minute += 1;
  const evaluatedAt = new Date(Date.UTC(2026, 10, 25, 18, minute)).toISOString();
  // checkinIds are unique across devices (one idempotency record each).
  const decision = makeDecision({ deviceId, checkinId: `${deviceId}-${checkinId}`, evaluatedAt, ...(blocked ? { decision: 'BLOCK', statusCode: 403, violations: [SKEW] } : {}) });
  expect(await decisions.record(decision, { statusCode: decision.statusCode, body: '{}' })).toEqual({ outcome: 'RECORDED' });
}

const statusKey = (deviceId: string) => ({ TableName: tables.names.deviceStatusTable, Key: marshall({ deviceId }) });

async function backupOf(deviceId: string): Promise<Record<string, unknown>> {
  const { Item } = await tables.client.send(new GetItemCommand({ ...statusKey(deviceId), ConsistentRead: true }));
  return unmarshall(Item!);
}

async function deleteStatus(deviceId: string): Promise<void> {
  await tables.client.send(new DeleteItemCommand(statusKey(deviceId)));
}

/**
 * Step 3 of the procedure: the backup's item with restoredAt set and the stream marker removed, put only where the
 * live table has no item for the device.
 */
async function restore(item: Record<string, unknown>): Promise<void> {
  const { alertRelevant: _marker, ...copy } = item;
  await tables.client.send(
    new PutItemCommand({
      TableName: tables.names.deviceStatusTable,
      Item: marshall({ ...copy, restoredAt: '2026-11-26T08:00:00.000Z' }, { removeUndefinedValues: true }),
      ConditionExpression: 'attribute_not_exists(deviceId)',
    }),
  );
}

const published = () => publisher.published.map((a) => [a.type, a.message.deviceId, String(a.message.checkinId).slice(String(a.message.deviceId).length + 1)]);

describe('device-status items deleted or restored', () => {
  it('deleted while blocked, the next accepted check-in raises DEVICE_RECOVERED', async () => {
    await checkin('DEL-1', 'c-1', true);
    await poller.drain();
    await deleteStatus('DEL-1');
    await checkin('DEL-1', 'c-2', false);
    await poller.drain();
    expect(published().filter(([, d]) => d === 'DEL-1')).toEqual([
      ['DEVICE_BLOCKED', 'DEL-1', 'c-1'],
      ['DEVICE_RECOVERED', 'DEL-1', 'c-2'],
    ]);
  });

  it('deleted while blocked, blocked again with the same violations: nothing re-fires', async () => {
    await checkin('DEL-2', 'c-1', true);
    await poller.drain();
    await deleteStatus('DEL-2');
    await checkin('DEL-2', 'c-2', true);
    await poller.drain();
    expect(published().filter(([, d]) => d === 'DEL-2')).toEqual([['DEVICE_BLOCKED', 'DEL-2', 'c-1']]);
  });

  it('restored as the procedure says: nothing re-fires, and the next check-in compares against the restored status', async () => {
    await checkin('RES-1', 'c-1', true);
    await checkin('RES-2', 'c-1', true);
    await poller.drain();
    const backups = [await backupOf('RES-1'), await backupOf('RES-2')];
    await deleteStatus('RES-1');
    await deleteStatus('RES-2');
    for (const item of backups) await restore(item);
    await poller.drain();
    expect(published().filter(([, d]) => String(d).startsWith('RES-'))).toEqual([
      ['DEVICE_BLOCKED', 'RES-1', 'c-1'],
      ['DEVICE_BLOCKED', 'RES-2', 'c-1'],
    ]);

    await checkin('RES-1', 'c-2', false);
    await checkin('RES-2', 'c-2', true);
    await poller.drain();
    expect(published().filter(([, d]) => String(d).startsWith('RES-'))).toEqual([
      ['DEVICE_BLOCKED', 'RES-1', 'c-1'],
      ['DEVICE_BLOCKED', 'RES-2', 'c-1'],
      ['DEVICE_RECOVERED', 'RES-1', 'c-2'],
    ]);
  });

  it('the procedure never puts an old copy over a status written since (the condition refuses it)', async () => {
    await checkin('RES-3', 'c-1', true);
    const backup = await backupOf('RES-3');
    await checkin('RES-3', 'c-2', false);
    await expect(restore(backup)).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(await backupOf('RES-3')).toMatchObject({ checkinId: 'RES-3-c-2', status: 'ACCEPTED' });
  });
});
