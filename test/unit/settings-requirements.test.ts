// The one table of what each setting requires of the trust material, as the trust writes and the settings write's
// guards read it (what it says of each setting's own value and of a settings write: settings.test.ts).
import { describe, expect, it } from 'vitest';
import { checkTrustChange, SETTING_REQUIREMENTS, type TrustFacts, trustItemsReliedOn } from '../../lib/domain/settings-requirements.ts';
import { DEFAULT_SETTINGS, SETTINGS_FIELDS, type Settings } from '../../lib/domain/settings.ts';

const now = new Date('2026-11-25T18:00:00.000Z');
const settings = (change: Partial<Settings>): Settings => ({ ...structuredClone(DEFAULT_SETTINGS), ...change }) as Settings;
const allThere: TrustFacts = { deviceCaCount: 1, serverCertificateSelfSigned: false, pushCertificateNotAfter: '2030-01-01T00:00:00.000Z' };

function refusalOf(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('SETTING_REQUIREMENTS', () => {
  it('has one entry per setting', () => {
    expect(Object.keys(SETTING_REQUIREMENTS).sort()).toEqual([...SETTINGS_FIELDS].sort());
  });
});

describe('trustItemsReliedOn (what a settings write expects to find unchanged when it lands)', () => {
  it.each<[Partial<Settings>, string[]]>([
    // [settings, trust items their rules read]
    [{}, []],
    [{ sslCertificateVerification: 'ALWAYS' }, ['serverCertificate']],
    [{ sslCertificateVerification: 'NEVER', pushNotifications: true }, ['pushCertificate']],
    [{ certificateBasedAuthentication: true, pushNotifications: true, sslCertificateVerification: 'ALWAYS' }, ['serverCertificate', 'pushCertificate', 'deviceCas']],
  ])('%j → %j', (change, items) => {
    expect(trustItemsReliedOn(settings(change))).toEqual(items);
  });
});

describe('checkTrustChange (may this change of one trust item be made under these settings?)', () => {
  it.each<[string, Partial<Settings>, 'deviceCas' | 'serverCertificate' | 'pushCertificate', Partial<TrustFacts>, object | undefined]>([
    // [case, settings, item changed, trust facts after the change, refusal]
    ['a self-signed server certificate while ALWAYS', { sslCertificateVerification: 'ALWAYS' }, 'serverCertificate', { serverCertificateSelfSigned: true }, { statusCode: 422, code: 'INVALID_SETTINGS' }],
    ['a self-signed server certificate otherwise', {}, 'serverCertificate', { serverCertificateSelfSigned: true }, undefined],
    ['a CA-issued server certificate while ALWAYS', { sslCertificateVerification: 'ALWAYS' }, 'serverCertificate', {}, undefined],
    ['no push certificate while push notifications are on', { pushNotifications: true }, 'pushCertificate', { pushCertificateNotAfter: undefined }, { statusCode: 409, code: 'PUSH_CERTIFICATE_IN_USE' }],
    ['no push certificate while they are off', {}, 'pushCertificate', { pushCertificateNotAfter: undefined }, undefined],
    ['a renewed push certificate while they are on', { pushNotifications: true }, 'pushCertificate', {}, undefined],
    ['no device CA while certificate-based authentication is on', { certificateBasedAuthentication: true }, 'deviceCas', { deviceCaCount: 0 }, { statusCode: 422, code: 'INVALID_SETTINGS' }],
    ['a replaced device CA set while it is on', { certificateBasedAuthentication: true }, 'deviceCas', { deviceCaCount: 2 }, undefined],
    // Only the rule on the item changed is judged: a push certificate expired on its own does not block a server certificate.
    ['another item while push waits on a renewal', { pushNotifications: true }, 'serverCertificate', { pushCertificateNotAfter: '2020-01-01T00:00:00.000Z' }, undefined],
  ])('%s', (_case, change, item, after, refusal) => {
    const error = refusalOf(() => checkTrustChange(settings(change), item, { ...allThere, ...after }, now));
    expect(error).toEqual(refusal === undefined ? undefined : expect.objectContaining(refusal));
  });

  it('names the setting to turn off when the last device CA would go while certificate-based authentication is on', () => {
    const error = refusalOf(() => checkTrustChange(settings({ certificateBasedAuthentication: true }), 'deviceCas', { ...allThere, deviceCaCount: 0 }, now));
    expect(error).toMatchObject({
      statusCode: 422,
      code: 'INVALID_SETTINGS',
      details: [{ field: 'certificateBasedAuthentication', message: 'Set certificateBasedAuthentication to false first, or keep at least one device CA certificate' }],
    });
  });

  it('says that nothing was changed when the last device CA would go while certificate-based authentication is on', () => {
    const lastCaGone = { ...allThere, deviceCaCount: 0 };
    const error = refusalOf(() => checkTrustChange(settings({ certificateBasedAuthentication: true }), 'deviceCas', lastCaGone, now));
    expect(error).toMatchObject({
      message: 'Certificate-based authentication needs at least one device CA certificate; nothing was changed',
    });
  });
});
