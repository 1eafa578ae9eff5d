// Admin use cases for the settings document: read, replace (PUT), merge-patch (PATCH), and the history.
import { PreconditionFailedError } from '../../domain/errors.ts';
import { assertSettingsRules, trustItemsReliedOn } from '../../domain/settings-requirements.ts';
import { applyMergePatch, checkSettingsPatch, diffSettings, type FieldChange, parseSettingsDocument, type Settings } from '../../domain/settings.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ConfigWriter, HistoryEntry, HistoryQuery, HistoryReader, SettingsReader, StoredSettings, TrustMaterialReader } from '../../ports/config-store.ts';
import type { Page } from '../../ports/page.ts';
import { asRead, type ConfigState, commitOptimistically, readConfigState, trustFactsOf } from './optimistic.ts';
import { matchesVersion, type VersionPrecondition } from './precondition.ts';

export interface SettingsChange {
  precondition?: VersionPrecondition;
  actor: string;
  /** Read after each attempt's reads, so that history times grow with versions even when writers race. */
  clock: Clock;
}

export type SettingsStore = SettingsReader & TrustMaterialReader & HistoryReader & ConfigWriter;

export function preconditionFailed(precondition: VersionPrecondition | undefined, currentVersion: number): PreconditionFailedError {
  if (precondition?.weakTags) {
    // A weak tag never matches (RFC 9110 §13.1.1): say so, or the client would retry with the same header forever.
    return new PreconditionFailedError(
      `If-Match is compared strongly, so a weak tag (W/"…") never matches; the settings (now at version ${currentVersion}) were not changed: read them again and send their ETag as given, such as "${currentVersion}"`,
    );
  }
  return new PreconditionFailedError(`The settings are at version ${currentVersion}, not the version in If-Match; read them again and retry`);
}

export class AdminSettingsService {
  constructor(private readonly store: SettingsStore) {}

  get(): Promise<StoredSettings> {
    return this.store.getSettings();
  }

  /** PUT: the whole document. Shape problems are 400 before anything is read. */
  replace(document: unknown, change: SettingsChange): Promise<StoredSettings> {
    const next = parseSettingsDocument(document);
    return this.write(() => next, change);
  }

  /** PATCH (RFC 7396). The patch alone is checked first (unknown field, wrong type, removing a setting: 400). */
  patch(patch: unknown, change: SettingsChange): Promise<StoredSettings> {
    checkSettingsPatch(patch);
    return this.write((current) => parseSettingsDocument(applyMergePatch(current, patch)), change);
  }

  /** The history newest first, a page at a time, optionally only one field's changes or those since a time. */
  history(query: HistoryQuery): Promise<Page<HistoryEntry>> {
    return this.store.queryHistory(query);
  }

  /**
   * Read-modify-write under an expectation on the version read. With If-Match, a version other than the one named
   * is 412 (also when a concurrent writer wins the race); without it, a lost race is retried on the new version.
   * A document equal to the stored one is answered as stored: same version, no history entry. The trust items the
   * new document's rules were judged on must still be as read when the write lands.
   */
  private write(compute: (current: Settings) => Settings, change: SettingsChange): Promise<StoredSettings> {
    return commitOptimistically<StoredSettings>(this.store, async () => {
      const state = await readConfigState(this.store);
      const { stored } = state;
      if (!matchesVersion(change.precondition, stored.version)) throw preconditionFailed(change.precondition, stored.version);
      const next = compute(stored.settings);
      const changes = diffSettings(stored.settings, next);
      if (changes.length === 0) return { unchanged: stored };

      const now = change.clock.now();
      assertSettingsRules(next, trustFactsOf(state), now, new Set(changes.map((c) => c.field)));
      const saved: StoredSettings = { settings: next, version: stored.version + 1, updatedAt: now.toISOString(), updatedBy: change.actor };
      const expect = Object.assign({ settingsVersion: stored.version }, ...trustItemsReliedOn(next).map((item) => asRead(state, item)));
      const history = { version: saved.version, changedAt: now.toISOString(), actor: change.actor, changes };
      return { commit: { change: { kind: 'SETTINGS', stored: saved }, expect, history }, result: saved };
    });
  }
}

/**
 * A merge patch applied to the settings, with every check PATCH makes (shape 400, then the rules 422 against the
 * trust material as read at `now`); nothing is written. The impact preview proposes settings this way.
 */
export function proposePatch(state: ConfigState, patch: unknown, now: Date): { proposed: Settings; changes: FieldChange[] } {
  checkSettingsPatch(patch);
  const current = state.stored.settings;
  const proposed = parseSettingsDocument(applyMergePatch(current, patch));
  const changes = diffSettings(current, proposed);
  if (changes.length > 0) assertSettingsRules(proposed, trustFactsOf(state), now, new Set(changes.map((c) => c.field)));
  return { proposed, changes };
}

