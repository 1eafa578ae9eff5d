// DynamoDbDecisionStore against DynamoDB Local: record, replay, conflict, concurrent retries, claims whose writer
// failed, the alert marker, the sharded status index and its listings.
import { GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCheckinWrites, DynamoDbDecisionStore } from '../../lib/adapters/dynamodb/decision-store.ts';
import { InvalidPageTokenError } from '../../lib/ports/errors.ts';
import { createTestTables, type TestTables } from '../support/dynamodb.ts';
import { makeDecision } from '../support/decisions.ts';

let tables: TestTables;
const TABLE_NAMES = () => ({ decisionsTable: tables.names.decisionsTable, deviceStatusTable: tables.names.deviceStatusTable });
let store: DynamoDbDecisionStore;

const decision = makeDecision;

beforeAll(async () => {
  tables = await createTestTables();
  // The fixed times below lie in the past: idempotency records are kept long enough that DynamoDB Local's TTL leaves them.
  store = new DynamoDbDecisionStore(tables.client, { ...TABLE_NAMES(), retentionDays: 90, idempotencyRetentionDays: 36500 });
});

async function itemCount(table: string): Promise<number> {
  return (await tables.client.send(new ScanCommand({ TableName: table, Select: 'COUNT' }))).Count ?? 0;
}

describe('record', () => {
  it('writes the idempotency record, the decision and the device status, each with its TTL', async () => {
    const shortLived = new DynamoDbDecisionStore(tables.client, { ...TABLE_NAMES(), retentionDays: 90, idempotencyRetentionDays: 3 });
    const evaluatedAt = new Date().toISOString();
    const recorded = decision({ checkinId: 'r-1', deviceId: 'REC1', evaluatedAt });
    expect(await shortLived.record(recorded, { statusCode: 200, body: '{"x":1}' })).toEqual({ outcome: 'RECORDED' });
    const status = await tables.client.send(new GetItemCommand({ TableName: tables.names.deviceStatusTable, Key: { deviceId: { S: 'REC1' } } }));
    expect(unmarshall(status.Item!)).toMatchObject({ deviceId: 'REC1', status: 'ACCEPTED', checkinId: 'r-1', violationCodes: [], alertRelevant: true });
    expect((await store.listDecisions('REC1', 10)).items).toEqual([recorded]);
    const epochSeconds = Date.parse(evaluatedAt) / 1000;
    const idempotency = await tables.client.send(new GetItemCommand({ TableName: tables.names.decisionsTable, Key: { pk: { S: 'CHECKIN#r-1' }, sk: { S: 'CHECKIN' } } }));
    expect(unmarshall(idempotency.Item!).expiresAt).toBe(Math.floor(epochSeconds) + 3 * 86400);
    const decisionItem = await tables.client.send(new GetItemCommand({ TableName: tables.names.decisionsTable, Key: { pk: { S: 'DEVICE#REC1' }, sk: { S: `${evaluatedAt}#r-1` } } }));
    expect(unmarshall(decisionItem.Item!).expiresAt).toBe(Math.floor(epochSeconds) + 90 * 86400);
  });

  it('replays the first answer for the same device and writes nothing new', async () => {
    await store.record(decision({ checkinId: 'r-2', deviceId: 'REC2', decision: 'BLOCK', statusCode: 403 }), { statusCode: 403, body: 'first' });
    const before = await itemCount(tables.names.decisionsTable);
    const outcome = await store.record(decision({ checkinId: 'r-2', deviceId: 'REC2', evaluatedAt: '2026-11-25T18:05:00.000Z' }), { statusCode: 200, body: 'second' });
    expect(outcome).toEqual({ outcome: 'REPLAY', response: { statusCode: 403, body: 'first' } });
    expect(await itemCount(tables.names.decisionsTable)).toBe(before);
    expect((await store.listDecisions('REC2', 10)).items).toHaveLength(1);
  });

  it('answers CONFLICT for the same checkinId from another device', async () => {
    await store.record(decision({ checkinId: 'r-3', deviceId: 'REC3' }), { statusCode: 200, body: 'a' });
    expect(await store.record(decision({ checkinId: 'r-3', deviceId: 'OTHER' }), { statusCode: 200, body: 'b' })).toEqual({ outcome: 'CONFLICT' });
    expect((await store.listDecisions('OTHER', 10)).items).toEqual([]);
  });

  it('records exactly once when the same check-in is retried concurrently', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.record(decision({ checkinId: 'r-4', deviceId: 'REC4', evaluatedAt: `2026-11-25T18:00:0${i}.000Z` }), { statusCode: 200, body: `answer ${i}` }),
      ),
    );
    const recorded = attempts.filter((a) => a.outcome === 'RECORDED');
    expect(recorded).toHaveLength(1);
    const replays = attempts.filter((a) => a.outcome === 'REPLAY');
    expect(replays).toHaveLength(7);
    expect(new Set(replays.map((r) => (r.outcome === 'REPLAY' ? r.response.body : '')))).toHaveProperty('size', 1);
    expect((await store.listDecisions('REC4', 10)).items).toHaveLength(1);
  });
});

describe('record, out of order', () => {
  it('records a check-in that finishes after a newer one, without turning the status back', async () => {
    await store.record(decision({ checkinId: 'o-2', deviceId: 'ORDER', decision: 'BLOCK', evaluatedAt: '2026-11-25T18:00:02.000Z' }), { statusCode: 403, body: '' });
    const late = await store.record(decision({ checkinId: 'o-1', deviceId: 'ORDER', decision: 'ACCEPT', evaluatedAt: '2026-11-25T18:00:01.000Z' }), { statusCode: 200, body: 'late' });
    expect(late).toEqual({ outcome: 'RECORDED' });
    expect((await store.listDecisions('ORDER', 10)).items.map((d) => d.checkinId)).toEqual(['o-2', 'o-1']);
    const status = await tables.client.send(new GetItemCommand({ TableName: tables.names.deviceStatusTable, Key: { deviceId: { S: 'ORDER' } } }));
    expect(unmarshall(status.Item!)).toMatchObject({ checkinId: 'o-2', status: 'BLOCKED' });
    // and its retry is still a replay of its own answer
    expect(await store.record(decision({ checkinId: 'o-1', deviceId: 'ORDER' }), { statusCode: 200, body: 'x' })).toEqual({ outcome: 'REPLAY', response: { statusCode: 200, body: 'late' } });
  });
});

describe('listDecisions', () => {
  it('pages newest first with an opaque token, and refuses a tampered one', async () => {
    const recorded = Array.from({ length: 5 }, (_, i) => decision({ checkinId: `p-${i}`, deviceId: 'PAGED', evaluatedAt: `2026-11-25T18:00:0${i}.000Z` }));
    for (const each of recorded) await store.record(each, { statusCode: 200, body: '' });
    const [p0, p1, p2, p3, p4] = recorded;
    const first = await store.listDecisions('PAGED', 2);
    expect(first.items).toEqual([p4, p3]);
    expect(first.nextToken).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await store.listDecisions('PAGED', 2, first.nextToken);
    expect(second.items).toEqual([p2, p1]);
    expect(second.nextToken).toMatch(/^[A-Za-z0-9_-]+$/);
    // The last page holds the oldest decision and no token: the listing ends there.
    const third = await store.listDecisions('PAGED', 2, second.nextToken);
    expect(third.items).toEqual([p0]);
    expect(third.nextToken).toBeUndefined();

    const tampered = Buffer.from(JSON.stringify({ pk: 'DEVICE#OTHER', sk: 'x' })).toString('base64url');
    for (const token of [tampered, 'not a token!', Buffer.from('[]').toString('base64url'), 'e30']) {
      await expect(store.listDecisions('PAGED', 2, token)).rejects.toBeInstanceOf(InvalidPageTokenError);
    }
  });
});

describe('listDevices', () => {
  it('lists devices by their latest status through the index, most recent first', async () => {
    await store.record(decision({ checkinId: 's-1', deviceId: 'S1', decision: 'BLOCK', violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'm' }], evaluatedAt: '2026-11-26T10:00:00.000Z' }), { statusCode: 403, body: '' });
    await store.record(decision({ checkinId: 's-2', deviceId: 'S2', decision: 'BLOCK', evaluatedAt: '2026-11-26T11:00:00.000Z' }), { statusCode: 403, body: '' });
    await store.record(decision({ checkinId: 's-3', deviceId: 'S2', decision: 'ACCEPT', evaluatedAt: '2026-11-26T12:00:00.000Z' }), { statusCode: 200, body: '' });
    const blocked = await store.listDevices('BLOCKED', 50);
    // REC2 and ORDER were blocked earlier in this file, at older times; S2 recovered and is no longer listed.
    expect(blocked.items.map((d) => d.deviceId)).toEqual(['S1', 'ORDER', 'REC2']);
    expect(blocked.items[0]).toEqual({
      deviceId: 'S1',
      status: 'BLOCKED',
      decision: 'BLOCK',
      violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'm' }],
      lastCheckinAt: '2026-11-26T10:00:00.000Z',
      checkinId: 's-1',
      settingsVersion: 1,
      facts: decision({}).facts,
    });
    // One device per page, following each nextToken to the end: every accepted device of this file once, most
    // recent first (REC1 was recorded now, the others at fixed past times; REC4 is whichever of its concurrent retries
    // was recorded).
    const pages: Awaited<ReturnType<typeof store.listDevices>>['items'][] = [];
    let token: string | undefined;
    do {
      const page = await store.listDevices('ACCEPTED', 1, token);
      pages.push(page.items);
      token = page.nextToken;
    } while (token !== undefined && pages.length < 10);
    const accepted = pages.flat();
    // DynamoDB cannot know that the fifth device was the last one, so an empty sixth page may end the listing.
    expect(pages.map((items) => items.length).join(' ')).toMatch(/^1 1 1 1 1( 0)?$/);
    expect(accepted.slice(0, 2).map((d) => d.deviceId)).toEqual(['REC1', 'S2']);
    expect(accepted.map((d) => d.deviceId).sort()).toEqual(['PAGED', 'REC1', 'REC3', 'REC4', 'S2']);
    const times = accepted.map((d) => d.lastCheckinAt);
    expect(times).toEqual([...times].sort().reverse());
    // a token is bound to the listing it came from
    const first = await store.listDevices('ACCEPTED', 1);
    await expect(store.listDevices('BLOCKED', 1, first.nextToken)).rejects.toBeInstanceOf(InvalidPageTokenError);
  });
});

async function statusItem(deviceId: string): Promise<Record<string, unknown>> {
  const result = await tables.client.send(new GetItemCommand({ TableName: tables.names.deviceStatusTable, Key: { deviceId: { S: deviceId } } }));
  return unmarshall(result.Item!);
}

describe('the alert marker on the status', () => {
  it.each([
    // [case, the device's previous check-in (none for a new device), this check-in, marked]
    ['a new device', undefined, { decision: 'ACCEPT' as const, violations: [] }, true],
    ['accepted again', { decision: 'ACCEPT' as const, violations: [] }, { decision: 'ACCEPT' as const, violations: [] }, false],
    ['turns blocked', { decision: 'ACCEPT' as const, violations: [] }, { decision: 'BLOCK' as const, violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'm' }] }, true],
    ['blocked again with the same codes', { decision: 'BLOCK' as const, violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'a' }] }, { decision: 'BLOCK' as const, violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'b' }] }, false],
    ['blocked with another code', { decision: 'BLOCK' as const, violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'm' }] }, { decision: 'BLOCK' as const, violations: [{ code: 'SERVER_CERT_NOT_VERIFIED', message: 'm' }] }, true],
    ['recovers', { decision: 'BLOCK' as const, violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'm' }] }, { decision: 'ACCEPT' as const, violations: [] }, true],
  ])('%s', async (name, previous, current, marked) => {
    const deviceId = `MARK-${name.replaceAll(' ', '-')}`;
    if (previous) await store.record(decision({ checkinId: `${deviceId}-1`, deviceId, ...previous, evaluatedAt: '2026-11-27T10:00:00.000Z' }), { statusCode: 200, body: '' });
    await store.record(decision({ checkinId: `${deviceId}-2`, deviceId, ...current, evaluatedAt: '2026-11-27T10:15:00.000Z' }), { statusCode: 200, body: '' });
    const item = await statusItem(deviceId);
    expect(item).toMatchObject({ checkinId: `${deviceId}-2`, lastCheckinAt: '2026-11-27T10:15:00.000Z', violations: current.violations });
    expect(item.alertRelevant).toBe(marked ? true : undefined);
  });

  it('a late check-in neither turns the status back nor marks it', async () => {
    await store.record(decision({ checkinId: 'late-2', deviceId: 'MARK-LATE', decision: 'BLOCK', violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'm' }], evaluatedAt: '2026-11-27T11:00:00.000Z' }), { statusCode: 403, body: '' });
    await store.record(decision({ checkinId: 'late-3', deviceId: 'MARK-LATE', decision: 'BLOCK', violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'm' }], evaluatedAt: '2026-11-27T11:15:00.000Z' }), { statusCode: 403, body: '' });
    await store.record(decision({ checkinId: 'late-1', deviceId: 'MARK-LATE', evaluatedAt: '2026-11-27T10:45:00.000Z' }), { statusCode: 200, body: '' });
    const item = await statusItem('MARK-LATE');
    expect([item.checkinId, item.status, item.alertRelevant]).toEqual(['late-3', 'BLOCKED', undefined]);
  });
});

describe('the sharded status index', () => {
  it('files each status under its shard, and lists every shard merged newest first, page by page', async () => {
    const sharded = new DynamoDbDecisionStore(tables.client, { ...TABLE_NAMES(), retentionDays: 36500, idempotencyRetentionDays: 36500 });
    const devices = Array.from({ length: 40 }, (_, i) => ({ deviceId: `SHARD-${i}`, at: `2029-01-01T00:${String(59 - ((i * 7) % 60)).padStart(2, '0')}:00.000Z` }));
    // Two devices at the same millisecond: the order falls back to deviceId, newest (greatest) first.
    devices.push({ deviceId: 'SHARD-TIE-A', at: '2029-01-01T00:30:30.000Z' }, { deviceId: 'SHARD-TIE-B', at: '2029-01-01T00:30:30.000Z' });
    for (const { deviceId, at } of devices) await sharded.record(decision({ checkinId: `${deviceId}-c`, deviceId, decision: 'BLOCK', evaluatedAt: at }), { statusCode: 403, body: '' });
    expect(new Set(await Promise.all(devices.map(async ({ deviceId }) => (await statusItem(deviceId)).statusShard))).size).toBeGreaterThan(8);
    expect(await statusItem('SHARD-TIE-A')).toMatchObject({ statusShard: expect.stringMatching(/^BLOCKED#(0\d|1[0-5])$/), statusSk: '2029-01-01T00:30:30.000Z#SHARD-TIE-A' });

    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await sharded.listDevices('BLOCKED', 7, token);
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items.map((d) => d.deviceId).filter((id) => id.startsWith('SHARD-')));
      token = page.nextToken;
    } while (token);
    const expected = [...devices].sort((a, b) => b.at.localeCompare(a.at) || b.deviceId.localeCompare(a.deviceId)).map((d) => d.deviceId);
    expect(seen).toEqual(expected);
  });

  it('a status written before the shards is absent from the listing until the device checks in again', async () => {
    await tables.client.send(
      new PutItemCommand({
        TableName: tables.names.deviceStatusTable,
        Item: marshall({ deviceId: 'LEGACY-1', status: 'BLOCKED', decision: 'BLOCK', violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'm' }], violationCodes: ['CLOCK_SKEW_EXCEEDED'], lastCheckinAt: '2030-01-01T00:00:00.000Z', checkinId: 'legacy-0', settingsVersion: 1 }),
      }),
    );
    const listed = async () => (await store.listDevices('BLOCKED', 500)).items.filter((d) => d.deviceId === 'LEGACY-1').map((d) => d.checkinId);
    expect(await listed()).toEqual([]);
    await store.record(decision({ checkinId: 'legacy-1', deviceId: 'LEGACY-1', decision: 'BLOCK', violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'n' }], evaluatedAt: '2030-01-01T00:15:00.000Z' }), { statusCode: 403, body: '' });
    expect(await listed()).toEqual(['legacy-1']);
    // Same decision, same codes: not an alert-relevant change.
    expect((await statusItem('LEGACY-1')).alertRelevant).toBeUndefined();
  });
});

describe('a claim without its decision', () => {
  const earlier = decision({ checkinId: 'half-1', deviceId: 'HALF', decision: 'BLOCK', violations: [{ code: 'CLOCK_SKEW_EXCEEDED', message: 'm' }], evaluatedAt: '2026-11-28T12:00:00.000Z', statusCode: 403 });
  const writesOf = (recorded: typeof earlier) => buildCheckinWrites({ ...TABLE_NAMES(), retentionDays: 36500, idempotencyRetentionDays: 36500 }, recorded, { statusCode: 403, body: 'blocked' }, undefined);

  it("its writer failed after the claim: the device's retry stores the claim's decision and status, then replays its answer", async () => {
    await tables.client.send(new PutItemCommand(writesOf(earlier).claim));
    expect(await store.record({ ...earlier, decision: 'ACCEPT', violations: [], evaluatedAt: '2026-11-28T12:00:02.000Z' }, { statusCode: 200, body: 'again' })).toEqual({
      outcome: 'REPLAY',
      response: { statusCode: 403, body: 'blocked' },
    });
    expect((await store.listDecisions('HALF', 10)).items).toEqual([earlier]);
    expect(await statusItem('HALF')).toMatchObject({ checkinId: 'half-1', status: 'BLOCKED', lastCheckinAt: '2026-11-28T12:00:00.000Z', alertRelevant: true });
  });

  it('its decision was stored but not its status: the retry finishes the status before replaying, and records no second decision', async () => {
    const second = { ...earlier, checkinId: 'half-2', deviceId: 'HALF-2' };
    await tables.client.send(new PutItemCommand(writesOf(second).claim));
    await tables.client.send(new PutItemCommand(writesOf(second).decision));
    expect(await store.record({ ...second, evaluatedAt: '2026-11-28T12:00:02.000Z' }, { statusCode: 403, body: 'again' })).toEqual({ outcome: 'REPLAY', response: { statusCode: 403, body: 'blocked' } });
    expect((await store.listDecisions('HALF-2', 10)).items).toEqual([second]);
    expect(await statusItem('HALF-2')).toMatchObject({ checkinId: 'half-2', status: 'BLOCKED' });
  });

  it('another device still conflicts, and nothing of the claim is written for it', async () => {
    const third = { ...earlier, checkinId: 'half-3', deviceId: 'OWNER' };
    await tables.client.send(new PutItemCommand(writesOf(third).claim));
    expect(await store.record(decision({ checkinId: 'half-3', deviceId: 'INTRUDER' }), { statusCode: 200, body: 'x' })).toEqual({ outcome: 'CONFLICT' });
    expect((await store.listDecisions('OWNER', 10)).items).toEqual([]);
  });

  it('a claim written before claims carried their decision (with its decision and status, in one transaction) is replayed as it is', async () => {
    await tables.client.send(
      new PutItemCommand({
        TableName: tables.names.decisionsTable,
        Item: marshall({ pk: 'CHECKIN#old-1', sk: 'CHECKIN', deviceId: 'OLD', statusCode: 200, body: 'recorded before', expiresAt: 4102444800 }),
      }),
    );
    expect(await store.record(decision({ checkinId: 'old-1', deviceId: 'OLD' }), { statusCode: 200, body: 'x' })).toEqual({ outcome: 'REPLAY', response: { statusCode: 200, body: 'recorded before' } });
  });
});
