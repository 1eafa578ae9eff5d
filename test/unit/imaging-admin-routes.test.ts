// Unit tests for lib/http/imaging-admin-routes.ts and lib/services/imaging/imaging-admin-service.ts over the in-memory
// stores: what the route layer and the use cases decide on their own (the PreStage cap, hashing before storing,
// status codes, history lines). Everything else is tested end to end.
import { describe, expect, it } from 'vitest';
import { InMemoryConfigStore } from '../../lib/adapters/memory/config-store.ts';
import { InMemoryImagingStore } from '../../lib/adapters/memory/imaging-store.ts';
import { HttpError } from '../../lib/domain/errors.ts';
import { MAX_PRESTAGES } from '../../lib/domain/imaging.ts';
import type { AdminRouteContext } from '../../lib/http/admin-route.ts';
import { imagingAdminRoutes } from '../../lib/http/imaging-admin-routes.ts';
import type { HttpRequest } from '../../lib/http/middleware.ts';
import { AdminImagingService } from '../../lib/services/imaging/imaging-admin-service.ts';

function setup() {
  const config = new InMemoryConfigStore();
  const store = new InMemoryImagingStore(config);
  return { config, store, routes: imagingAdminRoutes(new AdminImagingService(store)) };
}

function context(pathParameters: Record<string, string>, json?: unknown): AdminRouteContext {
  const request = { pathParameters, json } as HttpRequest;
  return { request, actor: 'alice', role: 'admin', now: new Date('2026-11-25T18:06:03.120Z') };
}

async function refusal(run: Promise<unknown>): Promise<HttpError> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return error as HttpError;
  }
  throw new Error('expected an HttpError');
}

describe('imaging admin routes', () => {
  it('exports exactly the route keys of serverless.yml', () => {
    expect(Object.keys(setup().routes).sort()).toEqual([
      'DELETE /admin/imaging/accounts/{username}',
      'DELETE /admin/imaging/autorun/{deviceId}',
      'DELETE /admin/imaging/prestages/{id}',
      'GET /admin/imaging/accounts',
      'PUT /admin/imaging/accounts/{username}',
      'PUT /admin/imaging/autorun/{deviceId}',
      'PUT /admin/imaging/prestages/{id}',
    ]);
  });

  it('hashes the password before the store sees it, and answers without it', async () => {
    const { store, config, routes } = setup();
    const response = await routes['PUT /admin/imaging/accounts/{username}'](context({ username: 'tech' }, { password: 'a long password' }));
    expect(response.statusCode).toBe(201);
    expect(JSON.parse(response.body!)).toEqual({ username: 'tech', createdAt: '2026-11-25T18:06:03.120Z', updatedAt: '2026-11-25T18:06:03.120Z', updatedBy: 'alice' });
    const stored = (await store.getAccount('tech'))!;
    expect(stored.passwordHash).toMatchObject({ algorithm: 'scrypt', N: 16384, r: 8, p: 1, keylen: 32 });
    expect(JSON.stringify(stored)).not.toContain('a long password');
    expect(await config.listHistory(10)).toEqual([
      { version: 1, changedAt: '2026-11-25T18:06:03.120Z', actor: 'alice', changes: [{ field: 'imagingAccounts', from: null, to: 'tech' }] },
    ]);
  });

  it(`refuses a new PreStage once ${MAX_PRESTAGES} exist (409 TOO_MANY_PRESTAGES), but still replaces existing ones`, async () => {
    const { routes } = setup();
    const put = routes['PUT /admin/imaging/prestages/{id}'];
    for (let i = 0; i < MAX_PRESTAGES; i += 1) expect((await put(context({ id: `p${i}` }, { n: i }))).statusCode).toBe(201);
    expect(await refusal(put(context({ id: 'one-too-many' }, { n: 0 })))).toMatchObject({ statusCode: 409, code: 'TOO_MANY_PRESTAGES' });
    expect((await put(context({ id: 'p7' }, { n: 'replaced' }))).statusCode).toBe(200);
    // Autorun documents are per device and not capped.
    expect((await routes['PUT /admin/imaging/autorun/{deviceId}'](context({ deviceId: 'C02' }, { n: 1 }))).statusCode).toBe(201);
  });

  it.each([
    // deletes of what is not there are 404, with 204 and no body otherwise
    ['DELETE /admin/imaging/accounts/{username}', { username: 'nobody' }],
    ['DELETE /admin/imaging/prestages/{id}', { id: 'nothing' }],
    ['DELETE /admin/imaging/autorun/{deviceId}', { deviceId: 'C02NONE' }],
  ])('%s on nothing → 404 NOT_FOUND', async (key, params) => {
    expect(await refusal(setup().routes[key](context(params)))).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
  });
});
