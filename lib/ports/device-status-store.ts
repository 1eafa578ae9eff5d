// The latest decision of each device (written with the decision by DecisionWriter.record), listed by status.
import type { Finding } from '../domain/errors.ts';
import type { Decision } from '../domain/evaluate.ts';
import type { Observations } from '../domain/observations.ts';
import type { ExpiredExemption } from '../domain/exemptions.ts';
import type { Page } from './page.ts';

export type DeviceStatus = 'BLOCKED' | 'ACCEPTED';

export interface DeviceStatusRecord {
  deviceId: string;
  status: DeviceStatus;
  decision: Decision;
  violations: Finding[];
  lastCheckinAt: string;
  checkinId: string;
  settingsVersion: number;
  /** Set when this block is for codes of an exemption that has run out (the DEVICE_BLOCKED alert carries it). */
  exemptionExpired?: ExpiredExemption;
  /**
   * The latest check-in's observations, kept so that the impact preview re-judges every device without reading its
   * decisions (absent on statuses written before observations were kept).
   */
  facts?: Observations;
}

/** A device's latest check-in as the impact preview re-judges it. */
export interface ObservedDevice {
  deviceId: string;
  lastCheckinAt: string;
  /** Absent for a status written before observations were kept. */
  facts?: Observations;
}

export interface ObservedDevicesPage {
  devices: ObservedDevice[];
  /** The read capacity units the page consumed, where the store reports them. */
  readUnits?: number;
}

export interface DeviceStatusStore {
  /**
   * Devices whose latest decision has this status, most recent check-in first.
   * Throws InvalidPageTokenError for a token it did not give out for this status.
   */
  listDevices(status: DeviceStatus, limit: number, nextToken?: string): Promise<Page<DeviceStatusRecord>>;

  /**
   * Every device whose latest check-in is at or after `since` (RFC 3339 UTC), in pages. `until` is the reader's now:
   * a store may split the range to read parts side by side (later check-ins are included too). A device that checks
   * in during the read may come twice, at its old and its new position: the caller keeps the latest.
   */
  observedSince(since: string, until: string): AsyncIterable<ObservedDevicesPage>;
}
