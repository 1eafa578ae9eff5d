// The impact preview (API.md §3): what a settings change would block, judged on every recently seen device's latest
// observations under the current and the proposed settings. Validates the patch exactly as PATCH does; writes nothing.
import { ImpactPreviewer, type ImpactPreview } from '../../domain/preview.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CatalogReader, SettingsReader, TrustMaterialReader } from '../../ports/config-store.ts';
import type { DeviceStatusStore, ObservedDevice } from '../../ports/device-status-store.ts';
import { readConfigState } from './optimistic.ts';
import { matchesVersion, type VersionPrecondition } from './precondition.ts';
import { checkSettingsPatch } from '../../domain/settings.ts';
import { preconditionFailed, proposePatch } from './settings-service.ts';

export const DEFAULT_PREVIEW_SINCE_DAYS = 30;

export interface PreviewRequest {
  patch: unknown;
  /** Devices whose latest check-in is at most this many days old. */
  sinceDays: number;
  /** With If-Match: the settings must still be at this version (412 otherwise), as the PATCH it previews would. */
  precondition?: VersionPrecondition;
}

export interface PreviewResult {
  preview: ImpactPreview;
  /** What the store reported the device reads cost (read capacity units), for the log and the benchmark. */
  readUnits: number;
}

export class AdminPreviewService {
  constructor(
    private readonly config: SettingsReader & TrustMaterialReader & CatalogReader,
    private readonly devices: Pick<DeviceStatusStore, 'observedSince'>,
    private readonly clock: Clock,
  ) {}

  async preview(request: PreviewRequest): Promise<PreviewResult> {
    checkSettingsPatch(request.patch); // 400 before anything is read, as PATCH
    const state = await readConfigState(this.config);
    if (!matchesVersion(request.precondition, state.stored.version)) throw preconditionFailed(request.precondition, state.stored.version);
    const now = this.clock.now();
    const { proposed } = proposePatch(state, request.patch, now);
    const exemptions = new Map((await this.config.listExemptions()).map((e) => [e.deviceId, e]));
    const since = new Date(now.getTime() - request.sinceDays * 86_400_000).toISOString();
    // A device that checks in while the index is read moves to a newer position and can be read twice (or once
    // in each status): keep its latest entry, so that every device counts once.
    const latest = new Map<string, ObservedDevice>();
    let readUnits = 0;
    for await (const page of this.devices.observedSince(since, now.toISOString())) {
      readUnits += page.readUnits ?? 0;
      for (const device of page.devices) {
        const seen = latest.get(device.deviceId);
        if (!seen || seen.lastCheckinAt < device.lastCheckinAt) latest.set(device.deviceId, device);
      }
    }
    const previewer = new ImpactPreviewer({ current: state.stored.settings, proposed, exemptions, now, since });
    for (const device of latest.values()) if (device.facts) previewer.add(device.deviceId, device.lastCheckinAt, device.facts);
    return { preview: previewer.result(), readUnits };
  }
}
