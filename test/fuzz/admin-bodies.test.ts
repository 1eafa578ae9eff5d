// Hostile admin bodies over real HTTP with an admin token: settings patches and whole documents, impact preview
// requests, PEM bundles, base64 .p12 files with their passwords, packages, exemptions, revocations, imaging accounts
// and documents — near-valid values and garbage. Whatever is sent: never a 5xx, always the contract's shape, no
// stack trace, SDK text or secret (the token, a .p12 or imaging password) in the answer, a request refused as
// malformed changes nothing (no history line), a preview never changes anything, no prototype polluted.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import type { LocalStack } from '../../local/stack.ts';
import { CertificateFactory, type MadeCertificate } from '../support/certificates.ts';
import {
  bodyMangling,
  contentType,
  count,
  expectErrorShape,
  expectNoLeak,
  expectNoPollution,
  FUZZ_TIMEOUT_MS,
  fuzz,
  historyHead,
  hostileJson,
  hostileMembers,
  hostileString,
  isGatewayRefusal,
  MALFORMED_STATUSES,
  mangle,
  objectText,
  pathSegment,
  prototypeSnapshot,
  send,
} from '../support/fuzz-harness.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';
import { OpensslWorkbench, pushSubject } from '../support/pkcs12.ts';

const P12_PASSWORD = 'fuzz-p12-password-Zq8';
const handlerFailures: string[] = [];
let stack: LocalStack;
let client: DynamoDBClient;
let factory: CertificateFactory;
let bench: OpensslWorkbench;
/** PEM texts to build bundles from: CAs, leaves, absurd ones. */
let pems: string[] = [];
/** Base64 .p12 files: modern and legacy push certificates, a certificate that is not a push one. */
let p12s: string[] = [];

beforeAll(async () => {
  factory = CertificateFactory.create('tollgate-fuzz-admin-');
  bench = OpensslWorkbench.create();
  const root = factory.makeRootCa({ cn: 'Fuzz Admin Root', keyType: 'ec384' });
  const made: MadeCertificate[] = [
    root,
    factory.makeIntermediateCa(root, { cn: 'Fuzz Admin Intermediate', keyType: 'ec384' }),
    factory.makeRootCa({ cn: 'Old Root', notBefore: new Date('1950-01-01T00:00:00Z'), notAfter: new Date('1951-01-01T00:00:00Z') }),
    factory.makeRootCa({ cn: 'Far Root', notBefore: new Date('2001-01-01T00:00:00Z'), notAfter: new Date('9999-12-31T23:59:59Z') }),
    factory.makeRootCa({ cn: 'Non-critical Root', basicConstraints: 'CA:TRUE' }),
    factory.makeRootCa({ cn: 'Small Key Root', keyType: 'rsa1024' }),
    factory.makeRootCa({ cn: 'Odd Extension Root', extraExtensions: ['1.2.3.4.5.6 = critical,ASN1:UTF8String:hostile', `nameConstraints = critical,permitted;DNS:${'a'.repeat(50)}.example`] }),
    factory.makeDeviceCertificate(root, { cn: 'A Leaf' }),
  ];
  pems = made.map((c) => c.pem);
  const key = bench.makeKey();
  const push = bench.makeCertificate({ subject: pushSubject(), key });
  const notPush = bench.makeCertificate({ subject: '/CN=Not a push certificate', key });
  p12s = [
    bench.exportPkcs12({ certificate: push, password: P12_PASSWORD }),
    bench.exportPkcs12({ certificate: push, password: P12_PASSWORD, legacy: true }),
    bench.exportPkcs12({ certificate: notPush, password: P12_PASSWORD }),
  ];
  stack = await startTestStack({ log: (line) => (line.startsWith('Handler failed') ? handlerFailures.push(line) : undefined) });
  client = localDynamoDbClient(stack.dynamoDbEndpoint);
}, 180_000);

afterAll(async () => {
  client?.destroy();
  await stack?.stop();
  factory?.cleanup();
  bench?.cleanup();
});

// ---- generators ----

interface AdminCase {
  method: string;
  path: string;
  /** JSON members of the body, or a whole body text. */
  body: string;
  headers: Record<string, string>;
  /** Values the answer must not contain (passwords sent). */
  secrets: string[];
  /** A request that never changes anything, whatever its status (a preview). */
  readOnly: boolean;
}

/** A value near-valid (`valid`) or hostile. */
const either = (valid: fc.Arbitrary<string>, validWeight = 4) => fc.oneof({ arbitrary: valid, weight: validWeight }, { arbitrary: hostileJson, weight: 1 });

/** An object body of the given members (each present or not), hostile members added, keys repeated. */
function objectBody(members: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const names = Object.keys(members);
  return fc
    .tuple(
      fc.tuple(...names.map((name) => fc.option(members[name], { freq: 8 }))),
      fc.oneof({ arbitrary: fc.constant([] as Array<[string, string]>), weight: 4 }, { arbitrary: hostileMembers, weight: 1 }),
      fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, { arbitrary: fc.tuple(fc.constantFrom(...names), hostileJson), weight: 1 }),
      fc.oneof({ arbitrary: fc.constant(undefined), weight: 12 }, { arbitrary: hostileJson, weight: 1 }),
    )
    .map(([values, extra, duplicate, whole]) => {
      if (whole !== undefined) return whole;
      const entries: Array<[string, string]> = names.flatMap((name, i) => (values[i] === null ? [] : [[name, values[i]!] as [string, string]]));
      return objectText([...entries, ...extra, ...(duplicate ? [duplicate] : [])]);
    });
}

const SETTINGS_VALUES: Record<string, fc.Arbitrary<string>> = {
  certificateBasedAuthentication: either(fc.constantFrom('true', 'false')),
  pushNotifications: either(fc.constantFrom('true', 'false')),
  sslCertificateVerification: either(fc.constantFrom('"ALWAYS"', '"ALWAYS_EXCEPT_DURING_ENROLLMENT"', '"NEVER"', '"always"')),
  packageValidation: either(fc.constantFrom('"ALWAYS"', '"WHEN_CHECKSUM_PRESENT"', '"NEVER"')),
  maxClockSkewSeconds: either(fc.oneof(fc.integer({ min: -5, max: 90_000 }).map(String), fc.constantFrom('0', '1', '86400', '86401', '1.5', '"300"', '1e3', '-0', 'null'))),
  requireImagingAuthentication: either(fc.constantFrom('true', 'false')),
  mode: either(fc.constantFrom('"ENFORCE"', '"MONITOR"', '"enforce"')),
  certificateExpiryAlertDays: either(fc.oneof(fc.array(fc.integer({ min: -2, max: 400 }), { maxLength: 12 }).map((a) => JSON.stringify(a)), fc.constantFrom('[60,30,14,7,1]', '[1,1]', '[]', '[0]', '[365]', '[366]', '[1.5]', '["7"]'))),
};
const settingsPatch = objectBody(SETTINGS_VALUES);
const ifMatch = fc.constantFrom('"1"', '"2"', '"3"', '"999999999999999999999"', '*', 'W/"1"', '1', '"-1"', '', '"1", "2"', '"\u00e9"');
const optional = <T>(arbitrary: fc.Arbitrary<T>, oneIn: number) => fc.oneof({ arbitrary: fc.constant(undefined), weight: oneIn - 1 }, { arbitrary, weight: 1 });

/** A PEM bundle: pieces of real certificates, cut, padded, repeated, with junk between and inside the markers. */
const pemBundle = fc
  .tuple(
    fc.array(fc.nat(), { minLength: 0, maxLength: 12 }),
    fc.constantFrom('intact', 'intact', 'intact', 'truncated', 'junk-between', 'junk-inside', 'no-end', 'crlf', 'doubled-markers'),
    fc.double({ min: 0, max: 1, noNaN: true }),
    hostileString.filter((s) => s.length < 2000),
  )
  .map(([picks, how, cut, junk]) => {
    let text = picks.map((i) => pems[i % pems.length]).join(how === 'junk-between' ? `\n${junk}\n` : '');
    if (how === 'truncated') text = text.slice(0, Math.floor(text.length * cut));
    if (how === 'junk-inside') text = text.replace(/\n([A-Za-z0-9+/]{10})/, `\n${junk}$1`);
    if (how === 'no-end') text = text.replace(/-----END CERTIFICATE-----\n?$/, '');
    if (how === 'crlf') text = text.replace(/\n/g, '\r\n');
    if (how === 'doubled-markers') text = text.replace(/-----BEGIN CERTIFICATE-----/, '-----BEGIN CERTIFICATE-----\n-----BEGIN CERTIFICATE-----');
    return JSON.stringify(text);
  });

/** A base64 .p12: a real one, cut, re-padded, in the URL alphabet, or random bytes. */
const p12Base64 = fc
  .tuple(fc.nat(), fc.constantFrom('intact', 'intact', 'intact', 'truncated', 'bad-padding', 'url-alphabet', 'whitespace', 'random'), fc.double({ min: 0, max: 1, noNaN: true }), fc.uint8Array({ maxLength: 3000 }))
  .map(([pick, how, cut, random]) => {
    const p12 = p12s[pick % p12s.length];
    if (how === 'truncated') return JSON.stringify(p12.slice(0, Math.floor(p12.length * cut)));
    if (how === 'bad-padding') return JSON.stringify(`${p12.replace(/=+$/, '')}=`);
    if (how === 'url-alphabet') return JSON.stringify(p12.replace(/\+/g, '-').replace(/\//g, '_'));
    if (how === 'whitespace') return JSON.stringify(p12.replace(/(.{76})/g, '$1\n'));
    if (how === 'random') return JSON.stringify(Buffer.from(random).toString('base64'));
    return JSON.stringify(p12);
  });

const violationCodes = fc.array(
  fc.constantFrom('CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED', 'PACKAGE_CHECKSUM_MISMATCH', 'PACKAGE_CHECKSUM_MISSING', 'PUSH_TOPIC_MISMATCH', 'CLIENT_CERT_MISSING', 'CLIENT_SIGNATURE_INVALID', 'NOT_A_CODE', ''),
  { maxLength: 12 },
);
const until = fc.oneof(
  fc.integer({ min: -5 * 86_400, max: 40 * 86_400 }).map((seconds) => ({ seconds })),
  fc.constantFrom('"2026-13-01T00:00:00Z"', '"not a date"', '"9999-12-31T23:59:59Z"', '0', 'null').map((text) => ({ text })),
);

type Template = Omit<AdminCase, 'body'> & { body: string | { untilFromNow: { seconds: number } | { text: string }; rest: string } };

const adminCase: fc.Arbitrary<Template> = fc.oneof(
  // Settings: PATCH (merge patch, If-Match optional, the dry run), PUT (whole document), the impact preview.
  fc.tuple(settingsPatch, optional(ifMatch, 3), fc.boolean(), fc.constantFrom('application/merge-patch+json', 'application/json')).map(([body, match, dryRun, type]) => ({
    method: 'PATCH',
    path: `/admin/settings${dryRun ? '?dryRun=true' : ''}`,
    body,
    headers: { 'content-type': type, ...(match === undefined ? {} : { 'if-match': match }) },
    secrets: [],
    readOnly: dryRun,
  })),
  fc.tuple(settingsPatch, optional(ifMatch, 6)).map(([body, match]) => ({ method: 'PUT', path: '/admin/settings', body, headers: { 'content-type': 'application/json', ...(match === undefined ? {} : { 'if-match': match }) }, secrets: [], readOnly: false })),
  fc.tuple(settingsPatch, optional(fc.oneof(fc.constantFrom('1', '30', '365', '366', '0', '-1', '1.5', 'abc', ''), pathSegment), 3)).map(([body, sinceDays]) => ({
    method: 'POST',
    path: `/admin/settings/preview${sinceDays === undefined ? '' : `?sinceDays=${sinceDays}`}`,
    body,
    headers: { 'content-type': 'application/json' },
    secrets: [],
    readOnly: true,
  })),
  // Trust material.
  objectBody({ certificates: either(pemBundle, 6) }).map((body) => ({ method: 'PUT', path: '/admin/device-ca', body, headers: { 'content-type': 'application/json' }, secrets: [], readOnly: false })),
  objectBody({ certificate: either(pemBundle, 6) }).map((body) => ({ method: 'PUT', path: '/admin/server-certificate', body, headers: { 'content-type': 'application/json' }, secrets: [], readOnly: false })),
  fc.tuple(p12Base64, fc.oneof({ arbitrary: fc.constant(P12_PASSWORD), weight: 3 }, { arbitrary: hostileString.filter((s) => s.length < 1000), weight: 1 })).chain(([p12, password]) =>
    objectBody({ p12: either(fc.constant(p12), 6), password: either(fc.constant(JSON.stringify(password)), 6) }).map((body) => ({
      method: 'PUT',
      path: '/admin/push-certificate',
      body,
      headers: { 'content-type': 'application/json' },
      secrets: [P12_PASSWORD],
      readOnly: false,
    })),
  ),
  fc
    .tuple(
      pathSegment,
      objectBody({
        name: either(fc.string({ maxLength: 300 }).map((s) => JSON.stringify(s))),
        checksum: either(fc.oneof(fc.constant('null'), fc.tuple(fc.constantFrom('"MD5"', '"SHA_256"', '"SHA_512"', '"SHA1"'), fc.stringMatching(/^[0-9a-fA-F]{0,130}$/)).map(([type, value]) => `{"type":${type},"value":"${value}"}`))),
      }),
    )
    .map(([id, body]) => ({ method: 'PUT', path: `/admin/packages/${id}`, body, headers: { 'content-type': 'application/json' }, secrets: [], readOnly: false })),
  fc
    .tuple(pathSegment, until, objectBody({ violations: either(violationCodes.map((a) => JSON.stringify(a))), reason: either(fc.string({ maxLength: 600 }).map((s) => JSON.stringify(s))) }))
    .map(([deviceId, untilValue, rest]) => ({ method: 'PUT', path: `/admin/exemptions/${deviceId}`, body: { untilFromNow: untilValue, rest }, headers: { 'content-type': 'application/json' }, secrets: [], readOnly: false })),
  fc
    .tuple(fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.stringMatching(/^[0-9A-F]{64}$/), pathSegment), objectBody({ reason: either(fc.string({ maxLength: 600 }).map((s) => JSON.stringify(s))) }))
    .map(([sha, body]) => ({ method: 'PUT', path: `/admin/revocations/${sha}`, body, headers: { 'content-type': 'application/json' }, secrets: [], readOnly: false })),
  fc.tuple(pathSegment, fc.oneof(fc.stringMatching(/^[A-Za-z0-9!#%&*+=?@^_~-]{12,40}$/), hostileString.filter((s) => s.length < 2000))).chain(([username, password]) =>
    objectBody({ password: either(fc.constant(JSON.stringify(password)), 6) }).map((body) => ({
      method: 'PUT',
      path: `/admin/imaging/accounts/${username}`,
      body,
      headers: { 'content-type': 'application/json' },
      // A password the server took must never come back; short or common ones could appear by chance.
      secrets: password.length >= 12 && /^[A-Za-z0-9!#%&*+=?@^_~-]+$/.test(password) ? [password] : [],
      readOnly: false,
    })),
  ),
  fc
    .tuple(fc.constantFrom('prestages', 'autorun'), pathSegment, fc.oneof(hostileJson, fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify({ steps: v }))))
    .map(([kind, id, body]) => ({ method: 'PUT', path: `/admin/imaging/${kind}/${id}`, body, headers: { 'content-type': 'application/json' }, secrets: [], readOnly: false })),
);

const adminRequest = fc.record({ template: adminCase, mangling: bodyMangling, cut: fc.double({ min: 0, max: 1, noNaN: true }), contentType: fc.option(contentType, { freq: 8 }) });

function bodyOf(template: Template): string {
  if (typeof template.body === 'string') return template.body;
  const { untilFromNow, rest } = template.body;
  const untilText = 'seconds' in untilFromNow ? JSON.stringify(new Date(Date.now() + untilFromNow.seconds * 1000).toISOString()) : untilFromNow.text;
  return rest.startsWith('{') && rest !== '{}' ? `{"until":${untilText},${rest.slice(1)}` : rest === '{}' ? `{"until":${untilText}}` : rest;
}

describe('admin bodies under hostile input', () => {
  it(
    'never a 5xx, the contract shape, no leak, nothing changed by a refused request or a preview',
    async () => {
      const prototypes = prototypeSnapshot();
      await fuzz('admin bodies', adminRequest, async ({ template, mangling, cut, contentType: type }, statuses) => {
        const text = bodyOf(template);
        const body = mangle(text, mangling, cut);
        const headers: Record<string, string> = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...template.headers };
        if (type !== null) {
          if (type === undefined) delete headers['content-type'];
          else headers['content-type'] = type;
        }
        const before = await historyHead(client, stack.tableNames.ConfigTable);
        const res = await send(stack.httpUrl, { method: template.method, path: template.path, headers, body });
        count(statuses, res.status);
        const context = `${template.method} ${template.path.slice(0, 200)} ${String(body).slice(0, 300)} → ${res.status} ${res.text.slice(0, 300)}`;
        expectNoLeak(res, [TEST_ADMIN_TOKEN, ...template.secrets], context);
        expectNoPollution(prototypes, context);
        if (isGatewayRefusal(res, Buffer.byteLength(body))) return;
        if (res.status >= 400) expectErrorShape(res, context);
        if (MALFORMED_STATUSES.has(res.status) || res.status === 412 || res.status === 428 || template.readOnly) {
          expect(await historyHead(client, stack.tableNames.ConfigTable), `${context}: changed although refused or a preview`).toBe(before);
        }
      });
      expect(handlerFailures).toEqual([]);
      const health = await send(stack.httpUrl, { method: 'GET', path: '/health' });
      expect(health.status).toBe(200);
    },
    FUZZ_TIMEOUT_MS,
  );
});


