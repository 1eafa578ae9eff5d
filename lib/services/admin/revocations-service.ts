// Admin use cases for revoked device certificates (by SHA-256 fingerprint); check-ins see a change within 5 s.
import type { DynamoDbConfigStore } from '../../adapters/dynamodb/config-store.ts';
import { configSk } from '../../adapters/dynamodb/keys.ts';
import { NotFoundError } from '../../domain/errors.ts';
import type { Clock, RevocationRecord } from '../../ports.ts';
import { commitOptimistically, settingsUnchanged } from './optimistic.ts';
import { readObjectBody, requireText } from './request.ts';

export const MAX_REVOCATION_REASON_LENGTH = 512;

/** The body of PUT /admin/revocations/{sha256}: `{ reason }`, 1–512 characters. */
export function parseRevocationBody(json: unknown): { reason: string } {
  const body = readObjectBody(json, ['reason']);
  return { reason: requireText(body, 'reason', MAX_REVOCATION_REASON_LENGTH) };
}

function toRecord(item: Record<string, unknown>): RevocationRecord {
  return { sha256: item.sha256 as string, reason: item.reason as string, revokedAt: item.revokedAt as string, revokedBy: item.revokedBy as string };
}

export class AdminRevocationsService {
  constructor(private readonly store: DynamoDbConfigStore) {}

  async list(): Promise<RevocationRecord[]> {
    const items = await this.store.listConfigItems('REVOCATION#');
    return items.map(toRecord).sort((a, b) => (a.revokedAt < b.revokedAt ? 1 : a.revokedAt > b.revokedAt ? -1 : a.sha256 < b.sha256 ? -1 : 1));
  }

  /**
   * Revokes a fingerprint (normalised by the caller; `created` tells a new revocation from a replaced one). Revoking it again with the same reason changes nothing; with
   * another reason the record is replaced (revokedAt/revokedBy become this change's). History field `revocations`:
   * `null` → fingerprint when revoked, fingerprint → fingerprint when the reason changes (the reason itself is not in the
   * history: values are ids and fingerprints only).
   */
  revoke(sha256: string, reason: string, context: { actor: string; clock: Clock }): Promise<{ record: RevocationRecord; created: boolean }> {
    const sk = configSk.revocation(sha256);
    return commitOptimistically<{ record: RevocationRecord; created: boolean }>(this.store, async () => {
      const [stored, item] = await Promise.all([this.store.getSettings(), this.store.getConfigItem(sk)]);
      const current = item ? toRecord(item) : undefined;
      if (current && current.reason === reason) return { unchanged: { record: current, created: false } };
      const record: RevocationRecord = { sha256, reason, revokedAt: context.clock.now().toISOString(), revokedBy: context.actor };
      return {
        result: { record, created: !current },
        commit: {
          write: { sk, item: { ...record }, expect: current ? { kind: 'PRESENT' } : { kind: 'ABSENT' } },
          checks: [settingsUnchanged(stored)],
          history: {
            version: stored.version,
            changedAt: record.revokedAt,
            actor: context.actor,
            changes: [{ field: 'revocations', from: current ? sha256 : null, to: sha256 }],
          },
        },
      };
    });
  }

  unrevoke(sha256: string, context: { actor: string; clock: Clock }): Promise<void> {
    const sk = configSk.revocation(sha256);
    return commitOptimistically(this.store, async () => {
      const [stored, item] = await Promise.all([this.store.getSettings(), this.store.getConfigItem(sk)]);
      if (!item) throw new NotFoundError(`Fingerprint ${sha256} is not revoked`);
      return {
        result: undefined,
        commit: {
          write: { sk, expect: { kind: 'PRESENT' } },
          checks: [settingsUnchanged(stored)],
          history: {
            version: stored.version,
            changedAt: context.clock.now().toISOString(),
            actor: context.actor,
            changes: [{ field: 'revocations', from: sha256, to: null }],
          },
        },
      };
    });
  }
}
