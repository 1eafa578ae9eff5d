// The check-in record transaction, built and interpreted without DynamoDB: what each write holds and guards, and
// what each way a transaction can be cancelled means.
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { buildRecordTransaction, interpretCancellation } from '../../lib/adapters/dynamodb/decision-store.ts';
import { makeDecision } from '../support/decisions.ts';

const tables = { decisionsTable: 'Decisions', deviceStatusTable: 'DeviceStatus', retentionDays: 90 };
const blocked = makeDecision({
  checkinId: 'c-7',
  deviceId: 'MAC-1',
  decision: 'BLOCK',
  violations: [
    { code: 'SERVER_CERT_NOT_VERIFIED', message: 'm' },
    { code: 'PACKAGE_CHECKSUM_MISMATCH', message: 'm', packageId: 'a' },
    { code: 'PACKAGE_CHECKSUM_MISMATCH', message: 'm', packageId: 'b' },
  ],
  evaluatedAt: '2026-11-25T18:00:00.000Z',
  statusCode: 403,
});
const EXPIRES = Date.parse('2026-11-25T18:00:00.000Z') / 1000 + 90 * 86400;

describe('buildRecordTransaction', () => {
  const writes = buildRecordTransaction(tables, blocked, { statusCode: 403, body: '{"x":1}' }, { fingerprint: 'f'.repeat(64) });

  it('claims the checkinId only if no one has, keeping the answer and the certificate it is bound to', () => {
    const put = writes.idempotencyPut.Put!;
    expect(put.TableName).toBe('Decisions');
    expect(put.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(put.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    expect(unmarshall(put.Item!)).toEqual({ pk: 'CHECKIN#c-7', sk: 'CHECKIN', deviceId: 'MAC-1', statusCode: 403, body: '{"x":1}', fingerprint: 'f'.repeat(64), expiresAt: EXPIRES });
  });

  it('keeps no fingerprint when the answer is not bound', () => {
    const unbound = buildRecordTransaction(tables, blocked, { statusCode: 403, body: '' }, undefined);
    expect(unmarshall(unbound.idempotencyPut.Put!.Item!)).not.toHaveProperty('fingerprint');
  });

  it('files the decision under the device, by time then checkinId, with the retention TTL', () => {
    const put = writes.decisionPut.Put!;
    expect(put.ConditionExpression).toBeUndefined();
    expect(unmarshall(put.Item!)).toEqual({ pk: 'DEVICE#MAC-1', sk: '2026-11-25T18:00:00.000Z#c-7', ...blocked, expiresAt: EXPIRES });
  });

  it('sets the status only if no newer check-in of the device set it, with the distinct violation codes sorted', () => {
    const put = writes.statusPut.Put!;
    expect(put.TableName).toBe('DeviceStatus');
    expect(put.ConditionExpression).toBe('attribute_not_exists(deviceId) OR lastCheckinAt <= :evaluatedAt');
    expect(put.ExpressionAttributeValues).toEqual({ ':evaluatedAt': { S: '2026-11-25T18:00:00.000Z' } });
    expect(unmarshall(put.Item!)).toEqual({
      deviceId: 'MAC-1',
      status: 'BLOCKED',
      decision: 'BLOCK',
      violations: blocked.violations,
      violationCodes: ['PACKAGE_CHECKSUM_MISMATCH', 'SERVER_CERT_NOT_VERIFIED'],
      lastCheckinAt: '2026-11-25T18:00:00.000Z',
      checkinId: 'c-7',
      settingsVersion: 1,
      // The latest observations, for the impact preview.
      facts: blocked.facts,
    });
  });
});

describe('interpretCancellation', () => {
  const existing = { pk: { S: 'CHECKIN#c-7' } };
  it.each([
    // [case, reasons (idempotency, decision, status), status write included, verdict]
    ['the checkinId was taken, record returned', [{ Code: 'ConditionalCheckFailed', Item: existing }, { Code: 'None' }, { Code: 'None' }], true, { kind: 'ALREADY_RECORDED', existing }],
    ['the checkinId was taken, no record returned', [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }], false, { kind: 'ALREADY_RECORDED', existing: undefined }],
    ['a newer status', [{ Code: 'None' }, { Code: 'None' }, { Code: 'ConditionalCheckFailed' }], true, { kind: 'NEWER_STATUS' }],
    ['a taken id wins over a newer status', [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }, { Code: 'ConditionalCheckFailed' }], true, { kind: 'ALREADY_RECORDED', existing: undefined }],
    ['a concurrent transaction', [{ Code: 'TransactionConflict' }, { Code: 'None' }, { Code: 'None' }], true, { kind: 'TRANSIENT' }],
    ['throttled', [{ Code: 'None' }, { Code: 'ThrottlingError' }], false, { kind: 'TRANSIENT' }],
    ['over provisioned throughput', [{ Code: 'None' }, { Code: 'None' }, { Code: 'ProvisionedThroughputExceeded' }], true, { kind: 'TRANSIENT' }],
    ['a validation error', [{ Code: 'ValidationError' }, { Code: 'None' }, { Code: 'None' }], true, { kind: 'OTHER' }],
    ['no reasons at all', [], true, { kind: 'OTHER' }],
  ])('%s', (_case, reasons, withStatus, verdict) => {
    expect(interpretCancellation(reasons, { withStatus })).toEqual(verdict);
  });
});
