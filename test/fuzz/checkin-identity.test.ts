// Hostile identity headers on POST /checkin, over real HTTP with certificate-based authentication on and a trusted
// proxy header configured: certificate chains (valid, truncated, bit-flipped, reordered, repeated, with absurd dates,
// key sizes and extensions), signatures (valid, altered, of another key, not base64), proxy headers in every escaping
// with the right, a wrong or no proxy secret. Besides the properties every answer has, a check-in is authenticated
// only when it carried an unaltered certificate that may authenticate and its proof (a valid signature, or the
// proxy secret), and an unauthenticated one changes no device and is recorded as an attempt.
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { parseDeviceCaBundle } from '../../lib/domain/trust-material.ts';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import type { LocalStack } from '../../local/stack.ts';
import { seed, seedSettings } from '../support/config.ts';
import { albEscapedPem, CertificateFactory, derToPem, type MadeCertificate, nginxEscapedPem, rfc9440, signBody } from '../support/certificates.ts';
import { count, expectErrorShape, expectNoLeak, isGatewayRefusal, expectNoPollution, FUZZ_TIMEOUT_MS, fuzz, headerValue, prototypeSnapshot, send } from '../support/fuzz-harness.ts';
import { startTestStack, TEST_ADMIN_TOKEN, TEST_TRUSTED_PROXY_SECRET } from '../support/local-stack.ts';

const PROXY_HEADER = 'x-client-cert';
const handlerFailures: string[] = [];
let stack: LocalStack;
let client: DynamoDBClient;
let factory: CertificateFactory;

interface PoolCertificate {
  certificate: MadeCertificate;
  /** Whether an unaltered copy of it, with its proof, may authenticate its CN (chains to the CA, in date, policy met). */
  mayAuthenticate: boolean;
  /** Whether the chain needs the intermediate presented with it. */
  needsIntermediate: boolean;
}

let root: MadeCertificate;
let intermediate: MadeCertificate;
let otherKey: MadeCertificate;
let pool: PoolCertificate[] = [];

const YEAR_MS = 365 * 86_400_000;

beforeAll(async () => {
  factory = CertificateFactory.create('tollgate-fuzz-identity-');
  root = factory.makeRootCa({ cn: 'Fuzz Root', keyType: 'ec384' });
  intermediate = factory.makeIntermediateCa(root, { cn: 'Fuzz Intermediate', keyType: 'ec384' });
  const now = Date.now();
  const device = (cn: string, options: Partial<Parameters<CertificateFactory['makeDeviceCertificate']>[1]> = {}, issuer: MadeCertificate | undefined = root) =>
    factory.makeDeviceCertificate(issuer, { cn, keyType: 'ec256', ...options });
  pool = [
    { certificate: device('DEV-EC'), mayAuthenticate: true, needsIntermediate: false },
    { certificate: device('DEV-RSA', { keyType: 'rsa2048' }, intermediate), mayAuthenticate: true, needsIntermediate: true },
    { certificate: device('DEV-FAR', { notBefore: new Date('2001-01-01T00:00:00Z'), notAfter: new Date('9999-12-31T23:59:59Z') }), mayAuthenticate: true, needsIntermediate: false },
    { certificate: device('DEV-P384', { keyType: 'ec384' }), mayAuthenticate: true, needsIntermediate: false },
    { certificate: device('ODD-EXPIRED', { notBefore: new Date('1950-01-01T00:00:00Z'), notAfter: new Date('1960-01-01T00:00:00Z') }), mayAuthenticate: false, needsIntermediate: false },
    { certificate: device('ODD-FUTURE', { notBefore: new Date(now + 60 * YEAR_MS), notAfter: new Date(now + 61 * YEAR_MS) }), mayAuthenticate: false, needsIntermediate: false },
    { certificate: device('ODD-RSA1024', { keyType: 'rsa1024' }), mayAuthenticate: false, needsIntermediate: false },
    { certificate: device('ODD-P521', { keyType: 'ec521' }), mayAuthenticate: false, needsIntermediate: false },
    { certificate: device('ODD-CA-LEAF', { ca: true, basicConstraints: 'critical,CA:TRUE' }), mayAuthenticate: false, needsIntermediate: false },
    { certificate: device('ODD-CRITICAL-EXT', { extraExtensions: ['1.2.3.4.5.6 = critical,ASN1:UTF8String:hostile'] }), mayAuthenticate: false, needsIntermediate: false },
    { certificate: device('ODD-CODE-SIGNING', { eku: ['codeSigning'] }), mayAuthenticate: false, needsIntermediate: false },
    { certificate: device('ODD-LONG-SAN', { extraExtensions: [`subjectAltName = DNS:${'a'.repeat(60)}.example, email:${'\u00e9'.repeat(3)}@x`] }), mayAuthenticate: true, needsIntermediate: false },
    { certificate: factory.makeDeviceCertificate(undefined, { cn: 'ODD-SELF-SIGNED', keyType: 'ec256' }), mayAuthenticate: false, needsIntermediate: false },
    { certificate: device('DEV-EC', {}, factory.makeRootCa({ cn: 'Attacker Root', keyType: 'ec256' })), mayAuthenticate: false, needsIntermediate: false },
  ];
  otherKey = device('OTHER-KEY');

  stack = await startTestStack({
    params: { trustedClientCertHeader: PROXY_HEADER },
    trustedProxySecret: TEST_TRUSTED_PROXY_SECRET,
    log: (line) => (line.startsWith('Handler failed') ? handlerFailures.push(line) : undefined),
  });
  client = localDynamoDbClient(stack.dynamoDbEndpoint);
  const store = new DynamoDbConfigStore(client, stack.tableNames.ConfigTable);
  const changedAt = new Date().toISOString();
  await seed(store, { kind: 'DEVICE_CAS', certificates: parseDeviceCaBundle(root.pem) }, { changedAt });
  await seedSettings(store, { certificateBasedAuthentication: true }, { changedAt });
}, 180_000);

afterAll(async () => {
  client?.destroy();
  await stack?.stop();
  factory?.cleanup();
});

// ---- the generator ----

type Alteration = 'none' | 'truncate' | 'flip' | 'garbage';
const alteration = fc.oneof({ arbitrary: fc.constant<Alteration>('none'), weight: 6 }, { arbitrary: fc.constantFrom<Alteration>('truncate', 'flip', 'garbage'), weight: 2 });

function alter(der: Buffer, how: Alteration, at: number): Buffer {
  if (how === 'none') return der;
  const position = Math.floor(at * der.length) % der.length;
  if (how === 'truncate') return der.subarray(0, position);
  if (how === 'flip') return Buffer.concat([der.subarray(0, position), Buffer.from([der[position] ^ 0x01]), der.subarray(position + 1)]);
  return Buffer.from(`${'\u0000'.repeat(3)}not a certificate`);
}

interface IdentityCase {
  leaf: number;
  chain: 'leaf' | 'with-intermediate' | 'with-root' | 'reversed' | 'repeated' | 'empty-entries';
  certificateForm: 'absent' | 'base64' | 'base64-spaces' | 'pem' | 'garbage';
  leafAlteration: Alteration;
  alterAt: number;
  signature: 'absent' | 'valid' | 'altered' | 'other-key' | 'not-base64' | 'empty' | 'garbage';
  proxyForm: 'absent' | 'nginx' | 'alb' | 'rfc9440' | 'rfc9440-chain' | 'duplicated' | 'garbage';
  proxySecret: 'absent' | 'right' | 'wrong' | 'prefix' | 'padded';
  garbage: string;
  deviceIdIsCn: boolean;
  clientSkewSeconds: number;
}

const identityCase: fc.Arbitrary<IdentityCase> = fc.record({
  leaf: fc.nat(),
  chain: fc.constantFrom('leaf', 'with-intermediate', 'with-root', 'reversed', 'repeated', 'empty-entries'),
  certificateForm: fc.oneof({ arbitrary: fc.constant<'base64'>('base64'), weight: 5 }, { arbitrary: fc.constantFrom<IdentityCase['certificateForm']>('absent', 'base64-spaces', 'pem', 'garbage'), weight: 3 }),
  leafAlteration: alteration,
  alterAt: fc.double({ min: 0, max: 0.999, noNaN: true }),
  signature: fc.oneof({ arbitrary: fc.constant<'valid'>('valid'), weight: 5 }, { arbitrary: fc.constantFrom<IdentityCase['signature']>('absent', 'altered', 'other-key', 'not-base64', 'empty', 'garbage'), weight: 3 }),
  proxyForm: fc.oneof({ arbitrary: fc.constant<'absent'>('absent'), weight: 5 }, { arbitrary: fc.constantFrom<IdentityCase['proxyForm']>('nginx', 'alb', 'rfc9440', 'rfc9440-chain', 'duplicated', 'garbage'), weight: 3 }),
  proxySecret: fc.constantFrom<IdentityCase['proxySecret']>('absent', 'right', 'right', 'wrong', 'prefix', 'padded'),
  garbage: headerValue,
  deviceIdIsCn: fc.oneof({ arbitrary: fc.constant(true), weight: 5 }, { arbitrary: fc.constant(false), weight: 1 }),
  clientSkewSeconds: fc.oneof({ arbitrary: fc.constant(0), weight: 5 }, { arbitrary: fc.integer({ min: -4000, max: 4000 }), weight: 1 }),
});

let counter = 0;

function request(value: IdentityCase): { headers: Record<string, string>; body: string; mayAuthenticate: boolean; deviceId: string } {
  const entry = pool[value.leaf % pool.length];
  const leaf = entry.certificate;
  counter += 1;
  const deviceId = value.deviceIdIsCn ? leaf.cn : 'SOMEONE-ELSE';
  const body = JSON.stringify({ checkinId: `u-${process.pid}-${counter}-${Date.now()}`, deviceId, clientTime: new Date(Date.now() + value.clientSkewSeconds * 1000).toISOString(), serverCertificateVerified: true });
  const leafDer = alter(leaf.der, value.leafAlteration, value.alterAt);
  const chains: Record<IdentityCase['chain'], Buffer[]> = {
    leaf: [leafDer],
    'with-intermediate': [leafDer, intermediate.der],
    'with-root': [leafDer, intermediate.der, root.der],
    reversed: [intermediate.der, leafDer],
    repeated: Array(12).fill(leafDer),
    'empty-entries': [leafDer, Buffer.alloc(0), intermediate.der],
  };
  const chain = chains[value.chain];
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const certificateHeaders: Record<IdentityCase['certificateForm'], string | undefined> = {
    absent: undefined,
    base64: chain.map((der) => der.toString('base64')).join(','),
    'base64-spaces': chain.map((der) => der.toString('base64')).join(' , '),
    pem: chain.map((der) => derToPem(der)).join('').replace(/\n/g, ' '),
    garbage: value.garbage,
  };
  const certificateHeader = certificateHeaders[value.certificateForm];
  if (certificateHeader !== undefined) headers['x-device-certificate'] = certificateHeader;
  const validSignature = signBody(Buffer.from(body), leaf);
  const signatures: Record<IdentityCase['signature'], string | undefined> = {
    absent: undefined,
    valid: validSignature.toString('base64'),
    altered: alter(validSignature, 'flip', value.alterAt).toString('base64'),
    'other-key': signBody(Buffer.from(body), otherKey).toString('base64'),
    'not-base64': '!!!not base64!!!',
    empty: '',
    garbage: value.garbage,
  };
  const signature = signatures[value.signature];
  if (signature !== undefined) headers['x-device-signature'] = signature;
  const leafPem = derToPem(leafDer);
  const proxyHeaders: Record<IdentityCase['proxyForm'], string | undefined> = {
    absent: undefined,
    nginx: nginxEscapedPem(leafPem),
    alb: albEscapedPem(leafPem),
    rfc9440: rfc9440([{ der: leafDer }]),
    'rfc9440-chain': rfc9440(chain.map((der) => ({ der }))),
    duplicated: `${nginxEscapedPem(leafPem)},${nginxEscapedPem(leafPem)}`,
    garbage: value.garbage,
  };
  const proxyHeader = proxyHeaders[value.proxyForm];
  if (proxyHeader !== undefined) headers[PROXY_HEADER] = proxyHeader;
  const secrets: Record<IdentityCase['proxySecret'], string | undefined> = {
    absent: undefined,
    right: TEST_TRUSTED_PROXY_SECRET,
    wrong: 'wrong-proxy-secret-0123456789abcdefghijkl',
    prefix: TEST_TRUSTED_PROXY_SECRET.slice(0, -1),
    padded: `${TEST_TRUSTED_PROXY_SECRET}x`,
  };
  const secret = secrets[value.proxySecret];
  if (secret !== undefined) headers['x-tollgate-proxy-secret'] = secret;

  // What could possibly authenticate: the unaltered certificate (with its intermediate where it needs one), and its
  // proof — the proxy secret for the proxy header, a valid signature for the signed request (whichever readable form
  // the certificate header has: the server also reads PEM text there).
  const certificateSound = entry.mayAuthenticate && value.leafAlteration === 'none' && value.deviceIdIsCn;
  const proxyProves = value.proxySecret === 'right' && ['nginx', 'alb', 'rfc9440', 'rfc9440-chain'].includes(value.proxyForm) && (!entry.needsIntermediate || value.proxyForm === 'rfc9440-chain');
  const signatureProves =
    value.signature === 'valid' && ['base64', 'base64-spaces', 'pem'].includes(value.certificateForm) && (!entry.needsIntermediate || ['with-intermediate', 'with-root', 'reversed', 'empty-entries'].includes(value.chain));
  return { headers, body, mayAuthenticate: certificateSound && (proxyProves || signatureProves), deviceId };
}

async function countItems(prefix: string): Promise<number> {
  let total = 0;
  let start: Record<string, any> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: stack.tableNames.DecisionsTable, Select: 'COUNT', FilterExpression: 'begins_with(pk, :p)', ExpressionAttributeValues: { ':p': { S: prefix } }, ExclusiveStartKey: start }),
    );
    total += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return total;
}

describe('POST /checkin under hostile identity headers', () => {
  it(
    'never a 5xx, no leak, authenticated only with a sound certificate and its proof, unauthenticated ones recorded as attempts only',
    async () => {
      const prototypes = prototypeSnapshot();
      let authenticatedDecisions = 0;
      let attempts = 0;
      await fuzz('identity headers', identityCase, async (value, statuses) => {
        const { headers, body, mayAuthenticate } = request(value);
        const res = await send(stack.httpUrl, { method: 'POST', path: '/checkin', headers, body });
        count(statuses, res.status);
        const context = `identity ${JSON.stringify({ ...value, garbage: value.garbage.slice(0, 40) })} leaf ${pool[value.leaf % pool.length].certificate.cn} → ${res.status} ${res.text.slice(0, 300)}`;
        expectNoLeak(res, [TEST_ADMIN_TOKEN, TEST_TRUSTED_PROXY_SECRET], context);
        expectNoPollution(prototypes, context);
        if (isGatewayRefusal(res)) return;
        if (res.status === 200 || res.status === 403) {
          expect(res.body, context).toEqual(expect.objectContaining({ decision: res.status === 200 ? 'ACCEPT' : 'BLOCK', authenticated: expect.any(Boolean) }));
          if (res.body.authenticated) {
            expect(mayAuthenticate, `${context}: authenticated without a sound certificate and its proof`).toBe(true);
            authenticatedDecisions += 1;
          } else {
            expect(res.status, context).toBe(403);
            attempts += 1;
          }
        } else {
          expect([400, 409, 413], context).toContain(res.status);
          expectErrorShape(res, context);
        }
      });
      expect(handlerFailures).toEqual([]);
      // An unauthenticated check-in is an attempt and no decision of the device; an authenticated one a decision.
      expect({ decisions: await countItems('DEVICE#'), attempts: await countItems('ATTEMPTS#') }).toEqual({ decisions: authenticatedDecisions, attempts });
      const health = await send(stack.httpUrl, { method: 'GET', path: '/health' });
      expect(health.status).toBe(200);
    },
    FUZZ_TIMEOUT_MS,
  );
});
