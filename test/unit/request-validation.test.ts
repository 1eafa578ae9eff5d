// The generated validators (schemas/api.ts → lib/domain/generated/validators.js) report every problem; the refusal
// names the first field at fault in the contract's order, whatever order the schema found them in.
import { describe, expect, it } from 'vitest';
import { parseCheckin } from '../../lib/domain/checkin.ts';
import { ValidationError } from '../../lib/domain/errors.ts';
import { validateCheckinRequest, validateSettings, validateSettingsPatch } from '../../lib/domain/generated/validators.js';
import { checkSettingsPatch, DEFAULT_SETTINGS, parseSettingsDocument } from '../../lib/domain/settings.ts';

const valid = { checkinId: 'c-1', deviceId: 'C02XK1JHJG5J', clientTime: '2026-11-25T18:06:03.120Z', serverCertificateVerified: true };

function refusal(run: () => unknown): { code: string; field?: string; message: string } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const { code, field, message } = error as ValidationError;
    return { code, field, message };
  }
  throw new Error('accepted');
}

describe('check-in: several faults, the first in the contract order is named', () => {
  it.each([
    // [case, body, field]
    ['a bad checkinId and a missing deviceId', { ...valid, checkinId: 'a b', deviceId: undefined }, 'checkinId'],
    ['a missing deviceId and a bad phase', { ...valid, deviceId: undefined, phase: 'X' }, 'deviceId'],
    ['30 February and a bad phase', { ...valid, clientTime: '2026-02-30T00:00:00Z', phase: 'X' }, 'clientTime'],
    ['a bad phase and a missing serverCertificateVerified', { ...valid, phase: 'X', serverCertificateVerified: undefined }, 'phase'],
    ['201 packages with a bad one among them, and a long pushTopic', { ...valid, packages: Array.from({ length: 201 }, () => ({ packageId: '!' })), pushTopic: 'x'.repeat(257) }, 'packages'],
    ['packages 2 and 5 at fault', { ...valid, packages: [{ packageId: 'a' }, { packageId: 'b' }, { packageId: 'c', checksum: { type: 'MD5', value: 'z' } }, { packageId: 'd' }, { packageId: 'e' }, {}] }, 'packages[2].checksum.value'],
    ['a package without id and with a bad checksum', { ...valid, packages: [{ checksum: 'x' }] }, 'packages[0].packageId'],
    ['a bad pushTopic alone', { ...valid, pushTopic: 7 }, 'pushTopic'],
  ])('%s: %s', (_case, body, field) => {
    expect(refusal(() => parseCheckin(body)).field).toBe(field);
  });

  it('lower-cases checksums and leaves the input untouched', () => {
    const body = { ...valid, packages: [{ packageId: 'p', checksum: { type: 'MD5', value: 'ABCDEF0123456789ABCDEF0123456789' } }] };
    expect(parseCheckin(body).packages).toEqual([{ packageId: 'p', checksum: { type: 'MD5', value: 'abcdef0123456789abcdef0123456789' } }]);
    expect(body.packages[0].checksum.value).toBe('ABCDEF0123456789ABCDEF0123456789');
  });

  it('the generated validator reports every fault, not only the first', () => {
    expect(validateCheckinRequest({ ...valid, checkinId: '', deviceId: '', phase: 'X' })).toBe(false);
    expect(validateCheckinRequest.errors?.map((issue) => issue.instancePath)).toEqual(['/checkinId', '/deviceId', '/phase']);
  });
});

describe('settings: several faults', () => {
  it.each([
    // [case, document, field, message]
    ['an unknown field and a missing one', { ...DEFAULT_SETTINGS, mode: undefined, extra: 1 }, 'extra', 'Unknown setting "extra"'],
    ['two wrong types', { ...DEFAULT_SETTINGS, mode: 'X', pushNotifications: 'no' }, 'pushNotifications', 'pushNotifications must be true or false'],
    ['a missing field and a later wrong type', { ...DEFAULT_SETTINGS, certificateBasedAuthentication: undefined, maxClockSkewSeconds: '5' }, 'certificateBasedAuthentication', 'certificateBasedAuthentication is required'],
  ])('%s: %s', (_case, document, field, message) => {
    expect(refusal(() => parseSettingsDocument(JSON.parse(JSON.stringify(document))))).toEqual({ code: 'INVALID_SETTINGS', field, message });
  });

  it('a merge patch of the settings: any subset of the fields, each of its type, nothing else', () => {
    expect(validateSettingsPatch({})).toBe(true);
    expect(validateSettingsPatch({ mode: 'MONITOR', maxClockSkewSeconds: 60 })).toBe(true);
    expect(validateSettingsPatch({ mode: null })).toBe(false);
    expect(validateSettingsPatch({ modes: 'MONITOR' })).toBe(false);
    expect(validateSettings({ mode: 'MONITOR' })).toBe(false);
  });

  it.each([
    // [case, patch, field, message]
    ['a list', [], undefined, 'A merge patch of the settings must be a JSON object of the settings to change'],
    ['null', null, undefined, 'A merge patch of the settings must be a JSON object of the settings to change'],
    ['an unknown setting after a wrong type', { mode: 'X', modes: 'MONITOR' }, 'modes', 'Unknown setting "modes"'],
    ['a removed setting', { mode: null }, 'mode', 'mode cannot be removed (every setting is required); send its new value instead'],
    ['two wrong types', { mode: 'X', pushNotifications: 'no' }, 'pushNotifications', 'pushNotifications must be true or false'],
    ['alert days with a string', { certificateExpiryAlertDays: [1, '2'] }, 'certificateExpiryAlertDays', 'certificateExpiryAlertDays must be an array of numbers'],
  ])('a patch with %s is refused naming the setting at fault', (_case, patch, field, message) => {
    const expected = { code: 'INVALID_SETTINGS', field, message };
    expect(refusal(() => checkSettingsPatch(patch))).toEqual(expected);
  });

  it('a patch of known settings of their types passes', () => {
    expect(() => checkSettingsPatch({ mode: 'MONITOR', certificateExpiryAlertDays: [30, 7] })).not.toThrow();
  });
});
