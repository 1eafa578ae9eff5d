// certExpiryScan against DynamoDB Local (config store + expiry marks) with openssl-made certificates at 61, 30, 10,
// 1, 0 and −1 days and a frozen clock: each threshold once per certificate, EXPIRED once per UTC day, nothing lost
// when a publish fails, no double alert from concurrent scans, never key material in a message.
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbExpiryAlertStore } from '../../lib/adapters/dynamodb/expiry-alert-store.ts';
import { EXPIRY_ALERT_PK } from '../../lib/adapters/dynamodb/keys.ts';
import { AlertPublishError } from '../../lib/adapters/sns.ts';
import { describeServerCertificate } from '../../lib/domain/trust-material.ts';
import type { AlertMessage, AlertPublisher } from '../../lib/ports/alert-publisher.ts';
import type { StoredCertificate } from '../../lib/ports/config-store.ts';
import { seed } from '../support/config.ts';
import { CertificateFactory, type MadeCertificate } from '../support/certificates.ts';
import { createTestTables, type TestTables } from '../support/dynamodb.ts';

// The function module builds its real dependencies at import, as in Lambda; these tests inject their own.
vi.hoisted(() => {
  Object.assign(process.env, {
    CONFIG_TABLE: 'unused',
    DECISIONS_TABLE: 'unused',
    DEVICE_STATUS_TABLE: 'unused',
    ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:unused',
  });
});
const { makeHandler, ExpiryScanError } = await import('../../functions/cert-expiry-scan.ts');

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** 06:00 UTC today (the schedule's hour), so that "later the same day" stays within the UTC day. */
const NOW = new Date(`${new Date().toISOString().slice(0, 10)}T06:00:00.000Z`);
const at = (offsetMs: number) => ({ now: () => new Date(NOW.getTime() + offsetMs) });

let factory: CertificateFactory;
const made: Record<string, MadeCertificate> = {};

/** The same trust material in fresh tables: push 30 d, device CAs 61 / 10 / 1 / −1 d, server 0 d. */
async function seededTables(): Promise<{ tables: TestTables; configStore: DynamoDbConfigStore }> {
  const tables = await createTestTables();
  const configStore = new DynamoDbConfigStore(tables.client, tables.names.configTable);
  const stored = (cert: MadeCertificate, topic?: string): StoredCertificate => ({ ...describeServerCertificate(cert.pem), ...(topic ? { topic } : {}) });
  const changedAt = NOW.toISOString();
  await seed(configStore, { kind: 'PUSH_CERTIFICATE', certificate: stored(made.push, 'com.apple.mgmt.External.0f1e2d3c') }, { changedAt });
  await seed(configStore, { kind: 'DEVICE_CAS', certificates: [made.ca61, made.ca10, made.ca1, made.caExpired].map((c) => stored(c)) }, { changedAt });
  await seed(configStore, { kind: 'SERVER_CERTIFICATE', certificate: stored(made.server) }, { changedAt });
  return { tables, configStore };
}

/** Records what it publishes; fails alerts matching `fail`; waits `delayMs` per publish. */
function recordingPublisher(options: { fail?: (alert: AlertMessage) => boolean; delayMs?: number } = {}) {
  const published: AlertMessage[] = [];
  const publisher: AlertPublisher = {
    async publish(alert) {
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (options.fail?.(alert)) throw new AlertPublishError(alert.message.alertId, new Error('connect ECONNREFUSED'));
      published.push(alert);
    },
  };
  return { publisher, published };
}

function scanner(seeded: { tables: TestTables; configStore: DynamoDbConfigStore }, publisher: AlertPublisher, clock: { now: () => Date }) {
  return makeHandler({
    config: seeded.configStore,
    marks: new DynamoDbExpiryAlertStore(seeded.tables.client, seeded.tables.names.configTable),
    publisher,
    clock,
  });
}

/** What the first scan of the seeded certificates at NOW sends: one line per certificate, as `summary` writes it. */
const DAY_ZERO_ALERTS = [
  'CERTIFICATE_EXPIRED CN=CA expired critical -1d',
  'CERTIFICATE_EXPIRING CN=CA 1 high 1d',
  'CERTIFICATE_EXPIRING CN=CA 10 warning 10d',
  'CERTIFICATE_EXPIRING CN=Server 0 high 0d',
  'CERTIFICATE_EXPIRING UID=com.apple.mgmt.External.0f1e2d3c, CN=APSP:0f1e2d3c warning 30d',
];
const PUSH_ALERT = DAY_ZERO_ALERTS[4];

/** [type, certificate CN, threshold or daysRemaining] of each alert, sorted. */
const summary = (alerts: AlertMessage[]) =>
  alerts
    .map((a) => {
      const cert = a.message.certificate as { subject: string; daysRemaining: number };
      return `${a.type} ${cert.subject} ${a.severity} ${cert.daysRemaining}d`;
    })
    .sort();

beforeAll(() => {
  factory = CertificateFactory.create();
  const certificate = (cn: string, days: number, subject?: string) =>
    factory.makeRootCa({ cn, subject, keyType: 'ec256', notBefore: new Date(NOW.getTime() - 400 * DAY), notAfter: new Date(NOW.getTime() + days * DAY + HOUR) });
  made.push = certificate('APSP:0f1e2d3c', 30, '/UID=com.apple.mgmt.External.0f1e2d3c/CN=APSP:0f1e2d3c');
  made.ca61 = certificate('CA 61', 61);
  made.ca10 = certificate('CA 10', 10);
  made.ca1 = certificate('CA 1', 1);
  made.caExpired = certificate('CA expired', -1);
  made.server = certificate('Server 0', 0);
});

afterAll(() => factory?.cleanup());

describe('certExpiryScan', () => {
  it('alerts each threshold once per certificate and EXPIRED once per UTC day', async () => {
    const seeded = await seededTables();
    const { publisher, published } = recordingPublisher();

    // Day 0: the lowest crossed threshold of each certificate; severities by days remaining.
    const first = await scanner(seeded, publisher, at(0))();
    expect(first.checked).toBe(6);
    expect(summary(published)).toEqual(DAY_ZERO_ALERTS);
    expect(first.alerted.map((a) => [a.kind, a.type, a.threshold ?? null]).sort()).toEqual(
      [
        ['DEVICE_CA', 'CERTIFICATE_EXPIRED', null],
        ['DEVICE_CA', 'CERTIFICATE_EXPIRING', 1],
        ['DEVICE_CA', 'CERTIFICATE_EXPIRING', 14],
        ['PUSH', 'CERTIFICATE_EXPIRING', 30],
        ['SERVER', 'CERTIFICATE_EXPIRING', 1],
      ].sort(),
    );
    // The push alert carries the topic; no message carries a PEM or key.
    const push = published.find((a) => (a.message.certificate as { kind: string }).kind === 'PUSH')!;
    expect(push.message.certificate).toEqual({
      kind: 'PUSH',
      subject: 'UID=com.apple.mgmt.External.0f1e2d3c, CN=APSP:0f1e2d3c',
      topic: 'com.apple.mgmt.External.0f1e2d3c',
      notAfter: made.push.notAfter.toISOString(),
      daysRemaining: 30,
      sha256: made.push.fingerprint,
    });
    expect(push.subject).toBe('Push certificate com.apple.mgmt.External.0f1e2d3c expires in 30 days');
    const everything = JSON.stringify(published);
    expect(everything).not.toMatch(/BEGIN|PRIVATE|pem/i);
    for (const cert of Object.values(made)) expect(everything).not.toContain(cert.base64.slice(40, 80));

    // Later the same day: nothing new.
    published.length = 0;
    expect(await scanner(seeded, publisher, at(HOUR))()).toEqual({ checked: 6, alerted: [] });
    expect(published).toEqual([]);

    // Day 1: 61 → 60 crosses a threshold; the server certificate has expired; the expired CA again (a new day).
    const dayOne = await scanner(seeded, publisher, at(DAY))();
    expect(summary(published)).toEqual([
      'CERTIFICATE_EXPIRED CN=CA expired critical -2d',
      'CERTIFICATE_EXPIRED CN=Server 0 critical -1d',
      'CERTIFICATE_EXPIRING CN=CA 61 warning 60d',
    ]);
    expect(dayOne.alerted).toHaveLength(3);

    // Half an hour later: nothing new (the 1-day CA is in its last hour, its threshold 1 alerted on day 0).
    published.length = 0;
    await scanner(seeded, publisher, at(DAY + HOUR / 2))();
    expect(published).toEqual([]);

    // Once that CA is past its notAfter (day 1, 01:00 later), it is EXPIRED at once, not only the next day.
    await scanner(seeded, publisher, at(DAY + 2 * HOUR))();
    expect(summary(published)).toEqual(['CERTIFICATE_EXPIRED CN=CA 1 critical -1d']);
    published.length = 0;

    // Day 4: the 10-day CA is at 6 days (threshold 7, high); the three expired ones once each for the new day.
    await scanner(seeded, publisher, at(4 * DAY))();
    expect(summary(published)).toEqual([
      'CERTIFICATE_EXPIRED CN=CA 1 critical -3d',
      'CERTIFICATE_EXPIRED CN=CA expired critical -5d',
      'CERTIFICATE_EXPIRED CN=Server 0 critical -4d',
      'CERTIFICATE_EXPIRING CN=CA 10 high 6d',
    ]);
  });

  it('remembers the alerted threshold as SENT and the higher crossed ones as SUPERSEDED, with a TTL', async () => {
    const seeded = await seededTables();
    await scanner(seeded, recordingPublisher().publisher, at(0))();
    const result = await seeded.tables.client.send(
      new QueryCommand({
        TableName: seeded.tables.names.configTable,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sha)',
        ExpressionAttributeValues: { ':pk': { S: EXPIRY_ALERT_PK }, ':sha': { S: made.ca10.fingerprint } },
      }),
    );
    const marks = (result.Items ?? []).map((raw) => unmarshall(raw)).map(({ sk, state, expiresAt }) => ({ sk, state, expiresAt }));
    const ttl = Math.floor(made.ca10.notAfter.getTime() / 1000) + 30 * 86_400;
    expect(marks.sort((a, b) => a.sk.localeCompare(b.sk))).toEqual([
      { sk: `${made.ca10.fingerprint}#14`, state: 'SENT', expiresAt: ttl },
      { sk: `${made.ca10.fingerprint}#30`, state: 'SUPERSEDED', expiresAt: ttl },
      { sk: `${made.ca10.fingerprint}#60`, state: 'SUPERSEDED', expiresAt: ttl },
    ]);
  });

  it('a failed publish is not remembered: the scan throws (Lambda retries) and the next run sends it', async () => {
    const seeded = await seededTables();
    const failing = recordingPublisher({ fail: (a) => (a.message.certificate as { kind: string }).kind === 'PUSH' });
    const failure = scanner(seeded, failing.publisher, at(0))();
    await expect(failure).rejects.toBeInstanceOf(ExpiryScanError);
    await expect(failure).rejects.toMatchObject({
      message: '1 certificate alert(s) not sent yet (4 sent); they are retried on the next run',
      summary: { checked: 6, failed: [{ kind: 'PUSH', type: 'CERTIFICATE_EXPIRING', sha256: made.push.fingerprint }], busy: [] },
    });
    // every other alert was sent
    expect(summary(failing.published)).toEqual(DAY_ZERO_ALERTS.filter((line) => line !== PUSH_ALERT));

    const retry = recordingPublisher();
    const result = await scanner(seeded, retry.publisher, at(HOUR))();
    expect(result.alerted.map((a) => a.kind)).toEqual(['PUSH']);
    expect(summary(retry.published)).toEqual([PUSH_ALERT]);
    // Same event, same alertId as the failed attempt would have carried.
    expect(retry.published[0].message.alertId).toBe((await import('../../lib/domain/alerts.ts')).stableAlertId(['CERTIFICATE_EXPIRING', made.push.fingerprint, 30]));
  });

  it('two scans at once publish each alert once (the claim is a conditional put)', async () => {
    const seeded = await seededTables();
    const shared = recordingPublisher({ delayMs: 30 });
    const outcomes = await Promise.allSettled([scanner(seeded, shared.publisher, at(0))(), scanner(seeded, shared.publisher, at(0))()]);
    expect(summary(shared.published)).toEqual(DAY_ZERO_ALERTS);
    expect(new Set(shared.published.map((a) => a.message.alertId)).size).toBe(5);
    // Each scan either finished or, having met the other's claims, says so with an ExpiryScanError listing them as
    // busy (Lambda would retry it, and the retry finds them sent). Nothing failed; each alert was sent by one scan.
    const summaries = outcomes.map((outcome) =>
      outcome.status === 'fulfilled' ? { ...outcome.value, failed: [], busy: [] } : (outcome.reason as InstanceType<typeof ExpiryScanError>).summary,
    );
    const ending = (outcome: PromiseSettledResult<unknown>) =>
      outcome.status === 'fulfilled' ? 'finished' : outcome.reason instanceof ExpiryScanError ? 'left claims to the other' : outcome.reason;
    expect(outcomes.map(ending)).toEqual(summaries.map((s) => (s.busy.length === 0 ? 'finished' : 'left claims to the other')));
    expect(summaries.flatMap((s) => s.failed)).toEqual([]);
    const sentBy = summaries.map((s) => s.alerted.map((a) => a.alertId));
    expect([...sentBy[0], ...sentBy[1]].sort()).toEqual(shared.published.map((a) => a.message.alertId).sort());
    // what one scan found busy, the other sent
    const key = (a: { kind: string; type: string; sha256: string }) => `${a.kind} ${a.type} ${a.sha256}`;
    expect(summaries[0].busy.map(key).filter((k) => !summaries[1].alerted.map(key).includes(k))).toEqual([]);
    expect(summaries[1].busy.map(key).filter((k) => !summaries[0].alerted.map(key).includes(k))).toEqual([]);
    const after = recordingPublisher();
    expect(await scanner(seeded, after.publisher, at(2 * 60_000))()).toEqual({ checked: 6, alerted: [] });
  });

  it('takes over the claim of a scan that died mid-publish once its lease has lapsed', async () => {
    const seeded = await seededTables();
    const marks = new DynamoDbExpiryAlertStore(seeded.tables.client, seeded.tables.names.configTable);
    // A scan claimed the push alert and died (never confirmed, never released).
    const dead = await marks.claim({ sha256: made.push.fingerprint, mark: '30', alertId: 'x', now: NOW, expiresAt: 0 });
    expect(dead.outcome).toBe('CLAIMED');

    const tooSoon = recordingPublisher();
    await expect(scanner(seeded, tooSoon.publisher, at(30_000))()).rejects.toMatchObject({ summary: { busy: [{ kind: 'PUSH' }] } });
    // everything but the claimed push alert is sent
    expect(summary(tooSoon.published)).toEqual(DAY_ZERO_ALERTS.filter((line) => line !== PUSH_ALERT));

    const later = recordingPublisher();
    const result = await scanner(seeded, later.publisher, at(5 * 60_000))();
    expect(result.alerted.map((a) => a.kind)).toEqual(['PUSH']);
  });

  it('checks nothing and alerts nothing on a fresh installation', async () => {
    const tables = await createTestTables();
    const configStore = new DynamoDbConfigStore(tables.client, tables.names.configTable);
    const { publisher, published } = recordingPublisher();
    expect(await scanner({ tables, configStore }, publisher, at(0))()).toEqual({ checked: 0, alerted: [] });
    expect(published).toEqual([]);
  });
});
