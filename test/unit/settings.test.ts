// The settings document: defaults, strict shape (400), semantic rules (422), merge patch and diff.
import { describe, expect, it } from 'vitest';
import {
  applyMergePatch,
  assertSettingsRules,
  DEFAULT_SETTINGS,
  diffSettings,
  findSettingsRuleProblems,
  parseSettingsDocument,
  type Settings,
  settingsFieldKind,
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
  it('accepts a whole document, as a copy that shares no list with the input', () => {
    const input = defaults();
    const parsed = parseSettingsDocument(input);
    expect(parsed).toEqual(DEFAULT_SETTINGS);
    input.certificateExpiryAlertDays.push(3);
    expect(parsed.certificateExpiryAlertDays).toEqual([60, 30, 14, 7, 1]);
  });

  it.each([
    // [case, document (sent as JSON), field named, message]
    ['an unknown field', { ...defaults(), extra: 1 }, 'extra', 'Unknown setting "extra"'],
    ['a field named like an object property', { ...defaults(), constructor: 5 }, 'constructor', 'Unknown setting "constructor"'],
    ['a field named toString', { ...defaults(), toString: 'x' }, 'toString', 'Unknown setting "toString"'],
    ['a missing field', { ...defaults(), mode: undefined }, 'mode', 'mode is required'],
    ['a null field', { ...defaults(), mode: null }, 'mode', 'mode must be one of ENFORCE, MONITOR'],
    ['a boolean as a string', { ...defaults(), pushNotifications: 'true' }, 'pushNotifications', 'pushNotifications must be true or false'],
    ['a boolean as a number', { ...defaults(), requireImagingAuthentication: 1 }, 'requireImagingAuthentication', 'requireImagingAuthentication must be true or false'],
    ['an unknown enum value', { ...defaults(), sslCertificateVerification: 'SOMETIMES' }, 'sslCertificateVerification', 'sslCertificateVerification must be one of ALWAYS, ALWAYS_EXCEPT_DURING_ENROLLMENT, NEVER'],
    ['an enum value in lower case', { ...defaults(), packageValidation: 'always' }, 'packageValidation', 'packageValidation must be one of ALWAYS, WHEN_CHECKSUM_PRESENT, NEVER'],
    ['a number as a string', { ...defaults(), maxClockSkewSeconds: '300' }, 'maxClockSkewSeconds', 'maxClockSkewSeconds must be a number'],
    ['a number as a list', { ...defaults(), maxClockSkewSeconds: [300] }, 'maxClockSkewSeconds', 'maxClockSkewSeconds must be a number'],
    ['alert days as a number', { ...defaults(), certificateExpiryAlertDays: 30 }, 'certificateExpiryAlertDays', 'certificateExpiryAlertDays must be an array of numbers'],
    ['alert days with a string', { ...defaults(), certificateExpiryAlertDays: [30, '7'] }, 'certificateExpiryAlertDays', 'certificateExpiryAlertDays must be an array of numbers'],
    ['alert days with a null', { ...defaults(), certificateExpiryAlertDays: [30, null] }, 'certificateExpiryAlertDays', 'certificateExpiryAlertDays must be an array of numbers'],
  ])('refuses %s with 400', (_case, document, field, message) => {
    const input = JSON.parse(JSON.stringify(document));
    expect(() => parseSettingsDocument(input)).toThrow(expect.objectContaining({ statusCode: 400, code: 'INVALID_SETTINGS', field, message }));
  });

  it.each([
    // [case, body]
    ['a list', []],
    ['a list of settings', [defaults()]],
    ['null', null],
    ['a string', 'ENFORCE'],
    ['a number', 300],
  ])('refuses %s as a whole: the settings must be a JSON object', (_case, body) => {
    expect(() => parseSettingsDocument(body)).toThrow(
      expect.objectContaining({ statusCode: 400, code: 'INVALID_SETTINGS', field: undefined, message: 'The settings must be a JSON object' }),
    );
  });

  it.each([
    // [field, how the CLI should read a value for it]
    ['mode', { type: 'enum', values: ['ENFORCE', 'MONITOR'] }],
    ['pushNotifications', { type: 'boolean' }],
    ['maxClockSkewSeconds', { type: 'number' }],
    ['certificateExpiryAlertDays', { type: 'number[]' }],
    ['constructor', undefined],
    ['unknown', undefined],
  ])('settingsFieldKind(%s)', (field, kind) => {
    expect(settingsFieldKind(field)).toEqual(kind);
  });
});

describe('findSettingsRuleProblems', () => {
  const future = '2027-06-01T00:00:00.000Z';
  const past = '2026-01-01T00:00:00.000Z';
  it.each<[string, Partial<Settings>, TrustFacts, string[]]>([
    // [case, settings changed from the defaults, stored trust material, fields with a problem]
    // sslCertificateVerification ALWAYS needs a server certificate devices can verify
    ['ALWAYS with a self-signed server certificate', { sslCertificateVerification: 'ALWAYS' }, { deviceCaCount: 0, serverCertificateSelfSigned: true }, ['sslCertificateVerification']],
    ['ALWAYS with a CA-issued server certificate', { sslCertificateVerification: 'ALWAYS' }, { deviceCaCount: 0, serverCertificateSelfSigned: false }, []],
    ['ALWAYS without a stored server certificate', { sslCertificateVerification: 'ALWAYS' }, noTrust, []],
    ['ALWAYS_EXCEPT_DURING_ENROLLMENT with a self-signed one', {}, { deviceCaCount: 0, serverCertificateSelfSigned: true }, []],
    ['NEVER with a self-signed one', { sslCertificateVerification: 'NEVER' }, { deviceCaCount: 0, serverCertificateSelfSigned: true }, []],
    // push notifications need a stored, unexpired push certificate
    ['push without a certificate', { pushNotifications: true }, noTrust, ['pushNotifications']],
    ['push with an expired certificate', { pushNotifications: true }, { deviceCaCount: 0, pushCertificateNotAfter: past }, ['pushNotifications']],
    ['push with a certificate expiring this instant', { pushNotifications: true }, { deviceCaCount: 0, pushCertificateNotAfter: now.toISOString() }, ['pushNotifications']],
    ['push with a certificate valid one more second', { pushNotifications: true }, { deviceCaCount: 0, pushCertificateNotAfter: '2026-11-25T18:00:01.000Z' }, []],
    ['push with a valid certificate', { pushNotifications: true }, { deviceCaCount: 0, pushCertificateNotAfter: future }, []],
    ['push off, without a certificate', { pushNotifications: false }, noTrust, []],
    // certificate-based authentication needs a device CA
    ['certificate auth without a CA', { certificateBasedAuthentication: true }, noTrust, ['certificateBasedAuthentication']],
    ['certificate auth with a CA', { certificateBasedAuthentication: true }, { deviceCaCount: 1 }, []],
    ['certificate auth with three CAs', { certificateBasedAuthentication: true }, { deviceCaCount: 3 }, []],
    // ranges
    ['skew -1', { maxClockSkewSeconds: -1 }, noTrust, ['maxClockSkewSeconds']],
    ['skew 0', { maxClockSkewSeconds: 0 }, noTrust, ['maxClockSkewSeconds']],
    ['skew 1', { maxClockSkewSeconds: 1 }, noTrust, []],
    ['skew 86400', { maxClockSkewSeconds: 86400 }, noTrust, []],
    ['skew 86401', { maxClockSkewSeconds: 86401 }, noTrust, ['maxClockSkewSeconds']],
    ['skew 2.5', { maxClockSkewSeconds: 2.5 }, noTrust, ['maxClockSkewSeconds']],
    ['no alert days', { certificateExpiryAlertDays: [] }, noTrust, ['certificateExpiryAlertDays']],
    ['one alert day', { certificateExpiryAlertDays: [7] }, noTrust, []],
    ['10 alert days', { certificateExpiryAlertDays: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }, noTrust, []],
    ['11 alert days', { certificateExpiryAlertDays: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }, noTrust, ['certificateExpiryAlertDays']],
    ['duplicate alert days', { certificateExpiryAlertDays: [7, 7] }, noTrust, ['certificateExpiryAlertDays']],
    ['alert day 366', { certificateExpiryAlertDays: [366] }, noTrust, ['certificateExpiryAlertDays']],
    ['alert day -1', { certificateExpiryAlertDays: [30, -1] }, noTrust, ['certificateExpiryAlertDays']],
    ['alert day 1.5', { certificateExpiryAlertDays: [30, 1.5] }, noTrust, ['certificateExpiryAlertDays']],
    ['one good alert day and one out of range', { certificateExpiryAlertDays: [7, 400] }, noTrust, ['certificateExpiryAlertDays']],
    ['alert day 0 and 365', { certificateExpiryAlertDays: [0, 365] }, noTrust, []],
    // several rules broken at once are all reported
    ['three rules at once', { certificateBasedAuthentication: true, pushNotifications: true, maxClockSkewSeconds: -1 }, noTrust, ['pushNotifications', 'certificateBasedAuthentication', 'maxClockSkewSeconds']],
  ])('%s', (_case, change, trust, fields) => {
    const problems = findSettingsRuleProblems({ ...defaults(), ...change }, trust, now);
    expect(problems.map((p) => p.field)).toEqual(fields);
  });

  it('says, for each broken rule, what to do about it', () => {
    const everything: Settings = {
      ...defaults(),
      sslCertificateVerification: 'ALWAYS',
      pushNotifications: true,
      certificateBasedAuthentication: true,
      maxClockSkewSeconds: 0,
      certificateExpiryAlertDays: [],
    };
    expect(findSettingsRuleProblems(everything, { deviceCaCount: 0, serverCertificateSelfSigned: true }, now)).toEqual([
      {
        field: 'sslCertificateVerification',
        message:
          'The stored server certificate is self-signed, so devices cannot verify it during enrollment; use ALWAYS_EXCEPT_DURING_ENROLLMENT or upload a CA-issued server certificate',
      },
      { field: 'pushNotifications', message: 'Push notifications need a push certificate; upload one first' },
      { field: 'certificateBasedAuthentication', message: 'Certificate-based authentication needs at least one device CA certificate; upload the device CA first' },
      { field: 'maxClockSkewSeconds', message: 'maxClockSkewSeconds must be an integer from 1 to 86400' },
      { field: 'certificateExpiryAlertDays', message: 'certificateExpiryAlertDays must be 1 to 10 distinct integers from 0 to 365' },
    ]);
    expect(findSettingsRuleProblems({ ...defaults(), pushNotifications: true }, { deviceCaCount: 0, pushCertificateNotAfter: past }, now)).toEqual([
      { field: 'pushNotifications', message: 'The stored push certificate has expired; upload a renewed one first' },
    ]);
  });
});

describe('assertSettingsRules', () => {
  it('refuses settings that break a rule with 422, every broken rule in details, and lets good ones pass', () => {
    const broken = { ...defaults(), certificateBasedAuthentication: true, maxClockSkewSeconds: 0 };
    expect(() => assertSettingsRules(broken, noTrust, now)).toThrow(
      expect.objectContaining({
        statusCode: 422,
        code: 'INVALID_SETTINGS',
        message: 'The settings break the rules listed in details; nothing was changed',
        details: findSettingsRuleProblems(broken, noTrust, now),
      }),
    );
    expect(() => assertSettingsRules(defaults(), noTrust, now)).not.toThrow();
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
