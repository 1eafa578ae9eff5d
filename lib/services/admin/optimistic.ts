// Optimistic concurrency for admin changes: read, validate, write under conditions on what was read; retry on a race.
import type { ConfigCommit, DynamoDbConfigStore } from '../../adapters/dynamodb/config-store.ts';
import { ConflictError } from '../../domain/errors.ts';
import { configSk } from '../../adapters/dynamodb/keys.ts';
import type { StoredCertificate, StoredSettings } from '../../ports.ts';
import type { TrustFacts } from '../../domain/settings.ts';

/** What one attempt decided: write this (and answer `result` if it lands), or answer without writing. */
export type Plan<T> = { commit: ConfigCommit; result: T } | { unchanged: T };

/**
 * Enough attempts that a handful of concurrent admins always get through (each failed round means another
 * writer landed), few enough that a request stays well under the function's timeout.
 */
const MAX_ATTEMPTS = 8;

function pause(attempt: number): Promise<void> {
  const ceiling = Math.min(200, 15 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
}

/**
 * Runs `plan` (which reads the current state and throws the HTTP error of a rule it breaks) and commits its write;
 * when a guard fails because someone else changed what it read, plans again from a fresh read. A stale If-Match,
 * a deleted item or a newly broken rule therefore surfaces as the plan's own error on the next round.
 */
export async function commitOptimistically<T>(store: DynamoDbConfigStore, plan: () => Promise<Plan<T>>): Promise<T> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const next = await plan();
    if ('unchanged' in next) return next.unchanged;
    const outcome = await store.commitConfigChange(next.commit);
    if (outcome.ok) return next.result;
    await pause(attempt);
  }
  throw new ConflictError('CONCURRENT_MODIFICATION', 'Others changed the same configuration at the same moment; read it again and retry');
}

/** The settings and the trust material their rules depend on, read consistently item by item. */
export interface ConfigState {
  stored: StoredSettings;
  deviceCas: StoredCertificate[] | undefined;
  serverCertificate: StoredCertificate | undefined;
  pushCertificate: StoredCertificate | undefined;
}

export async function readConfigState(store: DynamoDbConfigStore): Promise<ConfigState> {
  const [stored, deviceCa, server, push] = await Promise.all([
    store.getSettings(),
    store.getConfigItem(configSk.deviceCa),
    store.getConfigItem(configSk.serverCertificate),
    store.getConfigItem(configSk.pushCertificate),
  ]);
  return {
    stored,
    deviceCas: deviceCa?.certificates as StoredCertificate[] | undefined,
    serverCertificate: server?.certificate as StoredCertificate | undefined,
    pushCertificate: push?.certificate as StoredCertificate | undefined,
  };
}

export function trustFactsOf(state: ConfigState): TrustFacts {
  return {
    deviceCaCount: state.deviceCas?.length ?? 0,
    serverCertificateSelfSigned: state.serverCertificate?.selfSigned,
    pushCertificateNotAfter: state.pushCertificate?.notAfter,
  };
}

/** Guard on the SETTINGS item being still at the version read (trust changes: their rules and history read it). */
export function settingsUnchanged(stored: StoredSettings): NonNullable<ConfigCommit['checks']>[number] {
  return { sk: configSk.settings, expect: { kind: 'SETTINGS_VERSION', version: stored.version } };
}

/** Expectation that a certificate item is still the one read (or still absent). */
export function certificateUnchanged(certificate: StoredCertificate | undefined) {
  return certificate ? ({ kind: 'CERTIFICATE', sha256: certificate.sha256 } as const) : ({ kind: 'ABSENT' } as const);
}
