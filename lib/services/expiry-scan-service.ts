// The certificate expiry scan (API.md §4): CERTIFICATE_EXPIRING / CERTIFICATE_EXPIRED for the push certificate, every
// device CA certificate and the server certificate, and CERTIFICATE_NONCONFORMING for a stored device CA that breaks
// a rule added after it was uploaded. Each threshold of certificateExpiryAlertDays is alerted once per certificate,
// and CERTIFICATE_EXPIRED once per UTC day. A mark is claimed before publishing and remembered as sent only after the
// publisher accepted the message; a failed publish releases it, and the scan reports it so that it is retried.
import {
  type AlertMessage,
  type AlertSeverity,
  type AlertType,
  assessExpiry,
  certificateAlert,
  certificateDaysRemaining,
  type CertificateKind,
  type ExpiryAssessment,
  expiryAlertMark,
  nonconformingAlertMark,
  nonconformingCaAlert,
  type WatchedCertificate,
} from '../domain/alerts.ts';
import { findDeviceCaNonconformance } from '../domain/certificate-path.ts';
import { logger } from '../observability.ts';
import type { AlertPublisher } from '../ports/alert-publisher.ts';
import type { Clock } from '../ports/clock.ts';
import type { ConfigReader, StoredCertificate } from '../ports/config-store.ts';
import type { ExpiryAlertStore } from '../ports/expiry-alert-store.ts';

export interface ExpiryScanDeps {
  config: ConfigReader;
  marks: ExpiryAlertStore;
  publisher: AlertPublisher;
  clock: Clock;
}

export interface AlertedCertificate {
  type: AlertType;
  severity: AlertSeverity;
  alertId: string;
  kind: CertificateKind;
  subject: string;
  sha256: string;
  notAfter: string;
  daysRemaining: number;
  /** CERTIFICATE_EXPIRING: the threshold alerted. */
  threshold?: number;
  /** CERTIFICATE_NONCONFORMING: the device CA rule broken. */
  rule?: string;
}

export interface ExpiryScanSummary {
  /** Certificates looked at (distinct by SHA-256). */
  checked: number;
  alerted: AlertedCertificate[];
  /** Alerts that could not be published (or remembered); sent on the next run. */
  failed: { kind: CertificateKind; sha256: string; type: AlertType; error: string }[];
  /** Alerts another scan was publishing at the same moment (it sends them; a retry confirms). */
  busy: { kind: CertificateKind; sha256: string; type: AlertType }[];
}

/** Some alerts of the scan were not sent; Lambda retries the invocation (each sent alert is remembered). */
export class ExpiryScanError extends Error {
  override name = 'ExpiryScanError';
  constructor(readonly summary: ExpiryScanSummary) {
    const pending = summary.failed.length + summary.busy.length;
    super(`${pending} certificate alert(s) not sent yet (${summary.alerted.length} sent); they are retried on the next run`);
  }
}

/** How long DynamoDB keeps a mark once it can no longer matter (TTL). */
const MARK_RETENTION_DAYS = 30;

function watched(kind: CertificateKind, certificate: StoredCertificate): WatchedCertificate {
  return {
    kind,
    subject: certificate.subject,
    topic: kind === 'PUSH' ? certificate.topic : undefined,
    notAfter: certificate.notAfter,
    sha256: certificate.sha256,
  };
}

/** The certificates Tollgate depends on, each once (the same certificate could be stored in two roles). */
function certificatesOf(snapshot: Awaited<ReturnType<ConfigReader['loadSnapshot']>>): WatchedCertificate[] {
  const all: WatchedCertificate[] = [];
  if (snapshot.pushCertificate) all.push(watched('PUSH', snapshot.pushCertificate));
  for (const ca of snapshot.deviceCas ?? []) all.push(watched('DEVICE_CA', ca));
  if (snapshot.serverCertificate) all.push(watched('SERVER', snapshot.serverCertificate));
  const seen = new Set<string>();
  return all.filter((c) => !seen.has(c.sha256) && seen.add(c.sha256));
}

export async function scanCertificates(deps: ExpiryScanDeps): Promise<ExpiryScanSummary> {
  const now = deps.clock.now();
  const snapshot = await deps.config.loadSnapshot();
  const thresholds = snapshot.settings.certificateExpiryAlertDays ?? [];
  const certificates = certificatesOf(snapshot);
  const summary: ExpiryScanSummary = { checked: certificates.length, alerted: [], failed: [], busy: [] };

  for (const certificate of certificates) {
    let assessment: ExpiryAssessment;
    try {
      assessment = assessExpiry(certificate, thresholds, now);
    } catch {
      logger.error('Certificate with an unreadable notAfter skipped', { kind: certificate.kind, sha256: certificate.sha256 });
      continue;
    }
    if (assessment.state === 'VALID') continue;
    const expiresAt =
      Math.floor((assessment.state === 'EXPIRED' ? now.getTime() : Date.parse(certificate.notAfter)) / 1000) + MARK_RETENTION_DAYS * 86_400;
    await sendOnce(deps, summary, now, {
      alert: certificateAlert(certificate, assessment, now),
      certificate,
      mark: expiryAlertMark(assessment),
      superseded: assessment.state === 'EXPIRING' ? assessment.crossed.filter((t) => t !== assessment.threshold).map(String) : [],
      expiresAt,
      daysRemaining: assessment.daysRemaining,
      ...(assessment.state === 'EXPIRING' ? { threshold: assessment.threshold } : {}),
    });
  }

  // Device CAs stored before a rule was added keep anchoring; the security team hears about each broken rule daily.
  for (const ca of snapshot.deviceCas ?? []) {
    for (const { rule } of findDeviceCaNonconformance(ca.pem)) {
      const certificate = watched('DEVICE_CA', ca);
      await sendOnce(deps, summary, now, {
        alert: nonconformingCaAlert(certificate, rule, now),
        certificate,
        mark: nonconformingAlertMark(rule, now),
        superseded: [],
        expiresAt: Math.floor(now.getTime() / 1000) + MARK_RETENTION_DAYS * 86_400,
        daysRemaining: daysRemainingOrNaN(ca.notAfter, now),
        rule,
      });
    }
  }
  return summary;
}

interface PendingAlert {
  alert: AlertMessage;
  certificate: WatchedCertificate;
  /** What makes this alert once-only for the certificate (a threshold, a day, a rule and day). */
  mark: string;
  /** Lower thresholds' marks this alert makes moot. */
  superseded: string[];
  /** When DynamoDB may forget the mark (epoch seconds). */
  expiresAt: number;
  daysRemaining: number;
  threshold?: number;
  rule?: string;
}

/**
 * Publishes an alert unless its mark says it was sent: the mark is claimed first and confirmed after SNS accepted the
 * message; a failed publish releases it. Outcomes go into the summary.
 */
async function sendOnce(deps: ExpiryScanDeps, summary: ExpiryScanSummary, now: Date, pending: PendingAlert): Promise<void> {
  const { alert, certificate, mark, expiresAt } = pending;
  const which = { kind: certificate.kind, sha256: certificate.sha256, type: alert.type as AlertType };
  let published = false;
  try {
    const claimed = await deps.marks.claim({ sha256: certificate.sha256, mark, alertId: alert.message.alertId, now, expiresAt });
    if (claimed.outcome === 'DONE') return;
    if (claimed.outcome === 'BUSY') {
      summary.busy.push(which);
      return;
    }
    try {
      await deps.publisher.publish(alert);
    } catch (error) {
      await deps.marks.release(claimed.claim).catch(() => undefined); // else the claim lapses on its own
      throw error;
    }
    published = true;
    await deps.marks.confirm(claimed.claim, { sentAt: now, superseded: pending.superseded, expiresAt });
  } catch (error) {
    const reason = (error as Error)?.message ?? String(error);
    logger.error(published ? 'Certificate alert published but not remembered' : 'Certificate alert not sent', {
      ...which,
      alertId: alert.message.alertId,
      error: (error as Error)?.name,
    });
    // Published but not remembered: the claim lapses and a later run sends it again, with the same alertId.
    summary.failed.push({ ...which, error: published ? `published, but not remembered: ${reason}` : reason });
    return;
  }
  logger.info('Certificate alert published', { ...which, alertId: alert.message.alertId, daysRemaining: pending.daysRemaining });
  summary.alerted.push({
    ...which,
    severity: alert.severity,
    alertId: alert.message.alertId,
    subject: certificate.subject,
    notAfter: certificate.notAfter,
    daysRemaining: pending.daysRemaining,
    ...(pending.threshold !== undefined ? { threshold: pending.threshold } : {}),
    ...(pending.rule !== undefined ? { rule: pending.rule } : {}),
  });
}

function daysRemainingOrNaN(notAfter: string, now: Date): number {
  try {
    return certificateDaysRemaining(notAfter, now);
  } catch {
    return Number.NaN;
  }
}
