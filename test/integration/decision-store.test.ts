// DynamoDbDecisionStore against DynamoDB Local: atomic record, replay, conflict, concurrent retries, listings.
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDecisionStore } from '../../lib/adapters/dynamodb/decision-store.ts';
import { InvalidPageTokenError } from '../../lib/ports/errors.ts';
import { createTestTables, type TestTables } from '../support/dynamodb.ts';
import { makeDecision } from '../support/decisions.ts';

let tables: TestTables;
let store: DynamoDbDecisionStore;

const decision = makeDecision;

beforeAll(async () => {
  tables = await createTestTables();
  store = new DynamoDbDecisionStore(tables.client, { decisionsTable: tables.names.decisionsTable, deviceStatusTable: tables.names.deviceStatusTable, retentionDays: 90 });
});

async function itemCount(table: string): Promise<number> {
  return (await tables.client.send(new ScanCommand({ TableName: table, Select: 'COUNT' }))).Count ?? 0;
}

describe('record', () => {
  it('writes the decision, the idempotency record and the device status together, with a TTL', async () => {
    const outcome = await store.record(decision({ checkinId: 'r-1', deviceId: 'REC1' }), { statusCode: 200, body: '{"x":1}' });
    expect(outcome).toEqual({ outcome: 'RECORDED' });
    const status = await tables.client.send(new GetItemCommand({ TableName: tables.names.deviceStatusTable, Key: { deviceId: { S: 'REC1' } } }));
    expect(unmarshall(status.Item!)).toMatchObject({ deviceId: 'REC1', status: 'ACCEPTED', checkinId: 'r-1', violationCodes: [] });
    const page = await store.listDecisions('REC1', 10);
    expect(page.items).toEqual([decision({ checkinId: 'r-1', deviceId: 'REC1' })]);
    const idempotency = await tables.client.send(new GetItemCommand({ TableName: tables.names.decisionsTable, Key: { pk: { S: 'CHECKIN#r-1' }, sk: { S: 'CHECKIN' } } }));
    // 90 days after evaluatedAt, in epoch seconds
    expect(unmarshall(idempotency.Item!).expiresAt).toBe(Date.parse('2026-11-25T18:00:00.000Z') / 1000 + 90 * 86400);
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
    for (let i = 0; i < 5; i += 1) {
      await store.record(decision({ checkinId: `p-${i}`, deviceId: 'PAGED', evaluatedAt: `2026-11-25T18:00:0${i}.000Z` }), { statusCode: 200, body: '' });
    }
    const first = await store.listDecisions('PAGED', 2);
    expect(first.items.map((d) => d.checkinId)).toEqual(['p-4', 'p-3']);
    expect(first.nextToken).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await store.listDecisions('PAGED', 2, first.nextToken);
    expect(second.items.map((d) => d.checkinId)).toEqual(['p-2', 'p-1']);
    const third = await store.listDecisions('PAGED', 2, second.nextToken);
    expect(third.items.map((d) => d.checkinId)).toEqual(['p-0']);

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
    // recent first (REC1 and REC3 share a time; REC4 is whichever of its concurrent retries was recorded).
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
    expect(accepted.slice(0, 1).map((d) => d.deviceId)).toEqual(['S2']);
    expect(accepted.map((d) => d.deviceId).sort()).toEqual(['PAGED', 'REC1', 'REC3', 'REC4', 'S2']);
    const times = accepted.map((d) => d.lastCheckinAt);
    expect(times).toEqual([...times].sort().reverse());
    // a token is bound to the listing it came from
    const first = await store.listDevices('ACCEPTED', 1);
    await expect(store.listDevices('BLOCKED', 1, first.nextToken)).rejects.toBeInstanceOf(InvalidPageTokenError);
  });
});
