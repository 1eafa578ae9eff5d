// evaluateCheckin: every rule of API.md §1's evaluation table, all violations reported, MONITOR vs ENFORCE.
// Time is passed in. Each case names the whole list of violation codes it expects, so a rule that adds a stray
// violation, or drops one, fails. Check-ins are parsed inside the tests, never while the tables are built.
import { describe, expect, it } from 'vitest';
import { parseCheckin } from '../../lib/domain/checkin.ts';
import type { Finding } from '../../lib/domain/errors.ts';
import { type EvaluationContext, evaluateCheckin, isIdentityViolationCode } from '../../lib/domain/evaluate.ts';
import type { IdentityObservation } from '../../lib/domain/observations.ts';
import type { RegisteredPackage } from '../../lib/domain/rules/package-checksums.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../lib/domain/settings.ts';

const now = new Date('2026-11-25T18:06:03.120Z');
const sha256 = (c: string) => c.repeat(64);
const sha512 = (c: string) => c.repeat(128);

const REGISTERED: RegisteredPackage[] = [
  { packageId: 'with-sha256', name: 'Office', checksum: { type: 'SHA_256', value: sha256('a') } },
  { packageId: 'with-sha512', name: 'Xcode', checksum: { type: 'SHA_512', value: sha512('c') } },
  { packageId: 'without-checksum', name: 'Fonts', checksum: null },
];

const NO_CERTIFICATE: IdentityObservation = {
  way: 'NONE',
  violations: [{ code: 'CLIENT_CERT_MISSING', message: 'The device presented no certificate; install its device certificate.' }],
};

/** A compliant check-in sent at `now`; override what the case is about. */
function checkin(overrides: Record<string, unknown> = {}) {
  return parseCheckin({ checkinId: 'c-1', deviceId: 'D1', clientTime: now.toISOString(), serverCertificateVerified: true, ...overrides });
}

function context(settings: Partial<Settings> = {}, extra: Partial<EvaluationContext> = {}): EvaluationContext {
  return {
    settings: { ...DEFAULT_SETTINGS, ...settings } as Settings,
    settingsVersion: 4,
    packages: new Map(REGISTERED.map((p) => [p.packageId, p])),
    identity: NO_CERTIFICATE,
    ...extra,
  };
}

const codesOf = (findings: Finding[]) => findings.map((f) => f.code);

describe('clock skew', () => {
  it.each([
    // [case, server time, clientTime as the device sent it, maxClockSkewSeconds, violation codes]
    ['in step', '2026-11-25T18:06:03.120Z', '2026-11-25T18:06:03.120Z', 300, []],
    ['exactly at the limit, ahead', '2026-11-25T18:06:03.120Z', '2026-11-25T18:11:03.120Z', 300, []],
    ['exactly at the limit, behind', '2026-11-25T18:06:03.120Z', '2026-11-25T18:01:03.120Z', 300, []],
    ['100 ms over, ahead', '2026-11-25T18:06:03.120Z', '2026-11-25T18:11:03.220Z', 300, ['CLOCK_SKEW_EXCEEDED']],
    ['100 ms over, behind', '2026-11-25T18:06:03.120Z', '2026-11-25T18:01:03.020Z', 300, ['CLOCK_SKEW_EXCEEDED']],
    ['412 s behind', '2026-11-25T18:06:03.120Z', '2026-11-25T17:59:11.120Z', 300, ['CLOCK_SKEW_EXCEEDED']],
    ['1 s ahead with a 1 s limit', '2026-11-25T18:06:03.120Z', '2026-11-25T18:06:04.120Z', 1, []],
    ['2 s ahead with a 1 s limit', '2026-11-25T18:06:03.120Z', '2026-11-25T18:06:05.120Z', 1, ['CLOCK_SKEW_EXCEEDED']],
    ['an hour ahead with a day allowed', '2026-11-25T18:06:03.120Z', '2026-11-25T19:06:03.120Z', 86400, []],
    // The device's zone offset is read, not its local digits: each of these is in step with the server.
    ['India, +05:30', '2026-11-25T18:06:03.120Z', '2026-11-25T23:36:03.120+05:30', 300, []],
    ['Nepal, +05:45, already the next day', '2026-11-25T18:36:03.120Z', '2026-11-26T00:21:03.120+05:45', 300, []],
    ['Newfoundland, -03:30', '2026-11-25T18:06:03.120Z', '2026-11-25T14:36:03.120-03:30', 300, []],
    ['Kiribati, +14:00, the next day', '2026-11-25T18:06:03.120Z', '2026-11-26T08:06:03.120+14:00', 300, []],
    ['Baker Island, -12:00', '2026-11-25T18:06:03.120Z', '2026-11-25T06:06:03.120-12:00', 300, []],
    ['the last minute of a zone, +23:59', '2026-11-25T18:06:03.120Z', '2026-11-26T18:05:03.120+23:59', 300, []],
    // India's local digits read as if they were UTC would be five and a half hours ahead.
    ['UTC digits of an Indian clock', '2026-11-25T18:06:03.120Z', '2026-11-25T23:36:03.120Z', 300, ['CLOCK_SKEW_EXCEEDED']],
    // December, the last hour of the day and the turn of the year are ordinary times.
    ['New Year’s Eve, 23:59:59.9', '2026-12-31T23:59:59.900Z', '2026-12-31T23:59:59.900Z', 300, []],
    ['a device already in the new year', '2026-12-31T23:59:00.000Z', '2027-01-01T00:03:00.000Z', 300, []],
    ['a device a year behind', '2026-12-31T23:59:00.000Z', '2025-12-31T23:59:00.000Z', 300, ['CLOCK_SKEW_EXCEEDED']],
    ['a leap second, read as the last instant of its minute', '2016-12-31T23:59:59.500Z', '2016-12-31T23:59:60Z', 1, []],
    ['29 February', '2028-02-29T12:00:00.000Z', '2028-02-29T12:00:00.000Z', 300, []],
  ])('%s', (_case, serverTime, clientTime, limit, expected) => {
    const result = evaluateCheckin(checkin({ clientTime }), context({ maxClockSkewSeconds: limit }), new Date(serverTime));
    expect(codesOf(result.violations)).toEqual(expected);
  });

  it.each([
    // [case, clientTime, the violation: signed skew (device minus server, one decimal) and its sentence]
    [
      'behind, in another zone',
      '2026-11-25T18:13:15.500+02:00',
      -6767.6,
      "The device clock is 6767.6 s behind the server's, more than the 300 s allowed; set the device to network time.",
    ],
    [
      'ahead, 100 ms over',
      '2026-11-25T18:11:03.220Z',
      300.1,
      "The device clock is 300.1 s ahead of the server's, more than the 300 s allowed; set the device to network time.",
    ],
    [
      'behind, rounded to one decimal',
      '2026-11-25T17:59:11.080Z',
      -412,
      "The device clock is 412.0 s behind the server's, more than the 300 s allowed; set the device to network time.",
    ],
  ])('reports the skew %s', (_case, clientTime, skewSeconds, message) => {
    const result = evaluateCheckin(checkin({ clientTime }), context(), now);
    expect(result.violations).toEqual([{ code: 'CLOCK_SKEW_EXCEEDED', message, skewSeconds, maxClockSkewSeconds: 300 }]);
    expect(result.facts.skewSeconds).toBe(skewSeconds);
  });
});

describe('SSL certificate verification', () => {
  it.each([
    // [policy, phase, device verified?, violation codes]
    ['ALWAYS', 'CHECKIN', false, ['SERVER_CERT_NOT_VERIFIED']],
    ['ALWAYS', 'ENROLLMENT', false, ['SERVER_CERT_NOT_VERIFIED']],
    ['ALWAYS', 'CHECKIN', true, []],
    ['ALWAYS', 'ENROLLMENT', true, []],
    ['ALWAYS_EXCEPT_DURING_ENROLLMENT', 'CHECKIN', false, ['SERVER_CERT_NOT_VERIFIED']],
    ['ALWAYS_EXCEPT_DURING_ENROLLMENT', 'ENROLLMENT', false, []],
    ['ALWAYS_EXCEPT_DURING_ENROLLMENT', 'CHECKIN', true, []],
    ['NEVER', 'CHECKIN', false, []],
    ['NEVER', 'ENROLLMENT', false, []],
  ] as const)('%s, phase %s, verified %s → %j', (policy, phase, verified, expected) => {
    const result = evaluateCheckin(checkin({ phase, serverCertificateVerified: verified }), context({ sslCertificateVerification: policy }), now);
    expect(codesOf(result.violations)).toEqual(expected);
  });

  it.each([
    // [policy, the sentence: when verification was required]
    ['ALWAYS', "The device did not verify the server's SSL certificate, which is required on every connection; make the device trust the server certificate's issuer."],
    [
      'ALWAYS_EXCEPT_DURING_ENROLLMENT',
      "The device did not verify the server's SSL certificate, which is required outside enrollment; make the device trust the server certificate's issuer.",
    ],
  ] as const)('says when %s requires verification', (policy, message) => {
    const result = evaluateCheckin(checkin({ serverCertificateVerified: false }), context({ sslCertificateVerification: policy }), now);
    expect(result.violations).toEqual([{ code: 'SERVER_CERT_NOT_VERIFIED', message }]);
  });
});

describe('package checksums', () => {
  const good = { type: 'SHA_256', value: sha256('a') };
  const bad = { type: 'SHA_256', value: sha256('b') };
  const md5 = { type: 'MD5', value: 'a'.repeat(32) };
  it.each([
    // [policy, reported package, violation codes (each names the package)]
    ['ALWAYS', { packageId: 'with-sha256', checksum: good }, []],
    ['ALWAYS', { packageId: 'with-sha256', checksum: { ...good, value: good.value.toUpperCase() } }, []],
    ['ALWAYS', { packageId: 'with-sha256', checksum: bad }, ['PACKAGE_CHECKSUM_MISMATCH']],
    ['ALWAYS', { packageId: 'with-sha256' }, ['PACKAGE_CHECKSUM_MISSING']],
    ['ALWAYS', { packageId: 'with-sha256', checksum: null }, ['PACKAGE_CHECKSUM_MISSING']],
    ['ALWAYS', { packageId: 'with-sha256', checksum: md5 }, ['PACKAGE_CHECKSUM_MISSING']],
    ['ALWAYS', { packageId: 'with-sha512', checksum: { type: 'SHA_512', value: sha512('c') } }, []],
    ['ALWAYS', { packageId: 'with-sha512', checksum: good }, ['PACKAGE_CHECKSUM_MISSING']],
    ['ALWAYS', { packageId: 'without-checksum', checksum: good }, ['PACKAGE_CHECKSUM_UNAVAILABLE']],
    ['ALWAYS', { packageId: 'without-checksum' }, ['PACKAGE_CHECKSUM_UNAVAILABLE']],
    ['ALWAYS', { packageId: 'unregistered', checksum: good }, ['PACKAGE_CHECKSUM_UNAVAILABLE']],
    ['WHEN_CHECKSUM_PRESENT', { packageId: 'with-sha256', checksum: good }, []],
    ['WHEN_CHECKSUM_PRESENT', { packageId: 'with-sha256', checksum: bad }, ['PACKAGE_CHECKSUM_MISMATCH']],
    ['WHEN_CHECKSUM_PRESENT', { packageId: 'with-sha256' }, ['PACKAGE_CHECKSUM_MISSING']],
    ['WHEN_CHECKSUM_PRESENT', { packageId: 'with-sha256', checksum: md5 }, ['PACKAGE_CHECKSUM_MISSING']],
    ['WHEN_CHECKSUM_PRESENT', { packageId: 'without-checksum' }, []],
    ['WHEN_CHECKSUM_PRESENT', { packageId: 'unregistered' }, []],
    ['NEVER', { packageId: 'with-sha256', checksum: bad }, []],
    ['NEVER', { packageId: 'with-sha256' }, []],
    ['NEVER', { packageId: 'unregistered' }, []],
  ] as const)('%s with %j → %j', (policy, reported, expected) => {
    const result = evaluateCheckin(checkin({ packages: [reported] }), context({ packageValidation: policy }), now);
    expect(result.violations.map(({ code, packageId }) => ({ code, packageId }))).toEqual(expected.map((code) => ({ code, packageId: reported.packageId })));
  });

  it('judges each reported package on its own, in the order reported', () => {
    const packages = [
      { packageId: 'with-sha256', checksum: good },
      { packageId: 'unregistered', checksum: good },
      { packageId: 'with-sha512', checksum: { type: 'SHA_512', value: sha512('d') } },
      { packageId: 'without-checksum' },
    ];
    const result = evaluateCheckin(checkin({ packages }), context({ packageValidation: 'ALWAYS' }), now);
    expect(result.violations.map(({ code, packageId }) => [code, packageId])).toEqual([
      ['PACKAGE_CHECKSUM_UNAVAILABLE', 'unregistered'],
      ['PACKAGE_CHECKSUM_MISMATCH', 'with-sha512'],
      ['PACKAGE_CHECKSUM_UNAVAILABLE', 'without-checksum'],
    ]);
  });

  it('has nothing to say about a check-in that reports no packages', () => {
    expect(evaluateCheckin(checkin(), context({ packageValidation: 'ALWAYS' }), now).violations).toEqual([]);
  });

  it.each([
    // [reported package, the whole violation]
    [
      { packageId: 'unregistered', checksum: good },
      {
        code: 'PACKAGE_CHECKSUM_UNAVAILABLE',
        message: 'Package "unregistered" has no registered checksum, and every package must be validated; register its checksum or remove it from the device.',
        packageId: 'unregistered',
      },
    ],
    [
      { packageId: 'with-sha512', checksum: good },
      {
        code: 'PACKAGE_CHECKSUM_MISSING',
        message: 'The device reported no SHA_512 checksum for package "with-sha512"; it must compute one after download.',
        packageId: 'with-sha512',
      },
    ],
    [
      { packageId: 'with-sha256', checksum: bad },
      {
        code: 'PACKAGE_CHECKSUM_MISMATCH',
        message:
          'The SHA_256 checksum of package "with-sha256" on the device does not match the registered one; the download is corrupt or was altered, so download it again.',
        packageId: 'with-sha256',
      },
    ],
  ])('names the package and what to do: %j', (reported, violation) => {
    expect(evaluateCheckin(checkin({ packages: [reported] }), context({ packageValidation: 'ALWAYS' }), now).violations).toEqual([violation]);
  });
});

describe('certificate-based authentication', () => {
  const expired: IdentityObservation = {
    way: 'MTLS',
    fingerprint: 'ab',
    violations: [{ code: 'CLIENT_CERT_EXPIRED', message: 'Expired.', fingerprint: 'ab' }],
  };
  const valid: IdentityObservation = { way: 'SIGNED_REQUEST', fingerprint: 'cd', violations: [] };
  it.each([
    // [case, setting on?, what the certificate check finds, violation codes, authenticated]
    ['off: the certificate is observed but does not count', false, expired, [], undefined],
    ['on, an expired certificate', true, expired, ['CLIENT_CERT_EXPIRED'], false],
    ['on, no certificate', true, NO_CERTIFICATE, ['CLIENT_CERT_MISSING'], false],
    ['on, a valid signed request', true, valid, [], true],
  ] as const)('%s', (_case, on, identity, expected, authenticated) => {
    const result = evaluateCheckin(checkin(), context({ certificateBasedAuthentication: on }, { identity }), now);
    expect(codesOf(result.violations)).toEqual(expected);
    expect(result.authenticated).toBe(authenticated);
    // Observed whatever the setting, so that the impact preview can judge it with the setting turned on.
    expect(result.facts.identity).toEqual(identity);
  });

  it.each([
    // [code, an identity violation (never exempted; the request did not prove it is the device)?]
    ['CLIENT_CERT_MISSING', true],
    ['CLIENT_CERT_REVOKED', true],
    ['CLIENT_SIGNATURE_INVALID', true],
    ['CLIENT_SIGNATURE_MISSING', true],
    ['CLOCK_SKEW_EXCEEDED', false],
    ['SERVER_CERT_NOT_VERIFIED', false],
    ['PACKAGE_CHECKSUM_MISMATCH', false],
    ['PUSH_TOPIC_MISMATCH', false],
    ['CLIENT_CERTIFICATE_X', false],
    ['NOT_CLIENT_CERT_MISSING', false],
  ])('%s is an identity violation: %s', (code, identity) => {
    expect(isIdentityViolationCode(code)).toBe(identity);
  });
});

describe('push topic', () => {
  it.each([
    // [pushNotifications, reported topic, push certificate's topic, warning codes]
    [true, 'com.apple.mgmt.other', 'com.apple.mgmt.ours', ['PUSH_TOPIC_MISMATCH']],
    [true, 'com.apple.mgmt.ours', 'com.apple.mgmt.ours', []],
    [true, undefined, 'com.apple.mgmt.ours', []],
    // no push certificate stored: nothing to compare with
    [true, 'com.apple.mgmt.other', undefined, []],
    [false, 'com.apple.mgmt.other', 'com.apple.mgmt.ours', []],
  ])('push %s, device %s, certificate %s → %j', (push, reported, certificateTopic, expected) => {
    const result = evaluateCheckin(checkin({ pushTopic: reported }), context({ pushNotifications: push }, { pushCertificateTopic: certificateTopic }), now);
    expect(codesOf(result.warnings)).toEqual(expected);
    // a warning never blocks
    expect(result.violations).toEqual([]);
    expect(result.decision).toBe('ACCEPT');
  });

  it('quotes an empty reported topic as "(empty)"', () => {
    const result = evaluateCheckin(checkin({ pushTopic: '' }), context({ pushNotifications: true }, { pushCertificateTopic: 'com.apple.mgmt.ours' }), now);
    expect(result.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        'PUSH_TOPIC_MISMATCH',
        'The device is enrolled with push topic "(empty)" but the push certificate\'s topic is "com.apple.mgmt.ours"; re-enroll the device so it can receive push notifications.',
      ],
    ]);
  });

  it('names both topics and what to do', () => {
    const result = evaluateCheckin(
      checkin({ pushTopic: 'com.apple.mgmt.other' }),
      context({ pushNotifications: true }, { pushCertificateTopic: 'com.apple.mgmt.ours' }),
      now,
    );
    expect(result.warnings).toEqual([
      {
        code: 'PUSH_TOPIC_MISMATCH',
        message:
          'The device is enrolled with push topic "com.apple.mgmt.other" but the push certificate\'s topic is "com.apple.mgmt.ours"; re-enroll the device so it can receive push notifications.',
        pushTopic: 'com.apple.mgmt.other',
        expectedPushTopic: 'com.apple.mgmt.ours',
      },
    ]);
  });
});

describe('decision', () => {
  /** Breaks three rules under the defaults (four with certificate-based authentication on). */
  const failing = () =>
    checkin({
      clientTime: '2026-11-25T19:00:00Z',
      serverCertificateVerified: false,
      packages: [{ packageId: 'with-sha256', checksum: { type: 'SHA_256', value: sha256('b') } }],
    });

  it('reports every violation, not only the first, in the order of the evaluation table, and blocks in ENFORCE mode', () => {
    const result = evaluateCheckin(failing(), context({ certificateBasedAuthentication: true }), now);
    expect(codesOf(result.violations)).toEqual(['CLOCK_SKEW_EXCEEDED', 'CLIENT_CERT_MISSING', 'SERVER_CERT_NOT_VERIFIED', 'PACKAGE_CHECKSUM_MISMATCH']);
    expect(result).toMatchObject({ decision: 'BLOCK', enforced: true, authenticated: false, settingsVersion: 4, evaluatedAt: now.toISOString() });
  });

  it('blocks for a single violation', () => {
    const result = evaluateCheckin(checkin({ serverCertificateVerified: false }), context(), now);
    expect(codesOf(result.violations)).toEqual(['SERVER_CERT_NOT_VERIFIED']);
    expect(result).toMatchObject({ decision: 'BLOCK', enforced: true });
  });

  it('accepts with the violations listed in MONITOR mode', () => {
    const result = evaluateCheckin(failing(), context({ mode: 'MONITOR' }), now);
    expect(result).toMatchObject({ decision: 'ACCEPT', enforced: false });
    expect(codesOf(result.violations)).toEqual(['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED', 'PACKAGE_CHECKSUM_MISMATCH']);
  });

  it('accepts a compliant check-in in MONITOR mode, not enforced', () => {
    const result = evaluateCheckin(checkin(), context({ mode: 'MONITOR' }), now);
    expect(result).toMatchObject({ decision: 'ACCEPT', enforced: false, violations: [], warnings: [] });
  });

  it('accepts a compliant check-in and records the facts it was judged on', () => {
    const result = evaluateCheckin(
      checkin({
        clientTime: '2026-11-25T23:36:04.620+05:30',
        phase: 'ENROLLMENT',
        pushTopic: 't',
        packages: [{ packageId: 'with-sha256', checksum: { type: 'SHA_256', value: sha256('a') } }, { packageId: 'unregistered' }],
      }),
      context(),
      now,
    );
    expect(result).toMatchObject({ decision: 'ACCEPT', enforced: true, violations: [], warnings: [], settingsVersion: 4, evaluatedAt: '2026-11-25T18:06:03.120Z' });
    expect(result.facts).toEqual({
      clientTime: '2026-11-25T23:36:04.620+05:30',
      serverTime: '2026-11-25T18:06:03.120Z',
      skewSeconds: 1.5,
      skewMilliseconds: 1500,
      phase: 'ENROLLMENT',
      serverCertificateVerified: true,
      packages: [
        { packageId: 'with-sha256', checksumType: 'SHA_256', outcome: 'MATCH', expectedChecksumType: 'SHA_256' },
        { packageId: 'unregistered', outcome: 'NOT_REGISTERED' },
      ],
      pushTopic: 't',
      identity: NO_CERTIFICATE,
    });
  });
});
