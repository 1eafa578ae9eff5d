// Exemptions over real HTTP against DynamoDB Local: an exempted device is accepted until `until` and blocked after
// (its DEVICE_BLOCKED alert naming the exemption that ran out), the 422 rules naming their field with nothing
// written, auditors reading but not writing, listing, deleting, and the history line.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import type { LocalStack } from '../../local/stack.ts';
import { call, type HttpResult } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

const AUDITOR_TOKEN = 'auditor-token-for-the-exemptions-test';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ adminTokens: `auditor1:auditor:${createHash('sha256').update(AUDITOR_TOKEN).digest('hex')}` });
});

afterAll(async () => {
  await stack?.stop();
});

function admin(method: string, path: string, json?: unknown, token = TEST_ADMIN_TOKEN): Promise<HttpResult> {
  return call(`${stack.httpUrl}${path}`, { method, json, headers: { authorization: `Bearer ${token}` } });
}

function expectError(res: HttpResult, status: number, code: string, field?: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.body.error).toMatchObject({ code, requestId: expect.any(String) });
  if (field !== undefined) expect(res.body.error.field).toBe(field);
}

const ahead = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
const history = async () => (await admin('GET', '/admin/settings/history?field=exemption')).body.items as any[];

let counter = 0;
/** A check-in an hour behind (CLOCK_SKEW_EXCEEDED) that did not verify the server (SERVER_CERT_NOT_VERIFIED). */
async function skewedCheckin(deviceId: string) {
  counter += 1;
  const json = { checkinId: `ex-${Date.now()}-${counter}`, deviceId, clientTime: new Date(Date.now() - 3_600_000).toISOString(), serverCertificateVerified: false };
  return { ...(await call(`${stack.httpUrl}/checkin`, { json })), checkinId: json.checkinId };
}

function alertLines(deviceId: string): { message: Record<string, any> }[] {
  const file = join(stack.dataDir, 'alerts.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)).filter((l) => l.message.deviceId === deviceId);
}

const codes = (list: { code: string }[]) => list.map((v) => v.code).sort();

describe('exemptions over HTTP', () => {
  it('accepts an exempted device until `until`, then blocks it, and the alert names the exemption that ran out', async () => {
    // Before any check-in of this file: the first check-in loads the policy, exemption included.
    // Far enough ahead that the first check-in lands before it even on a busy machine.
    const until = ahead(8);
    const put = await admin('PUT', '/admin/exemptions/EXEMPT-1', { violations: ['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED'], until, reason: 'Repair shop' });
    expect(put.status, put.text).toBe(201);
    expect(put.body).toEqual({
      deviceId: 'EXEMPT-1',
      violations: ['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED'],
      until,
      reason: 'Repair shop',
      createdAt: expect.stringMatching(ISO),
      createdBy: 'local-admin',
    });

    const accepted = await skewedCheckin('EXEMPT-1');
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body).toMatchObject({ decision: 'ACCEPT', enforced: true, violations: [] });
    expect(codes(accepted.body.exempted)).toEqual(['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED']);
    const [recorded] = (await admin('GET', '/admin/devices/EXEMPT-1/decisions')).body.items;
    expect(recorded).toMatchObject({ decision: 'ACCEPT', violations: [], exempted: accepted.body.exempted });
    // Another device with the same violations is not covered.
    expect((await skewedCheckin('NOT-EXEMPT')).status).toBe(403);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(until) - Date.now()) + 100));
    const blocked = await skewedCheckin('EXEMPT-1');
    expect(blocked.status, blocked.text).toBe(403);
    expect(blocked.body).toMatchObject({ decision: 'BLOCK', exempted: [] });
    expect(codes(blocked.body.violations)).toEqual(['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED']);
    expect((await admin('GET', '/admin/exemptions/EXEMPT-1')).status).toBe(404);
    expect((await admin('GET', '/admin/exemptions')).body.items.map((e: { deviceId: string }) => e.deviceId)).not.toContain('EXEMPT-1');

    await stack.drainAlerts();
    const lines = alertLines('EXEMPT-1');
    expect(lines.map((l) => [l.message.type, l.message.checkinId])).toEqual([['DEVICE_BLOCKED', blocked.checkinId]]);
    expect(lines[0].message.exemptionExpired).toEqual({ violations: ['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED'], until, reason: 'Repair shop' });
    expect(alertLines('NOT-EXEMPT')[0].message).not.toHaveProperty('exemptionExpired');
  });

  it.each([
    ['an identity code', { violations: ['CLIENT_CERT_MISSING'] }, 'violations'],
    ['an unknown code', { violations: ['CLOCK_SKEWED'] }, 'violations'],
    ['an empty list', { violations: [] }, 'violations'],
    ['a past until', { until: '2020-01-01T00:00:00Z' }, 'until'],
    ['an until more than 30 days ahead', { until: ahead(31 * 86_400) }, 'until'],
    ['an empty reason', { reason: '' }, 'reason'],
  ])('refuses %s with 422 INVALID_EXEMPTION naming %s, writing nothing', async (_name, override, field) => {
    const before = await history();
    const res = await admin('PUT', '/admin/exemptions/INVALID-1', { violations: ['CLOCK_SKEW_EXCEEDED'], until: ahead(3600), reason: 'r', ...override });
    expectError(res, 422, 'INVALID_EXEMPTION', field);
    expect((await admin('GET', '/admin/exemptions/INVALID-1')).status).toBe(404);
    expect(await history()).toEqual(before);
  });

  it.each([
    ['an unknown field', { violations: ['CLOCK_SKEW_EXCEEDED'], until: ahead(60), reason: 'r', note: 'x' }, 'note'],
    ['a wrong type', { violations: 'CLOCK_SKEW_EXCEEDED', until: ahead(60), reason: 'r' }, 'violations'],
  ])('refuses %s with 400 INVALID_REQUEST', async (_name, json, field) => {
    expectError(await admin('PUT', '/admin/exemptions/INVALID-2', json), 400, 'INVALID_REQUEST', field);
  });

  it('refuses a deviceId that is not an identifier with 400', async () => {
    expectError(await admin('PUT', '/admin/exemptions/bad%20id', { violations: ['CLOCK_SKEW_EXCEEDED'], until: ahead(60), reason: 'r' }), 400, 'INVALID_REQUEST', 'deviceId');
  });

  it('lets an auditor read exemptions but not write them', async () => {
    expect((await admin('PUT', '/admin/exemptions/AUDIT-1', { violations: ['PACKAGE_CHECKSUM_MISMATCH'], until: ahead(3600), reason: 'r' })).status).toBe(201);
    expect((await admin('GET', '/admin/exemptions/AUDIT-1', undefined, AUDITOR_TOKEN)).body).toMatchObject({ deviceId: 'AUDIT-1' });
    expect((await admin('GET', '/admin/exemptions', undefined, AUDITOR_TOKEN)).status).toBe(200);
    expectError(await admin('PUT', '/admin/exemptions/AUDIT-2', { violations: ['PACKAGE_CHECKSUM_MISMATCH'], until: ahead(3600), reason: 'r' }, AUDITOR_TOKEN), 403, 'FORBIDDEN');
    expectError(await admin('DELETE', '/admin/exemptions/AUDIT-1', undefined, AUDITOR_TOKEN), 403, 'FORBIDDEN');
    expect((await admin('GET', '/admin/exemptions/AUDIT-1')).status).toBe(200);
    expect((await admin('GET', '/admin/exemptions/AUDIT-2')).status).toBe(404);
  });

  it('replaces (200), lists soonest first, deletes (204, then 404), each change in the history without moving the version', async () => {
    const version = (await admin('GET', '/admin/settings')).body.version;
    expect((await admin('PUT', '/admin/exemptions/LIST-LATE', { violations: ['CLOCK_SKEW_EXCEEDED'], until: ahead(7200), reason: 'r' })).status).toBe(201);
    expect((await admin('PUT', '/admin/exemptions/LIST-SOON', { violations: ['CLOCK_SKEW_EXCEEDED'], until: ahead(600), reason: 'r' })).status).toBe(201);
    const replaced = await admin('PUT', '/admin/exemptions/LIST-SOON', { violations: ['SERVER_CERT_NOT_VERIFIED'], until: ahead(900), reason: 'r2' });
    expect(replaced.status).toBe(200);
    const items = (await admin('GET', '/admin/exemptions')).body.items.map((e: { deviceId: string }) => e.deviceId);
    expect(items.indexOf('LIST-SOON')).toBeLessThan(items.indexOf('LIST-LATE'));
    expect((await admin('DELETE', '/admin/exemptions/LIST-SOON')).status).toBe(204);
    expectError(await admin('DELETE', '/admin/exemptions/LIST-SOON'), 404, 'NOT_FOUND');
    expectError(await admin('GET', '/admin/exemptions/LIST-SOON'), 404, 'NOT_FOUND');
    const lines = (await history()).slice(0, 3);
    expect(lines).toEqual([
      { version, changedAt: expect.stringMatching(ISO), actor: 'local-admin', changes: [{ field: 'exemption', from: 'LIST-SOON SERVER_CERT_NOT_VERIFIED', to: null }] },
      { version, changedAt: expect.stringMatching(ISO), actor: 'local-admin', changes: [{ field: 'exemption', from: 'LIST-SOON CLOCK_SKEW_EXCEEDED', to: 'LIST-SOON SERVER_CERT_NOT_VERIFIED' }] },
      { version, changedAt: expect.stringMatching(ISO), actor: 'local-admin', changes: [{ field: 'exemption', from: null, to: 'LIST-SOON CLOCK_SKEW_EXCEEDED' }] },
    ]);
    expect((await admin('GET', '/admin/settings')).body.version).toBe(version);
  });
});
