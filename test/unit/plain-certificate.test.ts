// A presented certificate written the plain way is read by the DER walk instead of Node's X509Certificate
// (lib/domain/plain-certificate.ts), and its issuer checked without OpenSSL's checkIssued. Both must change nothing a
// device or an attacker could notice: the same names, dates and key as X509Certificate reads, and an issuer decision
// only where OpenSSL's would be the same. Every certificate here is also read by X509Certificate and compared.
import { createHash, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParsedCertificate } from '../../lib/domain/certificate-path.ts';
import { DeviceCertificateVerifier } from '../../lib/domain/device-certificates.ts';
import { verifyPlainSignature } from '../../lib/domain/plain-certificate.ts';
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

/** What the verifier reads of a certificate, from either reading. */
function readingOf(cert: ParsedCertificate | undefined) {
  if (!cert) return undefined;
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    commonNames: cert.commonNames,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    keyProblem: cert.keyProblem,
    fingerprint: cert.fingerprint,
    key: cert.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'),
  };
}

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
