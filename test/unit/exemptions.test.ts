// Exemptions in the domain: what may be exempted and for how long (422 INVALID_EXEMPTION with the field), which
// violations an exemption moves to `exempted` at a given instant (to the second), identity never, and the
// expired exemption a new block reports.
import { describe, expect, it } from 'vitest';
import { parseCheckin } from '../../lib/domain/checkin.ts';
import { type EvaluationContext, evaluateCheckin } from '../../lib/domain/evaluate.ts';
import type { IdentityObservation } from '../../lib/domain/observations.ts';
import { applyExemption, EXEMPTIBLE_CODES, expiredExemptionCovering, isExemptionActive, validateExemption } from '../../lib/domain/exemptions.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../lib/domain/settings.ts';
import { deviceStatusAlert, readDeviceStatusImage } from '../../lib/domain/alerts.ts';
import { deviceStatusOf } from '../../lib/adapters/device-status.ts';
import type { DecisionRecord } from '../../lib/ports/decision-store.ts';

const now = new Date('2026-11-25T18:06:03.000Z');
const at = (offsetSeconds: number) => new Date(now.getTime() + offsetSeconds * 1000).toISOString();
const finding = (code: string) => ({ code, message: `${code} happened`, detail: 1 });
const SKEW = finding('CLOCK_SKEW_EXCEEDED');
const SERVER = finding('SERVER_CERT_NOT_VERIFIED');
const MISMATCH = finding('PACKAGE_CHECKSUM_MISMATCH');
const CERT = finding('CLIENT_CERT_MISSING');
const SIGNATURE = finding('CLIENT_SIGNATURE_INVALID');

describe('validateExemption', () => {
  const valid = { violations: ['CLOCK_SKEW_EXCEEDED'], until: at(3600), reason: 'travelling' };

  it('accepts every exemptible code, keeps each once, and stores until as UTC', () => {
    expect(validateExemption({ ...valid, violations: [...EXEMPTIBLE_CODES, 'CLOCK_SKEW_EXCEEDED'] }, now).violations).toEqual([...EXEMPTIBLE_CODES]);
    expect(validateExemption({ ...valid, until: '2026-11-26T00:00:00+02:00' }, now).until).toBe('2026-11-25T22:00:00.000Z');
    expect(EXEMPTIBLE_CODES).toEqual([
      'CLOCK_SKEW_EXCEEDED',
      'SERVER_CERT_NOT_VERIFIED',
      'PACKAGE_CHECKSUM_UNAVAILABLE',
      'PACKAGE_CHECKSUM_MISSING',
      'PACKAGE_CHECKSUM_MISMATCH',
    ]);
  });

  it('accepts a reason of exactly 512 characters, kept whole', () => {
    expect(validateExemption({ ...valid, reason: 'r'.repeat(512) }, now).reason).toBe('r'.repeat(512));
  });

  it.each([
    ['an empty list', { violations: [] }, 'violations'],
    ['an identity code (certificate)', { violations: ['CLIENT_CERT_MISSING'] }, 'violations'],
    ['an identity code (signature)', { violations: ['CLOCK_SKEW_EXCEEDED', 'CLIENT_SIGNATURE_INVALID'] }, 'violations'],
    ['an unknown code', { violations: ['CLOCK_SKEW'] }, 'violations'],
    ['a lower-case code', { violations: ['clock_skew_exceeded'] }, 'violations'],
    ['a date without time', { until: '2026-12-01' }, 'until'],
    ['a date without zone', { until: '2026-12-01T00:00:00' }, 'until'],
    ['not a date', { until: 'tomorrow' }, 'until'],
    ['now itself', { until: at(0) }, 'until'],
    ['the past', { until: at(-1) }, 'until'],
    ['a second past 30 days', { until: at(30 * 86_400 + 1) }, 'until'],
    ['an empty reason', { reason: '' }, 'reason'],
    ['a blank reason', { reason: '   ' }, 'reason'],
    ['a reason of 513 characters', { reason: 'r'.repeat(513) }, 'reason'],
  ])('refuses %s: 422 INVALID_EXEMPTION naming %s', (_name, override, field) => {
    expect(() => validateExemption({ ...valid, ...override }, now)).toThrow(expect.objectContaining({ statusCode: 422, code: 'INVALID_EXEMPTION', field }));
  });

  it.each([
    // [case, body, the sentence the admin reads]
    ['an empty list', { violations: [] }, 'violations must list at least one violation code'],
    [
      'an identity code',
      { violations: ['CLIENT_CERT_MISSING'] },
      'CLIENT_CERT_MISSING cannot be exempted; exemptible codes: CLOCK_SKEW_EXCEEDED, SERVER_CERT_NOT_VERIFIED, ' +
        'PACKAGE_CHECKSUM_UNAVAILABLE, PACKAGE_CHECKSUM_MISSING, PACKAGE_CHECKSUM_MISMATCH (identity violations never are)',
    ],
    ['a date without time', { until: '2026-12-01' }, 'until must be an RFC 3339 date-time such as 2026-12-08T00:00:00Z'],
    ['the past', { until: at(-1) }, 'until must be in the future'],
    ['a second past 30 days', { until: at(30 * 86_400 + 1) }, 'until must be at most 30 days ahead'],
    ['a blank reason', { reason: '   ' }, 'reason must be a non-empty text of at most 512 characters'],
  ])('tells the admin what to change for %s', (_name, override, message) => {
    expect(() => validateExemption({ ...valid, ...override }, now)).toThrow(expect.objectContaining({ message }));
  });

  it('accepts exactly 30 days ahead and one second ahead', () => {
    expect(validateExemption({ ...valid, until: at(30 * 86_400) }, now).until).toBe(at(30 * 86_400));
    expect(validateExemption({ ...valid, until: at(1) }, now).until).toBe(at(1));
  });
});

describe('applyExemption', () => {
  const exemption = { violations: ['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED'], until: at(10) };

  it.each([
    ['no exemption', undefined, [SKEW, SERVER, MISMATCH], [SKEW, SERVER, MISMATCH], []],
    ['listed codes move, others stay', exemption, [SKEW, SERVER, MISMATCH], [MISMATCH], [SKEW, SERVER]],
    ['all listed: nothing blocks', exemption, [SERVER], [], [SERVER]],
    ['identity codes never move, even if listed', { violations: ['CLIENT_CERT_MISSING', 'CLIENT_SIGNATURE_INVALID', 'CLOCK_SKEW_EXCEEDED'], until: at(10) }, [CERT, SIGNATURE, SKEW], [CERT, SIGNATURE], [SKEW]],
    ['expired: nothing moves', { ...exemption, until: at(-1) }, [SKEW, SERVER], [SKEW, SERVER], []],
  ] as const)('%s', (_name, given, violations, kept, exempted) => {
    const result = applyExemption(violations, given, now);
    expect(result.violations).toEqual(kept);
    expect(result.exempted).toEqual(exempted);
  });

  it('moves the same violation objects, details and all', () => {
    const result = applyExemption([SKEW], exemption, now);
    expect(result.exempted[0]).toBe(SKEW);
  });

  it.each([
    [-1, true],
    [-0.001, true],
    [0, false],
    [1, false],
  ])('is in force until `until` (check-in %s s from it: %s)', (offset, active) => {
    const until = at(10);
    const instant = new Date(Date.parse(until) + offset * 1000);
    expect(isExemptionActive({ until }, instant)).toBe(active);
    expect(applyExemption([SKEW], { violations: ['CLOCK_SKEW_EXCEEDED'], until }, instant).exempted).toHaveLength(active ? 1 : 0);
  });
});

describe('expiredExemptionCovering', () => {
  const stored = { violations: ['CLOCK_SKEW_EXCEEDED'], until: at(-5), reason: 'travelling' };

  it('reports an exemption that ran out and listed one of the codes', () => {
    expect(expiredExemptionCovering([MISMATCH, SKEW], stored, now)).toEqual({ violations: ['CLOCK_SKEW_EXCEEDED'], until: at(-5), reason: 'travelling' });
  });

  it.each([
    ['none stored', undefined, [SKEW]],
    ['still in force', { ...stored, until: at(5) }, [SKEW]],
    ['other codes', stored, [MISMATCH]],
  ] as const)('reports nothing: %s', (_name, exemption, violations) => {
    expect(expiredExemptionCovering(violations, exemption, now)).toBeUndefined();
  });
});

describe('evaluateCheckin with an exemption', () => {
  const NO_CERTIFICATE: IdentityObservation = { way: 'NONE', violations: [CERT] };
  const skewed = () => parseCheckin({ checkinId: 'c-1', deviceId: 'D1', clientTime: at(-3600), serverCertificateVerified: false });
  const context = (settings: Partial<Settings>, exemption?: EvaluationContext['exemption']): EvaluationContext => ({
    settings: { ...DEFAULT_SETTINGS, ...settings } as Settings,
    settingsVersion: 4,
    packages: new Map(),
    identity: NO_CERTIFICATE,
    exemption,
  });
  const both = { violations: ['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED'], until: at(60), reason: 'repair' };
  const codes = (list: { code: string }[]) => list.map((v) => v.code);

  it('accepts a check-in whose violations are all exempted, reporting them as exempted', () => {
    const evaluation = evaluateCheckin(skewed(), context({ sslCertificateVerification: 'ALWAYS' }), now);
    expect(evaluation.decision).toBe('BLOCK');
    const exempted = evaluateCheckin(skewed(), context({ sslCertificateVerification: 'ALWAYS' }, both), now);
    expect(exempted).toMatchObject({ decision: 'ACCEPT', violations: [] });
    expect(exempted).not.toHaveProperty('exemptionExpired');
    expect(codes(exempted.exempted)).toEqual(['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED']);
  });

  it('still blocks for a code the exemption does not list', () => {
    const evaluation = evaluateCheckin(skewed(), context({ sslCertificateVerification: 'ALWAYS' }, { ...both, violations: ['CLOCK_SKEW_EXCEEDED'] }), now);
    expect(evaluation.decision).toBe('BLOCK');
    expect(codes(evaluation.violations)).toEqual(['SERVER_CERT_NOT_VERIFIED']);
    expect(codes(evaluation.exempted)).toEqual(['CLOCK_SKEW_EXCEEDED']);
  });

  it('never exempts an identity violation: the request stays unauthenticated and blocked', () => {
    const evaluation = evaluateCheckin(skewed(), context({ sslCertificateVerification: 'ALWAYS', certificateBasedAuthentication: true }, both), now);
    expect(evaluation).toMatchObject({ decision: 'BLOCK', authenticated: false });
    expect(codes(evaluation.violations)).toEqual(['CLIENT_CERT_MISSING']);
  });

  it('blocks after `until`, naming the exemption that ran out', () => {
    const expired = { ...both, until: at(0) };
    const evaluation = evaluateCheckin(skewed(), context({ sslCertificateVerification: 'ALWAYS' }, expired), now);
    expect(evaluation).toMatchObject({ decision: 'BLOCK', exempted: [], exemptionExpired: { violations: both.violations, until: at(0), reason: 'repair' } });
  });

  it('in MONITOR mode nothing blocks, so nothing is reported as expired', () => {
    const evaluation = evaluateCheckin(skewed(), context({ sslCertificateVerification: 'ALWAYS', mode: 'MONITOR' }, { ...both, until: at(-1) }), now);
    expect(evaluation.decision).toBe('ACCEPT');
    expect(evaluation.exemptionExpired).toBeUndefined();
  });
});

describe('DEVICE_BLOCKED alert after an exemption ran out', () => {
  const expired = { violations: ['CLOCK_SKEW_EXCEEDED'], until: at(-5), reason: 'travelling' };
  const decision = (verdict: 'ACCEPT' | 'BLOCK', checkinId: string, extra: Partial<DecisionRecord> = {}): DecisionRecord => ({
    checkinId,
    deviceId: 'mac-1',
    decision: verdict,
    enforced: true,
    violations: verdict === 'BLOCK' ? [SKEW] : [],
    warnings: [],
    facts: {} as DecisionRecord['facts'],
    settingsVersion: 3,
    evaluatedAt: now.toISOString(),
    statusCode: verdict === 'BLOCK' ? 403 : 200,
    ...extra,
  });
  /** The status item as the adapters write it (with its sorted codes) and the stream carries it. */
  const streamed = (record: DecisionRecord) => {
    const status = deviceStatusOf(record);
    return readDeviceStatusImage({ ...status, violationCodes: status.violations.map((v) => v.code).sort() });
  };

  it('carries exemptionExpired { violations, until, reason } copied from the status the check-in wrote', () => {
    const alert = deviceStatusAlert(streamed(decision('ACCEPT', 'c-1', { exempted: [SKEW] })), streamed(decision('BLOCK', 'c-2', { exemptionExpired: expired })));
    expect(alert?.type).toBe('DEVICE_BLOCKED');
    expect(alert?.message).toMatchObject({ deviceId: 'mac-1', checkinId: 'c-2', violations: [SKEW], exemptionExpired: expired });
  });

  it('leaves it out of a block that no exemption covered, and ignores a malformed one', () => {
    const plain = deviceStatusAlert(undefined, streamed(decision('BLOCK', 'c-2')));
    expect(plain?.message).not.toHaveProperty('exemptionExpired');
    const malformed = readDeviceStatusImage({ ...deviceStatusOf(decision('BLOCK', 'c-3')), exemptionExpired: { violations: 'CLOCK_SKEW_EXCEEDED' } });
    expect(deviceStatusAlert(undefined, malformed)?.message).not.toHaveProperty('exemptionExpired');
  });
});
