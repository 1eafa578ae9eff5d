// A presented certificate written the plain way is read by the DER walk instead of Node's X509Certificate
// (lib/domain/plain-certificate.ts), and its issuer checked without OpenSSL's checkIssued. Both must change nothing a
// device or an attacker could notice: the same names, dates and key as X509Certificate reads, and an issuer decision
// only where OpenSSL's would be the same. Every certificate here is also read by X509Certificate and compared.
import { createHash, createPrivateKey, sign, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParsedCertificate } from '../../lib/domain/certificate-path.ts';
import { DeviceCertificateVerifier } from '../../lib/domain/device-certificates.ts';
import { verifyPlainSignature } from '../../lib/domain/plain-certificate.ts';
import { readingOf } from '../support/certificate-reading.ts';
import { CertificateFactory, type KeyMaterial, type MadeCertificate } from '../support/certificates.ts';

const DEVICE = 'C02PLAIN';
const NOW = new Date('2026-06-01T12:00:00Z');
const VALID = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2027-01-01T00:00:00Z') };
const CA_VALID = { notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2035-01-01T00:00:00Z') };

let factory: CertificateFactory;
let rsaKey: KeyMaterial;
let c: Record<string, MadeCertificate>;

beforeAll(() => {
  factory = CertificateFactory.create('tollgate-plain-');
  rsaKey = factory.makeKey('rsa2048');
  const key = rsaKey;
  const rsaRoot = factory.makeRootCa({ cn: 'Plain Root', keyType: 'rsa2048', keyUsage: 'critical,keyCertSign,cRLSign', ...CA_VALID });
  const ecRoot = factory.makeRootCa({ cn: 'Plain EC Root', keyType: 'ec256', ...CA_VALID });
  // An impostor: the configured root's name on another key (what anyone can make).
  const impostor = factory.makeRootCa({ cn: 'Plain Root', keyType: 'rsa2048', ...CA_VALID });
  const noCertSign = factory.makeRootCa({ cn: 'Signing-Only CA', keyType: 'rsa2048', keyUsage: 'critical,digitalSignature', ...CA_VALID });
  // The configured root's name in capitals: OpenSSL compares names case-insensitively, the walk byte for byte.
  const shouting = factory.makeRootCa({ cn: 'PLAIN ROOT', keyType: 'rsa2048', ...CA_VALID });
  const leaf = (issuer: MadeCertificate, options: Partial<Parameters<CertificateFactory['makeDeviceCertificate']>[1]> = {}) =>
    factory.makeDeviceCertificate(issuer, { cn: DEVICE, key, ...VALID, ...options });
  c = {
    rsaRoot,
    ecRoot,
    impostor,
    noCertSign,
    shouting,
    rsaLeaf: leaf(rsaRoot),
    rsaLeafUnderEcRoot: leaf(ecRoot),
    ecLeaf: leaf(rsaRoot, { key: undefined, keyType: 'ec256' }),
    rsa1024Leaf: leaf(rsaRoot, { key: undefined, keyType: 'rsa1024' }),
    multiRdnLeaf: leaf(rsaRoot, { subject: `/C=US/O=Acme Corp/OU=Macs/CN=${DEVICE}` }),
    multiValuedLeaf: leaf(rsaRoot, { subject: `/O=Acme/CN=${DEVICE}+UID=42` }),
    everyAttributeLeaf: leaf(rsaRoot, {
      subject: `/DC=com/DC=example/C=US/ST=CA/L=Cupertino/O=Acme/OU=Macs/title=Mac/SN=Smith/GN=Jo/serialNumber=A1/UID=42/emailAddress=it@example.com/CN=${DEVICE}`,
      keepEmailInSubject: true,
    }),
    punctuationLeaf: leaf(rsaRoot, { cn: "C02 ._@:/()'=?*!%&-Z" }),
    commaLeaf: leaf(rsaRoot, { cn: 'C02,PLAIN' }),
    umlautLeaf: leaf(rsaRoot, { cn: 'Gerät-1' }),
    generalizedTimeLeaf: leaf(rsaRoot, { notAfter: new Date('2051-03-04T05:06:07Z') }),
    sanLeaf: leaf(rsaRoot, { extraExtensions: ['subjectAltName = DNS:c02plain.macs.example.com'] }),
    crlLeaf: leaf(rsaRoot, { extraExtensions: ['crlDistributionPoints = URI:http://ca.example.com/root.crl'] }),
    noAkiLeaf: leaf(rsaRoot, { authorityKeyIdentifier: 'none' }),
    akiWithIssuerLeaf: leaf(rsaRoot, { authorityKeyIdentifier: 'keyid,issuer:always' }),
    forgedLeaf: leaf(impostor, { authorityKeyIdentifier: 'none' }),
    underNoCertSign: leaf(noCertSign),
  };
}, 120_000);

afterAll(() => factory?.cleanup());

const presented = (cert: MadeCertificate) => ParsedCertificate.parsePresented(cert.der, cert.fingerprint);
const full = (der: Buffer) => ParsedCertificate.parse(der, createHash('sha256').update(der).digest('hex'));

describe('a presented certificate read by the walk', () => {
  // [certificate, read by the walk (true) or by X509Certificate (false), subject as the verifier reads it]
  it.each([
    ['rsaLeaf', true, `CN=${DEVICE}`],
    ['rsaLeafUnderEcRoot', true, `CN=${DEVICE}`],
    ['rsa1024Leaf', true, `CN=${DEVICE}`],
    ['multiRdnLeaf', true, `C=US, O=Acme Corp, OU=Macs, CN=${DEVICE}`],
    ['multiValuedLeaf', true, `O=Acme, CN=${DEVICE} + UID=42`],
    [
      'everyAttributeLeaf',
      true,
      `DC=com, DC=example, C=US, ST=CA, L=Cupertino, O=Acme, OU=Macs, title=Mac, SN=Smith, GN=Jo, serialNumber=A1, UID=42, emailAddress=it@example.com, CN=${DEVICE}`,
    ],
    ['punctuationLeaf', true, "CN=C02 ._@:/()'=?*!%&-Z"],
    ['generalizedTimeLeaf', true, `CN=${DEVICE}`],
    ['sanLeaf', true, `CN=${DEVICE}`],
    ['noAkiLeaf', true, `CN=${DEVICE}`],
    ['forgedLeaf', true, `CN=${DEVICE}`],
    // an EC key: Node's reading (its key is not RSA)
    ['ecLeaf', false, `CN=${DEVICE}`],
    // names RFC 2253 escapes or that are not ASCII: Node prints them
    ['commaLeaf', false, 'CN=C02\\,PLAIN'],
    ['umlautLeaf', false, 'CN=Gerät-1'],
    // extensions OpenSSL decodes that the walk does not read, or a key identifier naming the issuer's issuer
    ['crlLeaf', false, `CN=${DEVICE}`],
    ['akiWithIssuerLeaf', false, `CN=${DEVICE}`],
  ])('%s: read by the walk: %s, with the names, dates and key X509Certificate reads', (name, byWalk, subject) => {
    const cert = c[name];
    const parsed = presented(cert);
    expect(parsed?.plain !== undefined).toBe(byWalk);
    expect(readingOf(parsed)).toEqual(readingOf(full(cert.der)));
    expect(parsed?.subject).toBe(subject);
  });

  it('reads the RSA key policy the same way: a 1024-bit device key is refused by name', () => {
    expect(presented(c.rsa1024Leaf)?.keyProblem).toBe('its RSA key has 1024 bits, fewer than the 2048 required');
  });

  it('reads a notAfter after 2049 (GeneralizedTime) to the second', () => {
    expect(presented(c.generalizedTimeLeaf)?.notAfter.toISOString()).toBe('2051-03-04T05:06:07.000Z');
  });
});

describe('the issuer check of a certificate read by the walk', () => {
  // [child, issuer, the walk's decision (undefined: OpenSSL decides), OpenSSL's checkIssued]
  it.each([
    ['rsaLeaf', 'rsaRoot', true, true],
    ['rsaLeafUnderEcRoot', 'ecRoot', true, true],
    ['noAkiLeaf', 'rsaRoot', true, true],
    // another CA's name: no
    ['rsaLeaf', 'ecRoot', false, false],
    ['rsaLeafUnderEcRoot', 'rsaRoot', false, false],
    // the configured root's name on another key, told apart by the key identifiers: OpenSSL decides (no)
    ['rsaLeaf', 'impostor', undefined, false],
    // a CA whose keyUsage does not allow certificate signing: OpenSSL decides (no)
    ['underNoCertSign', 'noCertSign', undefined, false],
    // the name in other letter case: one name to OpenSSL, other bytes to the walk, which leaves it to OpenSSL
    ['noAkiLeaf', 'shouting', undefined, true],
    // no key identifier to tell the impostor's certificate apart: the names decide, the signature will not verify
    ['forgedLeaf', 'rsaRoot', true, true],
  ])('%s by %s: the walk says %s, OpenSSL says %s', (childName, issuerName, byWalk, byOpenssl) => {
    const child = presented(c[childName])!;
    const issuer = full(c[issuerName].der)!;
    expect(child.plainIssuanceBy(issuer)).toBe(byWalk);
    expect(new X509Certificate(c[childName].der).checkIssued(new X509Certificate(c[issuerName].der))).toBe(byOpenssl);
  });

  it('checks the CA signature over the signed part as X509Certificate#verify does', () => {
    const genuine = presented(c.rsaLeaf)!;
    const forged = presented(c.forgedLeaf)!;
    const root = full(c.rsaRoot.der)!;
    expect([verifyPlainSignature(genuine.plain!, root.publicKey), genuine.x509.verify(root.publicKey)]).toEqual([true, true]);
    expect([verifyPlainSignature(forged.plain!, root.publicKey), forged.x509.verify(root.publicKey)]).toEqual([false, false]);
  });
});

describe('the verifier on certificates read by the walk', () => {
  const verify = (chain: MadeCertificate[], cas: MadeCertificate[]) =>
    new DeviceCertificateVerifier(cas.map((ca) => ca.pem), new Set()).verify(
      { way: 'MTLS', chainDer: chain.map((cert) => cert.der) },
      { deviceId: DEVICE, body: Buffer.from('{}'), now: NOW, maxClockSkewSeconds: 300 },
    );

  it('accepts a device certificate from the configured CA', () => {
    expect(verify([c.rsaLeaf], [c.rsaRoot]).violations).toEqual([]);
    expect(verify([c.rsaLeafUnderEcRoot], [c.rsaRoot, c.ecRoot]).violations).toEqual([]);
  });

  it("refuses a certificate signed by another key under the configured CA's name", () => {
    const result = verify([c.forgedLeaf], [c.rsaRoot]);
    expect(result.violations.map((violation) => violation.code)).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(result.violations[0].reasons).toEqual([
      `it does not chain to a configured device CA certificate (the signature of "CN=${DEVICE}" does not verify with the key of "CN=Plain Root")`,
    ]);
  });

  it('refuses the same forgery presented with the impostor as its intermediate', () => {
    const result = verify([c.forgedLeaf, c.impostor], [c.rsaRoot]);
    expect(result.violations.map((violation) => violation.code)).toEqual(['CLIENT_CERT_UNTRUSTED']);
  });
});

describe('one-octet changes of certificates read by the walk (seeded, deterministic)', () => {
  it('never reads one differently from X509Certificate, nor decides an issuer OpenSSL would not', () => {
    const corpus = [c.rsaLeaf, c.rsaLeafUnderEcRoot, c.multiValuedLeaf, c.sanLeaf];
    const issuers = ['rsaRoot', 'ecRoot', 'impostor', 'shouting'].map((name) => full(c[name].der)!);
    let readByWalk = 0;
    let decided = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: corpus.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (which, at, octet) => {
        const der = Buffer.from(corpus[which].der);
        der[at % der.length] = octet;
        const walked = ParsedCertificate.parsePresented(der, createHash('sha256').update(der).digest('hex'));
        if (!walked?.plain) return;
        readByWalk += 1;
        expect(readingOf(walked)).toEqual(readingOf(full(der)));
        for (const issuer of issuers) {
          const byWalk = walked.plainIssuanceBy(issuer);
          if (byWalk === undefined) continue;
          decided += 1;
          expect(byWalk).toBe(walked.x509.checkIssued(issuer.x509));
          if (byWalk) expect(verifyPlainSignature(walked.plain, issuer.publicKey)).toBe(walked.x509.verify(issuer.publicKey));
        }
      }),
      { seed: 5280, numRuns: 600 },
    );
    // most changes leave a certificate the walk reads, and an issuer it decides: the comparison is not vacuous
    expect(readByWalk).toBeGreaterThan(300);
    expect(decided).toBeGreaterThan(600);
  }, 60_000);
});

// ---- certificates rewritten as an attacker rewrites them ----

/** A DER element: constructed ones hold their elements, primitive ones (BIT and OCTET STRINGs too) their octets. */
interface Element {
  tag: number;
  content?: Buffer;
  elements?: Element[];
}

function decode(der: Buffer): Element[] {
  const elements: Element[] = [];
  for (let at = 0; at < der.length; ) {
    let length = der[at + 1];
    let start = at + 2;
    if (length & 0x80) {
      length = der.readUIntBE(start, length & 0x7f);
      start += der[at + 1] & 0x7f;
    }
    const body = der.subarray(start, start + length);
    elements.push(der[at] & 0x20 ? { tag: der[at], elements: decode(body) } : { tag: der[at], content: Buffer.from(body) });
    at = start + length;
  }
  return elements;
}

/** The element in DER, or with its length in `lengthOctets` long-form octets where DER would use fewer. */
function encode(element: Element, lengthOctets = 0): Buffer {
  const body = element.content ?? Buffer.concat(element.elements!.map((inner) => encode(inner)));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const needed = body.length < 0x80 ? 0 : Math.max(1, 4 - length.findIndex((octet) => octet !== 0));
  const octets = Math.max(needed, lengthOctets);
  const header = octets === 0 ? Buffer.from([element.tag, body.length]) : Buffer.concat([Buffer.from([element.tag, 0x80 | octets]), length.subarray(4 - octets)]);
  return Buffer.concat([header, body]);
}

/** The certificate with its signed part changed by `edit` and signed again by `issuer`, as a CA would sign it. */
function resignedBy(issuer: MadeCertificate, cert: MadeCertificate, edit: (tbs: Element) => void): Buffer {
  const [certificate] = decode(cert.der);
  const [tbs, , signature] = certificate.elements!;
  edit(tbs);
  signature.content = Buffer.concat([Buffer.from([0]), sign('sha256', encode(tbs), issuer.keyPem)]);
  return encode(certificate);
}

/** The extension with this OID (dotted form given as its DER contents, hex) in a signed part. */
function extensionOf(tbs: Element, oidHex: string): Element {
  const extensions = tbs.elements!.find((field) => field.tag === 0xa3)!.elements![0].elements!;
  return extensions.find((extension) => extension.elements![0].content!.toString('hex') === oidHex)!;
}

const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const P521_ORDER = BigInt(
  '0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
);

/** The certificate with its ECDSA signature (r, s) written as (r, n − s): as valid, with another fingerprint. */
function ecdsaTwin(der: Buffer, order: bigint): Buffer {
  const [certificate] = decode(der);
  const signature = certificate.elements![2];
  const [r, s] = decode(signature.content!.subarray(1))[0].elements!;
  const twinS = Buffer.from((order - BigInt(`0x${s.content!.toString('hex')}`)).toString(16).padStart(2 * s.content!.length + 2, '0'), 'hex');
  const first = twinS.findIndex((octet) => octet !== 0);
  s.content = twinS[first] >= 0x80 ? twinS.subarray(first - 1) : twinS.subarray(first);
  signature.content = Buffer.concat([Buffer.from([0]), encode({ tag: 0x30, elements: [r, s] })]);
  return encode(certificate);
}

const KEY_USAGE = '551d0f';
const EXT_KEY_USAGE = '551d25';

describe('certificates an attacker rewrites', () => {
  const verifier = (revoked: string[] = []) => new DeviceCertificateVerifier([c.rsaRoot.pem], new Set(revoked));
  const codesFor = (der: Buffer, revoked: string[] = []) =>
    verifier(revoked)
      .verify({ way: 'MTLS', chainDer: [der] }, { deviceId: DEVICE, body: Buffer.from('{}'), now: NOW, maxClockSkewSeconds: 300 })
      .violations.map((violation) => violation.code);

  // [what is rewritten outside the signed part, so that the revoked certificate gets another fingerprint]
  it.each([
    ['the certificate\'s length in three octets', (certificate: Element) => encode(certificate, 3)],
    ['the certificate\'s length in four octets', (certificate: Element) => encode(certificate, 4)],
    ['a NULL element after the certificate', (certificate: Element) => Buffer.concat([encode(certificate), Buffer.from('0500', 'hex')])],
    [
      'the signature\'s length in three octets',
      (certificate: Element) => {
        const [tbs, algorithm, signature] = certificate.elements!;
        return encode({ tag: 0x30, content: Buffer.concat([encode(tbs), encode(algorithm), encode(signature, 3)]) });
      },
    ],
  ])('a revoked device certificate with %s is still refused', (_what, rewrite) => {
    const rewritten = rewrite(decode(c.rsaLeaf.der)[0]);
    expect(rewritten.equals(c.rsaLeaf.der)).toBe(false);
    expect(codesFor(c.rsaLeaf.der, [c.rsaLeaf.fingerprint])).toEqual(['CLIENT_CERT_REVOKED']);
    expect(codesFor(rewritten, [c.rsaLeaf.fingerprint])).toEqual(['CLIENT_CERT_INVALID']);
    expect(ParsedCertificate.parsePresented(rewritten, createHash('sha256').update(rewritten).digest('hex'))).toBeUndefined();
  });

  // [what the CA signed, the verdict (as X509Certificate alone gives it)]
  it.each([
    ['a serial number with a redundant leading zero', (tbs: Element) => (tbs.elements![1].content = Buffer.from([0x00, 0x12])), ['CLIENT_CERT_INVALID']],
    [
      'a critical flag of two octets',
      (tbs: Element) => (extensionOf(tbs, KEY_USAGE).elements![1].content = Buffer.from([0x00, 0x01])),
      ['CLIENT_CERT_INVALID'],
    ],
    [
      'an extension OID with a padded arc',
      (tbs: Element) => (extensionOf(tbs, EXT_KEY_USAGE).elements![0].content = Buffer.from('55801d25', 'hex')),
      ['CLIENT_CERT_INVALID'],
    ],
    ['a keyUsage of no bits', (tbs: Element) => (extensionOf(tbs, KEY_USAGE).elements![2].content = Buffer.from('030100', 'hex')), ['CLIENT_CERT_UNTRUSTED']],
    [
      'a keyUsage whose only bit is past decipherOnly',
      (tbs: Element) => (extensionOf(tbs, KEY_USAGE).elements![2].content = Buffer.from('030400000080', 'hex')),
      ['CLIENT_CERT_UNTRUSTED'],
    ],
    [
      'clientAuth written with a padded arc',
      (tbs: Element) => (extensionOf(tbs, EXT_KEY_USAGE).elements![1].content = Buffer.from('300b06092b0601050507038002', 'hex')),
      ['CLIENT_CERT_UNTRUSTED'],
    ],
    [
      'a keyUsage of three octets',
      (tbs: Element) => (extensionOf(tbs, KEY_USAGE).elements![2].content = Buffer.from('030407800080', 'hex')),
      [],
    ],
    [
      'an extKeyUsage of no purpose',
      (tbs: Element) => (extensionOf(tbs, EXT_KEY_USAGE).elements![1].content = Buffer.from('3000', 'hex')),
      ['CLIENT_CERT_INVALID'],
    ],
    [
      'a subjectAltName DNS name holding a space',
      (tbs: Element) =>
        tbs.elements![7].elements![0].elements!.push({
          tag: 0x30,
          elements: [
            { tag: 0x06, content: Buffer.from('551d11', 'hex') },
            { tag: 0x04, content: Buffer.concat([Buffer.from('300b8209', 'hex'), Buffer.from('c02 plain')]) },
          ],
        }),
      [],
    ],
    [
      'its key in an OCTET STRING led by a zero octet, as a BIT STRING would be',
      (tbs: Element) => (tbs.elements![6].elements![1].tag = 0x04),
      ['CLIENT_CERT_INVALID'],
    ],
    [
      'an RSAPrivateKey where its public key belongs',
      (tbs: Element) =>
        (tbs.elements![6].elements![1].content = Buffer.concat([Buffer.from([0]), createPrivateKey(rsaKey.keyPem).export({ type: 'pkcs1', format: 'der' })])),
      ['CLIENT_CERT_INVALID'],
    ],
  ])('a device certificate with %s, signed by the configured CA, is judged as X509Certificate reads it', (_what, edit, codes) => {
    const rewritten = resignedBy(c.rsaRoot, c.rsaLeaf, edit);
    const fingerprint = createHash('sha256').update(rewritten).digest('hex');
    const walked = ParsedCertificate.parsePresented(rewritten, fingerprint);
    expect(walked?.plain).toBeUndefined();
    expect(readingOf(walked)).toEqual(readingOf(full(rewritten)));
    expect(codesFor(rewritten)).toEqual(codes);
  });

  // [the certificate whose PEM is written into the forgery's unsigned signature bits]
  it.each([
    ['a genuine device certificate of the CA', () => c.rsaLeaf],
    ['the CA certificate itself', () => c.rsaRoot],
  ])("a device certificate the CA never signed, carrying %s in its signature's bits, is refused", (_what, carried) => {
    const [certificate] = decode(c.forgedLeaf.der);
    const [tbs, , signature] = certificate.elements!;
    // the issuer's name in capitals: the configured CA's to OpenSSL, other bytes to the walk, which asks OpenSSL
    tbs.elements![3].elements!.at(-1)!.elements![0].elements![1].content = Buffer.from('PLAIN ROOT');
    signature.content = Buffer.concat([Buffer.from([0]), Buffer.from(`\n${carried().pem}\n`)]);
    const forged = encode(certificate);
    expect(new X509Certificate(forged).raw.equals(carried().der)).toBe(true); // what OpenSSL reads from those bytes
    expect(ParsedCertificate.parsePresented(forged, createHash('sha256').update(forged).digest('hex'))).toBeUndefined();
    expect(codesFor(forged)).toEqual(['CLIENT_CERT_INVALID']);
  });

  it('the twin of a revoked ECDSA-signed certificate whose signed part is not DER is refused as revoked', () => {
    // the CA signed an extension with an explicit critical FALSE (DER leaves a default out): the ASN.1 library would
    // re-encode the signed part without it, so its own twins are not this certificate's
    const issued = resignedBy(c.ecRoot, c.rsaLeafUnderEcRoot, (tbs) => extensionOf(tbs, EXT_KEY_USAGE).elements!.splice(1, 0, { tag: 0x01, content: Buffer.from([0]) }));
    const twin = ecdsaTwin(issued, P256_ORDER);
    expect(new X509Certificate(twin).verify(new X509Certificate(c.ecRoot.der).publicKey)).toBe(true);
    const revoked = [createHash('sha256').update(issued).digest('hex')];
    const verdict = (der: Buffer) =>
      new DeviceCertificateVerifier([c.ecRoot.pem], new Set(revoked))
        .verify({ way: 'MTLS', chainDer: [der] }, { deviceId: DEVICE, body: Buffer.from('{}'), now: NOW, maxClockSkewSeconds: 300 })
        .violations.map((violation) => violation.code);
    expect(verdict(issued)).toEqual(['CLIENT_CERT_REVOKED']);
    expect(verdict(twin)).toEqual(['CLIENT_CERT_REVOKED']);
  });

  // [the device certificate's notAfter as the CA wrote it: type and text; the verdict on 1 June 2026]
  it.each([
    ['UTCTime 50 (1950, not 2050)', 0x17, '500101000000Z', ['CLIENT_CERT_EXPIRED']],
    ['UTCTime 49 (2049)', 0x17, '490101000000Z', []],
    ['GeneralizedTime in 2049', 0x18, '20490101000000Z', []],
    ['GeneralizedTime in 1949', 0x18, '19491231235959Z', ['CLIENT_CERT_EXPIRED']],
    ['UTCTime with one digit too many', 0x17, '2701010000000Z', ['CLIENT_CERT_INVALID']],
    ['GeneralizedTime with a digit after the Z', 0x18, '20270101000000Z0', ['CLIENT_CERT_INVALID']],
    ['GeneralizedTime with one digit too many', 0x18, '202701010000000Z', ['CLIENT_CERT_INVALID']],
    ['UTCTime without its Z', 0x17, '270101000000', ['CLIENT_CERT_INVALID']],
    ['second 60', 0x17, '270101000060Z', ['CLIENT_CERT_INVALID']],
    ['minute 60', 0x17, '270101006000Z', ['CLIENT_CERT_INVALID']],
    ['hour 24', 0x17, '270101240000Z', ['CLIENT_CERT_INVALID']],
    ['30 February', 0x17, '270230000000Z', ['CLIENT_CERT_INVALID']],
    ['month 13', 0x17, '271301000000Z', ['CLIENT_CERT_INVALID']],
    ['29 February of a leap year', 0x17, '280229235959Z', []],
  ])('a notAfter written as %s is read as X509Certificate reads it', (_what, tag, text, codes) => {
    const rewritten = resignedBy(c.rsaRoot, c.rsaLeaf, (tbs) => (tbs.elements![4].elements![1] = { tag, content: Buffer.from(text, 'latin1') }));
    const walked = ParsedCertificate.parsePresented(rewritten, createHash('sha256').update(rewritten).digest('hex'));
    expect(readingOf(walked)).toEqual(readingOf(full(rewritten)));
    expect(codesFor(rewritten)).toEqual(codes);
  });

  it('a device certificate whose RSA public exponent is 1 (any text its own signature) is refused by the key policy', () => {
    const rewritten = resignedBy(c.rsaRoot, c.rsaLeaf, (tbs) => {
      const key = tbs.elements![6].elements![1];
      const [rsaPublicKey] = decode(key.content!.subarray(1));
      rsaPublicKey.elements![1].content = Buffer.from([1]);
      key.content = Buffer.concat([Buffer.from([0]), encode(rsaPublicKey)]);
    });
    const walked = ParsedCertificate.parsePresented(rewritten, createHash('sha256').update(rewritten).digest('hex'));
    expect(readingOf(walked)).toEqual(readingOf(full(rewritten)));
    expect(walked?.keyProblem).toBe('its RSA public exponent is 1, not an odd number of at least 3');
    expect(codesFor(rewritten)).toEqual(['CLIENT_CERT_INVALID']);
  });

  it('the twin of a revoked certificate from a configured CA on P-521 (stored before the key policy) is refused as revoked', () => {
    const p521Root = factory.makeRootCa({ cn: 'Plain P-521 Root', keyType: 'ec521', ...CA_VALID });
    const issued = factory.makeDeviceCertificate(p521Root, { cn: DEVICE, key: rsaKey, ...VALID });
    const twin = ecdsaTwin(issued.der, P521_ORDER);
    expect(new X509Certificate(twin).verify(new X509Certificate(p521Root.der).publicKey)).toBe(true);
    const verdict = (der: Buffer) =>
      new DeviceCertificateVerifier([p521Root.pem], new Set([issued.fingerprint]))
        .verify({ way: 'MTLS', chainDer: [der] }, { deviceId: DEVICE, body: Buffer.from('{}'), now: NOW, maxClockSkewSeconds: 300 })
        .violations.map((violation) => violation.code);
    expect(verdict(issued.der)).toEqual(['CLIENT_CERT_REVOKED']);
    expect(verdict(twin)).toEqual(['CLIENT_CERT_REVOKED']);
  });

  it('the rewriting itself changes nothing else: the same certificate signed again is read by the walk and accepted', () => {
    const same = resignedBy(c.rsaRoot, c.rsaLeaf, () => undefined);
    expect(ParsedCertificate.parsePresented(same, createHash('sha256').update(same).digest('hex'))?.plain).toBeDefined();
    expect(codesFor(same)).toEqual([]);
  });
});
