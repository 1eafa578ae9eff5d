// An upgrade never locks out a fleet: a device CA stored before a path-validation rule was added (here: basicConstraints
// not marked critical) keeps anchoring its devices, a new upload of it is refused, and the security team hears about it
// daily (CERTIFICATE_NONCONFORMING over SNS, through certExpiryScan against DynamoDB Local), as do the API and the CLI.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbExpiryAlertStore } from '../../lib/adapters/dynamodb/expiry-alert-store.ts';
import { DeviceCertificateVerifier } from '../../lib/domain/device-certificates.ts';
import { describeServerCertificate, parseDeviceCaBundle } from '../../lib/domain/trust-material.ts';
import type { AlertMessage, AlertPublisher } from '../../lib/ports/alert-publisher.ts';
import type { StoredCertificate } from '../../lib/ports/config-store.ts';
import { seed } from '../support/config.ts';
import { AdminTrustService } from '../../lib/services/admin/trust-service.ts';
import { CertificateFactory, type MadeCertificate } from '../support/certificates.ts';
import { createTestTables } from '../support/dynamodb.ts';

vi.hoisted(() => {
  Object.assign(process.env, {
    CONFIG_TABLE: 'unused',
    DECISIONS_TABLE: 'unused',
    DEVICE_STATUS_TABLE: 'unused',
    ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:unused',
  });
});
const { makeHandler } = await import('../../functions/cert-expiry-scan.ts');

const DAY = 86_400_000;
const NOW = new Date(`${new Date().toISOString().slice(0, 10)}T06:00:00.000Z`);

let factory: CertificateFactory;
let legacyCa: MadeCertificate;
let device: MadeCertificate;

beforeAll(() => {
  factory = CertificateFactory.create();
  legacyCa = factory.makeRootCa({ cn: 'Legacy Device Root', basicConstraints: 'CA:TRUE', notAfter: new Date(NOW.getTime() + 3650 * DAY) });
  device = factory.makeDeviceCertificate(legacyCa, { cn: 'MAC-LEGACY' });
});
afterAll(() => factory?.cleanup());

async function tablesWithLegacyCa() {
  const tables = await createTestTables();
  const configStore = new DynamoDbConfigStore(tables.client, tables.names.configTable);
  // Written as an older release stored it, before the rule existed (uploads now refuse it).
  const stored: StoredCertificate = { ...describeServerCertificate(legacyCa.pem) };
  await seed(configStore, { kind: 'DEVICE_CAS', certificates: [stored] }, { changedAt: NOW.toISOString() });
  return { tables, configStore };
}

function recordingPublisher() {
  const published: AlertMessage[] = [];
  const publisher: AlertPublisher = { publish: async (alert) => void published.push(alert) };
  return { publisher, published };
}

describe('a device CA stored before a rule was added', () => {
  it('is refused as a new upload, naming the rule', () => {
    expect(() => parseDeviceCaBundle(legacyCa.pem)).toThrow(expect.objectContaining({ statusCode: 422, code: 'INVALID_CERTIFICATE' }));
    expect(() => parseDeviceCaBundle(legacyCa.pem)).toThrow(/critical/);
  });

  it('keeps anchoring the devices below it', () => {
    const verifier = new DeviceCertificateVerifier([legacyCa.pem], new Set());
    const result = verifier.verify({ way: 'MTLS', chainDer: [device.der] }, { deviceId: 'MAC-LEGACY', body: Buffer.alloc(0), now: NOW, maxClockSkewSeconds: 300 });
    expect(result.violations).toEqual([]);
  });

  it('raises one CERTIFICATE_NONCONFORMING (high) a day, naming the rule, until it is replaced', async () => {
    const { tables, configStore } = await tablesWithLegacyCa();
    const { publisher, published } = recordingPublisher();
    const marks = new DynamoDbExpiryAlertStore(tables.client, tables.names.configTable);
    const scanAt = (offsetMs: number) => makeHandler({ config: configStore, marks, publisher, clock: { now: () => new Date(NOW.getTime() + offsetMs) } })();

    const first = await scanAt(0);
    expect(first.alerted).toEqual([expect.objectContaining({ type: 'CERTIFICATE_NONCONFORMING', severity: 'high', kind: 'DEVICE_CA', sha256: legacyCa.fingerprint, rule: 'basic-constraints-critical' })]);
    expect(published).toEqual([
      {
        type: 'CERTIFICATE_NONCONFORMING',
        severity: 'high',
        subject: 'Device CA certificate Legacy Device Root breaks basic-constraints-critical',
        message: {
          type: 'CERTIFICATE_NONCONFORMING',
          alertId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          occurredAt: NOW.toISOString(),
          certificate: { kind: 'DEVICE_CA', subject: 'CN=Legacy Device Root', sha256: legacyCa.fingerprint },
          rule: 'basic-constraints-critical',
        },
      },
    ]);

    expect((await scanAt(6 * 3_600_000)).alerted).toEqual([]); // later the same day: already told
    const nextDay = await scanAt(DAY);
    expect(nextDay.alerted.map((a) => a.type)).toEqual(['CERTIFICATE_NONCONFORMING']);
    expect(published[1].message.alertId).not.toBe(published[0].message.alertId);

    // Replaced by a conforming CA: no more alerts.
    const conforming = factory.makeRootCa({ cn: 'Conforming Device Root' });
    await seed(configStore, { kind: 'DEVICE_CAS', certificates: parseDeviceCaBundle(conforming.pem) }, { changedAt: NOW.toISOString() });
    expect((await scanAt(2 * DAY)).alerted).toEqual([]);
  });

  it('is flagged in GET /admin/device-ca with the rule and why', async () => {
    const { configStore } = await tablesWithLegacyCa();
    const view = await new AdminTrustService(configStore).getDeviceCas();
    expect(view).toEqual({
      certificates: [
        {
          subject: 'CN=Legacy Device Root',
          notAfter: expect.any(String),
          sha256: legacyCa.fingerprint,
          nonconforming: [{ rule: 'basic-constraints-critical', message: expect.stringMatching(/not marked critical/) }],
        },
      ],
    });
  });
});
