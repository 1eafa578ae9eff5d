// The policy read with 100,000 revocations (issue 18's "cheap at any size"), on its own in-memory DynamoDB Local:
// what a container reads per refresh (items, bytes by DynamoDB's item-size rules, read units), the whole load a new
// container makes, and the check-in latency with the policy warm and cold. `npm run bench:revocations`
// (REVOCATIONS=… to change the count).
import '../lib/observability.ts';
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import { performance } from 'node:perf_hooks';
import { DynamoDbUnauthenticatedAttemptStore } from '../lib/adapters/dynamodb/attempt-store.ts';
import { DynamoDbConfigStore } from '../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbDecisionStore } from '../lib/adapters/dynamodb/decision-store.ts';
import { revocationKey } from '../lib/adapters/dynamodb/keys.ts';
import type { Clock } from '../lib/ports/clock.ts';
import type { RevocationRecord } from '../lib/ports/config-store.ts';
import { PolicyCache } from '../lib/services/policy-cache.ts';
import { ensureTables, localDynamoDbClient, startDynamoDbLocal, tableNamesFor } from '../local/dynamodb-local.ts';
import { loadServerlessConfig } from '../local/serverless-config.ts';
import { checkinEvent } from '../test/support/checkin-event.ts';

/** The i-th check-in of the run: 500 devices in turn. */
const benchEvent = (i: number) => checkinEvent({ checkinId: `bench-${i}`, deviceId: `MAC-${i % 500}`, requestId: `req-${i}` });

const REVOCATIONS = Number(process.env.REVOCATIONS ?? 100_000);
const WARM_CONTAINERS = 60;
const PARTITION_RCU_PER_SECOND = 3000;
const REFRESH_SECONDS = 5;

const fingerprint = (n: number) => n.toString(16).padStart(8, '0').repeat(8);
const revocation = (n: number): RevocationRecord => ({ sha256: fingerprint(n), reason: 'Device reported lost by its owner', revokedAt: '2026-11-25T18:00:00.000Z', revokedBy: 'security-admin' });

/** DynamoDB's size of an attribute value: strings and numbers by their bytes, maps and lists 3 + 1 per element. */
function valueSize(value: Record<string, unknown>): number {
  if ('S' in value) return Buffer.byteLength(value.S as string);
  if ('N' in value) return Math.ceil(String(value.N).replace(/^-/, '').replace(/^0+/, '').length / 2) + 1;
  if ('BOOL' in value || 'NULL' in value) return 1;
  if ('M' in value) return 3 + Object.entries(value.M as Record<string, Record<string, unknown>>).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + valueSize(v) + 1, 0);
  if ('L' in value) return 3 + (value.L as Record<string, unknown>[]).reduce((sum, v) => sum + valueSize(v) + 1, 0);
  return 0;
}
const itemSize = (item: Record<string, Record<string, unknown>>) => Object.entries(item).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + valueSize(v), 0);

interface Reads {
  requests: number;
  items: number;
  bytes: number;
  /** Strongly consistent: a GetItem is 1 unit per 4 KB of its item, a Query 1 per 4 KB of all it read (per page). */
  units: number;
}

function recordReads(client: DynamoDBClient): { reads: Reads; reset: () => void } {
  const reads: Reads = { requests: 0, items: 0, bytes: 0, units: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const output = result.output as { Items?: Record<string, Record<string, unknown>>[]; Item?: Record<string, Record<string, unknown>> };
      if (context.commandName === 'GetItemCommand' || context.commandName === 'QueryCommand') {
        const items = output.Items ?? (output.Item ? [output.Item] : []);
        const bytes = items.reduce((sum, item) => sum + itemSize(item), 0);
        reads.requests += 1;
        reads.items += items.length;
        reads.bytes += bytes;
        reads.units += Math.max(1, Math.ceil(bytes / 4096));
      }
      return result;
    },
    { step: 'initialize', name: 'benchReads' },
  );
  return { reads, reset: () => Object.assign(reads, { requests: 0, items: 0, bytes: 0, units: 0 }) };
}

async function seed(client: DynamoDBClient, table: string): Promise<void> {
  const starts = Array.from({ length: Math.ceil(REVOCATIONS / 25) }, (_, b) => b * 25);
  // Eight writers side by side: DynamoDB Local takes batch writes one at a time per connection.
  await Promise.all(
    Array.from({ length: 8 }, async (_, lane) => {
      for (let b = lane; b < starts.length; b += 8) {
        let unprocessed: unknown[] | undefined = Array.from({ length: Math.min(25, REVOCATIONS - starts[b]) }, (_, k) => {
          const record = revocation(starts[b] + k);
          return { PutRequest: { Item: marshall({ ...revocationKey(record.sha256), ...record }) } };
        });
        while (unprocessed && unprocessed.length > 0) {
          const result: { UnprocessedItems?: Record<string, unknown[]> } = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: unprocessed as never } }));
          unprocessed = result.UnprocessedItems?.[table];
        }
      }
    }),
  );
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

async function main(): Promise<void> {
  const dynamo = await startDynamoDbLocal({ port: 0 });
  try {
    const client = localDynamoDbClient(dynamo.endpoint);
    const config = loadServerlessConfig();
    const names = tableNamesFor(config, 'bench');
    await ensureTables(client, config, names);
    const store = new DynamoDbConfigStore(client, names.ConfigTable);
    await store.initializeSettings(new Date());
    const seedStart = performance.now();
    await seed(client, names.ConfigTable);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const { reads, reset } = recordReads(client);

    let begin = performance.now();
    const held = await store.refreshSnapshot();
    const fullMs = performance.now() - begin;
    const full = { ...reads };
    if (held.revocations.size !== REVOCATIONS) throw new Error(`loaded ${held.revocations.size} revocations, not ${REVOCATIONS}`);

    reset();
    begin = performance.now();
    if ((await store.refreshSnapshot(held)) !== held) throw new Error('an unchanged revision gave another snapshot');
    const unchangedMs = performance.now() - begin;
    const unchanged = { ...reads };

    const changes = 10;
    for (let i = 0; i < changes; i += 1) {
      const record = i % 2 === 0 ? revocation(REVOCATIONS + i) : null;
      const sha256 = record?.sha256 ?? fingerprint(i);
      await store.commit({ change: { kind: 'REVOCATION', sha256, record }, history: { version: 1, changedAt: new Date().toISOString(), actor: 'bench', changes: [] } });
    }
    reset();
    begin = performance.now();
    const refreshed = await store.refreshSnapshot(held);
    const deltaMs = performance.now() - begin;
    const delta = { ...reads };
    if (refreshed.revocations.size !== REVOCATIONS) throw new Error(`after ${changes} changes: ${refreshed.revocations.size} revocations`);

    const perSecond = (units: number) => (WARM_CONTAINERS * units) / REFRESH_SECONDS;
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
    console.log(`Policy reads with ${REVOCATIONS} revocations on DynamoDB Local (seeded in ${seedSeconds.toFixed(1)} s)`);
    console.log(`  new container, whole load: ${full.requests} requests, ${full.items} items, ${kb(full.bytes)}, ${full.units} read units, ${fullMs.toFixed(0)} ms`);
    console.log(`  warm refresh, nothing changed: ${unchanged.requests} GetItem, ${unchanged.bytes} bytes, ${unchanged.units} read unit, ${unchangedMs.toFixed(1)} ms`);
    console.log(`  warm refresh after ${changes} revocation changes: ${delta.requests} requests, ${delta.items} items, ${kb(delta.bytes)}, ${delta.units} read units, ${deltaMs.toFixed(1)} ms`);
    console.log(`  ${WARM_CONTAINERS} warm containers refreshing every ${REFRESH_SECONDS} s: ${perSecond(unchanged.units)} RCU/s unchanged, ${perSecond(delta.units)} RCU/s in the 5 s after a change (a partition serves ${PARTITION_RCU_PER_SECOND})`);
    console.log(`  the same containers re-reading everything every 5 s (before): ${perSecond(full.units).toLocaleString('en-US')} RCU/s`);
    // Check-ins through the real handler: the first one loads the policy (a new container), the rest find it warm.
    let now = Date.now();
    const clock: Clock = { now: () => new Date(now) };
    // The module builds its production handler at import, from the environment; makeHandler is what is measured.
    Object.assign(process.env, { CONFIG_TABLE: names.ConfigTable, DECISIONS_TABLE: names.DecisionsTable, DEVICE_STATUS_TABLE: names.DeviceStatusTable });
    const { makeHandler } = await import('../functions/check-in.ts');
    const handle = makeHandler({
      policies: new PolicyCache(store, clock),
      decisions: new DynamoDbDecisionStore(client, { decisionsTable: names.DecisionsTable, deviceStatusTable: names.DeviceStatusTable, retentionDays: 90 }),
      attempts: new DynamoDbUnauthenticatedAttemptStore(client, names.DecisionsTable),
      clock,
    });
    begin = performance.now();
    const first = await handle(benchEvent(0), {} as Context);
    const coldMs = performance.now() - begin;
    if (first.statusCode !== 200) throw new Error(`check-in answered ${first.statusCode}: ${first.body}`);
    const warm: number[] = [];
    const refreshing: number[] = [];
    for (let i = 1; i <= 200; i += 1) {
      // Every 20th check-in finds the policy 5 s old: it refreshes (one GetItem) before judging.
      if (i % 20 === 0) now += 5000;
      begin = performance.now();
      const response = await handle(benchEvent(i), {} as Context);
      (i % 20 === 0 ? refreshing : warm).push(performance.now() - begin);
      if (response.statusCode !== 200) throw new Error(`check-in answered ${response.statusCode}: ${response.body}`);
    }
    warm.sort((a, b) => a - b);
    refreshing.sort((a, b) => a - b);

    console.log(`  check-in: new container ${coldMs.toFixed(0)} ms; warm p50 ${percentile(warm, 50).toFixed(1)} ms, p99 ${percentile(warm, 99).toFixed(1)} ms; with a refresh p50 ${percentile(refreshing, 50).toFixed(1)} ms`);
    if (perSecond(delta.units) > PARTITION_RCU_PER_SECOND / 10) process.exitCode = 1;
  } finally {
    await dynamo.stop();
  }
}

await main();
