// Admin reads of decisions: devices by their latest status (byStatus index, never a scan) and one device's decisions.
import { ValidationError } from '../../domain/errors.ts';
import type { DecisionRecord, DecisionStore, DeviceStatus, DeviceStatusStore, Page } from '../../ports.ts';
import { INVALID_REQUEST } from './request.ts';

export interface DeviceSummary {
  deviceId: string;
  decision: string;
  violations: unknown[];
  lastCheckinAt: string;
  checkinId: string;
}

const STATUSES: readonly DeviceStatus[] = ['BLOCKED', 'ACCEPTED'];

/** `status` is required: the index is per status, and "blocked devices" is the question admins ask. */
export function parseDeviceStatus(value: string | undefined): DeviceStatus {
  if (value === undefined || value === '') {
    throw new ValidationError(INVALID_REQUEST, 'status is required: BLOCKED or ACCEPTED', 'status');
  }
  if (!(STATUSES as readonly string[]).includes(value)) throw new ValidationError(INVALID_REQUEST, 'status must be BLOCKED or ACCEPTED', 'status');
  return value as DeviceStatus;
}

export class AdminDevicesService {
  constructor(private readonly store: DecisionStore & DeviceStatusStore) {}

  /** Devices whose latest decision has this status, most recent check-in first. */
  async listDevices(status: DeviceStatus, limit: number, nextToken?: string): Promise<Page<DeviceSummary>> {
    const page = await this.store.listDevices(status, limit, nextToken);
    return {
      items: page.items.map(({ deviceId, decision, violations, lastCheckinAt, checkinId }) => ({ deviceId, decision, violations, lastCheckinAt, checkinId })),
      nextToken: page.nextToken,
    };
  }

  /** A device's recorded decisions, newest first (an unknown device has none: an empty page, not 404). */
  listDecisions(deviceId: string, limit: number, nextToken?: string): Promise<Page<DecisionRecord>> {
    return this.store.listDecisions(deviceId, limit, nextToken);
  }
}
