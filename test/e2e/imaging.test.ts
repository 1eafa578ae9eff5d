// End-to-end tests of imaging (API.md §2 and the imaging part of §3): the local stack over HTTP — the admin function
// for accounts and documents, the imaging function for reads, DynamoDB Local underneath.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbLoginAttemptStore } from '../../lib/adapters/dynamodb/login-attempt-store.ts';
import { MAX_IMAGING_DOCUMENT_BYTES } from '../../lib/domain/imaging.ts';
import { logger } from '../../lib/observability.ts';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import type { LocalStack } from '../../local/stack.ts';
import { seedSettings } from '../support/config.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

const PASSWORD = 'imaging password 2026!';

let stack: LocalStack;
let configStore: DynamoDbConfigStore;
let attempts: DynamoDbLoginAttemptStore;
let warn: MockInstance;

interface Result {
  status: number;
  headers: Record<string, string>;
  body: any;
  text: string;
}

async function call(method: string, path: string, options: { headers?: Record<string, string>; json?: unknown; body?: string } = {}): Promise<Result> {
  const headers = { ...options.headers };
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${stack.httpUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: Object.fromEntries(response.headers), body: parsed, text };
}

const admin = (method: string, path: string, options: { json?: unknown; body?: string; headers?: Record<string, string> } = {}) =>
  call(method, path, { ...options, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...options.headers } });

const basic = (username: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}` });

const imaging = (path: string, headers: Record<string, string> = {}) => call('GET', path, { headers });

async function createAccount(username: string, password = PASSWORD) {
  const response = await admin('PUT', `/admin/imaging/accounts/${username}`, { json: { password } });
  expect(response.status, response.text).toBe(201);
}

async function setRequireLogin(value: boolean) {
  const { settings } = await configStore.getSettings();
  const changes = [{ field: 'requireImagingAuthentication', from: settings.requireImagingAuthentication, to: value }];
  await seedSettings(configStore, { requireImagingAuthentication: value }, { actor: 'e2e', changes });
}

/** Polls until the status is the one wanted; resolves with the milliseconds it took. */
async function msUntilStatus(path: string, status: number, headers: Record<string, string> = {}): Promise<number> {
  const start = Date.now();
  for (;;) {
    if ((await imaging(path, headers)).status === status) return Date.now() - start;
    if (Date.now() - start > 8000) throw new Error(`${path} never answered ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const errorBody = (code: string, extra: Record<string, unknown> = {}) => ({
  error: { code, message: expect.any(String), ...extra, requestId: expect.any(String) },
});

beforeAll(async () => {
  stack = await startTestStack();
  const client = localDynamoDbClient(stack.dynamoDbEndpoint);
  configStore = new DynamoDbConfigStore(client, stack.tableNames.ConfigTable);
  attempts = new DynamoDbLoginAttemptStore(client, stack.tableNames.ConfigTable);
  warn = vi.spyOn(logger, 'warn');
});

afterAll(async () => {
  warn?.mockRestore();
  await stack?.stop();
});

beforeEach(() => {
  warn.mockClear();
});

describe('the setting flipped both ways takes effect within 5 s', () => {
  // First in the file, before anything has filled the imaging function's settings cache: the first half then
  // answers at once and the file waits out the 5 s only once. The login tests below show that login is required
  // by default; the second half shows it is required again.
  it('false: anonymous access works; true again: login is required again', async () => {
    await admin('PUT', '/admin/imaging/prestages/p-flip', { json: { name: 'Flip' } });
    await admin('PUT', '/admin/imaging/autorun/C02FLIP', { json: { name: 'Flip' } });

    await setRequireLogin(false);
    expect(await msUntilStatus('/imaging/prestages/p-flip', 200)).toBeLessThanOrEqual(5500);
    expect(await imaging('/imaging/prestages/p-flip')).toMatchObject({ status: 200, body: { name: 'Flip' } });
    expect(await imaging('/imaging/autorun/C02FLIP')).toMatchObject({ status: 200, body: { name: 'Flip' } });
    expect((await imaging('/imaging/prestages')).status).toBe(200);

    await setRequireLogin(true);
    expect(await msUntilStatus('/imaging/prestages/p-flip', 401)).toBeLessThanOrEqual(5500);
    const refused = await imaging('/imaging/prestages/p-flip');
    expect(refused.headers['www-authenticate']).toBe('Basic realm="imaging"');
  });
});

describe('admin: imaging accounts', () => {
  it('creates (201), replaces (200), lists and deletes (204, then 404); no response holds the password or its hash', async () => {
    const created = await admin('PUT', '/admin/imaging/accounts/tech.one@example.com', { json: { password: PASSWORD } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ username: 'tech.one@example.com', createdAt: expect.any(String), updatedAt: expect.any(String), updatedBy: 'local-admin' });

    const replaced = await admin('PUT', '/admin/imaging/accounts/tech.one@example.com', { json: { password: `${PASSWORD} v2` } });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({ ...created.body, updatedAt: expect.any(String) });

    const listed = await admin('GET', '/admin/imaging/accounts');
    expect(listed.status).toBe(200);
    expect(listed.body.items).toContainEqual({ username: 'tech.one@example.com', createdAt: created.body.createdAt, updatedAt: replaced.body.updatedAt, updatedBy: 'local-admin' });

    // The replaced password is the one that works now.
    expect((await imaging('/imaging/prestages', basic('tech.one@example.com', PASSWORD))).status).toBe(401);
    expect((await imaging('/imaging/prestages', basic('tech.one@example.com', `${PASSWORD} v2`))).status).toBe(200);

    const deleted = await admin('DELETE', '/admin/imaging/accounts/tech.one@example.com');
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect(await admin('DELETE', '/admin/imaging/accounts/tech.one@example.com')).toMatchObject({ status: 404, body: errorBody('NOT_FOUND') });
    expect((await imaging('/imaging/prestages', basic('tech.one@example.com', `${PASSWORD} v2`))).status).toBe(401);

    for (const response of [created, replaced, listed]) {
      expect(response.text).not.toContain(PASSWORD);
      expect(response.text).not.toMatch(/hash|salt|scrypt/i);
    }
  });

  it.each([
    ['a password of 11 characters (the rule is 12 or more)', 'tech2', { json: { password: 'elevenchars' } }, 422, 'INVALID_IMAGING_ACCOUNT', 'password'],
    ['a password over 1024 characters', 'tech2', { json: { password: 'x'.repeat(1025) } }, 422, 'INVALID_IMAGING_ACCOUNT', 'password'],
    ['no password', 'tech2', { json: {} }, 400, 'INVALID_IMAGING_ACCOUNT', 'password'],
    ['a password that is not a string', 'tech2', { json: { password: 123456789012345 } }, 400, 'INVALID_IMAGING_ACCOUNT', 'password'],
    ['an unknown field', 'tech2', { json: { password: PASSWORD, role: 'admin' } }, 400, 'INVALID_IMAGING_ACCOUNT', 'role'],
    ['a body that is not an object', 'tech2', { json: [PASSWORD] }, 400, 'INVALID_IMAGING_ACCOUNT', undefined],
    ['a username with a space', 'bad%20name', { json: { password: PASSWORD } }, 400, 'INVALID_IMAGING_ACCOUNT', 'username'],
    ['a username with ":" (it would split Basic credentials)', 'bad:name', { json: { password: PASSWORD } }, 400, 'INVALID_IMAGING_ACCOUNT', 'username'],
    ['a username of 65 characters', 'u'.repeat(65), { json: { password: PASSWORD } }, 400, 'INVALID_IMAGING_ACCOUNT', 'username'],
    // the admin stack's own rules
    ['a form body instead of JSON', 'tech2', { body: `password=${PASSWORD}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE', undefined],
    ['unparseable JSON', 'tech2', { body: '{"password":', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_JSON', undefined],
  ])('refuses %s', async (_case, username, request, status, code, field) => {
    const response = await admin('PUT', `/admin/imaging/accounts/${username}`, request);
    expect(response.status).toBe(status);
    expect(response.body).toEqual(errorBody(code, field === undefined ? {} : { field }));
    expect(response.text).not.toContain(PASSWORD);
    expect(response.text).not.toContain('elevenchars');
    // Nothing was created.
    expect((await admin('GET', '/admin/imaging/accounts')).body.items.map((a: any) => a.username)).not.toContain('tech2');
  });

  it('records every change in the settings history without secrets, and leaves the settings version alone', async () => {
    const before = await admin('GET', '/admin/settings');
    await createAccount('historian');
    await admin('PUT', '/admin/imaging/accounts/historian', { json: { password: `${PASSWORD} again` } });
    await admin('DELETE', '/admin/imaging/accounts/historian');

    const history = await admin('GET', '/admin/settings/history?limit=50');
    expect(history.status).toBe(200);
    const lines = history.body.items.filter((item: any) =>
      item.changes.some((c: any) => c.field === 'imagingAccounts' && (c.from === 'historian' || c.to === 'historian')),
    );
    // Fixed field name; from/to are the username, or null where there is no account (newest first).
    expect(lines.map((l: any) => l.changes)).toEqual([
      [{ field: 'imagingAccounts', from: 'historian', to: null }],
      [{ field: 'imagingAccounts', from: 'historian', to: 'historian' }],
      [{ field: 'imagingAccounts', from: null, to: 'historian' }],
    ]);
    for (const line of lines) expect(line).toMatchObject({ version: before.body.version, actor: 'local-admin' });
    expect(history.text).not.toContain(PASSWORD);
    expect(history.text).not.toMatch(/salt|scrypt/);
    expect((await admin('GET', '/admin/settings')).body.version).toBe(before.body.version);
  });
});

describe('admin: PreStages and Autorun information', () => {
  it('stores a PreStage (201, then 200 on replace) that the imaging routes serve as stored', async () => {
    await createAccount('reader');
    const document = { name: 'Lab Macs', enrollment: { skipSetupItems: ['Siri', 'TOS'] }, priority: 2 };
    const created = await admin('PUT', '/admin/imaging/prestages/lab-2026', { json: document });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: 'lab-2026',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      sizeBytes: JSON.stringify(document).length,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      updatedBy: 'local-admin',
    });
    const replacement = { ...document, priority: 3 };
    expect((await admin('PUT', '/admin/imaging/prestages/lab-2026', { json: replacement })).status).toBe(200);
    expect((await admin('PUT', '/admin/imaging/prestages/art', { json: { id: 'art', name: 'Art' } })).status).toBe(201);

    const auth = basic('reader', PASSWORD);
    const one = await imaging('/imaging/prestages/lab-2026', auth);
    expect(one.status).toBe(200);
    expect(one.headers['content-type']).toBe('application/json');
    expect(one.headers['cache-control']).toBe('no-store');
    expect(one.body).toEqual(replacement);

    const list = await imaging('/imaging/prestages', auth);
    expect(list.status).toBe(200);
    expect(Object.keys(list.body)).toEqual(['items']);
    const ids = list.body.items.map((i: any) => i.id);
    expect(ids).toEqual([...ids].sort()); // ordered by id
    expect(list.body.items.filter((i: any) => ['art', 'lab-2026'].includes(i.id))).toEqual([
      { id: 'art', name: 'Art' },
      { id: 'lab-2026', ...replacement },
    ]);

    expect(await imaging('/imaging/prestages/nope', auth)).toMatchObject({ status: 404, body: errorBody('NOT_FOUND') });
    expect((await admin('DELETE', '/admin/imaging/prestages/art')).status).toBe(204);
    expect(await admin('DELETE', '/admin/imaging/prestages/art')).toMatchObject({ status: 404, body: errorBody('NOT_FOUND') });
    const after = (await imaging('/imaging/prestages', auth)).body.items.map((i: any) => i.id);
    expect(after).toContain('lab-2026');
    expect(after).not.toContain('art');
  });

  it('stores, serves and deletes Autorun information per device', async () => {
    await createAccount('autorunner');
    const auth = basic('autorunner', PASSWORD);
    const document = { computerName: 'LAB-01', packages: [{ id: 'office', order: 1 }], scripts: [] };
    const created = await admin('PUT', '/admin/imaging/autorun/C02XK1JHJG5J', { json: document });
    expect(created).toMatchObject({ status: 201, body: { deviceId: 'C02XK1JHJG5J', updatedBy: 'local-admin' } });
    expect(await imaging('/imaging/autorun/C02XK1JHJG5J', auth)).toMatchObject({ status: 200, body: document });

    expect((await admin('DELETE', '/admin/imaging/autorun/C02XK1JHJG5J')).status).toBe(204);
    expect(await imaging('/imaging/autorun/C02XK1JHJG5J', auth)).toMatchObject({ status: 404, body: errorBody('NOT_FOUND') });
    expect(await admin('DELETE', '/admin/imaging/autorun/C02XK1JHJG5J')).toMatchObject({ status: 404, body: errorBody('NOT_FOUND') });

    const history = await admin('GET', '/admin/settings/history?limit=50');
    const value = `C02XK1JHJG5J sha256:${created.body.sha256}`;
    const changes = history.body.items.flatMap((i: any) => i.changes).filter((c: any) => c.field === 'imagingAutorun' && (c.from === value || c.to === value));
    expect(changes).toEqual([
      { field: 'imagingAutorun', from: value, to: null },
      { field: 'imagingAutorun', from: null, to: value },
    ]);
    // The fingerprint is SHA-256 of the stored JSON text.
    expect(created.body.sha256).toBe(createHash('sha256').update(JSON.stringify(document)).digest('hex'));
  });

  it('accepts a document of exactly 32 KiB serialized', async () => {
    const document = { blob: 'x'.repeat(MAX_IMAGING_DOCUMENT_BYTES - 11) }; // {"blob":"…"} is 11 bytes of frame
    expect(JSON.stringify(document)).toHaveLength(MAX_IMAGING_DOCUMENT_BYTES);
    expect(await admin('PUT', '/admin/imaging/autorun/C02FULL', { json: document })).toMatchObject({ status: 201, body: { sizeBytes: 32768 } });
  });

  it.each([
    ['a PreStage one byte over 32 KiB', '/admin/imaging/prestages/big', { json: { blob: 'x'.repeat(MAX_IMAGING_DOCUMENT_BYTES - 10) } }, 413, 'PAYLOAD_TOO_LARGE', undefined],
    ['an Autorun document over 32 KiB', '/admin/imaging/autorun/C02BIG', { json: { blob: 'x'.repeat(MAX_IMAGING_DOCUMENT_BYTES) } }, 413, 'PAYLOAD_TOO_LARGE', undefined],
    ['a JSON array', '/admin/imaging/prestages/arr', { json: [{ name: 'x' }] }, 400, 'INVALID_IMAGING_DOCUMENT', undefined],
    ['a JSON string', '/admin/imaging/autorun/C02STR', { json: 'just text' }, 400, 'INVALID_IMAGING_DOCUMENT', undefined],
    ['a JSON number', '/admin/imaging/autorun/C02NUM', { json: 42 }, 400, 'INVALID_IMAGING_DOCUMENT', undefined],
    ['JSON null', '/admin/imaging/autorun/C02NULL', { json: null }, 400, 'INVALID_IMAGING_DOCUMENT', undefined],
    ['no body at all', '/admin/imaging/prestages/empty', {}, 400, 'INVALID_IMAGING_DOCUMENT', undefined],
    ['a PreStage whose own id contradicts the path', '/admin/imaging/prestages/p1', { json: { id: 'p2' } }, 400, 'INVALID_IMAGING_DOCUMENT', 'id'],
    ['a PreStage id with a space', '/admin/imaging/prestages/bad%20id', { json: { name: 'x' } }, 400, 'INVALID_IMAGING_DOCUMENT', 'id'],
    ['a device id of 129 characters', `/admin/imaging/autorun/${'d'.repeat(129)}`, { json: { name: 'x' } }, 400, 'INVALID_IMAGING_DOCUMENT', 'deviceId'],
  ])('refuses %s', async (_case, path, request, status, code, field) => {
    const response = await admin('PUT', path, request);
    expect(response.status).toBe(status);
    expect(response.body).toEqual(errorBody(code, field === undefined ? {} : { field }));
  });
});

describe('admin: deeply nested documents are refused with 400, never a 500', () => {
  // Raw bodies, as an attacker sends them: JSON.parse reads any depth, JSON.stringify (the stored form) does not.
  /** `depth` objects, one in the other, around a number. */
  const objects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const arrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const send = (path: string, body: string) => admin('PUT', path, { body, headers: { 'content-type': 'application/json' } });

  it.each([
    // 100,000 levels of {"a": …}: 600 KB, inside the 1 MiB admin body
    ['a PreStage of objects 100,000 deep', '/admin/imaging/prestages/deep', objects(100_000)],
    ['an Autorun document of objects 100,000 deep', '/admin/imaging/autorun/C02DEEP', objects(100_000)],
    ['a PreStage holding arrays 200,000 deep', '/admin/imaging/prestages/deep', `{"steps":${arrays(200_000)}}`],
    ['an Autorun document holding arrays 200,000 deep', '/admin/imaging/autorun/C02DEEP', `{"steps":${arrays(200_000)}}`],
    // the PreStage's own id is compared with the path's: that comparison must not recurse into it either
    ['a PreStage whose "id" is arrays 100,000 deep', '/admin/imaging/prestages/deep', `{"id":${arrays(100_000)}}`],
    // 32 KiB of '[' is 32,768 levels: within the document size limit, still far too deep
    ['an Autorun document holding 32 KiB of [', '/admin/imaging/autorun/C02DEEP', `{"s":${arrays(16 * 1024)}}`],
    // one level over the bound
    ['a PreStage 65 levels deep', '/admin/imaging/prestages/deep', objects(65)],
  ])('refuses %s', async (_name, path, body) => {
    expect(body.length).toBeLessThan(1024 * 1024);
    const response = await send(path, body);
    expect(response.status, response.text.slice(0, 200)).toBe(400);
    expect(response.body).toEqual(errorBody('INVALID_IMAGING_DOCUMENT'));
    expect(response.body.error.message).toMatch(/more than 64 levels deep/);
  });

  it('stores a document exactly 64 levels deep, and a refused deeper one leaves it as it was', async () => {
    await createAccount('deep-reader');
    const auth = basic('deep-reader', PASSWORD);
    const stored = await send('/admin/imaging/autorun/C02LEVEL64', objects(64));
    expect(stored.status, stored.text).toBe(201);
    expect(await send('/admin/imaging/autorun/C02LEVEL64', objects(100_000))).toMatchObject({ status: 400 });
    expect(await imaging('/imaging/autorun/C02LEVEL64', auth)).toMatchObject({ status: 200, body: JSON.parse(objects(64)) });
    expect(await imaging('/imaging/autorun/C02DEEP', auth)).toMatchObject({ status: 404 });
  });
});

describe('imaging login (requireImagingAuthentication true, the default)', () => {
  beforeAll(async () => {
    await createAccount('imager');
    await admin('PUT', '/admin/imaging/prestages/p-login', { json: { name: 'Login test' } });
    await admin('PUT', '/admin/imaging/autorun/C02LOGIN', { json: { name: 'Login test' } });
  });

  it.each([
    // no Authorization header
    ['missing', {}],
    // not Basic, or not decodable
    ['bearer token', { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }],
    ['not base64', { authorization: 'Basic %%%' }],
    ['no colon', { authorization: `Basic ${Buffer.from('imager').toString('base64')}` }],
    // a real account, the wrong password
    ['wrong password', basic('imager', 'not the password at all')],
    // an account that does not exist
    ['unknown user', basic('nobody-here', PASSWORD)],
  ])('%s → 401 UNAUTHENTICATED with WWW-Authenticate, on every route', async (_case, headers) => {
    const paths = ['/imaging/prestages', '/imaging/prestages/p-login', '/imaging/autorun/C02LOGIN', '/imaging/prestages/does-not-exist'];
    for (const response of await Promise.all(paths.map((path) => imaging(path, headers)))) {
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Basic realm="imaging"');
      expect(response.body).toEqual(errorBody('UNAUTHENTICATED'));
    }
  });

  it('wrong password and unknown user get the same answer', async () => {
    const wrong = await imaging('/imaging/prestages', basic('imager', 'not the password at all'));
    const unknown = await imaging('/imaging/prestages', basic('nobody-here', PASSWORD));
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
  });

  it('the right password reads every route', async () => {
    const auth = basic('imager', PASSWORD);
    expect(await imaging('/imaging/prestages/p-login', auth)).toMatchObject({ status: 200, body: { name: 'Login test' } });
    expect(await imaging('/imaging/autorun/C02LOGIN', auth)).toMatchObject({ status: 200, body: { name: 'Login test' } });
    const list = await imaging('/imaging/prestages', auth);
    expect(list.status).toBe(200);
    expect(list.body.items).toContainEqual({ id: 'p-login', name: 'Login test' });
  });

  it('logs every refusal with the username tried and the source address, never the password', async () => {
    const guess = 'my-secret-guess-42';
    await imaging('/imaging/prestages', basic('imager', guess));
    await imaging('/imaging/prestages', basic('nobody-here', guess));
    await imaging('/imaging/prestages');
    const refusals = warn.mock.calls.filter(([message]) => message === 'Imaging login refused').map(([, fields]) => fields);
    expect(refusals).toEqual([
      expect.objectContaining({ reason: 'WRONG_PASSWORD', username: 'imager', sourceIp: '127.0.0.1' }),
      expect.objectContaining({ reason: 'UNKNOWN_USERNAME', username: 'nobody-here', sourceIp: '127.0.0.1' }),
      expect.objectContaining({ reason: 'MISSING_CREDENTIALS', username: null, sourceIp: '127.0.0.1' }),
    ]);
    expect(JSON.stringify(warn.mock.calls)).not.toContain(guess);
  });

  it('locks a username after 10 failures within 15 minutes: the 11th attempt is 429 with Retry-After, even with the right password', async () => {
    await createAccount('target');
    await createAccount('bystander');
    // Ten wrong guesses at once, as from many clients: every one is counted.
    const guesses = await Promise.all(Array.from({ length: 10 }, (_, i) => imaging('/imaging/prestages', basic('target', `guess number ${i}`))));
    expect(guesses.map((g) => g.status)).toEqual(Array(10).fill(401));
    const locked = await imaging('/imaging/prestages', basic('target', PASSWORD));
    expect(locked.status).toBe(429);
    expect(locked.body).toEqual(errorBody('TOO_MANY_ATTEMPTS'));
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(890);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(warn.mock.calls.at(-1)?.[1]).toMatchObject({ reason: 'LOCKED_OUT', username: 'target', sourceIp: '127.0.0.1' });
    // Only that username.
    expect((await imaging('/imaging/prestages', basic('bystander', PASSWORD))).status).toBe(200);
  });

  it('30 parallel wrong guesses for one username: at most 10 passwords are checked (401), the rest are 429; then even the right password is 429', async () => {
    await createAccount('parallel-target');
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => imaging('/imaging/prestages', basic('parallel-target', `parallel guess ${i}`))));
    const unauthorized = answers.filter((a) => a.status === 401);
    const refused = answers.filter((a) => a.status === 429);
    expect(unauthorized.length).toBeLessThanOrEqual(10);
    expect(refused).toHaveLength(30 - unauthorized.length);
    for (const response of refused) {
      expect(response.body).toEqual(errorBody('TOO_MANY_ATTEMPTS'));
      expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    const locked = await imaging('/imaging/prestages', basic('parallel-target', PASSWORD));
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(890);
    expect(warn.mock.calls.filter(([, fields]) => fields?.reason === 'WRONG_PASSWORD' && fields?.username === 'parallel-target')).toHaveLength(unauthorized.length);
  });

  it('5 parallel right logins all succeed and leave no counted failure', async () => {
    await createAccount('parallel-ok');
    const answers = await Promise.all(Array.from({ length: 5 }, () => imaging('/imaging/prestages/p-login', basic('parallel-ok', PASSWORD))));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await attempts.getAttempts('parallel-ok')).toEqual([]);
    // Had the successes counted, 9 failures more would lock the account; they do not.
    for (let i = 0; i < 9; i += 1) expect((await imaging('/imaging/prestages', basic('parallel-ok', `wrong ${i}`))).status).toBe(401);
    expect((await imaging('/imaging/prestages', basic('parallel-ok', PASSWORD))).status).toBe(200);
  });
});
