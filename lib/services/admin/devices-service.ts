// Admin reads of decisions: devices by their latest status (never a scan) and one device's decisions.
import type { DecisionReader, DecisionRecord } from '../../ports/decision-store.ts';
import type { DeviceStatus, DeviceStatusStore } from '../../ports/device-status-store.ts';
import type { Page } from '../../ports/page.ts';

export interface DeviceSummary {
  deviceId: string;
  decision: string;
  violations: unknown[];
  lastCheckinAt: string;
  checkinId: string;
}

export class AdminDevicesService {
  constructor(
    private readonly decisions: DecisionReader,
    private readonly statuses: DeviceStatusStore,
  ) {}

  /** Devices whose latest decision has this status, most recent check-in first. */
  async listDevices(status: DeviceStatus, limit: number, nextToken?: string): Promise<Page<DeviceSummary>> {
    const page = await this.statuses.listDevices(status, limit, nextToken);
    return {
      items: page.items.map(({ deviceId, decision, violations, lastCheckinAt, checkinId }) => ({ deviceId, decision, violations, lastCheckinAt, checkinId })),
      nextToken: page.nextToken,
    };
  }

  /** A device's recorded decisions, newest first (an unknown device has none: an empty page, not 404). */
  listDecisions(deviceId: string, limit: number, nextToken?: string): Promise<Page<DecisionRecord>> {
    return this.decisions.listDecisions(deviceId, limit, nextToken);
  }
}
