// The DynamoDB transaction of one config commit, built by pure functions (unit-tested without DynamoDB): the
// changed item, a condition for each expectation (on the changed item itself, or a ConditionCheck of another), and
// the history line. Also what a cancelled transaction means. The imaging adapter writes its history lines with
// historyPut and guards the settings version with settingsVersionCheck.
import type { AttributeValue, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ConfigChange, ConfigCommit, ConfigExpectation, HistoryEntry } from '../../ports/config-store.ts';
import { CONFIG_PK, configSk, HISTORY_PK, historySk } from './keys.ts';

export interface Condition {
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
}

/** The config item a change writes: its sort key and attributes (without keys); no attributes: it is deleted. */
export function changedItem(change: ConfigChange): { sk: string; attributes?: Record<string, unknown> } {
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
    case 'REVOCATION':
      return { sk: configSk.revocation(change.sha256), attributes: change.record ? { ...change.record } : undefined };
    case 'EXEMPTION':
      return { sk: configSk.exemption(change.deviceId), attributes: change.exemption ? { ...change.exemption } : undefined };
  }
}

const presence = (stored: boolean): Condition => ({ ConditionExpression: stored ? 'attribute_exists(pk)' : 'attribute_not_exists(pk)' });

/** The SETTINGS item is at `version`; version 1 also matches a fresh installation, where the item is absent. */
export function settingsVersionCondition(version: number): Condition {
  return {
    ConditionExpression: version === 1 ? 'attribute_not_exists(pk) OR #version = :version' : '#version = :version',
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

/** Each expectation as a condition on one config item, keyed by sort key. */
export function expectationConditions(expect: ConfigExpectation = {}): Map<string, Condition> {
  const conditions = new Map<string, Condition>();
  if (expect.settingsVersion !== undefined) conditions.set(configSk.settings, settingsVersionCondition(expect.settingsVersion));
  if (expect.deviceCasStored !== undefined) conditions.set(configSk.deviceCa, presence(expect.deviceCasStored));
  if (expect.serverCertificate !== undefined) conditions.set(configSk.serverCertificate, certificateCondition(expect.serverCertificate));
  if (expect.pushCertificate !== undefined) conditions.set(configSk.pushCertificate, certificateCondition(expect.pushCertificate));
  if (expect.package) conditions.set(configSk.package(expect.package.packageId), presence(expect.package.stored));
  if (expect.revocation) conditions.set(configSk.revocation(expect.revocation.sha256), presence(expect.revocation.stored));
  if (expect.exemption) conditions.set(configSk.exemption(expect.exemption.deviceId), presence(expect.exemption.stored));
  return conditions;
}

const configKey = (sk: string) => marshall({ pk: CONFIG_PK, sk });

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

/**
 * The items of one commit: the write (under the condition on its own item, if any), a ConditionCheck per other
 * expectation (DynamoDB allows one operation per item in a transaction), and the history line, last.
 */
export function buildConfigTransaction(tableName: string, commit: ConfigCommit, unique: string): TransactWriteItem[] {
  const { sk, attributes } = changedItem(commit.change);
  const conditions = expectationConditions(commit.expect);
  const own = conditions.get(sk) ?? {};
  conditions.delete(sk);
  const write: TransactWriteItem = attributes
    ? {
        Put: {
          TableName: tableName,
          Item: marshall({ ...attributes, pk: CONFIG_PK, sk }, { removeUndefinedValues: true, convertClassInstanceToMap: true }),
          ...own,
        },
      }
    : { Delete: { TableName: tableName, Key: configKey(sk), ...own } };
  const checks: TransactWriteItem[] = [...conditions].map(([checkedSk, condition]) => ({
    ConditionCheck: { TableName: tableName, Key: configKey(checkedSk), ...condition },
  }));
  return [write, ...checks, historyPut(tableName, commit.history, unique)];
}

/** What a cancelled commit means, from its per-item reasons; undefined when it is neither (rethrow). */
export function interpretConfigCancellation(reasons: readonly { Code?: string }[]): 'EXPECTATION_FAILED' | 'CONCURRENT_CHANGE' | undefined {
  if (reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) return 'EXPECTATION_FAILED';
  if (reasons.some((reason) => reason.Code === 'TransactionConflict')) return 'CONCURRENT_CHANGE';
  return undefined;
}
