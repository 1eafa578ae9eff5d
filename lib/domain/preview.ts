// Impact preview (API.md §3): every device's latest observations judged under the current and the proposed settings,
// exemptions included, and the difference counted. Pure: devices are added one at a time (a fleet need not fit in
// memory), the lists keep only the first devices by deviceId, the counts are exact.
import { type ExemptionTerms, judge } from './evaluate.ts';
import type { Observations } from './observations.ts';
import type { Settings } from './settings.ts';

/** At most this many devices in each list of the answer. */
export const PREVIEW_DEVICE_LIST_LIMIT = 100;

export interface PreviewedDevice {
  deviceId: string;
  /** Newly blocked: the codes that would block it. Newly accepted: the codes that block it now. */
  violations: string[];
  lastCheckinAt: string;
}

export interface ImpactGroup {
  count: number;
  /** Devices per violation code (a device blocked for two codes counts under both). */
  byViolation: Record<string, number>;
  /** The first devices by deviceId. */
  devices: PreviewedDevice[];
}

export interface ImpactPreview {
  /** Devices judged: those with observations whose latest check-in is at or after `since`. */
  devices: number;
  since: string;
  current: { blocked: number };
  proposed: { blocked: number };
  newlyBlocked: ImpactGroup;
  newlyAccepted: ImpactGroup;
}

export interface PreviewSettings {
  current: Settings;
  proposed: Settings;
  /** Active and expired exemptions by device; judged at `now` as a check-in would be. */
  exemptions: ReadonlyMap<string, ExemptionTerms>;
  now: Date;
  since: string;
}

class GroupTally {
  private count = 0;
  private readonly byViolation = new Map<string, number>();
  private readonly first: PreviewedDevice[] = [];

  add(device: PreviewedDevice): void {
    this.count += 1;
    for (const code of new Set(device.violations)) this.byViolation.set(code, (this.byViolation.get(code) ?? 0) + 1);
    // Keep the list sorted and short: insert in place, drop what falls past the limit.
    const at = this.first.findIndex((d) => d.deviceId > device.deviceId);
    if (at === -1) {
      if (this.first.length < PREVIEW_DEVICE_LIST_LIMIT) this.first.push(device);
    } else {
      this.first.splice(at, 0, device);
      if (this.first.length > PREVIEW_DEVICE_LIST_LIMIT) this.first.pop();
    }
  }

  result(): ImpactGroup {
    const byViolation = Object.fromEntries([...this.byViolation].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return { count: this.count, byViolation, devices: [...this.first] };
  }
}

/** Tallies devices into an impact preview. */
export class ImpactPreviewer {
  private devices = 0;
  private blockedNow = 0;
  private blockedProposed = 0;
  private readonly newlyBlocked = new GroupTally();
  private readonly newlyAccepted = new GroupTally();

  constructor(private readonly settings: PreviewSettings) {}

  add(deviceId: string, lastCheckinAt: string, facts: Observations): void {
    const { current, proposed, exemptions, now } = this.settings;
    const exemption = exemptions.get(deviceId);
    const before = judge(facts, current, exemption, now);
    const after = judge(facts, proposed, exemption, now);
    this.devices += 1;
    const wasBlocked = before.decision === 'BLOCK';
    const isBlocked = after.decision === 'BLOCK';
    if (wasBlocked) this.blockedNow += 1;
    if (isBlocked) this.blockedProposed += 1;
    if (isBlocked && !wasBlocked) this.newlyBlocked.add({ deviceId, violations: codesOf(after.violations), lastCheckinAt });
    if (wasBlocked && !isBlocked) this.newlyAccepted.add({ deviceId, violations: codesOf(before.violations), lastCheckinAt });
  }

  result(): ImpactPreview {
    return {
      devices: this.devices,
      since: this.settings.since,
      current: { blocked: this.blockedNow },
      proposed: { blocked: this.blockedProposed },
      newlyBlocked: this.newlyBlocked.result(),
      newlyAccepted: this.newlyAccepted.result(),
    };
  }
}

/** Each code once, in the order judged. */
function codesOf(violations: readonly { code: string }[]): string[] {
  return [...new Set(violations.map((v) => v.code))];
}
