// Judges one check-in against the settings: every rule runs, every violation is reported.
import type { Checkin } from './checkin.ts';
import type { Finding } from './errors.ts';
import { applyExemption, type Exemption, expiredExemptionCovering, type ExpiredExemption } from './exemptions.ts';
import { checkClockSkew, skewSeconds } from './rules/clock-skew.ts';
import { checkPackageChecksums, type RegisteredPackage } from './rules/package-checksums.ts';
import { checkPushTopic } from './rules/push-topic.ts';
import { checkServerCertificateVerification } from './rules/server-certificate.ts';
import type { Settings } from './settings.ts';

export type Decision = 'ACCEPT' | 'BLOCK';

/** The device certificate check's outcome (lib/domain/device-certificates.ts). */
export interface DeviceCertificateCheck {
  way: string;
  violations: Finding[];
  fingerprint?: string;
}

export interface EvaluationContext {
  settings: Settings;
  settingsVersion: number;
  packages: ReadonlyMap<string, RegisteredPackage>;
  pushCertificateTopic?: string;
  /** The device's stored exemption, if any; it applies only while in force at the check-in's instant. */
  exemption?: Pick<Exemption, 'violations' | 'until' | 'reason'>;
  /** Runs the certificate check; called only when certificate-based authentication is on. */
  checkDeviceCertificate: () => DeviceCertificateCheck;
}

/** What the decision was based on, recorded with it. */
export interface EvaluationFacts {
  clientTime: string;
  serverTime: string;
  skewSeconds: number;
  phase: string;
  serverCertificateVerified: boolean;
  packages: { packageId: string; checksumType?: string }[];
  pushTopic?: string;
  identity?: { way: string; fingerprint?: string };
}

export interface Evaluation {
  decision: Decision;
  /** False in MONITOR mode: violations are reported but the device is not blocked. */
  enforced: boolean;
  /**
   * With certificate-based authentication on: whether the request proved it is the device (no identity violation).
   * Undefined with the setting off.
   */
  authenticated?: boolean;
  violations: Finding[];
  /** Violations the device's active exemption covers: reported, but they do not block. */
  exempted: Finding[];
  /** A blocked check-in: the device's exemption that has run out and listed some of these violations' codes. */
  exemptionExpired?: ExpiredExemption;
  warnings: Finding[];
  settingsVersion: number;
  evaluatedAt: string;
  facts: EvaluationFacts;
}

/** The codes of the identity check (CLIENT_CERT_*, CLIENT_SIGNATURE_*): a request with any did not prove who it is. */
export function isIdentityViolationCode(code: string): boolean {
  return code.startsWith('CLIENT_CERT_') || code.startsWith('CLIENT_SIGNATURE_');
}

export function evaluateCheckin(checkin: Checkin, context: EvaluationContext, now: Date): Evaluation {
  const { settings } = context;
  const violations: Finding[] = [];
  let identity: EvaluationFacts['identity'];
  let authenticated: boolean | undefined;

  violations.push(...checkClockSkew(checkin.clientTimeMs, now, settings.maxClockSkewSeconds));
  if (settings.certificateBasedAuthentication) {
    const check = context.checkDeviceCertificate();
    identity = { way: check.way, fingerprint: check.fingerprint };
    authenticated = check.violations.length === 0;
    violations.push(...check.violations);
  }
  violations.push(...checkServerCertificateVerification(settings.sslCertificateVerification, checkin.phase, checkin.serverCertificateVerified));
  violations.push(...checkPackageChecksums(settings.packageValidation, checkin.packages, context.packages));
  const { violations: blocking, exempted } = applyExemption(violations, context.exemption, now);
  const warnings = checkPushTopic(settings.pushNotifications, checkin.pushTopic, context.pushCertificateTopic);

  const enforced = settings.mode === 'ENFORCE';
  const decision: Decision = enforced && blocking.length > 0 ? 'BLOCK' : 'ACCEPT';
  const exemptionExpired = decision === 'BLOCK' ? expiredExemptionCovering(blocking, context.exemption, now) : undefined;
  return {
    decision,
    enforced,
    authenticated,
    violations: blocking,
    exempted,
    ...(exemptionExpired ? { exemptionExpired } : {}),
    warnings,
    settingsVersion: context.settingsVersion,
    evaluatedAt: now.toISOString(),
    facts: {
      clientTime: checkin.clientTime,
      serverTime: now.toISOString(),
      skewSeconds: skewSeconds(checkin.clientTimeMs, now),
      phase: checkin.phase,
      serverCertificateVerified: checkin.serverCertificateVerified,
      packages: checkin.packages.map((p) => ({ packageId: p.packageId, checksumType: p.checksum?.type })),
      pushTopic: checkin.pushTopic,
      identity,
    },
  };
}
