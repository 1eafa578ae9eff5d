// Hostile check-in bodies over real HTTP against the local runner (DynamoDB Local underneath): near-valid and garbage
// values of every field, wrong types, huge strings and arrays, deep nesting, NUL and lone surrogates, prototype keys,
// duplicate keys, broken JSON and wrong content types. Whatever is sent: never a 5xx, always the contract's answer
// or error shape, nothing leaked, a malformed check-in stores nothing, no prototype polluted, /health still answers,
// and every decision answered is recorded exactly once.
import { GetItemCommand, QueryCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import type { LocalStack } from '../../local/stack.ts';
import { seed } from '../support/config.ts';
import {
  bodyMangling,
  contentType,
  count,
  expectErrorShape,
  isGatewayRefusal,
  expectNoLeak,
  expectNoPollution,
  FUZZ_TIMEOUT_MS,
  fuzz,
  hostileJson,
  hostileMembers,
  hostileString,
  MALFORMED_STATUSES,
  mangle,
  objectText,
  prototypeSnapshot,
  send,
} from '../support/fuzz-harness.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

const PACKAGE_SHA256 = 'ab'.repeat(32);
const PACKAGE_MD5 = 'cd'.repeat(16);
const handlerFailures: string[] = [];
let stack: LocalStack;
let client: DynamoDBClient;

beforeAll(async () => {
  stack = await startTestStack({ log: (line) => (line.startsWith('Handler failed') ? handlerFailures.push(line) : undefined) });
  client = localDynamoDbClient(stack.dynamoDbEndpoint);
  const config = new DynamoDbConfigStore(client, stack.tableNames.ConfigTable);
  const at = new Date().toISOString();
  for (const [packageId, checksum] of [
    ['pkg-sha256', { type: 'SHA_256' as const, value: PACKAGE_SHA256 }],
    ['pkg-md5', { type: 'MD5' as const, value: PACKAGE_MD5 }],
    ['pkg-none', null],
  ] as const) {
    await seed(config, { kind: 'PACKAGE', packageId, record: { packageId, name: packageId, checksum, updatedAt: at, updatedBy: 'fuzz' } });
  }
});

afterAll(async () => {
  client?.destroy();
  await stack?.stop();
});

// ---- the generator ----

const UNIQUE_PREFIX = 'u-';
/** Ids unique to one case (the store is checked for them), or from a small shared pool (replays and conflicts). */
const id = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9._:-]{10,30}$/).map((s) => `${UNIQUE_PREFIX}${s}`), weight: 6 },
  { arbitrary: fc.constantFrom('dup-1', 'dup-2', 'dup-3', 'a'.repeat(128)), weight: 2 },
);

/** clientTime: an offset from the server's time in seconds (filled in when sent), or a date string near or far off. */
const clientTime = fc.oneof(
  { arbitrary: fc.integer({ min: -400, max: 400 }).map((skew) => ({ skew })), weight: 4 },
  {
    arbitrary: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => JSON.stringify(d.toISOString())),
      fc.constantFrom(
        '"2026-13-45T25:61:61Z"',
        '"0000-00-00T00:00:00Z"',
        '"9999-12-31T23:59:60.999999999+14:00"',
        '"1970-01-01T00:00:00Z"',
        '"2026-11-25T18:06:03.1200000000000000000000000000001Z"',
        '"2026-11-25T18:06:03"',
        '"2026-11-25 18:06:03Z"',
        '"+275760-09-13T00:00:00Z"',
        '"2026-11-25T18:06:03+99:99"',
        '1764093963120',
      ),
      hostileJson,
    ),
    weight: 2,
  },
);

const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-fA-F]{${length}}$`));
const checksum = fc.oneof(
  fc.constant(JSON.stringify({ type: 'SHA_256', value: PACKAGE_SHA256 })),
  fc.constant(JSON.stringify({ type: 'MD5', value: PACKAGE_MD5.toUpperCase() })),
  fc.tuple(fc.constantFrom('MD5', 'SHA_256', 'SHA_512', 'SHA256', 'sha_256', ''), fc.oneof(hex(32), hex(64), hex(128), hex(63), hostileString)).map(([type, value]) => JSON.stringify({ type, value })),
  hostileJson,
);
const packageEntry = fc.oneof(
  { arbitrary: fc.tuple(fc.constantFrom('"pkg-sha256"', '"pkg-md5"', '"pkg-none"', '"pkg-unknown"'), fc.option(checksum)).map(([packageId, sum]) => objectText([['packageId', packageId], ...(sum === null ? [] : [['checksum', sum] as const])])), weight: 5 },
  { arbitrary: fc.tuple(hostileJson, fc.option(checksum), hostileMembers).map(([packageId, sum, extra]) => objectText([['packageId', packageId], ...(sum === null ? [] : [['checksum', sum] as const]), ...extra])), weight: 2 },
  { arbitrary: hostileJson, weight: 1 },
);
const packages = fc.oneof(
  { arbitrary: fc.array(packageEntry, { maxLength: 6 }).map((items) => `[${items.join(',')}]`), weight: 4 },
  { arbitrary: fc.tuple(fc.integer({ min: 195, max: 260 }), packageEntry).map(([n, item]) => `[${Array(n).fill(item).join(',')}]`), weight: 1 },
  { arbitrary: hostileJson, weight: 1 },
);

interface CheckinCase {
  members: Array<[string, string | { skew: number }]>;
  wholeBody: string | undefined;
  mangling: 'intact' | 'truncated' | 'invalid-utf8' | 'empty';
  cut: number;
  contentType: string | undefined;
}

type Member = [string, string | { skew: number }];
const FIELDS = ['checkinId', 'deviceId', 'clientTime', 'phase', 'serverCertificateVerified', 'packages', 'pushTopic'] as const;

/** A valid check-in's members (optional ones present or not). */
const validMembers = fc.record(
  {
    checkinId: id.map(JSON.stringify),
    deviceId: id.map(JSON.stringify),
    clientTime: fc.integer({ min: -400, max: 400 }).map((skew) => ({ skew })),
    phase: fc.constantFrom('"CHECKIN"', '"ENROLLMENT"'),
    serverCertificateVerified: fc.constantFrom('true', 'false'),
    packages: fc.array(packageEntry, { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    pushTopic: fc.constantFrom('"com.apple.mgmt.External.1"', '"com.apple.mgmt.other"', '""'),
  },
  { requiredKeys: ['checkinId', 'deviceId', 'clientTime', 'serverCertificateVerified'] },
);

/** A hostile value for each field. */
const hostileMembersByField: Record<(typeof FIELDS)[number], fc.Arbitrary<string | { skew: number }>> = {
  checkinId: fc.oneof(hostileJson, fc.constantFrom('a'.repeat(128), 'a'.repeat(129), 'has space', 'slash/inside', 'ümlaut', 'tab\there').map(JSON.stringify)),
  deviceId: fc.oneof(hostileJson, fc.constantFrom('a'.repeat(129), '', 'ümlaut', '#', 'DEVICE#x').map(JSON.stringify)),
  clientTime,
  phase: hostileJson,
  serverCertificateVerified: fc.oneof(hostileJson, fc.constantFrom('"true"', '1', 'null')),
  packages,
  pushTopic: fc.oneof(hostileJson, fc.string({ minLength: 257, maxLength: 400 }).map(JSON.stringify)),
};

/** The value once in `oneIn` cases, else undefined. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: oneIn - 1 }, { arbitrary, weight: 1 });
}

/** Which fields to spoil: none (a valid check-in), one, or several; a spoiled field is left out or made hostile. */
const spoiled = fc.oneof(
  { arbitrary: fc.constant([] as string[]), weight: 6 },
  { arbitrary: fc.subarray([...FIELDS], { minLength: 1, maxLength: 1 }), weight: 3 },
  { arbitrary: fc.subarray([...FIELDS], { minLength: 1 }), weight: 1 },
);

const members: fc.Arbitrary<Member[]> = fc
  .tuple(validMembers, spoiled, fc.option(hostileMembers, { freq: 3 }), fc.option(fc.tuple(fc.constantFrom(...FIELDS), hostileJson), { freq: 8 }))
  .chain(([valid, spoil, extra, duplicate]) =>
    fc
      .tuple(...FIELDS.map((name) => (spoil.includes(name) ? fc.option(hostileMembersByField[name], { freq: 4 }) : fc.constant(valid[name] ?? null))))
      .chain((values) => {
        const all: Member[] = FIELDS.flatMap((name, i) => (values[i] === null || values[i] === undefined ? [] : [[name, values[i]] as Member]));
        all.push(...(extra ?? []), ...(duplicate ? [duplicate as Member] : []));
        return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
      }),
  );

const checkinCase: fc.Arbitrary<CheckinCase> = fc.record({
  members,
  wholeBody: sometimes(hostileJson, 10),
  mangling: bodyMangling,
  cut: fc.double({ min: 0, max: 1, noNaN: true }),
  contentType,
});

/**
 * The body as sent. A case's own ids get the case's number (`u-x` → `u17-x`): generated strings repeat across cases
 * (fast-check favours names such as `isPrototypeOf`), and the store is checked for a refused case's own ids.
 */
function bodyText(value: CheckinCase, now: number, caseNumber: number): string {
  if (value.wholeBody !== undefined) return value.wholeBody;
  const text = objectText(value.members.map(([key, v]) => [key, typeof v === 'string' ? v : JSON.stringify(new Date(now + v.skew * 1000).toISOString())]));
  return text.replaceAll(`"${UNIQUE_PREFIX}`, `"u${caseNumber}-`);
}

/** checkinId and deviceId as the server would read them, when they are strings of a case's own. */
function ownIds(body: string | Buffer): { checkinId?: string; deviceId?: string } {
  try {
    const parsed = JSON.parse(body.toString());
    const own = (v: unknown) => (typeof v === 'string' && /^u\d+-/.test(v) ? v : undefined);
    return { checkinId: own(parsed?.checkinId), deviceId: own(parsed?.deviceId) };
  } catch {
    return {};
  }
}

async function storedFor(ids: { checkinId?: string; deviceId?: string }): Promise<unknown[]> {
  const found: unknown[] = [];
  if (ids.checkinId) {
    const item = await client.send(new GetItemCommand({ TableName: stack.tableNames.DecisionsTable, Key: { pk: { S: `CHECKIN#${ids.checkinId}` }, sk: { S: 'CHECKIN' } } }));
    if (item.Item) found.push(item.Item);
  }
  if (ids.deviceId) {
    const decisions = await client.send(
      new QueryCommand({ TableName: stack.tableNames.DecisionsTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `DEVICE#${ids.deviceId}` } }, Limit: 1 }),
    );
    found.push(...(decisions.Items ?? []));
    const status = await client.send(new GetItemCommand({ TableName: stack.tableNames.DeviceStatusTable, Key: { deviceId: { S: ids.deviceId } } }));
    if (status.Item) found.push(status.Item);
  }
  return found;
}

async function countDecisionItems(): Promise<number> {
  let total = 0;
  let start: Record<string, any> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: stack.tableNames.DecisionsTable, Select: 'COUNT', FilterExpression: 'begins_with(pk, :device)', ExpressionAttributeValues: { ':device': { S: 'DEVICE#' } }, ExclusiveStartKey: start }),
    );
    total += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return total;
}

describe('POST /checkin under hostile bodies', () => {
  it(
    'never a 5xx, always the contract shape, nothing stored for a malformed one, each decision recorded once',
    async () => {
      const prototypes = prototypeSnapshot();
      let decisionsAnswered = 0;
      let caseNumber = 0;
      await fuzz('check-in bodies', checkinCase, async (value, statuses) => {
        caseNumber += 1;
        const text = bodyText(value, Date.now(), caseNumber);
        const body = mangle(text, value.mangling, value.cut);
        const res = await send(stack.httpUrl, { method: 'POST', path: '/checkin', body, headers: value.contentType === undefined ? {} : { 'content-type': value.contentType } });
        count(statuses, res.status);
        const context = `POST /checkin ${typeof body === 'string' ? body.slice(0, 300) : body.toString('base64').slice(0, 300)} (${value.contentType}) → ${res.status}`;
        expectNoLeak(res, [TEST_ADMIN_TOKEN], context);
        expectNoPollution(prototypes, context);
        if (isGatewayRefusal(res, Buffer.byteLength(body))) return;
        if ((res.status === 200 || res.status === 403) && res.body?.decision !== undefined) {
          expect(res.body, context).toEqual(expect.objectContaining({ checkinId: expect.any(String), deviceId: expect.any(String), decision: res.status === 200 ? 'ACCEPT' : 'BLOCK', violations: expect.any(Array), settingsVersion: expect.any(Number) }));
          if (res.headers['idempotent-replay'] !== 'true') decisionsAnswered += 1;
        } else {
          expect([400, 409, 413, 415], context).toContain(res.status);
          expectErrorShape(res, context);
        }
        if (MALFORMED_STATUSES.has(res.status)) expect(await storedFor(ownIds(body)), `${context}: stored although refused`).toEqual([]);
      });
      expect(handlerFailures).toEqual([]);
      // Every decision answered (and no other) is in the store, once.
      expect(await countDecisionItems()).toBe(decisionsAnswered);
      const health = await send(stack.httpUrl, { method: 'GET', path: '/health' });
      expect({ status: health.status, body: health.body }).toEqual({ status: 200, body: { status: 'ok' } });
    },
    FUZZ_TIMEOUT_MS,
  );
});
