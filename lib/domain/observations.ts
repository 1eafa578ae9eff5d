// Observe (API.md §1 "Observations"): what a check-in shows, whatever the settings. The rules in ./rules/ judge these
// facts against settings; the check-in judges them under the current settings, the impact preview under proposed
// ones, so one check-in's observations must hold everything any setting's rule could ask about.
import type { Checkin, CheckinPhase, ChecksumType } from './checkin.ts';
import type { Finding } from './errors.ts';
import type { RegisteredPackage } from './rules/package-checksums.ts';

/**
 * A reported package against the registered ones at the check-in's time:
 * - MATCH, MISMATCH: registered with a checksum, reported with one of that type, equal or not;
 * - MISSING: registered with a checksum, reported without any checksum;
 * - WRONG_TYPE: registered with a checksum, reported with one of another type;
 * - NOT_REGISTERED: not registered at all;
 * - NO_CHECKSUM_ON_RECORD: registered without a checksum.
 */
export type PackageOutcome = 'MATCH' | 'MISMATCH' | 'MISSING' | 'WRONG_TYPE' | 'NOT_REGISTERED' | 'NO_CHECKSUM_ON_RECORD';

export interface PackageObservation {
  packageId: string;
  /** The type of the checksum the device reported, if any. */
  checksumType?: ChecksumType;
  outcome: PackageOutcome;
  /** The registered checksum's type, when one is registered (the message of a missing checksum names it). */
  expectedChecksumType?: ChecksumType;
}

/** The way the device identified itself (device-identity.ts), or NONE when it presented nothing. */
export interface IdentityObservation {
  way: string;
  /** SHA-256 of the leaf certificate, when one was parsed. */
  fingerprint?: string;
  /** What certificate-based authentication would refuse (CLIENT_CERT_*, CLIENT_SIGNATURE_*); empty when proven. */
  violations: Finding[];
}

/** What a check-in showed, recorded with its decision (`facts`) and with the device's status. */
export interface Observations {
  clientTime: string;
  /** The server's time the check-in was judged at. */
  serverTime: string;
  /** Device minus server, in seconds, one decimal. */
  skewSeconds: number;
  /** Device minus server, in milliseconds (fraction kept): the limit is compared with this, not the rounded value. */
  skewMilliseconds: number;
  phase: CheckinPhase;
  serverCertificateVerified: boolean;
  packages: PackageObservation[];
  pushTopic?: string;
  /** The push certificate's topic at the time, when one was stored. */
  expectedPushTopic?: string;
  identity: IdentityObservation;
}

export interface ObservationContext {
  now: Date;
  packages: ReadonlyMap<string, RegisteredPackage>;
  pushCertificateTopic?: string;
  /** The device's identity as verified against the trust material (computed whenever something was presented). */
  identity: IdentityObservation;
}

/** Device minus server, in seconds, rounded to one decimal. */
export function roundSkewSeconds(skewMilliseconds: number): number {
  return Math.round(skewMilliseconds / 100) / 10;
}

export function observe(checkin: Checkin, context: ObservationContext): Observations {
  const skewMilliseconds = checkin.clientTimeMs - context.now.getTime();
  return {
    clientTime: checkin.clientTime,
    serverTime: context.now.toISOString(),
    skewSeconds: roundSkewSeconds(skewMilliseconds),
    skewMilliseconds,
    phase: checkin.phase,
    serverCertificateVerified: checkin.serverCertificateVerified,
    packages: checkin.packages.map((reported) => observePackage(reported.packageId, reported.checksum, context.packages.get(reported.packageId))),
    ...(checkin.pushTopic === undefined ? {} : { pushTopic: checkin.pushTopic }),
    ...(context.pushCertificateTopic === undefined ? {} : { expectedPushTopic: context.pushCertificateTopic }),
    identity: context.identity,
  };
}

function observePackage(
  packageId: string,
  reported: { type: ChecksumType; value: string } | undefined,
  registered: RegisteredPackage | undefined,
): PackageObservation {
  const checksumType = reported ? { checksumType: reported.type } : {};
  if (!registered) return { packageId, ...checksumType, outcome: 'NOT_REGISTERED' };
  const expected = registered.checksum;
  if (expected === null) return { packageId, ...checksumType, outcome: 'NO_CHECKSUM_ON_RECORD' };
  const outcome: PackageOutcome = !reported ? 'MISSING' : reported.type !== expected.type ? 'WRONG_TYPE' : reported.value === expected.value ? 'MATCH' : 'MISMATCH';
  return { packageId, ...checksumType, outcome, expectedChecksumType: expected.type };
}
