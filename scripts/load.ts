// `npm run load`: check-ins at scale through the local runner (the same code as `npm start`), on loopback only, bounded
// in count and time. Sends CHECKINS new check-ins from DEVICES devices over CONNECTIONS kept-alive connections — a mix
// of accepted, blocked and signed-request check-ins, with retries of earlier ones (replays) among them — then proves
// from the store that every check-in has exactly one decision and every device's status is its last decision, and
// prints the throughput and the latency percentiles.
//
//   npm run load                                   # 20,000 check-ins, 1,000 devices, 64 connections
//   npm run load -- --restart-dynamodb             # the same, DynamoDB Local restarted in the middle
//   npm run load -- --checkins 5000 --devices 200 --connections 32 --max-seconds 300
//
// With --restart-dynamodb, a check-in answered 503 is sent again after its Retry-After until it gets a decision: every
// check-in answered 200/403 must be recorded once, one answered 503 at most once, and the retries complete the set
// (a retry of one that had landed is answered as a replay). Exits 1 when a property fails or the time runs out.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

// The functions log nothing and emit no metrics here: the run measures the service, not the terminal.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const { ScanCommand } = await import('@aws-sdk/client-dynamodb');
const { localDynamoDbClient, startDynamoDbLocal } = await import('../local/dynamodb-local.ts');
const { startLocalStack } = await import('../local/stack.ts');
const { CertificateFactory, signBody } = await import('../test/support/certificates.ts');
type DynamoDbLocal = Awaited<ReturnType<typeof startDynamoDbLocal>>;

const { values: args } = parseArgs({
  options: {
    checkins: { type: 'string', default: '20000' },
    devices: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '64' },
    'signed-devices': { type: 'string', default: '50' },
    'max-seconds': { type: 'string', default: '1200' },
    'restart-dynamodb': { type: 'boolean', default: false },
  },
});
const CHECKINS = Number(args.checkins);
const DEVICES = Number(args.devices);
const CONNECTIONS = Number(args.connections);
const SIGNED_DEVICES = Math.min(DEVICES, Number(args['signed-devices']));
const MAX_MS = Number(args['max-seconds']) * 1000;
const RESTART = args['restart-dynamodb'];
/** One sent check-in in ten is a retry of one already answered (a device that did not see the answer). */
const REPLAY_SHARE = 0.1;

interface Planned {
  checkinId: string;
  deviceId: string;
  signer?: { base64: string; keyPem: string };
  compliant: boolean;
  expected: 'ACCEPT' | 'BLOCK';
}

interface Outcome {
  status: number;
  ms: number;
  replay: boolean;
  decision?: string;
  retryAfter?: number;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-load-'));
const factory = CertificateFactory.create('tollgate-load-certs-');
let dynamoDb: DynamoDbLocal | undefined;
let stopStack: (() => Promise<void>) | undefined;
const deadline = Date.now() + MAX_MS;
const failures: string[] = [];

try {
  // ---- the stack: its own DynamoDB Local (on disk when it is to be restarted), the runner on free loopback ports ----
  dynamoDb = await startDynamoDbLocal({ port: 0, dataDir: RESTART ? join(dataDir, 'dynamodb') : undefined });
  const stack = await startLocalStack({ port: 0, tlsPort: 0, dynamoDbPort: 0, snsPort: 0, dataDir: join(dataDir, 'runner'), dynamoDbEndpoint: dynamoDb.endpoint, adminToken: randomBytes(24).toString('hex'), log: () => undefined });
  stopStack = stack.stop;
  const url = new URL(stack.httpUrl);
  log(`Local runner at ${stack.httpUrl}, DynamoDB Local at ${dynamoDb.endpoint}${RESTART ? ' (restarted in the middle of the run)' : ''}`);

  // ---- the plan: CHECKINS new check-ins, round-robin over the devices so that one device's are far apart ----
  const root = factory.makeRootCa({ cn: 'Load Root' });
  const signers = Array.from({ length: SIGNED_DEVICES }, (_, i) => factory.makeDeviceCertificate(root, { cn: `LOAD-${String(i).padStart(5, '0')}` }));
  const deviceIds = Array.from({ length: DEVICES }, (_, i) => `LOAD-${String(i).padStart(5, '0')}`);
  const plan: Planned[] = [];
  for (let n = 0; n < CHECKINS; n += 1) {
    const device = n % DEVICES;
    // One check-in in five is blocked (the device did not verify the server's certificate).
    const blocked = (n * 7919) % 5 === 0;
    plan.push({ checkinId: `load-${n}`, deviceId: deviceIds[device], signer: signers[device], compliant: !blocked, expected: blocked ? 'BLOCK' : 'ACCEPT' });
  }
  /** The body and headers of a check-in, made when it is first sent (its clientTime is the device's clock then) and kept for its retries. */
  const wire = new Map<string, { body: string; headers: Record<string, string> }>();
  const wireOf = (item: Planned) => {
    let made = wire.get(item.checkinId);
    if (!made) {
      const body = JSON.stringify({ checkinId: item.checkinId, deviceId: item.deviceId, clientTime: new Date().toISOString(), serverCertificateVerified: item.compliant });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (item.signer) {
        headers['x-device-certificate'] = item.signer.base64;
        headers['x-device-signature'] = signBody(Buffer.from(body), item.signer).toString('base64');
      }
      made = { body, headers };
      wire.set(item.checkinId, made);
    }
    return made;
  };

  // ---- the run ----
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const send = (item: Planned): Promise<Outcome> =>
    new Promise((resolve) => {
      const { body, headers } = wireOf(item);
      const started = performance.now();
      const req = request({ agent, host: url.hostname, port: url.port, method: 'POST', path: '/checkin', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          let decision: string | undefined;
          try {
            decision = JSON.parse(Buffer.concat(chunks).toString('utf8')).decision;
          } catch {
            decision = undefined;
          }
          resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, replay: res.headers['idempotent-replay'] === 'true', decision, retryAfter: Number(res.headers['retry-after'] ?? 1) });
        });
      });
      req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', () => resolve({ status: 0, ms: performance.now() - started, replay: false }));
      req.end(body);
    });

  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  /** The first answer each check-in got, and whether it was ever answered with a decision. */
  const firstAnswer = new Map<string, Outcome>();
  const decided = new Map<string, Outcome>();
  const answered: Planned[] = [];
  let replaysSent = 0;
  let replaysAnswered = 0;
  let retriesAfter503 = 0;
  let retriesReplayed = 0;
  let sent = 0;
  let next = 0;
  const retryQueue: Array<{ item: Planned; notBefore: number }> = [];
  let restart: Promise<void> | undefined;
  let outageSeen = 0;

  const record = (outcome: Outcome) => {
    latencies.push(outcome.ms);
    statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
  };

  const started = performance.now();
  const worker = async () => {
    for (;;) {
      if (Date.now() > deadline) throw new Error(`the run did not finish within ${MAX_MS / 1000} s`);
      const due = retryQueue.findIndex((r) => r.notBefore <= Date.now());
      let item: Planned | undefined;
      let kind: 'new' | 'replay' | 'retry' = 'new';
      if (due !== -1) {
        item = retryQueue.splice(due, 1)[0].item;
        kind = 'retry';
      } else if (answered.length > 0 && Math.random() < REPLAY_SHARE && next < plan.length) {
        item = answered[Math.floor(Math.random() * answered.length)];
        kind = 'replay';
      } else if (next < plan.length) {
        item = plan[next++];
      } else if (retryQueue.length > 0) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      } else {
        return;
      }
      if (RESTART && !restart && sent >= plan.length * 0.4) {
        restart = (async () => {
          log(`Restarting DynamoDB Local after ${sent} requests…`);
          await dynamoDb!.stop();
          dynamoDb = await startDynamoDbLocal({ port: dynamoDb!.port, dataDir: join(dataDir, 'dynamodb') });
          log('DynamoDB Local is back');
        })();
      }
      sent += 1;
      const outcome = await send(item);
      record(outcome);
      if (kind === 'replay') replaysSent += 1;
      if (outcome.status === 200 || outcome.status === 403) {
        if (!firstAnswer.has(item.checkinId)) firstAnswer.set(item.checkinId, outcome);
        if (kind === 'replay' && outcome.replay) replaysAnswered += 1;
        if (kind === 'retry') {
          retriesAfter503 += 1;
          if (outcome.replay) retriesReplayed += 1;
        }
        if (!decided.has(item.checkinId)) {
          decided.set(item.checkinId, outcome);
          if (kind !== 'replay') answered.push(item);
        }
        if (outcome.decision !== item.expected) failures.push(`${item.checkinId}: answered ${outcome.decision}, expected ${item.expected}`);
      } else if (outcome.status === 503 || outcome.status === 0) {
        // As a device does: the same check-in again after Retry-After. Without a restart a 503 means the store
        // did not answer in time (1.5 s per attempt) — reported below, not hidden.
        outageSeen += 1;
        if (outcome.status === 503 && !(outcome.retryAfter! >= 1)) failures.push(`${item.checkinId}: 503 without Retry-After`);
        if (!firstAnswer.has(item.checkinId)) firstAnswer.set(item.checkinId, outcome);
        retryQueue.push({ item, notBefore: Date.now() + Math.min(2, outcome.retryAfter ?? 1) * 1000 });
      } else {
        failures.push(`${item.checkinId}: answered ${outcome.status}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  await restart;
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();

  // ---- the proof, from the store ----
  log('Reading the store…');
  const client = localDynamoDbClient(dynamoDb.endpoint);
  const decisionsByCheckin = new Map<string, number>();
  const newestByDevice = new Map<string, { sk: string; checkinId: string; decision: string }>();
  let idempotencyRecords = 0;
  let start: Record<string, any> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: stack.tableNames.DecisionsTable, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const item of page.Items ?? []) {
      const pk = item.pk.S!;
      if (pk.startsWith('CHECKIN#')) idempotencyRecords += 1;
      if (!pk.startsWith('DEVICE#')) continue;
      const checkinId = item.checkinId.S!;
      decisionsByCheckin.set(checkinId, (decisionsByCheckin.get(checkinId) ?? 0) + 1);
      const deviceId = pk.slice('DEVICE#'.length);
      const newest = newestByDevice.get(deviceId);
      if (!newest || item.sk.S! > newest.sk) newestByDevice.set(deviceId, { sk: item.sk.S!, checkinId, decision: item.decision.S! });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  const statusByDevice = new Map<string, { checkinId: string; decision: string }>();
  start = undefined;
  do {
    const page: import('@aws-sdk/client-dynamodb').ScanCommandOutput = await client.send(new ScanCommand({ TableName: stack.tableNames.DeviceStatusTable, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const item of page.Items ?? []) statusByDevice.set(item.deviceId.S!, { checkinId: item.checkinId?.S ?? '', decision: item.decision?.S ?? '' });
    start = page.LastEvaluatedKey;
  } while (start);
  client.destroy();

  const notOnce = plan.filter((p) => decisionsByCheckin.get(p.checkinId) !== 1);
  for (const p of notOnce.slice(0, 10)) failures.push(`${p.checkinId}: ${decisionsByCheckin.get(p.checkinId) ?? 0} decisions recorded`);
  if (notOnce.length > 10) failures.push(`… and ${notOnce.length - 10} more check-ins not recorded exactly once`);
  if (decisionsByCheckin.size !== plan.length) failures.push(`${decisionsByCheckin.size} check-ins recorded, ${plan.length} sent`);
  if (idempotencyRecords !== plan.length) failures.push(`${idempotencyRecords} idempotency records, ${plan.length} check-ins`);
  let statusMismatches = 0;
  for (const deviceId of deviceIds) {
    const newest = newestByDevice.get(deviceId);
    const status = statusByDevice.get(deviceId);
    const want = newest ? { checkinId: newest.checkinId, decision: newest.decision } : undefined;
    if (JSON.stringify(status) !== JSON.stringify(want)) {
      statusMismatches += 1;
      if (statusMismatches <= 10) failures.push(`${deviceId}: status ${JSON.stringify(status)}, last decision ${JSON.stringify(want)}`);
    }
  }

  // ---- the report ----
  latencies.sort((a, b) => a - b);
  const accepted = [...decided.values()].filter((o) => o.decision === 'ACCEPT').length;
  log('');
  log(`Check-ins: ${plan.length} from ${DEVICES} devices (${SIGNED_DEVICES} signing their requests) over ${CONNECTIONS} connections; ${sent} requests in ${seconds.toFixed(1)} s`);
  log(`  decisions: ${accepted} ACCEPT, ${decided.size - accepted} BLOCK; ${replaysSent} retries of answered check-ins, ${replaysAnswered} answered as replays`);
  log(`  statuses: ${[...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s === 0 ? 'no answer' : s} × ${n}`).join(', ')}`);
  log(`  ${RESTART ? 'DynamoDB Local restarted: ' : ''}${outageSeen} answers 503 (or none), each retried after Retry-After; ${retriesAfter503} retries got a decision, ${retriesReplayed} of them replays of what had landed`);
  log(`Throughput: ${(sent / seconds).toFixed(0)} requests/s`);
  log(`Latency: p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`);
  log(`Store: ${decisionsByCheckin.size} check-ins recorded, ${plan.length - notOnce.length} exactly once; ${deviceIds.length - statusMismatches} of ${deviceIds.length} device statuses equal to their last decision`);
  if (failures.length > 0) {
    log(`FAILED:\n  ${failures.slice(0, 30).join('\n  ')}`);
    process.exitCode = 1;
  } else {
    log('OK: every check-in has exactly one decision and every device\'s status is its last decision');
  }
} catch (error) {
  log(`FAILED: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await stopStack?.().catch(() => undefined);
  await dynamoDb?.stop().catch(() => undefined);
  factory.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
}
