// Integration tests for lib/adapters/dynamodb/imaging-store.ts against DynamoDB Local: accounts and documents with
// their history lines, and the login failure log.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConfigStore, FRESH_SETTINGS } from '../../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbImagingStore, DynamoDbLoginFailureStore } from '../../lib/adapters/dynamodb/imaging-store.ts';
import { LOGIN_FAILURE_WINDOW_MS, parseImagingDocument } from '../../lib/domain/imaging.ts';
import { hashPassword } from '../../lib/services/imaging/passwords.ts';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import { createTestTables, type TestTables } from '../support/dynamodb.ts';

let tables: TestTables;
let configStore: DynamoDbConfigStore;
let store: DynamoDbImagingStore;
let failures: DynamoDbLoginFailureStore;

beforeAll(async () => {
  tables = await createTestTables();
  configStore = new DynamoDbConfigStore(tables.client, tables.names.configTable);
  store = new DynamoDbImagingStore(tables.client, tables.names.configTable, configStore);
  failures = new DynamoDbLoginFailureStore(tables.client, tables.names.configTable);
});

afterAll(() => tables?.client.destroy());

async function rawItem(pk: string, sk: string) {
  const result = await tables.client.send(new GetItemCommand({ TableName: tables.names.configTable, Key: marshall({ pk, sk }) }));
  return result.Item && unmarshall(result.Item);
}

/** History lines whose field starts with the prefix, oldest first. */
async function historyFor(prefix: string) {
  const entries = await configStore.listHistory(200);
  return entries.filter((e) => e.changes.some((c) => c.field.startsWith(prefix))).reverse();
}

const at = (iso: string) => ({ actor: 'alice-admin', changedAt: iso });

describe('imaging accounts', () => {
  it('creates, replaces and deletes, each with one history line carrying the settings version, which does not move', async () => {
    const first = await hashPassword('first password!');
    const created = await store.putAccount('tech1', first, at('2026-11-25T10:00:00.000Z'));
    expect(created).toEqual({
      created: true,
      account: { username: 'tech1', createdAt: '2026-11-25T10:00:00.000Z', updatedAt: '2026-11-25T10:00:00.000Z', updatedBy: 'alice-admin' },
    });

    // The item holds the hash and its parameters, not the password.
    const item = await rawItem('IMAGING_ACCOUNT', 'tech1');
    expect(item?.passwordHash).toEqual(first);
    expect(JSON.stringify(item)).not.toContain('first password');

    const second = await hashPassword('second password!');
    const replaced = await store.putAccount('tech1', second, at('2026-11-25T11:00:00.000Z'));
    expect(replaced).toEqual({
      created: false,
      account: { username: 'tech1', createdAt: '2026-11-25T10:00:00.000Z', updatedAt: '2026-11-25T11:00:00.000Z', updatedBy: 'alice-admin' },
    });
    expect((await store.getAccount('tech1'))?.passwordHash).toEqual(second);

    expect(await store.deleteAccount('tech1', at('2026-11-25T12:00:00.000Z'))).toBe(true);
    expect(await store.getAccount('tech1')).toBeUndefined();
    expect(await store.deleteAccount('tech1', at('2026-11-25T12:01:00.000Z'))).toBe(false);

    expect(await historyFor('imagingAccount:tech1')).toEqual([
      { version: 1, changedAt: '2026-11-25T10:00:00.000Z', actor: 'alice-admin', changes: [{ field: 'imagingAccount:tech1', from: null, to: 'created' }] },
      { version: 1, changedAt: '2026-11-25T11:00:00.000Z', actor: 'alice-admin', changes: [{ field: 'imagingAccount:tech1', from: 'present', to: 'updated' }] },
      { version: 1, changedAt: '2026-11-25T12:00:00.000Z', actor: 'alice-admin', changes: [{ field: 'imagingAccount:tech1', from: 'present', to: 'deleted' }] },
    ]);
    // Nothing derived from the passwords reaches the history.
    const history = JSON.stringify(await configStore.listHistory(200));
    for (const secret of [first.hash, first.salt, second.hash, second.salt, 'password']) expect(history).not.toContain(secret);
    expect((await configStore.getSettings()).version).toBe(1);
  });

  it('lists accounts without their hashes, ordered by username', async () => {
    const hash = await hashPassword('listed password');
    await store.putAccount('zed', hash, at('2026-11-25T10:00:00.000Z'));
    await store.putAccount('amy', hash, at('2026-11-25T10:00:01.000Z'));
    const listed = await store.listAccounts();
    expect(listed.map((a) => a.username)).toEqual(expect.arrayContaining(['amy', 'zed']));
    expect(listed.findIndex((a) => a.username === 'amy')).toBeLessThan(listed.findIndex((a) => a.username === 'zed'));
    expect(listed.find((a) => a.username === 'amy')).toEqual({
      username: 'amy',
      createdAt: '2026-11-25T10:00:01.000Z',
      updatedAt: '2026-11-25T10:00:01.000Z',
      updatedBy: 'alice-admin',
    });
    expect(JSON.stringify(listed)).not.toContain(hash.hash);
  });

  it('records the settings version in force when the settings have moved on', async () => {
    const saved = await configStore.saveSettings({
      settings: { ...FRESH_SETTINGS.settings, requireImagingAuthentication: false },
      expectedVersion: 1,
      actor: 'alice-admin',
      changedAt: '2026-11-25T09:00:00.000Z',
      changes: [{ field: 'requireImagingAuthentication', from: true, to: false }],
    });
    expect(saved.version).toBe(2);
    await store.putAccount('versioned', await hashPassword('versioned password'), at('2026-11-25T13:00:00.000Z'));
    const [line] = await historyFor('imagingAccount:versioned');
    expect(line.version).toBe(2);
    expect((await configStore.getSettings()).version).toBe(2);
  });
});

describe('imaging documents', () => {
  it('creates, replaces, lists, counts and deletes PreStages, fingerprinting them in the history', async () => {
    const v1 = parseImagingDocument({ name: 'Lab Macs', enrollment: { skip: ['Siri'] } }, 'PRESTAGE', 'lab');
    const v2 = parseImagingDocument({ name: 'Lab Macs', enrollment: { skip: [] } }, 'PRESTAGE', 'lab');
    const other = parseImagingDocument({ name: 'Art' }, 'PRESTAGE', 'art');

    const created = await store.putDocument('PRESTAGE', 'lab', v1, at('2026-11-25T10:00:00.000Z'));
    expect(created.created).toBe(true);
    expect(created.document).toEqual({
      kind: 'PRESTAGE',
      id: 'lab',
      json: v1.json,
      sha256: v1.sha256,
      sizeBytes: v1.sizeBytes,
      createdAt: '2026-11-25T10:00:00.000Z',
      updatedAt: '2026-11-25T10:00:00.000Z',
      updatedBy: 'alice-admin',
    });
    expect((await store.putDocument('PRESTAGE', 'lab', v2, at('2026-11-25T11:00:00.000Z'))).created).toBe(false);
    await store.putDocument('PRESTAGE', 'art', other, at('2026-11-25T11:00:01.000Z'));

    expect((await store.getDocument('PRESTAGE', 'lab'))?.json).toBe(v2.json);
    expect((await store.listDocuments('PRESTAGE')).map((d) => [d.id, d.json])).toEqual([
      ['art', other.json],
      ['lab', v2.json],
    ]);
    expect(await store.countDocuments('PRESTAGE')).toBe(2);
    // Kinds are separate: an Autorun with the same id is another thing.
    expect(await store.getDocument('AUTORUN', 'lab')).toBeUndefined();

    expect(await store.deleteDocument('PRESTAGE', 'lab', at('2026-11-25T12:00:00.000Z'))).toBe(true);
    expect(await store.deleteDocument('PRESTAGE', 'lab', at('2026-11-25T12:00:01.000Z'))).toBe(false);
    expect((await historyFor('imagingPrestage:lab')).map((e) => e.changes)).toEqual([
      [{ field: 'imagingPrestage:lab', from: null, to: `sha256:${v1.sha256}` }],
      [{ field: 'imagingPrestage:lab', from: `sha256:${v1.sha256}`, to: `sha256:${v2.sha256}` }],
      [{ field: 'imagingPrestage:lab', from: `sha256:${v2.sha256}`, to: null }],
    ]);
  });

  it('serves the JSON byte for byte as stored, whatever its nesting depth', async () => {
    // Deeper than DynamoDB's 32 levels of nested maps: stored as text, it round-trips.
    let deep: Record<string, unknown> = { leaf: 0.1 };
    for (let i = 0; i < 40; i += 1) deep = { n: deep };
    const document = parseImagingDocument(deep, 'AUTORUN', 'C02DEEP');
    await store.putDocument('AUTORUN', 'C02DEEP', document, at('2026-11-25T10:00:00.000Z'));
    expect((await store.getDocument('AUTORUN', 'C02DEEP'))?.json).toBe(document.json);
  });

  it('two concurrent writers of a new id both succeed: one creates, the other replaces (one line each)', async () => {
    const a = parseImagingDocument({ writer: 'a' }, 'AUTORUN', 'C02RACE');
    const b = parseImagingDocument({ writer: 'b' }, 'AUTORUN', 'C02RACE');
    const results = await Promise.all([
      store.putDocument('AUTORUN', 'C02RACE', a, at('2026-11-25T10:00:00.000Z')),
      store.putDocument('AUTORUN', 'C02RACE', b, at('2026-11-25T10:00:00.001Z')),
    ]);
    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    expect(await historyFor('imagingAutorun:C02RACE')).toHaveLength(2);
  });
});

describe('login failure log', () => {
  const now = Date.now();

  it('appends failures atomically, from any number of writers, with a TTL one window after the last', async () => {
    await Promise.all(Array.from({ length: 12 }, (_, i) => failures.recordFailure('racer', now + i)));
    const recorded = await failures.getFailures('racer');
    expect([...recorded].sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => now + i));
    const item = await rawItem('LOGIN_FAILURES', 'racer');
    expect(item?.expiresAt).toBeGreaterThanOrEqual(Math.ceil((now + LOGIN_FAILURE_WINDOW_MS) / 1000));
    expect(await failures.getFailures('nobody-failed')).toEqual([]);
  });

  it('trims failures outside the window once the list grows past 20', async () => {
    const old = now - LOGIN_FAILURE_WINDOW_MS - 60_000;
    for (let i = 0; i < 20; i += 1) await failures.recordFailure('trimmed', old + i);
    expect(await failures.getFailures('trimmed')).toHaveLength(20);
    const returned = await failures.recordFailure('trimmed', now);
    expect(returned).toHaveLength(21); // what the append saw
    expect(await failures.getFailures('trimmed')).toEqual([now]); // the stale head is gone
  });

  it('answers 503 UNAVAILABLE when DynamoDB cannot be reached', async () => {
    const dead = localDynamoDbClient('http://127.0.0.1:9');
    const deadConfig = new DynamoDbConfigStore(dead, tables.names.configTable);
    await expect(new DynamoDbLoginFailureStore(dead, tables.names.configTable).getFailures('x')).rejects.toMatchObject({ statusCode: 503, code: 'UNAVAILABLE' });
    await expect(new DynamoDbImagingStore(dead, tables.names.configTable, deadConfig).getDocument('PRESTAGE', 'x')).rejects.toMatchObject({ statusCode: 503 });
    dead.destroy();
  });
});
