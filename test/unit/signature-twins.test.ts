// Unit tests: the signature-encoding twins of an ECDSA-signed certificate. A signature (r, s) is equally valid as
// (r, n − s), so anyone can present a revoked certificate as a byte-different twin with another SHA-256; revocation by
// fingerprint must find every twin. Certificates are written here byte by byte and signed for real with Node's
// ECDSA on every curve a CA may sign with (P-256, P-384, P-224, P-521, secp256k1, brainpool 256/384/512); the twins
// expected are written by this file's own encoder, for every curve order s is below, and compared byte for byte.
// Signatures at the edges (s of 0 or of a curve's order, a twin's s needing a leading zero, r and s of different
// lengths, a P-521 twin whose BIT STRING is 127 or 128 octets long) are written by hand on a real signed part.

import { createHash, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { candidateSignatureEncodingTwins, signatureEncodingTwins } from '../../lib/domain/certificate-extensions.ts';
import { ParsedCertificate } from '../../lib/domain/certificate-path.ts';
import { bytes, oid, sequence, set, tlv } from '../support/der.ts';

// ---- DER, written by hand ----

const NULL = bytes(0x05, 0x00);
/** A non-negative INTEGER's content octets: the shortest big-endian form, a leading zero when the high bit is set. */
const unsigned = (value: bigint) => {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (/^[89a-f]/.test(hex)) hex = `00${hex}`;
  return Buffer.from(hex, 'hex');
};
const integer = (contents: Uint8Array) => tlv(0x02, contents);
const bitString = (...contents: Uint8Array[]) => tlv(0x03, bytes(0), ...contents);
const algorithm = (id: string, ...parameters: Uint8Array[]) => sequence(oid(id), ...parameters);
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const nameOf = (cn: string) => sequence(set(sequence(oid('2.5.4.3'), utf8(cn))));

const ECDSA_WITH_SHA1 = '1.2.840.10045.4.1';
const ECDSA_WITH_SHA224 = '1.2.840.10045.4.3.1';
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
const ECDSA_WITH_SHA512 = '1.2.840.10045.4.3.4';
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const RSASSA_PSS = '1.2.840.113549.1.1.10';

/** The curves a CA may sign with: Node's name, the group order n (SEC 2, FIPS 186-4, RFC 5639), the hash and algorithm. */
const CURVES = [
  ['P-256', 'prime256v1', 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'sha256', ECDSA_WITH_SHA256],
  [
    'P-384',
    'secp384r1',
    'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
    'sha384',
    ECDSA_WITH_SHA384,
  ],
  ['P-224', 'secp224r1', 'ffffffffffffffffffffffffffff16a2e0b8f03e13dd29455c5c2a3d', 'sha224', ECDSA_WITH_SHA224],
  [
    'P-521',
    'secp521r1',
    '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
    'sha512',
    ECDSA_WITH_SHA512,
  ],
  ['secp256k1', 'secp256k1', 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', 'sha256', ECDSA_WITH_SHA256],
  ['brainpoolP256r1', 'brainpoolP256r1', 'a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7', 'sha256', ECDSA_WITH_SHA256],
  [
    'brainpoolP384r1',
    'brainpoolP384r1',
    '8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b31f166e6cac0425a7cf3ab6af6b7fc3103b883202e9046565',
    'sha384',
    ECDSA_WITH_SHA384,
  ],
  [
    'brainpoolP512r1',
    'brainpoolP512r1',
    'aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca70330870553e5c414ca92619418661197fac10471db1d381085ddaddb58796829ca90069',
    'sha512',
    ECDSA_WITH_SHA512,
  ],
] as const;
const ORDERS = CURVES.map(([, , order]) => BigInt(`0x${order}`));
const orderOf = (curve: string) => ORDERS[CURVES.findIndex(([name]) => name === curve)];
const P256_ORDER = orderOf('P-256');
const P521_ORDER = orderOf('P-521');

// ---- certificates ----

const TWIN_CA = nameOf('Twin Test CA');
/** A signed part: version 3, a CA's names and dates, the key, and the given extensions (already encoded). */
const tbsOf = (key: KeyObject, signatureAlgorithm: Uint8Array, extensions: Uint8Array[] = [], subject: Uint8Array = TWIN_CA) =>
  sequence(
    tlv(0xa0, integer(bytes(2))),
    integer(bytes(0x01, 0x23)),
    signatureAlgorithm,
    TWIN_CA,
    sequence(tlv(0x17, Buffer.from('260101000000Z')), tlv(0x17, Buffer.from('360101000000Z'))),
    subject,
    key.export({ type: 'spki', format: 'der' }),
    ...(extensions.length > 0 ? [tlv(0xa3, sequence(...extensions))] : []),
  );
const CA_TRUE = sequence(oid('2.5.29.19'), bytes(0x01, 0x01, 0xff), tlv(0x04, sequence(bytes(0x01, 0x01, 0xff))));
/** An extension no rule reads, its criticality written out as FALSE: BER, which the library re-encodes without it. */
const EXPLICIT_FALSE = sequence(oid('1.3.6.1.4.1.55738.666.4'), bytes(0x01, 0x01, 0x00), tlv(0x04, NULL));

/** The certificate of a signed part, its signature algorithm and an Ecdsa-Sig-Value of r's and s's content octets. */
const certificateOf = (tbs: Uint8Array, signatureAlgorithm: Uint8Array, r: Uint8Array, s: Uint8Array) =>
  sequence(tbs, signatureAlgorithm, bitString(sequence(integer(r), integer(s))));

interface Signed {
  der: Buffer;
  tbs: Buffer;
  signatureAlgorithm: Buffer;
  r: Buffer;
  s: bigint;
  publicKey: KeyObject;
}

/** Signs the signed part with a new key on the curve (Node's ECDSA, DER) and reads r and s back. */
function signed(curve: string, options: { parameters?: Uint8Array[]; extensions?: Uint8Array[]; subject?: Uint8Array } = {}): Signed {
  const [, nodeCurve, , hash, algorithmId] = CURVES.find(([name]) => name === curve)!;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: nodeCurve });
  const signatureAlgorithm = algorithm(algorithmId, ...(options.parameters ?? []));
  const tbs = tbsOf(publicKey, signatureAlgorithm, options.extensions ?? [CA_TRUE], options.subject);
  const value = sign(hash, tbs, { key: privateKey, dsaEncoding: 'der' });
  // SEQUENCE { INTEGER r, INTEGER s }, each under 128 octets
  const header = value[1] & 0x80 ? 3 : 2;
  const rLength = value[header + 1];
  const r = value.subarray(header + 2, header + 2 + rLength);
  const sContents = value.subarray(header + 2 + rLength + 2);
  const der = sequence(tbs, signatureAlgorithm, bitString(value));
  return { der, tbs, signatureAlgorithm, r, s: BigInt(`0x${sContents.toString('hex')}`), publicKey };
}

/** The twins this file expects: (r, n − s) for every curve order n above s, in the order of CURVES. */
const expectedTwins = (tbs: Uint8Array, signatureAlgorithm: Uint8Array, r: Uint8Array, s: bigint) =>
  ORDERS.filter((order) => s > 0n && s < order).map((order) => certificateOf(tbs, signatureAlgorithm, r, unsigned(order - s)));
const hex = (ders: readonly Uint8Array[] | undefined) => ders?.map((der) => Buffer.from(der).toString('hex'));
const fingerprint = (der: Uint8Array) => createHash('sha256').update(der).digest('hex');
const parsed = (der: Buffer) => {
  const certificate = ParsedCertificate.parse(der);
  expect(certificate).toBeDefined();
  return certificate!;
};
const verifiesWith = (der: Uint8Array, key: KeyObject) => new X509Certificate(Buffer.from(der)).verify(key);

describe('a certificate signed on each curve: its twins, and revocation under either encoding', () => {
  it.each(CURVES.map(([name]) => [name]))('a revoked %s certificate presented with its twin signature is still revoked', (curve) => {
    const certificate = signed(curve);
    const expected = expectedTwins(certificate.tbs, certificate.signatureAlgorithm, certificate.r, certificate.s);
    expect(hex(signatureEncodingTwins(certificate.der))).toEqual(hex(expected));
    expect(hex(candidateSignatureEncodingTwins(certificate.der))).toEqual(hex(expected));

    // one twin is a signature the key made: the one for the curve's own order
    const twin = certificateOf(certificate.tbs, certificate.signatureAlgorithm, certificate.r, unsigned(orderOf(curve) - certificate.s));
    expect(verifiesWith(certificate.der, certificate.publicKey)).toBe(true);
    expect(hex(expected.filter((der) => verifiesWith(der, certificate.publicKey)))).toEqual(hex([twin]));

    // revoked under its own fingerprint, presented as the twin; revoked as the twin, presented as itself
    expect(parsed(twin).isRevokedBy(new Set([fingerprint(certificate.der)]))).toBe(true);
    expect(parsed(certificate.der).isRevokedBy(new Set([fingerprint(twin)]))).toBe(true);
    const another = certificateOf(certificate.tbs, certificate.signatureAlgorithm, certificate.r, bytes(1));
    expect(parsed(certificate.der).isRevokedBy(new Set([fingerprint(another)]))).toBe(false);
    // the twin's twins hold the certificate itself
    expect(hex(signatureEncodingTwins(twin))).toContain(certificate.der.toString('hex'));
  });

  it('finds the twins of a certificate signed with ecdsa-with-SHA1 (its signature algorithm is ECDSA too)', () => {
    const certificate = signed('P-256');
    const tbs = tbsOf(certificate.publicKey, algorithm(ECDSA_WITH_SHA1));
    const der = certificateOf(tbs, algorithm(ECDSA_WITH_SHA1), certificate.r, unsigned(certificate.s));
    const expected = expectedTwins(tbs, algorithm(ECDSA_WITH_SHA1), certificate.r, certificate.s);
    expect(hex(signatureEncodingTwins(der))).toEqual(hex(expected));
    expect(hex(candidateSignatureEncodingTwins(der))).toEqual(hex(expected));
  });
});

describe('signatures at the edges, written on a real signed part', () => {
  const signedOnP521 = () => signed('P-521');
  const signedOnP256 = () => signed('P-256');
  /** The s whose P-256 twin has this s. */
  const forP256Twin = (twinS: bigint) => P256_ORDER - twinS;

  // Columns: the case, the curve signed on, r's content octets, s, the number of twins (the twins themselves are compared byte for byte).
  it.each([
    ['s of 0 (no curve has a twin)', signedOnP256, bytes(0x11), 0n, 0],
    ['s of 1 (every curve has one, n − 1 on each)', signedOnP256, bytes(0x11), 1n, 8],
    ['s of exactly the P-256 order (no twin on P-256 or below it)', signedOnP256, bytes(0x11), P256_ORDER, 5],
    ['s of one below the P-256 order (the P-256 twin\'s s is 1)', signedOnP256, bytes(0x11), P256_ORDER - 1n, 6],
    ['s of one above the P-256 order', signedOnP256, bytes(0x11), P256_ORDER + 1n, 5],
    ['s of exactly the P-521 order (above every curve)', signedOnP521, bytes(0x11), P521_ORDER, 0],
    ['s of one below the P-521 order', signedOnP521, bytes(0x11), P521_ORDER - 1n, 1],
    // the P-256 twin's s starts with the octet 0x80: it needs a leading zero; with 0x7f it does not
    ['a P-256 twin s of 0x80 then 31 zero octets', signedOnP256, bytes(0x11), forP256Twin(0x80n << 248n), 7],
    ['a P-256 twin s of 0x7f then 31 0xff octets', signedOnP256, bytes(0x11), forP256Twin((0x80n << 248n) - 1n), 7],
    ['a P-256 twin s of one octet 0x80', signedOnP256, bytes(0x11), forP256Twin(0x80n), 6],
    ['r of one octet and s of 32', signedOnP256, bytes(0x01), forP256Twin(0x1234n), 6],
    ['r with a leading zero, s of one octet', signedOnP256, bytes(0x00, 0xc0, ...Array(31).fill(0x22)), 0x42n, 8],
    // a P-521 twin's s of 66 octets (n − a small s): r of 54, 55, 57 and 58 octets puts its BIT STRING at 127 and
    // 128 octets (a length in the short form, then in the long form), and its SEQUENCE at 127 and 128 octets
    ['a P-521 twin whose BIT STRING is 127 octets', signedOnP521, Buffer.alloc(54, 0x33), 5n, 8],
    ['a P-521 twin whose BIT STRING is 128 octets', signedOnP521, Buffer.alloc(55, 0x33), 5n, 8],
    ['a P-521 twin whose Ecdsa-Sig-Value holds 127 octets', signedOnP521, Buffer.alloc(57, 0x33), 5n, 8],
    ['a P-521 twin whose Ecdsa-Sig-Value holds 128 octets', signedOnP521, Buffer.alloc(58, 0x33), 5n, 8],
  ] as Array<[string, () => Signed, Buffer, bigint, number]>)('%s', (_name, make, r, s, count) => {
    const { tbs, signatureAlgorithm } = make();
    const der = certificateOf(tbs, signatureAlgorithm, r, unsigned(s));
    const expected = expectedTwins(tbs, signatureAlgorithm, r, s);
    expect(expected).toHaveLength(count);
    expect(hex(signatureEncodingTwins(der))).toEqual(hex(expected));
    expect(hex(candidateSignatureEncodingTwins(der))).toEqual(hex(expected));
  });

  it('writes the P-521 twin\'s BIT STRING of 128 octets with its length in the long form', () => {
    const { tbs, signatureAlgorithm } = signedOnP521();
    const der = certificateOf(tbs, signatureAlgorithm, Buffer.alloc(55, 0x33), unsigned(5n));
    const twin = signatureEncodingTwins(der).find((candidate) => candidate.length === tbs.length + signatureAlgorithm.length + 3 + 4 + 128);
    const signatureAt = tbs.length + signatureAlgorithm.length + 4;
    expect(twin?.subarray(signatureAt, signatureAt + 3).toString('hex')).toBe('038180');
  });

  it('gives no twins, and does not throw, for an s of no octets at all', () => {
    const { tbs, signatureAlgorithm } = signedOnP256();
    const der = sequence(tbs, signatureAlgorithm, bitString(sequence(integer(bytes(0x11)), bytes(0x02, 0x00))));
    expect(signatureEncodingTwins(der)).toEqual([]);
    expect(candidateSignatureEncodingTwins(der)).toEqual([]);
  });
});

describe('a signed part that is not the library\'s own encoding: the twins found by the walk', () => {
  // Columns: the case, how the certificate differs from DER. Signed for real on P-256.
  it.each([
    ['an extension\'s criticality written out as FALSE', { extensions: [CA_TRUE, EXPLICIT_FALSE] }],
    ['a long-form length in the subject', { subject: Buffer.concat([bytes(0x30, 0x81), nameOf('Twin Test CA').subarray(1)]) }],
    ['NULL parameters in both signature algorithms and a FALSE written out', { parameters: [NULL], extensions: [CA_TRUE, EXPLICIT_FALSE] }],
  ] as Array<[string, Parameters<typeof signed>[1]]>)('a revoked certificate with %s is revoked as its twin too', (_name, options) => {
    const certificate = signed('P-256', options);
    const expected = expectedTwins(certificate.tbs, certificate.signatureAlgorithm, certificate.r, certificate.s);
    const twin = certificateOf(certificate.tbs, certificate.signatureAlgorithm, certificate.r, unsigned(P256_ORDER - certificate.s));
    expect(verifiesWith(twin, certificate.publicKey)).toBe(true);
    // the library's twins are none (it would write other bytes); the walk's are all of them
    expect(signatureEncodingTwins(certificate.der)).toEqual([]);
    expect(hex(candidateSignatureEncodingTwins(certificate.der))).toEqual(hex(expected));
    expect(parsed(twin).isRevokedBy(new Set([fingerprint(certificate.der)]))).toBe(true);
    expect(parsed(certificate.der).isRevokedBy(new Set([fingerprint(twin)]))).toBe(true);
  });

  it('reads NULL or OBJECT IDENTIFIER parameters of an ECDSA signature algorithm as the library does (twins from either)', () => {
    // the last OID's arc 16384 is written 0x81 0x80 0x00: a 0x80 octet inside an arc, minimally encoded
    for (const parameters of [[NULL], [oid('1.2.840.10045.3.1.7')], [oid('1.3.6.1.4.1.16384.1')]]) {
      const certificate = signed('P-256', { parameters });
      const expected = expectedTwins(certificate.tbs, certificate.signatureAlgorithm, certificate.r, certificate.s);
      expect(hex(signatureEncodingTwins(certificate.der))).toEqual(hex(expected));
      expect(hex(candidateSignatureEncodingTwins(certificate.der))).toEqual(hex(expected));
    }
  });

  it('finds the twins by the library when the walk does not read the signature algorithm (SEQUENCE parameters)', () => {
    const certificate = signed('P-256', { parameters: [sequence()] });
    const expected = expectedTwins(certificate.tbs, certificate.signatureAlgorithm, certificate.r, certificate.s);
    expect(candidateSignatureEncodingTwins(certificate.der)).toBeUndefined();
    expect(hex(signatureEncodingTwins(certificate.der))).toEqual(hex(expected));
    const twin = certificateOf(certificate.tbs, certificate.signatureAlgorithm, certificate.r, unsigned(P256_ORDER - certificate.s));
    expect(parsed(twin).isRevokedBy(new Set([fingerprint(certificate.der)]))).toBe(true);
  });
});

describe('certificates with no twins, and signatures the walk does not read', () => {
  const ecdsaSignature = bitString(sequence(integer(bytes(0x11)), integer(bytes(0x22))));
  const rsaTbs = () => tbsOf(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, algorithm(SHA256_WITH_RSA, NULL));

  it('gives an RSA-signed certificate no twins, even one whose signed part the library cannot read', () => {
    const rsa = sequence(rsaTbs(), algorithm(SHA256_WITH_RSA, NULL), bitString(Buffer.alloc(256, 0x5a)));
    expect(signatureEncodingTwins(rsa)).toEqual([]);
    expect(candidateSignatureEncodingTwins(rsa)).toEqual([]);
    // the signature bits hold an Ecdsa-Sig-Value: still RSA, still no twins
    const shaped = sequence(rsaTbs(), algorithm(SHA256_WITH_RSA, NULL), ecdsaSignature);
    expect(signatureEncodingTwins(shaped)).toEqual([]);
    expect(candidateSignatureEncodingTwins(shaped)).toEqual([]);
    const unreadable = sequence(sequence(integer(bytes(1))), algorithm(SHA256_WITH_RSA, NULL), ecdsaSignature);
    expect(signatureEncodingTwins(unreadable)).toEqual([]);
    expect(candidateSignatureEncodingTwins(unreadable)).toEqual([]);
  });

  it('gives an RSASSA-PSS certificate (parameters the walk leaves to the library) no twins', () => {
    const pss = algorithm(RSASSA_PSS, sequence(tlv(0xa0, algorithm('2.16.840.1.101.3.4.2.1', NULL))));
    const der = sequence(tbsOf(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, pss), pss, ecdsaSignature);
    expect(signatureEncodingTwins(der)).toEqual([]);
    expect(candidateSignatureEncodingTwins(der)).toBeUndefined();
  });

  // Columns: the case, the certificate's bytes from a real signed part (P-256): the walk cannot read its signature
  // the library's way, so revocation falls back on the library's twins.
  const withSignature = (signature: Uint8Array) => {
    const { tbs, signatureAlgorithm } = signed('P-256');
    return sequence(tbs, signatureAlgorithm, signature);
  };
  const r = integer(bytes(0x11));
  const s = integer(bytes(0x22));
  it.each([
    ['no certificate at all', () => NULL],
    ['a byte after the certificate', () => Buffer.concat([withSignature(bitString(sequence(r, s))), bytes(0)])],
    ['a NULL after the certificate', () => Buffer.concat([withSignature(bitString(sequence(r, s))), NULL])],
    ['a SET around the certificate', () => Buffer.concat([bytes(0x31), withSignature(bitString(sequence(r, s))).subarray(1)])],
    ['no signature', () => sequence(signed('P-256').tbs, algorithm(ECDSA_WITH_SHA256))],
    ['a fourth part', () => sequence(signed('P-256').tbs, algorithm(ECDSA_WITH_SHA256), bitString(sequence(r, s)), NULL)],
    ['an OCTET STRING for the signature', () => withSignature(tlv(0x04, bytes(0), sequence(r, s)))],
    ['an empty BIT STRING', () => withSignature(bytes(0x03, 0x00))],
    ['a BIT STRING of its unused-bits octet alone', () => withSignature(bitString())],
    ['an empty Ecdsa-Sig-Value', () => withSignature(bitString(sequence()))],
    ['an Ecdsa-Sig-Value of r alone', () => withSignature(bitString(sequence(r)))],
    ['a BIT STRING with an unused bit', () => withSignature(tlv(0x03, bytes(1), sequence(r, s)))],
    ['a BIT STRING holding a SET', () => withSignature(bitString(set(r, s)))],
    ['a byte after the Ecdsa-Sig-Value', () => withSignature(bitString(sequence(r, s), bytes(0)))],
    ['a NULL after the Ecdsa-Sig-Value', () => withSignature(bitString(sequence(r, s), NULL))],
    ['r written as an OCTET STRING', () => withSignature(bitString(sequence(tlv(0x04, bytes(0x11)), s)))],
    ['s written as an OCTET STRING', () => withSignature(bitString(sequence(r, tlv(0x04, bytes(0x22)))))],
    ['a third INTEGER', () => withSignature(bitString(sequence(r, s, integer(bytes(0x33)))))],
  ] as Array<[string, () => Buffer]>)('does not read a signature of %s', (_name, make) => {
    expect(candidateSignatureEncodingTwins(make())).toBeUndefined();
  });
});
