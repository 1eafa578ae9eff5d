// In-memory ConfigStore: the DynamoDB adapter's behaviour (the shared contract suite proves it), for fast tests of
// the admin services. A commit runs to its end before any other call, as a DynamoDB transaction is atomic.
import { historyQueryScope } from '../../ports/config-store.ts';
import type {
  CommitOutcome,
  ConfigChange,
  ConfigCommit,
  ConfigExpectation,
  ConfigRevision,
  ConfigSnapshot,
  ConfigStore,
  HistoryEntry,
  HistoryQuery,
} from '../../ports/config-store.ts';
import { SettingsMissingError } from '../../ports/errors.ts';
import type { Page } from '../../ports/page.ts';
import { decodePageToken } from '../page-token.ts';
import { pageAfter } from './paging.ts';
import type { PackageRecord, RevocationRecord, StoredCertificate, StoredSettings } from '../../ports/config-store.ts';
import { freshSettings } from '../fresh-settings.ts';
import type { Exemption } from '../../domain/exemptions.ts';

export interface InMemoryConfigStoreOptions {
  /** As a deployed store is, after initializeSettings (the default); false: as an empty table. */
  initialized?: boolean;
}

export class InMemoryConfigStore implements ConfigStore {
  private settings?: StoredSettings;
  private revision?: ConfigRevision;
  private deviceCas?: StoredCertificate[];
  private serverCertificate?: StoredCertificate;
  private pushCertificate?: StoredCertificate;
  private readonly packages = new Map<string, PackageRecord>();
  private readonly revocations = new Map<string, RevocationRecord>();
  private readonly exemptions = new Map<string, Exemption>();
  /** Each line with its position: time, version, then the order lines were written. */
  private readonly history: { entry: HistoryEntry; position: string }[] = [];

  constructor(options: InMemoryConfigStoreOptions = {}) {
    if (options.initialized ?? true) {
      this.settings = freshSettings();
      this.revision = { version: 1, policyVersion: 1, revocationsVersion: 0 };
    }
  }

  async initializeSettings(now: Date): Promise<'CREATED' | 'PRESENT'> {
    void now;
    if (this.settings) {
      this.revision ??= { version: 1, policyVersion: 1, revocationsVersion: 0 };
      return 'PRESENT';
    }
    this.settings = freshSettings();
    const version = (this.revision?.version ?? 0) + 1;
    this.revision = { version, policyVersion: version, revocationsVersion: this.revision?.revocationsVersion ?? 0 };
    return 'CREATED';
  }

  async getRevision(): Promise<ConfigRevision | undefined> {
    return structuredClone(this.revision);
  }

  /** `held` when no commit landed since it; otherwise everything (what DynamoDB reads incrementally is read whole here). */
  async refreshSnapshot(held?: ConfigSnapshot): Promise<ConfigSnapshot> {
    if (held?.revision && this.revision && held.revision.version === this.revision.version) return held;
    return this.loadSnapshot();
  }

  async loadSnapshot(): Promise<ConfigSnapshot> {
    return structuredClone({
      ...this.storedSettings(),
      revision: this.revision ?? { version: 0, policyVersion: 0, revocationsVersion: 0 },
      deviceCas: this.deviceCas ?? [],
      serverCertificate: this.serverCertificate,
      pushCertificate: this.pushCertificate,
      packages: new Map([...this.packages].sort(([a], [b]) => compare(a, b))),
      revocations: new Map([...this.revocations].sort(([a], [b]) => compare(a, b))),
      exemptions: new Map([...this.exemptions].sort(([a], [b]) => compare(a, b))),
    });
  }

  async getSettings(): Promise<StoredSettings> {
    return structuredClone(this.storedSettings());
  }

  async getDeviceCas(): Promise<StoredCertificate[] | undefined> {
    return structuredClone(this.deviceCas);
  }

  async getServerCertificate(): Promise<StoredCertificate | undefined> {
    return structuredClone(this.serverCertificate);
  }

  async getPushCertificate(): Promise<StoredCertificate | undefined> {
    return structuredClone(this.pushCertificate);
  }

  async getPackage(packageId: string): Promise<PackageRecord | undefined> {
    return structuredClone(this.packages.get(packageId));
  }

  async listPackages(): Promise<PackageRecord[]> {
    return structuredClone([...this.packages.values()].sort((a, b) => compare(a.packageId, b.packageId)));
  }

  async getRevocation(sha256: string): Promise<RevocationRecord | undefined> {
    return structuredClone(this.revocations.get(sha256));
  }

  async listRevocations(): Promise<RevocationRecord[]> {
    return structuredClone([...this.revocations.values()].sort((a, b) => compare(a.sha256, b.sha256)));
  }

  async getExemption(deviceId: string): Promise<Exemption | undefined> {
    return structuredClone(this.exemptions.get(deviceId));
  }

  async listExemptions(): Promise<Exemption[]> {
    return structuredClone([...this.exemptions.values()].sort((a, b) => compare(a.deviceId, b.deviceId)));
  }

  async queryHistory(query: HistoryQuery): Promise<Page<HistoryEntry>> {
    const scope = historyQueryScope(query);
    const start = decodePageToken(query.nextToken, ['position', 'scope'], (key) => key.scope === scope);
    const since = query.since?.toISOString();
    const selected = [...this.history]
      .sort((a, b) => compare(b.position, a.position))
      .filter(({ entry }) => (since === undefined || entry.changedAt >= since) && (query.field === undefined || entry.changes.some((c) => c.field === query.field)));
    const page = pageAfter(selected, ({ position }) => ({ position, scope }), query.limit, start);
    return { items: structuredClone(page.items.map(({ entry }) => entry)), nextToken: page.nextToken };
  }

  async listHistory(limit: number): Promise<HistoryEntry[]> {
    const newestFirst = [...this.history].sort((a, b) => compare(b.position, a.position));
    return structuredClone(newestFirst.slice(0, limit).map(({ entry }) => entry));
  }

  async commit(commit: ConfigCommit): Promise<CommitOutcome> {
    if (!this.holds(commit.expect ?? {})) return { ok: false, reason: 'EXPECTATION_FAILED' };
    this.apply(structuredClone(commit.change));
    const base = this.revision ?? { version: 0, policyVersion: 0, revocationsVersion: 0 };
    const version = base.version + 1;
    this.revision = commit.change.kind === 'REVOCATION' ? { ...base, version, revocationsVersion: version } : { ...base, version, policyVersion: version };
    this.appendHistory(commit.history);
    return { ok: true };
  }

  private storedSettings(): StoredSettings {
    if (!this.settings) throw new SettingsMissingError();
    return this.settings;
  }

  /**
   * Adds a history line for a change kept outside this store (imaging accounts and documents), at the settings
   * version in force, as the DynamoDB imaging adapter writes it into the same history.
   */
  recordHistory(line: Omit<HistoryEntry, 'version'>): void {
    this.appendHistory({ version: this.settingsVersion(), ...line });
  }

  /** The settings version in force, for adapters that guard a change of theirs on it (0: no settings stored). */
  settingsVersion(): number {
    return this.settings?.version ?? 0;
  }

  private appendHistory(entry: HistoryEntry): void {
    const position = `${entry.changedAt}#${String(entry.version).padStart(12, '0')}#${String(this.history.length).padStart(12, '0')}`;
    this.history.push({ entry: structuredClone(entry), position });
  }

  private holds(expect: ConfigExpectation): boolean {
    const sha = (certificate: StoredCertificate | undefined) => certificate?.sha256 ?? null;
    return (
      (expect.configVersion === undefined || expect.configVersion === (this.revision?.version ?? 0)) &&
      (expect.settingsVersion === undefined || expect.settingsVersion === this.settingsVersion()) &&
      (expect.deviceCasStored === undefined || expect.deviceCasStored === (this.deviceCas !== undefined)) &&
      (expect.serverCertificate === undefined || expect.serverCertificate === sha(this.serverCertificate)) &&
      (expect.pushCertificate === undefined || expect.pushCertificate === sha(this.pushCertificate)) &&
      (expect.package === undefined || expect.package.stored === this.packages.has(expect.package.packageId)) &&
      (expect.revocation === undefined || expect.revocation.stored === this.revocations.has(expect.revocation.sha256)) &&
      (expect.exemption === undefined || expect.exemption.stored === this.exemptions.has(expect.exemption.deviceId))
    );
  }

  private apply(change: ConfigChange): void {
    switch (change.kind) {
      case 'SETTINGS':
        this.settings = change.stored;
        return;
      case 'DEVICE_CAS':
        this.deviceCas = change.certificates;
        return;
      case 'SERVER_CERTIFICATE':
        this.serverCertificate = change.certificate;
        return;
      case 'PUSH_CERTIFICATE':
        this.pushCertificate = change.certificate ?? undefined;
        return;
      case 'PACKAGE':
        setOrDelete(this.packages, change.packageId, change.record);
        return;
      case 'REVOCATION':
        setOrDelete(this.revocations, change.sha256, change.record);
        return;
      case 'EXEMPTION':
        setOrDelete(this.exemptions, change.deviceId, change.exemption);
        return;
    }
  }
}

function setOrDelete<T>(map: Map<string, T>, key: string, value: T | null): void {
  if (value === null) map.delete(key);
  else map.set(key, value);
}

/** Byte order, as DynamoDB sorts string keys (localeCompare would not). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
