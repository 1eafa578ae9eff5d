// The small interfaces the application needs from the outside world; adapters in lib/adapters implement them.
import type { Finding } from './domain/errors.ts';
import type { Decision, EvaluationFacts } from './domain/evaluate.ts';
import type { RegisteredPackage } from './domain/rules/package-checksums.ts';
import type { FieldChange, Settings } from './domain/settings.ts';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface StoredSettings {
  settings: Settings;
  /** Counts changes of the settings document; a fresh installation is at 1. */
  version: number;
  updatedAt: string | null;
  updatedBy: string | null;
}

/** A certificate kept as trust material: public parts only, never a key. */
export interface StoredCertificate {
  pem: string;
  subject: string;
  issuer?: string;
  notBefore?: string;
  notAfter: string;
  sha256: string;
  selfSigned?: boolean;
  /** Push certificates: the APNs topic. */
  topic?: string;
}

export interface RevocationRecord {
  sha256: string;
  reason: string;
  revokedAt: string;
  revokedBy: string;
}

export interface PackageRecord extends RegisteredPackage {
  updatedAt: string;
  updatedBy: string;
}

/** Everything a check-in is judged against, read in one go. */
export interface ConfigSnapshot extends StoredSettings {
  deviceCas: StoredCertificate[];
  serverCertificate?: StoredCertificate;
  pushCertificate?: StoredCertificate;
  packages: Map<string, PackageRecord>;
  revocations: Map<string, RevocationRecord>;
}

export interface ConfigReader {
  loadSnapshot(): Promise<ConfigSnapshot>;
}

export interface HistoryEntry {
  /** The settings version in force after the change. */
  version: number;
  changedAt: string;
  actor: string;
  changes: FieldChange[];
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/** What a check-in's decision record holds (and the admin API lists). */
export interface DecisionRecord {
  checkinId: string;
  deviceId: string;
  decision: Decision;
  enforced: boolean;
  violations: Finding[];
  warnings: Finding[];
  facts: EvaluationFacts;
  settingsVersion: number;
  evaluatedAt: string;
  statusCode: number;
}

/** The HTTP answer given to a check-in, replayed as it was on a retry. */
export interface RecordedResponse {
  statusCode: number;
  body: string;
}

export type RecordOutcome =
  | { outcome: 'RECORDED' }
  | { outcome: 'REPLAY'; response: RecordedResponse }
  | { outcome: 'CONFLICT' };

export type DeviceStatus = 'BLOCKED' | 'ACCEPTED';

export interface DeviceStatusRecord {
  deviceId: string;
  status: DeviceStatus;
  decision: Decision;
  violations: Finding[];
  lastCheckinAt: string;
  checkinId: string;
  settingsVersion: number;
}

/**
 * With certificate-based authentication on, a recorded answer belongs to the certificate that proved the device's
 * identity: a retry is answered with it only when it presents the same certificate (API.md §1 "Replays are per
 * verified identity"); any other request reusing the checkinId is a CONFLICT.
 */
export interface ReplayBinding {
  /** SHA-256 of the verified device certificate. */
  fingerprint: string;
}

export interface DecisionStore {
  /**
   * Records the decision, the device's new status and the response, atomically, unless this checkinId was seen:
   * then nothing is written and the first answer (same device, and same certificate when `binding` is given) or a
   * conflict (another device, or another certificate) comes back.
   */
  record(decision: DecisionRecord, response: RecordedResponse, binding?: ReplayBinding): Promise<RecordOutcome>;
  listDecisions(deviceId: string, limit: number, nextToken?: string): Promise<Page<DecisionRecord>>;
}

export interface DeviceStatusStore {
  listDevices(status: DeviceStatus, limit: number, nextToken?: string): Promise<Page<DeviceStatusRecord>>;
}

/** One SNS alert (API.md §4). */
export interface AlertMessage {
  subject: string;
  type: string;
  severity: 'info' | 'warning' | 'high' | 'critical';
  /** The JSON document sent as Message: type, alertId, occurredAt and the type's fields. */
  message: Record<string, unknown> & { type: string; alertId: string; occurredAt: string };
}

export interface AlertPublisher {
  publish(alert: AlertMessage): Promise<void>;
}

/**
 * A check-in that failed the identity check while certificate-based authentication was on (API.md §1
 * "Unauthenticated check-ins"): kept apart from the claimed device's decisions and status, for 7 days.
 */
export interface UnauthenticatedAttempt {
  /** The deviceId the request claimed (schema-valid, but unproven). */
  deviceId: string;
  checkinId: string;
  /** The identity violation codes (CLIENT_CERT_* / CLIENT_SIGNATURE_*). */
  violations: string[];
  /** SHA-256 of the presented leaf certificate, when one could be decoded. */
  fingerprint?: string;
  sourceIp: string;
  /** When it was judged (RFC 3339, UTC, milliseconds). */
  at: string;
}

export interface UnauthenticatedAttemptStore {
  record(attempt: UnauthenticatedAttempt): Promise<void>;
  /** Attempts at or after `since`, newest first; `now` bounds the newest. */
  list(window: { since: Date; now: Date }, limit: number, nextToken?: string): Promise<Page<UnauthenticatedAttempt>>;
}
