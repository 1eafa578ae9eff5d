// The settings document initializeSettings stores on a new installation: version 1 with the defaults (API.md §3).
import { DEFAULT_SETTINGS } from '../domain/settings.ts';
import type { StoredSettings } from '../ports/config-store.ts';

export const FRESH_SETTINGS: Readonly<StoredSettings> = Object.freeze({
  settings: { ...DEFAULT_SETTINGS, certificateExpiryAlertDays: [...DEFAULT_SETTINGS.certificateExpiryAlertDays] },
  version: 1,
  updatedAt: null,
  updatedBy: null,
});

/** A copy the caller may change. */
export function freshSettings(): StoredSettings {
  return structuredClone(FRESH_SETTINGS) as StoredSettings;
}
