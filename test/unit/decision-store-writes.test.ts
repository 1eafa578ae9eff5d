// The check-in's writes, built without DynamoDB: what each item holds, what guards it, and the keys of the sharded
// status index.
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { buildCheckinWrites } from '../../lib/adapters/dynamodb/decision-store.ts';
import { decodeFacts } from '../../lib/adapters/dynamodb/facts-codec.ts';
import { STATUS_SHARDS, statusShardOf } from '../../lib/adapters/dynamodb/keys.ts';
import { makeDecision } from '../support/decisions.ts';

const tables = { decisionsTable: 'Decisions', deviceStatusTable: 'DeviceStatus', retentionDays: 90, idempotencyRetentionDays: 3 };
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
const EPOCH = Date.parse('2026-11-25T18:00:00.000Z') / 1000;
const SHARD = `BLOCKED#${String(statusShardOf('MAC-1')).padStart(2, '0')}`;

describe('buildCheckinWrites', () => {
  const writes = buildCheckinWrites(tables, blocked, { statusCode: 403, body: '{"x":1}' }, { fingerprint: 'f'.repeat(64) });

  it('claims the checkinId only if no one has, keeping the answer, its certificate and its decision, for the idempotency retention', () => {
    expect(writes.claim.TableName).toBe('Decisions');
    expect(writes.claim.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(writes.claim.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    const { record, facts, ...claim } = unmarshall(writes.claim.Item!);
    expect(claim).toEqual({
      pk: 'CHECKIN#c-7',
      sk: 'CHECKIN',
      deviceId: 'MAC-1',
      evaluatedAt: '2026-11-25T18:00:00.000Z',
      statusCode: 403,
      body: '{"x":1}',
      fingerprint: 'f'.repeat(64),
      expiresAt: EPOCH + 3 * 86400,
    });
    // With the keys and the time above, the whole decision: what a retry needs to finish the check-in.
    const { checkinId: _c, deviceId: _d, evaluatedAt: _e, facts: _f, ...rest } = blocked;
    expect(JSON.parse(record)).toEqual(rest);
    expect(decodeFacts(facts, claim.evaluatedAt)).toEqual(blocked.facts);
  });

  it('keeps idempotency records 3 days when no retention is given', () => {
    const { idempotencyRetentionDays: _days, ...withoutRetention } = tables;
    expect(unmarshall(buildCheckinWrites(withoutRetention, blocked, { statusCode: 403, body: '' }, undefined).claim.Item!).expiresAt).toBe(EPOCH + 3 * 86400);
  });

  it('keeps no fingerprint when the answer is not bound', () => {
    const unbound = buildCheckinWrites(tables, blocked, { statusCode: 403, body: '' }, undefined);
    expect(unmarshall(unbound.claim.Item!)).not.toHaveProperty('fingerprint');
  });

  it('files the decision under the device, by time then checkinId, its facts compact, for the decision retention', () => {
    expect(writes.decision.ConditionExpression).toBeUndefined();
    const item = unmarshall(writes.decision.Item!);
    expect(typeof item.facts).toBe('string');
    expect({ ...item, facts: decodeFacts(item.facts, item.evaluatedAt) }).toEqual({ pk: 'DEVICE#MAC-1', sk: '2026-11-25T18:00:00.000Z#c-7', ...blocked, expiresAt: EPOCH + 90 * 86400 });
  });

  const status = {
    deviceId: 'MAC-1',
    status: 'BLOCKED',
    decision: 'BLOCK',
    violations: blocked.violations,
    violationCodes: ['PACKAGE_CHECKSUM_MISMATCH', 'SERVER_CERT_NOT_VERIFIED'],
    lastCheckinAt: '2026-11-25T18:00:00.000Z',
    checkinId: 'c-7',
    settingsVersion: 1,
    statusShard: SHARD,
    statusSk: '2026-11-25T18:00:00.000Z#MAC-1',
  };

  it('writes an unchanged status without the alert marker, only over the same decision and codes that is not newer', () => {
    const put = writes.steadyStatus;
    expect(put.TableName).toBe('DeviceStatus');
    expect(put.ConditionExpression).toBe('lastCheckinAt <= :evaluatedAt AND #status = :status AND violationCodes = :codes');
    expect(unmarshall(put.ExpressionAttributeValues!)).toEqual({ ':evaluatedAt': '2026-11-25T18:00:00.000Z', ':status': 'BLOCKED', ':codes': ['PACKAGE_CHECKSUM_MISMATCH', 'SERVER_CERT_NOT_VERIFIED'] });
    expect(put.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    const item = unmarshall(put.Item!);
    expect({ ...item, facts: decodeFacts(item.facts, item.lastCheckinAt) }).toEqual({ ...status, facts: blocked.facts });
  });

  it('writes a changed status with the alert marker, unless a newer check-in set it', () => {
    const put = writes.changedStatus;
    expect(put.ConditionExpression).toBe('attribute_not_exists(deviceId) OR lastCheckinAt <= :evaluatedAt');
    expect(unmarshall(put.ExpressionAttributeValues!)).toEqual({ ':evaluatedAt': '2026-11-25T18:00:00.000Z' });
    const item = unmarshall(put.Item!);
    expect({ ...item, facts: decodeFacts(item.facts, item.lastCheckinAt) }).toEqual({ ...status, facts: blocked.facts, alertRelevant: true });
  });
});

describe('statusShardOf', () => {
  it('is FNV-1a, pinned: the shard is stored, so changing the hash would hide every device until its next check-in', () => {
    // FNV-1a 32-bit of these ids (offset basis 0x811c9dc5, prime 0x01000193), modulo 16.
    expect(['C02XK1JHJG5J', 'D1', '00008103-001A2B3C4D5E6F7G'].map(statusShardOf)).toEqual([2, 6, 6]);
    expect(statusShardOf('')).toBe(0x811c9dc5 % STATUS_SHARDS);
  });

  it('spreads a fleet of serial numbers evenly: no shard holds more than 1.2 times its share of 100,000', () => {
    const counts = new Array<number>(STATUS_SHARDS).fill(0);
    for (let i = 0; i < 100_000; i += 1) counts[statusShardOf(`C02${i.toString(36).toUpperCase().padStart(9, '0')}`)] += 1;
    expect(Math.max(...counts)).toBeLessThan((100_000 / STATUS_SHARDS) * 1.2);
    expect(Math.min(...counts)).toBeGreaterThan((100_000 / STATUS_SHARDS) * 0.8);
  });
});
