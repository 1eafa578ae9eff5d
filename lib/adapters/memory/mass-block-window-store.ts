// In-memory MassBlockWindowStore: the DynamoDB adapter's behaviour (the shared contract suite proves it).
import type { MassBlockWindow } from '../../domain/alerts.ts';
import type { MassBlockWindowStore, WindowCount, WindowEntry } from '../../ports/mass-block-window-store.ts';

interface StoredWindow {
  ranks: Map<string, number>;
  byViolation: Record<string, number>;
}

export class InMemoryMassBlockWindowStore implements MassBlockWindowStore {
  private readonly windows = new Map<string, StoredWindow>();

  async count(entry: WindowEntry, limit: number): Promise<WindowCount> {
    const key = `${entry.reason}#${entry.windowStart}`;
    const stored = this.windows.get(key) ?? { ranks: new Map<string, number>(), byViolation: {} };
    this.windows.set(key, stored);
    const known = stored.ranks.get(entry.deviceId);
    if (known !== undefined) return { counted: true, rank: known, window: this.current(entry, stored) };
    if (stored.ranks.size >= limit) return { counted: false };
    const rank = stored.ranks.size + 1;
    stored.ranks.set(entry.deviceId, rank);
    for (const code of new Set(entry.violationCodes)) stored.byViolation[code] = (stored.byViolation[code] ?? 0) + 1;
    return { counted: true, rank, window: this.current(entry, stored) };
  }

  private current(entry: WindowEntry, stored: StoredWindow): MassBlockWindow {
    const devices = [...stored.ranks.entries()].sort(([, a], [, b]) => a - b).map(([deviceId]) => deviceId);
    return { reason: entry.reason, windowStart: entry.windowStart, devices, byViolation: { ...stored.byViolation } };
  }
}
