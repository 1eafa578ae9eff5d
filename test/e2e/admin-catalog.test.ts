// Packages and revocations over real HTTP: validation (table-driven), list/get/delete, history, and the stored
// shapes being the ones check-ins read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import type { LocalStack } from '../../local/stack.ts';
import { call, type HttpResult } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

const SHA512 = 'AB'.repeat(64);
const SHA256 = 'cd'.repeat(32);
const MD5 = 'ef'.repeat(16);
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

function admin(method: string, path: string, json?: unknown): Promise<HttpResult> {
  return call(`${stack.httpUrl}${path}`, { method, json, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
}

const history = async (limit = 50) => (await admin('GET', `/admin/settings/history?limit=${limit}`)).body.items as any[];

function expectError(res: HttpResult, status: number, code: string, field?: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.body.error).toMatchObject({ code, requestId: expect.any(String) });
  if (field !== undefined) expect(res.body.error.field).toBe(field);
}

describe('packages', () => {
  it('registers a package (201) with a SHA-512 checksum, stored lowercase, and a check-in is judged against it', async () => {
    const res = await admin('PUT', '/admin/packages/office-2026', { name: 'Microsoft Office 2026', checksum: { type: 'SHA_512', value: SHA512 } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      packageId: 'office-2026',
      name: 'Microsoft Office 2026',
      checksum: { type: 'SHA_512', value: SHA512.toLowerCase() },
      updatedAt: expect.stringMatching(ISO),
      updatedBy: 'local-admin',
    });
    expect((await admin('GET', '/admin/packages/office-2026')).body).toEqual(res.body);
    // The first check-in of this file loads the policy fresh: the package is there, in the shape check-ins read.
    const checkin = await call(`${stack.httpUrl}/checkin`, {
      json: {
        checkinId: 'pkg-check-1',
        deviceId: 'PKG-DEVICE',
        clientTime: new Date().toISOString(),
        serverCertificateVerified: true,
        packages: [{ packageId: 'office-2026', checksum: { type: 'SHA_512', value: 'cd'.repeat(64) } }],
      },
    });
    expect(checkin.status).toBe(403);
    expect(checkin.body.violations).toEqual([expect.objectContaining({ code: 'PACKAGE_CHECKSUM_MISMATCH', packageId: 'office-2026' })]);
  });

  it('registers packages (201 when created) with other checksum types or none, and lists them by id', async () => {
    expect((await admin('PUT', '/admin/packages/chrome', { name: 'Chrome', checksum: { type: 'SHA_256', value: SHA256 } })).status).toBe(201);
    expect((await admin('PUT', '/admin/packages/zoom', { name: 'Zoom', checksum: { type: 'MD5', value: MD5 } })).status).toBe(201);
    expect((await admin('PUT', '/admin/packages/agent.pkg', { name: 'Agent', checksum: null })).status).toBe(201);
    expect((await admin('PUT', '/admin/packages/no-checksum-field', { name: 'No checksum field' })).body.checksum).toBeNull();
    const list = await admin('GET', '/admin/packages');
    expect(list.status).toBe(200);
    expect(list.body.items.map((p: { packageId: string }) => p.packageId)).toEqual(['agent.pkg', 'chrome', 'no-checksum-field', 'office-2026', 'zoom']);
    expect(list.body.items[0]).toEqual({ packageId: 'agent.pkg', name: 'Agent', checksum: null, updatedAt: expect.stringMatching(ISO), updatedBy: 'local-admin' });
  });

  it('records each change under field "packages" with ids and digests as values, without moving the settings version', async () => {
    const version = (await admin('GET', '/admin/settings')).body.version;
    // Registered without a checksum: the value is the id alone.
    expect((await admin('PUT', '/admin/packages/history-pkg', { name: 'History', checksum: null })).status).toBe(201);
    expect(await history(1)).toEqual([
      { version, changedAt: expect.stringMatching(ISO), actor: 'local-admin', changes: [{ field: 'packages', from: null, to: 'history-pkg' }] },
    ]);
    // With one: "<id> <TYPE>:<lowercase hex>", whatever case was sent.
    expect((await admin('PUT', '/admin/packages/history-pkg', { name: 'History', checksum: { type: 'SHA_512', value: SHA512 } })).status).toBe(200);
    expect((await history(1))[0].changes).toEqual([{ field: 'packages', from: 'history-pkg', to: `history-pkg SHA_512:${SHA512.toLowerCase()}` }]);
    // A rename keeps id and checksum: recorded, with the same value on both sides (names are not history values).
    const replaced = await admin('PUT', '/admin/packages/chrome', { name: 'Google Chrome', checksum: { type: 'SHA_256', value: SHA256 } });
    expect(replaced.status).toBe(200);
    const [latest] = await history(1);
    expect(latest).toEqual({
      version,
      changedAt: expect.stringMatching(ISO),
      actor: 'local-admin',
      changes: [{ field: 'packages', from: `chrome SHA_256:${SHA256}`, to: `chrome SHA_256:${SHA256}` }],
    });
    expect(JSON.stringify(latest)).not.toContain('Chrome');
    expect((await admin('GET', '/admin/settings')).body.version).toBe(version);
  });

  it('the same registration again changes nothing and records nothing', async () => {
    const before = await history();
    const again = await admin('PUT', '/admin/packages/chrome', { name: 'Google Chrome', checksum: { type: 'SHA_256', value: SHA256.toUpperCase() } });
    expect(again.status).toBe(200);
    expect(await history()).toEqual(before);
  });

  it('deletes a package (204), then it is 404 for GET and DELETE', async () => {
    const deleted = await admin('DELETE', '/admin/packages/zoom');
    expect(deleted.status).toBe(204);
    expect((await history(1))[0].changes).toEqual([{ field: 'packages', from: `zoom MD5:${MD5}`, to: null }]);
    expectError(await admin('GET', '/admin/packages/zoom'), 404, 'NOT_FOUND');
    expectError(await admin('DELETE', '/admin/packages/zoom'), 404, 'NOT_FOUND');
  });

  it.each([
    // [why, path id, body, status, field]
    ['an id with a space', 'bad%20id', { name: 'x', checksum: null }, 400, 'packageId'],
    ['an id of 129 characters', 'a'.repeat(129), { name: 'x', checksum: null }, 400, 'packageId'],
    ['no name', 'p1', { checksum: null }, 400, 'name'],
    ['an empty name', 'p1', { name: '', checksum: null }, 400, 'name'],
    ['a blank name', 'p1', { name: '   ', checksum: null }, 400, 'name'],
    ['a name of 257 characters', 'p1', { name: 'n'.repeat(257), checksum: null }, 400, 'name'],
    ['a name that is not a string', 'p1', { name: 7, checksum: null }, 400, 'name'],
    ['an unknown checksum type', 'p1', { name: 'x', checksum: { type: 'SHA1', value: 'ab'.repeat(20) } }, 400, 'checksum.type'],
    ['a SHA-512 of SHA-256 length', 'p1', { name: 'x', checksum: { type: 'SHA_512', value: SHA256 } }, 400, 'checksum.value'],
    ['an MD5 with a non-hex digit', 'p1', { name: 'x', checksum: { type: 'MD5', value: `${'a'.repeat(31)}g` } }, 400, 'checksum.value'],
    ['a checksum that is a string', 'p1', { name: 'x', checksum: SHA256 }, 400, 'checksum'],
    ['an unknown field', 'p1', { name: 'x', checksum: null, version: 2 }, 400, 'version'],
    ['an unknown checksum field', 'p1', { name: 'x', checksum: { type: 'MD5', value: MD5, algo: 'md5' } }, 400, 'checksum.algo'],
    ['a body that is an array', 'p1', [{ name: 'x' }], 400, 'body'],
  ])('PUT refuses %s (400 INVALID_REQUEST)', async (_why, id, body, status, field) => {
    expectError(await admin('PUT', `/admin/packages/${id}`, body), status, 'INVALID_REQUEST', field);
    expectError(await admin('GET', '/admin/packages/p1'), 404, 'NOT_FOUND');
  });

  it('GET and DELETE check the id too', async () => {
    expectError(await admin('GET', '/admin/packages/bad%20id'), 400, 'INVALID_REQUEST', 'packageId');
    expectError(await admin('DELETE', '/admin/packages/bad%20id'), 400, 'INVALID_REQUEST', 'packageId');
  });
});

describe('revocations', () => {
  const fingerprint = '0a'.repeat(32);

  it('is empty at first', async () => {
    expect((await admin('GET', '/admin/revocations')).body).toEqual({ items: [] });
  });

  it('revokes by fingerprint in any case and with colons, stored lowercase without colons', async () => {
    const colonUpper = fingerprint.toUpperCase().match(/../g)!.join(':');
    const res = await admin('PUT', `/admin/revocations/${colonUpper}`, { reason: 'Device lost on a train' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ sha256: fingerprint, reason: 'Device lost on a train', revokedAt: expect.stringMatching(ISO), revokedBy: 'local-admin' });
    expect((await admin('GET', '/admin/revocations')).body).toEqual({ items: [res.body] });
    expect((await history(1))[0]).toMatchObject({ actor: 'local-admin', changes: [{ field: 'revocations', from: null, to: fingerprint }] });
  });

  it('the same revocation again records nothing; a new reason replaces the record', async () => {
    const before = await history();
    expect((await admin('PUT', `/admin/revocations/${fingerprint}`, { reason: 'Device lost on a train' })).status).toBe(200);
    expect(await history()).toEqual(before);
    const changed = await admin('PUT', `/admin/revocations/${fingerprint}`, { reason: 'Device stolen' });
    expect(changed.status).toBe(200);
    expect(changed.body.reason).toBe('Device stolen');
    // A new reason: the same fingerprint on both sides (the reason is not a history value).
    expect((await history(1))[0].changes).toEqual([{ field: 'revocations', from: fingerprint, to: fingerprint }]);
  });

  it.each([
    // [why, path, body, field]
    ['63 hex digits', 'a'.repeat(63), { reason: 'r' }, 'sha256'],
    ['65 hex digits', 'a'.repeat(65), { reason: 'r' }, 'sha256'],
    ['a non-hex digit', `${'a'.repeat(63)}z`, { reason: 'r' }, 'sha256'],
    ['no reason', 'b'.repeat(64), {}, 'reason'],
    ['an empty reason', 'b'.repeat(64), { reason: '' }, 'reason'],
    ['a reason of 513 characters', 'b'.repeat(64), { reason: 'r'.repeat(513) }, 'reason'],
    ['an unknown field', 'b'.repeat(64), { reason: 'r', until: '2027-01-01' }, 'until'],
  ])('PUT refuses %s (400 INVALID_REQUEST)', async (_why, path, body, field) => {
    expectError(await admin('PUT', `/admin/revocations/${path}`, body), 400, 'INVALID_REQUEST', field);
  });

  it('a reason of 512 characters is fine', async () => {
    expect((await admin('PUT', `/admin/revocations/${'c'.repeat(64)}`, { reason: 'r'.repeat(512) })).status).toBe(201);
  });

  it('unrevokes (204), recorded; then 404', async () => {
    const res = await admin('DELETE', `/admin/revocations/${fingerprint.toUpperCase()}`);
    expect(res.status).toBe(204);
    expect((await history(1))[0].changes).toEqual([{ field: 'revocations', from: fingerprint, to: null }]);
    expectError(await admin('DELETE', `/admin/revocations/${fingerprint}`), 404, 'NOT_FOUND');
    expectError(await admin('DELETE', '/admin/revocations/xyz'), 400, 'INVALID_REQUEST', 'sha256');
    expect((await admin('GET', '/admin/revocations')).body.items.map((r: { sha256: string }) => r.sha256)).toEqual(['c'.repeat(64)]);
  });
});

describe('history values', () => {
  it('are fixed field names with string or null values, never objects', async () => {
    const changes = (await history(500)).flatMap((entry) => entry.changes as { field: string; from: unknown; to: unknown }[]);
    // This file's stack: the local runner's server certificate, then the packages and revocations above.
    expect(new Set(changes.map((c) => c.field))).toEqual(new Set(['serverCertificate', 'packages', 'revocations']));
    for (const { from, to } of changes) {
      for (const value of [from, to]) expect(value === null || typeof value === 'string').toBe(true);
    }
  });
});
