// Hostile imaging Authorization headers over real HTTP, imaging login required: Basic credentials right and wrong,
// in every encoding a client could get wrong (cut, re-padded, URL alphabet, no colon, Latin-1, huge), other schemes.
// Whatever is sent: never a 5xx, the contract's shape, 401 with its Basic challenge or 429 with Retry-After, no
// password in the answer, and imaging information only for the account's own username and password.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.ts';
import { call } from '../support/http.ts';
import { count, expectErrorShape, expectNoLeak, expectNoPollution, FUZZ_TIMEOUT_MS, fuzz, headerValue, isGatewayRefusal, pathSegment, prototypeSnapshot, send } from '../support/fuzz-harness.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

const USERNAME = 'imager';
const PASSWORD = 'fuzz imaging password 2026!';
const handlerFailures: string[] = [];
let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ log: (line) => (line.startsWith('Handler failed') ? handlerFailures.push(line) : undefined) });
  const admin = (path: string, json: unknown) => call(`${stack.httpUrl}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, json });
  for (const [path, json] of [
    [`/admin/imaging/accounts/${USERNAME}`, { password: PASSWORD }],
    ['/admin/imaging/prestages/p1', { name: 'Lab', steps: [1, 2] }],
    ['/admin/imaging/autorun/DEV-1', { steps: ['erase'] }],
  ] as const) {
    const res = await admin(path, json);
    expect(res.status, res.text).toBeLessThan(300);
  }
});

afterAll(async () => {
  await stack?.stop();
});

interface ImagingCase {
  path: string;
  username: string;
  password: string;
  encoding: 'canonical' | 'lowercase-scheme' | 'extra-spaces' | 'truncated' | 'bad-padding' | 'url-alphabet' | 'no-colon' | 'latin1' | 'no-credentials' | 'bearer' | 'raw';
  raw: string;
}

const imagingCase: fc.Arbitrary<ImagingCase> = fc.record({
  path: fc.oneof(
    fc.constantFrom('/imaging/prestages', '/imaging/prestages/p1', '/imaging/autorun/DEV-1'),
    pathSegment.map((id) => `/imaging/prestages/${id}`),
    pathSegment.map((id) => `/imaging/autorun/${id}`),
  ),
  username: fc.oneof({ arbitrary: fc.constant(USERNAME), weight: 4 }, { arbitrary: fc.constantFrom('IMAGER', 'imager ', '', 'other', 'imager:x', '__proto__', 'a'.repeat(300)), weight: 1 }, { arbitrary: fc.string({ maxLength: 30 }), weight: 1 }),
  password: fc.oneof({ arbitrary: fc.constant(PASSWORD), weight: 4 }, { arbitrary: fc.constantFrom('', PASSWORD.slice(0, -1), `${PASSWORD} `, PASSWORD.toUpperCase()), weight: 1 }, { arbitrary: fc.string({ maxLength: 30 }), weight: 1 }),
  encoding: fc.oneof(
    { arbitrary: fc.constant<'canonical'>('canonical'), weight: 6 },
    { arbitrary: fc.constantFrom<ImagingCase['encoding']>('lowercase-scheme', 'extra-spaces', 'truncated', 'bad-padding', 'url-alphabet', 'no-colon', 'latin1', 'no-credentials', 'bearer', 'raw'), weight: 4 },
  ),
  raw: headerValue,
});

function authorization(value: ImagingCase): string | undefined {
  const pair = `${value.username}:${value.password}`;
  const base64 = Buffer.from(pair, 'utf8').toString('base64');
  switch (value.encoding) {
    case 'canonical':
      return `Basic ${base64}`;
    case 'lowercase-scheme':
      return `basic ${base64}`;
    case 'extra-spaces':
      return `Basic    ${base64}  `;
    case 'truncated':
      return `Basic ${base64.slice(0, Math.max(0, base64.length - 3))}`;
    case 'bad-padding':
      return `Basic ${base64.replace(/=+$/, '')}===`;
    case 'url-alphabet':
      return `Basic ${base64.replace(/\+/g, '-').replace(/\//g, '_')}`;
    case 'no-colon':
      return `Basic ${Buffer.from(value.username + value.password).toString('base64')}`;
    case 'latin1':
      return `Basic ${Buffer.from(pair, 'latin1').toString('base64')}`;
    case 'no-credentials':
      return undefined;
    case 'bearer':
      return `Bearer ${TEST_ADMIN_TOKEN}`;
    case 'raw':
      return value.raw;
  }
}

describe('imaging Authorization under hostile input', () => {
  it(
    'never a 5xx, 401 with the Basic challenge or 429 with Retry-After, information only for the right credentials',
    async () => {
      const prototypes = prototypeSnapshot();
      await fuzz('imaging Authorization', imagingCase, async (value, statuses) => {
        const header = authorization(value);
        const res = await send(stack.httpUrl, { method: 'GET', path: value.path, headers: header === undefined ? {} : { authorization: header } });
        count(statuses, res.status);
        const context = `GET ${value.path.slice(0, 100)} ${value.encoding} ${JSON.stringify(value.username).slice(0, 60)}:${JSON.stringify(value.password).slice(0, 60)} → ${res.status} ${res.text.slice(0, 300)}`;
        expectNoLeak(res, [PASSWORD, TEST_ADMIN_TOKEN], context);
        expectNoPollution(prototypes, context);
        if (isGatewayRefusal(res)) return;
        expect([200, 400, 401, 404, 429], context).toContain(res.status);
        if (res.status >= 400) expectErrorShape(res, context);
        if (res.status === 401) expect(res.headers['www-authenticate'], context).toBe('Basic realm="imaging"');
        if (res.status === 429) expect(res.headers['retry-after'], context).toMatch(/^[1-9]\d*$/);
        if (res.status === 200 || (res.status === 404 && res.body?.error?.code === 'NOT_FOUND' && !/route/i.test(res.body.error.message))) {
          // Past the login: only the account's own username and password get here.
          expect({ username: value.username, password: value.password }, context).toEqual({ username: USERNAME, password: PASSWORD });
        }
      });
      expect(handlerFailures).toEqual([]);
      const health = await send(stack.httpUrl, { method: 'GET', path: '/health' });
      expect(health.status).toBe(200);
    },
    FUZZ_TIMEOUT_MS,
  );
});
