// Admin use cases for revoked device certificates (by SHA-256 fingerprint); check-ins see a change within 5 s.
import { NotFoundError } from '../../domain/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CatalogReader, ConfigWriter, RevisionReader, RevocationRecord, SettingsReader } from '../../ports/config-store.ts';
import { commitOptimistically, planningVersion } from './optimistic.ts';

export type RevocationsStore = SettingsReader & RevisionReader & CatalogReader & ConfigWriter;

/** Newest first; the same instant by fingerprint. */
function newestFirst(a: RevocationRecord, b: RevocationRecord): number {
  return a.revokedAt < b.revokedAt ? 1 : a.revokedAt > b.revokedAt ? -1 : a.sha256 < b.sha256 ? -1 : 1;
}

export class AdminRevocationsService {
  constructor(private readonly store: RevocationsStore) {}

  async list(): Promise<RevocationRecord[]> {
    return (await this.store.listRevocations()).sort(newestFirst);
  }

  /**
   * Revokes a fingerprint (normalised by the caller; `created` tells a new revocation from a replaced one). Revoking it again with the same reason changes nothing; with
   * another reason the record is replaced (revokedAt/revokedBy become this change's). History field `revocations`:
   * `null` → fingerprint when revoked, fingerprint → fingerprint when the reason changes (the reason itself is not in the
   * history: values are ids and fingerprints only).
   */
  revoke(sha256: string, reason: string, context: { actor: string; clock: Clock }): Promise<{ record: RevocationRecord; created: boolean }> {
    return commitOptimistically<{ record: RevocationRecord; created: boolean }>(this.store, async () => {
      const configVersion = await planningVersion(this.store);
      const [stored, current] = await Promise.all([this.store.getSettings(), this.store.getRevocation(sha256)]);
      if (current && current.reason === reason) return { unchanged: { record: current, created: false } };
      const record: RevocationRecord = { sha256, reason, revokedAt: context.clock.now().toISOString(), revokedBy: context.actor };
      return {
        result: { record, created: !current },
        commit: {
          change: { kind: 'REVOCATION', sha256, record },
          expect: { configVersion, settingsVersion: stored.version, revocation: { sha256, stored: current !== undefined } },
          history: { version: stored.version, changedAt: record.revokedAt, actor: context.actor, changes: [{ field: 'revocations', from: current ? sha256 : null, to: sha256 }] },
        },
      };
    });
  }

  unrevoke(sha256: string, context: { actor: string; clock: Clock }): Promise<void> {
    return commitOptimistically(this.store, async () => {
      const configVersion = await planningVersion(this.store);
      const [stored, current] = await Promise.all([this.store.getSettings(), this.store.getRevocation(sha256)]);
      if (!current) throw new NotFoundError(`Fingerprint ${sha256} is not revoked`);
      return {
        result: undefined,
        commit: {
          change: { kind: 'REVOCATION', sha256, record: null },
          expect: { configVersion, settingsVersion: stored.version, revocation: { sha256, stored: true } },
          history: { version: stored.version, changedAt: context.clock.now().toISOString(), actor: context.actor, changes: [{ field: 'revocations', from: sha256, to: null }] },
        },
      };
    });
  }
}
