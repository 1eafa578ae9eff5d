// The check-in use case: parse, judge against the cached policy, record, answer (or replay the first answer).
import { parseCheckin } from '../domain/checkin.ts';
import { extractDeviceIdentity } from '../domain/device-identity.ts';
import { ConflictError } from '../domain/errors.ts';
import { evaluateCheckin } from '../domain/evaluate.ts';
import type { Clock, DecisionStore } from '../ports.ts';
import type { PolicyCache } from './policy-cache.ts';

export interface CheckinRequest {
  json: unknown;
  rawBody: Buffer;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** The client certificate API Gateway's mutual TLS passed on, if any. */
  clientCertPem?: string;
}

export interface CheckinAnswer {
  statusCode: number;
  body: string;
  replayed: boolean;
  deviceId: string;
  decision?: string;
  violationCodes?: string[];
}

export interface CheckinServiceDeps {
  policies: PolicyCache;
  decisions: DecisionStore;
  clock: Clock;
  trustedClientCertHeader?: string;
}

export function makeCheckinService(deps: CheckinServiceDeps) {
  return async function handleCheckin(request: CheckinRequest): Promise<CheckinAnswer> {
    const checkin = parseCheckin(request.json);
    const policy = await deps.policies.get();
    const { snapshot } = policy;
    const now = deps.clock.now();

    const evaluation = evaluateCheckin(
      checkin,
      {
        settings: snapshot.settings,
        settingsVersion: snapshot.version,
        packages: snapshot.packages,
        pushCertificateTopic: snapshot.pushCertificate?.topic,
        checkDeviceCertificate: () => {
          const identity = extractDeviceIdentity({
            clientCertPem: request.clientCertPem,
            headers: request.headers,
            trustedClientCertHeader: deps.trustedClientCertHeader,
          });
          const result = policy.verifier.verify(identity, {
            deviceId: checkin.deviceId,
            body: request.rawBody,
            now,
            maxClockSkewSeconds: snapshot.settings.maxClockSkewSeconds,
          });
          return { way: identity.way, ...result };
        },
      },
      now,
    );

    const statusCode = evaluation.decision === 'BLOCK' ? 403 : 200;
    const body = JSON.stringify({
      checkinId: checkin.checkinId,
      deviceId: checkin.deviceId,
      decision: evaluation.decision,
      enforced: evaluation.enforced,
      violations: evaluation.violations,
      warnings: evaluation.warnings,
      settingsVersion: evaluation.settingsVersion,
      evaluatedAt: evaluation.evaluatedAt,
    });

    const outcome = await deps.decisions.record(
      {
        checkinId: checkin.checkinId,
        deviceId: checkin.deviceId,
        decision: evaluation.decision,
        enforced: evaluation.enforced,
        violations: evaluation.violations,
        warnings: evaluation.warnings,
        facts: evaluation.facts,
        settingsVersion: evaluation.settingsVersion,
        evaluatedAt: evaluation.evaluatedAt,
        statusCode,
      },
      { statusCode, body },
    );
    if (outcome.outcome === 'CONFLICT') {
      throw new ConflictError('CHECKIN_ID_CONFLICT', `checkinId "${checkin.checkinId}" was already used by another device; use a new checkinId`);
    }
    if (outcome.outcome === 'REPLAY') {
      return { ...outcome.response, replayed: true, deviceId: checkin.deviceId };
    }
    return {
      statusCode,
      body,
      replayed: false,
      deviceId: checkin.deviceId,
      decision: evaluation.decision,
      violationCodes: evaluation.violations.map((v) => v.code),
    };
  };
}
