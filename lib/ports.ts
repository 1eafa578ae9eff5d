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

export interface DecisionStore {
  /**
   * Records the decision, the device's new status and the response, atomically, unless this checkinId was seen:
   * then nothing is written and the first answer (same device) or a conflict (another device) comes back.
   */
  record(decision: DecisionRecord, response: RecordedResponse): Promise<RecordOutcome>;
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
