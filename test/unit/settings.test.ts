// The settings document: defaults, strict shape (400), semantic rules (422), merge patch and diff.
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../lib/domain/errors.ts';
import {
  applyMergePatch,
  DEFAULT_SETTINGS,
  diffSettings,
  findSettingsRuleProblems,
  parseSettingsDocument,
  type Settings,
  type TrustFacts,
} from '../../lib/domain/settings.ts';

const now = new Date('2026-11-25T18:00:00.000Z');
const defaults = (): Settings => structuredClone(DEFAULT_SETTINGS) as Settings;
const noTrust: TrustFacts = { deviceCaCount: 0 };

describe('DEFAULT_SETTINGS', () => {
  it('is the fresh installation of API.md §3', () => {
    expect(DEFAULT_SETTINGS).toEqual({
      certificateBasedAuthentication: false,
      pushNotifications: false,
      sslCertificateVerification: 'ALWAYS_EXCEPT_DURING_ENROLLMENT',
      packageValidation: 'WHEN_CHECKSUM_PRESENT',
      maxClockSkewSeconds: 300,
      requireImagingAuthentication: true,
      mode: 'ENFORCE',
      certificateExpiryAlertDays: [60, 30, 14, 7, 1],
    });
    expect(findSettingsRuleProblems(defaults(), noTrust, now)).toEqual([]);
  });
});

describe('parseSettingsDocument', () => {
  it('accepts a whole document', () => {
    expect(parseSettingsDocument(defaults())).toEqual(DEFAULT_SETTINGS);
  });

  it.each([
    ['an unknown field', { ...defaults(), extra: 1 }, 'extra'],
    ['a field named like an object property', { ...defaults(), constructor: 5 }, 'constructor'],
    ['a field named toString', { ...defaults(), toString: 'x' }, 'toString'],
    ['a missing field', { ...defaults(), mode: undefined }, 'mode'],
    ['a boolean as a string', { ...defaults(), pushNotifications: 'true' }, 'pushNotifications'],
    ['an unknown enum value', { ...defaults(), sslCertificateVerification: 'SOMETIMES' }, 'sslCertificateVerification'],
    ['a number as a string', { ...defaults(), maxClockSkewSeconds: '300' }, 'maxClockSkewSeconds'],
    ['alert days as a number', { ...defaults(), certificateExpiryAlertDays: 30 }, 'certificateExpiryAlertDays'],
    ['alert days with a string', { ...defaults(), certificateExpiryAlertDays: [30, '7'] }, 'certificateExpiryAlertDays'],
  ])('refuses %s with 400 naming %s', (_case, document, field) => {
    const input = JSON.parse(JSON.stringify(document));
    try {
      parseSettingsDocument(input);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ statusCode: 400, code: 'INVALID_SETTINGS', field });
    }
  });

  it('refuses a non-object', () => {
    expect(() => parseSettingsDocument([])).toThrow(HttpError);
  });
});

describe('findSettingsRuleProblems', () => {
  const future = '2027-06-01T00:00:00.000Z';
  const past = '2026-01-01T00:00:00.000Z';
  it.each<[string, Partial<Settings>, TrustFacts, string[]]>([
    // sslCertificateVerification ALWAYS needs a server certificate devices can verify
    ['ALWAYS with a self-signed server certificate', { sslCertificateVerification: 'ALWAYS' }, { deviceCaCount: 0, serverCertificateSelfSigned: true }, ['sslCertificateVerification']],
    ['ALWAYS with a CA-issued server certificate', { sslCertificateVerification: 'ALWAYS' }, { deviceCaCount: 0, serverCertificateSelfSigned: false }, []],
    ['ALWAYS_EXCEPT_DURING_ENROLLMENT with a self-signed one', {}, { deviceCaCount: 0, serverCertificateSelfSigned: true }, []],
    // push notifications need a stored, unexpired push certificate
    ['push without a certificate', { pushNotifications: true }, noTrust, ['pushNotifications']],
    ['push with an expired certificate', { pushNotifications: true }, { deviceCaCount: 0, pushCertificateNotAfter: past }, ['pushNotifications']],
    ['push with a valid certificate', { pushNotifications: true }, { deviceCaCount: 0, pushCertificateNotAfter: future }, []],
    // certificate-based authentication needs a device CA
    ['certificate auth without a CA', { certificateBasedAuthentication: true }, noTrust, ['certificateBasedAuthentication']],
    ['certificate auth with a CA', { certificateBasedAuthentication: true }, { deviceCaCount: 1 }, []],
    // ranges
    ['skew 0', { maxClockSkewSeconds: 0 }, noTrust, ['maxClockSkewSeconds']],
    ['skew 1', { maxClockSkewSeconds: 1 }, noTrust, []],
    ['skew 86400', { maxClockSkewSeconds: 86400 }, noTrust, []],
    ['skew 86401', { maxClockSkewSeconds: 86401 }, noTrust, ['maxClockSkewSeconds']],
    ['skew 2.5', { maxClockSkewSeconds: 2.5 }, noTrust, ['maxClockSkewSeconds']],
    ['no alert days', { certificateExpiryAlertDays: [] }, noTrust, ['certificateExpiryAlertDays']],
    ['11 alert days', { certificateExpiryAlertDays: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }, noTrust, ['certificateExpiryAlertDays']],
    ['duplicate alert days', { certificateExpiryAlertDays: [7, 7] }, noTrust, ['certificateExpiryAlertDays']],
    ['alert day 366', { certificateExpiryAlertDays: [366] }, noTrust, ['certificateExpiryAlertDays']],
    ['alert day 0 and 365', { certificateExpiryAlertDays: [0, 365] }, noTrust, []],
    // several rules broken at once are all reported
    ['three rules at once', { certificateBasedAuthentication: true, pushNotifications: true, maxClockSkewSeconds: -1 }, noTrust, ['pushNotifications', 'certificateBasedAuthentication', 'maxClockSkewSeconds']],
  ])('%s', (_case, change, trust, fields) => {
    const problems = findSettingsRuleProblems({ ...defaults(), ...change }, trust, now);
    expect(problems.map((p) => p.field)).toEqual(fields);
    for (const p of problems) expect(p.message.length).toBeGreaterThan(20);
  });
});

describe('applyMergePatch (RFC 7396)', () => {
  it.each([
    ['replaces a value', { a: 1, b: 2 }, { a: 3 }, { a: 3, b: 2 }],
    ['removes with null', { a: 1, b: 2 }, { b: null }, { a: 1 }],
    ['replaces arrays whole', { a: [1, 2] }, { a: [3] }, { a: [3] }],
    ['merges nested objects', { a: { b: 1, c: 2 } }, { a: { c: 3 } }, { a: { b: 1, c: 3 } }],
    ['a non-object patch replaces the target', { a: 1 }, [1], [1]],
  ])('%s', (_case, target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });
});

describe('diffSettings', () => {
  it('lists each changed field with its old and new value', () => {
    const next = { ...defaults(), mode: 'MONITOR' as const, certificateExpiryAlertDays: [30] };
    expect(diffSettings(defaults(), next)).toEqual([
      { field: 'mode', from: 'ENFORCE', to: 'MONITOR' },
      { field: 'certificateExpiryAlertDays', from: [60, 30, 14, 7, 1], to: [30] },
    ]);
    expect(diffSettings(defaults(), defaults())).toEqual([]);
  });
});
