// The DynamoDB imaging adapters against DynamoDB Local, beyond the shared contracts (imaging-store-contract.test.ts):
// what the items hold, the login record's races, TTL and older format, and an unreachable store.
import { type DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbImagingStore } from '../../lib/adapters/dynamodb/imaging-store.ts';
import { DynamoDbLoginAttemptStore } from '../../lib/adapters/dynamodb/login-attempt-store.ts';
import { LOGIN_FAILURE_WINDOW_MS, parseImagingDocument } from '../../lib/domain/imaging.ts';
import { StoreUnavailableError } from '../../lib/ports/errors.ts';
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
  store = new DynamoDbImagingStore(tables.client, tables.names.configTable);
  attempts = new DynamoDbLoginAttemptStore(tables.client, tables.names.configTable);
});

afterAll(() => tables?.client.destroy());

async function rawItem(pk: string, sk: string) {
  const result = await tables.client.send(new GetItemCommand({ TableName: tables.names.configTable, Key: marshall({ pk, sk }) }));
  return result.Item && unmarshall(result.Item);
}

const at = (iso: string) => ({ actor: 'alice-admin', changedAt: iso });

describe('imaging items', () => {
  it('an account item holds the hash and its parameters, never the password, and nothing derived from it reaches the history', async () => {
    const first = await hashPassword('first password!');
    await store.putAccount('tech1', first, at('2026-11-25T10:00:00.000Z'));
    const item = await rawItem('IMAGING_ACCOUNT', 'tech1');
    expect(item?.passwordHash).toEqual(first);
    expect(JSON.stringify(item)).not.toContain('first password');
    const second = await hashPassword('second password!');
    await store.putAccount('tech1', second, at('2026-11-25T11:00:00.000Z'));
    await store.deleteAccount('tech1', at('2026-11-25T12:00:00.000Z'));
    const history = JSON.stringify(await configStore.listHistory(200));
    for (const secret of [first.hash, first.salt, second.hash, second.salt, 'password']) expect(history).not.toContain(secret);
  });

  it('serves the JSON byte for byte as stored, whatever its nesting depth', async () => {
    // Deeper than DynamoDB's 32 levels of nested maps: stored as text, it round-trips.
    let deep: Record<string, unknown> = { leaf: 0.1 };
    for (let i = 0; i < 40; i += 1) deep = { n: deep };
    const document = parseImagingDocument(deep, 'AUTORUN', 'C02DEEP');
    await store.putDocument('AUTORUN', 'C02DEEP', document, at('2026-11-25T10:00:00.000Z'));
    expect((await store.getDocument('AUTORUN', 'C02DEEP'))?.json).toBe(document.json);
    // The fingerprint is SHA-256 of the stored JSON text.
    expect(document.sha256).toBe(createHash('sha256').update(document.json).digest('hex'));
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

  it('keeps one item per username with a TTL 15 minutes after the newest attempt and a revision per reservation', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, () => attempts.reserve('racer', id(), now)));
    expect(results.filter((r) => r.reserved)).toHaveLength(10);
    const item = await rawItem('LOGIN_FAILURES', 'racer');
    expect(item?.expiresAt).toBe(Math.ceil((now + LOGIN_FAILURE_WINDOW_MS) / 1000));
    expect(item?.revision).toBe(10);
    expect(Object.keys(item?.attempts ?? {})).toHaveLength(10);
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
    await attempts.reserve('late', late, now - LOGIN_FAILURE_WINDOW_MS - 1000);
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

  it('throws StoreUnavailableError (answered 503 UNAVAILABLE) when DynamoDB cannot be reached', async () => {
    const dead = localDynamoDbClient('http://127.0.0.1:9');
    await expect(new DynamoDbLoginAttemptStore(dead, tables.names.configTable).reserve('x', 'y', now)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(new DynamoDbLoginAttemptStore(dead, tables.names.configTable).markFailed('x', 'y', now)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(new DynamoDbImagingStore(dead, tables.names.configTable).getDocument('PRESTAGE', 'x')).rejects.toBeInstanceOf(StoreUnavailableError);
    dead.destroy();
  });
});
