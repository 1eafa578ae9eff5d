// Unit tests: extracting the presented device certificate (mTLS, trusted proxy header, signed request).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractDeviceIdentity, PROXY_SECRET_HEADER, type PresentedIdentity } from '../../lib/domain/device-identity.ts';
import {
  CertificateFactory,
  albEscapedPem,
  deviceCertificateHeader,
  nginxEscapedPem,
  pemBundle,
  rfc9440,
  type MadeCertificate,
} from '../support/certificates.ts';

const TRUSTED = 'x-client-cert';
/** The deployment's proxy secret, and the header the proxy proves itself with. */
const SECRET = 'proxy-secret-'.padEnd(40, 'x');
const FROM_PROXY = { [PROXY_SECRET_HEADER]: SECRET };
const proxy = (header: string) => ({ header, secret: SECRET });

let factory: CertificateFactory;
let root: MadeCertificate;
let intermediate: MadeCertificate;
let leaf: MadeCertificate;
let other: MadeCertificate;
let padded: MadeCertificate | undefined;

beforeAll(() => {
  factory = CertificateFactory.create();
  root = factory.makeRootCa({ cn: 'Identity Test Root', keyType: 'ec384' });
  intermediate = factory.makeIntermediateCa(root, { cn: 'Identity Test Issuing CA', keyType: 'ec256' });
  leaf = factory.makeDeviceCertificate(intermediate, { cn: 'C02XK1JHJG5J', keyType: 'ec256' });
  other = factory.makeDeviceCertificate(intermediate, { cn: 'OTHER', key: leaf });
  // A certificate whose base64 ends in '=' padding (DER length not a multiple of 3), so the ALB case is deterministic;
  // changing the CN length changes the DER length, so a few tries always find one.
  for (let i = 1; !padded || padded.der.length % 3 === 0; i += 1) {
    if (i > 12) throw new Error('could not make a certificate whose base64 is padded');
    padded = factory.makeDeviceCertificate(intermediate, { cn: `PADDED-${'X'.repeat(i)}`, key: leaf });
  }
});

afterAll(() => factory?.cleanup());

const chainOf = (identity: PresentedIdentity): Buffer[] | undefined =>
  'chainDer' in identity ? identity.chainDer : undefined;

describe('extractDeviceIdentity: the three ways and their encodings', () => {
  // Each case builds its input from the fixtures, then names the way and chain (by fixture) it must yield.
  type Case = [
    name: string,
    input: () => Parameters<typeof extractDeviceIdentity>[0],
    way: PresentedIdentity['way'],
    chain: () => MadeCertificate[],
  ];
  const cases: Case[] = [
    // API Gateway mTLS passes a PEM: one certificate
    ['mTLS single PEM', () => ({ clientCertPem: leaf.pem, headers: {} }), 'MTLS', () => [leaf]],
    // mTLS with intermediates after the leaf, as API Gateway passes a bundle
    ['mTLS PEM bundle, leaf first', () => ({ clientCertPem: pemBundle([leaf, intermediate]), headers: {} }), 'MTLS', () => [leaf, intermediate]],
    // mTLS PEM with CRLF line ends and text around the block (openssl x509 output style)
    [
      'mTLS PEM with CRLF and surrounding text',
      () => ({ clientCertPem: `subject=CN = C02XK1JHJG5J\r\n${leaf.pem.replace(/\n/g, '\r\n')}`, headers: {} }),
      'MTLS',
      () => [leaf],
    ],
    // nginx $ssl_client_escaped_cert: everything escaped, newlines as %0A
    [
      'trusted header: nginx escaped PEM',
      () => ({ headers: { ...FROM_PROXY, [TRUSTED]: nginxEscapedPem(leaf.pem) }, trustedProxy: proxy(TRUSTED) }),
      'PROXY_HEADER',
      () => [leaf],
    ],
    // nginx escaped PEM of a chain
    [
      'trusted header: nginx escaped PEM chain',
      () => ({ headers: { ...FROM_PROXY, [TRUSTED]: nginxEscapedPem(pemBundle([leaf, intermediate])) }, trustedProxy: proxy(TRUSTED) }),
      'PROXY_HEADER',
      () => [leaf, intermediate],
    ],
    // ALB x-amzn-mtls-clientcert: '+', '=' and '/' stay raw; '+' must not become a space
    [
      'trusted header: ALB form',
      () => ({
        headers: { ...FROM_PROXY, 'x-amzn-mtls-clientcert': albEscapedPem(pemBundle([leaf, intermediate])) },
        trustedProxy: proxy('x-amzn-mtls-clientcert'),
      }),
      'PROXY_HEADER',
      () => [leaf, intermediate],
    ],
    // a proxy that forwards the PEM unescaped (newlines folded to spaces)
    [
      'trusted header: plain PEM with newlines folded to spaces',
      () => ({ headers: { ...FROM_PROXY, [TRUSTED]: leaf.pem.trim().replace(/\n/g, ' ') }, trustedProxy: proxy(TRUSTED) }),
      'PROXY_HEADER',
      () => [leaf],
    ],
    // RFC 9440 Client-Cert: one sf-binary item
    [
      'trusted header: RFC 9440 byte sequence',
      () => ({ headers: { ...FROM_PROXY, 'client-cert': rfc9440([leaf]) }, trustedProxy: proxy('client-cert') }),
      'PROXY_HEADER',
      () => [leaf],
    ],
    // signed request: base64 DER of the leaf
    [
      'x-device-certificate: leaf only',
      () => ({ headers: { 'x-device-certificate': leaf.base64, 'x-device-signature': 'AAAA' } }),
      'SIGNED_REQUEST',
      () => [leaf],
    ],
    // signed request: leaf then intermediates, comma-separated, with whitespace and line breaks tolerated
    [
      'x-device-certificate: chain with whitespace',
      () => ({ headers: { 'x-device-certificate': ` ${leaf.base64} ,\n ${intermediate.base64}, ` } }),
      'SIGNED_REQUEST',
      () => [leaf, intermediate],
    ],
    // signed request: base64 wrapped at 64 characters inside an item
    [
      'x-device-certificate: wrapped base64',
      () => ({ headers: { 'x-device-certificate': leaf.base64.replace(/(.{64})/g, '$1\n') } }),
      'SIGNED_REQUEST',
      () => [leaf],
    ],
    // header names are expected lower-cased, but a differently cased one is still found
    [
      'x-device-certificate: header name in another case',
      () => ({ headers: { 'X-Device-Certificate': leaf.base64 } }),
      'SIGNED_REQUEST',
      () => [leaf],
    ],
  ];

  it.each(cases)('%s', (_name, input, way, chain) => {
    const identity = extractDeviceIdentity(input());
    expect(identity.way).toBe(way);
    expect('unparseable' in identity).toBe(false);
    expect(chainOf(identity)).toEqual(chain().map((c) => c.der));
  });

  it('the ALB case really contains raw "+", "/" and "=" (so decoding them is exercised)', () => {
    const chain = [padded!, intermediate, root];
    const value = albEscapedPem(pemBundle(chain));
    expect(value).toMatch(/\+/);
    expect(value).toMatch(/\//);
    expect(value).toMatch(/=/);
    expect(value).not.toMatch(/%2B|%2F|%3D/);
    const identity = extractDeviceIdentity({ headers: { ...FROM_PROXY, [TRUSTED]: value }, trustedProxy: proxy(TRUSTED) });
    expect(chainOf(identity)).toEqual(chain.map((x) => x.der));
  });
});

describe('extractDeviceIdentity: precedence and the trusted header setting', () => {
  // Each case: the input, then the way that must win and the leaf it must carry.
  const cases: Array<[string, () => Parameters<typeof extractDeviceIdentity>[0], PresentedIdentity['way'], () => MadeCertificate | undefined]> = [
    // mTLS wins over the proxy header and the signed request
    [
      'mTLS beats both headers',
      () => ({
        clientCertPem: leaf.pem,
        headers: { ...FROM_PROXY, [TRUSTED]: nginxEscapedPem(other.pem), 'x-device-certificate': other.base64 },
        trustedProxy: proxy(TRUSTED),
      }),
      'MTLS',
      () => leaf,
    ],
    // the trusted proxy header wins over the signed request
    [
      'trusted header beats x-device-certificate',
      () => ({
        headers: { ...FROM_PROXY, [TRUSTED]: nginxEscapedPem(leaf.pem), 'x-device-certificate': other.base64 },
        trustedProxy: proxy(TRUSTED),
      }),
      'PROXY_HEADER',
      () => leaf,
    ],
    // the proxy header without the proxy's secret is anyone's claim: ignored, the signed request is used
    [
      'trusted header without the proxy secret → signed request',
      () => ({ headers: { [TRUSTED]: nginxEscapedPem(leaf.pem), 'x-device-certificate': other.base64 }, trustedProxy: proxy(TRUSTED) }),
      'SIGNED_REQUEST',
      () => other,
    ],
    // ... and alone it is no certificate at all
    ['trusted header without the proxy secret → NONE', () => ({ headers: { [TRUSTED]: nginxEscapedPem(leaf.pem) }, trustedProxy: proxy(TRUSTED) }), 'NONE', () => undefined],
    // a wrong secret, one character off, is no better
    [
      'trusted header with a wrong proxy secret → NONE',
      () => ({ headers: { [TRUSTED]: nginxEscapedPem(leaf.pem), [PROXY_SECRET_HEADER]: `${SECRET.slice(0, -1)}y` }, trustedProxy: proxy(TRUSTED) }),
      'NONE',
      () => undefined,
    ],
    // a client's own header value that a proxy appended to (joined with a comma): ambiguous, believed for neither
    [
      'comma-joined trusted header (client value first) → NONE',
      () => ({ headers: { ...FROM_PROXY, [TRUSTED]: `${nginxEscapedPem(other.pem)},${nginxEscapedPem(leaf.pem)}` }, trustedProxy: proxy(TRUSTED) }),
      'NONE',
      () => undefined,
    ],
    // the same with RFC 9440 items, as Node and API Gateway join a duplicated header
    ['duplicated RFC 9440 header, joined → NONE', () => ({ headers: { ...FROM_PROXY, [TRUSTED]: rfc9440([other, leaf]) }, trustedProxy: proxy(TRUSTED) }), 'NONE', () => undefined],
    // without TRUSTED_CLIENT_CERT_HEADER the header is ignored: the signed request is used
    [
      'trusted header ignored when not configured',
      () => ({ headers: { [TRUSTED]: nginxEscapedPem(leaf.pem), 'x-device-certificate': other.base64 } }),
      'SIGNED_REQUEST',
      () => other,
    ],
    // ... and with nothing else present, the device presented nothing
    ['trusted header alone, not configured → NONE', () => ({ headers: { [TRUSTED]: nginxEscapedPem(leaf.pem) } }), 'NONE', () => undefined],
    // a configured header name that the request does not carry: fall through to the signed request
    [
      'configured header absent → signed request',
      () => ({ headers: { ...FROM_PROXY, 'x-device-certificate': other.base64 }, trustedProxy: proxy(TRUSTED) }),
      'SIGNED_REQUEST',
      () => other,
    ],
    // empty values count as absent
    ['empty mTLS PEM and empty headers → NONE', () => ({ clientCertPem: '', headers: { 'x-device-certificate': '  ' } }), 'NONE', () => undefined],
    // a signature alone proves nothing: no certificate
    ['signature without certificate → NONE', () => ({ headers: { 'x-device-signature': 'AAAA' } }), 'NONE', () => undefined],
    // no headers at all
    ['nothing presented → NONE', () => ({ headers: {} }), 'NONE', () => undefined],
  ];

  it.each(cases)('%s', (_name, input, way, expectedLeaf) => {
    const identity = extractDeviceIdentity(input());
    expect(identity.way).toBe(way);
    expect(chainOf(identity)?.[0]).toEqual(expectedLeaf()?.der);
  });
});

describe('extractDeviceIdentity: present but undecodable', () => {
  // Each case: input, and the way that must be reported unparseable (never falling through to the next way).
  const cases: Array<[string, () => Parameters<typeof extractDeviceIdentity>[0], PresentedIdentity['way']]> = [
    // mTLS text without a PEM block; the valid x-device-certificate must not rescue it
    ['mTLS without a PEM block', () => ({ clientCertPem: 'not a certificate', headers: { 'x-device-certificate': leaf.base64 } }), 'MTLS'],
    // a PEM block whose body is not base64
    ['mTLS block with garbage body', () => ({ clientCertPem: '-----BEGIN CERTIFICATE-----\n!!**!!\n-----END CERTIFICATE-----', headers: {} }), 'MTLS'],
    // a broken % escape (decodeURIComponent would throw): reported, not thrown
    ['trusted header with a broken %-escape', () => ({ headers: { ...FROM_PROXY, [TRUSTED]: '-----BEGIN%20CERTIFICATE%E0%A4%A' }, trustedProxy: proxy(TRUSTED) }), 'PROXY_HEADER'],
    // RFC 9440 item that is not closed
    ['trusted header: unterminated RFC 9440 item', () => ({ headers: { ...FROM_PROXY, [TRUSTED]: `:${leaf.base64}` }, trustedProxy: proxy(TRUSTED) }), 'PROXY_HEADER'],
    // RFC 9440 item with characters outside base64
    ['trusted header: RFC 9440 item not base64', () => ({ headers: { ...FROM_PROXY, [TRUSTED]: ':not*base64:' }, trustedProxy: proxy(TRUSTED) }), 'PROXY_HEADER'],
    // two RFC 9440 items run together without the comma between them: not one item, so not the last one's chain either
    [
      'trusted header: two RFC 9440 items without a comma',
      () => ({ headers: { ...FROM_PROXY, [TRUSTED]: `${rfc9440([other])}${rfc9440([leaf])}` }, trustedProxy: proxy(TRUSTED) }),
      'PROXY_HEADER',
    ],
    // plain junk in the trusted header must not fall through to x-device-certificate
    [
      'trusted header junk with a valid x-device-certificate',
      () => ({ headers: { ...FROM_PROXY, [TRUSTED]: 'hello world!', 'x-device-certificate': leaf.base64 }, trustedProxy: proxy(TRUSTED) }),
      'PROXY_HEADER',
    ],
    // x-device-certificate that is not base64
    ['x-device-certificate not base64', () => ({ headers: { 'x-device-certificate': 'this is *not* base64' } }), 'SIGNED_REQUEST'],
    // one good item and one bad item: the whole chain is refused
    ['x-device-certificate with one bad item', () => ({ headers: { 'x-device-certificate': `${leaf.base64},%%%` } }), 'SIGNED_REQUEST'],
    // only separators
    ['x-device-certificate of commas only', () => ({ headers: { 'x-device-certificate': ' , ,' } }), 'SIGNED_REQUEST'],
    // more certificates than any real chain (bounded work for the verifier)
    ['x-device-certificate with 11 certificates', () => ({ headers: { 'x-device-certificate': Array(11).fill(leaf.base64).join(',') } }), 'SIGNED_REQUEST'],
  ];

  it.each(cases)('%s', (_name, input, way) => {
    let identity: PresentedIdentity | undefined;
    expect(() => {
      identity = extractDeviceIdentity(input());
    }).not.toThrow();
    expect(identity).toEqual({ way, unparseable: true });
  });
});

describe('extractDeviceIdentity: more encodings a proxy or a device sends', () => {
  // Each case: the input, then the way and the chain (by fixture) it must yield.
  const cases: Array<[string, () => Parameters<typeof extractDeviceIdentity>[0], PresentedIdentity['way'], () => MadeCertificate[]]> = [
    // a proxy that sends bare base64 DER, neither PEM nor RFC 9440
    ['trusted header: bare base64 DER', () => ({ headers: { ...FROM_PROXY, [TRUSTED]: leaf.base64 }, trustedProxy: proxy(TRUSTED) }), 'PROXY_HEADER', () => [leaf]],
    // RFC 9440 with a parameter after the item (parameters are ignored)
    [
      'trusted header: RFC 9440 item with a parameter',
      () => ({ headers: { ...FROM_PROXY, [TRUSTED]: `${rfc9440([leaf])};source=edge` }, trustedProxy: proxy(TRUSTED) }),
      'PROXY_HEADER',
      () => [leaf],
    ],
    // RFC 9440 with spaces around it, as a header value may carry
    [
      'trusted header: RFC 9440 item with spaces around it',
      () => ({ headers: { ...FROM_PROXY, [TRUSTED]: `  ${rfc9440([leaf])} ` }, trustedProxy: proxy(TRUSTED) }),
      'PROXY_HEADER',
      () => [leaf],
    ],
    // X-Device-Certificate carrying a PEM bundle instead of base64 DER (tolerated)
    ['x-device-certificate: a PEM bundle', () => ({ headers: { 'x-device-certificate': pemBundle([leaf, intermediate]) } }), 'SIGNED_REQUEST', () => [leaf, intermediate]],
    // ten certificates: the most a presentation may hold
    [
      'x-device-certificate with 10 certificates',
      () => ({ headers: { 'x-device-certificate': Array(10).fill(leaf.base64).join(',') } }),
      'SIGNED_REQUEST',
      () => Array(10).fill(leaf),
    ],
  ];

  it.each(cases)('%s', (_name, input, way, chain) => {
    const identity = extractDeviceIdentity(input());
    expect(identity.way).toBe(way);
    expect(chainOf(identity)).toEqual(chain().map((certificate) => certificate.der));
  });

  it('refuses an RFC 9440 item followed by anything but parameters', () => {
    const identity = extractDeviceIdentity({ headers: { ...FROM_PROXY, [TRUSTED]: `${rfc9440([leaf])}junk` }, trustedProxy: proxy(TRUSTED) });
    expect(identity).toEqual({ way: 'PROXY_HEADER', unparseable: true });
  });
});

describe('extractDeviceIdentity: why a proxy header is ignored', () => {
  // Each case: the proxy secret header sent (undefined: none), the header's value, and the reason told to the caller.
  const cases: Array<[string, string | undefined, () => string, string[]]> = [
    ['no proxy secret', undefined, () => nginxEscapedPem(leaf.pem), ['PROXY_SECRET_MISSING']],
    ['an empty proxy secret', '', () => nginxEscapedPem(leaf.pem), ['PROXY_SECRET_MISSING']],
    ['a wrong proxy secret', `${SECRET}x`, () => nginxEscapedPem(leaf.pem), ['PROXY_SECRET_WRONG']],
    ['two values joined by a comma', SECRET, () => `${nginxEscapedPem(other.pem)},${nginxEscapedPem(leaf.pem)}`, ['AMBIGUOUS_HEADER']],
    ['nothing wrong', SECRET, () => nginxEscapedPem(leaf.pem), []],
  ];

  it.each(cases)('%s', (_name, presentedSecret, value, reasons) => {
    const told: string[] = [];
    const headers: Record<string, string | undefined> = { [TRUSTED]: value() };
    if (presentedSecret !== undefined) headers[PROXY_SECRET_HEADER] = presentedSecret;
    const identity = extractDeviceIdentity({ headers, trustedProxy: proxy(TRUSTED), onIgnoredProxyHeader: (reason) => told.push(reason) });
    expect(told).toEqual(reasons);
    expect(identity.way).toBe(reasons.length === 0 ? 'PROXY_HEADER' : 'NONE');
  });
});

describe('extractDeviceIdentity: the request signature header', () => {
  it('decodes x-device-signature from base64', () => {
    const signature = Buffer.from([0x30, 0x45, 0x02, 0x21, 0xff, 0xfe, 0xfb]);
    const identity = extractDeviceIdentity({
      headers: { 'x-device-certificate': leaf.base64, 'x-device-signature': signature.toString('base64') },
    });
    expect(identity).toEqual({ way: 'SIGNED_REQUEST', chainDer: [leaf.der], signature });
  });

  it('leaves the signature out when the header is absent or empty', () => {
    for (const headers of [{ 'x-device-certificate': leaf.base64 }, { 'x-device-certificate': leaf.base64, 'x-device-signature': '' }]) {
      const identity = extractDeviceIdentity({ headers });
      expect(identity).toEqual({ way: 'SIGNED_REQUEST', chainDer: [leaf.der] });
      expect('signature' in identity).toBe(false);
    }
  });

  it('passes a signature that is not base64 on as an empty buffer (reported as an invalid signature)', () => {
    const identity = extractDeviceIdentity({ headers: { 'x-device-certificate': leaf.base64, 'x-device-signature': 'not base64!' } });
    expect(identity).toEqual({ way: 'SIGNED_REQUEST', chainDer: [leaf.der], signature: Buffer.alloc(0) });
  });
});

// Keeps the helper honest: the forms above must stay what real proxies send.
describe('support helpers', () => {
  it('builds the x-device-certificate value leaf first', () => {
    expect(deviceCertificateHeader([leaf, intermediate])).toBe(`${leaf.base64},${intermediate.base64}`);
  });
});
