// Hostile paths, methods and query strings over real HTTP: every route of the route table with hostile path
// parameters (percent-encoded anything, bad escapes, dot segments, encoded slashes, huge), unknown and near-known
// paths, every method, and query strings with hostile limits, page tokens, filters and dates — with an admin token,
// imaging credentials or none. Whatever is sent: never a 5xx, the contract's shape, no leak, nothing changed by a
// refused request or a read, no prototype polluted.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KNOWN_ROUTES } from '../../lib/http/routes.ts';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import type { LocalStack } from '../../local/stack.ts';
import { call } from '../support/http.ts';
import {
  count,
  expectErrorShape,
  expectNoLeak,
  expectNoPollution,
  FUZZ_TIMEOUT_MS,
  fuzz,
  historyHead,
  isGatewayRefusal,
  MALFORMED_STATUSES,
  pathSegment,
  prototypeSnapshot,
  queryString,
  send,
} from '../support/fuzz-harness.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

const IMAGING_PASSWORD = 'fuzz paths imaging password';
const handlerFailures: string[] = [];
let stack: LocalStack;
let client: DynamoDBClient;

beforeAll(async () => {
  stack = await startTestStack({ log: (line) => (line.startsWith('Handler failed') ? handlerFailures.push(line) : undefined) });
  client = localDynamoDbClient(stack.dynamoDbEndpoint);
  const res = await call(`${stack.httpUrl}/admin/imaging/accounts/imager`, { method: 'PUT', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, json: { password: IMAGING_PASSWORD } });
  expect(res.status).toBe(201);
  // A few check-ins, so that device lists and decisions have pages to walk.
  for (let i = 0; i < 5; i += 1) {
    await call(`${stack.httpUrl}/checkin`, { json: { checkinId: `seed-${i}`, deviceId: `DEV-${i % 2}`, clientTime: new Date().toISOString(), serverCertificateVerified: i % 2 === 0 } });
  }
});

afterAll(async () => {
  client?.destroy();
  await stack?.stop();
});

const routePath = fc.oneof(
  { arbitrary: fc.tuple(fc.constantFrom(...KNOWN_ROUTES), fc.array(pathSegment, { minLength: 3, maxLength: 3 })).map(([route, params]) => route.split(' ')[1].replace(/\{[^}]+\}/g, () => params.shift() ?? 'x')), weight: 6 },
  {
    arbitrary: fc.tuple(fc.constantFrom(...KNOWN_ROUTES), fc.constantFrom('//', '/./', '/../', '%2F', '/', '/%2e%2e/', ';x', '%00', '/index.html')).map(([route, insert]) => {
      const path = route.split(' ')[1].replace(/\{[^}]+\}/g, 'x');
      const at = path.indexOf('/', 1);
      return at === -1 ? `${path}${insert}` : `${path.slice(0, at)}${insert}${path.slice(at + 1)}`;
    }),
    weight: 2,
  },
  { arbitrary: fc.array(pathSegment, { minLength: 1, maxLength: 6 }).map((segments) => `/${segments.join('/')}`), weight: 1 },
  { arbitrary: fc.constantFrom('/ADMIN/settings', '/admin/Settings', '/admin', '/admin/', '/imaging', '/console/../admin/settings', '/console/%2e%2e/%2e%2e/package.json', '/health/', '/checkin/x'), weight: 1 },
);

const pathCase = fc.record({
  method: fc.oneof({ arbitrary: fc.constantFrom('GET', 'GET', 'GET', 'DELETE', 'PUT', 'POST', 'PATCH'), weight: 6 }, { arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'TRACE', 'PROPFIND'), weight: 1 }),
  path: routePath,
  query: queryString,
  auth: fc.constantFrom<'admin' | 'imaging' | 'none'>('admin', 'admin', 'admin', 'imaging', 'none'),
  withBody: fc.boolean(),
});

describe('paths and query strings under hostile input', () => {
  it(
    'never a 5xx, the contract shape, no leak, nothing changed by a refused request or a read',
    async () => {
      const prototypes = prototypeSnapshot();
      await fuzz('paths and queries', pathCase, async (value, statuses) => {
        const headers: Record<string, string> = {};
        if (value.auth === 'admin') headers.authorization = `Bearer ${TEST_ADMIN_TOKEN}`;
        if (value.auth === 'imaging') headers.authorization = `Basic ${Buffer.from(`imager:${IMAGING_PASSWORD}`).toString('base64')}`;
        const hasBody = value.withBody && value.method !== 'GET' && value.method !== 'HEAD';
        if (hasBody) headers['content-type'] = 'application/json';
        const path = `${value.path}${value.query}`;
        const before = await historyHead(client, stack.tableNames.ConfigTable);
        const res = await send(stack.httpUrl, { method: value.method, path, headers, body: hasBody ? '{}' : undefined });
        count(statuses, res.status);
        const context = `${value.method} ${path.slice(0, 300)} (${value.auth}) → ${res.status} ${res.text.slice(0, 300)}`;
        expectNoLeak(res, [TEST_ADMIN_TOKEN, IMAGING_PASSWORD], context);
        expectNoPollution(prototypes, context);
        if (isGatewayRefusal(res)) return;
        if (res.status >= 400 && value.method !== 'HEAD') expectErrorShape(res, context);
        if (MALFORMED_STATUSES.has(res.status) || ['GET', 'HEAD', 'OPTIONS'].includes(value.method)) {
          expect(await historyHead(client, stack.tableNames.ConfigTable), `${context}: changed although refused or a read`).toBe(before);
        }
      });
      expect(handlerFailures).toEqual([]);
      const health = await send(stack.httpUrl, { method: 'GET', path: '/health' });
      expect(health.status).toBe(200);
    },
    FUZZ_TIMEOUT_MS,
  );
});
