// The check-in use case: parse, judge against the cached policy, record, answer (or replay the first answer).
// Identity before state: with certificate-based authentication on, a request that has not proven it is the device
// changes nothing of that device (no decision, no status, no claimed checkinId); it is kept as an attempt.
import { type Checkin, parseCheckin } from '../domain/checkin.ts';
import { extractDeviceIdentity, type IgnoredProxyHeaderReason, type TrustedProxy } from '../domain/device-identity.ts';
import { ConflictError } from '../domain/errors.ts';
import { type Evaluation, evaluateCheckin, isIdentityViolationCode } from '../domain/evaluate.ts';
import type { IdentityObservation } from '../domain/observations.ts';
import type { UnauthenticatedAttempt, UnauthenticatedAttemptStore } from '../ports/attempt-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { DecisionRecord, DecisionWriter, ReplayBinding } from '../ports/decision-store.ts';
import type { CheckinPolicy, PolicyCache } from './policy-cache.ts';

export interface CheckinRequest {
  json: unknown;
  rawBody: Buffer;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** The client certificate API Gateway's mutual TLS passed on, if any. */
  clientCertPem?: string;
  /** The caller's address as API Gateway saw it (kept with unauthenticated attempts). */
  sourceIp: string;
}

export interface CheckinAnswer {
  statusCode: number;
  body: string;
  replayed: boolean;
  deviceId: string;
  decision?: string;
  violationCodes?: string[];
  /** False when certificate-based authentication is on and the identity check failed; undefined with it off. */
  authenticated?: boolean;
  /** Set when a trusted-proxy certificate header was present but not believed (the caller logs a warning). */
  ignoredProxyHeader?: IgnoredProxyHeaderReason;
}

export interface CheckinServiceDeps {
  policies: PolicyCache;
  decisions: DecisionWriter;
  attempts: UnauthenticatedAttemptStore;
  clock: Clock;
  trustedProxy?: TrustedProxy;
}

export function makeCheckinService(deps: CheckinServiceDeps) {
  return async function handleCheckin(request: CheckinRequest): Promise<CheckinAnswer> {
    const checkin = parseCheckin(request.json);
    const { evaluation, ignoredProxyHeader } = judge(checkin, request, await deps.policies.get(), deps);
    const statusCode = evaluation.decision === 'BLOCK' ? 403 : 200;
    const body = JSON.stringify(responseBody(checkin.checkinId, checkin.deviceId, evaluation));
    const answer: CheckinAnswer = {
      statusCode,
      body,
      replayed: false,
      deviceId: checkin.deviceId,
      decision: evaluation.decision,
      violationCodes: evaluation.violations.map((v) => v.code),
      authenticated: evaluation.authenticated,
      ignoredProxyHeader,
    };
    if (evaluation.authenticated === false) {
      await deps.attempts.record(attemptOf(checkin, evaluation, request.sourceIp), { settingsVersion: evaluation.settingsVersion });
      return answer;
    }
    const outcome = await deps.decisions.record(decisionOf(checkin, evaluation, statusCode), { statusCode, body }, bindingOf(evaluation));
    if (outcome.outcome === 'CONFLICT') {
      throw new ConflictError(
        'CHECKIN_ID_CONFLICT',
        `checkinId "${checkin.checkinId}" was already used by another device or certificate; use a new checkinId`,
      );
    }
    if (outcome.outcome === 'REPLAY') {
      return { ...outcome.response, replayed: true, deviceId: checkin.deviceId, ignoredProxyHeader };
    }
    return answer;
  };
}

/** Observes the check-in (its identity verified whatever the settings) and judges it under the cached policy. */
function judge(checkin: Checkin, request: CheckinRequest, policy: CheckinPolicy, deps: Pick<CheckinServiceDeps, 'clock' | 'trustedProxy'>) {
  const { snapshot } = policy;
  const now = deps.clock.now();
  let ignoredProxyHeader: IgnoredProxyHeaderReason | undefined;
  // Observed whatever the settings (API.md §1 "Observations"): the impact preview re-judges it under proposed ones.
  const observeIdentity = (): IdentityObservation => {
    const identity = extractDeviceIdentity({
      clientCertPem: request.clientCertPem,
      headers: request.headers,
      trustedProxy: deps.trustedProxy,
      onIgnoredProxyHeader: (reason) => (ignoredProxyHeader = reason),
    });
    const result = policy.verifier.verify(identity, {
      deviceId: checkin.deviceId,
      body: request.rawBody,
      now,
      maxClockSkewSeconds: snapshot.settings.maxClockSkewSeconds,
    });
    return { way: identity.way, ...(result.fingerprint ? { fingerprint: result.fingerprint } : {}), violations: result.violations };
  };
  const evaluation = evaluateCheckin(
    checkin,
    {
      settings: snapshot.settings,
      settingsVersion: snapshot.version,
      packages: snapshot.packages,
      pushCertificateTopic: snapshot.pushCertificate?.topic,
      exemption: snapshot.exemptions.get(checkin.deviceId),
      identity: observeIdentity(),
    },
    now,
  );
  return { evaluation, ignoredProxyHeader };
}

/** An unproven request: kept as an attempt, apart from the device it claims. */
function attemptOf(checkin: Checkin, evaluation: Evaluation, sourceIp: string): UnauthenticatedAttempt {
  return {
    deviceId: checkin.deviceId,
    checkinId: checkin.checkinId,
    violations: evaluation.violations.filter((v) => isIdentityViolationCode(v.code)).map((v) => v.code),
    fingerprint: evaluation.facts.identity?.fingerprint,
    sourceIp,
    at: evaluation.evaluatedAt,
  };
}

function decisionOf(checkin: Checkin, evaluation: Evaluation, statusCode: number): DecisionRecord {
  return {
    checkinId: checkin.checkinId,
    deviceId: checkin.deviceId,
    decision: evaluation.decision,
    enforced: evaluation.enforced,
    violations: evaluation.violations,
    exempted: evaluation.exempted,
    ...(evaluation.exemptionExpired ? { exemptionExpired: evaluation.exemptionExpired } : {}),
    warnings: evaluation.warnings,
    facts: evaluation.facts,
    settingsVersion: evaluation.settingsVersion,
    evaluatedAt: evaluation.evaluatedAt,
    statusCode,
  };
}

/** With the device's identity proven, a replay is answered only to the same certificate. */
function bindingOf(evaluation: Evaluation): ReplayBinding | undefined {
  const fingerprint = evaluation.authenticated ? evaluation.facts.identity?.fingerprint : undefined;
  return fingerprint ? { fingerprint } : undefined;
}

/**
 * API.md §1 "Response"; `authenticated` only while certificate-based authentication is on; `exempted` always (the
 * violations an active exemption covered, usually none).
 */
function responseBody(checkinId: string, deviceId: string, evaluation: Evaluation): Record<string, unknown> {
  return {
    checkinId,
    deviceId,
    decision: evaluation.decision,
    enforced: evaluation.enforced,
    ...(evaluation.authenticated === undefined ? {} : { authenticated: evaluation.authenticated }),
    violations: evaluation.violations,
    exempted: evaluation.exempted,
    warnings: evaluation.warnings,
    settingsVersion: evaluation.settingsVersion,
    evaluatedAt: evaluation.evaluatedAt,
  };
}
