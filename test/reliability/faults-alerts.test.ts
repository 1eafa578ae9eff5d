// Faults on the alert path: the SNS endpoint down for a while (check-ins unaffected, every alert delivered after it
// recovers), SNS answering slowly (every alert published once) and the alerts function crashing in the middle of a batch (the stream retries the batch, every alert is
// delivered, and the only duplicates are alerts of that batch published before the crash, with the same alertId).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDecisionReader, DynamoDbDecisionStore } from '../../lib/adapters/dynamodb/decision-store.ts';
import { DynamoDbMassBlockWindowStore } from '../../lib/adapters/dynamodb/mass-block-window-store.ts';
import { InMemoryAlertParking } from '../../lib/adapters/memory/alert-publisher.ts';
import type { LocalStack } from '../../local/stack.ts';
import { type SnsEndpoint, startSnsEndpoint } from '../../local/sns-endpoint.ts';
import { startStreamPoller } from '../../local/stream-poller.ts';
import { makeDecision } from '../support/decisions.ts';
import { createTestTables } from '../support/dynamodb.ts';
import { call } from '../support/http.ts';
import { startTestStack } from '../support/local-stack.ts';

interface AlertLine {
  subject: string;
  message: { type: string; alertId: string; deviceId?: string; checkinId?: string };
}

function alertLines(file: string): AlertLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AlertLine);
}

describe('SNS endpoint down for a while', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('check-ins are answered as usual, and every alert is delivered once SNS is back', async () => {
    const alertsFile = join(stack.dataDir, 'alerts.jsonl');
    await stack.sns.pause();
    const devices = Array.from({ length: 12 }, (_, i) => `SNS-DOWN-${i}`);
    const answers = await Promise.all(
      devices.map(async (deviceId) => {
        const started = Date.now();
        const res = await call(`${stack.httpUrl}/checkin`, { json: { checkinId: `${deviceId}-1`, deviceId, clientTime: new Date().toISOString(), serverCertificateVerified: false } });
        return { status: res.status, decision: res.body?.decision, ms: Date.now() - started };
      }),
    );
    expect(answers.map(({ status, decision }) => ({ status, decision }))).toEqual(devices.map(() => ({ status: 403, decision: 'BLOCK' })));
    // Unaffected: answered without waiting for SNS.
    for (const answer of answers) expect(answer.ms).toBeLessThan(5_000);
    // While SNS is down nothing is delivered (the stream keeps the records).
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(alertLines(alertsFile).filter((line) => line.message.deviceId?.startsWith('SNS-DOWN-'))).toEqual([]);

    await stack.sns.resume();
    await stack.drainAlerts(60_000);
    const delivered = alertLines(alertsFile).filter((line) => line.message.deviceId?.startsWith('SNS-DOWN-'));
    const byAlertId = new Map(delivered.map((line) => [line.message.alertId, line]));
    // Every alert, once per alertId (a subscriber drops any duplicate by it).
    expect([...byAlertId.values()].map((line) => `${line.message.type} ${line.message.deviceId}`).sort()).toEqual(devices.map((d) => `DEVICE_BLOCKED ${d}`).sort());
  }, 120_000);

  it('every alert is published exactly once: no resend while SNS is still answering', async () => {
    const alertsFile = join(stack.dataDir, 'alerts.jsonl');
    const devices = Array.from({ length: 4 }, (_, i) => `SNS-SLOW-${i}`);
    await stack.sns.resume();
    stack.sns.setLatency(3000);
    try {
      for (const deviceId of devices) {
        const res = await call(`${stack.httpUrl}/checkin`, { json: { checkinId: `${deviceId}-1`, deviceId, clientTime: new Date().toISOString(), serverCertificateVerified: false } });
        expect(res.status).toBe(403);
      }
      await stack.drainAlerts(90_000);
    } finally {
      stack.sns.setLatency(0);
    }
    const delivered = alertLines(alertsFile).filter((line) => line.message.deviceId?.startsWith('SNS-SLOW-'));
    // With a request timeout below the answer time each of these was published 3 times, and 3 more per retry.
    expect(delivered.map((line) => `${line.message.type} ${line.message.deviceId}`).sort()).toEqual(devices.map((d) => `DEVICE_BLOCKED ${d}`));
  }, 150_000);
});

describe('the alerts function crashing in the middle of a batch', () => {
  let sns: SnsEndpoint;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tollgate-alerts-crash-'));
    sns = await startSnsEndpoint({ port: 0, alertsFile: join(dataDir, 'alerts.jsonl'), print: () => undefined });
  });

  afterAll(async () => {
    await sns?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the batch is retried: every alert delivered, duplicates only from that batch and with the same alertId', async () => {
    // The alerts function as Lambda runs it, publishing to this test's SNS endpoint.
    const tables = await createTestTables();
    Object.assign(process.env, { AWS_ENDPOINT_URL_SNS: sns.url, ALERT_TOPIC_ARN: sns.topicArn, DECISIONS_TABLE: tables.names.decisionsTable, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    const { makeHandler } = await import('../../functions/alerts.ts');
    const { createSnsClient, SnsAlertPublisher } = await import('../../lib/adapters/sns.ts');
    const alerts = makeHandler({
      publisher: new SnsAlertPublisher(createSnsClient(), sns.topicArn),
      parking: new InMemoryAlertParking(),
      massBlock: { store: new DynamoDbMassBlockWindowStore(tables.client, tables.names.decisionsTable), policy: { devices: 50, windowMinutes: 10 } },
      decisions: new DynamoDbDecisionReader(tables.client, tables.names.decisionsTable),
    });

    const store = new DynamoDbDecisionStore(tables.client, { ...tables.names, retentionDays: 90 });
    const devices = Array.from({ length: 9 }, (_, i) => `CRASH-${i}`);
    for (const deviceId of devices) {
      await store.record(makeDecision({ deviceId, checkinId: `${deviceId}-1`, decision: 'BLOCK', statusCode: 403, violations: [{ code: 'SERVER_CERT_NOT_VERIFIED', message: 'The device did not verify the server certificate' }] }), { statusCode: 403, body: '{}' });
    }

    // The first batch of several records: the function publishes the first PUBLISHED_BEFORE_CRASH alerts, then dies.
    const PUBLISHED_BEFORE_CRASH = 3;
    let crashedBatch: string[] = [];
    const crashing = async (event: DynamoDBStreamEvent) => {
      if (crashedBatch.length === 0 && event.Records.length > PUBLISHED_BEFORE_CRASH) {
        crashedBatch = event.Records.map((r) => r.dynamodb?.NewImage?.deviceId?.S ?? '');
        await alerts({ Records: event.Records.slice(0, PUBLISHED_BEFORE_CRASH) });
        throw new Error('alerts function crashed');
      }
      return alerts(event);
    };
    const poller = startStreamPoller({
      endpoint: tables.endpoint,
      tableName: tables.names.deviceStatusTable,
      checkpointFile: join(dataDir, 'checkpoint.json'),
      batchSize: 100,
      handler: crashing,
      log: () => undefined,
      retryDelayMs: 50,
    });
    try {
      await poller.drain(60_000);
    } finally {
      await poller.stop();
    }

    expect(crashedBatch.length).toBeGreaterThan(PUBLISHED_BEFORE_CRASH);
    const delivered = alertLines(join(dataDir, 'alerts.jsonl'));
    const counts = new Map<string, number>();
    for (const line of delivered) counts.set(line.message.alertId, (counts.get(line.message.alertId) ?? 0) + 1);
    // Every device's alert arrived.
    expect([...new Set(delivered.map((line) => line.message.deviceId))].sort()).toEqual([...devices].sort());
    // The duplicates are exactly the alerts published before the crash, each twice under one alertId.
    const duplicated = delivered.filter((line, index) => delivered.findIndex((other) => other.message.alertId === line.message.alertId) !== index);
    expect(duplicated.map((line) => line.message.deviceId).sort()).toEqual(crashedBatch.slice(0, PUBLISHED_BEFORE_CRASH).sort());
    expect([...counts.values()].sort()).toEqual([...Array(devices.length - PUBLISHED_BEFORE_CRASH).fill(1), ...Array(PUBLISHED_BEFORE_CRASH).fill(2)]);
  }, 120_000);
});
