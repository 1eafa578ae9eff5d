// Check-ins per second through the local runner (the same code as `npm start`) against bare DynamoDB calls from the
// same process on the same DynamoDB Local, at the same concurrency; and the write units of a steady-state check-in
// computed from the items it actually wrote, with AWS's rules as bench/write-units.ts applies them (DynamoDB Local's
// ConsumedCapacity under-reports transactions). Used by bench/run.ts; `npx tsx bench/throughput.ts` prints its rows alone.
//
// The bare baselines write what a check-in writes: the rounds first send check-ins, then read back the items one of
// them stored (its decision, its idempotency record, its device's status) and replay them under fresh keys, as one
// 3-item TransactWriteItems (the transaction a check-in makes) and as three single PutItems' worth of one PutItem.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { INDEX_ENTRY_OVERHEAD_BYTES, itemSize } from './write-units.ts';

export interface ThroughputRound {
  /** Check-ins answered per second through the local runner. */
  checkinsPerSecond: number;
  /** 3-item TransactWriteItems per second, same items, same client process, same concurrency. */
  transactionsPerSecond: number;
  /** PutItem (the status item) per second. */
  putsPerSecond: number;
  /** This process's CPU (runner + client) per check-in, ms. */
  cpuMsPerCheckin: number;
}

export interface WriteUnits {
  /** Item sizes in bytes as DynamoDB counts them (attribute names + values). */
  itemBytes: { decision: number; idempotency: number; status: number; statusIndexEntry: number };
  /** The three items written one by one, as the check-in writes them: 1 KB units each. */
  singleWrites: number;
  /** The same three items in one TransactWriteItems: transactional writes cost double. */
  transaction: number;
  /** The status index entry moved (its sort key holds lastCheckinAt): a delete and a put, 1 KB units each. */
  index: number;
}

export interface ThroughputMeasure {
  connections: number;
  perPhase: number;
  rounds: ThroughputRound[];
  writeUnits: WriteUnits;
  /** Measured check-ins answered 503 (the store slower than the function's deadline on a loaded machine). */
  unavailable: number;
}

const kbUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));


export async function measureThroughput(options: { connections?: number; perPhase?: number; rounds?: number } = {}): Promise<ThroughputMeasure> {
  const connections = options.connections ?? 32;
  const perPhase = options.perPhase ?? 600;
  const roundCount = options.rounds ?? 3;
  // The functions log nothing and emit no metrics here: the run measures the service, not the terminal.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const { GetItemCommand, PutItemCommand, QueryCommand, TransactWriteItemsCommand } = await import('@aws-sdk/client-dynamodb');
  const { localDynamoDbClient, startDynamoDbLocal } = await import('../local/dynamodb-local.ts');
  const { startLocalStack } = await import('../local/stack.ts');

  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-bench-throughput-'));
  const dynamoDb = await startDynamoDbLocal({ port: 0 });
  let stopStack: (() => Promise<void>) | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const client = localDynamoDbClient(dynamoDb.endpoint);
  try {
    const stack = await startLocalStack({
      port: 0, tlsPort: 0, dynamoDbPort: 0, snsPort: 0, dataDir: join(dataDir, 'runner'), dynamoDbEndpoint: dynamoDb.endpoint,
      adminToken: randomBytes(24).toString('hex'), log: () => undefined,
    });
    stopStack = stack.stop;
    const url = new URL(stack.httpUrl);
    const tables = stack.tableNames;
    let sequence = 0;
    const devices = 200;
    let lastRefusal = '';

    const checkin = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const n = sequence++;
        const body = JSON.stringify({
          checkinId: `bench-${n}`,
          deviceId: `BENCH-${String(n % devices).padStart(5, '0')}`,
          clientTime: new Date().toISOString(),
          serverCertificateVerified: true,
        });
        const req = request(
          { agent, host: url.hostname, port: url.port, method: 'POST', path: '/checkin', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              if (res.statusCode !== 200 && res.statusCode !== 403) lastRefusal = Buffer.concat(chunks).toString('utf8');
              resolve(res.statusCode ?? 0);
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      });

    /** `count` calls of `call`, `lanes` at a time; calls per second of wall time, and CPU ms per call. */
    const phase = async (count: number, call: () => Promise<unknown>, lanes = connections) => {
      let started = 0;
      const cpuBefore = process.cpuUsage();
      const begun = performance.now();
      const lane = async () => {
        while (started < count) {
          started += 1;
          await call();
        }
      };
      await Promise.all(Array.from({ length: lanes }, lane));
      const seconds = (performance.now() - begun) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      return { perSecond: count / seconds, cpuMsPerCall: (cpu.user + cpu.system) / 1000 / count };
    };

    // Warm-up: every device checks in once (its status item exists: later check-ins are steady-state replacements).
    // Four at a time, while DynamoDB Local's JVM warms up; a 503 (the store too slow for the function's deadline) is
    // sent again, as a device would.
    await phase(
      devices,
      async () => {
        for (let attempt = 0; ; attempt += 1) {
          const answer = await checkin();
          if (answer === 200) return;
          if (answer !== 503 || attempt === 20) throw new Error(`a bench check-in was answered ${answer}: ${lastRefusal}`);
        }
      },
      4,
    );

    // The items one steady-state check-in wrote, read back.
    const probe = sequence - 1;
    const deviceId = `BENCH-${String(probe % devices).padStart(5, '0')}`;
    const decisions = await client.send(
      new QueryCommand({ TableName: tables.DecisionsTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `DEVICE#${deviceId}` } }, ScanIndexForward: false, Limit: 1 }),
    );
    const decision = decisions.Items?.[0];
    const idempotency = (await client.send(new GetItemCommand({ TableName: tables.DecisionsTable, Key: { pk: { S: `CHECKIN#bench-${probe}` }, sk: { S: 'CHECKIN' } } }))).Item;
    const status = (await client.send(new GetItemCommand({ TableName: tables.DeviceStatusTable, Key: { deviceId: { S: deviceId } } }))).Item;
    if (!decision || !idempotency || !status) throw new Error('the items of a bench check-in were not found where keys.ts says they are');

    // The index entry: its keys, the table's key and the projected attributes (ALL: the whole item), + 100 bytes.
    const statusIndexEntry = itemSize(status) + INDEX_ENTRY_OVERHEAD_BYTES;
    const singleWrites = kbUnits(itemSize(decision)) + kbUnits(itemSize(idempotency)) + kbUnits(itemSize(status));
    const writeUnits: WriteUnits = {
      itemBytes: { decision: itemSize(decision), idempotency: itemSize(idempotency), status: itemSize(status), statusIndexEntry },
      singleWrites,
      transaction: 2 * singleWrites,
      index: 2 * kbUnits(statusIndexEntry),
    };

    let bareSequence = 0;
    const bareItems = () => {
      const n = bareSequence++;
      const bareDevice = `BARE-${String(n % devices).padStart(5, '0')}`;
      const at = new Date().toISOString();
      return {
        decision: { ...decision, pk: { S: `DEVICE#${bareDevice}` }, sk: { S: `${at}#bare-${n}` } },
        idempotency: { ...idempotency, pk: { S: `CHECKIN#bare-${n}` } },
        status: { ...status, deviceId: { S: bareDevice }, statusSk: { S: `${at}#${bareDevice}` } },
      };
    };
    const bareTransaction = () => {
      const items = bareItems();
      return client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: tables.DecisionsTable, Item: items.idempotency, ConditionExpression: 'attribute_not_exists(pk)' } },
            { Put: { TableName: tables.DecisionsTable, Item: items.decision } },
            { Put: { TableName: tables.DeviceStatusTable, Item: items.status } },
          ],
        }),
      );
    };
    const barePut = () => client.send(new PutItemCommand({ TableName: tables.DeviceStatusTable, Item: bareItems().status }));
    await phase(Math.min(perPhase, 500), bareTransaction);

    let unavailable = 0;
    const measuredCheckin = async () => {
      const answer = await checkin();
      if (answer === 503) unavailable += 1;
      else if (answer !== 200) throw new Error(`a bench check-in was answered ${answer}: ${lastRefusal}`);
    };
    const rounds: ThroughputRound[] = [];
    for (let round = 0; round < roundCount; round += 1) {
      const tx = await phase(perPhase, bareTransaction);
      const checkins = await phase(perPhase, measuredCheckin);
      const puts = await phase(perPhase, barePut);
      rounds.push({ checkinsPerSecond: checkins.perSecond, transactionsPerSecond: tx.perSecond, putsPerSecond: puts.perSecond, cpuMsPerCheckin: checkins.cpuMsPerCall });
    }
    return { connections, perPhase, rounds, writeUnits, unavailable };
  } finally {
    agent.destroy();
    client.destroy();
    await stopStack?.().catch(() => undefined);
    await dynamoDb.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const measure = await measureThroughput({ perPhase: Number(process.env.BENCH_THROUGHPUT_CHECKINS ?? 600) });
  console.log(JSON.stringify(measure));
}
