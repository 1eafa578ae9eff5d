// Unit tests for lib/services/imaging/admin-routes.ts over an in-memory ImagingStore: what the route layer decides
// on its own (the PreStage cap, hashing before storing, status codes). Everything else is tested end to end.
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../lib/domain/errors.ts';
import { type ImagingDocumentKind, MAX_PRESTAGES, type PasswordHash } from '../../lib/domain/imaging.ts';
import type { AdminRouteContext } from '../../lib/http/admin-route.ts';
import type { HttpRequest } from '../../lib/http/middleware.ts';
import { imagingAdminRoutesFor, makeImagingAdminRoutes } from '../../lib/services/imaging/admin-routes.ts';
import type { ChangeAudit, ImagingAccount, ImagingDocument, ImagingStore } from '../../lib/services/imaging/ports.ts';

class InMemoryImagingStore implements ImagingStore {
  accounts = new Map<string, ImagingAccount>();
  documents = new Map<string, ImagingDocument>();

  async getAccount(username: string) {
    return this.accounts.get(username);
  }
  async listAccounts() {
    return [...this.accounts.values()].map(({ passwordHash: _h, ...summary }) => summary);
  }
  async putAccount(username: string, passwordHash: PasswordHash, audit: ChangeAudit) {
    const previous = this.accounts.get(username);
    const account = { username, createdAt: previous?.createdAt ?? audit.changedAt, updatedAt: audit.changedAt, updatedBy: audit.actor };
    this.accounts.set(username, { ...account, passwordHash });
    return { created: !previous, account };
  }
  async deleteAccount(username: string) {
    return this.accounts.delete(username);
  }
  async getDocument(kind: ImagingDocumentKind, id: string) {
    return this.documents.get(`${kind}/${id}`);
  }
  async listDocuments(kind: ImagingDocumentKind) {
    return [...this.documents.values()].filter((d) => d.kind === kind);
  }
  async countDocuments(kind: ImagingDocumentKind) {
    return (await this.listDocuments(kind)).length;
  }
  async putDocument(kind: ImagingDocumentKind, id: string, document: { json: string; sha256: string; sizeBytes: number }, audit: ChangeAudit) {
    const previous = this.documents.get(`${kind}/${id}`);
    const stored = { kind, id, ...document, createdAt: previous?.createdAt ?? audit.changedAt, updatedAt: audit.changedAt, updatedBy: audit.actor };
    this.documents.set(`${kind}/${id}`, stored);
    return { created: !previous, document: stored };
  }
  async deleteDocument(kind: ImagingDocumentKind, id: string) {
    return this.documents.delete(`${kind}/${id}`);
  }
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
    const routes = makeImagingAdminRoutes({ client: {} as never, configTable: 'unused', configStore: {} as never });
    expect(Object.keys(routes).sort()).toEqual([
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
    const store = new InMemoryImagingStore();
    const routes = imagingAdminRoutesFor(store);
    const response = await routes['PUT /admin/imaging/accounts/{username}'](context({ username: 'tech' }, { password: 'a long password' }));
    expect(response.statusCode).toBe(201);
    expect(JSON.parse(response.body!)).toEqual({ username: 'tech', createdAt: '2026-11-25T18:06:03.120Z', updatedAt: '2026-11-25T18:06:03.120Z', updatedBy: 'alice' });
    const stored = store.accounts.get('tech')!;
    expect(stored.passwordHash).toMatchObject({ algorithm: 'scrypt', N: 16384, r: 8, p: 1, keylen: 32 });
    expect(JSON.stringify(stored)).not.toContain('a long password');
  });

  it(`refuses a new PreStage once ${MAX_PRESTAGES} exist (409 TOO_MANY_PRESTAGES), but still replaces existing ones`, async () => {
    const store = new InMemoryImagingStore();
    const routes = imagingAdminRoutesFor(store);
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
    const routes = imagingAdminRoutesFor(new InMemoryImagingStore());
    expect(await refusal(routes[key](context(params)))).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
  });
});
