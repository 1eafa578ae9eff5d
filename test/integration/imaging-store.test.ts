// Integration tests for lib/adapters/dynamodb/imaging-store.ts against DynamoDB Local: accounts and documents with
// their history lines, and the login attempt record (reservations under concurrency).
import { type DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConfigStore, FRESH_SETTINGS } from '../../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbImagingStore, DynamoDbLoginAttemptStore } from '../../lib/adapters/dynamodb/imaging-store.ts';
import { LOGIN_FAILURE_WINDOW_MS, LOGIN_PENDING_TIMEOUT_MS, parseImagingDocument } from '../../lib/domain/imaging.ts';
import { hashPassword } from '../../lib/services/imaging/passwords.ts';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import { createTestTables, type TestTables } from '../support/dynamodb.ts';

let tables: TestTables;
let configStore: DynamoDbConfigStore;
let store: DynamoDbImagingStore;
let attempts: DynamoDbLoginAttemptStore;

beforeAll(async () => {
  tables = await createTestTables();
  configStore = new DynamoDbConfigStore(tables.client, tables.names.configTable);
  store = new DynamoDbImagingStore(tables.client, tables.names.configTable, configStore);
  attempts = new DynamoDbLoginAttemptStore(tables.client, tables.names.configTable);
});

afterAll(() => tables?.client.destroy());

async function rawItem(pk: string, sk: string) {
  const result = await tables.client.send(new GetItemCommand({ TableName: tables.names.configTable, Key: marshall({ pk, sk }) }));
  return result.Item && unmarshall(result.Item);
}

/** History lines with a change of the field whose from or to starts with the value prefix (an id), oldest first. */
async function historyFor(field: string, valuePrefix: string) {
  const entries = await configStore.listHistory(200);
  const mentions = (v: unknown) => typeof v === 'string' && (v === valuePrefix || v.startsWith(`${valuePrefix} `));
  return entries.filter((e) => e.changes.some((c) => c.field === field && (mentions(c.from) || mentions(c.to)))).reverse();
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

    expect(await historyFor('imagingAccounts', 'tech1')).toEqual([
      { version: 1, changedAt: '2026-11-25T10:00:00.000Z', actor: 'alice-admin', changes: [{ field: 'imagingAccounts', from: null, to: 'tech1' }] },
      { version: 1, changedAt: '2026-11-25T11:00:00.000Z', actor: 'alice-admin', changes: [{ field: 'imagingAccounts', from: 'tech1', to: 'tech1' }] },
      { version: 1, changedAt: '2026-11-25T12:00:00.000Z', actor: 'alice-admin', changes: [{ field: 'imagingAccounts', from: 'tech1', to: null }] },
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
    const [line] = await historyFor('imagingAccounts', 'versioned');
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
    expect((await historyFor('imagingPrestages', 'lab')).map((e) => e.changes)).toEqual([
      [{ field: 'imagingPrestages', from: null, to: `lab sha256:${v1.sha256}` }],
      [{ field: 'imagingPrestages', from: `lab sha256:${v1.sha256}`, to: `lab sha256:${v2.sha256}` }],
      [{ field: 'imagingPrestages', from: `lab sha256:${v2.sha256}`, to: null }],
    ]);
    // The fingerprint is SHA-256 of the stored JSON text.
    expect(v1.sha256).toBe(createHash('sha256').update(v1.json).digest('hex'));
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
    expect(await historyFor('imagingAutorun', 'C02RACE')).toHaveLength(2);
  });
});

describe('login attempt record', () => {
  const now = Date.now();
  let ids = 0;
  const id = () => `attempt-${(ids += 1)}`;

  /** A client that runs `hook` once, just before the next reservation write (between its read and its write). */
  function interposed(hook: () => Promise<unknown>): DynamoDBClient {
    let pending: (() => Promise<unknown>) | undefined = hook;
    return {
      send: async (command: unknown) => {
        if (pending && command instanceof UpdateItemCommand && /^SET #attempts(\.#new)? = /.test(command.input.UpdateExpression ?? '')) {
          const run = pending;
          pending = undefined;
          await run();
        }
        return tables.client.send(command as never);
      },
    } as unknown as DynamoDBClient;
  }

  it('30 parallel reservations for one username: exactly 10 are reserved, each a PENDING entry, with a TTL', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, () => attempts.reserve('racer', id(), now)));
    expect(results.filter((r) => r.reserved)).toHaveLength(10);
    // The others were refused, mostly because ten were already reserved when they read.
    for (const r of results.filter((x) => !x.reserved)) expect(['LOCKED', 'CONTENDED']).toContain(r.reserved ? '' : r.reason);
    expect(results.some((r) => !r.reserved && r.reason === 'LOCKED')).toBe(true);
    const entries = await attempts.getAttempts('racer');
    expect(entries).toHaveLength(10);
    expect(entries.every((e) => e.state === 'PENDING' && e.at === now)).toBe(true);
    const item = await rawItem('LOGIN_FAILURES', 'racer');
    expect(item?.expiresAt).toBe(Math.ceil((now + LOGIN_FAILURE_WINDOW_MS) / 1000));
    expect(item?.revision).toBe(10);
    expect(await attempts.getAttempts('nobody-tried')).toEqual([]);
  });

  it('marks failures (they keep counting) and releases successes (they stop counting), without touching others', async () => {
    const [a, b, c] = [id(), id(), id()];
    for (const x of [a, b, c]) expect(await attempts.reserve('marker', x, now)).toMatchObject({ reserved: true });
    await attempts.markFailed('marker', a, now + 50);
    await attempts.release('marker', b);
    expect(await attempts.reserve('marker', id(), now + 60)).toEqual({ reserved: true, counted: 3 }); // a (FAILED), c, the new one
    const entries = await attempts.getAttempts('marker');
    expect(entries.find((e) => e.id === a)).toEqual({ id: a, at: now + 50, state: 'FAILED' });
    expect(entries.find((e) => e.id === b)).toBeUndefined();
    expect(entries.find((e) => e.id === c)).toEqual({ id: c, at: now, state: 'PENDING' });
    // Releasing or marking an attempt of a username with no record changes nothing and does not fail.
    await attempts.release('never-reserved', 'x');
    await attempts.markFailed('never-reserved', 'x', now);
    expect(await rawItem('LOGIN_FAILURES', 'never-reserved')).toBeUndefined();
  });

  it('refuses the 11th with the lock, and drops what no longer counts on the next reservation', async () => {
    const old = now - LOGIN_FAILURE_WINDOW_MS - 1;
    for (let i = 0; i < 10; i += 1) {
      const attemptId = id();
      await attempts.reserve('stale', attemptId, old);
      await attempts.markFailed('stale', attemptId, old);
    }
    expect(await attempts.reserve('stale', id(), old + 1)).toMatchObject({ reserved: false, reason: 'LOCKED', decision: { failed: 10, pending: 0 } });
    // A container that died mid-check, 61 s ago: its PENDING entry no longer counts either.
    const crashed = id();
    await attempts.reserve('stale', crashed, now - LOGIN_PENDING_TIMEOUT_MS - 1000);
    expect(await attempts.reserve('stale', id(), now)).toEqual({ reserved: true, counted: 1 });
    expect((await attempts.getAttempts('stale')).map((e) => [e.at, e.state])).toEqual([[now, 'PENDING']]);
  });

  it('a reservation that loses the race reads again and decides on the new count', async () => {
    for (let i = 0; i < 9; i += 1) await attempts.reserve('race9', id(), now);
    // Between our read (9 counted) and our write, another container reserves the 10th.
    const store = new DynamoDbLoginAttemptStore(interposed(() => attempts.reserve('race9', 'other-container', now)), tables.names.configTable);
    expect(await store.reserve('race9', 'ours', now)).toMatchObject({ reserved: false, reason: 'LOCKED', decision: { pending: 10 } });
    expect((await attempts.getAttempts('race9')).map((e) => e.id)).toContain('other-container');
    expect((await attempts.getAttempts('race9')).map((e) => e.id)).not.toContain('ours');
  });

  it('does not drop a stale PENDING entry that was marked FAILED between the read and the write', async () => {
    const late = id();
    await attempts.reserve('late', late, now - LOGIN_PENDING_TIMEOUT_MS - 1000);
    const store = new DynamoDbLoginAttemptStore(interposed(() => attempts.markFailed('late', late, now)), tables.names.configTable);
    expect(await store.reserve('late', 'next', now)).toEqual({ reserved: true, counted: 2 });
    expect((await attempts.getAttempts('late')).find((e) => e.id === late)).toEqual({ id: late, at: now, state: 'FAILED' });
  });

  it('reads a record of the previous version (a list of failure times) as failures, and converts it', async () => {
    const failures = [now - LOGIN_FAILURE_WINDOW_MS - 5, ...Array.from({ length: 9 }, (_, i) => now - 1000 + i)];
    await tables.client.send(new PutItemCommand({ TableName: tables.names.configTable, Item: marshall({ pk: 'LOGIN_FAILURES', sk: 'legacy', failures, expiresAt: 1 }) }));
    expect(await attempts.getAttempts('legacy')).toHaveLength(10);
    expect(await attempts.reserve('legacy', 'new', now)).toEqual({ reserved: true, counted: 10 });
    const item = await rawItem('LOGIN_FAILURES', 'legacy');
    expect(item?.failures).toBeUndefined();
    expect(Object.keys(item?.attempts ?? {})).toHaveLength(10); // 9 failures that still count and the new attempt
    expect(await attempts.reserve('legacy', 'refused', now)).toMatchObject({ reserved: false, reason: 'LOCKED' });
  });

  it('answers 503 UNAVAILABLE when DynamoDB cannot be reached', async () => {
    const dead = localDynamoDbClient('http://127.0.0.1:9');
    const deadConfig = new DynamoDbConfigStore(dead, tables.names.configTable);
    await expect(new DynamoDbLoginAttemptStore(dead, tables.names.configTable).reserve('x', 'y', now)).rejects.toMatchObject({ statusCode: 503, code: 'UNAVAILABLE' });
    await expect(new DynamoDbLoginAttemptStore(dead, tables.names.configTable).markFailed('x', 'y', now)).rejects.toMatchObject({ statusCode: 503 });
    await expect(new DynamoDbImagingStore(dead, tables.names.configTable, deadConfig).getDocument('PRESTAGE', 'x')).rejects.toMatchObject({ statusCode: 503 });
    dead.destroy();
  });
});
