// Judge (API.md §1 "Evaluation"): applies settings to a check-in's observations. Every rule runs, every violation is
// reported. The check-in judges under the current settings; the impact preview (preview.ts) judges the same
// observations under proposed ones.
import type { Checkin } from './checkin.ts';
import type { Finding } from './errors.ts';
import { applyExemption, type Exemption, expiredExemptionCovering, type ExpiredExemption } from './exemptions.ts';
import { type IdentityObservation, type Observations, observe } from './observations.ts';
import { checkClockSkew } from './rules/clock-skew.ts';
import { checkDeviceIdentity } from './rules/device-certificate.ts';
import { checkPackageChecksums, type RegisteredPackage } from './rules/package-checksums.ts';
import { checkPushTopic } from './rules/push-topic.ts';
import { checkServerCertificateVerification } from './rules/server-certificate.ts';
import type { Settings } from './settings.ts';

export type Decision = 'ACCEPT' | 'BLOCK';

/** A device's exemption as judging needs it; it applies only while in force at the instant judged. */
export type ExemptionTerms = Pick<Exemption, 'violations' | 'until' | 'reason'>;

export interface Judgement {
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
}

export interface Evaluation extends Judgement {
  settingsVersion: number;
  evaluatedAt: string;
  /** What the decision was based on (recorded as the decision's `facts`). */
  facts: Observations;
}

/** The codes of the identity check (CLIENT_CERT_*, CLIENT_SIGNATURE_*): a request with any did not prove who it is. */
export function isIdentityViolationCode(code: string): boolean {
  return code.startsWith('CLIENT_CERT_') || code.startsWith('CLIENT_SIGNATURE_');
}

/**
 * The settings applied to observations, in the contract's fixed order (clock skew, device certificate, server
 * certificate verification, packages), then the exemption in force at `now`. Pure: the same observations, settings,
 * exemption and instant always give the same judgement.
 */
export function judge(observed: Observations, settings: Settings, exemption: ExemptionTerms | undefined, now: Date): Judgement {
  const identityViolations = checkDeviceIdentity(settings.certificateBasedAuthentication, observed.identity);
  const violations: Finding[] = [
    ...checkClockSkew(observed, settings.maxClockSkewSeconds),
    ...identityViolations,
    ...checkServerCertificateVerification(settings.sslCertificateVerification, observed),
    ...checkPackageChecksums(settings.packageValidation, observed.packages),
  ];
  const { violations: blocking, exempted } = applyExemption(violations, exemption, now);
  const warnings = checkPushTopic(settings.pushNotifications, observed);

  const enforced = settings.mode === 'ENFORCE';
  const decision: Decision = enforced && blocking.length > 0 ? 'BLOCK' : 'ACCEPT';
  const exemptionExpired = decision === 'BLOCK' ? expiredExemptionCovering(blocking, exemption, now) : undefined;
  return {
    decision,
    enforced,
    ...(settings.certificateBasedAuthentication ? { authenticated: identityViolations.length === 0 } : {}),
    violations: blocking,
    exempted,
    ...(exemptionExpired ? { exemptionExpired } : {}),
    warnings,
  };
}

export interface EvaluationContext {
  settings: Settings;
  settingsVersion: number;
  packages: ReadonlyMap<string, RegisteredPackage>;
  pushCertificateTopic?: string;
  /** The device's stored exemption, if any; it applies only while in force at the check-in's instant. */
  exemption?: ExemptionTerms;
  /** The device's identity as verified against the trust material, whatever the settings (observed, then judged). */
  identity: IdentityObservation;
}

/** Observe, then judge under the current settings: the check-in's evaluation. */
export function evaluateCheckin(checkin: Checkin, context: EvaluationContext, now: Date): Evaluation {
  const facts = observe(checkin, { now, packages: context.packages, pushCertificateTopic: context.pushCertificateTopic, identity: context.identity });
  // The judgement, new here, completed in place: spreading it into another object cost ≈ 5 µs a check-in (V8 copies
  // an object whose members were spread in conditionally on a slow path), a seventh of one signature check.
  const evaluation = judge(facts, context.settings, context.exemption, now) as Evaluation;
  evaluation.settingsVersion = context.settingsVersion;
  evaluation.evaluatedAt = facts.serverTime; // now.toISOString(), made once by observe
  evaluation.facts = facts;
  return evaluation;
}
