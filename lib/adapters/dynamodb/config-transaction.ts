// The DynamoDB transaction of one config commit, built by pure functions (unit-tested without DynamoDB): the
// changed item, a condition for each expectation (on the changed item itself, or a ConditionCheck of another), the
// change counters (VERSION, moved only from the revision the commit was planned on), a revocation's log line, and
// the history line. Also what a cancelled transaction means. The imaging adapter writes its history lines with
// historyPut and guards the settings version with settingsVersionCheck.
import type { AttributeValue, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ConfigChange, ConfigCommit, ConfigExpectation, ConfigRevision, HistoryEntry } from '../../ports/config-store.ts';
import { CONFIG_PK, configSk, HISTORY_PK, historySk, REVOCATION_LOG_PK, revocationKey, revocationLogSk } from './keys.ts';

/** How long a revocation log line is kept: a container further behind than this reloads the revocations whole. */
export const REVOCATION_LOG_RETENTION_SECONDS = 24 * 60 * 60;

export interface Condition {
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
}

type Key = { pk: string; sk: string };

/** The item a change writes: its key and attributes (without keys); no attributes: it is deleted. */
export function changedItem(change: ConfigChange): Key & { attributes?: Record<string, unknown> } {
  if (change.kind === 'REVOCATION') return { ...revocationKey(change.sha256), attributes: change.record ? { ...change.record } : undefined };
  return { pk: CONFIG_PK, ...changedConfigItem(change) };
}

function changedConfigItem(change: Exclude<ConfigChange, { kind: 'REVOCATION' }>): { sk: string; attributes?: Record<string, unknown> } {
  switch (change.kind) {
    case 'SETTINGS':
      return { sk: configSk.settings, attributes: { ...change.stored } };
    case 'DEVICE_CAS':
      return { sk: configSk.deviceCa, attributes: { certificates: change.certificates } };
    case 'SERVER_CERTIFICATE':
      return { sk: configSk.serverCertificate, attributes: { certificate: change.certificate } };
    case 'PUSH_CERTIFICATE':
      return { sk: configSk.pushCertificate, attributes: change.certificate ? { certificate: change.certificate } : undefined };
    case 'PACKAGE':
      return { sk: configSk.package(change.packageId), attributes: change.record ? { ...change.record } : undefined };
    case 'EXEMPTION':
      return { sk: configSk.exemption(change.deviceId), attributes: change.exemption ? { ...change.exemption } : undefined };
  }
}

const presence = (stored: boolean): Condition => ({ ConditionExpression: stored ? 'attribute_exists(pk)' : 'attribute_not_exists(pk)' });

/** The SETTINGS item is stored, at `version` (a missing document matches no version: nothing is written over it). */
export function settingsVersionCondition(version: number): Condition {
  return {
    ConditionExpression: '#version = :version',
    ExpressionAttributeNames: { '#version': 'version' },
    ExpressionAttributeValues: { ':version': { N: String(version) } },
  };
}

/** A certificate item holds the certificate with this SHA-256 (null: there is no such item). */
function certificateCondition(sha256: string | null): Condition {
  if (sha256 === null) return presence(false);
  return {
    ConditionExpression: '#certificate.#sha256 = :sha256',
    ExpressionAttributeNames: { '#certificate': 'certificate', '#sha256': 'sha256' },
    ExpressionAttributeValues: { ':sha256': { S: sha256 } },
  };
}

const keyId = ({ pk, sk }: Key) => `${pk}\u0000${sk}`;

/**
 * Each expectation but configVersion (the VERSION update carries it) as a condition on one item, keyed by keyId.
 */
export function expectationConditions(expect: ConfigExpectation = {}): Map<string, { key: Key; condition: Condition }> {
  const conditions = new Map<string, { key: Key; condition: Condition }>();
  const add = (key: Key, condition: Condition) => conditions.set(keyId(key), { key, condition });
  const config = (sk: string): Key => ({ pk: CONFIG_PK, sk });
  if (expect.settingsVersion !== undefined) add(config(configSk.settings), settingsVersionCondition(expect.settingsVersion));
  if (expect.deviceCasStored !== undefined) add(config(configSk.deviceCa), presence(expect.deviceCasStored));
  if (expect.serverCertificate !== undefined) add(config(configSk.serverCertificate), certificateCondition(expect.serverCertificate));
  if (expect.pushCertificate !== undefined) add(config(configSk.pushCertificate), certificateCondition(expect.pushCertificate));
  if (expect.package) add(config(configSk.package(expect.package.packageId)), presence(expect.package.stored));
  if (expect.revocation) add(revocationKey(expect.revocation.sha256), presence(expect.revocation.stored));
  if (expect.exemption) add(config(configSk.exemption(expect.exemption.deviceId)), presence(expect.exemption.stored));
  return conditions;
}

const configKey = (sk: string) => marshall({ pk: CONFIG_PK, sk });

/** The revision after a commit of `change` on `current` (undefined: no counters stored yet). */
export function nextRevision(current: ConfigRevision | undefined, change: ConfigChange): ConfigRevision {
  const version = (current?.version ?? 0) + 1;
  const base = current ?? { version: 0, policyVersion: 0, revocationsVersion: 0 };
  return change.kind === 'REVOCATION' ? { ...base, version, revocationsVersion: version } : { ...base, version, policyVersion: version };
}

/**
 * The VERSION item moved from `current` to `next`, only if it is still at `current` (absent when undefined): two
 * commits planned on the same revision cannot both land.
 */
export function revisionUpdate(tableName: string, current: ConfigRevision | undefined, next: ConfigRevision, changedAt: string): TransactWriteItem {
  return {
    Put: {
      TableName: tableName,
      Item: marshall({ pk: CONFIG_PK, sk: configSk.version, ...next, changedAt }),
      ConditionExpression: current ? '#version = :current' : 'attribute_not_exists(pk)',
      ...(current && { ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':current': { N: String(current.version) } } }),
    },
  };
}

/** A revocation change's log line: what warm containers apply instead of reloading every revocation. */
export function revocationLogPut(tableName: string, change: Extract<ConfigChange, { kind: 'REVOCATION' }>, previousRevocationsVersion: number, next: ConfigRevision, nowSeconds: number): TransactWriteItem {
  const item = {
    pk: REVOCATION_LOG_PK,
    sk: revocationLogSk(next.version),
    version: next.version,
    previous: previousRevocationsVersion,
    sha256: change.sha256,
    ...(change.record ? { record: change.record } : { removed: true }),
    expiresAt: nowSeconds + REVOCATION_LOG_RETENTION_SECONDS,
  };
  return { Put: { TableName: tableName, Item: marshall(item, { removeUndefinedValues: true }) } };
}

/** The history line as a Put; `unique` (random) keeps two lines of the same millisecond and version apart. */
export function historyPut(tableName: string, entry: HistoryEntry, unique: string): TransactWriteItem {
  const { version, changedAt, actor, changes } = entry;
  const item = { pk: HISTORY_PK, sk: historySk(changedAt, version, unique), version, changedAt, actor, changes };
  return { Put: { TableName: tableName, Item: marshall(item, { removeUndefinedValues: true }) } };
}

/** A ConditionCheck that the settings are still at `version` (changes outside the config partition carry it). */
export function settingsVersionCheck(tableName: string, version: number): TransactWriteItem {
  return { ConditionCheck: { TableName: tableName, Key: configKey(configSk.settings), ...settingsVersionCondition(version) } };
}

/** What a commit lands on: the revision read just before it (undefined: none stored), and the time it is written. */
export interface CommitBase {
  current: ConfigRevision | undefined;
  nowSeconds: number;
  /** Random; keeps two history lines of the same millisecond and versions apart. */
  unique: string;
}

/**
 * The items of one commit: the write (under the condition on its own item, if any), a ConditionCheck per other
 * expectation (DynamoDB allows one operation per item in a transaction), the VERSION item moved from the revision
 * read, a revocation's log line, and the history line, last. The history line's key carries the new config version
 * after its time, so lines of the same millisecond list in commit order.
 */
export function buildConfigTransaction(tableName: string, commit: ConfigCommit, base: CommitBase): TransactWriteItem[] {
  const { pk, sk, attributes } = changedItem(commit.change);
  const conditions = expectationConditions(commit.expect);
  const own = conditions.get(keyId({ pk, sk }))?.condition ?? {};
  conditions.delete(keyId({ pk, sk }));
  const write: TransactWriteItem = attributes
    ? {
        Put: {
          TableName: tableName,
          Item: marshall({ ...attributes, pk, sk }, { removeUndefinedValues: true, convertClassInstanceToMap: true }),
          ...own,
        },
      }
    : { Delete: { TableName: tableName, Key: marshall({ pk, sk }), ...own } };
  const checks: TransactWriteItem[] = [...conditions.values()].map(({ key, condition }) => ({
    ConditionCheck: { TableName: tableName, Key: marshall(key), ...condition },
  }));
  const next = nextRevision(base.current, commit.change);
  const log = commit.change.kind === 'REVOCATION' ? [revocationLogPut(tableName, commit.change, base.current?.revocationsVersion ?? 0, next, base.nowSeconds)] : [];
  const history = historyPut(tableName, commit.history, `${revocationLogSk(next.version)}${base.unique}`);
  return [write, ...checks, revisionUpdate(tableName, base.current, next, commit.history.changedAt), ...log, history];
}

/** What a cancelled commit means, from its per-item reasons; undefined when it is neither (rethrow). */
export function interpretConfigCancellation(reasons: readonly { Code?: string }[]): 'EXPECTATION_FAILED' | 'CONCURRENT_CHANGE' | undefined {
  if (reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) return 'EXPECTATION_FAILED';
  if (reasons.some((reason) => reason.Code === 'TransactionConflict')) return 'CONCURRENT_CHANGE';
  return undefined;
}
