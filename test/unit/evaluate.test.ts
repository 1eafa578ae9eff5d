// evaluateCheckin: every rule of API.md §1's evaluation table, all violations reported, MONITOR vs ENFORCE.
import { describe, expect, it } from 'vitest';
import { type Checkin, parseCheckin } from '../../lib/domain/checkin.ts';
import { type EvaluationContext, evaluateCheckin } from '../../lib/domain/evaluate.ts';
import type { RegisteredPackage } from '../../lib/domain/rules/package-checksums.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../lib/domain/settings.ts';

const now = new Date('2026-11-25T18:06:03.120Z');
const sha256 = (c: string) => c.repeat(64);

function checkin(overrides: Record<string, unknown> = {}): Checkin {
  return parseCheckin({ checkinId: 'c-1', deviceId: 'D1', clientTime: now.toISOString(), serverCertificateVerified: true, ...overrides });
}

function context(settings: Partial<Settings> = {}, extra: Partial<EvaluationContext> = {}): EvaluationContext {
  const packages = new Map<string, RegisteredPackage>([
    ['with-sha256', { packageId: 'with-sha256', name: 'A', checksum: { type: 'SHA_256', value: sha256('a') } }],
    ['without-checksum', { packageId: 'without-checksum', name: 'B', checksum: null }],
  ]);
  return {
    settings: { ...DEFAULT_SETTINGS, ...settings } as Settings,
    settingsVersion: 4,
    packages,
    checkDeviceCertificate: () => ({ way: 'NONE', violations: [{ code: 'CLIENT_CERT_MISSING', message: 'The device presented no certificate; install its device certificate.' }] }),
    ...extra,
  };
}

const codes = (c: Checkin, ctx: EvaluationContext) => evaluateCheckin(c, ctx, now).violations.map((v) => v.code);

describe('clock skew', () => {
  it.each([
    // [client offset from server in ms, limit in s, violated?]
    ['exactly at the limit, ahead', 300_000, 300, false],
    ['exactly at the limit, behind', -300_000, 300, false],
    ['100 ms over, ahead', 300_100, 300, true],
    ['412 s behind', -412_000, 300, true],
    ['1 s ahead with a 1 s limit', 1000, 1, false],
  ])('%s', (_case, offsetMs, limit, violated) => {
    const c = checkin({ clientTime: new Date(now.getTime() + offsetMs).toISOString() });
    expect(codes(c, context({ maxClockSkewSeconds: limit })).includes('CLOCK_SKEW_EXCEEDED')).toBe(violated);
  });

  it('reports the signed skew, device minus server, to one decimal, and reads zone offsets', () => {
    // 18:13:15.5 in UTC+02:00 is 16:13:15.5Z: 6_887.62 s behind 18:06:03.12Z
    const c = checkin({ clientTime: '2026-11-25T18:13:15.500+02:00' });
    const [violation] = evaluateCheckin(c, context(), now).violations;
    expect(violation).toEqual({
      code: 'CLOCK_SKEW_EXCEEDED',
      message: expect.stringContaining('behind'),
      skewSeconds: -6767.6,
      maxClockSkewSeconds: 300,
    });
  });
});

describe('SSL certificate verification', () => {
  it.each([
    // [policy, phase, device verified?, violated?]
    ['ALWAYS', 'CHECKIN', false, true],
    ['ALWAYS', 'ENROLLMENT', false, true],
    ['ALWAYS', 'CHECKIN', true, false],
    ['ALWAYS_EXCEPT_DURING_ENROLLMENT', 'CHECKIN', false, true],
    ['ALWAYS_EXCEPT_DURING_ENROLLMENT', 'ENROLLMENT', false, false],
    ['NEVER', 'CHECKIN', false, false],
    ['NEVER', 'ENROLLMENT', false, false],
  ] as const)('%s, phase %s, verified %s → violated %s', (policy, phase, verified, violated) => {
    const c = checkin({ phase, serverCertificateVerified: verified });
    expect(codes(c, context({ sslCertificateVerification: policy })).includes('SERVER_CERT_NOT_VERIFIED')).toBe(violated);
  });
});

describe('package checksums', () => {
  const good = { type: 'SHA_256', value: sha256('a') };
  const bad = { type: 'SHA_256', value: sha256('b') };
  const md5 = { type: 'MD5', value: 'a'.repeat(32) };
  it.each([
    // [policy, reported package, expected codes]
    ['ALWAYS', { packageId: 'with-sha256', checksum: good }, []],
    ['ALWAYS', { packageId: 'with-sha256', checksum: { ...good, value: good.value.toUpperCase() } }, []],
    ['ALWAYS', { packageId: 'with-sha256', checksum: bad }, ['PACKAGE_CHECKSUM_MISMATCH']],
    ['ALWAYS', { packageId: 'with-sha256' }, ['PACKAGE_CHECKSUM_MISSING']],
    ['ALWAYS', { packageId: 'with-sha256', checksum: md5 }, ['PACKAGE_CHECKSUM_MISSING']],
    ['ALWAYS', { packageId: 'without-checksum', checksum: good }, ['PACKAGE_CHECKSUM_UNAVAILABLE']],
    ['ALWAYS', { packageId: 'unregistered', checksum: good }, ['PACKAGE_CHECKSUM_UNAVAILABLE']],
    ['WHEN_CHECKSUM_PRESENT', { packageId: 'with-sha256', checksum: bad }, ['PACKAGE_CHECKSUM_MISMATCH']],
    ['WHEN_CHECKSUM_PRESENT', { packageId: 'with-sha256' }, ['PACKAGE_CHECKSUM_MISSING']],
    ['WHEN_CHECKSUM_PRESENT', { packageId: 'without-checksum' }, []],
    ['WHEN_CHECKSUM_PRESENT', { packageId: 'unregistered' }, []],
    ['NEVER', { packageId: 'with-sha256', checksum: bad }, []],
    ['NEVER', { packageId: 'unregistered' }, []],
  ] as const)('%s with %j → %j', (policy, reported, expected) => {
    const result = evaluateCheckin(checkin({ packages: [reported] }), context({ packageValidation: policy }), now);
    expect(result.violations.map((v) => v.code)).toEqual(expected);
    for (const v of result.violations) expect(v.packageId).toBe(reported.packageId);
  });
});

describe('certificate-based authentication', () => {
  it('runs the certificate check only when the setting is on, and records the identity', () => {
    let calls = 0;
    const extra = {
      checkDeviceCertificate: () => {
        calls += 1;
        return { way: 'MTLS', fingerprint: 'ab', violations: [{ code: 'CLIENT_CERT_EXPIRED', message: 'Expired.', fingerprint: 'ab' }] };
      },
    };
    expect(codes(checkin(), context({}, extra))).toEqual([]);
    expect(calls).toBe(0);
    const result = evaluateCheckin(checkin(), context({ certificateBasedAuthentication: true }, extra), now);
    expect(result.violations.map((v) => v.code)).toEqual(['CLIENT_CERT_EXPIRED']);
    expect(result.facts.identity).toEqual({ way: 'MTLS', fingerprint: 'ab' });
    expect(calls).toBe(1);
  });
});

describe('push topic', () => {
  it.each([
    // [pushNotifications, reported topic, certificate topic, warned?]
    [true, 'com.apple.mgmt.other', 'com.apple.mgmt.ours', true],
    [true, 'com.apple.mgmt.ours', 'com.apple.mgmt.ours', false],
    [true, undefined, 'com.apple.mgmt.ours', false],
    [false, 'com.apple.mgmt.other', 'com.apple.mgmt.ours', false],
  ])('push %s, device %s, certificate %s → warning %s', (push, reported, certificateTopic, warned) => {
    const result = evaluateCheckin(checkin({ pushTopic: reported }), context({ pushNotifications: push }, { pushCertificateTopic: certificateTopic }), now);
    expect(result.warnings.map((w) => w.code)).toEqual(warned ? ['PUSH_TOPIC_MISMATCH'] : []);
    // a warning never blocks
    expect(result.decision).toBe('ACCEPT');
  });
});

describe('decision', () => {
  const failing = checkin({
    clientTime: '2026-11-25T19:00:00Z',
    serverCertificateVerified: false,
    packages: [{ packageId: 'with-sha256', checksum: { type: 'SHA_256', value: sha256('b') } }],
  });

  it('reports every violation, not only the first, and blocks in ENFORCE mode', () => {
    const result = evaluateCheckin(failing, context({ certificateBasedAuthentication: true }), now);
    expect(result.violations.map((v) => v.code)).toEqual(['CLOCK_SKEW_EXCEEDED', 'CLIENT_CERT_MISSING', 'SERVER_CERT_NOT_VERIFIED', 'PACKAGE_CHECKSUM_MISMATCH']);
    expect(result).toMatchObject({ decision: 'BLOCK', enforced: true, settingsVersion: 4, evaluatedAt: now.toISOString() });
  });

  it('accepts with the violations listed in MONITOR mode', () => {
    const result = evaluateCheckin(failing, context({ mode: 'MONITOR' }), now);
    expect(result).toMatchObject({ decision: 'ACCEPT', enforced: false });
    expect(result.violations).toHaveLength(3);
  });

  it('accepts a compliant check-in and records the facts it was judged on', () => {
    const result = evaluateCheckin(checkin({ phase: 'ENROLLMENT', pushTopic: 't' }), context(), now);
    expect(result).toEqual({
      decision: 'ACCEPT',
      enforced: true,
      violations: [],
      warnings: [],
      settingsVersion: 4,
      evaluatedAt: '2026-11-25T18:06:03.120Z',
      facts: {
        clientTime: '2026-11-25T18:06:03.120Z',
        serverTime: '2026-11-25T18:06:03.120Z',
        skewSeconds: 0,
        phase: 'ENROLLMENT',
        serverCertificateVerified: true,
        packages: [],
        pushTopic: 't',
        identity: undefined,
      },
    });
  });

  it('gives every violation a sentence a person can act on', () => {
    for (const v of evaluateCheckin(failing, context({ certificateBasedAuthentication: true }), now).violations) {
      expect(v.message).toMatch(/^[A-Z].{20,}[.]$/);
    }
  });
});
