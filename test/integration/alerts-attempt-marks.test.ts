// The marks the check-in's attempt store leaves on the device-status table for MASS_BLOCK (reason UNAUTHENTICATED):
// one per window and claimed device, written once, at most massBlockDevices + 1 per container and window, never a
// device; the attempt itself is kept as before.
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbUnauthenticatedAttemptStore } from '../../lib/adapters/dynamodb/attempt-store.ts';
import type { UnauthenticatedAttempt } from '../../lib/ports/attempt-store.ts';
import { createTestTables, type TestTables } from '../support/dynamodb.ts';

const at = '2026-12-01T22:31:00.000Z';
const attempt = (deviceId: string, overrides: Partial<UnauthenticatedAttempt> = {}): UnauthenticatedAttempt => ({
  deviceId,
  checkinId: `a-${deviceId}`,
  violations: ['CLIENT_CERT_UNTRUSTED'],
  sourceIp: '198.51.100.7',
  at,
  ...overrides,
});

async function statusItems(tables: TestTables): Promise<Record<string, unknown>[]> {
  const { Items } = await tables.client.send(new ScanCommand({ TableName: tables.names.deviceStatusTable, ConsistentRead: true }));
  return (Items ?? []).map((item) => unmarshall(item)).sort((a, b) => String(a.deviceId).localeCompare(String(b.deviceId)));
}

function storeOn(tables: TestTables, devices = 3) {
  return new DynamoDbUnauthenticatedAttemptStore(tables.client, tables.names.decisionsTable, {
    deviceStatusTable: tables.names.deviceStatusTable,
    massBlock: { devices, windowMinutes: 10 },
  });
}

describe('unauthenticated attempt marks', () => {
  it('one mark per window and claimed device, with what the alerts function counts; the attempts all kept', async () => {
    const tables = await createTestTables();
    const store = storeOn(tables);
    await store.record(attempt('D1', { violations: ['CLIENT_CERT_UNTRUSTED', 'CLIENT_CERT_DEVICE_MISMATCH'] }), { settingsVersion: 7 });
    await store.record(attempt('D1', { at: '2026-12-01T22:35:00.000Z' }), { settingsVersion: 7 });
    // Another container (a store of its own) repeating the device: the conditional put keeps the first mark.
    await storeOn(tables).record(attempt('D1', { at: '2026-12-01T22:36:00.000Z' }), { settingsVersion: 8 });
    await store.record(attempt('D1', { at: '2026-12-01T22:41:00.000Z' }), { settingsVersion: 7 });
    expect(await statusItems(tables)).toEqual([
      {
        deviceId: '#UNAUTHENTICATED#2026-12-01T22:30:00.000Z#D1',
        kind: 'UNAUTHENTICATED_ATTEMPT',
        claimedDeviceId: 'D1',
        windowStart: '2026-12-01T22:30:00.000Z',
        violationCodes: ['CLIENT_CERT_DEVICE_MISMATCH', 'CLIENT_CERT_UNTRUSTED'],
        at,
        settingsVersion: 7,
        alertRelevant: true,
        expiresAt: Date.parse('2026-12-01T22:40:00.000Z') / 1000 + 86_400,
      },
      expect.objectContaining({ deviceId: '#UNAUTHENTICATED#2026-12-01T22:40:00.000Z#D1', at: '2026-12-01T22:41:00.000Z' }),
    ]);
    const { items } = await store.list({ since: new Date('2026-12-01T00:00:00.000Z'), now: new Date('2026-12-02T00:00:00.000Z') }, 50);
    expect(items.map((a) => a.at)).toEqual(['2026-12-01T22:41:00.000Z', '2026-12-01T22:36:00.000Z', '2026-12-01T22:35:00.000Z', at]);
  });

  it('a container marks at most massBlockDevices + 1 claimed devices per window (a flood of invented ids)', async () => {
    const tables = await createTestTables();
    const store = storeOn(tables, 3);
    for (let i = 0; i < 20; i += 1) await store.record(attempt(`FLOOD-${String(i).padStart(2, '0')}`));
    expect((await statusItems(tables)).map((item) => item.claimedDeviceId)).toEqual(['FLOOD-00', 'FLOOD-01', 'FLOOD-02', 'FLOOD-03']);
  });

  it('without marking (the admin function reads attempts only), nothing is written on the status table', async () => {
    const tables = await createTestTables();
    await new DynamoDbUnauthenticatedAttemptStore(tables.client, tables.names.decisionsTable).record(attempt('D2'));
    expect(await statusItems(tables)).toEqual([]);
  });
});
