// Who may call what, as a whole table generated from the route table (lib/http/routes.ts KNOWN_ROUTES) and checked
// against the admin route tables of lib/http, so that a new route cannot be missed: every /admin path × every
// method × {no token, malformed header, wrong token, auditor, admin}; the imaging routes with imaging login on and
// off; the console's static files without a token, and every API call the console makes is an /admin route.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryUnauthenticatedAttemptStore } from '../../lib/adapters/memory/attempt-store.ts';
import { ManualClock } from '../../lib/adapters/memory/clock.ts';
import { InMemoryConfigStore } from '../../lib/adapters/memory/config-store.ts';
import { InMemoryDecisionStore } from '../../lib/adapters/memory/decision-store.ts';
import { InMemoryImagingStore } from '../../lib/adapters/memory/imaging-store.ts';
import { makeAdminRoutes } from '../../lib/http/admin-routes.ts';
import { KNOWN_ROUTES } from '../../lib/http/routes.ts';
import type { LocalStack } from '../../local/stack.ts';
import { PROJECT_ROOT } from '../../local/serverless-config.ts';
import { call, type HttpResult } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

const AUDITOR_TOKEN = 'auditor-token-for-the-access-table';
const IMAGING_PASSWORD = 'access table imaging password';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const METHODS = ['GET', 'PUT', 'PATCH', 'POST', 'DELETE'] as const;

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ adminTokens: `auditor1:auditor:${sha256(AUDITOR_TOKEN)}` });
  const res = await call(`${stack.httpUrl}/admin/imaging/accounts/imager`, { method: 'PUT', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, json: { password: IMAGING_PASSWORD } });
  expect(res.status).toBe(201);
});

afterAll(async () => {
  await stack?.stop();
});

const SAMPLE_PARAMS: Record<string, string> = { packageId: 'access-pkg', sha256: 'cd'.repeat(32), username: 'access-user', id: 'access-1', deviceId: 'ACCESS-DEVICE' };
const routes = KNOWN_ROUTES.map((key) => {
  const [method, template] = key.split(' ');
  return { key, method, template, path: template.replace(/\{(\w+)\+?\}/g, (_m, name: string) => SAMPLE_PARAMS[name] ?? 'x') };
});
const adminRoutes = routes.filter((r) => r.template.startsWith('/admin/'));
const adminPaths = [...new Set(adminRoutes.map((r) => r.path))];

/** [credential, Authorization header] */
const CREDENTIALS: Array<[string, string | undefined]> = [
  ['no token', undefined],
  ['malformed header', `Token ${TEST_ADMIN_TOKEN}`],
  ['wrong token', 'Bearer not-the-admin-token-0123456789'],
  ['auditor', `Bearer ${AUDITOR_TOKEN}`],
  ['admin', `Bearer ${TEST_ADMIN_TOKEN}`],
];

/** Requests that change nothing although their method could: an auditor may send them (API.md §3). */
const READ_ONLY_WRITES = new Set(['POST /admin/settings/preview']);

function expected(method: string, path: string, credential: string): { status: number | 'handled'; code?: string } {
  const route = adminRoutes.find((r) => r.path === path && r.method === method);
  if (!route) return { status: 405, code: 'METHOD_NOT_ALLOWED' };
  if (credential === 'no token' || credential === 'malformed header' || credential === 'wrong token') return { status: 401, code: 'UNAUTHENTICATED' };
  if (credential === 'auditor' && method !== 'GET' && !READ_ONLY_WRITES.has(route.key)) return { status: 403, code: 'FORBIDDEN' };
  return { status: 'handled' };
}

function send(method: string, path: string, authorization: string | undefined): Promise<HttpResult> {
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  const withBody = method !== 'GET' && method !== 'DELETE';
  if (withBody) headers['content-type'] = 'application/json';
  return call(`${stack.httpUrl}${path}`, { method, headers, body: withBody ? '{}' : undefined });
}

describe('the route table and the admin route tables agree', () => {
  it('every /admin route of KNOWN_ROUTES has a handler in the admin route tables, and no handler is unrouted', () => {
    const config = new InMemoryConfigStore();
    const decisions = new InMemoryDecisionStore();
    const handled = makeAdminRoutes({
      config,
      decisions,
      deviceStatus: decisions,
      attempts: new InMemoryUnauthenticatedAttemptStore(),
      imaging: new InMemoryImagingStore(config),
      clock: new ManualClock('2026-11-25T00:00:00Z'),
    });
    expect(Object.keys(handled).sort()).toEqual(adminRoutes.map((r) => r.key).sort());
  });
});

describe('every /admin path × every method × every credential', () => {
  const table = adminPaths.flatMap((path) => METHODS.flatMap((method) => CREDENTIALS.map(([credential, header]) => ({ path, method, credential, header }))));

  it('covers every admin route with all five credentials', () => {
    const covered = new Set(table.filter((row) => adminRoutes.some((r) => r.path === row.path && r.method === row.method)).map((row) => `${row.method} ${row.path} ${row.credential}`));
    expect(covered.size).toBe(adminRoutes.length * CREDENTIALS.length);
  });

  it.each(table)('$method $path with $credential', async ({ path, method, credential, header }) => {
    const res = await send(method, path, header);
    const want = expected(method, path, credential);
    if (want.status === 'handled') {
      // Past authentication and authorization: whatever the route makes of an empty body, never a refusal of the caller.
      expect([401, 403, 405], res.text).not.toContain(res.status);
      expect(res.status, res.text).toBeLessThan(500);
      return;
    }
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: want.status, code: want.code });
    if (want.status === 401) expect(res.headers['www-authenticate'], credential).toBe(credential === 'wrong token' ? 'Bearer error="invalid_token"' : 'Bearer');
    if (want.status === 405) expect(res.headers.allow?.split(', ').sort()).toEqual(adminRoutes.filter((r) => r.path === path).map((r) => r.method).sort());
  });
});

describe('imaging routes with imaging login on and off', () => {
  const imagingRoutes = routes.filter((r) => r.template.startsWith('/imaging/'));
  const basic = `Basic ${Buffer.from(`imager:${IMAGING_PASSWORD}`).toString('base64')}`;
  const wrong = `Basic ${Buffer.from('imager:wrong password!!').toString('base64')}`;

  async function setRequireLogin(value: boolean) {
    const res = await call(`${stack.httpUrl}/admin/settings`, { method: 'PATCH', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, json: { requireImagingAuthentication: value } });
    expect(res.status, res.text).toBe(200);
    // The imaging function caches the settings for up to 5 s.
    await new Promise((r) => setTimeout(r, 5_200));
  }

  it('on: no credentials and wrong ones are 401 with the Basic challenge; the account gets through', async () => {
    await setRequireLogin(true);
    for (const route of imagingRoutes) {
      const [none, bad, good] = [await call(`${stack.httpUrl}${route.path}`), await call(`${stack.httpUrl}${route.path}`, { headers: { authorization: wrong } }), await call(`${stack.httpUrl}${route.path}`, { headers: { authorization: basic } })];
      expect([none.status, bad.status], route.key).toEqual([401, 401]);
      expect(none.headers['www-authenticate']).toBe('Basic realm="imaging"');
      expect([200, 404], route.key).toContain(good.status);
    }
  }, 30_000);

  it('off: no credentials needed', async () => {
    await setRequireLogin(false);
    for (const route of imagingRoutes) {
      const none = await call(`${stack.httpUrl}${route.path}`);
      expect([200, 404], `${route.key}: ${none.text}`).toContain(none.status);
    }
    await setRequireLogin(true);
  }, 30_000);
});

describe('the admin console', () => {
  it('serves its static files without a token', async () => {
    const page = await call(`${stack.httpUrl}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
  });

  /** Every path literal the console's source calls, with template parts as sample values. */
  function consolePaths(): string[] {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.tsx?$/.test(name)) files.push(path);
      }
    };
    walk(join(PROJECT_ROOT, 'console', 'src'));
    const literals = files.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/['`](\/(?:admin|imaging|checkin|health|openapi)[^'`]*)['`]/g)].map((m) => m[1]));
    return [...new Set(literals.map((p) => p.replace(/\$\{[^}]*\}/g, 'x').split('?')[0]))];
  }

  it('calls only /admin routes, each of which refuses a request without a token (the table above)', async () => {
    const paths = consolePaths();
    expect(paths.length).toBeGreaterThan(5);
    for (const path of paths) {
      expect(path, path).toMatch(/^\/admin\//);
      const matching = adminRoutes.filter((r) => new RegExp(`^${r.template.replace(/\{\w+\}/g, '[^/]+')}$`).test(path));
      expect(matching.length, path).toBeGreaterThan(0);
      for (const route of matching) {
        const res = await send(route.method, path, undefined);
        expect(res.status, `${route.method} ${path}`).toBe(401);
      }
    }
  });
});
