// Structured JSON logs (Powertools logger) and CloudWatch metrics (Powertools metrics, EMF). Nothing that reaches a
// log or a metric may carry a secret: log ids, codes, counts.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const SERVICE_NAME = 'tollgate';
/** CloudWatch namespace of the EMF metrics; serverless.yml's alarms read them from here (dimension service=tollgate). */
export const METRICS_NAMESPACE = 'Tollgate';

/** Metric names; each is a Count with the dimension service=tollgate unless noted. */
export const METRIC = {
  checkinAccepted: 'CheckinAccepted',
  /** Alarmed in serverless.yml (CheckinsBlockedAlarm). */
  checkinBlocked: 'CheckinBlocked',
  /** One per distinct violation code of a blocked check-in, with the extra dimension violationCode. */
  checkinBlockedByViolation: 'CheckinBlockedByViolation',
  /** An idempotent replay: the recorded answer was returned again; counted neither accepted nor blocked. */
  checkinReplayed: 'CheckinReplayed',
  /**
   * A check-in that failed the identity check with certificate-based authentication on; counted neither accepted nor
   * blocked (it is not the device's). Alarmed (UnauthenticatedCheckinsAlarm).
   */
  unauthenticatedCheckins: 'UnauthenticatedCheckins',
  /** A 503 UNAVAILABLE answer (the store could not be reached), from any HTTP function. Alarmed. */
  unavailable: 'Unavailable',
  /** A request refused because the settings document is not stored (the config table lost or replaced). Alarmed. */
  settingsMissing: 'SettingsMissing',
} as const;

export const VIOLATION_CODE_DIMENSION = 'violationCode';

export const logger = new Logger({ serviceName: SERVICE_NAME });

/** A new Metrics instance with Tollgate's namespace and service (tests make their own to capture the EMF lines). */
export function createMetrics(): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
}

export const metrics = createMetrics();

/**
 * EMF lines become metrics only in a Lambda function's log. Elsewhere (local mode, tests) they would be noise on
 * stdout, so they are written only inside Lambda, or wherever POWERTOOLS_METRICS_DISABLED is set explicitly (true
 * silences them everywhere, which Powertools handles; false asks for them locally).
 */
function emitsMetrics(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.AWS_LAMBDA_FUNCTION_NAME) || env.POWERTOOLS_METRICS_DISABLED !== undefined;
}

export interface CheckinOutcome {
  /** ACCEPT or BLOCK; absent on a replay. */
  decision?: string;
  violationCodes?: readonly string[];
  replayed: boolean;
  /** False for an unauthenticated attempt (certificate-based authentication on, identity not proven). */
  authenticated?: boolean;
}

/**
 * Counts one answered check-in: unauthenticated, accepted, blocked (and, for a blocked one, each distinct violation
 * code), or replayed. Flushes at once (one EMF line, plus one per violation code), so no middleware is needed.
 * Never throws: a metric must not fail a check-in.
 */
export function recordCheckinMetrics(outcome: CheckinOutcome, target: Metrics = metrics): void {
  if (!emitsMetrics()) return;
  try {
    if (outcome.authenticated === false) {
      target.addMetric(METRIC.unauthenticatedCheckins, MetricUnit.Count, 1);
      target.publishStoredMetrics();
      return;
    }
    if (outcome.replayed) target.addMetric(METRIC.checkinReplayed, MetricUnit.Count, 1);
    else if (outcome.decision === 'BLOCK') target.addMetric(METRIC.checkinBlocked, MetricUnit.Count, 1);
    else if (outcome.decision !== undefined) target.addMetric(METRIC.checkinAccepted, MetricUnit.Count, 1);
    else return;
    target.publishStoredMetrics();
    if (outcome.replayed || outcome.decision !== 'BLOCK') return;
    for (const code of new Set(outcome.violationCodes ?? [])) {
      const single = target.singleMetric();
      single.addDimension(VIOLATION_CODE_DIMENSION, code);
      single.addMetric(METRIC.checkinBlockedByViolation, MetricUnit.Count, 1);
    }
  } catch (error) {
    logger.warn('Check-in metrics not recorded', { error: error as Error });
  }
}

/** Counts one 503 UNAVAILABLE answer. Never throws. */
export function recordUnavailable(target: Metrics = metrics): void {
  if (!emitsMetrics()) return;
  try {
    target.addMetric(METRIC.unavailable, MetricUnit.Count, 1);
    target.publishStoredMetrics();
  } catch (error) {
    logger.warn('Unavailable metric not recorded', { error: error as Error });
  }
}

/** Counts one request refused because the settings document is missing. Never throws. */
export function recordSettingsMissing(target: Metrics = metrics): void {
  if (!emitsMetrics()) return;
  try {
    target.addMetric(METRIC.settingsMissing, MetricUnit.Count, 1);
    target.publishStoredMetrics();
  } catch (error) {
    logger.warn('SettingsMissing metric not recorded', { error: error as Error });
  }
}
