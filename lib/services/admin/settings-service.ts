// Admin use cases for the settings document: read, replace (PUT), merge-patch (PATCH), and the history.
import { PreconditionFailedError, type ConfigCommit, type DynamoDbConfigStore } from '../../adapters/dynamodb/config-store.ts';
import { configSk } from '../../adapters/dynamodb/keys.ts';
import { type FieldProblem, HttpError, RuleViolationError, ValidationError } from '../../domain/errors.ts';
import {
  applyMergePatch,
  DEFAULT_SETTINGS,
  diffSettings,
  findSettingsRuleProblems,
  parseSettingsDocument,
  SETTINGS_FIELDS,
  type Settings,
} from '../../domain/settings.ts';
import type { Clock, HistoryEntry, StoredSettings } from '../../ports.ts';
import { commitOptimistically, type ConfigState, readConfigState, trustFactsOf, certificateUnchanged } from './optimistic.ts';
import { isPlainObject, matchesVersion, type VersionPrecondition } from './request.ts';

/**
 * Rules that depend on stored trust material: they are enforced when a change turns the setting on (or to ALWAYS),
 * not against a setting left as it was. Otherwise a push certificate that expired on its own would make every
 * unrelated change (say maxClockSkewSeconds during an incident) fail until push notifications are turned off.
 */
const TRUST_DEPENDENT_FIELDS = new Set<string>(['sslCertificateVerification', 'pushNotifications', 'certificateBasedAuthentication']);

/** 412 for an If-Match that named the version only as a weak tag, which never matches (RFC 9110 §13.1.1). */
function weakPreconditionFailed(currentVersion: number): HttpError {
  return new HttpError(
    412,
    'PRECONDITION_FAILED',
    `If-Match is compared strongly, so a weak tag (W/"…") never matches; the settings (now at version ${currentVersion}) were not changed: read them again and send their ETag as given, such as "${currentVersion}"`,
  );
}

export interface SettingsChange {
  precondition?: VersionPrecondition;
  actor: string;
  /** Read after each attempt's reads, so that history times grow with versions even when writers race. */
  clock: Clock;
}

export class AdminSettingsService {
  constructor(private readonly store: DynamoDbConfigStore) {}

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
    checkPatchShape(patch);
    return this.write((current) => parseSettingsDocument(applyMergePatch(current, patch)), change);
  }

  history(limit: number): Promise<HistoryEntry[]> {
    return this.store.listHistory(limit);
  }

  /**
   * Read-modify-write under a condition on the version read. With If-Match, a version other than the one named is
   * 412 (also when a concurrent writer wins the race); without it, a lost race is retried on the new version.
   * A document equal to the stored one is answered as stored: same version, no history entry.
   */
  private write(compute: (current: Settings) => Settings, change: SettingsChange): Promise<StoredSettings> {
    return commitOptimistically<StoredSettings>(this.store, async () => {
      const state = await readConfigState(this.store);
      const { stored } = state;
      if (!matchesVersion(change.precondition, stored.version)) {
        if (change.precondition?.weakTags) throw weakPreconditionFailed(stored.version);
        throw new PreconditionFailedError(stored.version);
      }
      const next = compute(stored.settings);
      const changes = diffSettings(stored.settings, next);
      if (changes.length === 0) return { unchanged: stored };

      const changed = new Set(changes.map((c) => c.field));
      const now = change.clock.now();
      const problems: FieldProblem[] = findSettingsRuleProblems(next, trustFactsOf(state), now).filter(
        (problem) => !TRUST_DEPENDENT_FIELDS.has(problem.field) || changed.has(problem.field),
      );
      if (problems.length > 0) {
        throw new RuleViolationError('INVALID_SETTINGS', 'The settings break the rules listed in details; nothing was changed', problems);
      }

      const saved: StoredSettings = { settings: next, version: stored.version + 1, updatedAt: now.toISOString(), updatedBy: change.actor };
      const commit: ConfigCommit = {
        write: {
          sk: configSk.settings,
          item: { ...saved },
          expect: { kind: 'SETTINGS_VERSION', version: stored.version },
        },
        checks: trustGuards(next, state),
        history: { version: saved.version, changedAt: saved.updatedAt!, actor: change.actor, changes },
      };
      return { commit, result: saved };
    });
  }
}

/** The trust items the new document's rules were judged on must still be as read when the write lands. */
function trustGuards(next: Settings, state: ConfigState): NonNullable<ConfigCommit['checks']> {
  const checks: NonNullable<ConfigCommit['checks']> = [];
  if (next.sslCertificateVerification === 'ALWAYS') {
    checks.push({ sk: configSk.serverCertificate, expect: certificateUnchanged(state.serverCertificate) });
  }
  if (next.pushNotifications) {
    checks.push({ sk: configSk.pushCertificate, expect: certificateUnchanged(state.pushCertificate) });
  }
  if (next.certificateBasedAuthentication) {
    checks.push({ sk: configSk.deviceCa, expect: state.deviceCas ? { kind: 'PRESENT' } : { kind: 'ABSENT' } });
  }
  return checks;
}

function checkPatchShape(patch: unknown): void {
  if (!isPlainObject(patch)) {
    throw new ValidationError('INVALID_SETTINGS', 'A merge patch of the settings must be a JSON object of the settings to change');
  }
  for (const [field, value] of Object.entries(patch)) {
    if (!(SETTINGS_FIELDS as string[]).includes(field)) throw new ValidationError('INVALID_SETTINGS', `Unknown setting "${field}"`, field);
    if (value === null) {
      throw new ValidationError('INVALID_SETTINGS', `${field} cannot be removed (every setting is required); send its new value instead`, field);
    }
  }
  // The patch's values, laid over a valid document, must form a valid document: this names the first wrong type.
  parseSettingsDocument({ ...DEFAULT_SETTINGS, ...patch });
}
