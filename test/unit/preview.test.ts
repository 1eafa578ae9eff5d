// The impact preview (API.md §3): devices' latest observations judged under the current and the proposed settings.
// Observations are made inside the tests; each case states the whole answer it expects.
import { describe, expect, it } from 'vitest';
import type { ExemptionTerms } from '../../lib/domain/evaluate.ts';
import type { IdentityObservation, Observations, PackageObservation } from '../../lib/domain/observations.ts';
import { ImpactPreviewer, PREVIEW_DEVICE_LIST_LIMIT } from '../../lib/domain/preview.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../lib/domain/settings.ts';

const now = new Date('2026-12-01T12:00:00.000Z');
const since = '2026-11-01T12:00:00.000Z';
const seen = '2026-12-01T11:00:00.000Z';

const NO_CERTIFICATE: IdentityObservation = { way: 'NONE', violations: [{ code: 'CLIENT_CERT_MISSING', message: 'No device certificate was presented.' }] };
const VALID_CERTIFICATE: IdentityObservation = { way: 'MTLS', fingerprint: 'ab'.repeat(32), violations: [] };

function observed(overrides: { skewSeconds?: number; verified?: boolean; phase?: 'CHECKIN' | 'ENROLLMENT'; packages?: PackageObservation[]; identity?: IdentityObservation } = {}): Observations {
  const skewSeconds = overrides.skewSeconds ?? 0;
  return {
    clientTime: new Date(now.getTime() + skewSeconds * 1000).toISOString(),
    serverTime: now.toISOString(),
    skewSeconds,
    skewMilliseconds: skewSeconds * 1000,
    phase: overrides.phase ?? 'CHECKIN',
    serverCertificateVerified: overrides.verified ?? true,
    packages: overrides.packages ?? [],
    identity: overrides.identity ?? NO_CERTIFICATE,
  };
}

const settings = (overrides: Partial<Settings> = {}): Settings => ({ ...DEFAULT_SETTINGS, ...overrides }) as Settings;

function preview(devices: [string, Observations][], current: Settings, proposed: Settings, exemptions = new Map<string, ExemptionTerms>()) {
  const previewer = new ImpactPreviewer({ current, proposed, exemptions, now, since });
  for (const [deviceId, facts] of devices) previewer.add(deviceId, seen, facts);
  return previewer.result();
}

const none = { count: 0, byViolation: {}, devices: [] };

describe('impact preview', () => {
  it('shortening the clock skew to 100 s blocks the devices between 100 and 300 s, not those already blocked', () => {
    const devices: [string, Observations][] = [
      ['mac-50', observed({ skewSeconds: 50 })],
      ['mac-200', observed({ skewSeconds: -200 })],
      ['mac-400', observed({ skewSeconds: 400 })],
    ];
    expect(preview(devices, settings({ maxClockSkewSeconds: 300 }), settings({ maxClockSkewSeconds: 100 }))).toEqual({
      devices: 3,
      since,
      current: { blocked: 1 },
      proposed: { blocked: 2 },
      newlyBlocked: { count: 1, byViolation: { CLOCK_SKEW_EXCEEDED: 1 }, devices: [{ deviceId: 'mac-200', violations: ['CLOCK_SKEW_EXCEEDED'], lastCheckinAt: seen }] },
      newlyAccepted: none,
    });
  });

  it('loosening it accepts the devices it blocked, listed with what blocked them', () => {
    const devices: [string, Observations][] = [['mac-400', observed({ skewSeconds: 400 })], ['mac-50', observed({ skewSeconds: 50 })]];
    expect(preview(devices, settings({ maxClockSkewSeconds: 300 }), settings({ maxClockSkewSeconds: 600 }))).toEqual({
      devices: 2,
      since,
      current: { blocked: 1 },
      proposed: { blocked: 0 },
      newlyBlocked: none,
      newlyAccepted: { count: 1, byViolation: { CLOCK_SKEW_EXCEEDED: 1 }, devices: [{ deviceId: 'mac-400', violations: ['CLOCK_SKEW_EXCEEDED'], lastCheckinAt: seen }] },
    });
  });

  it('turning certificate-based authentication on blocks the devices that presented no certificate, not those with a valid one', () => {
    const devices: [string, Observations][] = [['with-cert', observed({ identity: VALID_CERTIFICATE })], ['without-cert', observed()]];
    const result = preview(devices, settings(), settings({ certificateBasedAuthentication: true }));
    expect(result.newlyBlocked).toEqual({ count: 1, byViolation: { CLIENT_CERT_MISSING: 1 }, devices: [{ deviceId: 'without-cert', violations: ['CLIENT_CERT_MISSING'], lastCheckinAt: seen }] });
    expect(result.proposed).toEqual({ blocked: 1 });
  });

  it.each([
    // [package outcomes observed, codes under packageValidation ALWAYS (each once per device)]
    [['NOT_REGISTERED'], ['PACKAGE_CHECKSUM_UNAVAILABLE']],
    [['NO_CHECKSUM_ON_RECORD', 'NOT_REGISTERED'], ['PACKAGE_CHECKSUM_UNAVAILABLE']],
    [['MISSING'], ['PACKAGE_CHECKSUM_MISSING']],
    [['WRONG_TYPE'], ['PACKAGE_CHECKSUM_MISSING']],
    [['MISMATCH', 'NOT_REGISTERED'], ['PACKAGE_CHECKSUM_MISMATCH', 'PACKAGE_CHECKSUM_UNAVAILABLE']],
    [['MATCH'], []],
  ] as const)('packageValidation NEVER → ALWAYS with packages %j blocks for %j', (outcomes, codes) => {
    const packages = outcomes.map((outcome, i): PackageObservation => ({ packageId: `p${i}`, outcome, expectedChecksumType: 'SHA_256' }));
    const result = preview([['mac', observed({ packages })]], settings({ packageValidation: 'NEVER' }), settings({ packageValidation: 'ALWAYS' }));
    expect(result.newlyBlocked).toEqual(
      codes.length === 0 ? none : { count: 1, byViolation: Object.fromEntries(codes.map((c) => [c, 1])), devices: [{ deviceId: 'mac', violations: codes, lastCheckinAt: seen }] },
    );
  });

  it.each([
    // [case, the device's exemption, newly blocked count]
    ['an exemption in force keeps the device accepted', { violations: ['SERVER_CERT_NOT_VERIFIED'], until: '2026-12-02T00:00:00Z', reason: 'repair' }, 0],
    ['an expired exemption does not', { violations: ['SERVER_CERT_NOT_VERIFIED'], until: '2026-12-01T11:59:59Z', reason: 'repair' }, 1],
    ['an exemption for another code does not', { violations: ['CLOCK_SKEW_EXCEEDED'], until: '2026-12-02T00:00:00Z', reason: 'repair' }, 1],
  ] as const)('%s', (_case, exemption, count) => {
    const result = preview(
      [['mac', observed({ verified: false })]],
      settings({ sslCertificateVerification: 'NEVER' }),
      settings({ sslCertificateVerification: 'ALWAYS' }),
      new Map([['mac', { ...exemption, violations: [...exemption.violations] }]]),
    );
    expect(result.newlyBlocked.count).toBe(count);
    expect(result.proposed.blocked).toBe(count);
  });

  it.each([
    // [case, current, proposed, phase, newly blocked]
    ['ALWAYS_EXCEPT_DURING_ENROLLMENT → ALWAYS blocks an unverified enrollment', 'ALWAYS_EXCEPT_DURING_ENROLLMENT', 'ALWAYS', 'ENROLLMENT', 1],
    ['NEVER → ALWAYS_EXCEPT_DURING_ENROLLMENT spares an unverified enrollment', 'NEVER', 'ALWAYS_EXCEPT_DURING_ENROLLMENT', 'ENROLLMENT', 0],
    ['NEVER → ALWAYS_EXCEPT_DURING_ENROLLMENT blocks an unverified check-in', 'NEVER', 'ALWAYS_EXCEPT_DURING_ENROLLMENT', 'CHECKIN', 1],
  ] as const)('%s', (_case, current, proposed, phase, count) => {
    const result = preview([['mac', observed({ verified: false, phase })]], settings({ sslCertificateVerification: current }), settings({ sslCertificateVerification: proposed }));
    expect(result.newlyBlocked.count).toBe(count);
  });

  it('MONITOR blocks nobody: switching to ENFORCE previews every violating device as newly blocked', () => {
    const devices: [string, Observations][] = [['a', observed({ skewSeconds: 900 })], ['b', observed({ verified: false })], ['c', observed()]];
    const result = preview(devices, settings({ mode: 'MONITOR', sslCertificateVerification: 'ALWAYS' }), settings({ mode: 'ENFORCE', sslCertificateVerification: 'ALWAYS' }));
    expect(result).toMatchObject({ devices: 3, current: { blocked: 0 }, proposed: { blocked: 2 } });
    expect(result.newlyBlocked.byViolation).toEqual({ CLOCK_SKEW_EXCEEDED: 1, SERVER_CERT_NOT_VERIFIED: 1 });
    expect(result.newlyBlocked.devices.map((d) => d.deviceId)).toEqual(['a', 'b']);
  });

  it(`counts every device but lists only the first ${PREVIEW_DEVICE_LIST_LIMIT} by deviceId, whatever order they come in`, () => {
    const ids = Array.from({ length: 250 }, (_, i) => `mac-${String(i).padStart(3, '0')}`);
    const shuffled = [...ids].sort((a, b) => Number(a.slice(-1)) - Number(b.slice(-1)) || b.localeCompare(a));
    const result = preview(
      shuffled.map((id) => [id, observed({ skewSeconds: 200 })]),
      settings({ maxClockSkewSeconds: 300 }),
      settings({ maxClockSkewSeconds: 100 }),
    );
    expect(result.newlyBlocked.count).toBe(250);
    expect(result.newlyBlocked.byViolation).toEqual({ CLOCK_SKEW_EXCEEDED: 250 });
    expect(result.newlyBlocked.devices.map((d) => d.deviceId)).toEqual(ids.slice(0, PREVIEW_DEVICE_LIST_LIMIT));
  });

  it(`lists all of exactly ${PREVIEW_DEVICE_LIST_LIMIT} devices arriving in reverse order (none dropped early)`, () => {
    const ids = Array.from({ length: PREVIEW_DEVICE_LIST_LIMIT }, (_, i) => `mac-${String(i).padStart(3, '0')}`);
    const result = preview(
      [...ids].reverse().map((id) => [id, observed({ skewSeconds: 200 })]),
      settings({ maxClockSkewSeconds: 300 }),
      settings({ maxClockSkewSeconds: 100 }),
    );
    expect(result.newlyBlocked.count).toBe(PREVIEW_DEVICE_LIST_LIMIT);
    expect(result.newlyBlocked.devices.map((d) => d.deviceId)).toEqual(ids);
  });

  it('names the violations in code order, whichever device showed one first (the same answer for the same fleet)', () => {
    // First seen out of code order: a clock skew, then a server certificate not verified, then no certificate.
    const devices: [string, Observations][] = [
      ['a', observed({ skewSeconds: 900, identity: VALID_CERTIFICATE })],
      ['b', observed({ verified: false, identity: VALID_CERTIFICATE })],
      ['c', observed()],
      ['d', observed({ skewSeconds: -900, identity: VALID_CERTIFICATE })],
    ];
    const strict = { sslCertificateVerification: 'ALWAYS', certificateBasedAuthentication: true } as const;
    const result = preview(devices, settings({ mode: 'MONITOR', ...strict }), settings({ mode: 'ENFORCE', ...strict }));
    expect(Object.entries(result.newlyBlocked.byViolation)).toEqual([
      ['CLIENT_CERT_MISSING', 1],
      ['CLOCK_SKEW_EXCEEDED', 2],
      ['SERVER_CERT_NOT_VERIFIED', 1],
    ]);
  });

  it('an unchanged document previews no difference', () => {
    const devices: [string, Observations][] = [['a', observed({ skewSeconds: 900 })], ['b', observed()]];
    expect(preview(devices, settings(), settings())).toEqual({ devices: 2, since, current: { blocked: 1 }, proposed: { blocked: 1 }, newlyBlocked: none, newlyAccepted: none });
  });
});
