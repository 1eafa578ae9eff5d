// The property-based hostile-input runs: how many cases, which seed, and the properties every answer must have.
//
// FUZZ_RUNS (default 500, the smoke `npm test` runs) and FUZZ_SEED (default: a fixed seed for the smoke, a random
// one printed for `npm run fuzz`) choose the run; a failure names its seed, so that it can be replayed with
// `FUZZ_SEED=<seed> FUZZ_RUNS=<runs> npx vitest run <file>`.
import { Agent, request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';

/** The smoke's seed: `npm test` runs the same cases every time. */
const SMOKE_SEED = 20_261_201;

export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 500);
export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : process.env.FUZZ_RUNS ? Date.now() % 2 ** 31 : SMOKE_SEED;
/** A run of 10,000 cases over HTTP takes minutes; the smoke a few seconds. */
export const FUZZ_TIMEOUT_MS = Math.max(120_000, FUZZ_RUNS * 200);

/** Statuses that mean "refused as malformed": such a request must have stored nothing (issue 13). */
export const MALFORMED_STATUSES: ReadonlySet<number> = new Set([400, 404, 405, 413, 415, 422]);

export interface RawRequest {
  method: string;
  /** Sent as is: percent-encoding, dot segments and double slashes included. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The parsed JSON body, or undefined. */
  body: any;
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/**
 * One request over a kept-alive connection, with nothing normalised by the client (unlike fetch). A connection the
 * server closed for idleness just as it was reused (ECONNRESET before any answer) is retried once on a new one, as
 * HTTP clients do: the server never read that request.
 */
export async function send(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  try {
    return await sendOnce(baseUrl, req);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET' || !(error as { reusedSocket?: boolean }).reusedSocket) throw error;
    return sendOnce(baseUrl, req);
  }
}

function sendOnce(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
    const outgoing = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers: { ...(req.headers ?? {}), ...(body === undefined ? {} : { 'content-length': String(body.length) }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers, text, body: parsed });
        });
        res.on('error', reject);
      },
    );
    outgoing.on('error', (error) => reject(Object.assign(error, { reusedSocket: outgoing.reusedSocket })));
    outgoing.setTimeout(30_000, () => outgoing.destroy(new Error(`${req.method} ${req.path.slice(0, 80)}: no answer within 30 s`)));
    if (body !== undefined) outgoing.write(body);
    outgoing.end();
  });
}

/** What may never be in an answer: a stack frame, a runtime or SDK error's text, a file path of the server. */
const LEAKS: ReadonlyArray<[string, RegExp]> = [
  ['a stack frame', /\bat [^\s]+ \(|\bat (file:|node:|\/)[^\s]*:\d+:\d+/],
  ['a runtime error', /\b(TypeError|ReferenceError|RangeError|URIError|EvalError|InternalError)\b|Cannot read propert|is not a function|is not iterable|undefined is not|Maximum call stack/],
  [
    'an SDK error',
    /ValidationException|ResourceNotFoundException|ConditionalCheckFailed|TransactionCanceled|ProvisionedThroughput|ThrottlingException|\$metadata|\$fault|ECONNREFUSED|ECONNRESET|ETIMEDOUT|com\.amazon(aws)?\.|AttributeValue|ExpressionAttribute/,
  ],
  ['a server path', /node_modules|\/work\/|\.ts:\d+/],
  ['a private key', /PRIVATE KEY/],
];

/** API Gateway's own limit on a request body (the local runner's gateway keeps the same). */
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Answers of the HTTP server in front of the functions, given before any function runs and with the gateway's body,
 * not ours: 431 Request Header Fields Too Large (Node's 16 KiB header limit locally, API Gateway's own in AWS) and
 * 413 for a body over API Gateway's 10 MiB.
 */
export function isGatewayRefusal(res: RawResponse, requestBodyBytes = 0): boolean {
  return res.status === 431 || (res.status === 413 && requestBodyBytes > GATEWAY_MAX_BODY_BYTES);
}

/** The one error shape of API.md: code, message, field or details where they apply, the request id. */
export function expectErrorShape(res: RawResponse, context: string): void {
  expect(res.headers['content-type'], context).toMatch(/^application\/json/);
  const error = res.body?.error;
  expect(res.body && Object.keys(res.body), context).toEqual(['error']);
  expect(error, context).toEqual({
    code: expect.stringMatching(/^[A-Z][A-Z0-9_]*$/),
    message: expect.any(String),
    requestId: expect.any(String),
    ...(error && 'field' in error ? { field: expect.any(String) } : {}),
    ...(error && 'details' in error ? { details: expect.any(Array) } : {}),
  });
  for (const detail of error.details ?? []) expect(detail, context).toEqual({ field: expect.any(String), message: expect.any(String) });
  expect(error.message.length, context).toBeGreaterThan(0);
}

/** Never a 5xx; never a stack trace, runtime or SDK text, private key or secret in the answer (headers or body). */
export function expectNoLeak(res: RawResponse, secrets: readonly string[], context: string): void {
  expect(res.status, `${context}\n${res.text.slice(0, 500)}`).toBeLessThan(500);
  expect(res.status, context).toBeGreaterThanOrEqual(200);
  const whole = `${JSON.stringify(res.headers)}\n${res.text}`;
  for (const [what, pattern] of LEAKS) expect(pattern.test(whole), `${context}: ${what} in the answer\n${res.text.slice(0, 500)}`).toBe(false);
  for (const secret of secrets) expect(whole.includes(secret), `${context}: a secret in the answer`).toBe(false);
}

/** The own properties of the built-in prototypes, to notice pollution by a request (the handlers run in this process). */
export function prototypeSnapshot(): string {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype]
    .map((proto) => Reflect.ownKeys(proto).map(String).sort().join(','))
    .join('|');
}

export function expectNoPollution(before: string, context: string): void {
  expect(prototypeSnapshot(), `${context}: a built-in prototype changed`).toBe(before);
  const probe: Record<string, unknown> = {};
  expect(probe.polluted ?? probe.isAdmin ?? probe.role, `${context}: an inherited property appeared`).toBeUndefined();
}

/** The newest history line's key: every change of configuration (settings, trust material, imaging) adds one. */
export async function historyHead(client: DynamoDBClient, configTable: string): Promise<string | undefined> {
  const result = await client.send(
    new QueryCommand({
      TableName: configTable,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'HISTORY' } },
      ScanIndexForward: false,
      Limit: 1,
      ProjectionExpression: 'sk',
    }),
  );
  return result.Items?.[0]?.sk?.S;
}

export interface FamilyReport {
  family: string;
  cases: number;
  seed: number;
  ms: number;
  statuses: Record<number, number>;
}

/**
 * Runs a property over `FUZZ_RUNS` cases of `arbitrary` with `FUZZ_SEED`; prints the family's figures, and on
 * failure the seed and how to replay it.
 */
export async function fuzz<T>(family: string, arbitrary: fc.Arbitrary<T>, check: (value: T, statuses: Record<number, number>) => Promise<void>): Promise<FamilyReport> {
  const statuses: Record<number, number> = {};
  const started = Date.now();
  let cases = 0;
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (value) => {
        cases += 1;
        await check(value, statuses);
      }),
      { seed: FUZZ_SEED, numRuns: FUZZ_RUNS, endOnFailure: process.env.FUZZ_SHRINK !== 'true', includeErrorInReport: true },
    );
  } catch (error) {
    const replay = `FUZZ_SEED=${FUZZ_SEED} FUZZ_RUNS=${FUZZ_RUNS}`;
    console.error(`fuzz ${family}: FAILED with seed ${FUZZ_SEED} (replay: ${replay} npx vitest run <this file>; FUZZ_SHRINK=true to shrink)`);
    throw new Error(`fuzz ${family} failed with seed ${FUZZ_SEED} (replay with ${replay}):\n${shorten((error as Error).message)}`);
  }
  const report = { family, cases: FUZZ_RUNS, seed: FUZZ_SEED, ms: Date.now() - started, statuses };
  console.log(`fuzz ${family}: ${report.cases} cases, seed ${report.seed}, ${report.ms} ms, statuses ${JSON.stringify(statuses)}`);
  return report;
}

/** A report's lines cut to 2,000 characters each (a counterexample can hold a 64 KiB body). */
function shorten(message: string): string {
  return message
    .split('\n')
    .map((line) => (line.length > 2000 ? `${line.slice(0, 2000)}…` : line))
    .join('\n');
}

export function count(statuses: Record<number, number>, status: number): void {
  statuses[status] = (statuses[status] ?? 0) + 1;
}

// ---- generators shared by the families ----

/** Strings meant to break readers: NUL, lone surrogates, prototype names, control and bidi characters, emoji. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83dy',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '\u202e',
  '\ufeff',
  '\r\n',
  '../../etc/passwd',
  '%00',
  '${jndi:ldap://x}',
  "'; DROP TABLE x; --",
  '<script>alert(1)</script>',
  '🔥'.repeat(40),
  'NaN',
  'Infinity',
  '-0',
  '1e309',
] as const;

/** A hostile string: random text of any code points (lone surrogates included), a nasty one, or a huge one. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 3 },
  { arbitrary: fc.constantFrom(...NASTY_STRINGS), weight: 3 },
  { arbitrary: fc.integer({ min: 100, max: 70_000 }).map((n) => 'A'.repeat(n)), weight: 1 },
);

/** JSON text nested `depth` deep, as arrays or objects. */
export function nested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Any JSON value as text, hostile in type, size or depth. */
export const hostileJson: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'), weight: 4 },
  { arbitrary: hostileString.map((s) => JSON.stringify(s)), weight: 4 },
  { arbitrary: fc.constantFrom('null', 'true', 'false', '0', '-1', '1e308', '-1e308', '1.5', '9007199254740993', '[]', '{}', '[null]', '""', '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}'), weight: 4 },
  { arbitrary: fc.tuple(fc.integer({ min: 10, max: 20_000 }), fc.constantFrom<'array' | 'object'>('array', 'object')).map(([d, k]) => nested(d, k)), weight: 1 },
  { arbitrary: fc.integer({ min: 201, max: 3000 }).map((n) => `[${Array(n).fill('"x"').join(',')}]`), weight: 1 },
);

/** A JSON object written by hand: duplicate keys and `__proto__` keys survive, as they would from a hostile client. */
export function objectText(entries: ReadonlyArray<readonly [string, string]>): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
}

/** Hostile extra members for an object body: prototype keys with payloads, unknown names, duplicates added by the caller. */
export const hostileMembers: fc.Arbitrary<Array<[string, string]>> = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'polluted'), hostileString.filter((s) => s.length < 200)),
    fc.oneof(fc.constant('{"polluted":true,"isAdmin":true,"role":"admin"}'), fc.constant('{"prototype":{"polluted":true}}'), hostileJson),
  ),
  { maxLength: 3 },
);

/** How a body text is sent: as is, cut short, as bytes that are not UTF-8, or not at all. */
export const bodyMangling = fc.oneof(
  { arbitrary: fc.constant<'intact'>('intact'), weight: 12 },
  { arbitrary: fc.constant<'truncated'>('truncated'), weight: 1 },
  { arbitrary: fc.constant<'invalid-utf8'>('invalid-utf8'), weight: 1 },
  { arbitrary: fc.constant<'empty'>('empty'), weight: 1 },
);

export function mangle(text: string, how: 'intact' | 'truncated' | 'invalid-utf8' | 'empty', cut: number): string | Buffer {
  if (how === 'truncated') return text.slice(0, Math.floor(text.length * cut));
  if (how === 'invalid-utf8') return Buffer.concat([Buffer.from(text.slice(0, Math.floor(text.length * cut))), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), Buffer.from(text.slice(Math.floor(text.length * cut)))]);
  if (how === 'empty') return '';
  return text;
}

/** Content types a client might send for a JSON body, right and wrong. */
export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 12 },
  {
    arbitrary: fc.constantFrom(
      undefined,
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/merge-patch+json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
      'application/jsonx',
      '',
      ';;;',
    ),
    weight: 3,
  },
);

/** Header values: anything Node will put on the wire (tab, printable ASCII, Latin-1). */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'\t !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\u00a0\u00e9\u00ff'), maxLength: 60 }),
  fc.integer({ min: 4000, max: 9000 }).map((n) => 'x'.repeat(n)),
);

/** Percent-encodes every byte outside the unreserved set (what a path segment must be on the wire). */
export function encodeSegment(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** A path segment for an id: valid, hostile (encoded), badly encoded, or enormous. */
export const pathSegment: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/).map((s) => s.replace(/:/g, '%3A')), weight: 4 },
  { arbitrary: hostileString.filter((s) => s.length < 3000).map(encodeSegment), weight: 3 },
  { arbitrary: fc.constantFrom('%', '%zz', '%C3%28', '%ED%A0%80', '%00', '%2F', '%2e%2e', '..', '.', '%25', 'a%2Fb', '%FF%FE', '%u0041'), weight: 2 },
);

/** The query of a list route: known names with hostile values, unknown names, repeats. */
export const queryString: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom('limit', 'nextToken', 'status', 'field', 'since', 'sinceDays', 'dryRun', '__proto__', 'constructor'), pathSegment),
      fc.oneof(
        fc.constantFrom('0', '1', '50', '500', '501', '-1', '1.5', '1e3', 'NaN', '', 'BLOCKED', 'ACCEPTED', 'true', 'false', 'mode', '2026-11-25T00:00:00Z', 'eyJ9', 'eyJwayI6eyJTIjoieCJ9fQ', 'e30', 'W10', 'bnVsbA', '%7B%7D'),
        pathSegment,
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`));
