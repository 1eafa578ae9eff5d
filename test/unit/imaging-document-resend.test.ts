// Sending the same PreStage or Autorun document again changes nothing: no `X → X` history line, `updatedAt` kept,
// 200 with the stored document, as identical settings, packages and certificates already do.
import { describe, expect, it } from 'vitest';
import { InMemoryConfigStore } from '../../lib/adapters/memory/config-store.ts';
import { InMemoryImagingStore } from '../../lib/adapters/memory/imaging-store.ts';
import { documentHistoryValue, MAX_PRESTAGES } from '../../lib/domain/imaging.ts';
import type { AdminRouteContext } from '../../lib/http/admin-route.ts';
import { imagingAdminRoutes } from '../../lib/http/imaging-admin-routes.ts';
import type { HttpRequest } from '../../lib/http/middleware.ts';
import { AdminImagingService } from '../../lib/services/imaging/imaging-admin-service.ts';

const FIRST = '2026-11-25T18:06:03.120Z';
const LATER = '2026-11-26T09:00:00.000Z';

function setup() {
  const config = new InMemoryConfigStore();
  return { config, routes: imagingAdminRoutes(new AdminImagingService(new InMemoryImagingStore(config))) };
}

function context(pathParameters: Record<string, string>, json: unknown, now: string, actor = 'alice'): AdminRouteContext {
  return { request: { pathParameters, json } as HttpRequest, actor, role: 'admin', now: new Date(now) };
}

describe.each([
  ['PRESTAGE', 'PUT /admin/imaging/prestages/{id}', 'id', 'imagingPrestages'],
  ['AUTORUN', 'PUT /admin/imaging/autorun/{deviceId}', 'deviceId', 'imagingAutorun'],
] as const)('%s sent again', (_kind, route, idField, historyField) => {
  it('unchanged: 200 with the first updatedAt and updatedBy, and no history line', async () => {
    const { config, routes } = setup();
    const document = { displayName: 'Lab Macs', ...(idField === 'id' ? { id: 'lab' } : {}) };
    const created = await routes[route](context({ [idField]: 'lab' }, document, FIRST));
    const again = await routes[route](context({ [idField]: 'lab' }, structuredClone(document), LATER, 'bob'));
    expect(created.statusCode).toBe(201);
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body!)).toEqual(JSON.parse(created.body!));
    expect(JSON.parse(again.body!)).toMatchObject({ createdAt: FIRST, updatedAt: FIRST, updatedBy: 'alice' });
    const sha256 = JSON.parse(created.body!).sha256;
    expect(await config.listHistory(10)).toEqual([
      { version: 1, changedAt: FIRST, actor: 'alice', changes: [{ field: historyField, from: null, to: documentHistoryValue('lab', sha256) }] },
    ]);
  });

  it('a changed document is still replaced: 200, the new updatedAt, one history line', async () => {
    const { config, routes } = setup();
    const created = JSON.parse((await routes[route](context({ [idField]: 'lab' }, { displayName: 'Lab Macs' }, FIRST))).body!);
    const replaced = await routes[route](context({ [idField]: 'lab' }, { displayName: 'Lab Macs 2' }, LATER, 'bob'));
    expect(replaced.statusCode).toBe(200);
    const body = JSON.parse(replaced.body!);
    expect(body).toMatchObject({ createdAt: FIRST, updatedAt: LATER, updatedBy: 'bob' });
    expect((await config.listHistory(10))[0]).toEqual({
      version: 1,
      changedAt: LATER,
      actor: 'bob',
      changes: [{ field: historyField, from: documentHistoryValue('lab', created.sha256), to: documentHistoryValue('lab', body.sha256) }],
    });
  });
});

describe('the PreStage cap', () => {
  it(`an existing PreStage sent again is unchanged even when ${MAX_PRESTAGES} exist`, async () => {
    const { routes } = setup();
    const put = routes['PUT /admin/imaging/prestages/{id}'];
    for (let i = 0; i < MAX_PRESTAGES; i += 1) await put(context({ id: `p${i}` }, { n: i }, FIRST));
    const again = await put(context({ id: 'p3' }, { n: 3 }, LATER));
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body!).updatedAt).toBe(FIRST);
  });
});
