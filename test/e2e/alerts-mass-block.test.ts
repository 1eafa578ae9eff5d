// MASS_BLOCK end to end (API.md §4): check-ins over HTTP → device-status table → its stream → the local runner's
// delivery → the `alerts` handler (counting in DynamoDB Local) → the local SNS endpoint → alerts.jsonl. With the
// defaults (massBlockDevices 50, massBlockWindowMinutes 10): a bad settings change blocking 60 devices, and forged
// certificates claiming 60 devices, each raise one MASS_BLOCK.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { parseDeviceCaBundle } from '../../lib/domain/trust-material.ts';
import { MAX_POLICY_AGE_MS } from '../../lib/services/max-age-cache.ts';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import type { LocalStack } from '../../local/stack.ts';
import { CertificateFactory, signBody } from '../support/certificates.ts';
import { seed, seedSettings } from '../support/config.ts';
import { call } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

const THRESHOLD = 50;
const WINDOW_MINUTES = 10;

let stack: LocalStack;
let store: DynamoDbConfigStore;
let factory: CertificateFactory;

beforeAll(async () => {
  factory = CertificateFactory.create();
  stack = await startTestStack();
  store = new DynamoDbConfigStore(localDynamoDbClient(stack.dynamoDbEndpoint), stack.tableNames.ConfigTable);
});

afterAll(async () => {
  await stack?.stop();
  factory?.cleanup();
});

interface AlertLine {
  subject: string;
  message: Record<string, any>;
  messageAttributes: Record<string, string>;
}

function alertLines(): AlertLine[] {
  const file = join(stack.dataDir, 'alerts.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AlertLine);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Windows are laid end to end from the epoch: a burst is started well inside one, so that it is counted in one. */
async function awayFromWindowEdge(marginMs = 60_000): Promise<void> {
  const length = WINDOW_MINUTES * 60_000;
  const left = length - (Date.now() % length);
  if (left < marginMs) await sleep(left + 1000);
}

/** The settings as stored now, once every check-in container has seen them. */
async function changeSettings(fields: Parameters<typeof seedSettings>[1]): Promise<number> {
  const stored = await seedSettings(store, fields);
  await sleep(MAX_POLICY_AGE_MS + 1000);
  return stored.version;
}

let counter = 0;
function checkin(deviceId: string, clientTime: Date, headers: Record<string, string> = {}, signWith?: { keyPem: string }) {
  counter += 1;
  const body = JSON.stringify({ checkinId: `mb-${Date.now()}-${counter}`, deviceId, clientTime: clientTime.toISOString(), serverCertificateVerified: true });
  const signature: Record<string, string> = signWith ? { 'x-device-signature': signBody(Buffer.from(body), signWith).toString('base64') } : {};
  return call(`${stack.httpUrl}/checkin`, { body, headers: { 'content-type': 'application/json', ...headers, ...signature } });
}

/** Runs `task` for every item, `parallel` at a time. */
async function inBatches<T, R>(items: T[], parallel: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += parallel) results.push(...(await Promise.all(items.slice(i, i + parallel).map(task))));
  return results;
}

describe('MASS_BLOCK', () => {
  it('a bad settings change blocks 60 devices: 50 DEVICE_BLOCKED and exactly one MASS_BLOCK with the counts', async () => {
    const devices = Array.from({ length: 60 }, (_, i) => `MB-${String(i).padStart(2, '0')}`);
    // Devices whose clocks are 10 minutes off, accepted while the tolerance is an hour.
    await changeSettings({ maxClockSkewSeconds: 3600 });
    const tenMinutesOff = () => new Date(Date.now() - 600_000);
    const accepted = await inBatches(devices, 10, (d) => checkin(d, tenMinutesOff()));
    expect(accepted.map((r) => r.status)).toEqual(devices.map(() => 200));
    await stack.drainAlerts(60_000);
    expect(alertLines()).toEqual([]);

    // The bad change: 5 minutes. Every device is blocked at its next check-in.
    const badVersion = await changeSettings({ maxClockSkewSeconds: 300 });
    await awayFromWindowEdge();
    const blocked = await inBatches(devices, 10, (d) => checkin(d, tenMinutesOff()));
    expect(blocked.map((r) => [r.status, r.body.settingsVersion])).toEqual(devices.map(() => [403, badVersion]));
    await stack.drainAlerts(60_000);

    const lines = alertLines();
    const own = lines.filter((l) => l.message.type === 'DEVICE_BLOCKED');
    const massBlocks = lines.filter((l) => l.message.type === 'MASS_BLOCK');
    expect(lines).toHaveLength(own.length + massBlocks.length);
    expect(own).toHaveLength(THRESHOLD);
    expect(new Set(own.map((l) => l.message.deviceId)).size).toBe(THRESHOLD);
    expect(massBlocks).toEqual([
      {
        subject: `Mass block: ${THRESHOLD + 1} devices blocked within ${WINDOW_MINUTES} minutes`,
        message: {
          type: 'MASS_BLOCK',
          alertId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
          occurredAt: expect.any(String),
          reason: 'BLOCKED',
          count: THRESHOLD + 1,
          windowMinutes: WINDOW_MINUTES,
          byViolation: { CLOCK_SKEW_EXCEEDED: THRESHOLD + 1 },
          settingsVersion: badVersion,
          devices: expect.any(Array),
        },
        messageAttributes: { type: 'MASS_BLOCK', severity: 'critical' },
      },
    ]);
    const listed: string[] = massBlocks[0].message.devices;
    // The devices with their own alert, and the one that crossed the threshold, in the order they were counted.
    expect(listed).toHaveLength(THRESHOLD + 1);
    expect(new Set(listed).size).toBe(THRESHOLD + 1);
    expect(listed.slice(0, THRESHOLD).sort()).toEqual(own.map((l) => l.message.deviceId).sort());
    expect(devices).toContain(listed[THRESHOLD]);
    expect(massBlocks[0].subject.length).toBeLessThanOrEqual(100);
  }, 240_000);

  it('forged certificates claiming 60 devices: one MASS_BLOCK reason UNAUTHENTICATED, no device alert, no device status', async () => {
    const root = factory.makeRootCa({ cn: 'Mass Block E2E Root', keyType: 'ec256' });
    await seed(store, { kind: 'DEVICE_CAS', certificates: parseDeviceCaBundle(root.pem) });
    const version = await changeSettings({ certificateBasedAuthentication: true, maxClockSkewSeconds: 300 });
    const attacker = factory.makeRootCa({ cn: 'Attacker Root', keyType: 'ec256' });
    const devices = Array.from({ length: 60 }, (_, i) => `FORGED-${String(i).padStart(2, '0')}`);
    const forged = devices.map((cn) => factory.makeDeviceCertificate(attacker, { cn, keyType: 'ec256' }));
    const before = alertLines().length;

    await awayFromWindowEdge();
    const answers = await inBatches(devices, 10, async (deviceId) => {
      const certificate = forged[devices.indexOf(deviceId)];
      // Each device twice: distinct claimed devices are counted, not attempts.
      await checkin(deviceId, new Date(), { 'x-device-certificate': certificate.base64 }, certificate);
      return checkin(deviceId, new Date(), { 'x-device-certificate': certificate.base64 }, certificate);
    });
    expect(answers.map((r) => [r.status, r.body.authenticated])).toEqual(devices.map(() => [403, false]));
    await stack.drainAlerts(60_000);

    const lines = alertLines().slice(before);
    expect(lines).toEqual([
      {
        subject: `Mass block: unauthenticated check-ins from ${THRESHOLD + 1} claimed devices within ${WINDOW_MINUTES} minutes`,
        message: {
          type: 'MASS_BLOCK',
          alertId: expect.any(String),
          occurredAt: expect.any(String),
          reason: 'UNAUTHENTICATED',
          count: THRESHOLD + 1,
          windowMinutes: WINDOW_MINUTES,
          byViolation: { CLIENT_CERT_UNTRUSTED: THRESHOLD + 1 },
          settingsVersion: version,
          devices: expect.any(Array),
        },
        messageAttributes: { type: 'MASS_BLOCK', severity: 'critical' },
      },
    ]);
    expect(lines[0].message.devices).toHaveLength(THRESHOLD + 1);
    for (const deviceId of lines[0].message.devices) expect(devices).toContain(deviceId);
    // The marks are not devices: the admin API lists none of them, and none of the claimed devices.
    const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    for (const status of ['BLOCKED', 'ACCEPTED']) {
      const listed = (await call(`${stack.httpUrl}/admin/devices?status=${status}&limit=500`, { headers: auth })).body.items.map((d: { deviceId: string }) => d.deviceId);
      expect(listed.filter((d: string) => d.startsWith('FORGED-') || d.startsWith('#'))).toEqual([]);
    }
  }, 240_000);
});
