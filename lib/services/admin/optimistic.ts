// Optimistic concurrency for admin changes: read, decide, commit under expectations on what was read; when someone
// else changed any of it meanwhile, read and decide again. Trust-material changes read the config revision first and
// commit expecting it, so a change planned on one state never lands on another: its history line's `from` is what it
// replaced, and its time (read after the plan's reads, so after every commit it could have seen) keeps commit order.
import type { TrustFacts, TrustItem } from '../../domain/settings-requirements.ts';
import type {
  ConfigCommit,
  ConfigExpectation,
  ConfigWriter,
  RevisionReader,
  SettingsReader,
  StoredCertificate,
  StoredSettings,
  TrustMaterialReader,
} from '../../ports/config-store.ts';
import { ConcurrentModificationError } from '../../ports/errors.ts';

/** What one attempt decided: commit this (and answer `result` if it lands), or answer without writing. */
export type Plan<T> = { commit: ConfigCommit; result: T } | { unchanged: T };

/**
 * Enough attempts that ten concurrent admins (or scripts) get through: every config commit moves the one revision,
 * so each round lets one writer land and the others plan again. The pauses add up to at most about 3 s, well under
 * the function's timeout.
 */
const MAX_ATTEMPTS = 16;

function pause(attempt: number): Promise<void> {
  const ceiling = Math.min(200, 15 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
}

/**
 * Runs `plan` (which reads the current state and throws the error of a rule it breaks) and commits what it decided;
 * when an expectation fails because someone else changed what it read, plans again from a fresh read. A stale
 * If-Match, a deleted item or a newly broken rule therefore surfaces as the plan's own error on the next round.
 */
export async function commitOptimistically<T>(store: ConfigWriter, plan: () => Promise<Plan<T>>): Promise<T> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const next = await plan();
    if ('unchanged' in next) return next.unchanged;
    const outcome = await store.commit(next.commit);
    if (outcome.ok) return next.result;
    await pause(attempt);
  }
  throw new ConcurrentModificationError('Others changed the same configuration at the same moment; read it again and retry');
}

/**
 * The config revision's version, read before anything a plan decides on (0: none stored): a commit expecting it
 * lands only if nothing was committed since, whatever the plan read after it.
 */
export async function planningVersion(store: RevisionReader): Promise<number> {
  return (await store.getRevision())?.version ?? 0;
}

/** The settings and the trust material their rules depend on, each read consistently. */
export interface ConfigState {
  /** The revision they were read at (planningVersion), when the store was asked for it. */
  configVersion?: number;
  stored: StoredSettings;
  deviceCas: StoredCertificate[] | undefined;
  serverCertificate: StoredCertificate | undefined;
  pushCertificate: StoredCertificate | undefined;
}

export async function readConfigState(store: SettingsReader & TrustMaterialReader & Partial<RevisionReader>): Promise<ConfigState> {
  // First: what is read next is then at least as new as this revision.
  const configVersion = store.getRevision ? await planningVersion(store as RevisionReader) : undefined;
  const [stored, deviceCas, serverCertificate, pushCertificate] = await Promise.all([
    store.getSettings(),
    store.getDeviceCas(),
    store.getServerCertificate(),
    store.getPushCertificate(),
  ]);
  return { configVersion, stored, deviceCas, serverCertificate, pushCertificate };
}

export function trustFactsOf(state: ConfigState): TrustFacts {
  return {
    deviceCaCount: state.deviceCas?.length ?? 0,
    serverCertificateSelfSigned: state.serverCertificate?.selfSigned,
    pushCertificateNotAfter: state.pushCertificate?.notAfter,
  };
}

/** The expectation that a trust item is still as it was read. */
export function asRead(state: ConfigState, item: TrustItem): ConfigExpectation {
  switch (item) {
    case 'deviceCas':
      return { deviceCasStored: state.deviceCas !== undefined };
    case 'serverCertificate':
      return { serverCertificate: state.serverCertificate?.sha256 ?? null };
    case 'pushCertificate':
      return { pushCertificate: state.pushCertificate?.sha256 ?? null };
  }
}
