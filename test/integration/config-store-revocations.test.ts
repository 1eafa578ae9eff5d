// The policy read at scale: a warm container's refresh reads the ~100-byte VERSION item and, when revocations
// changed, only the log lines since the revision it holds (additions and removals), never the whole set.
// (npm run bench:revocations measures the same with 100,000 revocations, and the check-in latency.)
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import type { ConfigSnapshot, RevocationRecord } from '../../lib/ports/config-store.ts';
import { createTestTables, type TestTables } from '../support/dynamodb.ts';

const SEEDED = 2000;
const fingerprint = (n: number) => n.toString(16).padStart(8, '0').repeat(8);
const record = (n: number, reason = 'lost'): RevocationRecord => ({ sha256: fingerprint(n), reason, revokedAt: '2026-11-25T18:00:00.000Z', revokedBy: 'alice' });

interface Read {
  command: string;
  pk?: string;
  items: number;
  capacity: number;
}

/** Every read the client makes, with the items it returned and the read units DynamoDB reported. */
function recordReads(client: DynamoDBClient): Read[] {
  const reads: Read[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName as string;
      const input = args.input as { ReturnConsumedCapacity?: string; ExpressionAttributeValues?: Record<string, { S?: string }>; Key?: Record<string, { S?: string }> };
      const reading = command === 'GetItemCommand' || command === 'QueryCommand';
      if (reading) input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      if (reading) {
        const output = result.output as { Items?: unknown[]; Item?: unknown; ConsumedCapacity?: { CapacityUnits?: number } };
        const pk = input.ExpressionAttributeValues?.[':pk']?.S ?? input.Key?.sk?.S;
        reads.push({ command, pk, items: output.Items?.length ?? (output.Item ? 1 : 0), capacity: output.ConsumedCapacity?.CapacityUnits ?? 0 });
      }
      return result;
    },
    { step: 'initialize', name: 'recordReads' },
  );
  return reads;
}

/** Revocations written straight into their partitions (as many admins would have over time), 25 per batch, 8 batches at a time. */
async function seedRevocations(tables: TestTables, count: number): Promise<void> {
  const { revocationKey } = await import('../../lib/adapters/dynamodb/keys.ts');
  const batches: RevocationRecord[][] = [];
  for (let n = 0; n < count; n += 25) batches.push(Array.from({ length: Math.min(25, count - n) }, (_, i) => record(n + i)));
  for (let i = 0; i < batches.length; i += 8) {
    await Promise.all(
      batches.slice(i, i + 8).map((batch) =>
        tables.client.send(
          new BatchWriteItemCommand({
            RequestItems: { [tables.names.configTable]: batch.map((r) => ({ PutRequest: { Item: marshall({ ...revocationKey(r.sha256), ...r }) } })) },
          }),
        ),
      ),
    );
  }
}

let tables: TestTables;
let store: DynamoDbConfigStore;
let reads: Read[];
let held: ConfigSnapshot;

beforeAll(async () => {
  tables = await createTestTables();
  await seedRevocations(tables, SEEDED);
  store = new DynamoDbConfigStore(tables.client, tables.names.configTable);
  reads = recordReads(tables.client);
  held = await store.refreshSnapshot();
}, 120_000);

describe('refreshing the policy with thousands of revocations', () => {
  it('a first load reads everything: the counters, the CONFIG partition and the 16 revocation partitions', () => {
    expect(held.revocations.size).toBe(SEEDED);
    expect(reads.filter((r) => r.command === 'GetItemCommand').map((r) => r.pk)).toEqual(['VERSION']);
    expect(new Set(reads.filter((r) => r.pk?.startsWith('REVOCATION#')).map((r) => r.pk)).size).toBe(16);
    expect(reads.filter((r) => r.pk?.startsWith('REVOCATION#')).reduce((sum, r) => sum + r.items, 0)).toBe(SEEDED);
  });

  it('an unchanged revision costs one GetItem of one read unit, and gives back the same snapshot', async () => {
    reads.length = 0;
    expect(await store.refreshSnapshot(held)).toBe(held);
    expect(reads).toEqual([{ command: 'GetItemCommand', pk: 'VERSION', items: 1, capacity: 1 }]);
  });

  it('after revocations and unrevocations, reads only their log lines: every addition and removal, nothing else', async () => {
    await store.commit({ change: { kind: 'REVOCATION', sha256: fingerprint(1), record: null }, history: line() });
    await store.commit({ change: { kind: 'REVOCATION', sha256: fingerprint(SEEDED + 1), record: record(SEEDED + 1) }, history: line() });
    await store.commit({ change: { kind: 'REVOCATION', sha256: fingerprint(2), record: record(2, 'stolen') }, history: line() });
    await store.commit({ change: { kind: 'REVOCATION', sha256: fingerprint(SEEDED + 1), record: null }, history: line() });
    await store.commit({ change: { kind: 'REVOCATION', sha256: fingerprint(SEEDED + 2), record: record(SEEDED + 2) }, history: line() });
    reads.length = 0;
    const refreshed = await store.refreshSnapshot(held);
    expect(reads).toEqual([
      { command: 'GetItemCommand', pk: 'VERSION', items: 1, capacity: 1 },
      { command: 'QueryCommand', pk: 'REVOCATION_LOG', items: 5, capacity: 1 },
    ]);
    expect(refreshed.revocations.size).toBe(SEEDED);
    expect([refreshed.revocations.has(fingerprint(1)), refreshed.revocations.has(fingerprint(SEEDED + 1))]).toEqual([false, false]);
    expect([refreshed.revocations.get(fingerprint(2)), refreshed.revocations.get(fingerprint(SEEDED + 2))]).toEqual([record(2, 'stolen'), record(SEEDED + 2)]);
    // The same as a whole load, in the same (fingerprint) order.
    expect([...refreshed.revocations]).toEqual([...(await store.loadSnapshot()).revocations]);
    held = refreshed;
  });

  it('a package change re-reads the small CONFIG partition alone, not the revocations', async () => {
    await store.commit({ change: { kind: 'PACKAGE', packageId: 'office', record: { packageId: 'office', name: 'Office', checksum: null, updatedAt: '2026-11-25T18:00:00.000Z', updatedBy: 'alice' } }, history: line() });
    reads.length = 0;
    const refreshed = await store.refreshSnapshot(held);
    expect(reads.map(({ command, pk }) => [command, pk])).toEqual([
      ['GetItemCommand', 'VERSION'],
      ['QueryCommand', 'CONFIG'],
    ]);
    expect(refreshed.revocations).toBe(held.revocations);
    expect([...refreshed.packages.keys()]).toEqual(['office']);
  });

  it('a container whose log lines have expired (the chain is broken) reloads the revocations whole', async () => {
    const { DeleteItemCommand } = await import('@aws-sdk/client-dynamodb');
    const before = held;
    await store.commit({ change: { kind: 'REVOCATION', sha256: fingerprint(3), record: null }, history: line() });
    await store.commit({ change: { kind: 'REVOCATION', sha256: fingerprint(4), record: null }, history: line() });
    const revision = (await store.getRevision())!;
    // The first of the two lines removed, as TTL would remove an old one.
    await tables.client.send(new DeleteItemCommand({ TableName: tables.names.configTable, Key: marshall({ pk: 'REVOCATION_LOG', sk: String(revision.version - 1).padStart(12, '0') }) }));
    reads.length = 0;
    const refreshed = await store.refreshSnapshot(before);
    expect(reads.filter((r) => r.pk?.startsWith('REVOCATION#')).reduce((sum, r) => sum + r.items, 0)).toBe(SEEDED - 2);
    expect([refreshed.revocations.has(fingerprint(3)), refreshed.revocations.has(fingerprint(4)), refreshed.revocations.size]).toEqual([false, false, SEEDED - 2]);
  });
});

function line() {
  return { version: 1, changedAt: new Date().toISOString(), actor: 'alice', changes: [] };
}
