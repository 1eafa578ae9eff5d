// DynamoDbConfigStore against DynamoDB Local: fresh defaults, versioned writes with history, trust items, snapshot.
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConfigStore, PreconditionFailedError } from '../../lib/adapters/dynamodb/config-store.ts';
import { configSk } from '../../lib/adapters/dynamodb/keys.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../lib/domain/settings.ts';
import { createTestTables } from '../support/dynamodb.ts';

let store: DynamoDbConfigStore;
const at = (minute: number) => `2026-11-25T18:${String(minute).padStart(2, '0')}:00.000Z`;

beforeAll(async () => {
  const tables = await createTestTables();
  store = new DynamoDbConfigStore(tables.client, tables.names.configTable);
});

describe('DynamoDbConfigStore', () => {
  it('reads a fresh installation as version 1 with the defaults', async () => {
    expect(await store.getSettings()).toEqual({ settings: DEFAULT_SETTINGS, version: 1, updatedAt: null, updatedBy: null });
    const snapshot = await store.loadSnapshot();
    expect(snapshot).toMatchObject({ version: 1, settings: DEFAULT_SETTINGS, deviceCas: [] });
    expect(snapshot.packages.size).toBe(0);
  });

  it('saves a new version with its history entry, and refuses a stale expected version', async () => {
    const monitor: Settings = { ...DEFAULT_SETTINGS, mode: 'MONITOR' } as Settings;
    const saved = await store.saveSettings({ settings: monitor, expectedVersion: 1, actor: 'alice', changedAt: at(1), changes: [{ field: 'mode', from: 'ENFORCE', to: 'MONITOR' }] });
    expect(saved).toEqual({ settings: monitor, version: 2, updatedAt: at(1), updatedBy: 'alice' });
    await expect(store.saveSettings({ settings: monitor, expectedVersion: 1, actor: 'bob', changedAt: at(2), changes: [] })).rejects.toBeInstanceOf(PreconditionFailedError);
    expect((await store.getSettings()).version).toBe(2);
    expect(await store.listHistory(10)).toEqual([{ version: 2, changedAt: at(1), actor: 'alice', changes: [{ field: 'mode', from: 'ENFORCE', to: 'MONITOR' }] }]);
  });

  it('lets exactly one of two concurrent writers with the same expected version win', async () => {
    const { version } = await store.getSettings();
    const results = await Promise.allSettled(
      ['x', 'y'].map((actor) => store.saveSettings({ settings: { ...DEFAULT_SETTINGS } as Settings, expectedVersion: version, actor, changedAt: at(3), changes: [] })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect((await store.getSettings()).version).toBe(version + 1);
  });

  it('stores trust material with a history line at the version in force, and loads it in the snapshot', async () => {
    const { version } = await store.getSettings();
    await store.changeTrustItem({
      sk: configSk.package('pkg-1'),
      item: { packageId: 'pkg-1', name: 'Office', checksum: { type: 'MD5', value: 'a'.repeat(32) }, updatedAt: at(4), updatedBy: 'alice' },
      history: { actor: 'alice', changedAt: at(4), changes: [{ field: 'packages', from: null, to: 'pkg-1 MD5:' + 'a'.repeat(32) }] },
    });
    await store.changeTrustItem({
      sk: configSk.revocation('ab'.repeat(32)),
      item: { sha256: 'ab'.repeat(32), reason: 'lost', revokedAt: at(5), revokedBy: 'alice' },
      history: { actor: 'alice', changedAt: at(5), changes: [{ field: 'revocations', from: null, to: 'ab'.repeat(32) }] },
    });
    const snapshot = await store.loadSnapshot();
    expect(snapshot.packages.get('pkg-1')).toMatchObject({ name: 'Office', checksum: { type: 'MD5', value: 'a'.repeat(32) } });
    expect([...snapshot.revocations.keys()]).toEqual(['ab'.repeat(32)]);
    const [latest] = await store.listHistory(1);
    expect(latest).toMatchObject({ version, actor: 'alice', changedAt: at(5) });
    expect((await store.getSettings()).version).toBe(version);

    expect(await store.changeTrustItem({ sk: configSk.package('missing'), mustExist: true, history: { actor: 'a', changedAt: at(6), changes: [] } })).toBe(false);
    expect(await store.changeTrustItem({ sk: configSk.package('pkg-1'), mustExist: true, history: { actor: 'a', changedAt: at(6), changes: [] } })).toBe(true);
    expect((await store.loadSnapshot()).packages.size).toBe(0);
  });
});
