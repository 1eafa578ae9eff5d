// The API types follow the schemas: what the contract allows compiles, what it forbids does not (`npm run
// typecheck` checks the @ts-expect-error lines), and each example here is also a body the schema accepts.
import { describe, expect, it } from 'vitest';
import { validateCheckinRequest, validateSettingsPatch } from '../../lib/domain/generated/validators.js';
import type { CheckinRequest, CheckinResponse, PackageRequest, SettingsPatch, StoredSettings } from '../../lib/http/api-types.ts';

const checkin: CheckinRequest = {
  checkinId: 'c-1',
  deviceId: 'C02XK1JHJG5J',
  clientTime: '2026-11-25T18:06:03.120Z',
  serverCertificateVerified: true,
  packages: [{ packageId: 'p', checksum: { type: 'SHA_256', value: 'ab'.repeat(32) } }, { packageId: 'q', checksum: null }],
};
const patch: SettingsPatch = { mode: 'MONITOR', maxClockSkewSeconds: 60 };
const unregistered: PackageRequest = { name: 'Office', checksum: null };

// @ts-expect-error serverCertificateVerified is required
const withoutVerification: CheckinRequest = { checkinId: 'c-1', deviceId: 'd', clientTime: '2026-11-25T18:06:03Z' };
// @ts-expect-error a mode the contract does not have
const badMode: SettingsPatch = { mode: 'AUDIT' };
// @ts-expect-error a renamed field
const renamed: SettingsPatch = { maxClockSkew: 60 };

const responseMode = (settings: StoredSettings): 'ENFORCE' | 'MONITOR' => settings.settings.mode;
const decision = (answer: CheckinResponse): 'ACCEPT' | 'BLOCK' => answer.decision;

describe('API types', () => {
  it('describe bodies the schemas accept', () => {
    expect(validateCheckinRequest(checkin)).toBe(true);
    expect(validateSettingsPatch(patch)).toBe(true);
    expect(unregistered.checksum).toBeNull();
  });

  it('keep what the contract forbids out at compile time, where the schemas refuse it at run time', () => {
    expect(validateCheckinRequest(withoutVerification)).toBe(false);
    expect(validateSettingsPatch(badMode)).toBe(false);
    expect(validateSettingsPatch(renamed)).toBe(false);
    expect([typeof responseMode, typeof decision]).toEqual(['function', 'function']);
  });
});
