// Admin authentication and roles over real HTTP: every /admin route of serverless.yml refuses without a valid token,
// auditors only read, and nothing about a request (body size, type, JSON) is judged before the caller is known.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import type { LocalStack } from '../../local/stack.ts';
import { loadServerlessConfig } from '../../local/serverless-config.ts';
import { call } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

const AUDITOR_TOKEN = 'auditor-token-for-the-admin-auth-test';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ adminTokens: `auditor1:auditor:${sha256(AUDITOR_TOKEN)}` });
});

afterAll(async () => {
  await stack?.stop();
});

/** Sample values for the path parameters of the admin routes. */
const SAMPLE_PARAMS: Record<string, string> = {
  packageId: 'office-2026',
  sha256: 'ab'.repeat(32),
  username: 'imager',
  id: 'prestage-1',
  deviceId: 'C02XK1JHJG5J',
};

const adminRoutes = loadServerlessConfig()
  .functions.find((fn) => fn.name === 'admin')!
  .httpRoutes.map((route) => ({
    routeKey: route.routeKey,
    method: route.method,
    path: route.path.replace(/\{(\w+)\}/g, (_m, name: string) => SAMPLE_PARAMS[name] ?? 'x'),
  }));

const send = (route: { method: string; path: string }, headers: Record<string, string>) =>
  call(`${stack.httpUrl}${route.path}`, {
    method: route.method,
    headers: { ...headers, ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { 'content-type': 'application/json' }) },
    body: route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}',
  });

function expectUnauthenticated(res: Awaited<ReturnType<typeof call>>) {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
  expect(res.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String), requestId: expect.any(String) } });
}

describe('every /admin route of serverless.yml', () => {
  it('is enumerated from serverless.yml (sanity: all of API.md §3 is there)', () => {
    expect(adminRoutes.length).toBeGreaterThanOrEqual(27);
    expect(adminRoutes.every((r) => r.path.startsWith('/admin/'))).toBe(true);
  });

  it.each(adminRoutes)('$routeKey: 401 without a token, with a wrong token, and with another scheme', async (route) => {
    const [none, wrong, basic, empty] = await Promise.all([
      send(route, {}),
      send(route, { authorization: 'Bearer not-a-valid-token' }),
      send(route, { authorization: `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString('base64')}` }),
      send(route, { authorization: 'Bearer ' }),
    ]);
    for (const res of [none, wrong, basic, empty]) expectUnauthenticated(res);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(wrong.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  /** Not a GET, but a read: the impact preview (API.md §3), which an auditor may call. */
  const AUDITOR_PREVIEWS = ['POST /admin/settings/preview'];

  it.each(adminRoutes.filter((r) => r.method !== 'GET' && !AUDITOR_PREVIEWS.includes(r.routeKey)))('$routeKey: 403 FORBIDDEN for an auditor', async (route) => {
    const res = await send(route, { authorization: `Bearer ${AUDITOR_TOKEN}` });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: 'FORBIDDEN', message: expect.stringContaining('GET'), requestId: expect.any(String) } });
  });

  it('an auditor’s refused writes changed nothing', async () => {
    const settings = await send({ method: 'GET', path: '/admin/settings' }, { authorization: `Bearer ${AUDITOR_TOKEN}` });
    expect(settings.body).toMatchObject({ version: 1, updatedBy: null });
    const history = await send({ method: 'GET', path: '/admin/settings/history' }, { authorization: `Bearer ${AUDITOR_TOKEN}` });
    // The one entry is the local runner registering its own server certificate at start.
    expect(history.body.items.map((i: { actor: string }) => i.actor)).toEqual(['local-runner']);
  });

  /** What each GET answers an auditor on a fresh installation (the sample ids do not exist). */
  const AUDITOR_READS: Record<string, number> = {
    'GET /admin/settings': 200,
    'GET /admin/settings/history': 200,
    'GET /admin/device-ca': 200,
    'GET /admin/server-certificate': 200,
    'GET /admin/push-certificate': 404,
    'GET /admin/packages': 200,
    'GET /admin/packages/{packageId}': 404,
    'GET /admin/revocations': 200,
    'GET /admin/exemptions': 200,
    'GET /admin/exemptions/{deviceId}': 404,
    'GET /admin/imaging/accounts': 200,
    'GET /admin/devices': 400, // status is required; with it, 200 (below)
    'GET /admin/devices/{deviceId}/decisions': 200,
    'GET /admin/unauthenticated-attempts': 200,
    'GET /admin/whoami': 200,
  };

  it.each(adminRoutes.filter((r) => r.method === 'GET'))('$routeKey: an auditor may read it', async (route) => {
    const res = await send(route, { authorization: `Bearer ${AUDITOR_TOKEN}` });
    expect(res.status).toBe(AUDITOR_READS[route.routeKey]);
    if (res.status >= 400) expect(res.body.error.code).toBe(res.status === 404 ? 'NOT_FOUND' : 'INVALID_REQUEST');
  });

  it('covers every GET route in the table above', () => {
    expect(adminRoutes.filter((r) => r.method === 'GET').map((r) => r.routeKey).sort()).toEqual(Object.keys(AUDITOR_READS).sort());
  });

  it('lets an auditor preview a settings change, by POST and by PATCH ?dryRun=true, but not save it', async () => {
    const auditor = { authorization: `Bearer ${AUDITOR_TOKEN}` };
    const json = (method: string, path: string, body: unknown) =>
      call(`${stack.httpUrl}${path}`, { method, headers: { ...auditor, 'content-type': 'application/merge-patch+json' }, body: JSON.stringify(body) });
    const before = await send({ method: 'GET', path: '/admin/settings' }, auditor);
    expect((await json('POST', '/admin/settings/preview', { maxClockSkewSeconds: 100 })).status).toBe(200);
    expect((await json('PATCH', '/admin/settings?dryRun=true', { maxClockSkewSeconds: 100 })).status).toBe(200);
    for (const path of ['/admin/settings', '/admin/settings?dryRun=false', '/admin/settings?dryRun=TRUE', '/admin/settings?dryrun=true']) {
      const res = await json('PATCH', path, { maxClockSkewSeconds: 100 });
      expect(res.status, path).toBe(403);
    }
    expect((await send({ method: 'GET', path: '/admin/settings' }, auditor)).body).toEqual(before.body);
  });

  it('lets an auditor list devices by status', async () => {
    const res = await send({ method: 'GET', path: '/admin/devices?status=BLOCKED' }, { authorization: `Bearer ${AUDITOR_TOKEN}` });
    expect(res).toMatchObject({ status: 200, body: { items: [] } });
  });
});

describe('authentication comes first', () => {
  const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

  it('answers 401, not 400/413/415, to an unauthenticated request with a bad body', async () => {
    const cases = [
      call(`${stack.httpUrl}/admin/settings`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{not json' }),
      call(`${stack.httpUrl}/admin/settings`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'hello' }),
      call(`${stack.httpUrl}/admin/device-ca`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ certificates: 'x'.repeat(1024 * 1024 + 10) }) }),
    ];
    for (const res of await Promise.all(cases)) expectUnauthenticated(res);
  });

  it('accepts the scheme in any case and records the token name as the actor', async () => {
    const res = await call(`${stack.httpUrl}/admin/packages/auth-actor`, {
      method: 'PUT',
      headers: { authorization: `bearer ${TEST_ADMIN_TOKEN}` },
      json: { name: 'Actor check', checksum: null },
    });
    expect(res.status).toBe(201);
    expect(res.body.updatedBy).toBe('local-admin');
    const history = await call(`${stack.httpUrl}/admin/settings/history?limit=1`, { headers: { authorization: `Bearer ${AUDITOR_TOKEN}` } });
    expect(history.status).toBe(200);
    expect(history.body.items[0]).toMatchObject({ actor: 'local-admin', changes: [{ field: 'packages', from: null, to: 'auth-actor' }] });
  });

  it('then applies the contract error table: 413 over 1 MiB, 415 without JSON, 400 INVALID_JSON', async () => {
    const big = await call(`${stack.httpUrl}/admin/device-ca`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ certificates: 'x'.repeat(1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const text = await call(`${stack.httpUrl}/admin/settings`, { method: 'PUT', headers: { ...auth, 'content-type': 'text/plain' }, body: '{}' });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const broken = await call(`${stack.httpUrl}/admin/settings`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: '{"mode":' });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('INVALID_JSON');
  });

  it('leaves unknown /admin paths and wrong methods to the contract 404 / 405', async () => {
    const unknown = await call(`${stack.httpUrl}/admin/nothing-here`, { headers: auth });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    const wrongMethod = await call(`${stack.httpUrl}/admin/settings`, { method: 'DELETE', headers: auth });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error.code).toBe('METHOD_NOT_ALLOWED');
  });
});
