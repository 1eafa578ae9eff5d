// Integration tests for the imaging function's login guard and settings cache with a frozen clock: the handler of
// functions/imaging.ts over real HTTP (the local API Gateway, routes from serverless.yml) and DynamoDB Local.
import type { Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbImagingStore } from '../../lib/adapters/dynamodb/imaging-store.ts';
import { DynamoDbLoginAttemptStore } from '../../lib/adapters/dynamodb/login-attempt-store.ts';
import { LOGIN_FAILURE_WINDOW_MS, LOGIN_IN_FLIGHT_MS, parseImagingDocument } from '../../lib/domain/imaging.ts';
import { LoginGuard } from '../../lib/services/imaging/login-guard.ts';
import { hashPassword, PasswordVerifier } from '../../lib/services/imaging/passwords.ts';
import { SettingsCache } from '../../lib/services/imaging/settings-cache.ts';
import { createApiGateway } from '../../local/api-gateway.ts';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import { loadServerlessConfig } from '../../local/serverless-config.ts';
import { seedSettings } from '../support/config.ts';
import { createTestTables, type TestTables } from '../support/dynamodb.ts';

// functions/imaging.ts builds its production handler at import and needs CONFIG_TABLE for it; this file uses only
// makeHandler, with its own dependencies.
process.env.CONFIG_TABLE ??= 'unused-by-this-test';
const { makeHandler } = await import('../../functions/imaging.ts');

const PASSWORD = 'correct horse battery staple';
const MINUTE = 60_000;

/** A clock the tests move by hand. It starts at the real time so that the TTLs written stay in the future. */
const clock = { ms: Date.now(), now: () => new Date(clock.ms) };
const advance = (ms: number) => {
  clock.ms += ms;
};

const logs: { level: string; message: string; fields: Record<string, unknown> }[] = [];
const log = {
  warn: (message: string, fields: Record<string, unknown>) => logs.push({ level: 'warn', message, fields }),
  info: (message: string, fields: Record<string, unknown>) => logs.push({ level: 'info', message, fields }),
};

let tables: TestTables;
let configStore: DynamoDbConfigStore;
let attempts: DynamoDbLoginAttemptStore;
const servers: Server[] = [];

/** Serves a handler on the imaging routes of serverless.yml; returns its base URL. */
async function serve(handler: ReturnType<typeof makeHandler>): Promise<string> {
  const routes = loadServerlessConfig().functions.find((f) => f.name === 'imaging')!.httpRoutes;
  const server = createApiGateway({ targets: routes.map((route) => ({ route, invoke: handler })) });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

function imagingHandler(client = tables.client) {
  const config = new DynamoDbConfigStore(client, tables.names.configTable);
  const store = new DynamoDbImagingStore(client, tables.names.configTable);
  return makeHandler({
    settings: new SettingsCache(config, clock),
    store,
    guard: new LoginGuard({ accounts: store, attempts: new DynamoDbLoginAttemptStore(client, tables.names.configTable), passwords: new PasswordVerifier(), clock, log }),
    log,
  });
}

let baseUrl: string;

const basic = (username: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` });

async function get(path: string, headers: Record<string, string> = {}, base = baseUrl) {
  const response = await fetch(`${base}${path}`, { headers });
  const text = await response.text();
  return { status: response.status, headers: Object.fromEntries(response.headers), body: text ? JSON.parse(text) : undefined };
}

async function setRequireLogin(value: boolean) {
  await seedSettings(configStore, { requireImagingAuthentication: value }, {
    changedAt: clock.now().toISOString(),
    changes: [{ field: 'requireImagingAuthentication', from: !value, to: value }],
  });
}

beforeAll(async () => {
  tables = await createTestTables();
  configStore = new DynamoDbConfigStore(tables.client, tables.names.configTable);
  attempts = new DynamoDbLoginAttemptStore(tables.client, tables.names.configTable);
  const store = new DynamoDbImagingStore(tables.client, tables.names.configTable);
  const hash = await hashPassword(PASSWORD);
  for (const username of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi']) {
    await store.putAccount(username, hash, { actor: 'test', changedAt: clock.now().toISOString() });
  }
  await store.putDocument('PRESTAGE', 'lab', parseImagingDocument({ name: 'Lab' }, 'PRESTAGE', 'lab'), { actor: 'test', changedAt: clock.now().toISOString() });
  baseUrl = await serve(imagingHandler());
});

afterAll(async () => {
  for (const server of servers) await new Promise((r) => server.close(r));
  tables?.client.destroy();
});

beforeEach(() => {
  logs.length = 0;
});

describe('lock-out: 10 failed logins for one username within 15 minutes', () => {
  it('refuses the 11th attempt with 429 and Retry-After even with the right password, until the window passes', async () => {
    for (let i = 1; i <= 10; i += 1) {
      const wrong = await get('/imaging/prestages/lab', basic('alice', `wrong guess ${i}`));
      expect(wrong.status).toBe(401);
    }
    const locked = await get('/imaging/prestages/lab', basic('alice', PASSWORD));
    expect(locked.status).toBe(429);
    expect(locked.headers['retry-after']).toBe('900'); // all ten failed at the same frozen instant
    expect(locked.body).toEqual({
      error: { code: 'TOO_MANY_ATTEMPTS', message: 'Too many login attempts for this username; retry in 900 seconds', requestId: expect.any(String) },
    });

    // The lock is per username: bob still gets in.
    expect((await get('/imaging/prestages/lab', basic('bob', PASSWORD))).status).toBe(200);

    // One second before the window passes: still locked, and refused attempts are not counted as failures.
    advance(15 * MINUTE - 1000);
    const almost = await get('/imaging/prestages/lab', basic('alice', 'yet another guess'));
    expect(almost.status).toBe(429);
    expect(almost.headers['retry-after']).toBe('1');

    // The window has passed: the right password works again, and a wrong one is a fresh first failure.
    advance(1000);
    expect(await get('/imaging/prestages/lab', basic('alice', PASSWORD))).toMatchObject({ status: 200, body: { name: 'Lab' } });
    expect((await get('/imaging/prestages/lab', basic('alice', 'wrong again'))).status).toBe(401);
    expect(logs.at(-1)?.fields).toMatchObject({ reason: 'WRONG_PASSWORD', username: 'alice', recentAttempts: 1 });
  });

  it('slides: 10 failures inside any 15 minutes lock, even across what a fixed window would split', async () => {
    for (let i = 0; i < 9; i += 1) expect((await get('/imaging/prestages', basic('carol', `guess ${i}`))).status).toBe(401);
    advance(14 * MINUTE);
    expect((await get('/imaging/prestages', basic('carol', 'guess 9'))).status).toBe(401);
    const locked = await get('/imaging/prestages', basic('carol', PASSWORD));
    expect(locked.status).toBe(429);
    expect(locked.headers['retry-after']).toBe('60'); // the first nine age out in one minute
    advance(MINUTE);
    expect((await get('/imaging/prestages', basic('carol', PASSWORD))).status).toBe(200);
  });

  it('a successful login does not clear earlier failures', async () => {
    for (let i = 0; i < 9; i += 1) await get('/imaging/prestages', basic('dave', `guess ${i}`));
    expect((await get('/imaging/prestages', basic('dave', PASSWORD))).status).toBe(200);
    expect((await get('/imaging/prestages', basic('dave', 'guess 9'))).status).toBe(401);
    expect((await get('/imaging/prestages', basic('dave', PASSWORD))).status).toBe(429);
  });

  it('counts unknown usernames the same way, so the lock-out does not reveal which exist', async () => {
    for (let i = 0; i < 10; i += 1) expect((await get('/imaging/prestages', basic('ghost', `guess ${i}`))).status).toBe(401);
    expect((await get('/imaging/prestages', basic('ghost', PASSWORD))).status).toBe(429);
  });

  it('does not count missing or malformed credentials against anyone', async () => {
    for (let i = 0; i < 12; i += 1) {
      expect((await get('/imaging/prestages', { authorization: 'Basic !!!' })).status).toBe(401);
      expect((await get('/imaging/prestages')).status).toBe(401);
    }
    expect((await get('/imaging/prestages', basic('erin', PASSWORD))).status).toBe(200);
    expect(await attempts.getAttempts('erin')).toEqual([]);
  });
});

describe('lock-out under concurrency: attempts are reserved before the password is checked', () => {
  it('30 parallel wrong guesses: at most 10 are checked (401), the rest are 429; then the right password is 429 too', async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => get('/imaging/prestages', basic('frank', `parallel guess ${i}`))));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
    for (const refused of answers.filter((a) => a.status === 429)) {
      expect(refused.body.error.code).toBe('TOO_MANY_ATTEMPTS');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // Exactly ten passwords were checked: ten failures, nothing left in flight.
    const entries = await attempts.getAttempts('frank');
    expect(entries.map((e) => e.state)).toEqual(Array(10).fill('FAILED'));
    expect(logs.filter((l) => l.fields.reason === 'WRONG_PASSWORD')).toHaveLength(10);

    const locked = await get('/imaging/prestages', basic('frank', PASSWORD));
    expect(locked.status).toBe(429);
    expect(locked.headers['retry-after']).toBe('900');
  });

  it('5 parallel right logins all succeed and leave nothing counted', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => get('/imaging/prestages/lab', basic('grace', PASSWORD))));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await attempts.getAttempts('grace')).toEqual([]);
  });

  it('attempts never confirmed (a container that died mid-check) count as failures for the whole 15 minutes', async () => {
    // Ten reservations whose containers never came back (neither marked FAILED nor released).
    for (let i = 0; i < 10; i += 1) await attempts.reserve('heidi', `crashed-${i}`, clock.ms);
    const busy = await get('/imaging/prestages', basic('heidi', PASSWORD));
    expect(busy.status).toBe(429);
    expect(busy.headers['retry-after']).toBe('1'); // attempts in flight may end any moment
    expect(logs.at(-1)?.fields).toMatchObject({ reason: 'LOCKED_OUT', username: 'heidi', pendingAttempts: 10, failedAttempts: 0 });
    advance(LOGIN_IN_FLIGHT_MS);
    const stillLocked = await get('/imaging/prestages', basic('heidi', PASSWORD));
    expect(stillLocked.status).toBe(429);
    expect(stillLocked.headers['retry-after']).toBe(String((LOGIN_FAILURE_WINDOW_MS - LOGIN_IN_FLIGHT_MS) / 1000)); // no longer in flight: until the window ends
    advance(LOGIN_FAILURE_WINDOW_MS - LOGIN_IN_FLIGHT_MS - 1);
    expect((await get('/imaging/prestages', basic('heidi', PASSWORD))).status).toBe(429);
    advance(1);
    expect((await get('/imaging/prestages', basic('heidi', PASSWORD))).status).toBe(200);
    expect(await attempts.getAttempts('heidi')).toEqual([]); // the dead ones were removed by that reservation
  });
});

describe('refusals are logged', () => {
  it('with the reason, the username tried and the source address, never the password or the header', async () => {
    const secretGuess = 'Sup3r-Secret-Guess';
    const malformed = `Basic ${Buffer.from(`not a name:${secretGuess}`).toString('base64')}`;
    await get('/imaging/prestages');
    await get('/imaging/prestages', { authorization: malformed });
    await get('/imaging/prestages', basic('erin', secretGuess));
    await get('/imaging/prestages', basic('nobody', secretGuess));
    await get('/imaging/prestages', basic('erin', PASSWORD));

    const refusals = logs.filter((l) => l.message === 'Imaging login refused').map((l) => l.fields);
    expect(refusals).toEqual([
      { requestId: expect.any(String), reason: 'MISSING_CREDENTIALS', username: null, sourceIp: '127.0.0.1' },
      { requestId: expect.any(String), reason: 'MALFORMED_CREDENTIALS', username: 'not a name', sourceIp: '127.0.0.1', problem: 'not a valid imaging username' },
      { requestId: expect.any(String), reason: 'WRONG_PASSWORD', username: 'erin', sourceIp: '127.0.0.1', recentAttempts: 1 },
      { requestId: expect.any(String), reason: 'UNKNOWN_USERNAME', username: 'nobody', sourceIp: '127.0.0.1', recentAttempts: 1 },
    ]);
    expect(logs.at(-1)).toMatchObject({ level: 'info', fields: { username: 'erin', route: 'GET /imaging/prestages' } });
    const everything = JSON.stringify(logs);
    for (const secret of [secretGuess, PASSWORD, malformed.slice(6)]) expect(everything).not.toContain(secret);
  });
});

describe('requireImagingAuthentication is read through a cache of at most 5 s', () => {
  it('takes effect both ways within 5 s, and not before the cached copy is 5 s old', async () => {
    advance(5000); // whatever earlier tests cached is now too old
    expect((await get('/imaging/prestages/lab')).status).toBe(401); // loads the settings now
    await setRequireLogin(false);
    advance(4999);
    expect((await get('/imaging/prestages/lab')).status).toBe(401);
    advance(1);
    expect(await get('/imaging/prestages/lab')).toMatchObject({ status: 200, body: { name: 'Lab' } });
    // Anonymous means the header is not even looked at.
    expect((await get('/imaging/prestages/lab', basic('erin', 'wrong'))).status).toBe(200);

    await setRequireLogin(true);
    advance(4999);
    expect((await get('/imaging/prestages/lab')).status).toBe(200);
    advance(1);
    const refused = await get('/imaging/prestages/lab');
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Basic realm="imaging"');
  });
});

describe('store outage', () => {
  it('answers 503 UNAVAILABLE with Retry-After', async () => {
    const dead = localDynamoDbClient('http://127.0.0.1:9');
    const deadUrl = await serve(imagingHandler(dead));
    const response = await get('/imaging/prestages', basic('erin', PASSWORD), deadUrl);
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.body).toEqual({ error: { code: 'UNAVAILABLE', message: 'The store is unavailable; retry shortly', requestId: expect.any(String) } });
    dead.destroy();
  });
});
