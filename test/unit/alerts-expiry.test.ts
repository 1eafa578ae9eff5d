// Certificate expiry (API.md §4): thresholds, severities, marks and the CERTIFICATE_EXPIRING / _EXPIRED messages.
import { describe, expect, it } from 'vitest';
import {
  assessExpiry,
  certificateAlert,
  certificateDaysRemaining,
  expiryAlertMark,
  MAX_SUBJECT_LENGTH,
  nonconformingAlertMark,
  nonconformingCaAlert,
  stableAlertId,
  type WatchedCertificate,
} from '../../lib/domain/alerts.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-11-25T06:00:00.000Z');
const THRESHOLDS = [60, 30, 14, 7, 1];
/** notAfter such that floor((notAfter − NOW) / day) is `days` (an hour into that day). */
const notAfterIn = (days: number) => new Date(NOW.getTime() + days * DAY + 3_600_000).toISOString();

const PUSH: WatchedCertificate = {
  kind: 'PUSH',
  subject: 'UID=com.apple.mgmt.External.0f1e2d3c, CN=APSP:0f1e2d3c, C=US',
  topic: 'com.apple.mgmt.External.0f1e2d3c',
  notAfter: notAfterIn(30),
  sha256: 'a'.repeat(64),
};

describe('assessExpiry', () => {
  it.each([
    // Above every threshold: nothing.
    { days: 61, expected: { state: 'VALID', daysRemaining: 61 } },
    // Exactly at a threshold counts ("at or below").
    { days: 60, expected: { state: 'EXPIRING', daysRemaining: 60, threshold: 60, crossed: [60] } },
    { days: 30, expected: { state: 'EXPIRING', daysRemaining: 30, threshold: 30, crossed: [60, 30] } },
    // First seen at 10 days: the lowest crossed threshold is the one alerted, the others are remembered.
    { days: 10, expected: { state: 'EXPIRING', daysRemaining: 10, threshold: 14, crossed: [60, 30, 14] } },
    { days: 1, expected: { state: 'EXPIRING', daysRemaining: 1, threshold: 1, crossed: [60, 30, 14, 7, 1] } },
    // The last 24 hours: 0 days remaining, still valid, at or below 1.
    { days: 0, expected: { state: 'EXPIRING', daysRemaining: 0, threshold: 1, crossed: [60, 30, 14, 7, 1] } },
    // Past notAfter: expired, alerted per UTC day.
    { days: -1, expected: { state: 'EXPIRED', daysRemaining: -1, day: '2026-11-25' } },
  ])('$days days → $expected.state', ({ days, expected }) => {
    expect(assessExpiry({ notAfter: notAfterIn(days) }, THRESHOLDS, NOW)).toEqual(expected);
  });

  it('notAfter itself is the last valid instant; a millisecond later the certificate has expired', () => {
    expect(assessExpiry({ notAfter: NOW.toISOString() }, THRESHOLDS, NOW).state).toBe('EXPIRING');
    expect(assessExpiry({ notAfter: new Date(NOW.getTime() - 1).toISOString() }, THRESHOLDS, NOW)).toEqual({
      state: 'EXPIRED',
      daysRemaining: -1,
      day: '2026-11-25',
    });
  });

  it('refuses to guess about a notAfter that is not a timestamp', () => {
    expect(() => certificateDaysRemaining('soon', NOW)).toThrow(new RangeError('not a timestamp: soon'));
    expect(() => assessExpiry({ notAfter: '' }, THRESHOLDS, NOW)).toThrow(RangeError);
  });

  it('honours a threshold of 0 and unsorted, duplicated settings', () => {
    expect(assessExpiry({ notAfter: notAfterIn(0) }, [0, 5], NOW)).toMatchObject({ threshold: 0, crossed: [5, 0] });
    expect(assessExpiry({ notAfter: notAfterIn(3) }, [7, 90, 7], NOW)).toMatchObject({ threshold: 7, crossed: [90, 7] });
  });

  it('marks: the threshold, or the UTC day', () => {
    expect(expiryAlertMark({ state: 'EXPIRING', daysRemaining: 10, threshold: 14, crossed: [14] })).toBe('14');
    expect(expiryAlertMark({ state: 'EXPIRED', daysRemaining: -3, day: '2026-11-25' })).toBe('2026-11-25');
  });
});

describe('certificateAlert', () => {
  it('CERTIFICATE_EXPIRING, warning above 7 days: the certificate field, never key material or PEM', () => {
    const alert = certificateAlert(PUSH, assessExpiry(PUSH, THRESHOLDS, NOW) as never, NOW);
    expect(alert).toEqual({
      type: 'CERTIFICATE_EXPIRING',
      severity: 'warning',
      subject: 'Push certificate com.apple.mgmt.External.0f1e2d3c expires in 30 days',
      message: {
        type: 'CERTIFICATE_EXPIRING',
        alertId: stableAlertId(['CERTIFICATE_EXPIRING', PUSH.sha256, 30]),
        occurredAt: NOW.toISOString(),
        certificate: {
          kind: 'PUSH',
          subject: PUSH.subject,
          topic: PUSH.topic,
          notAfter: PUSH.notAfter,
          daysRemaining: 30,
          sha256: PUSH.sha256,
        },
      },
    });
  });

  it.each([
    { days: 8, severity: 'warning', subject: 'Device CA certificate Device Root expires in 8 days' },
    { days: 7, severity: 'high', subject: 'Device CA certificate Device Root expires in 7 days' },
    { days: 1, severity: 'high', subject: 'Device CA certificate Device Root expires in 1 day' },
    { days: 0, severity: 'high', subject: 'Device CA certificate Device Root expires within 24 hours' },
  ])('$days days: $severity', ({ days, severity, subject }) => {
    // A topic on anything but a push certificate is neither its name nor part of the alert.
    const ca: WatchedCertificate = { kind: 'DEVICE_CA', subject: 'CN=Device Root, O=Acme', topic: 'com.apple.mgmt.stray', notAfter: notAfterIn(days), sha256: 'b'.repeat(64) };
    const alert = certificateAlert(ca, assessExpiry(ca, THRESHOLDS, NOW) as never, NOW);
    expect(alert.severity).toBe(severity);
    expect(alert.subject).toBe(subject);
    // topic belongs to push certificates only.
    expect(alert.message.certificate).not.toHaveProperty('topic');
  });

  it('CERTIFICATE_EXPIRED: critical, one alertId per certificate and UTC day', () => {
    const server: WatchedCertificate = { kind: 'SERVER', subject: 'CN=tollgate.example.com', notAfter: notAfterIn(-3), sha256: 'c'.repeat(64) };
    const alert = certificateAlert(server, assessExpiry(server, THRESHOLDS, NOW) as never, NOW);
    expect(alert).toMatchObject({
      type: 'CERTIFICATE_EXPIRED',
      severity: 'critical',
      subject: `Server certificate tollgate.example.com expired on ${server.notAfter.slice(0, 10)}`,
      message: {
        type: 'CERTIFICATE_EXPIRED',
        alertId: stableAlertId(['CERTIFICATE_EXPIRED', server.sha256, '2026-11-25']),
        occurredAt: NOW.toISOString(),
        certificate: { kind: 'SERVER', subject: 'CN=tollgate.example.com', notAfter: server.notAfter, daysRemaining: -3, sha256: server.sha256 },
      },
    });
    const laterSameDay = new Date(NOW.getTime() + 3_600_000);
    const nextDay = new Date(NOW.getTime() + DAY);
    const idAt = (now: Date) => certificateAlert(server, assessExpiry(server, THRESHOLDS, now) as never, now).message.alertId;
    expect(idAt(laterSameDay)).toBe(alert.message.alertId);
    expect(idAt(nextDay)).not.toBe(alert.message.alertId);
  });

  it('subjects of long or CN-less subjects stay within the limit', () => {
    const ca: WatchedCertificate = { kind: 'DEVICE_CA', subject: `O=${'Very Long Organisation '.repeat(10)}`, notAfter: notAfterIn(3), sha256: 'd'.repeat(64) };
    const alert = certificateAlert(ca, assessExpiry(ca, THRESHOLDS, NOW) as never, NOW);
    expect(alert.subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(alert.subject).toMatch(/^Device CA certificate O=Very Long .*\.\.\. expires in 3 days$/);
  });
});

describe('how an alert names the certificate', () => {
  it.each([
    // [kind, subject, topic, the name in the subject line]
    ['PUSH', 'UID=com.apple.mgmt.External.1, CN=APSP:1', 'com.apple.mgmt.External.1', 'com.apple.mgmt.External.1'],
    ['PUSH', 'UID=com.apple.mgmt.External.1, CN=APSP:1', undefined, 'APSP:1'],
    ['DEVICE_CA', 'CN=Device Root, O=Acme', undefined, 'Device Root'],
    ['DEVICE_CA', 'O=Acme, CN=Device Root', undefined, 'Device Root'],
    ['DEVICE_CA', 'O=Acme,CN=Device Root', undefined, 'Device Root'],
    ['DEVICE_CA', 'UID=42+CN=Device Root, O=Acme', undefined, 'Device Root'],
    ['DEVICE_CA', 'UID=42 + CN=Device Root', undefined, 'Device Root'],
    ['DEVICE_CA', 'CN=Acme\\, Inc. Root, O=Acme', undefined, 'Acme, Inc. Root'],
    ['DEVICE_CA', 'CN= Spaced Root , O=Acme', undefined, 'Spaced Root'],
    // no usable common name: the whole subject, or the fingerprint when there is not even a subject
    ['DEVICE_CA', 'CN=, O=Acme', undefined, 'CN=, O=Acme'],
    ['DEVICE_CA', 'O=Acme, OCN=Not a common name', undefined, 'O=Acme, OCN=Not a common name'],
    ['SERVER', '', undefined, 'eeeeeeeeeeeeeeee'],
  ] as const)('%s %j (topic %s) → %s', (kind, subject, topic, name) => {
    const certificate: WatchedCertificate = { kind, subject, topic, notAfter: notAfterIn(3), sha256: 'e'.repeat(64) };
    const label = { PUSH: 'Push certificate', DEVICE_CA: 'Device CA certificate', SERVER: 'Server certificate' }[kind];
    expect(certificateAlert(certificate, assessExpiry(certificate, THRESHOLDS, NOW) as never, NOW).subject).toBe(`${label} ${name} expires in 3 days`);
  });
});

describe('CERTIFICATE_NONCONFORMING', () => {
  const ca = { subject: 'CN=Legacy Root, O=Acme', sha256: 'f'.repeat(64) };

  it('names the CA and the rule it breaks; high; one alert per CA, rule and UTC day', () => {
    expect(nonconformingCaAlert(ca, 'basic-constraints-critical', NOW)).toEqual({
      type: 'CERTIFICATE_NONCONFORMING',
      severity: 'high',
      subject: 'Device CA certificate Legacy Root breaks basic-constraints-critical',
      message: {
        type: 'CERTIFICATE_NONCONFORMING',
        alertId: stableAlertId(['CERTIFICATE_NONCONFORMING', ca.sha256, 'basic-constraints-critical', '2026-11-25']),
        occurredAt: NOW.toISOString(),
        certificate: { kind: 'DEVICE_CA', subject: ca.subject, sha256: ca.sha256 },
        rule: 'basic-constraints-critical',
      },
    });
    const idAt = (now: Date) => nonconformingCaAlert(ca, 'basic-constraints-critical', now).message.alertId;
    expect(idAt(new Date(NOW.getTime() + 3_600_000))).toBe(idAt(NOW));
    expect(idAt(new Date(NOW.getTime() + DAY))).not.toBe(idAt(NOW));
  });

  it('is remembered per rule and UTC day', () => {
    expect(nonconformingAlertMark('basic-constraints-critical', NOW)).toBe('NONCONFORMING#basic-constraints-critical#2026-11-25');
    expect(nonconformingAlertMark('key-usage', new Date('2026-12-31T23:59:59.999Z'))).toBe('NONCONFORMING#key-usage#2026-12-31');
  });
});
