// Per-container cache of the settings document for the imaging function: never older than 5 s (API.md: a settings
// change takes effect within 5 s; a stale cache must not keep a newly required login off for long).
import type { Clock, StoredSettings } from '../../ports.ts';

export const SETTINGS_MAX_AGE_MS = 5000;

export interface SettingsReader {
  getSettings(): Promise<StoredSettings>;
}

export class SettingsCache {
  private current?: { settings: StoredSettings; loadedAt: number };
  private inflight?: Promise<StoredSettings>;

  constructor(
    private readonly reader: SettingsReader,
    private readonly clock: Clock,
    private readonly maxAgeMs = SETTINGS_MAX_AGE_MS,
  ) {}

  /** The settings, read again when the cached copy was loaded maxAgeMs or more ago. Failures are not cached. */
  async get(): Promise<StoredSettings> {
    const now = this.clock.now().getTime();
    if (this.current && now - this.current.loadedAt < this.maxAgeMs) return this.current.settings;
    // Concurrent callers in one container share one read. Its age counts from when the read started.
    this.inflight ??= this.reader
      .getSettings()
      .then((settings) => {
        this.current = { settings, loadedAt: now };
        return settings;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
}
