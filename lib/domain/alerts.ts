// Alerts (API.md §4), pure: which device-status transition raises which alert, certificate expiry thresholds, and
// the SNS message, subject and attributes of each. No I/O, no clock: callers pass `now`.
import { createHash } from 'node:crypto';
import type { Finding } from './errors.ts';
import type { ExpiredExemption } from './exemptions.ts';

export type AlertType = 'DEVICE_BLOCKED' | 'DEVICE_RECOVERED' | 'CERTIFICATE_EXPIRING' | 'CERTIFICATE_EXPIRED' | 'CERTIFICATE_NONCONFORMING' | 'MASS_BLOCK';
export type AlertSeverity = 'info' | 'warning' | 'high' | 'critical';

/** One SNS alert (API.md §4). */
export interface AlertMessage {
  subject: string;
  type: string;
  severity: AlertSeverity;
  /** The JSON document sent as Message: type, alertId, occurredAt and the type's fields. */
  message: Record<string, unknown> & { type: string; alertId: string; occurredAt: string };
}

/**
 * SNS refuses a Subject of 100 characters or more ("less than 100 characters long"); API.md says ≤ 100.
 * 99 satisfies both.
 */
export const MAX_SUBJECT_LENGTH = 99;

/** At or below this many days an expiring certificate is `high`, above it `warning` (API.md §4). */
export const HIGH_SEVERITY_DAYS = 7;

const MS_PER_DAY = 86_400_000;

// ---------------------------------------------------------------------------------------------------------------
// Alert ids

/**
 * A UUID-shaped id (RFC 9562 version 8: custom, here SHA-256 based) derived from the parts that identify one
 * event, so that a redelivered stream record or a retried scan yields the same alertId and subscribers can
 * drop the duplicate.
 */
export function stableAlertId(parts: readonly (string | number)[]): string {
  const bytes = createHash('sha256').update(JSON.stringify(parts)).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Subjects

/** Control characters (including line breaks) are not allowed in an SNS Subject; they become spaces. */
/**
 * SNS accepts only printable ASCII in a Subject (the full text is in the message): accents are dropped
 * ("München" → "Munchen"), control characters become spaces, anything else becomes "?".
 */
function cleanLine(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/[^\x20-\x7e]/gu, '?')
    .replace(/ {2,}/g, ' ');
}

/** Cuts to at most `max` characters (code points, never half a surrogate pair), marking a cut with "...". */
export function truncateText(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  if (max <= 3) return chars.slice(0, max).join('');
  return `${chars.slice(0, max - 3).join('').trimEnd()}...`;
}

function length(text: string): number {
  return Array.from(text).length;
}

/**
 * A subject of at most MAX_SUBJECT_LENGTH characters from a head, a middle that may be shortened, and a tail that
 * is kept whole (" and 2 more"), so that what is cut is the least informative part.
 */
export function composeSubject(head: string, middle = '', tail = ''): string {
  const [h, m, t] = [cleanLine(head).trimStart(), cleanLine(middle), cleanLine(tail).trim()];
  const whole = `${h}${m}`.trim() + (t ? ` ${t}` : '');
  if (length(whole) <= MAX_SUBJECT_LENGTH) return whole;
  const room = MAX_SUBJECT_LENGTH - length(h) - (t ? length(t) + 1 : 0);
  if (room >= 12) return `${h}${truncateText(m.trim(), room)}${t ? ` ${t}` : ''}`;
  return truncateText(whole, MAX_SUBJECT_LENGTH);
}

/** Device ids are at most 128 characters; serials (12) and UDIDs (25–40) fit in this. */
const MAX_DEVICE_ID_IN_SUBJECT = 40;

function formatSeconds(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '?';
  return String(Math.round(Math.abs(value) * 10) / 10);
}

/** A few words for one violation, for a subject line: "clock skew 412 s > 300 s". */
export function summarizeViolation(violation: Finding): string {
  const pkg = typeof violation.packageId === 'string' ? ` ${violation.packageId}` : '';
  switch (violation.code) {
    case 'CLOCK_SKEW_EXCEEDED':
      return `clock skew ${formatSeconds(violation.skewSeconds)} s > ${formatSeconds(violation.maxClockSkewSeconds)} s`;
    case 'CLIENT_CERT_MISSING':
      return 'no client certificate';
    case 'CLIENT_CERT_INVALID':
      return 'unreadable client certificate';
    case 'CLIENT_CERT_UNTRUSTED':
      return 'untrusted client certificate';
    case 'CLIENT_CERT_EXPIRED':
      return 'client certificate expired';
    case 'CLIENT_CERT_NOT_YET_VALID':
      return 'client certificate not yet valid';
    case 'CLIENT_CERT_DEVICE_MISMATCH':
      return 'client certificate of another device';
    case 'CLIENT_CERT_REVOKED':
      return 'client certificate revoked';
    case 'CLIENT_SIGNATURE_MISSING':
      return 'request signature missing';
    case 'CLIENT_SIGNATURE_INVALID':
      return 'invalid request signature';
    case 'SERVER_CERT_NOT_VERIFIED':
      return 'server certificate not verified';
    case 'PACKAGE_CHECKSUM_UNAVAILABLE':
      return `no checksum registered for package${pkg}`;
    case 'PACKAGE_CHECKSUM_MISSING':
      return `no checksum reported for package${pkg}`;
    case 'PACKAGE_CHECKSUM_MISMATCH':
      return `checksum mismatch for package${pkg}`;
    default:
      return String(violation.code ?? 'violation').toLowerCase().replace(/_/g, ' ');
  }
}

export function deviceBlockedSubject(deviceId: string, violations: readonly Finding[]): string {
  const head = `Device ${truncateText(deviceId, MAX_DEVICE_ID_IN_SUBJECT)} blocked`;
  if (violations.length === 0) return composeSubject(head);
  const more = violations.length > 1 ? `and ${violations.length - 1} more` : '';
  return composeSubject(`${head}: `, summarizeViolation(violations[0]), more);
}

export function deviceRecoveredSubject(deviceId: string): string {
  return composeSubject(`Device ${truncateText(deviceId, MAX_DEVICE_ID_IN_SUBJECT)} recovered: check-in accepted again`);
}

// ---------------------------------------------------------------------------------------------------------------
// Device status transitions

/** The device-status item as the stream carries it (decision-store.ts writes it with every check-in). */
export interface DeviceStatusImage {
  deviceId: string;
  status: 'BLOCKED' | 'ACCEPTED';
  checkinId: string;
  lastCheckinAt: string;
  violations: Finding[];
  /** Sorted unique codes of `violations`. */
  violationCodes: string[];
  /** The exemption that covered these codes and has run out, when the check-in found one. */
  exemptionExpired?: ExpiredExemption;
  /** The settings version the check-in was judged under (absent in items written before it was kept). */
  settingsVersion?: number;
  /** Set by the restore procedure (docs/operations.md) on a status item copied back from a backup. */
  restoredAt?: string;
}

function readExpiredExemption(value: unknown): ExpiredExemption | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { violations, until, reason } = value as Record<string, unknown>;
  if (!Array.isArray(violations) || !violations.every((c) => typeof c === 'string') || typeof until !== 'string' || typeof reason !== 'string') return undefined;
  return { violations: violations as string[], until, reason };
}

/**
 * Reads an unmarshalled device-status item; undefined when it is absent or not one (no deviceId, checkinId or a
 * known status). violationCodes are derived from violations when the item lacks them.
 */
export function readDeviceStatusImage(item: Record<string, unknown> | undefined): DeviceStatusImage | undefined {
  if (!item) return undefined;
  const { deviceId, status, checkinId, lastCheckinAt } = item;
  if (typeof deviceId !== 'string' || typeof checkinId !== 'string') return undefined;
  if (status !== 'BLOCKED' && status !== 'ACCEPTED') return undefined;
  const violations = Array.isArray(item.violations)
    ? (item.violations.filter((v) => typeof v === 'object' && v !== null && typeof (v as Finding).code === 'string') as Finding[])
    : [];
  const codes = Array.isArray(item.violationCodes) ? item.violationCodes.filter((c): c is string => typeof c === 'string') : violations.map((v) => v.code);
  const exemptionExpired = readExpiredExemption(item.exemptionExpired);
  return {
    deviceId,
    status,
    checkinId,
    lastCheckinAt: typeof lastCheckinAt === 'string' ? lastCheckinAt : '',
    violations,
    violationCodes: [...new Set(codes)].sort(),
    ...(exemptionExpired ? { exemptionExpired } : {}),
    ...(typeof item.settingsVersion === 'number' ? { settingsVersion: item.settingsVersion } : {}),
    ...(typeof item.restoredAt === 'string' ? { restoredAt: item.restoredAt } : {}),
  };
}

/**
 * A status item the restore procedure copied back: its state was alerted when it happened, so writing it raises
 * nothing. Only the write that set (or changed) restoredAt is one; later check-ins compare against it as usual.
 */
export function isRestoredCopy(oldImage: DeviceStatusImage | undefined, newImage: DeviceStatusImage | undefined): boolean {
  return newImage?.restoredAt !== undefined && newImage.restoredAt !== oldImage?.restoredAt;
}

/**
 * The status a device had before `current`, read from its decisions (newest first) when the stream record has no
 * old image (a first check-in, or one after its status item was deleted): the newest decision older than
 * `current`, as the status it set. Undefined when there is none (a first check-in).
 */
export function previousStatusFromDecisions(
  decisionsNewestFirst: readonly { checkinId: string; deviceId: string; decision: string; violations: Finding[]; evaluatedAt: string; settingsVersion?: number }[],
  current: Pick<DeviceStatusImage, 'checkinId' | 'lastCheckinAt'>,
): DeviceStatusImage | undefined {
  const position = `${current.lastCheckinAt}#${current.checkinId}`;
  const previous = decisionsNewestFirst.find((d) => d.checkinId !== current.checkinId && `${d.evaluatedAt}#${d.checkinId}` < position);
  if (!previous) return undefined;
  return readDeviceStatusImage({
    deviceId: previous.deviceId,
    status: previous.decision === 'BLOCK' ? 'BLOCKED' : 'ACCEPTED',
    checkinId: previous.checkinId,
    lastCheckinAt: previous.evaluatedAt,
    violations: previous.violations,
    settingsVersion: previous.settingsVersion,
  });
}

function sameCodes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((code, i) => code === b[i]);
}

/**
 * The alert one write of a device's status raises, if any (API.md §4):
 * - DEVICE_BLOCKED when the status turns to BLOCKED (also a device's first check-in, without an old image), or a
 *   blocked device's set of violation codes changes;
 * - DEVICE_RECOVERED when a blocked device is accepted again (also in MONITOR mode with violations listed);
 * - nothing for BLOCKED → BLOCKED with the same codes, ACCEPTED → ACCEPTED, or a deleted item.
 * occurredAt is the check-in's evaluation time, so a redelivered record yields the very same message.
 */
export function deviceStatusAlert(oldImage: DeviceStatusImage | undefined, newImage: DeviceStatusImage | undefined): AlertMessage | undefined {
  if (!newImage) return undefined;
  const wasBlocked = oldImage?.status === 'BLOCKED';
  if (newImage.status === 'BLOCKED') {
    if (wasBlocked && sameCodes(oldImage!.violationCodes, newImage.violationCodes)) return undefined;
    return {
      type: 'DEVICE_BLOCKED',
      severity: 'high',
      subject: deviceBlockedSubject(newImage.deviceId, newImage.violations),
      message: {
        type: 'DEVICE_BLOCKED',
        alertId: stableAlertId(['DEVICE_BLOCKED', newImage.deviceId, newImage.checkinId]),
        occurredAt: newImage.lastCheckinAt,
        deviceId: newImage.deviceId,
        checkinId: newImage.checkinId,
        violations: newImage.violations,
        ...(newImage.exemptionExpired ? { exemptionExpired: newImage.exemptionExpired } : {}),
      },
    };
  }
  if (!wasBlocked) return undefined;
  return {
    type: 'DEVICE_RECOVERED',
    severity: 'info',
    subject: deviceRecoveredSubject(newImage.deviceId),
    message: {
      type: 'DEVICE_RECOVERED',
      alertId: stableAlertId(['DEVICE_RECOVERED', newImage.deviceId, newImage.checkinId]),
      occurredAt: newImage.lastCheckinAt,
      deviceId: newImage.deviceId,
      checkinId: newImage.checkinId,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Certificate expiry

export type CertificateKind = 'PUSH' | 'DEVICE_CA' | 'SERVER';

/** A certificate Tollgate depends on; public parts only (never a key, never the PEM in a message). */
export interface WatchedCertificate {
  kind: CertificateKind;
  subject: string;
  /** Push certificates: the APNs topic. */
  topic?: string;
  /** RFC 3339. */
  notAfter: string;
  /** Lowercase hex SHA-256 of the DER. */
  sha256: string;
}

/**
 * Whole days until notAfter: floor((notAfter − now) / 24 h), as the admin API reports it (trust-material.ts):
 * 0 within the last 24 hours of validity, negative once expired.
 */
export function certificateDaysRemaining(notAfter: string, now: Date): number {
  const end = Date.parse(notAfter);
  if (Number.isNaN(end)) throw new RangeError(`not a timestamp: ${notAfter}`);
  return Math.floor((end - now.getTime()) / MS_PER_DAY);
}

/** Where a certificate stands against the thresholds at `now`. */
export type ExpiryAssessment =
  | { state: 'VALID'; daysRemaining: number }
  /** `threshold` is the lowest crossed one (the one to alert); `crossed` all thresholds at or above daysRemaining. */
  | { state: 'EXPIRING'; daysRemaining: number; threshold: number; crossed: number[] }
  /** `day` is the UTC day of `now` (YYYY-MM-DD): CERTIFICATE_EXPIRED is alerted once per such day. */
  | { state: 'EXPIRED'; daysRemaining: number; day: string };

/**
 * Expired once now is past notAfter (notAfter itself is the last valid instant); expiring when daysRemaining is at
 * or below one of the thresholds (certificateExpiryAlertDays).
 */
export function assessExpiry(certificate: Pick<WatchedCertificate, 'notAfter'>, thresholds: readonly number[], now: Date): ExpiryAssessment {
  const daysRemaining = certificateDaysRemaining(certificate.notAfter, now);
  if (now.getTime() > Date.parse(certificate.notAfter)) return { state: 'EXPIRED', daysRemaining, day: now.toISOString().slice(0, 10) };
  const crossed = [...new Set(thresholds)].filter((t) => daysRemaining <= t).sort((a, b) => b - a);
  if (crossed.length === 0) return { state: 'VALID', daysRemaining };
  return { state: 'EXPIRING', daysRemaining, threshold: crossed[crossed.length - 1], crossed };
}

export function expiringSeverity(daysRemaining: number): AlertSeverity {
  return daysRemaining <= HIGH_SEVERITY_DAYS ? 'high' : 'warning';
}

const KIND_LABELS: Record<CertificateKind, string> = {
  PUSH: 'Push certificate',
  DEVICE_CA: 'Device CA certificate',
  SERVER: 'Server certificate',
};

/** The common name of a one-line DN (`CN=Device Root, O=Acme`), unescaped; undefined when there is none. */
function commonName(subject: string): string | undefined {
  const match = /(?:^|,\s*|\+\s*)CN=((?:\\.|[^,+\\])*)/.exec(subject);
  return match ? match[1].replace(/\\(.)/g, '$1').trim() || undefined : undefined;
}

/** How a person recognises the certificate: the push topic, else the subject's CN, else the whole subject. */
function certificateName(certificate: WatchedCertificate): string {
  if (certificate.kind === 'PUSH' && certificate.topic) return certificate.topic;
  return commonName(certificate.subject) ?? (certificate.subject || certificate.sha256.slice(0, 16));
}

function inDays(days: number): string {
  if (days <= 0) return 'within 24 hours';
  return `in ${days} day${days === 1 ? '' : 's'}`;
}

/** The `certificate` field of a certificate alert: public facts only. */
function certificateField(certificate: WatchedCertificate, daysRemaining: number): Record<string, unknown> {
  const field: Record<string, unknown> = { kind: certificate.kind, subject: certificate.subject };
  if (certificate.kind === 'PUSH' && certificate.topic !== undefined) field.topic = certificate.topic;
  field.notAfter = certificate.notAfter;
  field.daysRemaining = daysRemaining;
  field.sha256 = certificate.sha256;
  return field;
}

/** The key under which an alert is remembered per certificate: the threshold, or the UTC day for EXPIRED. */
export function expiryAlertMark(assessment: Exclude<ExpiryAssessment, { state: 'VALID' }>): string {
  return assessment.state === 'EXPIRING' ? String(assessment.threshold) : assessment.day;
}

/** The CERTIFICATE_EXPIRING or CERTIFICATE_EXPIRED alert for a certificate's assessment. */
export function certificateAlert(
  certificate: WatchedCertificate,
  assessment: Exclude<ExpiryAssessment, { state: 'VALID' }>,
  now: Date,
): AlertMessage {
  const name = certificateName(certificate);
  const label = KIND_LABELS[certificate.kind];
  if (assessment.state === 'EXPIRING') {
    return {
      type: 'CERTIFICATE_EXPIRING',
      severity: expiringSeverity(assessment.daysRemaining),
      subject: composeSubject(`${label} `, name, `expires ${inDays(assessment.daysRemaining)}`),
      message: {
        type: 'CERTIFICATE_EXPIRING',
        alertId: stableAlertId(['CERTIFICATE_EXPIRING', certificate.sha256, assessment.threshold]),
        occurredAt: now.toISOString(),
        certificate: certificateField(certificate, assessment.daysRemaining),
      },
    };
  }
  return {
    type: 'CERTIFICATE_EXPIRED',
    severity: 'critical',
    subject: composeSubject(`${label} `, name, `expired on ${certificate.notAfter.slice(0, 10)}`),
    message: {
      type: 'CERTIFICATE_EXPIRED',
      alertId: stableAlertId(['CERTIFICATE_EXPIRED', certificate.sha256, assessment.day]),
      occurredAt: now.toISOString(),
      certificate: certificateField(certificate, assessment.daysRemaining),
    },
  };
}

/** The UTC day a daily alert belongs to; one CERTIFICATE_NONCONFORMING per CA and rule per day. */
export function nonconformingAlertMark(rule: string, now: Date): string {
  return `NONCONFORMING#${rule}#${now.toISOString().slice(0, 10)}`;
}

/**
 * CERTIFICATE_NONCONFORMING (API.md §4): a stored device CA breaks a path-validation rule added after it was
 * uploaded. It keeps anchoring until replaced (an upgrade never locks out a fleet), so the alert repeats daily.
 */
export function nonconformingCaAlert(certificate: Pick<WatchedCertificate, 'subject' | 'sha256'>, rule: string, now: Date): AlertMessage {
  const day = now.toISOString().slice(0, 10);
  const name = certificateName({ kind: 'DEVICE_CA', notAfter: '', ...certificate });
  return {
    type: 'CERTIFICATE_NONCONFORMING',
    severity: 'high',
    subject: composeSubject(`${KIND_LABELS.DEVICE_CA} `, name, `breaks ${rule}`),
    message: {
      type: 'CERTIFICATE_NONCONFORMING',
      alertId: stableAlertId(['CERTIFICATE_NONCONFORMING', certificate.sha256, rule, day]),
      occurredAt: now.toISOString(),
      certificate: { kind: 'DEVICE_CA', subject: certificate.subject, sha256: certificate.sha256 },
      rule,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Mass block

export type MassBlockReason = 'BLOCKED' | 'UNAUTHENTICATED';

/** The deployment's massBlockDevices and massBlockWindowMinutes (API.md §4). */
export interface MassBlockPolicy {
  /** MASS_BLOCK when more than this many distinct devices are counted in one window. */
  devices: number;
  windowMinutes: number;
}

/** MASS_BLOCK lists at most this many devices (API.md §4: "the first 100"). */
export const MASS_BLOCK_LISTED_DEVICES = 100;

/**
 * The window `at` belongs to: windows of windowMinutes laid end to end from the Unix epoch (UTC), so that every
 * function, container and redelivered record computes the same one from the event's own time. Returned as the
 * window's start (RFC 3339).
 */
export function massBlockWindowStart(at: string, windowMinutes: number): string {
  const time = Date.parse(at);
  if (Number.isNaN(time)) throw new RangeError(`not a timestamp: ${at}`);
  const length = windowMinutes * 60_000;
  return new Date(Math.floor(time / length) * length).toISOString();
}

/**
 * What the device counted at `rank` (1 = the first distinct device of its window and reason) gets:
 * - OWN_ALERT: up to the threshold, its own alert as usual;
 * - MASS_BLOCK: the device that takes the window over the threshold raises the one MASS_BLOCK, which includes it;
 * - SUMMARISED: every later device of the window (rank undefined: the store no longer counts them one by one).
 * The same rank always gives the same answer, so a redelivered record repeats exactly what was done.
 */
export type MassBlockRole = 'OWN_ALERT' | 'MASS_BLOCK' | 'SUMMARISED';

export function massBlockRole(rank: number | undefined, threshold: number): MassBlockRole {
  if (rank === undefined || rank > threshold + 1) return 'SUMMARISED';
  return rank <= threshold ? 'OWN_ALERT' : 'MASS_BLOCK';
}

/** A window's counted devices (in the order they were counted) and how many of them had each violation code. */
export interface MassBlockWindow {
  reason: MassBlockReason;
  windowStart: string;
  devices: string[];
  byViolation: Record<string, number>;
}

/** The event that took the window over the threshold: its time and the settings version it was judged under. */
export interface MassBlockTrigger {
  occurredAt: string;
  settingsVersion: number | null;
}

export function massBlockSubject(reason: MassBlockReason, count: number, windowMinutes: number): string {
  const within = `within ${windowMinutes} minute${windowMinutes === 1 ? '' : 's'}`;
  return reason === 'BLOCKED'
    ? composeSubject(`Mass block: ${count} devices blocked ${within}`)
    : composeSubject(`Mass block: unauthenticated check-ins from ${count} claimed devices ${within}`);
}

/**
 * The one MASS_BLOCK of a window and reason (API.md §4). alertId is stable per window and reason; count and the
 * devices are those counted when the threshold was crossed (massBlockDevices + 1), byViolation counts devices per
 * violation code among them, keys sorted.
 */
export function massBlockAlert(window: MassBlockWindow, policy: MassBlockPolicy, trigger: MassBlockTrigger): AlertMessage {
  const count = window.devices.length;
  const byViolation = Object.fromEntries(Object.entries(window.byViolation).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    type: 'MASS_BLOCK',
    severity: 'critical',
    subject: massBlockSubject(window.reason, count, policy.windowMinutes),
    message: {
      type: 'MASS_BLOCK',
      alertId: stableAlertId(['MASS_BLOCK', window.reason, window.windowStart]),
      occurredAt: trigger.occurredAt,
      reason: window.reason,
      count,
      windowMinutes: policy.windowMinutes,
      byViolation,
      settingsVersion: trigger.settingsVersion,
      devices: window.devices.slice(0, MASS_BLOCK_LISTED_DEVICES),
    },
  };
}

/**
 * The mark the check-in leaves on the device-status table for an unauthenticated attempt (one per window and
 * claimed device), so that the alerts function, which reads that table's stream, can count them.
 */
export interface UnauthenticatedAttemptMark {
  claimedDeviceId: string;
  windowStart: string;
  /** Sorted unique identity violation codes. */
  violationCodes: string[];
  at: string;
  settingsVersion?: number;
}

export const UNAUTHENTICATED_ATTEMPT_KIND = 'UNAUTHENTICATED_ATTEMPT';

export function readUnauthenticatedAttemptMark(item: Record<string, unknown> | undefined): UnauthenticatedAttemptMark | undefined {
  if (!item || item.kind !== UNAUTHENTICATED_ATTEMPT_KIND) return undefined;
  const { claimedDeviceId, windowStart, at, violationCodes, settingsVersion } = item;
  if (typeof claimedDeviceId !== 'string' || typeof windowStart !== 'string' || typeof at !== 'string') return undefined;
  const codes = Array.isArray(violationCodes) ? violationCodes.filter((c): c is string => typeof c === 'string') : [];
  return {
    claimedDeviceId,
    windowStart,
    violationCodes: [...new Set(codes)].sort(),
    at,
    ...(typeof settingsVersion === 'number' ? { settingsVersion } : {}),
  };
}
