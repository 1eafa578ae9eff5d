// Devices and decisions over real HTTP: status lists from the byStatus index, a device's decisions newest first,
// limit and nextToken pagination, and 400 (never 500) for a bad limit or a tampered token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import type { LocalStack } from '../../local/stack.ts';
import { call, type HttpResult } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

let stack: LocalStack;
const BLOCKED = ['BLK-1', 'BLK-2', 'BLK-3', 'BLK-4', 'BLK-5'];
const ACCEPTED = ['ACC-1', 'ACC-2', 'ACC-3'];
const HISTORY_DEVICE = 'HIST-1';
let historyCheckins: string[];

function checkin(deviceId: string, checkinId: string, blocked: boolean) {
  return call(`${stack.httpUrl}/checkin`, {
    json: {
      checkinId,
      deviceId,
      // An hour off is beyond the default 300 s of maxClockSkewSeconds: CLOCK_SKEW_EXCEEDED blocks.
      clientTime: new Date(Date.now() - (blocked ? 3_600_000 : 0)).toISOString(),
      serverCertificateVerified: true,
    },
  });
}

beforeAll(async () => {
  stack = await startTestStack();
  // One device at a time, so lastCheckinAt orders them as sent.
  for (const id of BLOCKED) expect((await checkin(id, `c-${id}`, true)).status).toBe(403);
  for (const id of ACCEPTED) expect((await checkin(id, `c-${id}`, false)).status).toBe(200);
  historyCheckins = ['h-1', 'h-2', 'h-3', 'h-4'];
  for (const [i, id] of historyCheckins.entries()) {
    await checkin(HISTORY_DEVICE, id, i % 2 === 1);
    await new Promise((r) => setTimeout(r, 2));
  }
});

afterAll(async () => {
  await stack?.stop();
});

function admin(path: string): Promise<HttpResult> {
  return call(`${stack.httpUrl}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
}

/** Follows nextToken to the end; returns every page. */
async function allPages(path: string): Promise<HttpResult[]> {
  const pages: HttpResult[] = [];
  let token: string | undefined;
  do {
    const res = await admin(`${path}${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`);
    expect(res.status, res.text).toBe(200);
    pages.push(res);
    token = res.body.nextToken;
  } while (token && pages.length < 20);
  return pages;
}

describe('GET /admin/devices', () => {
  it('lists blocked devices, latest check-in first, with the contract\'s fields', async () => {
    const res = await admin('/admin/devices?status=BLOCKED');
    expect(res.status).toBe(200);
    expect(res.body.nextToken).toBeUndefined();
    // HIST-1's latest check-in (h-4) was blocked, and it is the most recent of all.
    expect(res.body.items.map((d: { deviceId: string }) => d.deviceId)).toEqual([HISTORY_DEVICE, ...[...BLOCKED].reverse()]);
    expect(res.body.items[1]).toEqual({
      deviceId: 'BLK-5',
      decision: 'BLOCK',
      violations: [expect.objectContaining({ code: 'CLOCK_SKEW_EXCEEDED', message: expect.any(String) })],
      lastCheckinAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      checkinId: 'c-BLK-5',
    });
  });

  it('lists accepted devices', async () => {
    const res = await admin('/admin/devices?status=ACCEPTED');
    expect(res.body.items.map((d: { deviceId: string }) => d.deviceId)).toEqual([...ACCEPTED].reverse());
    expect(res.body.items[0]).toMatchObject({ decision: 'ACCEPT', violations: [] });
  });

  it('pages with limit and nextToken, every device exactly once', async () => {
    const pages = await allPages('/admin/devices?status=BLOCKED&limit=2');
    const ids = pages.flatMap((p) => p.body.items.map((d: { deviceId: string }) => d.deviceId));
    expect(ids).toEqual([HISTORY_DEVICE, ...[...BLOCKED].reverse()]);
    expect(pages.slice(0, -1).every((p) => p.body.items.length === 2)).toBe(true);
  });

  it.each([
    // [why, query, field]
    ['no status', '', 'status'],
    ['an unknown status', 'status=QUARANTINED', 'status'],
    ['limit 0', 'status=BLOCKED&limit=0', 'limit'],
    ['limit 501', 'status=BLOCKED&limit=501', 'limit'],
    ['a limit that is not a number', 'status=BLOCKED&limit=all', 'limit'],
    ['a negative limit', 'status=BLOCKED&limit=-5', 'limit'],
    ['a fractional limit', 'status=BLOCKED&limit=1.5', 'limit'],
    ['a nextToken that is not base64url', 'status=BLOCKED&nextToken=%%%', 'nextToken'],
    ['a nextToken of another shape', `status=BLOCKED&nextToken=${Buffer.from('{"pk":"x","sk":"y"}').toString('base64url')}`, 'nextToken'],
    ['a nextToken for the other status', `status=BLOCKED&nextToken=${Buffer.from(JSON.stringify({ deviceId: 'ACC-1', status: 'ACCEPTED', lastCheckinAt: '2026-01-01T00:00:00.000Z' })).toString('base64url')}`, 'nextToken'],
    ['a nextToken that is not JSON', `status=BLOCKED&nextToken=${Buffer.from('not json').toString('base64url')}`, 'nextToken'],
  ])('%s is 400 INVALID_REQUEST', async (_why, query, field) => {
    const res = await admin(`/admin/devices?${query}`);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_REQUEST', field });
  });

  it('a tampered token (one character changed) is 400, not 500', async () => {
    const first = await admin('/admin/devices?status=BLOCKED&limit=1');
    const token: string = first.body.nextToken;
    const tampered = `${token.slice(0, 5)}${token[5] === 'A' ? 'B' : 'A'}${token.slice(6)}`;
    const res = await admin(`/admin/devices?status=BLOCKED&limit=1&nextToken=${tampered}`);
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('nextToken');
  });

  it('limit 500 is allowed', async () => {
    expect((await admin('/admin/devices?status=ACCEPTED&limit=500')).status).toBe(200);
  });
});

describe('GET /admin/devices/{deviceId}/decisions', () => {
  it('lists the recorded decisions newest first, each with violations, warnings, facts and settingsVersion', async () => {
    const res = await admin(`/admin/devices/${HISTORY_DEVICE}/decisions`);
    expect(res.status).toBe(200);
    expect(res.body.nextToken).toBeUndefined();
    expect(res.body.items.map((d: { checkinId: string }) => d.checkinId)).toEqual([...historyCheckins].reverse());
    expect(res.body.items[0]).toMatchObject({
      checkinId: 'h-4',
      deviceId: HISTORY_DEVICE,
      decision: 'BLOCK',
      enforced: true,
      violations: [expect.objectContaining({ code: 'CLOCK_SKEW_EXCEEDED' })],
      warnings: [],
      facts: expect.objectContaining({ serverCertificateVerified: true }),
      settingsVersion: 1,
      evaluatedAt: expect.any(String),
    });
    expect(res.body.items[1]).toMatchObject({ checkinId: 'h-3', decision: 'ACCEPT', violations: [] });
  });

  it('pages with limit and nextToken', async () => {
    const pages = await allPages(`/admin/devices/${HISTORY_DEVICE}/decisions?limit=3`);
    expect(pages.map((p) => p.body.items.length)).toEqual([3, 1]);
    expect(pages.flatMap((p) => p.body.items.map((d: { checkinId: string }) => d.checkinId))).toEqual([...historyCheckins].reverse());
  });

  it('an unknown device has no decisions (200, empty)', async () => {
    expect((await admin('/admin/devices/NEVER-SEEN/decisions')).body).toEqual({ items: [] });
  });

  it.each([
    ['limit 501', `/admin/devices/${HISTORY_DEVICE}/decisions?limit=501`, 'limit'],
    ['another device\'s token', `/admin/devices/${HISTORY_DEVICE}/decisions?nextToken=${Buffer.from(JSON.stringify({ pk: 'DEVICE#BLK-1', sk: 'x' })).toString('base64url')}`, 'nextToken'],
    ['a device id with a slash-free but invalid character', '/admin/devices/bad%20device/decisions', 'deviceId'],
  ])('%s is 400 INVALID_REQUEST', async (_why, path, field) => {
    const res = await admin(path);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_REQUEST', field });
  });
});
