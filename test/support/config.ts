// Seeds a config store the way tests need it, through the port's commit (as an admin change would, without rules).
import type { Settings } from '../../lib/domain/settings.ts';
import type { ConfigChange, ConfigStore, StoredSettings } from '../../lib/ports/config-store.ts';
import type { FieldChange } from '../../lib/domain/settings.ts';

interface SeedOptions {
  actor?: string;
  changedAt?: string;
  /** The history line's changes (none by default: a seed is not an admin change). */
  changes?: FieldChange[];
}

/** Stores one thing as given, whatever is stored now, with its history line at the settings version in force. */
export async function seed(store: ConfigStore, change: ConfigChange, options: SeedOptions = {}): Promise<void> {
  const { version } = await store.getSettings();
  const history = { version, actor: options.actor ?? 'test', changedAt: options.changedAt ?? new Date().toISOString(), changes: options.changes ?? [] };
  const outcome = await store.commit({ change, history });
  if (!outcome.ok) throw new Error(`Seeding ${change.kind} failed: ${outcome.reason}`);
}

/** Stores the settings with these fields changed, as the next version, if no one else changed them meanwhile. */
export async function seedSettings(store: ConfigStore, fields: Partial<Settings>, options: SeedOptions = {}): Promise<StoredSettings> {
  const current = await store.getSettings();
  const changedAt = options.changedAt ?? new Date().toISOString();
  const actor = options.actor ?? 'test';
  const stored: StoredSettings = { settings: { ...current.settings, ...fields }, version: current.version + 1, updatedAt: changedAt, updatedBy: actor };
  const outcome = await store.commit({
    change: { kind: 'SETTINGS', stored },
    expect: { settingsVersion: current.version },
    history: { version: stored.version, actor, changedAt, changes: options.changes ?? [] },
  });
  if (!outcome.ok) throw new Error(`Seeding the settings failed: ${outcome.reason}`);
  return stored;
}
