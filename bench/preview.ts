// `npm run bench:preview`: the impact preview of a change over 10,000 devices (API.md §3: "A preview of 10,000
// devices answers within 5 s locally"), through the local runner's HTTP API on its own DynamoDB Local, with the read
// units the device reads consumed. Never part of `npm test`. The devices' statuses are written straight into the
// device-status table (as 10,000 check-ins would leave them) so that the setup takes seconds, not minutes.
// Built first, with POWERTOOLS_LOG_LEVEL=SILENT from the npm script, so that the stack's logs stay out of the output.
import '../lib/observability.ts';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Observations } from '../lib/domain/observations.ts';
import { localDynamoDbClient } from '../local/dynamodb-local.ts';
import { startLocalStack } from '../local/stack.ts';

const DEVICES = Number(process.env.PREVIEW_DEVICES ?? 10_000);
const RUNS = 5;

/** A device's latest observations: a realistic spread of skews, a few unverified servers and packages. */
function observationsOf(i: number, now: Date): Observations {
  const skewSeconds = ((i * 7919) % 900) - 450; // −450 … 449 s
  return {
    clientTime: new Date(now.getTime() + skewSeconds * 1000).toISOString(),
    serverTime: now.toISOString(),
    skewSeconds,
    skewMilliseconds: skewSeconds * 1000,
    phase: i % 50 === 0 ? 'ENROLLMENT' : 'CHECKIN',
    serverCertificateVerified: i % 40 !== 0,
    packages: Array.from({ length: 5 }, (_, p) => ({
      packageId: `pkg-${p}`,
      checksumType: 'SHA_256' as const,
      outcome: (i + p) % 97 === 0 ? ('NOT_REGISTERED' as const) : ('MATCH' as const),
      expectedChecksumType: 'SHA_256' as const,
    })),
    identity: { way: 'MTLS', fingerprint: (i % 65536).toString(16).padStart(64, '0'), violations: [] },
  };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-bench-preview-'));
  const stack = await startLocalStack({ port: 0, tlsPort: 0, dynamoDbPort: 0, snsPort: 0, dataDir, log: () => undefined });
  try {
    const client = localDynamoDbClient(stack.dynamoDbEndpoint);
    const table = stack.tableNames.DeviceStatusTable;
    const now = new Date();
    const setupStart = performance.now();
    const writeBatch = async (start: number) => {
      const items = Array.from({ length: Math.min(25, DEVICES - start) }, (_, k) => {
        const i = start + k;
        const facts = observationsOf(i, now);
        // Stored as accepted whatever they show: a blocked status would raise a DEVICE_BLOCKED alert through the
        // stream, which is not what is measured here (the preview judges the observations, not the stored status).
        const blocked = false;
        return {
          PutRequest: {
            Item: marshall(
              {
                deviceId: `MAC-${String(i).padStart(6, '0')}`,
                status: blocked ? 'BLOCKED' : 'ACCEPTED',
                decision: blocked ? 'BLOCK' : 'ACCEPT',
                violations: blocked ? [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'skew' }] : [],
                violationCodes: blocked ? ['CLOCK_SKEW_EXCEEDED'] : [],
                // A fleet checking in every 15 minutes: the last check-ins spread over the last 900 s.
                lastCheckinAt: new Date(now.getTime() - (i % 900) * 1000).toISOString(),
                checkinId: `c-${i}`,
                settingsVersion: 1,
                facts,
              },
              { removeUndefinedValues: true },
            ),
          },
        };
      });
      let unprocessed: typeof items | undefined = items;
      while (unprocessed && unprocessed.length > 0) {
        const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: unprocessed } }));
        unprocessed = result.UnprocessedItems?.[table] as typeof items | undefined;
      }
    };
    // Eight writers side by side: DynamoDB Local takes batch writes one at a time per connection.
    const starts = Array.from({ length: Math.ceil(DEVICES / 25) }, (_, b) => b * 25);
    await Promise.all(Array.from({ length: 8 }, async (_, lane) => {
      for (let b = lane; b < starts.length; b += 8) await writeBatch(starts[b]);
    }));
    // The blocked statuses raise DEVICE_BLOCKED alerts through the stream: let them pass before measuring.
    await stack.drainAlerts(300_000);
    const setupMs = performance.now() - setupStart;

    const preview = async () => {
      const begin = performance.now();
      const res = await fetch(`${stack.httpUrl}/admin/settings/preview`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ maxClockSkewSeconds: 120, packageValidation: 'ALWAYS' }),
      });
      const body = (await res.json()) as { devices: number; newlyBlocked: { count: number } };
      if (res.status !== 200) throw new Error(`preview answered ${res.status}: ${JSON.stringify(body)}`);
      return { ms: performance.now() - begin, body };
    };

    const readUnits = await measureReadUnits(stack.dynamoDbEndpoint, table, now);
    const times: number[] = [];
    let last: Awaited<ReturnType<typeof preview>>['body'] | undefined;
    for (let run = 0; run < RUNS; run += 1) {
      const { ms, body } = await preview();
      times.push(ms);
      last = body;
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log(`Impact preview of ${DEVICES} devices through the local runner on DynamoDB Local (${RUNS} runs)`);
    console.log(`  setup: ${DEVICES} statuses written in ${(setupMs / 1000).toFixed(1)} s`);
    console.log(`  answer: median ${median.toFixed(0)} ms, min ${times[0].toFixed(0)} ms, max ${times[times.length - 1].toFixed(0)} ms (budget 5000 ms)`);
    console.log(`  judged ${last?.devices} devices, ${last?.newlyBlocked.count} newly blocked`);
    console.log(`  device reads: ${readUnits.toFixed(1)} read capacity units per preview (eventually consistent index Query, as DynamoDB Local reports them)`);
    if (median > 5000) process.exitCode = 1;
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The read units one preview's device reads consume: the same Queries the adapter runs, summed. */
async function measureReadUnits(endpoint: string, table: string, now: Date): Promise<number> {
  const { DynamoDbDeviceStatusStore } = await import('../lib/adapters/dynamodb/device-status-store.ts');
  const store = new DynamoDbDeviceStatusStore(localDynamoDbClient(endpoint), table);
  let units = 0;
  for await (const page of store.observedSince(new Date(now.getTime() - 30 * 86_400_000).toISOString(), new Date().toISOString())) units += page.readUnits ?? 0;
  return units;
}

await main();
