// DynamoDbConfigStore against DynamoDB Local, beyond the shared contract: the item shapes it reads and writes (data
// written by earlier releases stays readable) and the one history key format.
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbImagingStore } from '../../lib/adapters/dynamodb/imaging-store.ts';
import { DEFAULT_SETTINGS } from '../../lib/domain/settings.ts';
import { createTestTables, type TestTables } from '../support/dynamodb.ts';
import { seed, seedSettings } from '../support/config.ts';

let tables: TestTables;
let store: DynamoDbConfigStore;
const at = (minute: number) => `2026-11-25T18:${String(minute).padStart(2, '0')}:00.000Z`;

beforeEach(async () => {
  tables = await createTestTables();
  store = new DynamoDbConfigStore(tables.client, tables.names.configTable);
});

const putRaw = (item: Record<string, unknown>) => tables.client.send(new PutItemCommand({ TableName: tables.names.configTable, Item: marshall(item) }));

async function historyKeys(): Promise<string[]> {
  const result = await tables.client.send(
    new QueryCommand({ TableName: tables.names.configTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'HISTORY' } } }),
  );
  return (result.Items ?? []).map((item) => unmarshall(item).sk as string);
}

describe('history keys', () => {
  it('writes every history line as <changedAt>#<version, 12 digits>#<unique>: the unique part of a config commit starts with its config version (commit order within a millisecond), of an imaging line it is random', async () => {
    await seedSettings(store, { mode: 'MONITOR' }, { changedAt: at(1) });
    await seed(store, { kind: 'PACKAGE', packageId: 'office', record: { packageId: 'office', name: 'Office', checksum: null, updatedAt: at(2), updatedBy: 'alice' } }, { changedAt: at(2) });
    await new DynamoDbImagingStore(tables.client, tables.names.configTable).putDocument('PRESTAGE', 'lab', { json: '{}', sha256: 'ab'.repeat(32), sizeBytes: 2 }, { actor: 'alice', changedAt: at(3) });
    const keys = await historyKeys();
    expect(keys).toHaveLength(3);
    const time = (minute: number) => at(minute).replace(/\./g, '\\.');
    expect(keys[0]).toMatch(new RegExp(`^${time(1)}#000000000002#000000000002[0-9a-f]{8}$`));
    expect(keys[1]).toMatch(new RegExp(`^${time(2)}#000000000002#000000000003[0-9a-f]{8}$`));
    expect(keys[2]).toMatch(new RegExp(`^${time(3)}#000000000002#[0-9a-f]{8}$`));
  });

  it('reads lines written in the older form, <changedAt>#<random>, in time order with the current ones', async () => {
    await putRaw({ pk: 'HISTORY', sk: `${at(1)}#0a1b2c3d`, version: 1, changedAt: at(1), actor: 'earlier-release', changes: [{ field: 'deviceCa', from: null, to: ['aa'] }] });
    await seedSettings(store, { mode: 'MONITOR' }, { changedAt: at(2), actor: 'alice', changes: [{ field: 'mode', from: 'ENFORCE', to: 'MONITOR' }] });
    await putRaw({ pk: 'HISTORY', sk: `${at(3)}#4e5f6a7b`, version: 2, changedAt: at(3), actor: 'earlier-release', changes: [] });
    expect(await store.listHistory(10)).toEqual([
      { version: 2, changedAt: at(3), actor: 'earlier-release', changes: [] },
      { version: 2, changedAt: at(2), actor: 'alice', changes: [{ field: 'mode', from: 'ENFORCE', to: 'MONITOR' }] },
      { version: 1, changedAt: at(1), actor: 'earlier-release', changes: [{ field: 'deviceCa', from: null, to: ['aa'] }] },
    ]);
  });
});

describe('item shapes', () => {
  it('reads a settings item written before later settings existed, with their defaults', async () => {
    const { requireImagingAuthentication: _added, certificateExpiryAlertDays: _alsoAdded, ...older } = DEFAULT_SETTINGS;
    await putRaw({ pk: 'CONFIG', sk: 'SETTINGS', settings: { ...older, mode: 'MONITOR' }, version: 7, updatedAt: at(1), updatedBy: 'bob' });
    expect(await store.getSettings()).toEqual({ settings: { ...DEFAULT_SETTINGS, mode: 'MONITOR' }, version: 7, updatedAt: at(1), updatedBy: 'bob' });
    expect((await store.loadSnapshot()).settings).toEqual({ ...DEFAULT_SETTINGS, mode: 'MONITOR' });
  });

  it('reads a package stored without a checksum attribute as one without a checksum', async () => {
    await putRaw({ pk: 'CONFIG', sk: 'PACKAGE#legacy', packageId: 'legacy', name: 'Legacy', updatedAt: at(1), updatedBy: 'bob' });
    expect(await store.getPackage('legacy')).toEqual({ packageId: 'legacy', name: 'Legacy', checksum: null, updatedAt: at(1), updatedBy: 'bob' });
    expect((await store.loadSnapshot()).packages.get('legacy')?.checksum).toBeNull();
  });
});

describe('revocations an earlier release kept in the CONFIG partition', () => {
  const legacy = (sha256: string, reason: string) => ({ pk: 'CONFIG', sk: `REVOCATION#${sha256}`, sha256, reason, revokedAt: at(1), revokedBy: 'alice' });

  it('are moved to their own partitions by initializeSettings, with the log lines warm containers apply; one revoked again since keeps its new record', async () => {
    const [a, b] = ['ab'.repeat(32), 'cd'.repeat(32)];
    const held = await store.refreshSnapshot();
    await putRaw(legacy(a, 'lost'));
    await putRaw(legacy(b, 'lost'));
    await seed(store, { kind: 'REVOCATION', sha256: b, record: { sha256: b, reason: 'stolen', revokedAt: at(2), revokedBy: 'bob' } });
    expect(await store.initializeSettings(new Date(at(3)))).toBe('PRESENT');
    const expected = [
      { sha256: a, reason: 'lost', revokedAt: at(1), revokedBy: 'alice' },
      { sha256: b, reason: 'stolen', revokedAt: at(2), revokedBy: 'bob' },
    ];
    expect(await store.listRevocations()).toEqual(expected);
    expect([...(await store.refreshSnapshot(held)).revocations.values()]).toEqual(expected);
    const leftInConfig = await tables.client.send(
      new QueryCommand({ TableName: tables.names.configTable, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': { S: 'CONFIG' }, ':prefix': { S: 'REVOCATION#' } } }),
    );
    expect(leftInConfig.Items).toEqual([]);
    expect(await store.initializeSettings(new Date(at(4)))).toBe('PRESENT');
    expect(await store.listRevocations()).toEqual(expected);
  });
});
