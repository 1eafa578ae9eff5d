// Which shapes of certificate the DER walk (lib/domain/plain-certificate.ts) reads, condition by condition: for each
// condition a certificate just inside it (read by the walk, with the fields X509Certificate reads) and one just outside
// (declined, and then read by X509Certificate as before). And a verdict oracle: structural edits of a plain device
// certificate and of a plain intermediate, each signed again by its CA, judged by the verifier once with the walk and
// once with X509Certificate's reading alone, must get the same verdict and identity. Every certificate here is
// written by the small DER writer below and signed with node:crypto, so the file needs no openssl and stays fast.
import { createHash, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParsedCertificate } from '../../lib/domain/certificate-path.ts';
import { DeviceCertificateVerifier } from '../../lib/domain/device-certificates.ts';
import {
  plainIssuance,
  readPlainCertificate,
  readPlainIssuer,
  verifyPlainSignature,
  type PlainCertificate,
} from '../../lib/domain/plain-certificate.ts';
import { readingOf } from '../support/certificate-reading.ts';
import { oidContents } from '../support/der.ts';

const DEVICE = 'C02SHAPES';
const ROOT_CN = 'Shapes Root';
const INTERMEDIATE_CN = 'Shapes Intermediate';
const NOW = new Date('2026-06-01T12:00:00Z');

// ---- a small DER writer ----

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** A length in its shortest form, or in `octets` long-form octets where DER would use fewer. */
function lengthOctets(length: number, octets = 0): Buffer {
  if (length < 0x80 && octets === 0) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  while (bytes.length < octets) bytes.unshift(0);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One DER element: its tag, its length in the shortest form, its contents. */
function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), lengthOctets(body.length), body]);
}

/** The same element with its length written in `octets` long-form octets (not DER). */
function longForm(element: Buffer, octets = 2): Buffer {
  const headerLength = element[1] & 0x80 ? 2 + (element[1] & 0x7f) : 2;
  const body = element.subarray(headerLength);
  return Buffer.concat([Buffer.from([element[0]]), lengthOctets(body.length, octets), body]);
}

const seq = (...elements: Uint8Array[]) => tlv(0x30, ...elements);
const set = (...elements: Uint8Array[]) => tlv(0x31, ...elements);
const octetString = (...contents: Uint8Array[]) => tlv(0x04, ...contents);
const bitString = (...contents: Uint8Array[]) => tlv(0x03, Buffer.from([0]), ...contents);
const integer = (hexText: string) => tlv(0x02, hex(hexText));
const TRUE = hex('0101ff');


const oid = (dotted: string) => tlv(0x06, oidContents(dotted));

const STRING = { utf8: 0x0c, printable: 0x13, t61: 0x14, ia5: 0x16, bmp: 0x1e } as const;

/** An attribute of a Name; BMPString text is written in UTF-16BE. */
function attribute(type: string, text: string, tag: number = STRING.utf8): Buffer {
  const value = tag === STRING.bmp ? Buffer.from(text, 'utf16le').swap16() : Buffer.from(text, 'latin1');
  return seq(oid(type), tlv(tag, value));
}

const CN = '2.5.4.3';
const O = '2.5.4.10';
const UID = '0.9.2342.19200300.100.1.1';

/** A Name of one RDN per attribute given. */
const nameOf = (...attributes: Buffer[]) => seq(...attributes.map((one) => set(one)));
const cnName = (text: string, tag: number = STRING.utf8) => nameOf(attribute(CN, text, tag));
/** A Name of one common name whose RDN's length is written in two long-form octets (not DER). */
const longFormCnName = (text: string) => seq(longForm(set(attribute(CN, text)), 2));

const utcTime = (text: string) => tlv(0x17, Buffer.from(text, 'latin1'));
const generalizedTime = (text: string) => tlv(0x18, Buffer.from(text, 'latin1'));

const ALGORITHM = {
  sha256Rsa: hex('300d06092a864886f70d01010b0500'),
  sha384Rsa: hex('300d06092a864886f70d01010c0500'),
  sha512Rsa: hex('300d06092a864886f70d01010d0500'),
  sha256Ecdsa: hex('300a06082a8648ce3d040302'),
  sha384Ecdsa: hex('300a06082a8648ce3d040303'),
  sha512Ecdsa: hex('300a06082a8648ce3d040304'),
  sha1Rsa: hex('300d06092a864886f70d0101050500'),
  sha256RsaWithoutNull: hex('300b06092a864886f70d01010b'),
  sha256EcdsaWithNull: hex('300c06082a8648ce3d0403020500'),
} as const;

const HASH_OF: Record<string, string> = {
  [ALGORITHM.sha256Rsa.toString('hex')]: 'sha256',
  [ALGORITHM.sha384Rsa.toString('hex')]: 'sha384',
  [ALGORITHM.sha512Rsa.toString('hex')]: 'sha512',
  [ALGORITHM.sha256Ecdsa.toString('hex')]: 'sha256',
  [ALGORITHM.sha384Ecdsa.toString('hex')]: 'sha384',
  [ALGORITHM.sha512Ecdsa.toString('hex')]: 'sha512',
  [ALGORITHM.sha1Rsa.toString('hex')]: 'sha1',
};

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  policyConstraints: '2.5.29.36',
  authorityKeyIdentifier: '2.5.29.35',
  subjectKeyIdentifier: '2.5.29.14',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  crlDistributionPoints: '2.5.29.31',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** One extension: its OID element, its critical flag element (absent: not written), its value's DER. */
interface Extension {
  id: Buffer;
  critical?: Buffer;
  value: Buffer;
}

const extension = (dotted: string, value: Buffer, critical = false): Extension => ({
  id: oid(dotted),
  critical: critical ? TRUE : undefined,
  value,
});
const encodeExtension = (ext: Extension) => seq(ext.id, ...(ext.critical ? [ext.critical] : []), octetString(ext.value));

/** The parts of a certificate, each an element as written (so that a row can write any part another way). */
interface Fields {
  version?: Buffer | null;
  serial: Buffer;
  algorithm: Buffer;
  outerAlgorithm?: Buffer;
  issuer: Buffer;
  notBefore: Buffer;
  notAfter: Buffer;
  validity?: Buffer;
  subject: Buffer;
  spki: Buffer;
  /** Written between the key and the extensions: issuerUniqueID, subjectUniqueID. */
  uniqueIds?: Buffer[];
  extensions: Extension[];
  /** The [3] element as written, in place of the one made from `extensions` (null: none). */
  extensionsField?: Buffer | null;
  /** Each part of the signed part by its index, rewritten (a long-form length, say) after it is made. */
  rewrite?: (part: Buffer, index: number) => Buffer;
  signer: KeyObject;
  /** The signature BIT STRING element as written, in place of the signature over the signed part. */
  signatureValue?: Buffer;
  /** Elements after the signature, inside the Certificate. */
  afterSignature?: Buffer[];
  /** Octets after the Certificate. */
  trailing?: Buffer;
}

/** The certificate written from its parts, its signed part signed by `signer` with the outer algorithm's hash. */
function issue(fields: Fields): Buffer {
  const validity = fields.validity ?? seq(fields.notBefore, fields.notAfter);
  const extensions =
    fields.extensionsField === undefined ? tlv(0xa3, seq(...fields.extensions.map(encodeExtension))) : fields.extensionsField;
  const parts = [
    fields.version === undefined ? hex('a003020102') : fields.version,
    fields.serial,
    fields.algorithm,
    fields.issuer,
    validity,
    fields.subject,
    fields.spki,
    ...(fields.uniqueIds ?? []),
    extensions,
  ].filter((part): part is Buffer => part !== null);
  const tbs = seq(...parts.map((part, index) => (fields.rewrite ? fields.rewrite(part, index) : part)));
  const outer = fields.outerAlgorithm ?? fields.algorithm;
  const hash = HASH_OF[outer.toString('hex')] ?? 'sha256';
  const signatureValue = fields.signatureValue ?? bitString(sign(hash, tbs, fields.signer));
  return Buffer.concat([seq(tbs, outer, signatureValue, ...(fields.afterSignature ?? [])), fields.trailing ?? Buffer.alloc(0)]);
}

// ---- the keys and the certificates every row starts from ----

interface Keys {
  privateKey: KeyObject;
  spki: Buffer;
  /** RSAPublicKey (PKCS#1) of an RSA key. */
  pkcs1: Buffer;
}

let root: Keys;
let intermediate: Keys;
let device: Keys;
let ecRoot: Keys;
let rootDer: Buffer;
let intermediateDer: Buffer;
let ecRootDer: Buffer;

const ROOT_KEY_ID = Buffer.alloc(20, 0x11);
const INTERMEDIATE_KEY_ID = Buffer.alloc(20, 0x22);
const DEVICE_KEY_ID = Buffer.alloc(20, 0x33);

function rsaKeys(): Keys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, spki: publicKey.export({ type: 'spki', format: 'der' }), pkcs1: publicKey.export({ type: 'pkcs1', format: 'der' }) };
}

/** An SPKI of rsaEncryption holding `rsaPublicKey` (its contents as written) in its BIT STRING. */
const rsaSpki = (rsaPublicKey: Buffer) => seq(hex('300d06092a864886f70d0101010500'), bitString(rsaPublicKey));

/** The device key's RSAPublicKey with its modulus and exponent as written. */
function rsaPublicKeyWith(rewrite: (modulus: Buffer, exponent: Buffer) => Buffer[]): Buffer {
  const modulus = device.pkcs1.subarray(device.pkcs1.indexOf(0x02, 2));
  const modulusElement = modulus.subarray(0, 4 + modulus.readUInt16BE(2));
  const exponentElement = modulus.subarray(modulusElement.length);
  return seq(...rewrite(modulusElement, exponentElement));
}

/** The device key's modulus cut to its first 128 octets: an RSAPublicKey of 1024 bits. */
const key1024 = () => rsaPublicKeyWith((modulus, exponent) => [Buffer.concat([hex('02818100'), modulus.subarray(5, 133)]), exponent]);
const keyWithExponent3 = () => rsaPublicKeyWith((modulus) => [modulus, integer('03')]);

const caExtensions = (keyId: Buffer, authorityKeyId?: Buffer): Extension[] => [
  extension(OID.basicConstraints, hex('30030101ff'), true),
  extension(OID.keyUsage, hex('03020106'), true),
  extension(OID.subjectKeyIdentifier, octetString(keyId)),
  ...(authorityKeyId ? [extension(OID.authorityKeyIdentifier, seq(tlv(0x80, authorityKeyId)))] : []),
];

/** The root's extensions with the one of this OID replaced. */
const caExtensionsWith = (dotted: string, replacement: Extension) =>
  caExtensions(ROOT_KEY_ID).map((one) => (one.id.equals(oid(dotted)) ? replacement : one));

/** A CA certificate's parts: self-signed by the root's key unless other parts are given. */
function caFields(overrides: Partial<Fields> = {}): Fields {
  return {
    serial: integer('01'),
    algorithm: ALGORITHM.sha256Rsa,
    issuer: cnName(ROOT_CN),
    notBefore: utcTime('250101000000Z'),
    notAfter: utcTime('350101000000Z'),
    subject: cnName(ROOT_CN),
    spki: root.spki,
    extensions: caExtensions(ROOT_KEY_ID),
    signer: root.privateKey,
    ...overrides,
  };
}

/** The device certificate's parts, issued by the root unless other parts are given. */
function leafFields(overrides: Partial<Fields> = {}): Fields {
  return {
    serial: integer('1a2b3c'),
    algorithm: ALGORITHM.sha256Rsa,
    issuer: cnName(ROOT_CN),
    notBefore: utcTime('260101000000Z'),
    notAfter: utcTime('270101000000Z'),
    subject: cnName(DEVICE),
    spki: device.spki,
    extensions: [
      extension(OID.basicConstraints, hex('3000'), true),
      extension(OID.keyUsage, hex('03020780'), true),
      extension(OID.extKeyUsage, seq(oid(OID.clientAuth))),
      extension(OID.subjectKeyIdentifier, octetString(DEVICE_KEY_ID)),
      extension(OID.authorityKeyIdentifier, seq(tlv(0x80, ROOT_KEY_ID))),
    ],
    signer: root.privateKey,
    ...overrides,
  };
}

/** The device certificate with its extension of this OID replaced by `replacement` (removed when there is none). */
function withExtension(dotted: string, ...replacement: Extension[]): Partial<Fields> {
  const fields = leafFields();
  const at = fields.extensions.findIndex((one) => one.id.equals(oid(dotted)));
  const extensions = [...fields.extensions];
  if (at >= 0) extensions.splice(at, 1, ...replacement);
  else extensions.push(...replacement);
  return { extensions };
}

const withValue = (dotted: string, value: Buffer, critical = false) => withExtension(dotted, extension(dotted, value, critical));
const withSan = (...names: Buffer[]) => withValue(OID.subjectAltName, seq(...names));
const withPurposes = (...purposes: Buffer[]) => withValue(OID.extKeyUsage, seq(...purposes));

beforeAll(() => {
  root = rsaKeys();
  intermediate = rsaKeys();
  device = rsaKeys();
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  ecRoot = { privateKey: ec.privateKey, spki: ec.publicKey.export({ type: 'spki', format: 'der' }), pkcs1: Buffer.alloc(0) };
  rootDer = issue(caFields());
  intermediateDer = issue(
    caFields({ subject: cnName(INTERMEDIATE_CN), spki: intermediate.spki, extensions: caExtensions(INTERMEDIATE_KEY_ID, ROOT_KEY_ID) }),
  );
  const ecName = cnName('Shapes EC Root');
  ecRootDer = issue(
    caFields({ issuer: ecName, subject: ecName, spki: ecRoot.spki, signer: ecRoot.privateKey, algorithm: ALGORITHM.sha256Ecdsa }),
  );
}, 30_000);

// ---- the two readings ----

const fingerprintOf = (der: Buffer) => createHash('sha256').update(der).digest('hex');
const presented = (der: Buffer) => ParsedCertificate.parsePresented(der, fingerprintOf(der));
const full = (der: Buffer) => ParsedCertificate.parse(der, fingerprintOf(der));

/** The walk's reading, as a row states it. */
function viewOf(plain: PlainCertificate) {
  return {
    subjectText: plain.subjectText,
    issuerText: plain.issuerText,
    commonNames: plain.commonNames,
    notBefore: plain.notBefore.toISOString(),
    notAfter: plain.notAfter.toISOString(),
    hash: plain.signature.hash,
    keyType: plain.signature.keyType,
    authorityKeyId: plain.authorityKeyId && Buffer.from(plain.authorityKeyId).toString('hex'),
    rsaPublicKey: Buffer.from(plain.rsaPublicKey).toString('hex'),
  };
}

/** What a plain device certificate made by leafFields() reads as. */
function defaultView() {
  return {
    subjectText: `CN=${DEVICE}`,
    issuerText: `CN=${ROOT_CN}`,
    commonNames: [DEVICE],
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: '2027-01-01T00:00:00.000Z',
    hash: 'sha256',
    keyType: 'rsa',
    authorityKeyId: ROOT_KEY_ID.toString('hex'),
    rsaPublicKey: device.pkcs1.toString('hex'),
  };
}

type View = Partial<ReturnType<typeof defaultView>>;
type Row = [what: string, parts: () => Partial<Fields>, reading: View | (() => View) | 'declined', x509Reads: boolean];

/**
 * Each row: the device certificate with some parts written another way; the walk's reading (the fields that differ
 * from a plain device certificate's) or 'declined'; whether X509Certificate reads it. Either way the verifier's
 * reading through parsePresented is X509Certificate's.
 */
function checkRow(parts: () => Partial<Fields>, reading: Row[2], x509Reads: boolean): void {
  const der = issue(leafFields(parts()));
  const plain = readPlainCertificate(der);
  if (reading === 'declined') expect(plain).toBeUndefined();
  else expect(plain && viewOf(plain)).toEqual({ ...defaultView(), ...(typeof reading === 'function' ? reading() : reading) });
  const walked = presented(der);
  expect(walked?.plain !== undefined, 'whether parsePresented reads it by the walk').toBe(reading !== 'declined');
  const byX509 = full(der);
  expect(byX509 !== undefined, 'whether X509Certificate reads it').toBe(x509Reads);
  expect(readingOf(walked)).toEqual(readingOf(byX509));
}

const shapes = (rows: Row[]) =>
  it.each(rows)('%s', (_what, parts, reading, x509Reads) => {
    checkRow(parts, reading, x509Reads);
  });

// ---- part 1: the shapes the walk reads ----

/** nameConstraints permitting dNSName example.com. */
const PERMITTED_EXAMPLE_COM = seq(tlv(0xa0, seq(tlv(0x82, Buffer.from('example.com')))));
/** A SEQUENCE of zero octets, `total` octets long with its header. */
function sequenceOfLength(total: number): Buffer {
  for (let contents = total - 2; contents >= 0; contents -= 1) {
    const sequence = seq(Buffer.alloc(contents));
    if (sequence.length === total) return sequence;
  }
  throw new RangeError(`no SEQUENCE is ${total} octets long`);
}

const TIME_TYPES: Record<number, string> = { 0x17: 'UTCTime', 0x18: 'GeneralizedTime' };
/** An authorityKeyIdentifier's authorityCertIssuer and authorityCertSerialNumber. */
const issuerAndSerial = () => [tlv(0xa1, tlv(0xa4, cnName(ROOT_CN))), tlv(0x82, hex('01'))];

describe('the shapes of certificate the walk reads', () => {
  it('a device certificate written the plain way is read, with its key identifier and signature', () => {
    const der = issue(leafFields());
    const plain = readPlainCertificate(der)!;
    expect(viewOf(plain)).toEqual(defaultView());
    expect(Buffer.from(plain.signedPart).equals(der.subarray(4, 4 + plain.signedPart.length))).toBe(true);
    expect(Buffer.from(plain.issuerName).equals(cnName(ROOT_CN))).toBe(true);
    expect(verifyPlainSignature(plain, new X509Certificate(rootDer).publicKey)).toBe(true);
    expect(readingOf(presented(der))).toEqual(readingOf(full(der)));
  });

  describe('the certificate around the signed part', () => {
    shapes([
      [
        'trailing octets after the certificate are declined (and refused by X509Certificate)',
        () => ({ trailing: hex('00') }),
        'declined',
        false,
      ],
      [
        'a whole element (a NULL) after the certificate is declined (and refused by X509Certificate)',
        () => ({ trailing: hex('0500') }),
        'declined',
        false,
      ],
      ['an element after the signature is declined', () => ({ afterSignature: [hex('0500')] }), 'declined', false],
      [
        'a signature of one octet after the unused-bits octet is read (it will not verify)',
        () => ({ signatureValue: hex('03020001') }),
        {},
        true,
      ],
      ['a signature BIT STRING of the unused-bits octet alone is declined', () => ({ signatureValue: hex('030100') }), 'declined', true],
      ['a signature with unused bits is declined', () => ({ signatureValue: hex('0302070080') }), 'declined', false],
      ['a signature in an OCTET STRING is declined', () => ({ signatureValue: hex('0402000a') }), 'declined', false],
      ['bytes that hold a PEM BEGIN line are declined', () => ({ subject: cnName('x-----BEGINy') }), 'declined', true],
      [
        'a common name holding dashes but no BEGIN line is read',
        () => ({ subject: cnName('x-----ENDy') }),
        { subjectText: 'CN=x-----ENDy', commonNames: ['x-----ENDy'] },
        true,
      ],
    ]);

    it('a certificate that is not a SEQUENCE, or holds no signed part, is declined', () => {
      const der = issue(leafFields());
      expect(readPlainCertificate(Buffer.concat([Buffer.from([0x31]), der.subarray(1)]))).toBeUndefined();
      const setSignedPart = Buffer.from(der);
      setSignedPart[4] = 0x31;
      expect(readPlainCertificate(der)).toBeDefined();
      expect(readPlainCertificate(setSignedPart)).toBeUndefined();
      expect(readPlainCertificate(hex('3000'))).toBeUndefined();
      expect(readPlainCertificate(hex('3003020100'))).toBeUndefined();
      expect(readPlainCertificate(Buffer.alloc(0))).toBeUndefined();
    });
  });

  describe('version, serial number and the fields of the signed part', () => {
    shapes([
      ['version 3 is read', () => ({}), {}, true],
      ['version 2 is declined', () => ({ version: hex('a003020101') }), 'declined', true],
      ['no version (version 1) is declined', () => ({ version: null }), 'declined', true],
      ['version 3 written with a padded INTEGER is declined', () => ({ version: hex('a00402020002') }), 'declined', false],
      ['a serial of one octet is read', () => ({ serial: integer('05') }), {}, true],
      ['a serial of 0 is read', () => ({ serial: integer('00') }), {}, true],
      ['a serial whose leading zero is needed (0x0080) is read', () => ({ serial: integer('0080') }), {}, true],
      ['a serial with a redundant leading zero (0x0012) is declined', () => ({ serial: integer('0012') }), 'declined', false],
      ['a negative serial written minimally (0xff7f) is read', () => ({ serial: integer('ff7f') }), {}, true],
      ['a negative serial with a redundant 0xff (0xff80) is declined', () => ({ serial: integer('ff80') }), 'declined', false],
      ['a serial of 20 octets is read', () => ({ serial: integer(`7f${'ab'.repeat(19)}`) }), {}, true],
      ['a serial of 21 octets is declined', () => ({ serial: integer(`7f${'ab'.repeat(20)}`) }), 'declined', true],
      ['an empty serial is declined', () => ({ serial: hex('0200') }), 'declined', false],
      ['a serial written as an OCTET STRING is declined', () => ({ serial: hex('040105') }), 'declined', false],
      ['an issuerUniqueID is declined', () => ({ uniqueIds: [hex('81020001')] }), 'declined', true],
      ['a subjectUniqueID is declined', () => ({ uniqueIds: [hex('82020001')] }), 'declined', true],
      ['no extensions field is declined', () => ({ extensionsField: null }), 'declined', true],
      [
        'an element after the extensions is declined',
        () => ({ uniqueIds: [], rewrite: (part, index) => (index === 7 ? Buffer.concat([part, hex('0500')]) : part) }),
        'declined',
        false,
      ],
    ]);
  });

  describe('lengths in the signed part', () => {
    shapes([
      [
        'the subject with its length in long form (where one octet would do) is declined',
        () => ({ rewrite: (part, index) => (index === 5 ? longForm(part, 1) : part) }),
        'declined',
        true,
      ],
      [
        'the validity with a two-octet length is declined',
        () => ({ rewrite: (part, index) => (index === 4 ? longForm(part, 2) : part) }),
        'declined',
        true,
      ],
      [
        'the key with a three-octet length is declined',
        () => ({ rewrite: (part, index) => (index === 6 ? longForm(part, 3) : part) }),
        'declined',
        true,
      ],
      ...[127, 128, 255, 256].map((length): Row => [
        `a common name of ${length} characters is read`,
        () => ({ subject: cnName('A'.repeat(length)) }),
        { subjectText: `CN=${'A'.repeat(length)}`, commonNames: ['A'.repeat(length)] },
        true,
      ]),
      // Not tried: 2^24 octets and more (a length written in four octets). No certificate that large reaches the walk:
      // a check-in body is at most 64 KiB and an upload at most 1 MiB.
      ...[127, 128, 255, 256, 65_535, 65_536].map((octets): Row => [
        `an extension value of ${octets} octets (its length written in ${lengthOctets(octets).length}) is read`,
        () => withValue(OID.certificatePolicies, sequenceOfLength(octets)),
        {},
        true,
      ]),
    ]);
  });

  describe('signature algorithms', () => {
    shapes([
      ['sha384WithRSAEncryption is read', () => ({ algorithm: ALGORITHM.sha384Rsa }), { hash: 'sha384' }, true],
      ['sha512WithRSAEncryption is read', () => ({ algorithm: ALGORITHM.sha512Rsa }), { hash: 'sha512' }, true],
      [
        'ecdsa-with-SHA256 is read',
        () => ({ algorithm: ALGORITHM.sha256Ecdsa, signer: ecRoot.privateKey }),
        { hash: 'sha256', keyType: 'ec' },
        true,
      ],
      [
        'ecdsa-with-SHA384 is read',
        () => ({ algorithm: ALGORITHM.sha384Ecdsa, signer: ecRoot.privateKey }),
        { hash: 'sha384', keyType: 'ec' },
        true,
      ],
      [
        'ecdsa-with-SHA512 is read',
        () => ({ algorithm: ALGORITHM.sha512Ecdsa, signer: ecRoot.privateKey }),
        { hash: 'sha512', keyType: 'ec' },
        true,
      ],
      ['sha1WithRSAEncryption is declined', () => ({ algorithm: ALGORITHM.sha1Rsa }), 'declined', true],
      ['sha256WithRSAEncryption without its NULL is declined', () => ({ algorithm: ALGORITHM.sha256RsaWithoutNull }), 'declined', true],
      [
        'ecdsa-with-SHA256 with a NULL is declined',
        () => ({ algorithm: ALGORITHM.sha256EcdsaWithNull, signer: ecRoot.privateKey }),
        'declined',
        true,
      ],
      [
        'an inner algorithm other than the outer is declined',
        () => ({ algorithm: ALGORITHM.sha384Rsa, outerAlgorithm: ALGORITHM.sha256Rsa }),
        'declined',
        true,
      ],
    ]);
  });

  describe('names', () => {
    const every = [
      ['2.5.4.3', 'CN'],
      ['2.5.4.4', 'SN'],
      ['2.5.4.5', 'serialNumber'],
      ['2.5.4.6', 'C'],
      ['2.5.4.7', 'L'],
      ['2.5.4.8', 'ST'],
      ['2.5.4.10', 'O'],
      ['2.5.4.11', 'OU'],
      ['2.5.4.12', 'title'],
      ['2.5.4.42', 'GN'],
      ['1.2.840.113549.1.9.1', 'emailAddress'],
      ['0.9.2342.19200300.100.1.1', 'UID'],
      ['0.9.2342.19200300.100.1.25', 'DC'],
    ];
    shapes([
      ...every.map(([type, short]): Row => [
        `a subject with ${short} is read`,
        () => ({ subject: nameOf(attribute(type, 'Ab1', type === '2.5.4.6' ? STRING.printable : STRING.utf8), attribute(CN, DEVICE)) }),
        { subjectText: `${short}=Ab1\nCN=${DEVICE}`, commonNames: short === 'CN' ? ['Ab1', DEVICE] : [DEVICE] },
        true,
      ]),
      [
        'a subject with streetAddress is declined',
        () => ({ subject: nameOf(attribute('2.5.4.9', 'Main'), attribute(CN, DEVICE)) }),
        'declined',
        true,
      ],
      [
        'a subject with organizationIdentifier is declined',
        () => ({ subject: nameOf(attribute('2.5.4.97', 'Ab1'), attribute(CN, DEVICE)) }),
        'declined',
        true,
      ],
      [
        'an issuer with streetAddress is declined',
        () => ({ issuer: nameOf(attribute('2.5.4.9', 'Main'), attribute(CN, ROOT_CN)) }),
        'declined',
        true,
      ],
      ['a common name as a PrintableString is read', () => ({ subject: cnName(DEVICE, STRING.printable) }), {}, true],
      ['a common name as an IA5String is read', () => ({ subject: cnName(DEVICE, STRING.ia5) }), {}, true],
      ['a common name as a BMPString is declined', () => ({ subject: cnName(DEVICE, STRING.bmp) }), 'declined', true],
      ['a common name as a T61String is declined', () => ({ subject: cnName(DEVICE, STRING.t61) }), 'declined', true],
      ['an issuer name as a BMPString is declined', () => ({ issuer: cnName(ROOT_CN, STRING.bmp) }), 'declined', true],
      ['a common name of UTF-8 beyond ASCII is declined', () => ({ subject: cnName('Ger\u00c3\u00a4t') }), 'declined', true],
      [
        'a multi-valued RDN is read, printed with a plus',
        () => ({ subject: seq(set(attribute(O, 'Acme')), set(attribute(CN, DEVICE), attribute(UID, '42'))) }),
        { subjectText: `O=Acme\nCN=${DEVICE} + UID=42` },
        true,
      ],
      [
        'a multi-valued RDN out of DER order is read in the order written',
        () => ({ subject: seq(set(attribute(UID, '42'), attribute(CN, DEVICE))) }),
        { subjectText: `UID=42 + CN=${DEVICE}` },
        true,
      ],
      [
        'two common names are both read',
        () => ({ subject: nameOf(attribute(CN, 'A1'), attribute(CN, 'B2')) }),
        { subjectText: 'CN=A1\nCN=B2', commonNames: ['A1', 'B2'] },
        true,
      ],
      [
        'a subject without a common name is read, with none',
        () => ({ subject: nameOf(attribute(O, 'Acme')) }),
        { subjectText: 'O=Acme', commonNames: [] },
        true,
      ],
      ['an empty subject is declined', () => ({ subject: hex('3000') }), 'declined', true],
      ['an empty issuer is declined', () => ({ issuer: hex('3000') }), 'declined', true],
      ['a subject with an empty RDN is declined', () => ({ subject: seq(set(), set(attribute(CN, DEVICE))) }), 'declined', true],
      ['a subject written as a SET is declined', () => ({ subject: set(set(attribute(CN, DEVICE))) }), 'declined', false],
    ]);
  });

  describe('name values (printed as written, or left to X509Certificate)', () => {
    const value = (text: string, reading: Row[2]): Row => [
      `a common name ${JSON.stringify(text)} is ${reading === 'declined' ? 'declined' : 'read'}`,
      () => ({ subject: cnName(text) }),
      reading === 'declined' ? reading : { subjectText: `CN=${text}`, commonNames: [text] },
      true,
    ];
    shapes([
      value('a', {}),
      value('.', {}),
      value("C02 ._@:/()'=?*!%&-Z", {}),
      value("._@:/()'=?*!%&-", {}),
      value('a b', {}),
      value('a  b', {}),
      value('', 'declined'),
      value(' a', 'declined'),
      value('a ', 'declined'),
      value(' ', 'declined'),
      value('a,b', 'declined'),
      value('a+b', 'declined'),
      value('a"b', 'declined'),
      value('a\\b', 'declined'),
      value('a<b', 'declined'),
      value('a>b', 'declined'),
      value('a;b', 'declined'),
      value('#a', 'declined'),
      value('a#', 'declined'),
      value('a\tb', 'declined'),
      value('a\nb', 'declined'),
      value('a\u0001b', 'declined'),
      value('a\u007fb', 'declined'),
      value('a[b', 'declined'),
      value('a~b', 'declined'),
      value(',', 'declined'),
      ...[..."._@:/()'=?*!%&-"].map((mark) => value(`${mark}a${mark}`, {})),
      value('-', {}),
      value('Z', {}),
      value('0', {}),
    ]);
  });

  describe('validity times', () => {
    const notAfter = (element: Buffer, reading: string | 'declined', x509Reads = true): Row => [
      `a notAfter written as ${TIME_TYPES[element[0]] ?? `tag ${element[0]}`} ${JSON.stringify(element.subarray(2).toString('latin1'))} ` +
        `is ${reading === 'declined' ? 'declined' : 'read'}`,
      () => ({ notAfter: element }),
      reading === 'declined' ? reading : { notAfter: reading },
      x509Reads,
    ];
    shapes([
      notAfter(utcTime('491231235959Z'), '2049-12-31T23:59:59.000Z'),
      notAfter(utcTime('500101000000Z'), '1950-01-01T00:00:00.000Z'),
      notAfter(utcTime('000101000000Z'), '2000-01-01T00:00:00.000Z'),
      notAfter(utcTime('991231235959Z'), '1999-12-31T23:59:59.000Z'),
      notAfter(generalizedTime('20500101000000Z'), '2050-01-01T00:00:00.000Z'),
      // RFC 5280 asks for UTCTime through 2049, but OpenSSL reads a GeneralizedTime of any year the same way
      notAfter(generalizedTime('20491231235959Z'), '2049-12-31T23:59:59.000Z'),
      notAfter(generalizedTime('19500101000000Z'), '1950-01-01T00:00:00.000Z'),
      notAfter(generalizedTime('19491231235959Z'), 'declined'),
      notAfter(generalizedTime('99991231235959Z'), '9999-12-31T23:59:59.000Z'),
      notAfter(utcTime('270101000000'), 'declined', false),
      notAfter(utcTime('270101000000z'), 'declined', false),
      notAfter(utcTime('2701010000Z'), 'declined', true),
      notAfter(utcTime('2701010000000Z'), 'declined', false),
      notAfter(utcTime('270101000000+0000'), 'declined', true),
      notAfter(utcTime('270101000000Z0'), 'declined', false),
      notAfter(generalizedTime('20270101000000Z0'), 'declined', false),
      notAfter(generalizedTime('220270101000000Z'), 'declined', false),
      notAfter(generalizedTime('202701010000000Z'), 'declined', false),
      notAfter(utcTime('27010100000aZ'), 'declined', false),
      notAfter(generalizedTime('20270101000000.5Z'), 'declined', true),
      notAfter(generalizedTime('202701010000Z'), 'declined', true),
      notAfter(generalizedTime('20270101000000'), 'declined', false),
      notAfter(utcTime('20270101000000Z'), 'declined', false),
      notAfter(generalizedTime('270101000000Z'), 'declined', false),
      notAfter(tlv(0x04, Buffer.from('270101000000Z')), 'declined', false),
      notAfter(utcTime('271231235959Z'), '2027-12-31T23:59:59.000Z'),
      notAfter(utcTime('270101240000Z'), 'declined', false),
      notAfter(utcTime('270101006000Z'), 'declined', false),
      notAfter(utcTime('270101000060Z'), 'declined', false),
      notAfter(utcTime('271301000000Z'), 'declined', false),
      notAfter(utcTime('270001000000Z'), 'declined', false),
      notAfter(utcTime('270100000000Z'), 'declined', false),
      notAfter(utcTime('270132000000Z'), 'declined', false),
      notAfter(utcTime('270131000000Z'), '2027-01-31T00:00:00.000Z'),
      notAfter(utcTime('270431000000Z'), 'declined', false),
      notAfter(utcTime('270430000000Z'), '2027-04-30T00:00:00.000Z'),
      notAfter(utcTime('270229000000Z'), 'declined', false),
      notAfter(utcTime('280229000000Z'), '2028-02-29T00:00:00.000Z'),
      notAfter(generalizedTime('21000229000000Z'), 'declined', false),
      notAfter(generalizedTime('20000229000000Z'), '2000-02-29T00:00:00.000Z'),
      [
        'a notBefore as GeneralizedTime is read',
        () => ({ notBefore: generalizedTime('20260101000000Z') }),
        { notBefore: '2026-01-01T00:00:00.000Z' },
        true,
      ],
      ['a notBefore with hour 24 is declined', () => ({ notBefore: utcTime('260101240000Z') }), 'declined', false],
      [
        'a validity of three times is declined',
        () => ({ validity: seq(utcTime('260101000000Z'), utcTime('270101000000Z'), utcTime('280101000000Z')) }),
        'declined',
        false,
      ],
      ['a validity of one time is declined', () => ({ validity: seq(utcTime('260101000000Z')) }), 'declined', false],
      [
        'a validity written as a SET is declined',
        () => ({ validity: set(utcTime('260101000000Z'), utcTime('270101000000Z')) }),
        'declined',
        false,
      ],
    ]);
  });

  describe('the RSA key', () => {
    shapes([
      [
        'a key of 1024 bits is read (the key policy refuses it by name)',
        () => ({ spki: rsaSpki(key1024()) }),
        () => ({ rsaPublicKey: key1024().toString('hex') }),
        true,
      ],
      [
        'a public exponent of 3 is read',
        () => ({ spki: rsaSpki(keyWithExponent3()) }),
        () => ({ rsaPublicKey: keyWithExponent3().toString('hex') }),
        true,
      ],
      [
        'a modulus whose leading zero is left out (a negative INTEGER) is declined',
        () => ({ spki: rsaSpki(rsaPublicKeyWith((modulus, exponent) => [tlv(0x02, modulus.subarray(5)), exponent])) }),
        'declined',
        true,
      ],
      [
        'a modulus with a redundant leading zero is declined',
        () => ({ spki: rsaSpki(rsaPublicKeyWith((modulus, exponent) => [tlv(0x02, Buffer.from([0]), modulus.subarray(4)), exponent])) }),
        'declined',
        true,
      ],
      [
        'an exponent with a redundant leading zero is declined',
        () => ({ spki: rsaSpki(rsaPublicKeyWith((modulus) => [modulus, integer('00010001')])) }),
        'declined',
        true,
      ],
      [
        'a negative exponent is declined',
        () => ({ spki: rsaSpki(rsaPublicKeyWith((modulus) => [modulus, integer('fd')])) }),
        'declined',
        true,
      ],
      ['an empty exponent is declined', () => ({ spki: rsaSpki(rsaPublicKeyWith((modulus) => [modulus, hex('0200')])) }), 'declined', true],
      [
        'a third INTEGER in the RSAPublicKey is declined',
        () => ({ spki: rsaSpki(rsaPublicKeyWith((modulus, exponent) => [modulus, exponent, integer('03')])) }),
        'declined',
        false,
      ],
      [
        'an RSAPublicKey of the modulus alone is declined',
        () => ({ spki: rsaSpki(rsaPublicKeyWith((modulus) => [modulus])) }),
        'declined',
        false,
      ],
      [
        'an exponent written as an OCTET STRING is declined',
        () => ({ spki: rsaSpki(rsaPublicKeyWith((modulus) => [modulus, hex('0403010001')])) }),
        'declined',
        false,
      ],
      [
        'octets after the RSAPublicKey are declined',
        () => ({ spki: rsaSpki(Buffer.concat([device.pkcs1, hex('0500')])) }),
        'declined',
        true,
      ],
      [
        'an RSAPublicKey written as a SET is declined',
        () => ({ spki: rsaSpki(Buffer.concat([Buffer.from([0x31]), device.pkcs1.subarray(1)])) }),
        'declined',
        false,
      ],
      [
        'a key BIT STRING with unused bits is declined',
        () => ({ spki: seq(hex('300d06092a864886f70d0101010500'), tlv(0x03, Buffer.from([1]), device.pkcs1)) }),
        'declined',
        true,
      ],
      [
        'a key BIT STRING of the unused-bits octet alone is declined',
        () => ({ spki: seq(hex('300d06092a864886f70d0101010500'), hex('030100')) }),
        'declined',
        false,
      ],
      [
        'a key in an OCTET STRING led by a zero octet, as a BIT STRING would be, is declined',
        () => ({ spki: seq(hex('300d06092a864886f70d0101010500'), octetString(Buffer.from([0]), device.pkcs1)) }),
        'declined',
        false,
      ],
      [
        'an exponent of 0x80 (a negative INTEGER) is declined',
        () => ({ spki: rsaSpki(rsaPublicKeyWith((modulus) => [modulus, integer('80')])) }),
        'declined',
        true,
      ],
      [
        'a key in an OCTET STRING is declined',
        () => ({ spki: seq(hex('300d06092a864886f70d0101010500'), octetString(device.pkcs1)) }),
        'declined',
        false,
      ],
      [
        'rsaEncryption without its NULL is declined',
        () => ({ spki: seq(hex('300b06092a864886f70d010101'), bitString(device.pkcs1)) }),
        'declined',
        true,
      ],
      [
        'an element after the key BIT STRING is declined',
        () => ({ spki: seq(hex('300d06092a864886f70d0101010500'), bitString(device.pkcs1), hex('0500')) }),
        'declined',
        false,
      ],
      [
        'a key info written as a SET is declined',
        () => ({ spki: set(hex('300d06092a864886f70d0101010500'), bitString(device.pkcs1)) }),
        'declined',
        false,
      ],
      ['an EC key is declined', () => ({ spki: ecRoot.spki }), 'declined', true],
    ]);
  });

  describe('extensions', () => {
    shapes([
      ['the extensions in another order are read', () => ({ extensions: [...leafFields().extensions].reverse() }), {}, true],
      ['an empty list of extensions is read', () => ({ extensions: [] }), { authorityKeyId: undefined }, true],
      ['extensions in [3] written primitive are declined', () => ({ extensionsField: tlv(0x83, hex('3000')) }), 'declined', false],
      ['extensions in [2] are declined', () => ({ extensionsField: tlv(0xa2, hex('3000')) }), 'declined', false],
      ['extensions written as a SET are declined', () => ({ extensionsField: tlv(0xa3, hex('3100')) }), 'declined', false],
      [
        'an element after the extensions list is declined',
        () => ({ extensionsField: tlv(0xa3, hex('3000'), hex('3000')) }),
        'declined',
        false,
      ],
      ['an extension that is not a SEQUENCE is declined', () => ({ extensionsField: tlv(0xa3, seq(hex('3100'))) }), 'declined', false],
      [
        'an extension of its OID alone is declined',
        () => ({ extensionsField: tlv(0xa3, seq(seq(oid(OID.certificatePolicies)))) }),
        'declined',
        false,
      ],
      [
        'an extension of four parts is declined',
        () => ({
          extensionsField: tlv(0xa3, seq(seq(oid(OID.certificatePolicies), TRUE, octetString(hex('3000')), octetString(hex('3000'))))),
        }),
        'declined',
        false,
      ],
      [
        'an explicit critical FALSE is declined',
        () => withExtension(OID.extKeyUsage, { ...extension(OID.extKeyUsage, seq(oid(OID.clientAuth))), critical: hex('010100') }),
        'declined',
        true,
      ],
      [
        'a critical TRUE written as 0x01 is declined',
        () => withExtension(OID.extKeyUsage, { ...extension(OID.extKeyUsage, seq(oid(OID.clientAuth))), critical: hex('010101') }),
        'declined',
        true,
      ],
      [
        'a critical flag of two octets is declined',
        () => withExtension(OID.extKeyUsage, { ...extension(OID.extKeyUsage, seq(oid(OID.clientAuth))), critical: hex('0102ffff') }),
        'declined',
        false,
      ],
      ['extKeyUsage marked critical is read', () => withValue(OID.extKeyUsage, seq(oid(OID.clientAuth)), true), {}, true],
      [
        'an extension OID with a padded arc is declined',
        () => withExtension(OID.extKeyUsage, { id: hex('060455801d25'), value: seq(oid(OID.clientAuth)) }),
        'declined',
        false,
      ],
      [
        'an extension holding the same extension twice is declined',
        () => ({
          extensions: [...leafFields().extensions, extension(OID.certificatePolicies, seq()), extension(OID.certificatePolicies, seq())],
        }),
        'declined',
        true,
      ],
      [
        'an unknown extension is declined',
        () => ({ extensions: [...leafFields().extensions, extension('1.2.3.4', hex('0500'))] }),
        'declined',
        true,
      ],
      [
        'an unknown critical extension is declined',
        () => ({ extensions: [...leafFields().extensions, extension('1.2.3.4', hex('0500'), true)] }),
        'declined',
        true,
      ],
      [
        'cRLDistributionPoints is declined',
        () => ({ extensions: [...leafFields().extensions, extension(OID.crlDistributionPoints, seq())] }),
        'declined',
        true,
      ],
      [
        'nameConstraints is declined',
        () => ({ extensions: [...leafFields().extensions, extension(OID.nameConstraints, seq())] }),
        'declined',
        true,
      ],
      [
        'policyConstraints is declined',
        () => ({ extensions: [...leafFields().extensions, extension(OID.policyConstraints, seq(hex('800100')))] }),
        'declined',
        true,
      ],
      [
        'an extension value not in an OCTET STRING is declined',
        () => ({ extensionsField: tlv(0xa3, seq(seq(oid(OID.certificatePolicies), hex('3000')))) }),
        'declined',
        false,
      ],
    ]);
  });

  describe('basicConstraints', () => {
    const value = (text: string, reading: Row[2], x509Reads = true): Row => [
      `basicConstraints ${text} is ${reading === 'declined' ? 'declined' : 'read'}`,
      () => withValue(OID.basicConstraints, hex(text), true),
      reading,
      x509Reads,
    ];
    shapes([
      value('3000', {}),
      value('30030101ff', {}),
      value('30060101ff020100', {}),
      value('30060101ff02017f', {}),
      value('30060101ff02010a', {}),
      value('30070101ff02020080', 'declined'),
      value('30060101ff020180', 'declined'),
      value('3003010100', 'declined'),
      value('3003020100', 'declined'),
      value('30050101ff0500', 'declined'),
      value('30090101ff0201000500', 'declined'),
      value('30060101ff0201000500', 'declined', true),
      value('050030060101ff020100', 'declined', true),
      value('3100', 'declined'),
      value('300301', 'declined'),
    ]);
  });

  describe('keyUsage', () => {
    const value = (text: string, reading: Row[2]): Row => [
      `keyUsage ${text} is ${reading === 'declined' ? 'declined' : 'read'}`,
      () => withValue(OID.keyUsage, hex(text), true),
      reading,
      true,
    ];
    shapes([
      value('03020780', {}),
      value('030205a0', {}),
      value('03020106', {}),
      value('030200ff', {}),
      value('03020001', {}),
      value('0303078080', {}),
      value('0303008080', 'declined'),
      value('0303078000', 'declined'),
      value('0303078001', 'declined'),
      value('0303008001', 'declined'),
      value('0303070080', {}),
      value('03020580', 'declined'),
      value('03020680', 'declined'),
      value('03020080', 'declined'),
      value('03020700', 'declined'),
      value('030100', 'declined'),
      value('030407800080', 'declined'),
      value('04020780', 'declined'),
      value('03030780', 'declined'),
      value('0302078000', 'declined'),
    ]);
  });

  describe('extKeyUsage', () => {
    shapes([
      ['clientAuth and serverAuth are read', () => withPurposes(oid(OID.clientAuth), oid(OID.serverAuth)), {}, true],
      ['a purpose with an arc of six octets is read', () => withPurposes(oid(OID.clientAuth), oid('1.3.4398046511103')), {}, true],
      [
        'a purpose with an arc of seven octets is declined',
        () => withPurposes(oid(OID.clientAuth), oid('1.3.4398046511104')),
        'declined',
        true,
      ],
      [
        'a purpose whose arc holds 0x80 past its first octet is read',
        () => withPurposes(oid(OID.clientAuth), tlv(0x06, hex('2b8100'))),
        {},
        true,
      ],
      ['a purpose with a padded arc is declined', () => withPurposes(tlv(0x06, hex('2b0601050507038002'))), 'declined', true],
      [
        'a purpose whose last arc is cut short is declined',
        () => withPurposes(oid(OID.clientAuth), tlv(0x06, hex('2b81'))),
        'declined',
        true,
      ],
      [
        'a purpose whose last arc ends in 0x80 (cut short) is declined',
        () => withPurposes(oid(OID.clientAuth), tlv(0x06, hex('2b8180'))),
        'declined',
        true,
      ],
      ['an empty purpose OID is declined', () => withPurposes(oid(OID.clientAuth), hex('0600')), 'declined', true],
      ['a purpose that is not an OID is declined', () => withPurposes(oid(OID.clientAuth), hex('0c0141')), 'declined', true],
      ['no purpose at all is declined', () => withPurposes(), 'declined', true],
      ['purposes in a SET are declined', () => withValue(OID.extKeyUsage, set(oid(OID.clientAuth))), 'declined', true],
      [
        'octets after the purposes are declined',
        () => withValue(OID.extKeyUsage, Buffer.concat([seq(oid(OID.clientAuth)), hex('0500')])),
        'declined',
        true,
      ],
    ]);
  });

  describe('subjectAltName', () => {
    const name = (tag: number, contents: Buffer | string) =>
      tlv(tag, typeof contents === 'string' ? Buffer.from(contents, 'latin1') : contents);
    shapes([
      ['a SAN with a DNS name is read', () => withSan(name(0x82, 'c02shapes.example.com')), {}, true],
      ['a SAN with an email address is read', () => withSan(name(0x81, 'it@example.com')), {}, true],
      ['a SAN with a URI is read', () => withSan(name(0x86, 'https://example.com/device?id=C02')), {}, true],
      ['a SAN with an IPv4 address is read', () => withSan(name(0x87, hex('0a000001'))), {}, true],
      ['a SAN with an IPv6 address is read', () => withSan(name(0x87, Buffer.alloc(16, 1))), {}, true],
      [
        'a SAN of several names is read',
        () => withSan(name(0x82, 'a.example'), name(0x87, hex('0a000001')), name(0x86, 'urn:x')),
        {},
        true,
      ],
      ['a SAN with a DNS name of the printable ends ! and ~ is read', () => withSan(name(0x82, '!~')), {}, true],
      [
        'a SAN with an IP address of 8 octets (an address and mask) is declined',
        () => withSan(name(0x87, hex('0a000001ffffff00'))),
        'declined',
        true,
      ],
      ['a SAN with an IP address of 5 octets is declined', () => withSan(name(0x87, hex('0a00000100'))), 'declined', true],
      ['a SAN with an IP address of 3 octets is declined', () => withSan(name(0x87, hex('0a0000'))), 'declined', true],
      [
        'a SAN with an otherName is declined',
        () => withSan(tlv(0xa0, oid('1.3.6.1.4.1.311.20.2.3'), tlv(0xa0, tlv(0x0c, Buffer.from('x'))))),
        'declined',
        true,
      ],
      ['a SAN with a directoryName is declined', () => withSan(tlv(0xa4, cnName('x'))), 'declined', true],
      ['a SAN with a registeredID is declined', () => withSan(name(0x88, oidContents('1.2.3'))), 'declined', true],
      [
        'a SAN with a registeredID whose octets are printable (1.3.33) is declined',
        () => withSan(name(0x88, oidContents('1.3.33'))),
        'declined',
        true,
      ],
      [
        'a SAN of a DNS name and a directoryName is declined',
        () => withSan(name(0x82, 'a.example'), tlv(0xa4, cnName('x'))),
        'declined',
        true,
      ],
      ['a SAN with a DNS name holding a space is declined', () => withSan(name(0x82, 'c02 shapes')), 'declined', true],
      ['a SAN with a DNS name holding DEL is declined', () => withSan(name(0x82, 'c02\u007f')), 'declined', true],
      ['a SAN with a DNS name holding a control character is declined', () => withSan(name(0x82, 'c02\u0001')), 'declined', true],
      ['a SAN with a DNS name beyond ASCII is declined', () => withSan(name(0x82, hex('c3a4'))), 'declined', true],
      ['a SAN with an email address holding a space is declined', () => withSan(name(0x81, 'it @example.com')), 'declined', true],
      ['a SAN with a URI holding a space is declined', () => withSan(name(0x86, 'urn: x')), 'declined', true],
      ['a SAN with an empty DNS name is declined', () => withSan(name(0x82, '')), 'declined', true],
      ['a SAN with an empty URI is declined', () => withSan(name(0x86, '')), 'declined', true],
      ['a SAN with an empty email address is declined', () => withSan(name(0x81, '')), 'declined', true],
      ['a SAN with a DNS name written constructed is declined', () => withSan(name(0xa2, tlv(0x16, Buffer.from('x')))), 'declined', true],
      ['an empty SAN is declined', () => withSan(), 'declined', true],
      ['a SAN in a SET is declined', () => withValue(OID.subjectAltName, set(name(0x82, 'a.example'))), 'declined', true],
      [
        'octets after the SAN are declined',
        () => withValue(OID.subjectAltName, Buffer.concat([seq(name(0x82, 'a.example')), hex('0500')])),
        'declined',
        true,
      ],
      ['a critical SAN is read', () => withValue(OID.subjectAltName, seq(name(0x82, 'a.example')), true), {}, true],
    ]);
  });

  describe('certificatePolicies, authorityInfoAccess and the key identifiers', () => {
    const aia = seq(seq(oid('1.3.6.1.5.5.7.48.1'), tlv(0x86, Buffer.from('http://ocsp.example.com'))));
    shapes([
      ['certificatePolicies with anyPolicy is read', () => withValue(OID.certificatePolicies, seq(seq(oid('2.5.29.32.0')))), {}, true],
      ['a critical certificatePolicies is read', () => withValue(OID.certificatePolicies, seq(seq(oid('2.5.29.32.0'))), true), {}, true],
      ['certificatePolicies of any value is read (nothing decodes it)', () => withValue(OID.certificatePolicies, hex('0500')), {}, true],
      ['authorityInfoAccess with an OCSP URI is read', () => withValue(OID.authorityInfoAccess, aia), {}, true],
      ['authorityInfoAccess of any value is read (nothing decodes it)', () => withValue(OID.authorityInfoAccess, hex('0500')), {}, true],
      [
        'no authorityKeyIdentifier is read, without a key identifier',
        () => withExtension(OID.authorityKeyIdentifier),
        { authorityKeyId: undefined },
        true,
      ],
      [
        'an authorityKeyIdentifier of one octet is read',
        () => withValue(OID.authorityKeyIdentifier, seq(tlv(0x80, hex('07')))),
        { authorityKeyId: '07' },
        true,
      ],
      [
        'an authorityKeyIdentifier with the issuer and serial too is declined',
        () => withValue(OID.authorityKeyIdentifier, seq(tlv(0x80, ROOT_KEY_ID), ...issuerAndSerial())),
        'declined',
        true,
      ],
      [
        'an authorityKeyIdentifier of the issuer and serial alone is declined',
        () => withValue(OID.authorityKeyIdentifier, seq(tlv(0xa1, tlv(0xa4, cnName(ROOT_CN))), tlv(0x82, hex('01')))),
        'declined',
        true,
      ],
      ['an empty authorityKeyIdentifier is declined', () => withValue(OID.authorityKeyIdentifier, seq()), 'declined', true],
      [
        'an empty keyIdentifier is declined',
        () => withValue(OID.authorityKeyIdentifier, seq(tlv(0x80, Buffer.alloc(0)))),
        'declined',
        true,
      ],
      [
        'a keyIdentifier written as an OCTET STRING is declined',
        () => withValue(OID.authorityKeyIdentifier, seq(octetString(ROOT_KEY_ID))),
        'declined',
        true,
      ],
      [
        'an authorityKeyIdentifier in a SET is declined',
        () => withValue(OID.authorityKeyIdentifier, set(tlv(0x80, ROOT_KEY_ID))),
        'declined',
        true,
      ],
      [
        'octets after the authorityKeyIdentifier are declined',
        () => withValue(OID.authorityKeyIdentifier, Buffer.concat([seq(tlv(0x80, ROOT_KEY_ID)), hex('0500')])),
        'declined',
        true,
      ],
      ['no subjectKeyIdentifier is read', () => withExtension(OID.subjectKeyIdentifier), {}, true],
      ['a subjectKeyIdentifier of one octet is read', () => withValue(OID.subjectKeyIdentifier, octetString(hex('07'))), {}, true],
      ['an empty subjectKeyIdentifier is declined', () => withValue(OID.subjectKeyIdentifier, hex('0400')), 'declined', true],
      [
        'a subjectKeyIdentifier written as a BIT STRING is declined',
        () => withValue(OID.subjectKeyIdentifier, bitString(DEVICE_KEY_ID)),
        'declined',
        true,
      ],
      [
        'octets after the subjectKeyIdentifier are declined',
        () => withValue(OID.subjectKeyIdentifier, Buffer.concat([octetString(DEVICE_KEY_ID), hex('0500')])),
        'declined',
        true,
      ],
      [
        'a subjectKeyIdentifier whose length runs past its value is declined',
        () => withValue(OID.subjectKeyIdentifier, hex('040501')),
        'declined',
        true,
      ],
    ]);
  });
});

describe('the issuer decision of the walk against OpenSSL', () => {
  // [case, the CA's parts, the device certificate's parts, the walk's decision (undefined: OpenSSL decides), checkIssued]
  const decisions = ([
    ['the same name, byte for byte', {}, {}, true, true],
    ['no authorityKeyIdentifier in the device certificate', {}, () => withExtension(OID.authorityKeyIdentifier), true, true],
    ['a CA without keyUsage', { extensions: caExtensions(ROOT_KEY_ID).filter((one) => !one.id.equals(oid(OID.keyUsage))) }, {}, true, true],
    ['the CA name as a PrintableString', { subject: cnName(ROOT_CN, STRING.printable) }, {}, undefined, true],
    ['the CA name in capitals', { subject: cnName(ROOT_CN.toUpperCase()) }, {}, undefined, true],
    ['the issuer name in small letters', {}, { issuer: cnName(ROOT_CN.toLowerCase()) }, undefined, true],
    ['the CA name with two spaces inside', { subject: cnName('Shapes  Root') }, {}, undefined, true],
    ['the issuer name with two spaces inside', {}, { issuer: cnName('Shapes  Root') }, undefined, true],
    ['the CA name with spaces at either end', { subject: cnName(' Shapes Root  ') }, {}, undefined, true],
    ['the CA name with a tab inside', { subject: cnName('Shapes\tRoot') }, {}, undefined, true],
    ['the CA name with a newline inside', { subject: cnName('Shapes\nRoot') }, {}, undefined, true],
    ['the CA name with a vertical tab inside', { subject: cnName('Shapes\vRoot') }, {}, undefined, true],
    ['the CA name with a form feed inside', { subject: cnName('Shapes\fRoot') }, {}, undefined, true],
    ['the CA name with a carriage return at its end', { subject: cnName('Shapes Root\r') }, {}, undefined, true],
    ['the CA name with a tab and a space at its start', { subject: cnName('\t Shapes Root') }, {}, undefined, true],
    ['the CA name with a vertical tab at its start', { subject: cnName('\vShapes Root') }, {}, undefined, true],
    ['the CA name with a vertical tab at its end', { subject: cnName('Shapes Root\v') }, {}, undefined, true],
    ['the CA name with a V before it', { subject: cnName('VShapes Root') }, {}, false, false],
    ['the CA name with a V after it', { subject: cnName('Shapes RootV') }, {}, false, false],
    [
      'an RDN of two attributes in the other order',
      { subject: seq(set(attribute(CN, ROOT_CN), attribute(O, 'Acme'))) },
      { issuer: seq(set(attribute(O, 'Acme'), attribute(CN, ROOT_CN))) },
      undefined,
      true,
    ],
    [
      'an RDN of two attributes against the same two RDNs',
      { subject: seq(set(attribute(O, 'Acme'), attribute(CN, ROOT_CN))) },
      { issuer: nameOf(attribute(O, 'Acme'), attribute(CN, ROOT_CN)) },
      false,
      false,
    ],
    ['another common name', { subject: cnName('Shapes Roots') }, {}, false, false],
    ['another attribute type with the same text', { subject: nameOf(attribute(O, ROOT_CN)) }, {}, false, false],
    ['another type of the same text, in capitals', { subject: nameOf(attribute(O, ROOT_CN.toUpperCase())) }, {}, false, false],
    ['the CA name with one more RDN', { subject: nameOf(attribute(O, 'Acme'), attribute(CN, ROOT_CN)) }, {}, false, false],
    ['the CA name with the space left out', { subject: cnName('ShapesRoot') }, {}, false, false],
    [
      'the CA name of the same letters in the other RDN order',
      { subject: nameOf(attribute(CN, ROOT_CN), attribute(O, 'Acme')) },
      { issuer: nameOf(attribute(O, 'Acme'), attribute(CN, ROOT_CN)) },
      false,
      false,
    ],
    [
      'another key identifier in the device certificate',
      {},
      () => withValue(OID.authorityKeyIdentifier, seq(tlv(0x80, Buffer.alloc(20, 0x44)))),
      undefined,
      false,
    ],
    [
      'a CA without a subjectKeyIdentifier',
      { extensions: caExtensions(ROOT_KEY_ID).filter((one) => !one.id.equals(oid(OID.subjectKeyIdentifier))) },
      {},
      undefined,
      true,
    ],
    [
      'a critical authorityKeyIdentifier in the device certificate',
      {},
      () => withValue(OID.authorityKeyIdentifier, seq(tlv(0x80, ROOT_KEY_ID)), true),
      true,
      true,
    ],
    [
      'a critical subjectKeyIdentifier in the CA',
      { extensions: caExtensionsWith(OID.subjectKeyIdentifier, extension(OID.subjectKeyIdentifier, octetString(ROOT_KEY_ID), true)) },
      {},
      true,
      true,
    ],
    [
      'the issuer name with a long-form length inside it (not DER, but inside the signed part)',
      {},
      () => ({ issuer: longFormCnName(ROOT_CN) }),
      undefined,
      true,
    ],
    [
      'the same name with a long-form length inside it on both sides',
      { subject: longFormCnName(ROOT_CN) },
      () => ({ issuer: longFormCnName(ROOT_CN) }),
      true,
      true,
    ],
    [
      'a CA without basicConstraints (the path checks refuse it, not the issuer check)',
      { extensions: [extension(OID.keyUsage, hex('03020106'), true), extension(OID.subjectKeyIdentifier, octetString(ROOT_KEY_ID))] },
      {},
      true,
      true,
    ],
    [
      'a CA whose authorityInfoAccess is no AccessDescription (nothing decodes it)',
      { extensions: [...caExtensions(ROOT_KEY_ID), extension(OID.authorityInfoAccess, hex('0500'))] },
      {},
      true,
      true,
    ],
    [
      'a CA whose keyUsage leaves out keyCertSign',
      { extensions: caExtensionsWith(OID.keyUsage, extension(OID.keyUsage, hex('03020780'), true)) },
      {},
      undefined,
      false,
    ],
  ] as [string, Partial<Fields>, Partial<Fields> | (() => Partial<Fields>), boolean | undefined, boolean][]).map(
    ([what, caParts, leafParts, byWalk, byOpenssl]) => [what, byWalk, byOpenssl, caParts, leafParts] as const,
  );
  it.each(decisions)('%s: the walk says %s, OpenSSL says %s', (_what, byWalk, byOpenssl, caParts, leafParts) => {
    const caDer = issue(caFields(caParts));
    const leafDer = issue(leafFields(typeof leafParts === 'function' ? leafParts() : leafParts));
    const child = presented(leafDer)!;
    expect(child.plain).toBeDefined();
    expect(child.plainIssuanceBy(full(caDer)!)).toBe(byWalk);
    expect(new X509Certificate(leafDer).checkIssued(new X509Certificate(caDer))).toBe(byOpenssl);
  });

  it('an ECDSA-signed device certificate under an EC CA is decided by the walk; an RSA algorithm under it is left to OpenSSL', () => {
    const ecIssuer = full(ecRootDer)!;
    const ecName = cnName('Shapes EC Root');
    const extensions = leafFields().extensions.filter((one) => !one.id.equals(oid(OID.authorityKeyIdentifier)));
    const leafParts = { issuer: ecName, signer: ecRoot.privateKey, extensions };
    const ecdsa = issue(leafFields({ ...leafParts, algorithm: ALGORITHM.sha256Ecdsa }));
    expect(presented(ecdsa)!.plainIssuanceBy(ecIssuer)).toBe(true);
    expect(new X509Certificate(ecdsa).checkIssued(new X509Certificate(ecRootDer))).toBe(true);
    const rsa = issue(leafFields({ ...leafParts, algorithm: ALGORITHM.sha256Rsa }));
    expect(presented(rsa)!.plainIssuanceBy(ecIssuer)).toBeUndefined();
    expect(new X509Certificate(rsa).checkIssued(new X509Certificate(ecRootDer))).toBe(false);
  });

  it('a CA of another name, with the same key, key identifier and keyCertSign, is not the issuer: to the walk as to OpenSSL', () => {
    const leafDer = issue(leafFields());
    const otherName = cnName('Shapes Other');
    const otherDer = issue(caFields({ issuer: otherName, subject: otherName }));
    const decided = plainIssuance(readPlainCertificate(leafDer)!, readPlainIssuer(otherDer)!, new X509Certificate(otherDer).publicKey, true);
    expect(decided).toBe(false);
    expect(new X509Certificate(leafDer).checkIssued(new X509Certificate(otherDer))).toBe(false);
  });
});

describe('what the walk reads of a CA for the issuer decision', () => {
  const withoutExtension = (dotted: string) => caExtensions(ROOT_KEY_ID).filter((one) => !one.id.equals(oid(dotted)));
  // [case, the CA's parts, its subjectKeyIdentifier as read ('declined': the CA is not plain)]
  it.each([
    ['a CA written the plain way is read, with its key identifier', {}, ROOT_KEY_ID.toString('hex')],
    ['a CA without a subjectKeyIdentifier is read, without one', { extensions: withoutExtension(OID.subjectKeyIdentifier) }, undefined],
    [
      'a CA with an authorityKeyIdentifier of its key identifier alone is read',
      { extensions: caExtensions(ROOT_KEY_ID, ROOT_KEY_ID) },
      ROOT_KEY_ID.toString('hex'),
    ],
    [
      'a CA whose name holds a comma (left to OpenSSL in a device certificate) is read',
      { subject: cnName('Shapes, Root') },
      ROOT_KEY_ID.toString('hex'),
    ],
    [
      'a CA whose name holds streetAddress is read',
      { subject: nameOf(attribute('2.5.4.9', 'Main'), attribute(CN, ROOT_CN)) },
      ROOT_KEY_ID.toString('hex'),
    ],
    [
      'a CA with a pathLenConstraint is read',
      { extensions: [extension(OID.basicConstraints, hex('30060101ff020100'), true), ...withoutExtension(OID.basicConstraints)] },
      ROOT_KEY_ID.toString('hex'),
    ],
    ['a version 1 CA is declined', { version: null, extensionsField: null }, 'declined'],
    ['a version 2 CA is declined', { version: hex('a003020101') }, 'declined'],
    ['a version 3 CA without extensions is declined', { extensionsField: null }, 'declined'],
    ['a CA with an issuerUniqueID is declined', { uniqueIds: [hex('81020001')] }, 'declined'],
    ['a CA with an empty subject is declined', { subject: hex('3000') }, 'declined'],
    ['a CA whose subject is a SET is declined', { subject: set(set(attribute(CN, ROOT_CN))) }, 'declined'],
    ['a CA whose name is a BMPString is declined', { subject: cnName(ROOT_CN, STRING.bmp) }, 'declined'],
    [
      'a CA with nameConstraints is declined',
      { extensions: [...caExtensions(ROOT_KEY_ID), extension(OID.nameConstraints, PERMITTED_EXAMPLE_COM, true)] },
      'declined',
    ],
    [
      'a CA with an unknown extension is declined',
      { extensions: [...caExtensions(ROOT_KEY_ID), extension('1.2.3.4', hex('0500'))] },
      'declined',
    ],
    [
      'a CA with keyUsage of unused bits miscounted is declined',
      { extensions: [extension(OID.keyUsage, hex('03020006'), true), ...withoutExtension(OID.keyUsage)] },
      'declined',
    ],
    [
      'a CA whose authorityKeyIdentifier names its issuer is declined',
      { extensions: [...caExtensions(ROOT_KEY_ID), extension(OID.authorityKeyIdentifier, seq(...issuerAndSerial()))] },
      'declined',
    ],
    [
      'a CA with an empty subjectKeyIdentifier is declined',
      { extensions: [...withoutExtension(OID.subjectKeyIdentifier), extension(OID.subjectKeyIdentifier, hex('0400'))] },
      'declined',
    ],
    [
      'a CA with a subjectKeyIdentifier as a BIT STRING is declined',
      { extensions: [...withoutExtension(OID.subjectKeyIdentifier), extension(OID.subjectKeyIdentifier, bitString(ROOT_KEY_ID))] },
      'declined',
    ],
    [
      'a CA with an element after its extensions is declined',
      { rewrite: (part, index) => (index === 7 ? Buffer.concat([part, hex('0500')]) : part) },
      'declined',
    ],
    [
      'a CA with extensions in [2] is declined',
      { extensionsField: tlv(0xa2, seq(...caExtensions(ROOT_KEY_ID).map(encodeExtension))) },
      'declined',
    ],
  ] as [string, Partial<Fields>, string | undefined][])('%s', (_what, parts, keyId) => {
    const der = issue(caFields(parts));
    const read = readPlainIssuer(der);
    if (keyId === 'declined') {
      expect(read).toBeUndefined();
      return;
    }
    expect(read && Buffer.from(read.subjectName).equals(parts.subject ?? cnName(ROOT_CN))).toBe(true);
    expect(read?.subjectKeyId && Buffer.from(read.subjectKeyId).toString('hex')).toBe(keyId);
  });

  it('a CA that is not a certificate at all is declined', () => {
    expect(readPlainIssuer(hex('3000'))).toBeUndefined();
    expect(readPlainIssuer(Buffer.alloc(0))).toBeUndefined();
  });
});

// ---- part 2: the verdict oracle ----

/** Who a certificate being edited is: its own common name and key identifier, and its issuer's. */
interface Role {
  cn: string;
  keyId: Buffer;
  issuerCn: string;
  issuerKeyId: Buffer;
}

type Edit = (fields: Fields, role: Role) => void;

function setExtension(fields: Fields, dotted: string, value: Buffer, critical = false): void {
  const replacement = extension(dotted, value, critical);
  const at = fields.extensions.findIndex((one) => one.id.equals(replacement.id));
  fields.extensions = at >= 0 ? fields.extensions.map((one, i) => (i === at ? replacement : one)) : [...fields.extensions, replacement];
}

function dropExtension(fields: Fields, dotted: string): void {
  fields.extensions = fields.extensions.filter((one) => !one.id.equals(oid(dotted)));
}

const each = <T>(values: readonly T[], edit: (value: T) => Edit): Edit[] => values.map(edit);
const atPosition = (edit: (fields: Fields, at: number) => void): Edit[] =>
  [0, 1, 2, 3, 4].map((position) => (fields) => fields.extensions.length > 0 && edit(fields, position % fields.extensions.length));

const NOT_BEFORE_UTC = [
  '260101000000Z',
  '260601120400Z',
  '260601120600Z',
  '2601010000Z',
  '260101000000+0100',
  '260101240000Z',
  '260230000000Z',
  '500101000000Z',
];
const NOT_AFTER_UTC = [
  '270101000000Z',
  '491231235959Z',
  '500101000000Z',
  '260601115959Z',
  '260601120000Z',
  '270101000000z',
  '270101000060Z',
  '280229235959Z',
  '270229000000Z',
  '2701010000Z',
];
const SERIALS = ['01', '00', '7f', 'ff', '0080', '0012', 'ff80', 'ff7f', `7f${'ab'.repeat(19)}`, `7f${'ab'.repeat(20)}`, ''];
const EDIT_ALGORITHMS = [
  ALGORITHM.sha256Rsa,
  ALGORITHM.sha384Rsa,
  ALGORITHM.sha512Rsa,
  ALGORITHM.sha1Rsa,
  ALGORITHM.sha256RsaWithoutNull,
  ALGORITHM.sha256Ecdsa,
];
const KEY_USAGES = [
  '03020780',
  '030205a0',
  '03020106',
  '03020204',
  '03020580',
  '03020080',
  '030100',
  '0303078080',
  '0303070080',
  '0303078000',
  '030407800080',
  '030200ff',
];
const BASIC_CONSTRAINTS = ['3000', '30030101ff', '30060101ff020100', '30060101ff020101', '3003010100', '3003020100', '30070101ff02020080'];
const OCSP_ACCESS = seq(seq(oid('1.3.6.1.5.5.7.48.1'), tlv(0x86, Buffer.from('http://ocsp.example'))));

/** Structural edits, each a neighbouring form of one part, by kind. */
const EDITS: Record<string, Edit[]> = {
  notBefore: [
    ...each(NOT_BEFORE_UTC, (text) => (fields) => {
      fields.notBefore = utcTime(text);
    }),
    ...each(['20260101000000Z', '20260101000000.5Z', '19491231235959Z', '19500101000000Z'], (text) => (fields) => {
      fields.notBefore = generalizedTime(text);
    }),
  ],
  notAfter: [
    ...each(NOT_AFTER_UTC, (text) => (fields) => {
      fields.notAfter = utcTime(text);
    }),
    ...each(['20270101000000Z', '20500101000000Z', '20491231235959Z', '19500101000000Z', '20270101000000.5Z'], (text) => (fields) => {
      fields.notAfter = generalizedTime(text);
    }),
  ],
  subject: [
    ...each(Object.values(STRING), (tag) => (fields, role) => {
      fields.subject = cnName(role.cn, tag);
    }),
    (fields, role) => (fields.subject = cnName(role.cn.toLowerCase())),
    (fields, role) => (fields.subject = cnName(`${role.cn} `)),
    (fields, role) => (fields.subject = cnName(role.cn.replace(/ |$/, '  '))),
    (fields, role) => (fields.subject = cnName(role.cn.replace(/.$/, ',$&'))),
    (fields, role) => (fields.subject = nameOf(attribute(CN, role.cn), attribute(CN, role.cn))),
    (fields, role) => (fields.subject = nameOf(attribute(O, 'Acme'), attribute(CN, role.cn))),
    (fields, role) => (fields.subject = seq(set(attribute(CN, role.cn), attribute(UID, '42')))),
    (fields, role) => (fields.subject = seq(set(attribute(UID, '42'), attribute(CN, role.cn)))),
    (fields) => (fields.subject = nameOf(attribute(O, 'Acme'))),
    (fields) => (fields.subject = hex('3000')),
    (fields, role) => (fields.subject = nameOf(attribute('2.5.4.9', 'Main'), attribute(CN, role.cn))),
    (fields, role) => (fields.subject = longFormCnName(role.cn)),
    (fields, role) => (fields.subject = cnName(`${role.cn}@*`, STRING.printable)),
    (fields, role) => (fields.subject = cnName(`${role.cn}\u0000`)),
  ],
  issuer: [
    ...each(Object.values(STRING), (tag) => (fields, role) => {
      fields.issuer = cnName(role.issuerCn, tag);
    }),
    (fields, role) => (fields.issuer = cnName(role.issuerCn.toUpperCase())),
    (fields, role) => (fields.issuer = cnName(role.issuerCn.toLowerCase())),
    (fields, role) => (fields.issuer = cnName(role.issuerCn.replace(' ', '  '))),
    (fields, role) => (fields.issuer = cnName(` ${role.issuerCn}`)),
    (fields, role) => (fields.issuer = cnName(role.issuerCn.replace(' ', '\t'))),
    (fields) => (fields.issuer = cnName('Shapes Other')),
    (fields, role) => (fields.issuer = nameOf(attribute(O, role.issuerCn))),
    (fields, role) => (fields.issuer = nameOf(attribute(O, 'Acme'), attribute(CN, role.issuerCn))),
    (fields, role) => (fields.issuer = seq(set(attribute(CN, role.issuerCn), attribute(O, 'Acme')))),
    (fields) => (fields.issuer = hex('3000')),
    (fields, role) => (fields.issuer = longFormCnName(role.issuerCn)),
    (fields, role) => (fields.issuer = cnName(`${role.issuerCn}\r`)),
  ],
  serial: each(SERIALS, (text) => (fields) => {
    fields.serial = tlv(0x02, hex(text));
  }),
  version: [
    (fields) => (fields.version = hex('a003020102')),
    (fields) => (fields.version = hex('a003020101')),
    (fields) => (fields.version = hex('a003020100')),
    (fields) => (fields.version = null),
    (fields) => (fields.version = hex('a00402020002')),
  ],
  algorithm: [
    ...each(EDIT_ALGORITHMS, (algorithm) => (fields) => {
      fields.algorithm = algorithm;
    }),
    (fields) => {
      fields.outerAlgorithm = fields.algorithm;
      fields.algorithm = ALGORITHM.sha384Rsa;
    },
  ],
  lengths: [1, 3, 4, 5, 6, 7].flatMap((index) =>
    [1, 2].map((octets): Edit => (fields) => {
      fields.rewrite = (part, at) => (at === index ? longForm(part, octets) : part);
    }),
  ),
  criticality: [undefined, TRUE, hex('010100'), hex('010101'), hex('0102ffff')].flatMap((flag) =>
    atPosition((fields, at) => {
      fields.extensions = fields.extensions.map((one, i) => (i === at ? { ...one, critical: flag } : one));
    }),
  ),
  order: [
    ...atPosition((fields, at) => (fields.extensions = [...fields.extensions, fields.extensions[at]])),
    ...atPosition((fields, at) => (fields.extensions = fields.extensions.filter((_one, i) => i !== at))),
    ...atPosition((fields, at) => (fields.extensions = [fields.extensions[at], ...fields.extensions.filter((_one, i) => i !== at)])),
    (fields) => (fields.extensions = [...fields.extensions].reverse()),
    (fields) => (fields.extensions = []),
    (fields) => (fields.extensionsField = null),
    (fields) => (fields.uniqueIds = [hex('81020001')]),
    (fields) => (fields.extensionsField = tlv(0xa2, seq(...fields.extensions.map(encodeExtension)))),
  ],
  unknownExtension: [
    (fields) => setExtension(fields, '1.2.3.4', hex('0500')),
    (fields) => setExtension(fields, '1.2.3.4', hex('0500'), true),
    (fields) => setExtension(fields, OID.crlDistributionPoints, seq(seq(tlv(0xa0, tlv(0xa0, tlv(0x86, Buffer.from('http://ca/c'))))))),
    (fields) => setExtension(fields, OID.certificatePolicies, seq(seq(oid('2.5.29.32.0')))),
    (fields) => setExtension(fields, OID.certificatePolicies, seq(seq(oid('2.5.29.32.0'))), true),
    (fields) => setExtension(fields, OID.authorityInfoAccess, OCSP_ACCESS),
    (fields) => setExtension(fields, OID.nameConstraints, PERMITTED_EXAMPLE_COM, true),
    (fields) => setExtension(fields, OID.policyConstraints, seq(hex('800100')), true),
    (fields) => setExtension(fields, '2.5.29.54', hex('020100'), true),
  ],
  subjectAltName: [
    ...each(
      [
        tlv(0x82, Buffer.from('c02shapes.example.com')),
        tlv(0x86, Buffer.from('urn:device:C02SHAPES')),
        tlv(0x81, Buffer.from('it@example.com')),
        tlv(0x87, hex('0a000001')),
        tlv(0x87, Buffer.alloc(16, 1)),
        tlv(0x87, hex('0a000001ffffff00')),
        tlv(0xa0, oid('1.3.6.1.4.1.311.20.2.3'), tlv(0xa0, tlv(0x0c, Buffer.from('x')))),
        tlv(0xa4, cnName('x')),
        tlv(0x88, oidContents('1.2.3')),
        tlv(0x82, Buffer.from('c02 shapes')),
        tlv(0x82, Buffer.alloc(0)),
      ],
      (name) => (fields) => setExtension(fields, OID.subjectAltName, seq(name)),
    ),
    (fields) => setExtension(fields, OID.subjectAltName, seq()),
    (fields, role) => setExtension(fields, OID.subjectAltName, seq(tlv(0x82, Buffer.from(role.cn.replace(/ /g, '-')))), true),
  ],
  keyUsage: [
    ...each(KEY_USAGES, (text) => (fields) =>
      setExtension(fields, OID.keyUsage, hex(text), true),
    ),
    (fields) => setExtension(fields, OID.keyUsage, hex('03020106')),
    (fields) => dropExtension(fields, OID.keyUsage),
  ],
  extKeyUsage: [
    ...each(
      [
        [oid(OID.clientAuth)],
        [oid(OID.serverAuth)],
        [oid(OID.clientAuth), oid(OID.serverAuth)],
        [oid('2.5.29.37.0')],
        [],
        [tlv(0x06, hex('2b0601050507038002'))],
        [oid(OID.clientAuth), oid('1.3.4398046511103')],
        [oid(OID.clientAuth), oid('1.3.4398046511104')],
      ],
      (purposes) => (fields) => setExtension(fields, OID.extKeyUsage, seq(...purposes)),
    ),
    (fields) => setExtension(fields, OID.extKeyUsage, seq(oid(OID.clientAuth)), true),
    (fields) => dropExtension(fields, OID.extKeyUsage),
  ],
  basicConstraints: [
    ...each(BASIC_CONSTRAINTS, (text) => (fields) =>
      setExtension(fields, OID.basicConstraints, hex(text), true),
    ),
    (fields) => setExtension(fields, OID.basicConstraints, hex('30030101ff')),
    (fields) => dropExtension(fields, OID.basicConstraints),
  ],
  authorityKeyIdentifier: [
    (fields, role) => setExtension(fields, OID.authorityKeyIdentifier, seq(tlv(0x80, role.issuerKeyId))),
    (fields) => setExtension(fields, OID.authorityKeyIdentifier, seq(tlv(0x80, Buffer.alloc(20, 0x44)))),
    (fields, role) =>
      setExtension(fields, OID.authorityKeyIdentifier, seq(tlv(0x80, role.issuerKeyId), ...issuerAndSerial())),
    (fields) => setExtension(fields, OID.authorityKeyIdentifier, seq(...issuerAndSerial())),
    (fields) => setExtension(fields, OID.authorityKeyIdentifier, seq()),
    (fields) => setExtension(fields, OID.authorityKeyIdentifier, seq(tlv(0x80, Buffer.alloc(0)))),
    (fields, role) => setExtension(fields, OID.authorityKeyIdentifier, seq(tlv(0x80, role.issuerKeyId)), true),
    (fields) => dropExtension(fields, OID.authorityKeyIdentifier),
  ],
  subjectKeyIdentifier: [
    (fields, role) => setExtension(fields, OID.subjectKeyIdentifier, octetString(role.keyId)),
    (fields) => setExtension(fields, OID.subjectKeyIdentifier, octetString(hex('07'))),
    (fields) => setExtension(fields, OID.subjectKeyIdentifier, hex('0400')),
    (fields, role) => setExtension(fields, OID.subjectKeyIdentifier, bitString(role.keyId)),
    (fields, role) => setExtension(fields, OID.subjectKeyIdentifier, Buffer.concat([octetString(role.keyId), hex('0500')])),
    (fields, role) => setExtension(fields, OID.subjectKeyIdentifier, octetString(role.keyId), true),
    (fields) => dropExtension(fields, OID.subjectKeyIdentifier),
  ],
  key: [
    (fields) => (fields.spki = rsaSpki(key1024())),
    (fields) => (fields.spki = rsaSpki(keyWithExponent3())),
    (fields) => (fields.spki = rsaSpki(rsaPublicKeyWith((modulus) => [modulus, integer('00010001')]))),
    (fields) => (fields.spki = rsaSpki(rsaPublicKeyWith((modulus, exponent) => [tlv(0x02, modulus.subarray(5)), exponent]))),
    (fields) => (fields.spki = rsaSpki(rsaPublicKeyWith((modulus, exponent) => [modulus, exponent, integer('03')]))),
    (fields) => (fields.spki = rsaSpki(rsaPublicKeyWith((modulus) => [modulus, integer('01')]))),
    (fields) => (fields.spki = seq(hex('300b06092a864886f70d010101'), bitString(device.pkcs1))),
    (fields) => (fields.spki = ecRoot.spki),
  ],
};

const EDIT_KINDS = Object.keys(EDITS);

const request = () => ({ deviceId: DEVICE, body: Buffer.from('{}'), now: NOW, maxClockSkewSeconds: 300 });

/** The verifier's cache of parsed certificates, by fingerprint, which it looks in before parsing a presented one. */
const cacheOf = (verifier: DeviceCertificateVerifier) =>
  (verifier as unknown as { parsedCache: { set(key: string, value: ParsedCertificate): void } }).parsedCache;

describe('the verdict oracle: edits signed again by their CA, judged with the walk and without it', () => {
  let rootPem: string;
  beforeAll(() => {
    rootPem = new X509Certificate(rootDer).toString();
  });

  /**
   * The verifier's verdict on a chain. `withoutWalk`: every certificate is first parsed by X509Certificate alone
   * (ParsedCertificate.parse) into the verifier's cache of parsed certificates, where it looks before parsePresented,
   * so that the whole verdict is reached without the walk.
   */
  function verdict(chain: Buffer[], withoutWalk: boolean) {
    const verifier = new DeviceCertificateVerifier([rootPem], new Set());
    if (withoutWalk) {
      const cache = cacheOf(verifier);
      for (const der of chain) {
        const parsed = full(der);
        if (parsed) cache.set(fingerprintOf(der), parsed);
      }
    }
    return verifier.verify({ way: 'MTLS', chainDer: chain }, request());
  }

  const leafUnderRoot = (): [Fields, Role] => [
    leafFields(),
    { cn: DEVICE, keyId: DEVICE_KEY_ID, issuerCn: ROOT_CN, issuerKeyId: ROOT_KEY_ID },
  ];
  const leafUnderIntermediate = (): [Fields, Role] => [
    leafFields({
      issuer: cnName(INTERMEDIATE_CN),
      signer: intermediate.privateKey,
      extensions: withValue(OID.authorityKeyIdentifier, seq(tlv(0x80, INTERMEDIATE_KEY_ID))).extensions,
    }),
    { cn: DEVICE, keyId: DEVICE_KEY_ID, issuerCn: INTERMEDIATE_CN, issuerKeyId: INTERMEDIATE_KEY_ID },
  ];
  const intermediateUnderRoot = (): [Fields, Role] => [
    caFields({ subject: cnName(INTERMEDIATE_CN), spki: intermediate.spki, extensions: caExtensions(INTERMEDIATE_KEY_ID, ROOT_KEY_ID) }),
    { cn: INTERMEDIATE_CN, keyId: INTERMEDIATE_KEY_ID, issuerCn: ROOT_CN, issuerKeyId: ROOT_KEY_ID },
  ];

  it('uses the reading it is given: a reading put in its cache is the one judged', () => {
    const der = issue(leafFields());
    const other = issue(leafFields({ subject: cnName('C02OTHER') }));
    const verifier = new DeviceCertificateVerifier([rootPem], new Set());
    cacheOf(verifier).set(fingerprintOf(der), full(other)!);
    const result = verifier.verify({ way: 'MTLS', chainDer: [der] }, request());
    expect(result.violations.map((violation) => violation.code)).toEqual(['CLIENT_CERT_DEVICE_MISMATCH']);
    expect(verdict([der], false).violations).toEqual([]);
    expect(verdict([der], true).violations).toEqual([]);
  });

  it('gives every edit the same verdict and identity, whether the walk reads the certificates or X509Certificate does', () => {
    const counts = { runs: 0, editedReadByWalk: 0, issuerDecidedByWalk: 0, accepted: 0, refused: 0 };
    const intermediateDer = issue(intermediateUnderRoot()[0]);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 2 }),
        (scenario, picks) => {
          const [fields, role] = [leafUnderRoot, leafUnderIntermediate, intermediateUnderRoot][scenario]();
          for (const [kind, variant] of picks) {
            const edits = EDITS[EDIT_KINDS[kind % EDIT_KINDS.length]];
            edits[variant % edits.length](fields, role);
          }
          const edited = issue(fields);
          const chain =
            scenario === 0 ? [edited] : scenario === 1 ? [edited, intermediateDer] : [issue(leafUnderIntermediate()[0]), edited];
          counts.runs += 1;

          // the verdict and identity, with the walk and without
          const byWalk = verdict(chain, false);
          const byX509 = verdict(chain, true);
          expect(byWalk).toEqual(byX509);
          if (byWalk.violations.length === 0) counts.accepted += 1;
          else counts.refused += 1;

          // and each reading the verifier makes of the edited certificate, and each issuer decision the walk makes
          const walked = presented(edited);
          expect(readingOf(walked)).toEqual(readingOf(full(edited)));
          if (walked?.plain) counts.editedReadByWalk += 1;
          // [child, issuer]: each issuer decision the walk may make on this chain
          const pairs = [
            [[edited, rootDer]],
            [[edited, intermediateDer], [edited, rootDer]],
            [[chain[0], edited], [edited, rootDer]],
          ][scenario];
          for (const [childDer, issuerDer] of pairs) {
            const child = presented(childDer);
            const issuer = full(issuerDer);
            const decided = child && issuer && child.plainIssuanceBy(issuer);
            if (decided === undefined || !child || !issuer) continue;
            counts.issuerDecidedByWalk += 1;
            expect(decided).toBe(child.x509.checkIssued(issuer.x509));
            if (decided) expect(verifyPlainSignature(child.plain!, issuer.publicKey)).toBe(child.x509.verify(issuer.publicKey));
          }
        },
      ),
      { seed: 20261202, numRuns: 300 },
    );
    // the comparison is not vacuous: many edits are read by the walk, many accepted and refused, many issuers decided by it
    expect(counts.runs).toBe(300);
    expect(counts.editedReadByWalk).toBeGreaterThan(90);
    expect(counts.accepted).toBeGreaterThan(120);
    expect(counts.refused).toBeGreaterThan(100);
    expect(counts.issuerDecidedByWalk).toBeGreaterThan(140);
  }, 60_000);
});
