// Per-container cache of the settings document for the imaging function: never older than 5 s (API.md: a settings
// change takes effect within 5 s; a stale cache must not keep a newly required login off for long).
import type { Clock } from '../../ports/clock.ts';
import type { SettingsReader, StoredSettings } from '../../ports/config-store.ts';
import { MAX_POLICY_AGE_MS, MaxAgeCache } from '../max-age-cache.ts';

export const SETTINGS_MAX_AGE_MS = MAX_POLICY_AGE_MS;

export class SettingsCache extends MaxAgeCache<StoredSettings> {
  constructor(reader: SettingsReader, clock: Clock, maxAgeMs = SETTINGS_MAX_AGE_MS) {
    super(() => reader.getSettings(), clock, maxAgeMs);
  }
}
