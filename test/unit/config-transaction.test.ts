// The config commit's DynamoDB transaction, built by pure functions: where each expectation's condition goes, and
// what a cancelled transaction means. (Run against DynamoDB by the ConfigStore contract suite.)
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { buildConfigTransaction, interpretConfigCancellation } from '../../lib/adapters/dynamodb/config-transaction.ts';
import type { ConfigCommit, RevocationRecord } from '../../lib/ports/config-store.ts';

const history = { version: 4, changedAt: '2026-11-25T18:06:03.120Z', actor: 'alice', changes: [{ field: 'packages', from: null, to: 'office' }] };
const office = { packageId: 'office', name: 'Office', checksum: null, updatedAt: history.changedAt, updatedBy: 'alice' };
/** Planned on revision 41 (the policy last changed at 40, the revocations at 41). */
const base = { current: { version: 41, policyVersion: 40, revocationsVersion: 41 }, nowSeconds: 1_800_000_000, unique: 'c0ffee00' };

describe('buildConfigTransaction', () => {
  it('puts the changed item under its own expectation, checks the others apart, moves the counters from the revision read, and writes the history line last', () => {
    const commit: ConfigCommit = {
      change: { kind: 'PACKAGE', packageId: 'office', record: office },
      expect: { settingsVersion: 4, package: { packageId: 'office', stored: false } },
      history,
    };
    const [write, check, counters, line, ...rest] = buildConfigTransaction('config', commit, base);
    expect(rest).toEqual([]);
    expect(write.Put).toMatchObject({ TableName: 'config', ConditionExpression: 'attribute_not_exists(pk)' });
    expect(unmarshall(write.Put!.Item!)).toEqual({ pk: 'CONFIG', sk: 'PACKAGE#office', ...office });
    expect(check.ConditionCheck).toEqual({
      TableName: 'config',
      Key: { pk: { S: 'CONFIG' }, sk: { S: 'SETTINGS' } },
      ConditionExpression: '#version = :version',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':version': { N: '4' } },
    });
    expect(counters.Put).toMatchObject({
      ConditionExpression: '#version = :current',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':current': { N: '41' } },
    });
    expect(unmarshall(counters.Put!.Item!)).toEqual({ pk: 'CONFIG', sk: 'VERSION', version: 42, policyVersion: 42, revocationsVersion: 41, changedAt: history.changedAt });
    // After the time and the settings version, the config version: lines of one millisecond list in commit order.
    expect(unmarshall(line.Put!.Item!)).toEqual({ pk: 'HISTORY', sk: '2026-11-25T18:06:03.120Z#000000000004#000000000042c0ffee00', ...history });
  });

  it('writes a revocation in its own partition with a log line that follows the last revocation change', () => {
    const record: RevocationRecord = { sha256: 'cd'.repeat(32), reason: 'lost', revokedAt: history.changedAt, revokedBy: 'alice' };
    const commit: ConfigCommit = { change: { kind: 'REVOCATION', sha256: record.sha256, record }, expect: { revocation: { sha256: record.sha256, stored: false } }, history };
    const [write, counters, log, line, ...rest] = buildConfigTransaction('config', commit, base);
    expect(rest).toEqual([]);
    expect(write.Put?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(unmarshall(write.Put!.Item!)).toEqual({ pk: 'REVOCATION#c', sk: record.sha256, ...record });
    expect(unmarshall(counters.Put!.Item!)).toEqual({ pk: 'CONFIG', sk: 'VERSION', version: 42, policyVersion: 40, revocationsVersion: 42, changedAt: history.changedAt });
    expect(unmarshall(log.Put!.Item!)).toEqual({
      pk: 'REVOCATION_LOG',
      sk: '000000000042',
      version: 42,
      previous: 41,
      sha256: record.sha256,
      record,
      expiresAt: 1_800_000_000 + 86_400,
    });
    expect(unmarshall(line.Put!.Item!).pk).toBe('HISTORY');
  });

  it('logs an unrevocation as removed, and starts the counters when none are stored', () => {
    const commit: ConfigCommit = { change: { kind: 'REVOCATION', sha256: 'cd'.repeat(32), record: null }, history };
    const [write, counters, log] = buildConfigTransaction('config', commit, { ...base, current: undefined });
    expect(write).toEqual({ Delete: { TableName: 'config', Key: { pk: { S: 'REVOCATION#c' }, sk: { S: 'cd'.repeat(32) } } } });
    expect(counters.Put?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(unmarshall(counters.Put!.Item!)).toEqual({ pk: 'CONFIG', sk: 'VERSION', version: 1, policyVersion: 0, revocationsVersion: 1, changedAt: history.changedAt });
    expect(unmarshall(log.Put!.Item!)).toEqual({ pk: 'REVOCATION_LOG', sk: '000000000001', version: 1, previous: 0, sha256: 'cd'.repeat(32), removed: true, expiresAt: 1_800_000_000 + 86_400 });
  });

  it.each([
    // [expectation, the condition on its item]
    [{ settingsVersion: 1 }, '#version = :version'],
    [{ deviceCasStored: true }, 'attribute_exists(pk)'],
    [{ serverCertificate: null }, 'attribute_not_exists(pk)'],
    [{ pushCertificate: 'ab'.repeat(32) }, '#certificate.#sha256 = :sha256'],
    [{ revocation: { sha256: 'cd'.repeat(32), stored: true } }, 'attribute_exists(pk)'],
  ])('%j → %s', (expect_, condition) => {
    const items = buildConfigTransaction('config', { change: { kind: 'DEVICE_CAS', certificates: [] }, expect: expect_, history }, base);
    const conditioned = items.map((item) => item.Put?.ConditionExpression ?? item.ConditionCheck?.ConditionExpression).filter(Boolean);
    expect(conditioned).toEqual([condition, '#version = :current']);
  });

  it('deletes for a removal, without a condition when nothing is expected', () => {
    const [write] = buildConfigTransaction('config', { change: { kind: 'PUSH_CERTIFICATE', certificate: null }, history }, base);
    expect(write).toEqual({ Delete: { TableName: 'config', Key: { pk: { S: 'CONFIG' }, sk: { S: 'PUSH_CERTIFICATE' } } } });
  });
});

describe('interpretConfigCancellation', () => {
  it.each([
    // [per-item reasons, meaning]
    [[{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }, { Code: 'None' }], 'EXPECTATION_FAILED'],
    [[{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }, { Code: 'None' }], 'EXPECTATION_FAILED'],
    [[{ Code: 'None' }, { Code: 'TransactionConflict' }], 'CONCURRENT_CHANGE'],
    [[{ Code: 'ValidationError' }], undefined],
  ])('%j → %s', (reasons, meaning) => {
    expect(interpretConfigCancellation(reasons)).toBe(meaning);
  });
});
