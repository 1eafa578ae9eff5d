// POST /checkin over real HTTP against the local runner: decisions, replay, conflicts, and the error table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDecisionStore } from '../../lib/adapters/dynamodb/decision-store.ts';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import type { LocalStack } from '../../local/stack.ts';
import { seed } from '../support/config.ts';
import { call } from '../support/http.ts';
import { startTestStack } from '../support/local-stack.ts';

let stack: LocalStack;
let decisions: DynamoDbDecisionStore;
const SHA256_OF_PKG = 'ab'.repeat(32);

beforeAll(async () => {
  stack = await startTestStack();
  const client = localDynamoDbClient(stack.dynamoDbEndpoint);
  decisions = new DynamoDbDecisionStore(client, { decisionsTable: stack.tableNames.DecisionsTable, deviceStatusTable: stack.tableNames.DeviceStatusTable, retentionDays: 90 });
  // Seeded before the first check-in, so the 5 s policy cache starts with it.
  const office = { packageId: 'office', name: 'Office', checksum: { type: 'SHA_256' as const, value: SHA256_OF_PKG }, updatedAt: new Date().toISOString(), updatedBy: 'test' };
  await seed(new DynamoDbConfigStore(client, stack.tableNames.ConfigTable), { kind: 'PACKAGE', packageId: 'office', record: office });
});

afterAll(async () => {
  await stack?.stop();
});

const checkin = (overrides: Record<string, unknown> = {}) => ({
  checkinId: `c-${Math.random().toString(36).slice(2)}`,
  deviceId: 'C02XK1JHJG5J',
  clientTime: new Date().toISOString(),
  serverCertificateVerified: true,
  ...overrides,
});

describe('POST /checkin', () => {
  it('accepts a compliant check-in with 200 and records the decision', async () => {
    const body = checkin({ deviceId: 'ACCEPTED-1', packages: [{ packageId: 'office', checksum: { type: 'SHA_256', value: SHA256_OF_PKG.toUpperCase() } }] });
    const res = await call(`${stack.httpUrl}/checkin`, { json: body });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['idempotent-replay']).toBeUndefined();
    expect(res.body).toEqual({
      checkinId: body.checkinId,
      deviceId: 'ACCEPTED-1',
      decision: 'ACCEPT',
      enforced: true,
      violations: [],
      exempted: [],
      warnings: [],
      settingsVersion: 1,
      evaluatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    const recorded = await decisions.listDecisions('ACCEPTED-1', 10);
    expect(recorded.items).toEqual([
      expect.objectContaining({ checkinId: body.checkinId, decision: 'ACCEPT', settingsVersion: 1, facts: expect.objectContaining({ clientTime: body.clientTime, serverCertificateVerified: true }) }),
    ]);
  });

  it('blocks with 403 listing every violation, and records it before answering', async () => {
    const body = checkin({
      deviceId: 'BLOCKED-1',
      clientTime: new Date(Date.now() - 3600_000).toISOString(),
      serverCertificateVerified: false,
      packages: [{ packageId: 'office', checksum: { type: 'SHA_256', value: 'cd'.repeat(32) } }],
    });
    const res = await call(`${stack.httpUrl}/checkin`, { json: body });
    expect(res.status).toBe(403);
    expect(res.body.decision).toBe('BLOCK');
    expect(res.body.violations.map((v: { code: string }) => v.code)).toEqual(['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED', 'PACKAGE_CHECKSUM_MISMATCH']);
    expect(res.body.violations[0]).toMatchObject({ maxClockSkewSeconds: 300, skewSeconds: expect.any(Number) });
    expect(res.body.violations[2]).toMatchObject({ packageId: 'office' });
    const devices = await decisions.listDevices('BLOCKED', 50);
    expect(devices.items.find((d) => d.deviceId === 'BLOCKED-1')).toMatchObject({ checkinId: body.checkinId, decision: 'BLOCK' });
  });

  it('replays the recorded answer for a retry, and refuses the checkinId from another device', async () => {
    const body = checkin({ deviceId: 'RETRY-1', serverCertificateVerified: false });
    const first = await call(`${stack.httpUrl}/checkin`, { json: body });
    // The retry arrives later and would now be judged differently (clock); it still gets the first answer.
    const retry = await call(`${stack.httpUrl}/checkin`, { json: { ...body, serverCertificateVerified: true } });
    expect(retry.status).toBe(first.status);
    expect(retry.text).toBe(first.text);
    expect(retry.headers['idempotent-replay']).toBe('true');
    expect((await decisions.listDecisions('RETRY-1', 10)).items).toHaveLength(1);

    const conflict = await call(`${stack.httpUrl}/checkin`, { json: { ...body, deviceId: 'SOMEONE-ELSE' } });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({ code: 'CHECKIN_ID_CONFLICT', requestId: expect.any(String) });
    expect((await decisions.listDecisions('SOMEONE-ELSE', 10)).items).toHaveLength(0);
  });

  it('records one decision when the same check-in is sent many times at once', async () => {
    const body = checkin({ deviceId: 'BURST-1' });
    const results = await Promise.all(Array.from({ length: 6 }, () => call(`${stack.httpUrl}/checkin`, { json: body })));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(results.filter((r) => r.headers['idempotent-replay'] === 'true')).toHaveLength(5);
    expect((await decisions.listDecisions('BURST-1', 10)).items).toHaveLength(1);
  });

  it.each([
    // [case, request, status, code, field]
    ['a schema violation', { json: checkin({ clientTime: 'yesterday' }) }, 400, 'INVALID_CHECKIN', 'clientTime'],
    ['a missing required field', { json: checkin({ serverCertificateVerified: undefined }) }, 400, 'INVALID_CHECKIN', 'serverCertificateVerified'],
    ['unparseable JSON', { body: '{"checkinId": ', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_JSON', undefined],
    ['a body without a JSON content type', { body: JSON.stringify(checkin()), headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE', undefined],
    ['a body over 64 KiB', { json: { ...checkin(), padding: 'x'.repeat(64 * 1024) } }, 413, 'PAYLOAD_TOO_LARGE', undefined],
    ['an empty body', { body: '', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_CHECKIN', 'body'],
  ])('refuses %s with %i %s and records nothing', async (_case, request, status, code, field) => {
    const before = (await decisions.listDevices('ACCEPTED', 500)).items.length + (await decisions.listDevices('BLOCKED', 500)).items.length;
    const res = await call(`${stack.httpUrl}/checkin`, { method: 'POST', ...request });
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error: { code, message: expect.any(String), ...(field ? { field } : {}), requestId: expect.any(String) } });
    expect(res.text).not.toMatch(/at .*\.ts:\d+|Exception|stack/i);
    const after = (await decisions.listDevices('ACCEPTED', 500)).items.length + (await decisions.listDevices('BLOCKED', 500)).items.length;
    expect(after).toBe(before);
    expect((await decisions.listDecisions('C02XK1JHJG5J', 10)).items).toEqual([]);
  });

  it.each([
    ['an unknown route', 'GET', '/nowhere', 404, 'NOT_FOUND', undefined],
    ['a known path with a trailing slash', 'POST', '/checkin/', 404, 'NOT_FOUND', undefined],
    ['an empty path parameter', 'GET', '/admin/packages/', 404, 'NOT_FOUND', undefined],
    ['a known route with the wrong method', 'GET', '/checkin', 405, 'METHOD_NOT_ALLOWED', 'POST'],
    ['DELETE on an admin route', 'DELETE', '/admin/settings', 405, 'METHOD_NOT_ALLOWED', 'GET, PUT, PATCH'],
  ])('answers %s with %i', async (_case, method, path, status, code, allow) => {
    const res = await call(`${stack.httpUrl}${path}`, { method });
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.headers.allow).toBe(allow);
  });

  it('answers GET /health', async () => {
    const res = await call(`${stack.httpUrl}/health`);
    expect(res).toMatchObject({ status: 200, body: { status: 'ok' } });
  });
});
