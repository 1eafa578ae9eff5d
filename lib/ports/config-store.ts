// Settings and trust material: the settings document, the device CA set, the server and push certificates, the
// registered packages, the revocations, and the history of their changes. Written only through commit().
import type { Page } from './page.ts';
import type { Exemption } from '../domain/exemptions.ts';
import type { RegisteredPackage } from '../domain/rules/package-checksums.ts';
import type { FieldChange, Settings } from '../domain/settings.ts';

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

/**
 * The config's change counters. `version` counts every commit; `policyVersion` is the `version` of the last commit
 * that changed anything but the revocations, `revocationsVersion` the last that changed a revocation. A reader holding
 * a snapshot at one revision reloads only the part whose counter moved.
 */
export interface ConfigRevision {
  version: number;
  policyVersion: number;
  revocationsVersion: number;
}

/** Everything a check-in is judged against, read in one go. */
export interface ConfigSnapshot extends StoredSettings {
  /** The revision read before the rest: the snapshot is at least this new (absent: a reader that keeps no counters). */
  revision?: ConfigRevision;
  deviceCas: StoredCertificate[];
  serverCertificate?: StoredCertificate;
  pushCertificate?: StoredCertificate;
  packages: Map<string, PackageRecord>;
  revocations: Map<string, RevocationRecord>;
  /** By deviceId; expired ones included (the check-in decides what is in force, to the second). */
  exemptions: Map<string, Exemption>;
}

/** One line of the settings and trust-material history. */
export interface HistoryEntry {
  /** The settings version in force after the change (a trust change leaves it as it was). */
  version: number;
  changedAt: string;
  actor: string;
  changes: FieldChange[];
}

/**
 * Every read sees every commit that returned before it began (strongly consistent). A store whose settings document
 * is missing (never initialised, or lost) throws SettingsMissingError from every read that needs it: it is never read
 * as the defaults.
 */
export interface SettingsReader {
  /** The stored document (version 1 with the defaults once initializeSettings wrote it). */
  getSettings(): Promise<StoredSettings>;
}

export interface RevisionReader {
  /** The change counters; undefined when none are stored (a store not initialised). */
  getRevision(): Promise<ConfigRevision | undefined>;
}

export interface ConfigReader {
  /** Everything, read whole. */
  loadSnapshot(): Promise<ConfigSnapshot>;
}

/** A ConfigReader that can tell what changed since a snapshot it gave. */
export interface IncrementalConfigReader extends ConfigReader {
  /**
   * `held` itself when the revision has not moved; otherwise a new snapshot that re-reads only what changed since
   * `held` (the revocations as their changes since `held`, or whole when `held` is too far behind). Without `held`,
   * as loadSnapshot.
   */
  refreshSnapshot(held?: ConfigSnapshot): Promise<ConfigSnapshot>;
}

/** Writes the first settings document; what a deployment (and local mode) runs before serving. */
export interface ConfigInitializer {
  /**
   * Stores SETTINGS version 1 with the defaults and the change counters, each when absent: 'CREATED' when the
   * settings document was written now, 'PRESENT' (nothing changed) when it was already there.
   */
  initializeSettings(now: Date): Promise<'CREATED' | 'PRESENT'>;
}

export interface TrustMaterialReader {
  /** Undefined when no device CA set was ever stored. */
  getDeviceCas(): Promise<StoredCertificate[] | undefined>;
  getServerCertificate(): Promise<StoredCertificate | undefined>;
  getPushCertificate(): Promise<StoredCertificate | undefined>;
}

export interface CatalogReader {
  getPackage(packageId: string): Promise<PackageRecord | undefined>;
  /** Ordered by packageId. */
  listPackages(): Promise<PackageRecord[]>;
  getRevocation(sha256: string): Promise<RevocationRecord | undefined>;
  /** Ordered by fingerprint. */
  listRevocations(): Promise<RevocationRecord[]>;
  /** The stored exemption, expired or not. */
  getExemption(deviceId: string): Promise<Exemption | undefined>;
  /** Every stored exemption, expired ones included, ordered by deviceId. */
  listExemptions(): Promise<Exemption[]>;
}

/** Which history lines to list (API.md §3 `GET /admin/settings/history`). */
export interface HistoryQuery {
  limit: number;
  /** From a previous page of the same query. */
  nextToken?: string;
  /** Only lines that changed this field. */
  field?: string;
  /** Only lines changed at or after this time. */
  since?: Date;
}

/** What a history page token is bound to: the query's field and time (a token of another query is refused). */
export function historyQueryScope(query: Pick<HistoryQuery, 'field' | 'since'>): string {
  return JSON.stringify([query.field ?? null, query.since?.toISOString() ?? null]);
}

export interface HistoryReader {
  /** The newest `limit` lines, newest first (lines of the same millisecond: the higher version first). */
  listHistory(limit: number): Promise<HistoryEntry[]>;
  /**
   * The lines `query` selects, newest first, a page at a time. A token is bound to the field and time it was given
   * for: another query's token throws InvalidPageTokenError.
   */
  queryHistory(query: HistoryQuery): Promise<Page<HistoryEntry>>;
}

/** What one commit writes: one thing, replaced whole, or removed (null). */
export type ConfigChange =
  | { kind: 'SETTINGS'; stored: StoredSettings }
  | { kind: 'DEVICE_CAS'; certificates: StoredCertificate[] }
  | { kind: 'SERVER_CERTIFICATE'; certificate: StoredCertificate }
  | { kind: 'PUSH_CERTIFICATE'; certificate: StoredCertificate | null }
  | { kind: 'PACKAGE'; packageId: string; record: PackageRecord | null }
  | { kind: 'REVOCATION'; sha256: string; record: RevocationRecord | null }
  | { kind: 'EXEMPTION'; deviceId: string; exemption: Exemption | null };

/**
 * What must still be true when the commit lands, each as the writer read it (optimistic concurrency: a change
 * whose validity depends on what was read is refused if any of it changed meanwhile). Omitted: no condition.
 */
export interface ConfigExpectation {
  /**
   * No commit has landed since the revision whose `version` is this (0: no revision is stored): what was read after
   * it is still what is stored, so a change planned on it replaces exactly what the plan saw.
   */
  configVersion?: number;
  /** The settings document is at this version. */
  settingsVersion?: number;
  /** A device CA set is stored (true) or none ever was (false). */
  deviceCasStored?: boolean;
  /** The stored server certificate has this SHA-256; null: none is stored. */
  serverCertificate?: string | null;
  /** The stored push certificate has this SHA-256; null: none is stored. */
  pushCertificate?: string | null;
  /** This package is registered (true) or not (false). */
  package?: { packageId: string; stored: boolean };
  /** This fingerprint is revoked (true) or not (false). */
  revocation?: { sha256: string; stored: boolean };
  /** This device has a stored exemption (true) or not (false). */
  exemption?: { deviceId: string; stored: boolean };
}

export interface ConfigCommit {
  change: ConfigChange;
  expect?: ConfigExpectation;
  /** Written with the change, atomically: both or neither. */
  history: HistoryEntry;
}

export type CommitOutcome =
  | { ok: true }
  /**
   * Nothing was written. EXPECTATION_FAILED: something read has changed since; CONCURRENT_CHANGE: another commit was
   * writing the same things at that moment. Either way, read again and decide again.
   */
  | { ok: false; reason: 'EXPECTATION_FAILED' | 'CONCURRENT_CHANGE' };

export interface ConfigWriter {
  /** Writes the change and its history line atomically if every expectation holds; never throws for one that fails. */
  commit(commit: ConfigCommit): Promise<CommitOutcome>;
}

/** The whole config store, as an adapter provides it; each use case takes only the parts it needs. */
export interface ConfigStore
  extends SettingsReader,
    RevisionReader,
    IncrementalConfigReader,
    TrustMaterialReader,
    CatalogReader,
    HistoryReader,
    ConfigWriter,
    ConfigInitializer {}
