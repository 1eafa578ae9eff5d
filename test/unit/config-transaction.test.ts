// The config commit's DynamoDB transaction, built by pure functions: where each expectation's condition goes, and
// what a cancelled transaction means. (Run against DynamoDB by the ConfigStore contract suite.)
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { buildConfigTransaction, interpretConfigCancellation } from '../../lib/adapters/dynamodb/config-transaction.ts';
import type { ConfigCommit } from '../../lib/ports/config-store.ts';

const history = { version: 4, changedAt: '2026-11-25T18:06:03.120Z', actor: 'alice', changes: [{ field: 'packages', from: null, to: 'office' }] };
const office = { packageId: 'office', name: 'Office', checksum: null, updatedAt: history.changedAt, updatedBy: 'alice' };

describe('buildConfigTransaction', () => {
  it('puts the changed item under its own expectation, checks the others apart, and writes the history line last', () => {
    const commit: ConfigCommit = {
      change: { kind: 'PACKAGE', packageId: 'office', record: office },
      expect: { settingsVersion: 4, package: { packageId: 'office', stored: false } },
      history,
    };
    const [write, check, line, ...rest] = buildConfigTransaction('config', commit, 'c0ffee00');
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
    expect(unmarshall(line.Put!.Item!)).toEqual({ pk: 'HISTORY', sk: '2026-11-25T18:06:03.120Z#000000000004#c0ffee00', ...history });
  });

  it.each([
    // [expectation, the condition on its item]
    [{ settingsVersion: 1 }, 'attribute_not_exists(pk) OR #version = :version'],
    [{ deviceCasStored: true }, 'attribute_exists(pk)'],
    [{ serverCertificate: null }, 'attribute_not_exists(pk)'],
    [{ pushCertificate: 'ab'.repeat(32) }, '#certificate.#sha256 = :sha256'],
    [{ revocation: { sha256: 'cd'.repeat(32), stored: true } }, 'attribute_exists(pk)'],
  ])('%j → %s', (expect_, condition) => {
    const items = buildConfigTransaction('config', { change: { kind: 'DEVICE_CAS', certificates: [] }, expect: expect_, history }, 'x');
    const conditioned = items.map((item) => item.Put?.ConditionExpression ?? item.ConditionCheck?.ConditionExpression).filter(Boolean);
    expect(conditioned).toEqual([condition]);
  });

  it('deletes for a removal, without a condition when nothing is expected', () => {
    const [write] = buildConfigTransaction('config', { change: { kind: 'PUSH_CERTIFICATE', certificate: null }, history }, 'x');
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
