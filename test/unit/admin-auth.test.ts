// ADMIN_TOKENS parsing, bearer authentication, roles, and the admin router's order: authenticate, authorize, read.
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../lib/config.ts';
import { AdminAuthError, authenticate, authorize, parseAdminTokens, readAdminConfig } from '../../lib/http/admin-auth.ts';
import type { AdminRoutes } from '../../lib/http/admin-route.ts';

const sha = (token: string) => createHash('sha256').update(token).digest('hex');
const TABLE_ENV = { CONFIG_TABLE: 'c', DECISIONS_TABLE: 'd', DEVICE_STATUS_TABLE: 's' };

describe('parseAdminTokens', () => {
  it('reads name:role:sha256hex entries, any hex case, ignoring blanks and empty entries', () => {
    const entries = parseAdminTokens(` alice:admin:${sha('a').toUpperCase()} , ,bob:auditor:${sha('b')},`);
    expect(entries.map(({ name, role }) => ({ name, role }))).toEqual([
      { name: 'alice', role: 'admin' },
      { name: 'bob', role: 'auditor' },
    ]);
    expect(entries[0].digest.toString('hex')).toBe(sha('a'));
  });

  it.each([
    // [why, value, message fragment]
    ['unset', undefined, 'ADMIN_TOKENS is required'],
    ['empty', ' , ', 'ADMIN_TOKENS is required'],
    ['two parts', `alice:${sha('a')}`, 'entry 1 must be name:role:sha256hex'],
    ['four parts', `alice:admin:${sha('a')}:x`, 'entry 1 must be name:role:sha256hex'],
    ['an unknown role', `alice:root:${sha('a')}`, 'entry 1 ("alice"): the role must be admin or auditor'],
    ['an empty name', `:admin:${sha('a')}`, 'entry 1: the name must be'],
    ['a name with a space', `al ice:admin:${sha('a')}`, 'entry 1: the name must be'],
    ['a short hash', 'alice:admin:abc', 'entry 1 ("alice"): the third part must be the token\'s SHA-256'],
    ['the second entry bad', `alice:admin:${sha('a')},bob:admin:nothex`, 'entry 2 ("bob")'],
    ['the same hash twice', `alice:admin:${sha('a')},bob:auditor:${sha('a')}`, 'entry 2 ("bob") has the same token hash as entry 1'],
  ])('fails fast when %s, naming the problem', (_why, value, fragment) => {
    expect(() => parseAdminTokens(value)).toThrow(ConfigError);
    expect(() => parseAdminTokens(value)).toThrow(fragment);
  });

  it('never repeats a pasted token in its message', () => {
    const token = 'my-secret-token-pasted-by-mistake';
    try {
      parseAdminTokens(`alice:admin:${token}`);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(token);
    }
  });

  it('readAdminConfig also names a missing table variable', () => {
    expect(() => readAdminConfig({ ADMIN_TOKENS: `a:admin:${sha('a')}` })).toThrow('CONFIG_TABLE');
    expect(readAdminConfig({ ...TABLE_ENV, ADMIN_TOKENS: `a:admin:${sha('a')}` }).tokens).toHaveLength(1);
  });
});

describe('authenticate and authorize', () => {
  const entries = parseAdminTokens(`alice:admin:${sha('token-a')},audrey:auditor:${sha('token-b')}`);

  it.each([
    ['Bearer token-a', { name: 'alice', role: 'admin' }],
    ['bearer token-b', { name: 'audrey', role: 'auditor' }],
    ['  Bearer   token-a  ', { name: 'alice', role: 'admin' }],
  ])('%j proves %j', (header, principal) => {
    expect(authenticate(header, entries)).toEqual(principal);
  });

  it.each([
    // [header, reason, challenge]
    [undefined, 'MISSING', 'Bearer'],
    ['', 'MISSING', 'Bearer'],
    ['Basic dG9rZW4tYQ==', 'NOT_BEARER', 'Bearer'],
    ['Bearer', 'NOT_BEARER', 'Bearer'],
    ['Bearer token-a extra', 'NOT_BEARER', 'Bearer'],
    [`Bearer ${'x'.repeat(5000)}`, 'NOT_BEARER', 'Bearer'],
    ['Bearer token-c', 'UNKNOWN_TOKEN', 'Bearer error="invalid_token"'],
    [`Bearer ${sha('token-a')}`, 'UNKNOWN_TOKEN', 'Bearer error="invalid_token"'],
  ])('%j is 401 UNAUTHENTICATED (%s)', (header, reason, challenge) => {
    try {
      authenticate(header, entries);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AdminAuthError);
      expect(error).toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED', reason, headers: { 'WWW-Authenticate': challenge } });
    }
  });

  it.each([
    // [method, route, query, may an auditor call it]
    ['GET', 'GET /admin/settings', {}, true],
    ['GET', 'GET /admin/devices', { status: 'BLOCKED' }, true],
    ['POST', 'POST /admin/settings/preview', {}, true],
    ['PATCH', 'PATCH /admin/settings', { dryRun: 'true' }, true],
    ['PATCH', 'PATCH /admin/settings', {}, false],
    ['PATCH', 'PATCH /admin/settings', { dryRun: 'false' }, false],
    ['PATCH', 'PATCH /admin/settings', { dryRun: 'TRUE' }, false],
    ['PUT', 'PUT /admin/settings', { dryRun: 'true' }, false],
    ['PUT', 'PUT /admin/exemptions/{deviceId}', {}, false],
    ['DELETE', 'DELETE /admin/packages/{packageId}', {}, false],
    ['POST', 'POST /admin/settings/history', {}, false],
  ] as const)('%s %s %j: an admin may, an auditor may: %s', (method, routeKey, query, auditorMay) => {
    expect(() => authorize({ name: 'a', role: 'admin' }, { method, routeKey, query })).not.toThrow();
    const asAuditor = () => authorize({ name: 'b', role: 'auditor' }, { method, routeKey, query });
    if (auditorMay) expect(asAuditor).not.toThrow();
    else expect(asAuditor).toThrow(expect.objectContaining({ statusCode: 403, code: 'FORBIDDEN' }));
  });
});

describe('the admin handler', () => {
  async function loadAdminModule(env: Record<string, string>) {
    vi.resetModules();
    const saved = { ...process.env };
    Object.assign(process.env, TABLE_ENV, env);
    try {
      return await import('../../functions/admin.ts');
    } finally {
      process.env = saved;
    }
  }

  function event(method: string, routeKey: string, headers: Record<string, string>, body?: string): APIGatewayProxyEventV2 {
    return {
      version: '2.0',
      routeKey,
      rawPath: routeKey.split(' ')[1],
      rawQueryString: '',
      headers,
      body,
      isBase64Encoded: false,
      requestContext: { requestId: 'req-1', routeKey, http: { method, path: routeKey.split(' ')[1], protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' } },
    } as unknown as APIGatewayProxyEventV2;
  }

  it('fails at cold start on a malformed ADMIN_TOKENS, naming it', async () => {
    await expect(loadAdminModule({ ADMIN_TOKENS: 'alice:admin' })).rejects.toThrow('ADMIN_TOKENS entry 1');
  });

  it('authenticates before reading the body, then dispatches on routeKey with the actor', async () => {
    const { makeHandler } = await loadAdminModule({ ADMIN_TOKENS: `alice:admin:${sha('token-a')}` });
    const seen: unknown[] = [];
    const routes: AdminRoutes = {
      'PUT /admin/things/{id}': async (ctx) => {
        seen.push({ actor: ctx.actor, role: ctx.role, json: ctx.request.json });
        return { statusCode: 200, body: '{}' };
      },
    };
    const handler = makeHandler({ tokens: parseAdminTokens(`alice:admin:${sha('token-a')},audrey:auditor:${sha('token-b')}`), routes, clock: { now: () => new Date(0) } });
    const context = {} as Context;

    const anonymous = await handler(event('PUT', 'PUT /admin/things/{id}', { 'content-type': 'text/plain' }, 'not json'), context);
    expect(anonymous).toMatchObject({ statusCode: 401, headers: { 'WWW-Authenticate': 'Bearer' } });
    const auditor = await handler(event('PUT', 'PUT /admin/things/{id}', { authorization: 'Bearer token-b', 'content-type': 'application/json' }, '{}'), context);
    expect(auditor.statusCode).toBe(403);
    const badJson = await handler(event('PUT', 'PUT /admin/things/{id}', { authorization: 'Bearer token-a', 'content-type': 'application/json' }, '{'), context);
    expect(JSON.parse(badJson.body!).error.code).toBe('INVALID_JSON');
    const ok = await handler(event('PUT', 'PUT /admin/things/{id}', { Authorization: 'Bearer token-a', 'Content-Type': 'application/json' }, '{"a":1}'), context);
    expect(ok.statusCode).toBe(200);
    expect(seen).toEqual([{ actor: 'alice', role: 'admin', json: { a: 1 } }]);
    const unknown = await handler(event('GET', 'GET /admin/nothing', { authorization: 'Bearer token-a' }), context);
    expect(unknown.statusCode).toBe(404);
    expect(seen).toHaveLength(1);
  });
});
