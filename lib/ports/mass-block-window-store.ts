// The MASS_BLOCK windows (API.md §4): which distinct devices were counted in a window, for one reason, in order.
import type { MassBlockReason, MassBlockWindow } from '../domain/alerts.ts';

export interface WindowEntry {
  reason: MassBlockReason;
  /** massBlockWindowStart() of the event's time. */
  windowStart: string;
  deviceId: string;
  /** The device's violation codes (sorted, unique), added to byViolation when the device is first counted. */
  violationCodes: string[];
  /** When the window may be forgotten (Unix seconds; DynamoDB TTL). */
  expiresAt: number;
}

export type WindowCount =
  /** The device is among the window's first `limit` devices (now, or since an earlier delivery of the same event). */
  | { counted: true; rank: number; window: MassBlockWindow }
  /** The window already holds `limit` devices and this one is not among them: nothing was stored. */
  | { counted: false };

export interface MassBlockWindowStore {
  /**
   * Counts a device once per window and reason, atomically across concurrent callers: its rank is 1 + the number
   * of distinct devices counted before it, the same on every later call for it. Only the first `limit` devices are
   * kept (bounding the stored size), so the window a device of rank `limit` sees is final; `window` is the state
   * now, this device included.
   */
  count(entry: WindowEntry, limit: number): Promise<WindowCount>;
}
