// Unit tests for lib/domain/push-certificate.ts on PKCS#12 files written byte by byte, as an attacker or a broken export
// tool writes them. Every file here starts from the same valid push certificate file, laid out as openssl lays out its
// own (an encrypted SafeContents holding the certificate bag, a SafeContents in the clear holding the shrouded key
// bag, a MacData), and each changes exactly one thing in it; the MAC is computed over whatever authenticated safe the
// file ends up with, so a refusal is the change's and not a broken MAC's. openssl itself opens the unchanged files.
// Each refusal is asserted whole (422, its code, its exact message); each limit and condition also has the file just
// on the other side of it, which opens with the push certificate's summary.

import { X509Certificate, createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, pbkdf2Sync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuleViolationError } from '../../lib/domain/errors.ts';
import { openPushCertificate, type PushCertificateSummary } from '../../lib/domain/push-certificate.ts';
import { OpensslWorkbench, pushSubject, type KeyFile, type MadeCertificate } from '../support/pkcs12.ts';
import { oidContents } from '../support/der.ts';

const UUID = '3d5e7f90-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const TOPIC = `com.apple.mgmt.External.${UUID}`;
const SUBJECT = `UID=${TOPIC}, CN=APSP:${UUID}, C=US`;
const PASSWORD = 'Export-Passw0rd';
const NOT_BEFORE = new Date('2025-06-01T00:00:00Z');
const NOT_AFTER = new Date('2026-06-01T00:00:00Z');
/** 365 days minus 12 hours before NOT_AFTER: 364 whole days. */
const NOW = new Date('2025-06-01T12:00:00Z');

// ---- DER, written by hand ----
//
// A file is a tree of nodes, encoded only when the test hands it over, so that an edit anywhere in the tree is seen by
// what is computed from it: the OCTET STRINGs that carry DER (the authenticated safe, a SafeContents in the clear),
// the ciphertext of an encrypted SafeContents or key, and the MAC over the authenticated safe.

interface Node {
  /** The identifier octet (class, constructed bit and tag number below 31). */
  tag: number;
  value: Buffer | Node[] | (() => Buffer);
}

/** The shortest length octets of `length` (X.690 §8.1.3). */
function lengthOctets(length: number): number[] {
  if (length < 0x80) return [length];
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return [0x80 | octets.length, ...octets];
}

function encode(node: Node): Buffer {
  const body = Array.isArray(node.value)
    ? Buffer.concat(node.value.map(encode))
    : typeof node.value === 'function'
      ? node.value()
      : node.value;
  return Buffer.concat([Buffer.from([node.tag, ...lengthOctets(body.length)]), body]);
}

/** The octets an OCTET STRING carries: its content, or its chunks' joined when it is constructed. */
function octetContent(node: Node): Buffer {
  if (Array.isArray(node.value)) return Buffer.concat(node.value.map(octetContent));
  return typeof node.value === 'function' ? node.value() : node.value;
}

const tlv = (tag: number, value: Buffer | Node[] | (() => Buffer)): Node => ({ tag, value });
const sequence = (...items: Node[]): Node => tlv(0x30, items);
const set = (...items: Node[]): Node => tlv(0x31, items);
/** [0] EXPLICIT around `items` (one, when well formed). */
const explicit0 = (...items: Node[]): Node => tlv(0xa0, items);
const octets = (bytes: Buffer): Node => tlv(0x04, bytes);
/** An OCTET STRING whose content is the DER of `inner`, encoded when the file is. */
const octetsOf = (inner: Node): Node => tlv(0x04, () => encode(inner));
const nul = (): Node => tlv(0x05, Buffer.alloc(0));

const oid = (dotted: string): Node => tlv(0x06, oidContents(dotted));

/** A DER INTEGER, minimal and non-negative (a leading 00 when the top bit is set). */
function integer(value: number | bigint): Node {
  let hex = BigInt(value).toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return tlv(0x02, Buffer.from(hex, 'hex'));
}
/** An INTEGER with exactly these content octets (empty, negative, padded with zeros). */
const integerOctets = (...bytes: number[]): Node => tlv(0x02, Buffer.from(bytes));

/** The node's children (the node must be constructed). */
function kids(node: Node): Node[] {
  if (!Array.isArray(node.value)) throw new Error('not a constructed node');
  return node.value;
}

/** Puts `by` in the place of `target`, wherever the tree holds it. */
function replace(target: Node, by: Node): void {
  target.tag = by.tag;
  target.value = by.value;
}

/** Same content, another identifier octet (wrong class, wrong type, primitive for constructed). */
function retag(target: Node, tag: number): void {
  target.tag = tag;
}

/** Splits a primitive OCTET STRING into a constructed (BER) one of two chunks, as some exporters write it. */
function chunked(target: Node, chunkTag = 0x04): void {
  const whole = target.value;
  const content = (): Buffer => (typeof whole === 'function' ? whole() : (whole as Buffer));
  const half = (): number => Math.floor(content().length / 2);
  target.tag |= 0x20;
  target.value = [tlv(chunkTag, () => content().subarray(0, half())), tlv(0x04, () => content().subarray(half()))];
}

// ---- The algorithms ----

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  crlBag: '1.2.840.113549.1.12.10.1.4',
  secretBag: '1.2.840.113549.1.12.10.1.5',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  sdsiCertificate: '1.2.840.113549.1.9.22.2',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  scrypt: '1.3.6.1.4.1.11591.4.11',
  pbeWithMd5AndDesCbc: '1.2.840.113549.1.5.3',
  hmacWithSha3_256: '2.16.840.1.101.3.4.2.14',
  aes256Gcm: '2.16.840.1.101.3.4.1.46',
  desCbc: '1.3.14.3.2.7',
  md5: '1.2.840.113549.2.5',
  sha512_256: '2.16.840.1.101.3.4.2.6',
  userId: '0.9.2342.19200300.100.1.1',
} as const;

type Digest = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
const DIGESTS: Record<Digest, { oid: string; hmacOid: string; u: number; v: number }> = {
  sha1: { oid: '1.3.14.3.2.26', hmacOid: '1.2.840.113549.2.7', u: 20, v: 64 },
  sha224: { oid: '2.16.840.1.101.3.4.2.4', hmacOid: '1.2.840.113549.2.8', u: 28, v: 64 },
  sha256: { oid: '2.16.840.1.101.3.4.2.1', hmacOid: '1.2.840.113549.2.9', u: 32, v: 64 },
  sha384: { oid: '2.16.840.1.101.3.4.2.2', hmacOid: '1.2.840.113549.2.10', u: 48, v: 128 },
  sha512: { oid: '2.16.840.1.101.3.4.2.3', hmacOid: '1.2.840.113549.2.11', u: 64, v: 128 },
};

type Pkcs12Cipher = '3des' | '2des' | 'rc2-128' | 'rc2-40';
const PKCS12_CIPHERS: Record<Pkcs12Cipher, { oid: string; keyLength: number }> = {
  '3des': { oid: '1.2.840.113549.1.12.1.3', keyLength: 24 },
  '2des': { oid: '1.2.840.113549.1.12.1.4', keyLength: 16 },
  'rc2-128': { oid: '1.2.840.113549.1.12.1.5', keyLength: 16 },
  'rc2-40': { oid: '1.2.840.113549.1.12.1.6', keyLength: 5 },
};

type Pbes2Cipher = 'aes-128-cbc' | 'aes-192-cbc' | 'aes-256-cbc' | 'des-ede3-cbc';
const PBES2_CIPHERS: Record<Pbes2Cipher, { oid: string; keyLength: number; ivLength: number }> = {
  'aes-128-cbc': { oid: '2.16.840.1.101.3.4.1.2', keyLength: 16, ivLength: 16 },
  'aes-192-cbc': { oid: '2.16.840.1.101.3.4.1.22', keyLength: 24, ivLength: 16 },
  'aes-256-cbc': { oid: '2.16.840.1.101.3.4.1.42', keyLength: 32, ivLength: 16 },
  'des-ede3-cbc': { oid: '1.2.840.113549.3.7', keyLength: 24, ivLength: 8 },
};

/** How a SafeContents or a key is encrypted: PKCS#12 PBE (RFC 7292 appendix C) or PBES2 with PBKDF2 (RFC 8018). */
type Encryption =
  | { scheme: 'pkcs12'; cipher: Pkcs12Cipher; iterations: number; salt?: Buffer }
  /** `prf: null` leaves the PRF out (HMAC-SHA1 by default); `statesKeyLength` writes PBKDF2's optional keyLength. */
  | { scheme: 'pbes2'; cipher: Pbes2Cipher; prf: Digest | null; iterations: number; statesKeyLength?: boolean; salt?: Buffer; iv?: Buffer };

/**
 * The iteration count of the files here. openssl writes 2048; every count up to the bounds reads the same, and each
 * PKCS#12 KDF iteration is a hash in JavaScript, paid twice per file (written here, read there).
 */
const ITERATIONS = 100;
const MODERN: Encryption = { scheme: 'pbes2', cipher: 'aes-256-cbc', prf: 'sha256', iterations: ITERATIONS };
const LEGACY_CERTS: Encryption = { scheme: 'pkcs12', cipher: 'rc2-40', iterations: ITERATIONS };
const LEGACY_KEY: Encryption = { scheme: 'pkcs12', cipher: '3des', iterations: ITERATIONS };

/** The BMPString form of a password for the PKCS#12 KDF: UTF-16BE and a two-byte terminator. */
function bmpPassword(password: string): Buffer {
  return Buffer.concat([Buffer.from(password, 'utf16le').swap16(), Buffer.alloc(2)]);
}

/** RFC 7292 appendix B.2, with any password octets (OpenSSL before 1.1.0 and some tools used other encodings). */
function pkcs12Kdf(digest: Digest, password: Buffer, salt: Buffer, id: 1 | 2 | 3, iterations: number, length: number): Buffer {
  const { u, v } = DIGESTS[digest];
  const stretch = (input: Buffer): Buffer =>
    Buffer.from(Array.from({ length: v * Math.ceil(input.length / v) }, (_, i) => input[i % input.length]));
  const I = Buffer.concat([stretch(salt), stretch(password)]);
  const out: Buffer[] = [];
  while (out.length * u < length) {
    let A = createHash(digest).update(Buffer.alloc(v, id)).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(digest).update(A).digest();
    out.push(A);
    const B = stretch(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k] + B[k] + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, length);
}

/** Password encodings of a file: PBES2 takes the UTF-8 password, the PKCS#12 KDF (MAC, PKCS#12 PBE) `bmp`. */
interface Secret {
  password: string;
  bmp: Buffer;
}

const ciphertexts = new Map<string, Buffer>();

/** `plain` encrypted as `encryption` states; remembered, as a key derived at a high count costs what it costs the reader. */
function encrypt(encryption: Encryption, secret: Secret, plain: Buffer): Buffer {
  const memo = JSON.stringify([encryption, secret.password, secret.bmp.toString('hex'), plain.toString('hex')]);
  const known = ciphertexts.get(memo);
  if (known) return known;
  let ciphertext: Buffer;
  if (encryption.scheme === 'pkcs12') {
    const { keyLength } = PKCS12_CIPHERS[encryption.cipher];
    const salt = encryption.salt ?? SALT;
    const key = pkcs12Kdf('sha1', secret.bmp, salt, 1, encryption.iterations, keyLength);
    const iv = pkcs12Kdf('sha1', secret.bmp, salt, 2, encryption.iterations, 8);
    if (encryption.cipher.startsWith('rc2')) {
      const rc2 = forge.rc2.createEncryptionCipher(key.toString('binary'), keyLength * 8);
      rc2.start(iv.toString('binary'));
      rc2.update(forge.util.createBuffer(plain.toString('binary')));
      rc2.finish();
      ciphertext = Buffer.from(rc2.output.getBytes(), 'binary');
    } else {
      const cipher = createCipheriv(encryption.cipher === '3des' ? 'des-ede3-cbc' : 'des-ede-cbc', key, iv);
      ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
    }
  } else {
    const { keyLength, ivLength } = PBES2_CIPHERS[encryption.cipher];
    const key = pbkdf2Sync(
      Buffer.from(secret.password, 'utf8'),
      encryption.salt ?? SALT,
      encryption.iterations,
      keyLength,
      encryption.prf ?? 'sha1',
    );
    const cipher = createCipheriv(encryption.cipher, key, encryption.iv ?? IV.subarray(0, ivLength));
    ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  }
  ciphertexts.set(memo, ciphertext);
  return ciphertext;
}

const SALT = Buffer.from('5a17ed5a17ed5a17', 'hex');
const IV = Buffer.from('0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex');
const MAC_SALT = Buffer.from('3ac5a1735a17ed00', 'hex');

/** The AlgorithmIdentifier of an encryption, each field a node of its own for the edits. */
interface EncryptionNodes {
  algorithm: Node;
  oid: Node;
  params: Node;
  salt: Node;
  iterations: Node;
  /** PBES2 only. */
  kdf: Node;
  kdfOid: Node;
  kdfParams: Node;
  scheme: Node;
  schemeOid: Node;
  iv: Node;
}

function encryptionNodes(encryption: Encryption): EncryptionNodes {
  const salt = octets(encryption.salt ?? SALT);
  const iterations = integer(encryption.iterations);
  if (encryption.scheme === 'pkcs12') {
    const params = sequence(salt, iterations);
    const algorithmOid = oid(PKCS12_CIPHERS[encryption.cipher].oid);
    const none = nul();
    return {
      algorithm: sequence(algorithmOid, params),
      oid: algorithmOid,
      params,
      salt,
      iterations,
      kdf: none,
      kdfOid: none,
      kdfParams: none,
      scheme: none,
      schemeOid: none,
      iv: none,
    };
  }
  const cipher = PBES2_CIPHERS[encryption.cipher];
  const kdfParams = sequence(
    salt,
    iterations,
    ...(encryption.statesKeyLength ? [integer(cipher.keyLength)] : []),
    ...(encryption.prf ? [sequence(oid(DIGESTS[encryption.prf].hmacOid), nul())] : []),
  );
  const kdfOid = oid(OID.pbkdf2);
  const kdf = sequence(kdfOid, kdfParams);
  const schemeOid = oid(cipher.oid);
  const iv = octets(encryption.iv ?? IV.subarray(0, cipher.ivLength));
  const scheme = sequence(schemeOid, iv);
  const params = sequence(kdf, scheme);
  const algorithmOid = oid(OID.pbes2);
  return {
    algorithm: sequence(algorithmOid, params),
    oid: algorithmOid,
    params,
    salt,
    iterations,
    kdf,
    kdfOid,
    kdfParams,
    scheme,
    schemeOid,
    iv,
  };
}

// ---- The file ----

interface FileOptions {
  password?: string;
  /** The password octets of the PKCS#12 KDF (MAC and PKCS#12 PBE); the BMPString form of `password` by default. */
  bmp?: Buffer;
  /** The certificate SafeContents' encryption; `null` leaves it in the clear. */
  certs?: Encryption | null;
  /** The shrouded key bag's encryption. */
  key?: Encryption;
  /** The MacData; `null` leaves it out. `iterations: null` leaves its (optional) count out. */
  mac?: { digest: Digest; iterations: number | null } | null;
  /** The MAC salt; MAC_SALT by default. */
  macSalt?: Buffer;
  /** The certificate bag's DER; the push certificate by default. */
  certificate?: Buffer;
  /** The key bag's plaintext (PKCS#8); the push certificate's key by default. */
  keyPlaintext?: Buffer;
}

/** The file's nodes, by name, for the edits. */
interface Pkcs12Nodes {
  pfx: Node;
  version: Node;
  /** The PFX's ContentInfo: its type, its [0] and the OCTET STRING holding the authenticated safe. */
  authSafeInfo: Node;
  authSafeType: Node;
  authSafeExplicit: Node;
  authSafeOctets: Node;
  /** The authenticated safe: the SEQUENCE of ContentInfos. */
  authSafe: Node;
  /** ContentInfo of the certificate SafeContents (encryptedData unless `certs: null`) and its parts. */
  certInfo: Node;
  certInfoType: Node;
  certInfoExplicit: Node;
  encryptedData: Node;
  encryptedContentInfo: Node;
  encryptedContent: Node;
  certEncryption: EncryptionNodes;
  /** The SafeContents of the certificate and its certificate bag. */
  certSafe: Node;
  certBag: Node;
  certBagId: Node;
  certBagExplicit: Node;
  certBagValue: Node;
  certType: Node;
  certExplicit: Node;
  certOctets: Node;
  certAttributes: Node;
  certLocalKeyId: Node;
  /** ContentInfo of the key SafeContents (data), the SafeContents and its shrouded key bag. */
  keyInfo: Node;
  keyInfoExplicit: Node;
  keySafe: Node;
  keyBag: Node;
  keyBagExplicit: Node;
  keyBagValue: Node;
  keyEncryption: EncryptionNodes;
  keyCiphertext: Node;
  keyAttributes: Node;
  /** The MacData (absent with `mac: null`) and its parts. */
  macData: Node;
  macDigestInfo: Node;
  macAlgorithm: Node;
  macDigest: Node;
  macSalt: Node;
  macIterations: Node;
}

let push: MadeCertificate;
let pushDer: Buffer;
let pushKey: KeyFile;
let keyPkcs8: Buffer;
let pushSha256: string;

const localKeyIdAttribute = (id: Buffer): Node => sequence(oid(OID.localKeyId), set(octets(id)));
const LOCAL_KEY_ID = Buffer.from('d00dfeedd00dfeedd00dfeedd00dfeedd00dfeed', 'hex');

/** A certificate bag holding `der` (with a localKeyId when given). */
function certBag(der: Buffer, localKeyId?: Buffer): Node {
  const value = sequence(oid(OID.x509Certificate), explicit0(octets(der)));
  return sequence(oid(OID.certBag), explicit0(value), ...(localKeyId ? [set(localKeyIdAttribute(localKeyId))] : []));
}

/** A secret bag of `size` octets: nothing the reader needs, so it only counts and takes room. */
const secretBag = (size = 1): Node =>
  sequence(oid(OID.secretBag), explicit0(sequence(oid(OID.data), explicit0(octets(Buffer.alloc(size, 0x5a))))));

/** A ContentInfo carrying a SafeContents in the clear. */
const clearSafe = (...bags: Node[]): Node => sequence(oid(OID.data), explicit0(octetsOf(sequence(...bags))));

/** A ContentInfo carrying a SafeContents encrypted with `encryption`. */
function encryptedSafe(encryption: Encryption, secret: Secret, ...bags: Node[]): Node {
  const safe = sequence(...bags);
  const content = tlv(0x80, () => encrypt(encryption, secret, encode(safe)));
  return sequence(
    oid(OID.encryptedData),
    explicit0(sequence(integer(0), sequence(oid(OID.data), encryptionNodes(encryption).algorithm, content))),
  );
}

/** A SafeContents bag holding `bags`. */
const safeContentsBag = (...bags: Node[]): Node => sequence(oid(OID.safeContentsBag), explicit0(sequence(...bags)));

/**
 * The push certificate file, as `options` asks, changed by `edit` (which sees every part by name), as base64.
 * With no options it is laid out as openssl 3's default export (PBES2 AES-256-CBC with PBKDF2-HMAC-SHA256 for the
 * certificates and the key, a SHA-256 MAC), at ITERATIONS.
 */
function p12(options: FileOptions = {}, edit?: (file: Pkcs12Nodes) => void): string {
  return encode(pkcs12Tree(options, edit)).toString('base64');
}

function pkcs12Tree(options: FileOptions = {}, edit?: (file: Pkcs12Nodes) => void): Node {
  const password = options.password ?? PASSWORD;
  const secret: Secret = { password, bmp: options.bmp ?? bmpPassword(password) };
  const certs = options.certs === undefined ? MODERN : options.certs;
  const keyEncryption = options.key ?? MODERN;
  const mac = options.mac === undefined ? { digest: 'sha256' as Digest, iterations: ITERATIONS } : options.mac;

  const certLocalKeyId = localKeyIdAttribute(LOCAL_KEY_ID);
  const certAttributes = set(certLocalKeyId);
  const certOctets = octets(options.certificate ?? pushDer);
  const certExplicit = explicit0(certOctets);
  const certType = oid(OID.x509Certificate);
  const certBagValue = sequence(certType, certExplicit);
  const certBagExplicit = explicit0(certBagValue);
  const certBagId = oid(OID.certBag);
  const certBag = sequence(certBagId, certBagExplicit, certAttributes);
  const certSafe = sequence(certBag);

  const certEncryption = encryptionNodes(certs ?? MODERN);
  const encryptedContent = tlv(0x80, () => encrypt(certs ?? MODERN, secret, encode(certSafe)));
  const encryptedContentInfo = sequence(oid(OID.data), certEncryption.algorithm, encryptedContent);
  const encryptedData = sequence(integer(0), encryptedContentInfo);
  const certInfoExplicit = certs ? explicit0(encryptedData) : explicit0(octetsOf(certSafe));
  const certInfoType = oid(certs ? OID.encryptedData : OID.data);
  const certInfo = sequence(certInfoType, certInfoExplicit);

  const keyEncryptionNodes = encryptionNodes(keyEncryption);
  const keyPlaintext = options.keyPlaintext ?? keyPkcs8;
  const keyCiphertext = octets(Buffer.alloc(0));
  keyCiphertext.value = () => encrypt(keyEncryption, secret, keyPlaintext);
  const keyBagValue = sequence(keyEncryptionNodes.algorithm, keyCiphertext);
  const keyBagExplicit = explicit0(keyBagValue);
  const keyAttributes = set(
    sequence(oid(OID.friendlyName), set(tlv(0x1e, Buffer.from('\0p\0u\0s\0h', 'binary')))),
    localKeyIdAttribute(LOCAL_KEY_ID),
  );
  const keyBag = sequence(oid(OID.shroudedKeyBag), keyBagExplicit, keyAttributes);
  const keySafe = sequence(keyBag);
  const keyInfoExplicit = explicit0(octetsOf(keySafe));
  const keyInfo = sequence(oid(OID.data), keyInfoExplicit);

  const authSafe = sequence(certInfo, keyInfo);
  const authSafeOctets = octetsOf(authSafe);
  const authSafeExplicit = explicit0(authSafeOctets);
  const authSafeType = oid(OID.data);
  const authSafeInfo = sequence(authSafeType, authSafeExplicit);
  const version = integer(3);

  const digest = mac?.digest ?? 'sha256';
  const macAlgorithm = sequence(oid(DIGESTS[digest].oid), nul());
  const macIterationCount = mac?.iterations ?? 1;
  const macDigest = octets(Buffer.alloc(0));
  macDigest.value = () => {
    const key = pkcs12Kdf(digest, secret.bmp, options.macSalt ?? MAC_SALT, 3, macIterationCount, DIGESTS[digest].u);
    return createHmac(digest, key).update(octetContent(authSafeOctets)).digest();
  };
  const macDigestInfo = sequence(macAlgorithm, macDigest);
  const macSalt = octets(options.macSalt ?? MAC_SALT);
  const macIterations = integer(macIterationCount);
  const macData = sequence(macDigestInfo, macSalt, ...(mac?.iterations === null ? [] : [macIterations]));
  const pfx = sequence(version, authSafeInfo, ...(mac ? [macData] : []));

  edit?.({
    pfx,
    version,
    authSafeInfo,
    authSafeType,
    authSafeExplicit,
    authSafeOctets,
    authSafe,
    certInfo,
    certInfoType,
    certInfoExplicit,
    encryptedData,
    encryptedContentInfo,
    encryptedContent,
    certEncryption,
    certSafe,
    certBag,
    certBagId,
    certBagExplicit,
    certBagValue,
    certType,
    certExplicit,
    certOctets,
    certAttributes,
    certLocalKeyId,
    keyInfo,
    keyInfoExplicit,
    keySafe,
    keyBag,
    keyBagExplicit,
    keyBagValue,
    keyEncryption: keyEncryptionNodes,
    keyCiphertext,
    keyAttributes,
    macData,
    macDigestInfo,
    macAlgorithm,
    macDigest,
    macSalt,
    macIterations,
  });
  return pfx;
}

/** A secret for the ContentInfos an edit adds (they are encrypted with the file's password). */
const SECRET = (): Secret => ({ password: PASSWORD, bmp: bmpPassword(PASSWORD) });

// ---- Outcomes ----

const READABLE = 'The push certificate file is not a readable PKCS#12 file';
const notDer = (what: string) => `${READABLE} (${what} is not valid DER)`;
const malformed = (what: string) => `${READABLE} (${what} is malformed)`;
const WRONG_PASSWORD = 'The push certificate file could not be opened: the password is wrong or the file is damaged';
const iterationsRefused = (count: number | bigint | string, where: string) =>
  `The push certificate file asks for ${count} key-derivation iterations; 1 to 1,000,000 are supported (in ${where})`;
const TOO_MUCH_WORK =
  'The push certificate file asks for more than 1,000,000 key-derivation steps in all (its iteration counts times the keys derived with them); ' +
  'export it again with the usual settings (2048 iterations)';
const TOO_MANY_BAGS =
  'The push certificate file holds more than 32 bags; a push certificate file holds the certificate, its key and perhaps a few chain certificates';
const NO_CERTIFICATE = 'The push certificate file holds no certificate (export the certificate with its key)';
const UNREADABLE_CERTIFICATE = 'The certificate inside the push certificate file cannot be read';
const unsupported = (what: string, oidText: string) => `The push certificate file uses an unsupported ${what} (${oidText})`;

interface Refusal {
  code: string;
  message: string;
}

async function outcome(file: string, password = PASSWORD, now = NOW): Promise<PushCertificateSummary | Refusal> {
  try {
    return await openPushCertificate(file, password, now);
  } catch (error) {
    if (!(error instanceof RuleViolationError)) throw error;
    expect(error.statusCode).toBe(422);
    expect(error.details).toBeUndefined();
    if (password.length >= 4) expect(error.message).not.toContain(password);
    return { code: error.code, message: error.message };
  }
}

/** The push certificate's summary (or another certificate's, when given). */
function summaryOf(der = pushDer, topic = TOPIC, subject = SUBJECT): PushCertificateSummary {
  const x509 = new X509Certificate(der);
  return {
    pem: x509.toString(),
    topic,
    subject,
    notBefore: new Date(x509.validFrom).toISOString(),
    notAfter: new Date(x509.validTo).toISOString(),
    daysRemaining: Math.floor((new Date(x509.validTo).getTime() - NOW.getTime()) / 86_400_000),
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}

const invalid = (message: string): Refusal => ({ code: 'INVALID_P12', message });

// ---- The certificates ----

let bench: OpensslWorkbench;
let caDer: Buffer;

beforeAll(() => {
  bench = OpensslWorkbench.create();
  pushKey = bench.makeKey();
  push = bench.makeCertificate({ subject: pushSubject(UUID), key: pushKey, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
  pushDer = new X509Certificate(push.pem).raw;
  pushSha256 = createHash('sha256').update(pushDer).digest('hex');
  keyPkcs8 = createPrivateKey(pushKey.pem).export({ type: 'pkcs8', format: 'der' });
  const ca = bench.makeCertificate({
    subject: '/CN=Push Test CA/O=Example/C=US',
    key: pushKey,
    ca: true,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  caDer = new X509Certificate(ca.pem).raw;
});

afterAll(() => bench?.cleanup());

describe('the hand-written push certificate file', () => {
  it.each([
    ['modern (PBES2 AES-256-CBC, PBKDF2-HMAC-SHA256, SHA-256 MAC)', {}, []],
    [
      'legacy (RC2-40 certificates, 3DES key, SHA-1 MAC)',
      { certs: LEGACY_CERTS, key: LEGACY_KEY, mac: { digest: 'sha1', iterations: ITERATIONS } },
      ['-legacy'],
    ],
  ] as const)('is a file openssl opens, and so does the reader: %s', async (_name, options, flags) => {
    const file = p12(options as FileOptions);
    const path = join(bench.dir, `hand-written-${flags.length}.p12`);
    writeFileSync(path, Buffer.from(file, 'base64'));
    const out = bench.openssl(['pkcs12', '-in', path, '-passin', 'env:P12_PASSWORD', '-nokeys', ...flags], { P12_PASSWORD: PASSWORD });
    expect(out.replace(/\r/g, '')).toContain(push.pem.trim());
    expect(await outcome(file)).toEqual(summaryOf());
    expect(summaryOf().sha256).toBe(pushSha256);
  });
});

// ---- Changes, one each ----

type Expected = Refusal | 'opens';
const OPENS = 'opens';

/** The default file with one change. */
const changed =
  (edit: (file: Pkcs12Nodes) => void, options: FileOptions = {}) =>
  () =>
    p12(options, edit);
/** Removes the `index`th child of `node`. */
const drop = (node: Node, index: number) => void kids(node).splice(index, 1);
/** Appends `extra` octets after the DER an OCTET STRING carries. */
function trailing(node: Node, extra = Buffer.from([0x05, 0x00])): void {
  const inner = node.value as () => Buffer;
  node.value = () => Buffer.concat([inner(), extra]);
}
/**
 * An encrypted SafeContents stating `encryption` whose ciphertext is never decrypted (the file is refused first), or
 * with its (optional) encrypted content left out when `content` is false.
 */
function statedOnly(encryption: Encryption, content = true): Node {
  const encryptedContent = content ? [tlv(0x80, Buffer.alloc(16))] : [];
  return sequence(
    oid(OID.encryptedData),
    explicit0(sequence(integer(0), sequence(oid(OID.data), encryptionNodes(encryption).algorithm, ...encryptedContent))),
  );
}
/** The certificate SafeContents, never decrypted: a wrong password fails at the MAC, before the key would be derived. */
const undecrypted = (file: Pkcs12Nodes) => replace(file.encryptedContent, tlv(0x80, Buffer.alloc(16)));

async function judge(file: string, expected: Expected, password = PASSWORD): Promise<void> {
  expect(await outcome(file, password)).toEqual(expected === OPENS ? summaryOf() : expected);
}

/** A file named by what it changes, and what the reader answers. */
type FileRow = [string, () => string, Expected];

/**
 * The rows of an INTEGER holding `value` written in a form the reader refuses as `refusal`: as an OCTET STRING, as
 * [2], as a constructed INTEGER, with no octets, and with its top bit set (negative).
 */
function integerFormRows(what: string, pick: (file: Pkcs12Nodes) => Node, value: number, refusal: Refusal): FileRow[] {
  const written = (form: string, edit: (target: Node) => void): FileRow => [
    `${what} written ${form}`,
    changed((f) => edit(pick(f))),
    refusal,
  ];
  return [
    written('as an OCTET STRING', (target) => retag(target, 0x04)),
    written('[2] (context-specific)', (target) => retag(target, 0x82)),
    written('as a constructed INTEGER', (target) => replace(target, tlv(0x22, [integer(value)]))),
    written('as an INTEGER with no octets', (target) => replace(target, integerOctets())),
    written(`negative (${(0x80 | (value & 0x7f)).toString(16)})`, (target) => replace(target, integerOctets(0x80 | (value & 0x7f)))),
  ];
}

/**
 * The rows of an OCTET STRING the reader joins when it comes in chunks (BER): written with each of `wrongTags` it is
 * refused as `refusal`; in `constructed` form, two chunks, it opens; in chunks one of which is a UTF8String, refused.
 */
function octetStringRows(
  what: string,
  pick: (file: Pkcs12Nodes) => Node,
  wrongTags: [string, number][],
  constructed: string,
  refusal: Refusal,
): FileRow[] {
  return [
    ...wrongTags.map(([form, tag]): FileRow => [`${what} in ${form}`, changed((f) => retag(pick(f), tag)), refusal]),
    [`${what} in ${constructed} of two chunks (BER)`, changed((f) => chunked(pick(f))), OPENS],
    [`${what} in chunks, one of them a UTF8String`, changed((f) => chunked(pick(f), 0x0c)), refusal],
  ];
}

describe('the PFX envelope', () => {
  it.each<FileRow>([
    [
      'a file followed by two more octets',
      () => Buffer.concat([Buffer.from(p12(), 'base64'), Buffer.from([0x05, 0x00])]).toString('base64'),
      invalid(notDer('the file')),
    ],
    [
      'a file cut one octet short of its stated length',
      () => Buffer.from(p12(), 'base64').subarray(0, -1).toString('base64'),
      invalid(notDer('the file')),
    ],
    ['a PFX written as a SET', changed((f) => retag(f.pfx, 0x31)), invalid(malformed('the PFX'))],
    ['a PFX written as [16] (context-specific, constructed)', changed((f) => retag(f.pfx, 0xb0)), invalid(malformed('the PFX'))],
    ['a PFX written as a primitive SEQUENCE (0x10)', changed((f) => retag(f.pfx, 0x10)), invalid(malformed('the PFX'))],
    ['a PFX with no version', changed((f) => drop(f.pfx, 0)), invalid(malformed('the PFX version'))],
    ['a PFX with only its version', changed((f) => kids(f.pfx).splice(1)), invalid(malformed('the PFX content'))],
    ['version 4', changed((f) => replace(f.version, integer(4))), invalid(malformed('the PFX version'))],
    ['version 2', changed((f) => replace(f.version, integer(2))), invalid(malformed('the PFX version'))],
    ['version 0', changed((f) => replace(f.version, integer(0))), invalid(malformed('the PFX version'))],
    ...integerFormRows('version 3', (f) => f.version, 3, invalid(malformed('the PFX version'))),
    [
      'version 3 on seven octets',
      changed((f) => replace(f.version, integerOctets(0, 0, 0, 0, 0, 0, 3))),
      invalid(malformed('the PFX version')),
    ],
    // the widest INTEGER read as a number: zeros in front change nothing
    ['version 3 on six octets', changed((f) => replace(f.version, integerOctets(0, 0, 0, 0, 0, 3))), OPENS],
    ['a PFX ContentInfo written as a SET', changed((f) => retag(f.authSafeInfo, 0x31)), invalid(malformed('the PFX content'))],
    [
      'a PFX content type written as a UTF8String',
      changed((f) => replace(f.authSafeType, tlv(0x0c, Buffer.from(OID.data)))),
      invalid(malformed('the PFX content')),
    ],
    [
      'a PFX content type written [6] (context-specific)',
      changed((f) => retag(f.authSafeType, 0x86)),
      invalid(malformed('the PFX content')),
    ],
    [
      'a PFX content type written as a constructed OID',
      changed((f) => replace(f.authSafeType, tlv(0x26, [oid(OID.data)]))),
      invalid(malformed('the PFX content')),
    ],
    [
      'an authenticated safe of type envelopedData',
      changed((f) => replace(f.authSafeType, oid(OID.envelopedData))),
      invalid(malformed('the PFX content')),
    ],
    [
      'an authenticated safe signed with a key (public-key integrity mode)',
      changed((f) => replace(f.authSafeType, oid(OID.signedData))),
      invalid('The push certificate file uses public-key integrity mode, which is not supported; export it with a password'),
    ],
    [
      'an authenticated safe in [APPLICATION 0] instead of [0]',
      changed((f) => retag(f.authSafeExplicit, 0x60)),
      invalid(malformed('the PFX content')),
    ],
    ['an authenticated safe in [1] instead of [0]', changed((f) => retag(f.authSafeExplicit, 0xa1)), invalid(malformed('the PFX content'))],
    [
      'an authenticated safe in a universal SEQUENCE instead of [0]',
      changed((f) => retag(f.authSafeExplicit, 0x30)),
      invalid(malformed('the PFX content')),
    ],
    [
      'an authenticated safe in a primitive [0]',
      changed((f) =>
        replace(
          f.authSafeExplicit,
          tlv(0x80, () => encode(f.authSafeOctets)),
        ),
      ),
      invalid(malformed('the PFX content')),
    ],
    [
      'an authenticated safe [0] holding two OCTET STRINGs',
      changed((f) => kids(f.authSafeExplicit).push(octets(Buffer.alloc(1)))),
      invalid(malformed('the PFX content')),
    ],
    [
      'an empty [0] where the authenticated safe goes',
      changed((f) => kids(f.authSafeExplicit).splice(0)),
      invalid(malformed('the PFX content')),
    ],
    // BER, as some exporters write it: the chunks are joined, and the MAC is over the joined octets
    ...octetStringRows(
      'an authenticated safe',
      (f) => f.authSafeOctets,
      [
        ['a UTF8String', 0x0c],
        ['[4] (context-specific)', 0x84],
      ],
      'a constructed OCTET STRING',
      invalid(malformed('the PFX content')),
    ),
    [
      'an authenticated safe followed by two octets inside its OCTET STRING',
      changed((f) => trailing(f.authSafeOctets)),
      invalid(notDer('the authenticated safe')),
    ],
    [
      'an authenticated safe of no octets',
      changed((f) => replace(f.authSafeOctets, octets(Buffer.alloc(0)))),
      invalid(notDer('the authenticated safe')),
    ],
    ['an authenticated safe written as a SET', changed((f) => retag(f.authSafe, 0x31)), invalid(malformed('the authenticated safe'))],
    ['an authenticated safe of no ContentInfos', changed((f) => kids(f.authSafe).splice(0)), invalid(NO_CERTIFICATE)],
  ])('%s', async (_name, file, expected) => {
    await judge(file(), expected);
  });
});

describe('the ContentInfos of the authenticated safe', () => {
  const emptyClearSafe = () => clearSafe();
  it.each<FileRow>([
    [
      '8 SafeContents (the certificate, the key and 6 empty ones)',
      changed((f) => kids(f.authSafe).push(...Array.from({ length: 6 }, emptyClearSafe))),
      OPENS,
    ],
    [
      '9 SafeContents',
      changed((f) => kids(f.authSafe).push(...Array.from({ length: 7 }, emptyClearSafe))),
      invalid('The push certificate file holds 9 SafeContents; at most 8 are supported (a push certificate file has 2)'),
    ],
    ['a ContentInfo written as a SET', changed((f) => retag(f.keyInfo, 0x31)), invalid(malformed('a ContentInfo'))],
    [
      'a ContentInfo whose type is an OCTET STRING',
      changed((f) => replace(kids(f.keyInfo)[0], octets(oidContents(OID.data)))),
      invalid(malformed('a ContentInfo')),
    ],
    ['a ContentInfo with no type', changed((f) => kids(f.keyInfo).splice(0)), invalid(malformed('a ContentInfo'))],
    [
      'a data ContentInfo with its SafeContents in [1]',
      changed((f) => retag(f.keyInfoExplicit, 0xa1)),
      invalid(malformed('a ContentInfo')),
    ],
    [
      'a data ContentInfo with its SafeContents in a BIT STRING',
      changed((f) => retag(kids(f.keyInfoExplicit)[0], 0x03)),
      invalid(malformed('a ContentInfo')),
    ],
    ['a data ContentInfo whose SafeContents is in chunks (BER)', changed((f) => chunked(kids(f.keyInfoExplicit)[0])), OPENS],
    [
      'a SafeContents followed by two octets inside its OCTET STRING',
      changed((f) => trailing(kids(f.keyInfoExplicit)[0])),
      invalid(notDer('a SafeContents')),
    ],
    [
      'a ContentInfo of type envelopedData',
      changed((f) => replace(kids(f.keyInfo)[0], oid(OID.envelopedData))),
      invalid('The push certificate file holds content that is not supported (only data and password-encrypted data)'),
    ],
    [
      'a ContentInfo of type signedData',
      changed((f) => replace(kids(f.keyInfo)[0], oid(OID.signedData))),
      invalid('The push certificate file holds content that is not supported (only data and password-encrypted data)'),
    ],
    [
      'an EncryptedData not wrapped in [0]',
      changed((f) => replace(f.certInfoExplicit, f.encryptedData)),
      invalid(malformed('an EncryptedData')),
    ],
    ['an EncryptedData written as a SET', changed((f) => retag(f.encryptedData, 0x31)), invalid(malformed('an EncryptedData'))],
    [
      'an EncryptedData with no EncryptedContentInfo',
      changed((f) => drop(f.encryptedData, 1)),
      invalid(malformed('an EncryptedContentInfo')),
    ],
    [
      'an EncryptedContentInfo written as a SET',
      changed((f) => retag(f.encryptedContentInfo, 0x31)),
      invalid(malformed('an EncryptedContentInfo')),
    ],
    [
      'an EncryptedContentInfo with no algorithm',
      changed((f) => kids(f.encryptedContentInfo).splice(1)),
      invalid(malformed('an encryption algorithm')),
    ],
    // EncryptedContent is OPTIONAL: a SafeContents with nothing in it
    ['an extra encrypted SafeContents whose content is absent', changed((f) => kids(f.authSafe).push(statedOnly(MODERN, false))), OPENS],
    [
      'the certificate SafeContents with its encrypted content absent',
      changed((f) => drop(f.encryptedContentInfo, 2)),
      invalid(NO_CERTIFICATE),
    ],
    ...octetStringRows(
      'encrypted content',
      (f) => f.encryptedContent,
      [
        ['a universal OCTET STRING instead of [0] IMPLICIT', 0x04],
        ['[1] IMPLICIT', 0x81],
        ['[APPLICATION 0]', 0x40],
      ],
      'a constructed [0]',
      invalid(malformed('an EncryptedContentInfo')),
    ),
    [
      'encrypted content one octet short (not whole AES blocks)',
      changed((f) =>
        replace(
          f.encryptedContent,
          tlv(0x80, () => encrypt(MODERN, SECRET(), encode(f.certSafe)).subarray(1)),
        ),
      ),
      invalid(WRONG_PASSWORD),
    ],
    ['encrypted content of no octets', changed((f) => replace(f.encryptedContent, tlv(0x80, Buffer.alloc(0)))), invalid(WRONG_PASSWORD)],
    // after a verified MAC, a SafeContents that decrypts to something other than DER is damage
    [
      'an encrypted SafeContents holding no DER',
      changed((f) => replace(f.encryptedContent, tlv(0x80, encrypt(MODERN, SECRET(), Buffer.from('not DER'))))),
      invalid(WRONG_PASSWORD),
    ],
    [
      'an encrypted SafeContents whose DER is followed by two octets',
      changed((f) =>
        replace(
          f.encryptedContent,
          tlv(0x80, () => encrypt(MODERN, SECRET(), Buffer.concat([encode(f.certSafe), Buffer.from([5, 0])]))),
        ),
      ),
      invalid(WRONG_PASSWORD),
    ],
  ])('%s', async (_name, file, expected) => {
    await judge(file(), expected);
  });
});

describe('the MAC', () => {
  it.each<FileRow>([
    ['a MacData written as a SET', changed((f) => retag(f.macData, 0x31)), invalid(malformed('the MAC'))],
    ['a MacData written as [16] (context-specific)', changed((f) => retag(f.macData, 0xb0)), invalid(malformed('the MAC'))],
    ['a MAC DigestInfo written as a SET', changed((f) => retag(f.macDigestInfo, 0x31)), invalid(malformed('the MAC digest'))],
    [
      'a MAC algorithm that is a bare OID',
      changed((f) => replace(f.macAlgorithm, oid(DIGESTS.sha256.oid))),
      invalid(malformed('the MAC algorithm')),
    ],
    ['a MAC algorithm with no OID', changed((f) => kids(f.macAlgorithm).splice(0)), invalid(malformed('the MAC algorithm'))],
    [
      'a MAC algorithm OID written as an OCTET STRING',
      changed((f) => retag(kids(f.macAlgorithm)[0], 0x04)),
      invalid(malformed('the MAC algorithm')),
    ],
    ['a MAC with MD5', changed((f) => replace(kids(f.macAlgorithm)[0], oid(OID.md5))), invalid(unsupported('MAC algorithm', OID.md5))],
    [
      'a MAC with SHA-512/256',
      changed((f) => replace(kids(f.macAlgorithm)[0], oid(OID.sha512_256))),
      invalid(unsupported('MAC algorithm', OID.sha512_256)),
    ],
    ['a MAC algorithm with no parameters (NULL left out)', changed((f) => drop(f.macAlgorithm, 1)), OPENS],
    ['a MAC DigestInfo with no digest', changed((f) => drop(f.macDigestInfo, 1)), invalid(malformed('the MAC digest'))],
    ['a MAC digest written as a BIT STRING', changed((f) => retag(f.macDigest, 0x03)), invalid(malformed('the MAC digest'))],
    ['a MAC digest in a constructed OCTET STRING (BER)', changed((f) => chunked(f.macDigest)), OPENS],
    ['a MAC digest cut to 16 octets', changed((f) => replace(f.macDigest, octets(Buffer.alloc(16, 1)))), invalid(WRONG_PASSWORD)],
    // a SHA-1 MAC (20 octets) stated as SHA-256 (32): compared, not crashed on
    [
      'a SHA-1 MAC stated as SHA-256',
      changed((f) => replace(kids(f.macAlgorithm)[0], oid(DIGESTS.sha256.oid)), { mac: { digest: 'sha1', iterations: ITERATIONS } }),
      invalid(WRONG_PASSWORD),
    ],
    [
      'a MAC digest with one bit flipped',
      changed((f) => replace(f.macDigest, octets(Buffer.from(octetContent(f.macDigest).map((b, i) => (i === 0 ? b ^ 1 : b)))))),
      invalid(WRONG_PASSWORD),
    ],
    ['a MacData with no salt', changed((f) => kids(f.macData).splice(1)), invalid(malformed('the MAC salt'))],
    ['a MAC salt written as an INTEGER', changed((f) => retag(f.macSalt, 0x02)), invalid(malformed('the MAC salt'))],
    [
      'a MAC salt other than the one the MAC was made with',
      changed((f) => replace(f.macSalt, octets(Buffer.alloc(8, 0x11)))),
      invalid(WRONG_PASSWORD),
    ],
    [
      'a MAC count other than the one it was made with (one more)',
      changed((f) => replace(f.macIterations, integer(ITERATIONS + 1))),
      invalid(WRONG_PASSWORD),
    ],
    // iterations DEFAULT 1
    ['a MacData without an iteration count', () => p12({ mac: { digest: 'sha256', iterations: null } }), OPENS],
    ['a MAC at 1 iteration', () => p12({ mac: { digest: 'sha256', iterations: 1 } }), OPENS],
    [
      'a MAC count written on nine octets (100 after zeros)',
      changed((f) => replace(f.macIterations, integerOctets(0, 0, 0, 0, 0, 0, 0, 0, ITERATIONS))),
      OPENS,
    ],
    ['a MAC count of 0', changed((f) => replace(f.macIterations, integer(0))), invalid(iterationsRefused(0, 'the MAC'))],
    [
      'a MAC count of 1,000,001',
      changed((f) => replace(f.macIterations, integer(1_000_001))),
      invalid(iterationsRefused(1000001, 'the MAC')),
    ],
    [
      'a MAC count of 2^64',
      changed((f) => replace(f.macIterations, integer(2n ** 64n))),
      invalid(iterationsRefused('18446744073709551616', 'the MAC')),
    ],
    [
      'a MAC count of -2048 (f8 00)',
      changed((f) => replace(f.macIterations, integerOctets(0xf8, 0x00))),
      invalid(malformed('the iteration count of the MAC')),
    ],
    ...integerFormRows(
      `a MAC count of ${ITERATIONS}`,
      (f) => f.macIterations,
      ITERATIONS,
      invalid(malformed('the iteration count of the MAC')),
    ),
  ])('%s', async (_name, file, expected) => {
    await judge(file(), expected);
  });

  it.each<Digest>(['sha1', 'sha224', 'sha256', 'sha384', 'sha512'])('opens a file whose MAC is HMAC-%s', async (digest) => {
    await judge(p12({ mac: { digest, iterations: ITERATIONS } }), OPENS);
  });

  it('refuses a MAC asking for 2^31-1 iterations at once, before any work', async () => {
    const file = p12({}, (f) => replace(f.macIterations, integer(2n ** 31n - 1n)));
    const start = performance.now();
    await judge(file, invalid(iterationsRefused(2147483647, 'the MAC')));
    // deriving the key at that count would take an hour
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

/** The password's UTF-8 octets, each widened to two (OpenSSL before 1.1.0), and the two-octet terminator. */
function widenedUtf8(password: string): Buffer {
  const utf8 = Buffer.from(password, 'utf8');
  const out = Buffer.alloc(utf8.length * 2 + 2);
  utf8.forEach((byte, i) => (out[i * 2 + 1] = byte));
  return out;
}

const NON_ASCII = 'Kennwört-€';
const LEGACY: FileOptions = { certs: LEGACY_CERTS, key: LEGACY_KEY, mac: { digest: 'sha1', iterations: ITERATIONS } };
/** Key bag plaintext that is not a PrivateKeyInfo (an empty OCTET STRING). */
const NOT_A_KEY = Buffer.from([0x04, 0x00]);

describe('passwords, with and without a MAC', () => {
  it.each<[string, FileOptions, string, Expected]>([
    ['modern with a MAC, the right password', {}, PASSWORD, OPENS],
    ['modern with a MAC, a wrong password', {}, 'Export-Passw0rt', invalid(WRONG_PASSWORD)],
    ['legacy with a MAC, the right password', LEGACY, PASSWORD, OPENS],
    ['legacy with a MAC, a wrong password', LEGACY, 'Export-Passw0rt', invalid(WRONG_PASSWORD)],
    ['modern without a MAC, the right password', { mac: null }, PASSWORD, OPENS],
    ['modern without a MAC, a wrong password', { mac: null }, 'Export-Passw0rt', invalid(WRONG_PASSWORD)],
    ['legacy without a MAC, the right password', { ...LEGACY, mac: null }, PASSWORD, OPENS],
    ['legacy without a MAC, a wrong password', { ...LEGACY, mac: null }, 'Export-Passw0rt', invalid(WRONG_PASSWORD)],
    // certificates in the clear and no MAC: decrypting the key is the only password check
    ['certificates in the clear, no MAC, the right password', { certs: null, mac: null }, PASSWORD, OPENS],
    ['certificates in the clear, no MAC, a wrong password', { certs: null, mac: null }, 'Export-Passw0rt', invalid(WRONG_PASSWORD)],
    ['certificates in the clear, no MAC, 3DES key, the right password', { certs: null, mac: null, key: LEGACY_KEY }, PASSWORD, OPENS],
    [
      'certificates in the clear, no MAC, 3DES key, a wrong password',
      { certs: null, mac: null, key: LEGACY_KEY },
      'Export-Passw0rt',
      invalid(WRONG_PASSWORD),
    ],
    // the right password, but what the key bag decrypts to is no key: without a MAC that is the password check failing
    ['no MAC, a key bag that decrypts to no key', { certs: null, mac: null, keyPlaintext: NOT_A_KEY }, PASSWORD, invalid(WRONG_PASSWORD)],
    // with a MAC the key is never decrypted
    ['a MAC, a key bag that decrypts to no key', { certs: null, keyPlaintext: NOT_A_KEY }, PASSWORD, OPENS],
    ['the empty password (openssl: a two-octet terminator)', { password: '' }, '', OPENS],
    ['the empty password, legacy', { ...LEGACY, password: '' }, '', OPENS],
    ['the empty password, a wrong password given', { password: '' }, 'Export-Passw0rd', invalid(WRONG_PASSWORD)],
    // some tools derive with no password octets at all; the PKCS#12 PBE then takes the same octets
    ['the empty password as no octets at all, legacy', { ...LEGACY, password: '', bmp: Buffer.alloc(0) }, '', OPENS],
    ['the empty password as no octets at all, modern', { password: '', bmp: Buffer.alloc(0) }, '', OPENS],
    ['a non-ASCII password as a BMPString, legacy', { ...LEGACY, password: NON_ASCII }, NON_ASCII, OPENS],
    ['a non-ASCII password as a BMPString, modern', { password: NON_ASCII }, NON_ASCII, OPENS],
    [
      'a non-ASCII password as widened UTF-8 (OpenSSL before 1.1.0), legacy',
      { ...LEGACY, password: NON_ASCII, bmp: widenedUtf8(NON_ASCII) },
      NON_ASCII,
      OPENS,
    ],
    ['a non-ASCII password as widened UTF-8, modern', { password: NON_ASCII, bmp: widenedUtf8(NON_ASCII) }, NON_ASCII, OPENS],
    // no octets at all are tried for the empty password only
    ['a MAC made with no password octets, opened with a password', { bmp: Buffer.alloc(0) }, PASSWORD, invalid(WRONG_PASSWORD)],
    ['a non-ASCII password, a wrong one given', { password: NON_ASCII }, 'Kennwort-€', invalid(WRONG_PASSWORD)],
    ['a password of 1,024 characters', { password: 'p'.repeat(1024), mac: { digest: 'sha256', iterations: 1 } }, 'p'.repeat(1024), OPENS],
    [
      'a password of 1,025 characters',
      { password: 'p'.repeat(1025), mac: { digest: 'sha256', iterations: 1 } },
      'p'.repeat(1025),
      invalid('The push certificate file could not be opened: the password is longer than 1,024 characters, which no PKCS#12 export uses'),
    ],
  ])('%s', async (_name, options, password, expected) => {
    await judge(p12(options), expected, password);
  });

  it('opens a file made with the empty password when no password is sent at all', async () => {
    expect(await openPushCertificate(p12({ password: '' }), undefined as unknown as string, NOW)).toEqual(summaryOf());
  });

  it('refuses, without a MAC, a wrong password under which the certificate SafeContents still unpads cleanly', async () => {
    // About one salt in 256 makes a wrong password's AES-CBC decryption end in valid padding; only the DER check
    // then tells. The first such salt is searched for (one PBKDF2 iteration each).
    const wrong = 'Export-Passw0rt';
    const plain = encode(sequence(certBag(pushDer, LOCAL_KEY_ID)));
    let salt: Buffer | undefined;
    for (let i = 0; i < 10_000 && !salt; i++) {
      const candidate = Buffer.alloc(8);
      candidate.writeUInt32BE(i);
      const encryption: Encryption = { ...MODERN, iterations: 1, salt: candidate };
      const ciphertext = encrypt(encryption, SECRET(), plain);
      const key = pbkdf2Sync(wrong, candidate, 1, 32, 'sha256');
      try {
        const decipher = createDecipheriv('aes-256-cbc', key, IV);
        Buffer.concat([decipher.update(ciphertext), decipher.final()]);
        salt = candidate;
      } catch {
        // the padding is wrong: the usual case
      }
    }
    expect(salt).toBeDefined();
    const file = p12({ certs: { ...MODERN, iterations: 1, salt }, mac: null });
    // the file encrypts the very SafeContents the salt was searched for with
    pkcs12Tree({ certs: { ...MODERN, iterations: 1, salt }, mac: null }, (f) => expect(encode(f.certSafe)).toEqual(plain));
    expect(await outcome(file)).toEqual(summaryOf());
    await judge(file, invalid(WRONG_PASSWORD), wrong);
  });
});

describe("the PKCS#12 key derivation (RFC 7292 appendix B), against node-forge's", () => {
  // The derivation stretches the salt and the password to whole blocks of v octets (none at all for an empty salt)
  // and derives blocks of u octets until the key is long enough. So: salts and passwords of no octets, one, and either
  // side of a block (v is 64 octets for SHA-1, 128 for SHA-512; the password as a BMPString: 2, 4, 62, 64 and 66
  // octets, and 126, 128 and 130 for SHA-512's MAC); keys of less than a block (RC2-40's 5 octets, the 8-octet IV), of
  // one and a part (3DES's 24 octets from SHA-1's 20) and of exactly one (the MAC key). Each file is written with this
  // file's pkcs12Kdf, checked first to derive the same key as node-forge's, and opens only if the reader derives it
  // too. One iteration: the blocks, not the count, are what is checked here.
  const COUNT = 1;
  const PASSWORDS = ['', 'p', 'p'.repeat(30), 'p'.repeat(31), 'p'.repeat(32)];
  /** Either side of SHA-512's 128-octet block as a BMPString (126, 128 and 130 octets with its two-octet end). */
  const SHA512_BLOCK_PASSWORDS = ['p'.repeat(62), 'p'.repeat(63), 'p'.repeat(64)];
  /** `length` octets that are not all alike. */
  const saltOf = (length: number) => Buffer.from(Array.from({ length }, (_, i) => (i * 37 + 11) & 0xff));
  const FORGE_DIGESTS = { sha1: () => forge.md.sha1.create(), sha512: () => forge.md.sha512.create() };
  // forge's typings do not know pki.pbe; this is its 1.x signature.
  type Pkcs12KeyDerivation = (
    password: string,
    salt: forge.util.ByteStringBuffer,
    id: number,
    iterations: number,
    length: number,
    md: forge.md.MessageDigest,
  ) => forge.util.ByteStringBuffer;
  const { generatePkcs12Key } = (forge.pki as unknown as { pbe: { generatePkcs12Key: Pkcs12KeyDerivation } }).pbe;
  function forgeKey(digest: keyof typeof FORGE_DIGESTS, password: string, salt: Buffer, id: 1 | 2 | 3, length: number): Buffer {
    const key = generatePkcs12Key(password, forge.util.createBuffer(salt.toString('binary')), id, COUNT, length, FORGE_DIGESTS[digest]());
    return Buffer.from(key.getBytes(), 'binary');
  }

  it.each(
    (['3des', '2des', 'rc2-128', 'rc2-40'] as const).flatMap((cipher) =>
      [0, 1, 63, 64, 65].flatMap((saltLength) => PASSWORDS.map((password) => [cipher, saltLength, password.length, password] as const)),
    ),
  )(
    'opens, without a MAC, certificates and a key in %s with a salt of %i octets and a password of %i characters',
    async (cipher, saltLength, _characters, password) => {
      const salt = saltOf(saltLength);
      const { keyLength } = PKCS12_CIPHERS[cipher];
      const bmp = bmpPassword(password);
      expect(pkcs12Kdf('sha1', bmp, salt, 1, COUNT, keyLength)).toEqual(forgeKey('sha1', password, salt, 1, keyLength));
      expect(pkcs12Kdf('sha1', bmp, salt, 2, COUNT, 8)).toEqual(forgeKey('sha1', password, salt, 2, 8));
      const encryption: Encryption = { scheme: 'pkcs12', cipher, iterations: COUNT, salt };
      const file = p12({ password, certs: encryption, key: encryption, mac: null });
      await judge(file, OPENS, password);
      await judge(file, invalid(WRONG_PASSWORD), `${password}x`);
    },
  );

  it.each(
    (['sha1', 'sha512'] as const).flatMap((digest) =>
      [0, 1, 63, 64, 65, 127, 128, 129].flatMap((saltLength) =>
        (digest === 'sha512' ? [...PASSWORDS, ...SHA512_BLOCK_PASSWORDS] : PASSWORDS).map(
          (password) => [digest, saltLength, password.length, password] as const,
        ),
      ),
    ),
  )(
    'opens a file whose MAC is HMAC-%s with a salt of %i octets and a password of %i characters',
    async (digest, saltLength, _characters, password) => {
      const salt = saltOf(saltLength);
      const { u } = DIGESTS[digest];
      expect(pkcs12Kdf(digest, bmpPassword(password), salt, 3, COUNT, u)).toEqual(forgeKey(digest, password, salt, 3, u));
      const file = p12({ password, certs: null, mac: { digest, iterations: COUNT }, macSalt: salt });
      await judge(file, OPENS, password);
      await judge(file, invalid(WRONG_PASSWORD), `${password}x`);
    },
  );
});

describe('the encryption algorithms', () => {
  const pbes2 = (cipher: Pbes2Cipher, prf: Digest | null, more: Partial<Encryption> = {}): Encryption =>
    ({ scheme: 'pbes2', cipher, prf, iterations: ITERATIONS, ...more }) as Encryption;
  const pkcs12 = (cipher: Pkcs12Cipher): Encryption => ({ scheme: 'pkcs12', cipher, iterations: ITERATIONS });
  const supported: [string, Encryption][] = [
    ['pbeWithSHAAnd3-KeyTripleDES-CBC', pkcs12('3des')],
    ['pbeWithSHAAnd2-KeyTripleDES-CBC', pkcs12('2des')],
    ['pbeWithSHAAnd128BitRC2-CBC', pkcs12('rc2-128')],
    ['pbeWithSHAAnd40BitRC2-CBC', pkcs12('rc2-40')],
    ...(['aes-128-cbc', 'aes-192-cbc', 'aes-256-cbc', 'des-ede3-cbc'] as const).flatMap((cipher) =>
      (['sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const).map((prf): [string, Encryption] => [
        `PBES2 ${cipher}, PBKDF2-HMAC-${prf}`,
        pbes2(cipher, prf),
      ]),
    ),
    // PBKDF2's PRF DEFAULT hmacWithSHA1, and its optional key length
    ['PBES2 aes-256-cbc, PBKDF2 with no PRF (HMAC-SHA1)', pbes2('aes-256-cbc', null)],
    ['PBES2 aes-256-cbc, PBKDF2 stating its 32-octet key length', pbes2('aes-256-cbc', 'sha256', { statesKeyLength: true })],
    ['PBES2 aes-192-cbc, PBKDF2 stating its 24-octet key length, no PRF', pbes2('aes-192-cbc', null, { statesKeyLength: true })],
    ['PBES2 des-ede3-cbc, PBKDF2 stating its 24-octet key length', pbes2('des-ede3-cbc', 'sha1', { statesKeyLength: true })],
  ];

  it.each(supported)('opens certificates encrypted with %s (a MAC)', async (_name, certs) => {
    await judge(p12({ certs }), OPENS);
  });

  it.each(supported)('opens a key encrypted with %s (no MAC: the key is decrypted), and refuses a wrong password', async (_name, key) => {
    const file = p12({ certs: null, mac: null, key });
    await judge(file, OPENS);
    await judge(file, invalid(WRONG_PASSWORD), 'Export-Passw0rt');
  });

  // Each change is made to the certificate SafeContents' AlgorithmIdentifier (a MAC, so the key is never read).
  type Row = [string, Encryption, (e: EncryptionNodes, f: Pkcs12Nodes) => void, Expected];
  /** The rows of the iteration count of `encryption`'s parameters (`scheme` names them): absent, out of bounds, unreadable. */
  const countRows = (scheme: string, encryption: Encryption, dropCount: (e: EncryptionNodes) => void): Row[] => {
    const unreadable = invalid(malformed('the iteration count of an encrypted SafeContents'));
    return [
      [`${scheme} parameters with no iteration count`, encryption, dropCount, unreadable],
      [
        `a ${scheme} count of 0`,
        encryption,
        (e) => replace(e.iterations, integer(0)),
        invalid(iterationsRefused(0, 'an encrypted SafeContents')),
      ],
      [
        `a ${scheme} count of 1,000,001`,
        encryption,
        (e) => replace(e.iterations, integer(1_000_001)),
        invalid(iterationsRefused(1000001, 'an encrypted SafeContents')),
      ],
      [`a negative ${scheme} count`, encryption, (e) => replace(e.iterations, integerOctets(0x80)), unreadable],
      [`a ${scheme} count written as an OCTET STRING`, encryption, (e) => retag(e.iterations, 0x04), unreadable],
    ];
  };
  const rows: Row[] = [
    ['an algorithm identifier written as a SET', MODERN, (e) => retag(e.algorithm, 0x31), invalid(malformed('an encryption algorithm'))],
    ['an algorithm OID written as an OCTET STRING', MODERN, (e) => retag(e.oid, 0x04), invalid(malformed('an encryption algorithm'))],
    [
      'pbeWithMD5AndDES-CBC (PKCS#5 v1.5)',
      LEGACY_CERTS,
      (e) => replace(e.oid, oid(OID.pbeWithMd5AndDesCbc)),
      invalid(unsupported('encryption algorithm', OID.pbeWithMd5AndDesCbc)),
    ],
    [
      'an AES OID where the password-based scheme goes',
      MODERN,
      (e) => replace(e.oid, oid(PBES2_CIPHERS['aes-256-cbc'].oid)),
      invalid(unsupported('encryption algorithm', PBES2_CIPHERS['aes-256-cbc'].oid)),
    ],
    // PKCS#12 PBE parameters: SEQUENCE { salt OCTET STRING, iterations INTEGER }
    ['PBE with no parameters', LEGACY_CERTS, (e) => drop(e.algorithm, 1), invalid(malformed('the PBE parameters'))],
    ['PBE parameters written as a SET', LEGACY_CERTS, (e) => retag(e.params, 0x31), invalid(malformed('the PBE parameters'))],
    ['PBE parameters with no salt', LEGACY_CERTS, (e) => kids(e.params).splice(0), invalid(malformed('the PBE salt'))],
    ['a PBE salt written as an INTEGER', LEGACY_CERTS, (e) => retag(e.salt, 0x02), invalid(malformed('the PBE salt'))],
    ...countRows('PBE', LEGACY_CERTS, (e) => drop(e.params, 1)),
    ['a PBE salt other than the one used', LEGACY_CERTS, (e) => replace(e.salt, octets(Buffer.alloc(8))), invalid(WRONG_PASSWORD)],
    // PBES2-params: SEQUENCE { keyDerivationFunc, encryptionScheme }
    ['PBES2 with no parameters', MODERN, (e) => drop(e.algorithm, 1), invalid(malformed('the PBES2 parameters'))],
    ['PBES2 parameters written as a SET', MODERN, (e) => retag(e.params, 0x31), invalid(malformed('the PBES2 parameters'))],
    ['a PBES2 key derivation written as a SET', MODERN, (e) => retag(e.kdf, 0x31), invalid(malformed('the PBES2 key derivation'))],
    [
      'a PBES2 key derivation OID written as an OCTET STRING',
      MODERN,
      (e) => retag(e.kdfOid, 0x04),
      invalid(malformed('the PBES2 key derivation')),
    ],
    [
      'PBES2 with scrypt as its key derivation',
      MODERN,
      (e) => replace(e.kdfOid, oid(OID.scrypt)),
      invalid('The push certificate file uses an unsupported key derivation (only PBKDF2 is supported)'),
    ],
    ['PBKDF2 parameters written as a SET', MODERN, (e) => retag(e.kdfParams, 0x31), invalid(malformed('the PBKDF2 parameters'))],
    ['PBKDF2 with no parameters', MODERN, (e) => drop(e.kdf, 1), invalid(malformed('the PBKDF2 parameters'))],
    // salt CHOICE { specified OCTET STRING, otherSource AlgorithmIdentifier }: only the first is defined
    [
      'a PBKDF2 salt from another source (an AlgorithmIdentifier)',
      MODERN,
      (e) => replace(e.salt, sequence(oid(OID.data))),
      invalid(malformed('the PBKDF2 salt')),
    ],
    ...countRows('PBKDF2', MODERN, (e) => kids(e.kdfParams).splice(1)),
    [
      'a PBKDF2 key length of 16 for AES-256',
      pbes2('aes-256-cbc', 'sha256', { statesKeyLength: true }),
      (e) => replace(kids(e.kdfParams)[2], integer(16)),
      invalid(malformed('the PBKDF2 key length')),
    ],
    [
      'a PBKDF2 key length of 33 for AES-256',
      pbes2('aes-256-cbc', 'sha256', { statesKeyLength: true }),
      (e) => replace(kids(e.kdfParams)[2], integer(33)),
      invalid(malformed('the PBKDF2 key length')),
    ],
    [
      'a negative PBKDF2 key length',
      pbes2('aes-256-cbc', 'sha256', { statesKeyLength: true }),
      (e) => replace(kids(e.kdfParams)[2], integerOctets(0xe0)),
      invalid(malformed('the PBKDF2 key length')),
    ],
    [
      'a PBKDF2 key length INTEGER with no octets',
      pbes2('aes-256-cbc', 'sha256', { statesKeyLength: true }),
      (e) => replace(kids(e.kdfParams)[2], integerOctets()),
      invalid(malformed('the PBKDF2 key length')),
    ],
    [
      'a PBKDF2 key length of 32 on seven octets',
      pbes2('aes-256-cbc', 'sha256', { statesKeyLength: true }),
      (e) => replace(kids(e.kdfParams)[2], integerOctets(0, 0, 0, 0, 0, 0, 32)),
      invalid(malformed('the PBKDF2 key length')),
    ],
    [
      'a PBKDF2 key length of 32 on six octets',
      pbes2('aes-256-cbc', 'sha256', { statesKeyLength: true }),
      (e) => replace(kids(e.kdfParams)[2], integerOctets(0, 0, 0, 0, 0, 32)),
      OPENS,
    ],
    [
      'a PBKDF2 key length written [2] (context-specific)',
      pbes2('aes-256-cbc', 'sha256', { statesKeyLength: true }),
      (e) => retag(kids(e.kdfParams)[2], 0x82),
      invalid(malformed('the PBKDF2 key length')),
    ],
    [
      'a PBKDF2 PRF of HMAC-SHA3-256',
      MODERN,
      (e) => replace(kids(kids(e.kdfParams)[2])[0], oid(OID.hmacWithSha3_256)),
      invalid(unsupported('PBKDF2 PRF', OID.hmacWithSha3_256)),
    ],
    // the digest's OID, not the HMAC's
    [
      'a PBKDF2 PRF stated as SHA-256 (the digest, not HMAC-SHA256)',
      MODERN,
      (e) => replace(kids(kids(e.kdfParams)[2])[0], oid(DIGESTS.sha256.oid)),
      invalid(unsupported('PBKDF2 PRF', DIGESTS.sha256.oid)),
    ],
    ['a PBKDF2 PRF written as a NULL', MODERN, (e) => replace(kids(e.kdfParams)[2], nul()), invalid(malformed('the PBKDF2 PRF'))],
    ['a PBKDF2 PRF with no OID', MODERN, (e) => kids(kids(e.kdfParams)[2]).splice(0), invalid(malformed('the PBKDF2 PRF'))],
    [
      'a PBKDF2 PRF OID written as an OCTET STRING',
      MODERN,
      (e) => retag(kids(kids(e.kdfParams)[2])[0], 0x04),
      invalid(malformed('the PBKDF2 PRF')),
    ],
    [
      'a PBKDF2 PRF other than the one used (HMAC-SHA512 for HMAC-SHA256)',
      MODERN,
      (e) => replace(kids(kids(e.kdfParams)[2])[0], oid(DIGESTS.sha512.hmacOid)),
      invalid(WRONG_PASSWORD),
    ],
    ['a PBES2 encryption scheme written as a SET', MODERN, (e) => retag(e.scheme, 0x31), invalid(malformed('the PBES2 encryption scheme'))],
    ['PBES2 parameters with no encryption scheme', MODERN, (e) => drop(e.params, 1), invalid(malformed('the PBES2 encryption scheme'))],
    [
      'a PBES2 encryption scheme OID written as an OCTET STRING',
      MODERN,
      (e) => retag(e.schemeOid, 0x04),
      invalid(malformed('the PBES2 encryption scheme')),
    ],
    ['PBES2 with AES-256-GCM', MODERN, (e) => replace(e.schemeOid, oid(OID.aes256Gcm)), invalid(unsupported('cipher', OID.aes256Gcm))],
    ['PBES2 with single DES', MODERN, (e) => replace(e.schemeOid, oid(OID.desCbc)), invalid(unsupported('cipher', OID.desCbc))],
    ['a PBES2 encryption scheme with no IV', MODERN, (e) => drop(e.scheme, 1), invalid(malformed('the PBES2 IV'))],
    [
      'a PBES2 IV written as a SEQUENCE (RC2-CBC parameters)',
      MODERN,
      (e) => replace(e.iv, sequence(integer(58), octets(IV.subarray(0, 8)))),
      invalid(malformed('the PBES2 IV')),
    ],
    // a malformed IV length is not told apart from a wrong password
    ['a PBES2 IV of 8 octets for AES', MODERN, (e) => replace(e.iv, octets(IV.subarray(0, 8))), invalid(WRONG_PASSWORD)],
    ['a PBES2 IV other than the one used', MODERN, (e) => replace(e.iv, octets(Buffer.alloc(16))), invalid(WRONG_PASSWORD)],
    [
      'a PBES2 scheme naming AES-128 where AES-256 was used',
      MODERN,
      (e) => replace(e.schemeOid, oid(PBES2_CIPHERS['aes-128-cbc'].oid)),
      invalid(WRONG_PASSWORD),
    ],
  ];

  it.each(rows)('%s in the certificate SafeContents', async (_name, certs, change, expected) => {
    await judge(
      p12({ certs }, (f) => change(f.certEncryption, f)),
      expected,
    );
  });

  // Without a MAC the key is decrypted, so its AlgorithmIdentifier is read as strictly.
  it.each(rows.filter(([, , , expected]) => expected !== OPENS))('%s in the key bag (no MAC)', async (_name, key, change, expected) => {
    const where = (e: Refusal): Refusal => ({
      ...e,
      message: e.message.replace('an encrypted SafeContents', 'an encrypted private key'),
    });
    await judge(
      p12({ certs: null, mac: null, key }, (f) => change(f.keyEncryption, f)),
      where(expected as Refusal),
    );
  });
});

describe('iteration counts and the key-derivation work of the whole file', () => {
  const pbes2At = (iterations: number, prf: Digest = 'sha256', cipher: Pbes2Cipher = 'aes-256-cbc'): Encryption => ({
    scheme: 'pbes2',
    cipher,
    prf,
    iterations,
  });
  const pkcs12At = (cipher: Pkcs12Cipher, iterations: number): Encryption => ({ scheme: 'pkcs12', cipher, iterations });
  const WRONG = 'Export-Passw0rt';

  // A step is one hash of the PKCS#12 KDF; a PBKDF2 iteration is a third of one. Each file states its counts and is
  // opened with a wrong password: under the budget, the MAC (a few iterations) is derived and fails; over it, the file
  // is refused before anything is derived. The certificate SafeContents is never decrypted, so it holds no ciphertext.
  it.each<[string, Encryption[], number, Expected]>([
    // 3DES: two SHA-1 blocks for the 24-octet key and one for the IV
    ['3DES at 333,333 (999,999 steps) and a MAC at 1 (1,000,000)', [pkcs12At('3des', 333_333)], 1, invalid(WRONG_PASSWORD)],
    ['3DES at 333,333 and a MAC at 2 (1,000,001)', [pkcs12At('3des', 333_333)], 2, invalid(TOO_MUCH_WORK)],
    // RC2 and two-key 3DES: one block for the key, one for the IV
    ['RC2-40 at 499,999 (999,998 steps) and a MAC at 2', [pkcs12At('rc2-40', 499_999)], 2, invalid(WRONG_PASSWORD)],
    ['RC2-40 at 500,000 and a MAC at 1', [pkcs12At('rc2-40', 500_000)], 1, invalid(TOO_MUCH_WORK)],
    ['RC2-128 at 500,000 and a MAC at 1', [pkcs12At('rc2-128', 500_000)], 1, invalid(TOO_MUCH_WORK)],
    ['two-key 3DES at 499,999 and a MAC at 2', [pkcs12At('2des', 499_999)], 2, invalid(WRONG_PASSWORD)],
    ['two-key 3DES at 500,000 and a MAC at 1', [pkcs12At('2des', 500_000)], 1, invalid(TOO_MUCH_WORK)],
    // PBKDF2-HMAC-SHA256 for AES-256: one 32-octet block, a third of a step per iteration, rounded up per SafeContents
    [
      'PBKDF2-SHA256 at 1,000,000 twice and at 999,993 (333,334 + 333,334 + 333,331) and a MAC at 1',
      [pbes2At(1_000_000), pbes2At(1_000_000), pbes2At(999_993)],
      1,
      invalid(WRONG_PASSWORD),
    ],
    [
      'PBKDF2-SHA256 at 1,000,000 twice and at 999,994 (333,332 steps) and a MAC at 1',
      [pbes2At(1_000_000), pbes2At(1_000_000), pbes2At(999_994)],
      1,
      invalid(TOO_MUCH_WORK),
    ],
    // PBKDF2-HMAC-SHA1 for AES-256: two 20-octet blocks (666,667 steps at 1,000,000)
    [
      'PBKDF2-SHA1 for AES-256 at 1,000,000 (666,667 steps) and PBKDF2-SHA256 at 999,996 (333,332) and a MAC at 1',
      [pbes2At(1_000_000, 'sha1'), pbes2At(999_996)],
      1,
      invalid(WRONG_PASSWORD),
    ],
    [
      'PBKDF2-SHA1 for AES-256 at 1,000,000 and PBKDF2-SHA256 at 999,997 and a MAC at 1',
      [pbes2At(1_000_000, 'sha1'), pbes2At(999_997)],
      1,
      invalid(TOO_MUCH_WORK),
    ],
    [
      'PBKDF2-SHA1 for 3DES at 1,000,000 and PBKDF2-SHA256 at 999,997 and a MAC at 1',
      [pbes2At(1_000_000, 'sha1', 'des-ede3-cbc'), pbes2At(999_997)],
      1,
      invalid(TOO_MUCH_WORK),
    ],
    [
      'PBKDF2-SHA224 for AES-256 at 1,000,000 and PBKDF2-SHA256 at 999,997 and a MAC at 1',
      [pbes2At(1_000_000, 'sha224'), pbes2At(999_997)],
      1,
      invalid(TOO_MUCH_WORK),
    ],
    // one block whatever the hash when the key fits in it
    [
      'PBKDF2-SHA1 for AES-128 at 1,000,000 three times (1,000,002 steps)',
      [pbes2At(1_000_000, 'sha1', 'aes-128-cbc'), pbes2At(1_000_000, 'sha1', 'aes-128-cbc'), pbes2At(1_000_000, 'sha1', 'aes-128-cbc')],
      1,
      invalid(TOO_MUCH_WORK),
    ],
    [
      'PBKDF2-SHA1 for AES-128 at 1,000,000 twice and at 999,993',
      [pbes2At(1_000_000, 'sha1', 'aes-128-cbc'), pbes2At(1_000_000, 'sha1', 'aes-128-cbc'), pbes2At(999_993, 'sha1', 'aes-128-cbc')],
      1,
      invalid(WRONG_PASSWORD),
    ],
    [
      'PBKDF2-SHA384 for AES-256 at 1,000,000 twice and at 999,993',
      [pbes2At(1_000_000, 'sha384'), pbes2At(1_000_000, 'sha512'), pbes2At(999_993, 'sha224', 'aes-128-cbc')],
      1,
      invalid(WRONG_PASSWORD),
    ],
    ['a SafeContents at 1,000,000 (the most any one count may be), PBKDF2-SHA256', [pbes2At(1_000_000)], 1, invalid(WRONG_PASSWORD)],
    [
      'a SafeContents at 1,000,001, PBKDF2-SHA256',
      [pbes2At(1_000_001)],
      1,
      invalid(iterationsRefused(1000001, 'an encrypted SafeContents')),
    ],
    [
      'a SafeContents at 2^31-1, 3DES',
      [pkcs12At('3des', 2 ** 31 - 1)],
      1,
      invalid(iterationsRefused(2147483647, 'an encrypted SafeContents')),
    ],
  ])('%s', async (_name, safes, macIterations, expected) => {
    const [first, ...more] = safes;
    const file = p12({ certs: first, mac: { digest: 'sha256', iterations: macIterations } }, (f) => {
      undecrypted(f);
      kids(f.authSafe).push(...more.map((encryption) => statedOnly(encryption)));
    });
    const start = performance.now();
    await judge(file, expected, WRONG);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('opens a file whose work is exactly 1,000,000 steps, all of it derived (three SafeContents, no MAC, no key)', async () => {
    const file = p12({ certs: pbes2At(1_000_000), mac: null }, (f) => {
      kids(f.keySafe).splice(0);
      kids(f.authSafe).push(encryptedSafe(pbes2At(1_000_000), SECRET()), encryptedSafe(pbes2At(999_996), SECRET()));
    });
    await judge(file, OPENS);
  });

  it.each<[string, FileOptions, (f: Pkcs12Nodes) => void, Expected]>([
    // with a MAC the key is never decrypted: its count is bounded but costs nothing
    [
      'a 3DES key at 1,000,000 with a MAC',
      { key: pkcs12At('3des', 1_000_000) },
      (f) => replace(f.keyCiphertext, octets(Buffer.alloc(8))),
      OPENS,
    ],
    ['a PBKDF2 key at 1,000,000 with a MAC', { key: pbes2At(1_000_000) }, (f) => replace(f.keyCiphertext, octets(Buffer.alloc(16))), OPENS],
    [
      'a 3DES key at 1,000,001 with a MAC',
      { key: pkcs12At('3des', 1_000_001) },
      (f) => replace(f.keyCiphertext, octets(Buffer.alloc(8))),
      invalid(iterationsRefused(1000001, 'an encrypted private key')),
    ],
    [
      'a PBKDF2 key at 1,000,001 with a MAC',
      { key: pbes2At(1_000_001) },
      (f) => replace(f.keyCiphertext, octets(Buffer.alloc(16))),
      invalid(iterationsRefused(1000001, 'an encrypted private key')),
    ],
    [
      'a PBKDF2 key at 0 with a MAC',
      { key: pbes2At(1) },
      (f) => replace(f.keyEncryption.iterations, integer(0)),
      invalid(iterationsRefused(0, 'an encrypted private key')),
    ],
    // a count the reader cannot read is left alone with the key, which is never decrypted
    [
      'a 3DES key whose count is written [2] (context-specific), with a MAC',
      { key: LEGACY_KEY },
      (f) => retag(f.keyEncryption.iterations, 0x82),
      OPENS,
    ],
    ['a 3DES key whose count is an OCTET STRING, with a MAC', { key: LEGACY_KEY }, (f) => retag(f.keyEncryption.iterations, 0x04), OPENS],
    [
      'a key derived with scrypt (N = 16384), with a MAC',
      { key: pbes2At(ITERATIONS) },
      (f) => replace(f.keyEncryption.kdf, sequence(oid(OID.scrypt), sequence(octets(SALT), integer(16_384), integer(8), integer(1)))),
      OPENS,
    ],
    // scrypt's second parameter is its cost N, not an iteration count: 2^20 is a usual cost, and the key is never derived
    [
      'a key derived with scrypt (N = 2^20), with a MAC',
      { key: pbes2At(ITERATIONS) },
      (f) => replace(f.keyEncryption.kdf, sequence(oid(OID.scrypt), sequence(octets(SALT), integer(1 << 20), integer(8), integer(1)))),
      OPENS,
    ],
    [
      'a key in an unknown algorithm, with a MAC',
      { key: LEGACY_KEY },
      (f) => replace(f.keyEncryption.oid, oid(OID.pbeWithMd5AndDesCbc)),
      OPENS,
    ],
    [
      'a key bag holding no EncryptedPrivateKeyInfo, with a MAC',
      {},
      (f) => replace(f.keyBagValue, octets(Buffer.from('not a key'))),
      OPENS,
    ],
    ['a key bag whose algorithm OID is an OCTET STRING, with a MAC', {}, (f) => retag(f.keyEncryption.oid, 0x04), OPENS],
    // without a MAC each key is a derivation, planned with the rest: 3DES at 333,334 is 1,000,002 steps
    [
      'a 3DES key at 333,334, no MAC',
      { certs: null, mac: null, key: pkcs12At('3des', 333_334) },
      (f) => replace(f.keyCiphertext, octets(Buffer.alloc(8))),
      invalid(TOO_MUCH_WORK),
    ],
    [
      'a 3DES key at 1,000,001, no MAC',
      { certs: null, mac: null, key: pkcs12At('3des', 1_000_001) },
      (f) => replace(f.keyCiphertext, octets(Buffer.alloc(8))),
      invalid(iterationsRefused(1000001, 'an encrypted private key')),
    ],
    [
      'a key in an unknown algorithm, no MAC',
      { certs: null, mac: null, key: LEGACY_KEY },
      (f) => replace(f.keyEncryption.oid, oid(OID.pbeWithMd5AndDesCbc)),
      invalid(unsupported('encryption algorithm', OID.pbeWithMd5AndDesCbc)),
    ],
    [
      'a key bag holding no EncryptedPrivateKeyInfo, no MAC',
      { certs: null, mac: null },
      (f) => replace(f.keyBagValue, octets(Buffer.from('not a key'))),
      invalid(malformed('an encrypted private key')),
    ],
    [
      'a key whose ciphertext is a BIT STRING, no MAC',
      { certs: null, mac: null },
      (f) => retag(f.keyCiphertext, 0x03),
      invalid(malformed('an encrypted private key')),
    ],
    [
      'a key with no ciphertext, no MAC',
      { certs: null, mac: null },
      (f) => drop(f.keyBagValue, 1),
      invalid(malformed('an encrypted private key')),
    ],
  ])('%s', async (_name, options, edit, expected) => {
    const start = performance.now();
    await judge(p12(options, edit), expected);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  // With a MAC the key is never decrypted, and its count is bounded only where its algorithm reads as PKCS#12 PBE or
  // as PBES2 with PBKDF2: an algorithm written any other way states no count, whatever its parameters hold.
  it.each<[string, (f: Pkcs12Nodes) => void]>([
    ['the PBES2 OID written as an OCTET STRING', (f) => retag(f.keyEncryption.oid, 0x04)],
    ['the PBES2 OID written as a constructed OID', (f) => replace(f.keyEncryption.oid, tlv(0x26, [oid(OID.pbes2)]))],
    ['pbeWithMD5AndDES-CBC, with PBES2 parameters', (f) => replace(f.keyEncryption.oid, oid(OID.pbeWithMd5AndDesCbc))],
  ])('opens a file with a MAC whose key, at 1,000,001 PBKDF2 iterations, names its algorithm as %s', async (_name, edit) => {
    const file = p12({ key: pbes2At(1_000_001) }, (f) => {
      replace(f.keyCiphertext, octets(Buffer.alloc(16)));
      edit(f);
    });
    await judge(file, OPENS);
  });

  // The plan refuses the file before the certificate SafeContents (first in the file) would be decrypted and the
  // wrong password found.
  it('refuses a file without a MAC whose key states too much work, whatever the password', async () => {
    const file = p12({ mac: null, key: pkcs12At('3des', 333_334) }, (f) => replace(f.keyCiphertext, octets(Buffer.alloc(8))));
    await judge(file, invalid(TOO_MUCH_WORK));
    await judge(file, invalid(TOO_MUCH_WORK), WRONG);
  });

  // Every password encoding the MAC tries is one more derivation: a non-ASCII password tries two, the empty one two.
  // Three encrypted SafeContents state almost all of the budget (never decrypted: the certificates are in the clear);
  // the MAC's digest is zeros, so any password that gets to it is wrong.
  it.each<[string, number, number, string, Expected]>([
    ['an ASCII password, 999,999 steps stated and a MAC at 1', 999_993, 1, WRONG, invalid(WRONG_PASSWORD)],
    ['a non-ASCII password, 999,999 steps stated and a MAC at 1 (two encodings: 1,000,001)', 999_993, 1, NON_ASCII, invalid(TOO_MUCH_WORK)],
    ['the empty password, 999,999 steps stated and a MAC at 1 (two encodings: 1,000,001)', 999_993, 1, '', invalid(TOO_MUCH_WORK)],
    ['a non-ASCII password, 999,998 steps stated and a MAC at 1 (1,000,000)', 999_990, 1, NON_ASCII, invalid(WRONG_PASSWORD)],
    ['a non-ASCII password, 999,998 steps stated and a MAC at 2 (1,000,002)', 999_990, 2, NON_ASCII, invalid(TOO_MUCH_WORK)],
  ])('%s', async (_name, third, macIterations, password, expected) => {
    const file = p12({ certs: null, mac: { digest: 'sha1', iterations: macIterations } }, (f) => {
      replace(f.macDigest, octets(Buffer.alloc(20)));
      kids(f.authSafe).push(statedOnly(pbes2At(1_000_000)), statedOnly(pbes2At(1_000_000)), statedOnly(pbes2At(third)));
    });
    await judge(file, expected, password);
  });
});

describe('the bags', () => {
  const keySafeBags = (f: Pkcs12Nodes) => kids(f.keySafe);
  const certSafeBags = (f: Pkcs12Nodes) => kids(f.certSafe);
  /** `bags` nested `depth` SafeContents bags deep. */
  const nestedIn = (depth: number, ...bags: Node[]): Node => (depth === 0 ? bags[0] : safeContentsBag(nestedIn(depth - 1, ...bags)));
  /** A plain keyBag (PKCS#8 in the clear) with a localKeyId. */
  const plainKeyBag = (localKeyId: Buffer) =>
    sequence(oid(OID.keyBag), explicit0(octets(Buffer.alloc(0))), set(localKeyIdAttribute(localKeyId)));

  it.each<FileRow>([
    // in the SafeContents in the clear (the key's) and in the decrypted one (the certificate's)
    ['a SafeContents in the clear written as a SET', changed((f) => retag(f.keySafe, 0x31)), invalid(malformed('the SafeContents'))],
    ['a decrypted SafeContents written as a SET', changed((f) => retag(f.certSafe, 0x31)), invalid(malformed('the SafeContents'))],
    ['a SafeBag written as a SET', changed((f) => retag(f.keyBag, 0x31)), invalid(malformed('a SafeBag'))],
    ['a decrypted SafeBag written as a SET', changed((f) => retag(f.certBag, 0x31)), invalid(malformed('a SafeBag'))],
    ['a SafeBag whose type is an OCTET STRING', changed((f) => retag(kids(f.keyBag)[0], 0x04)), invalid(malformed('a SafeBag'))],
    ['a SafeBag with no type', changed((f) => keySafeBags(f).splice(0, 1, sequence())), invalid(malformed('a SafeBag'))],
    ['a SafeBag with its value in [1]', changed((f) => retag(f.keyBagExplicit, 0xa1)), invalid(malformed('a SafeBag'))],
    [
      'a SafeBag with its value in a primitive [0]',
      changed((f) =>
        replace(
          f.certBagExplicit,
          tlv(0x80, () => encode(f.certBagValue)),
        ),
      ),
      invalid(malformed('a SafeBag')),
    ],
    ['a SafeBag with two values in its [0]', changed((f) => kids(f.certBagExplicit).push(nul())), invalid(malformed('a SafeBag'))],
    ['a SafeBag with no value', changed((f) => kids(f.keyBag).splice(1)), invalid(malformed('a SafeBag'))],
    [
      'a bag of an unknown type whose value is not in [0]',
      changed((f) => keySafeBags(f).push(sequence(oid('1.2.3.4'), nul()))),
      invalid(malformed('a SafeBag')),
    ],
    // attributes: SET OF SEQUENCE { OID, SET OF value }
    ['bag attributes written as a SEQUENCE', changed((f) => retag(f.keyAttributes, 0x30)), invalid(malformed('the bag attributes'))],
    ['a bag attribute written as a SET', changed((f) => retag(f.certLocalKeyId, 0x31)), invalid(malformed('a bag attribute'))],
    [
      'a bag attribute whose type is an OCTET STRING',
      changed((f) => retag(kids(f.certLocalKeyId)[0], 0x04)),
      invalid(malformed('a bag attribute')),
    ],
    ['a bag attribute with nothing in it', changed((f) => kids(f.certLocalKeyId).splice(0)), invalid(malformed('a bag attribute'))],
    [
      'localKeyId values written as a SEQUENCE',
      changed((f) => retag(kids(f.certLocalKeyId)[1], 0x30)),
      invalid(malformed('the localKeyId')),
    ],
    ['a localKeyId with no value', changed((f) => kids(kids(f.certLocalKeyId)[1]).splice(0)), invalid(malformed('the localKeyId'))],
    [
      'a localKeyId written as an INTEGER',
      changed((f) => retag(kids(kids(f.certLocalKeyId)[1])[0], 0x02)),
      invalid(malformed('the localKeyId')),
    ],
    ['a localKeyId in a constructed OCTET STRING (BER)', changed((f) => chunked(kids(kids(f.certLocalKeyId)[1])[0])), OPENS],
    [
      'malformed attributes on a bag nothing else is read from',
      changed((f) => keySafeBags(f).push(sequence(...kids(secretBag()), sequence()))),
      invalid(malformed('the bag attributes')),
    ],
    // certificate bags: SEQUENCE { certId OID, certValue [0] EXPLICIT OCTET STRING }
    ['a certificate bag written as a SET', changed((f) => retag(f.certBagValue, 0x31)), invalid(malformed('a certificate bag'))],
    ['a certificate bag whose type is an OCTET STRING', changed((f) => retag(f.certType, 0x04)), invalid(malformed('a certificate bag'))],
    [
      'a certificate bag with a type and no certificate',
      changed((f) => kids(f.certBagValue).splice(1)),
      invalid(malformed('a certificate bag')),
    ],
    ['a certificate in [1]', changed((f) => retag(f.certExplicit, 0xa1)), invalid(malformed('a certificate bag'))],
    ['a certificate in a BIT STRING', changed((f) => retag(f.certOctets, 0x03)), invalid(malformed('a certificate bag'))],
    ['a certificate in a constructed OCTET STRING (BER)', changed((f) => chunked(f.certOctets)), OPENS],
    ['an SDSI certificate (the only certificate)', changed((f) => replace(f.certType, oid(OID.sdsiCertificate))), invalid(NO_CERTIFICATE)],
    // bags nothing is read from
    [
      'a CRL bag, a secret bag and a bag of an unknown type besides',
      changed((f) =>
        keySafeBags(f).push(sequence(oid(OID.crlBag), explicit0(nul())), secretBag(), sequence(oid('1.2.3.4'), explicit0(nul()))),
      ),
      OPENS,
    ],
    ['a plain keyBag instead of the shrouded one', changed((f) => keySafeBags(f).splice(0, 1, plainKeyBag(LOCAL_KEY_ID))), OPENS],
    ['no key at all', changed((f) => keySafeBags(f).splice(0)), OPENS],
    // nested SafeContents bags
    ['the certificate bag inside a SafeContents bag', changed((f) => certSafeBags(f).splice(0, 1, nestedIn(1, f.certBag))), OPENS],
    ['the certificate bag 4 SafeContents bags deep', changed((f) => certSafeBags(f).splice(0, 1, nestedIn(4, f.certBag))), OPENS],
    [
      'the certificate bag 5 SafeContents bags deep',
      changed((f) => certSafeBags(f).splice(0, 1, nestedIn(5, f.certBag))),
      invalid(malformed('the bag nesting')),
    ],
    [
      'the key bag 5 SafeContents bags deep (in the clear)',
      changed((f) => keySafeBags(f).splice(0, 1, nestedIn(5, f.keyBag))),
      invalid(malformed('the bag nesting')),
    ],
    [
      'a SafeContents bag holding a SET',
      changed((f) => keySafeBags(f).push(sequence(oid(OID.safeContentsBag), explicit0(set())))),
      invalid(malformed('the SafeContents')),
    ],
    ['a SafeContents bag holding an empty SafeContents', changed((f) => keySafeBags(f).push(safeContentsBag())), OPENS],
    // 32 bags in all, nested and decrypted ones included
    [
      '32 bags: the certificate, the key and 30 secret bags',
      changed((f) => keySafeBags(f).push(...Array.from({ length: 30 }, () => secretBag()))),
      OPENS,
    ],
    [
      '33 bags: the certificate, the key and 31 secret bags',
      changed((f) => keySafeBags(f).push(...Array.from({ length: 31 }, () => secretBag()))),
      invalid(TOO_MANY_BAGS),
    ],
    [
      '32 bags, 30 of them in a SafeContents bag (which counts)',
      changed((f) => keySafeBags(f).push(safeContentsBag(...Array.from({ length: 29 }, () => secretBag())))),
      OPENS,
    ],
    [
      '33 bags, 31 of them in a SafeContents bag',
      changed((f) => keySafeBags(f).push(safeContentsBag(...Array.from({ length: 30 }, () => secretBag())))),
      invalid(TOO_MANY_BAGS),
    ],
    // seen only once the certificate SafeContents is decrypted
    [
      '32 bags, 30 of them in the encrypted SafeContents',
      changed((f) => certSafeBags(f).push(...Array.from({ length: 30 }, () => secretBag()))),
      OPENS,
    ],
    [
      '33 bags, 31 of them in the encrypted SafeContents',
      changed((f) => certSafeBags(f).push(...Array.from({ length: 31 }, () => secretBag()))),
      invalid(TOO_MANY_BAGS),
    ],
  ])('%s', async (_name, file, expected) => {
    await judge(file(), expected);
  });

  it.each<[string, number, Expected]>([
    // SafeContents, SafeBag and [0] are three levels: a value 61 deep makes 64, forge's bound here
    ['ASN.1 nested 64 levels deep in a SafeContents', 61, OPENS],
    ['ASN.1 nested 65 levels deep in a SafeContents', 62, invalid(notDer('a SafeContents'))],
  ])('%s', async (_name, depth, expected) => {
    let value = sequence();
    for (let level = 1; level < depth; level++) value = sequence(value);
    await judge(
      p12({}, (f) => kids(f.keySafe).push(sequence(oid(OID.secretBag), explicit0(value)))),
      expected,
    );
  });
});

/** DER read into nodes with node-forge's reader, to be changed and written again. */
function readDer(der: Buffer): Node {
  const fromDer = forge.asn1.fromDer as unknown as (bytes: string, options: object) => forge.asn1.Asn1;
  const toNode = (node: forge.asn1.Asn1): Node => ({
    tag: node.tagClass | (node.constructed ? 0x20 : 0) | (node.type as number),
    value: Array.isArray(node.value) ? node.value.map(toNode) : Buffer.from(node.value, 'binary'),
  });
  return toNode(fromDer(der.toString('binary'), { strict: true, parseAllBytes: true, decodeBitStrings: false }));
}

/**
 * The push certificate with its to-be-signed part changed (fields: version, serial, signature, issuer, validity,
 * subject, …; the subject's RDNs are UID, CN, C). Not signed again: nothing here checks a signature.
 */
function pushWith(edit: (fields: Node[], rdns: Node[]) => void): Buffer {
  const certificate = readDer(pushDer);
  const fields = kids(kids(certificate)[0]);
  edit(fields, kids(fields[5]));
  return encode(certificate);
}
/** The UID attribute (type and value) of the push certificate's first RDN. */
const uidAttribute = (rdns: Node[]) => kids(rdns[0])[0];

describe('the certificate chosen', () => {
  const withCertificates = (bags: () => Node[]) => changed((f) => kids(f.certSafe).splice(0, 1, ...bags()));
  const OTHER_ID = Buffer.alloc(20, 0xee);
  const caSubject = 'CN=Push Test CA, O=Example, C=US';
  const notPush = (subject: string): Refusal => ({
    code: 'NOT_A_PUSH_CERTIFICATE',
    message: `The certificate (${subject}) has no UID attribute in its subject, so it is not an APNs push certificate`,
  });
  const junk = () => Buffer.from('3003020101', 'hex');

  it.each<FileRow>([
    [
      'a certificate bag holding something that is not a certificate',
      withCertificates(() => [certBag(Buffer.from('not a certificate'), LOCAL_KEY_ID)]),
      invalid(UNREADABLE_CERTIFICATE),
    ],
    [
      'a certificate bag holding a SEQUENCE that is not a certificate',
      withCertificates(() => [certBag(junk(), LOCAL_KEY_ID)]),
      invalid(UNREADABLE_CERTIFICATE),
    ],
    [
      'the push certificate followed by two octets in its bag',
      () => p12({ certificate: Buffer.concat([pushDer, Buffer.from([5, 0])]) }),
      invalid(UNREADABLE_CERTIFICATE),
    ],
    // paired with the key by localKeyId: chosen over every other
    [
      'an unreadable certificate, then the push certificate paired with the key',
      withCertificates(() => [certBag(junk()), certBag(pushDer, LOCAL_KEY_ID)]),
      OPENS,
    ],
    [
      'an unreadable certificate paired with the key, then the push certificate',
      withCertificates(() => [certBag(junk(), LOCAL_KEY_ID), certBag(pushDer)]),
      invalid(UNREADABLE_CERTIFICATE),
    ],
    [
      'a CA paired with the key, then the push certificate',
      withCertificates(() => [certBag(caDer, LOCAL_KEY_ID), certBag(pushDer)]),
      notPush(caSubject),
    ],
    [
      'a CA paired with a plain keyBag, then the push certificate',
      changed((f) => {
        kids(f.certSafe).splice(0, 1, certBag(caDer, OTHER_ID), certBag(pushDer));
        kids(f.keySafe).push(sequence(oid(OID.keyBag), explicit0(octets(Buffer.alloc(0))), set(localKeyIdAttribute(OTHER_ID))));
      }),
      notPush(caSubject),
    ],
    [
      'the push certificate with a localKeyId no key has, then a CA paired with the key',
      withCertificates(() => [certBag(pushDer, OTHER_ID), certBag(caDer, LOCAL_KEY_ID)]),
      notPush(caSubject),
    ],
    // no pairing: the first certificate that is not a CA
    ['a CA, then the push certificate, neither paired', withCertificates(() => [certBag(caDer), certBag(pushDer)]), OPENS],
    [
      'a CA with a localKeyId no key has, then the push certificate',
      withCertificates(() => [certBag(caDer, OTHER_ID), certBag(pushDer)]),
      OPENS,
    ],
    [
      'a CA, then the push certificate, and a key with no localKeyId',
      changed((f) => {
        kids(f.certSafe).splice(0, 1, certBag(caDer, LOCAL_KEY_ID), certBag(pushDer));
        kids(f.keyBag).splice(2);
      }),
      OPENS,
    ],
    [
      'an unreadable certificate, then the push certificate, neither paired',
      withCertificates(() => [certBag(junk()), certBag(pushDer)]),
      OPENS,
    ],
    // an empty localKeyId names no key: on a key and on a CA it pairs nothing
    [
      'a CA and the shrouded key with an empty localKeyId each, then the push certificate',
      changed((f) => {
        kids(f.certSafe).splice(0, 1, certBag(caDer, Buffer.alloc(0)), certBag(pushDer));
        replace(kids(f.keyAttributes)[1], localKeyIdAttribute(Buffer.alloc(0)));
      }),
      OPENS,
    ],
    [
      'a CA and a plain keyBag with an empty localKeyId each, then the push certificate',
      changed((f) => {
        kids(f.certSafe).splice(0, 1, certBag(caDer, Buffer.alloc(0)), certBag(pushDer));
        const emptyId = set(localKeyIdAttribute(Buffer.alloc(0)));
        kids(f.keySafe).splice(0, 1, sequence(oid(OID.keyBag), explicit0(octets(Buffer.alloc(0))), emptyId));
      }),
      OPENS,
    ],
    // and else the first certificate
    ['a CA alone', withCertificates(() => [certBag(caDer)]), notPush(caSubject)],
    ['an unreadable certificate, then a CA', withCertificates(() => [certBag(junk()), certBag(caDer)]), invalid(UNREADABLE_CERTIFICATE)],
    ['a CA, then an unreadable certificate', withCertificates(() => [certBag(caDer), certBag(junk())]), notPush(caSubject)],
  ])('%s', async (_name, file, expected) => {
    await judge(file(), expected);
  });
});

describe("the certificate's topic", () => {
  /** The UID value re-encoded as `tag` with `bytes`. */
  const uidAs = (tag: number, bytes: Buffer) => pushWith((_fields, rdns) => replace(kids(uidAttribute(rdns))[1], tlv(tag, bytes)));
  const ascii = Buffer.from(TOPIC, 'latin1');
  const utf32be = (text: string) =>
    Buffer.concat(
      [...text].map((character) => {
        const octets = Buffer.alloc(4);
        octets.writeUInt32BE(character.codePointAt(0)!);
        return octets;
      }),
    );
  /** `text` in the octets of the string type `tag`. */
  const encodeAs = (tag: number, text: string) =>
    tag === 0x1e ? Buffer.from(text, 'utf16le').swap16() : tag === 0x1c ? utf32be(text) : Buffer.from(text, tag === 0x14 ? 'latin1' : 'utf8');
  const foreignTopic = (topic: string): Refusal => ({
    code: 'NOT_A_PUSH_CERTIFICATE',
    message: `The certificate's topic (UID "${topic}") does not start with com.apple.mgmt, so it is not an MDM push certificate`,
  });

  it.each<[string, () => Buffer, string, string]>([
    ['a PrintableString', () => uidAs(0x13, ascii), TOPIC, SUBJECT],
    [
      'a UTF8String of 256 characters, as long as a device may report',
      () => uidAs(0x0c, Buffer.from(`com.apple.mgmt.${'x'.repeat(241)}`)),
      `com.apple.mgmt.${'x'.repeat(241)}`,
      `UID=com.apple.mgmt.${'x'.repeat(241)}, CN=APSP:${UUID}, C=US`,
    ],
    ['a BMPString', () => uidAs(0x1e, Buffer.from(TOPIC, 'utf16le').swap16()), TOPIC, SUBJECT],
    ['a UniversalString', () => uidAs(0x1c, utf32be(TOPIC)), TOPIC, SUBJECT],
    ['an IA5String', () => uidAs(0x16, ascii), TOPIC, SUBJECT],
    ['a TeletexString', () => uidAs(0x14, ascii), TOPIC, SUBJECT],
    [
      'a multi-valued RDN (CN and UID together)',
      () => pushWith((_fields, rdns) => void rdns.splice(0, 2, set(kids(rdns[1])[0], uidAttribute(rdns)))),
      TOPIC,
      `CN=APSP:${UUID} + UID=${TOPIC}, C=US`,
    ],
    [
      'two UIDs, the push topic first',
      () => pushWith((_fields, rdns) => void rdns.push(set(sequence(oid(OID.userId), tlv(0x0c, Buffer.from('com.example.other')))))),
      TOPIC,
      `${SUBJECT}, UID=com.example.other`,
    ],
    // a version 1 certificate has no [0] version, so its subject is the fifth field, not the sixth
    [
      'a version 1 certificate',
      () =>
        pushWith((fields) => {
          fields.splice(0, 1); // the version
          fields.splice(6); // the extensions, which version 1 has not
        }),
      TOPIC,
      SUBJECT,
    ],
  ])('reads a UID written as %s', async (_name, certificate, topic, subject) => {
    const der = certificate();
    expect(await outcome(p12({ certificate: der }))).toEqual(summaryOf(der, topic, subject));
  });

  it.each<[string, () => Buffer, Refusal]>([
    // every string type OpenSSL reads is read, so the topic they name is judged like any other
    ['a UniversalString', () => uidAs(0x1c, Buffer.from('\0\0\0c\0\0\0o\0\0\0m', 'latin1')), foreignTopic('com')],
    ['a NumericString', () => uidAs(0x12, Buffer.from('0123')), foreignTopic('0123')],
    // the topic quoted whole up to 100 characters, then cut
    ['a foreign UTF8String of 100 characters', () => uidAs(0x0c, Buffer.from('x'.repeat(100))), foreignTopic('x'.repeat(100))],
    ['a foreign UTF8String of 101 characters', () => uidAs(0x0c, Buffer.from('x'.repeat(101))), foreignTopic(`${'x'.repeat(100)}…`)],
    // BER, not DER: a UID is there, but not as text
    [
      'a constructed UTF8String',
      () => uidAs(0x2c, encode(tlv(0x0c, Buffer.from(TOPIC)))),
      {
        code: 'NOT_A_PUSH_CERTIFICATE',
        message: `The certificate (${SUBJECT}) has a UID attribute written in a form that is not read (not a DER string type), so it names no push topic`,
      },
    ],
    // OpenSSL itself does not read these certificates
    ['a VisibleString', () => uidAs(0x1a, ascii), invalid(UNREADABLE_CERTIFICATE)],
    ['a UTF8String tagged [12] (context-specific)', () => uidAs(0x8c, ascii), invalid(UNREADABLE_CERTIFICATE)],
    ['a UniversalString of 6 octets', () => uidAs(0x1c, Buffer.from('000000630000', 'hex')), invalid(UNREADABLE_CERTIFICATE)],
    [
      'a UniversalString with a code point above U+10FFFF',
      () => uidAs(0x1c, Buffer.from('0000006300110000', 'hex')),
      invalid(UNREADABLE_CERTIFICATE),
    ],
    ['a BMPString of an odd number of octets', () => uidAs(0x1e, Buffer.from('\0c\0o\0', 'latin1')), invalid(UNREADABLE_CERTIFICATE)],
    [
      'two UIDs, a foreign one first',
      () => pushWith((_fields, rdns) => void rdns.unshift(set(sequence(oid(OID.userId), tlv(0x0c, Buffer.from('com.example.other')))))),
      {
        code: 'NOT_A_PUSH_CERTIFICATE',
        message: `The certificate's topic (UID "com.example.other") does not start with com.apple.mgmt, so it is not an MDM push certificate`,
      },
    ],
    // a topic a device could never report, or that would write control or direction characters into every warning;
    // the text quoted shows each string type decoded as OpenSSL decodes it
    ...(
      [
        ['a UTF8String with non-ASCII characters', `${TOPIC}.é€`, `${TOPIC}.é€`, 0x0c],
        ['a TeletexString with an octet above 0x7f (read as Latin-1)', `${TOPIC}.é`, `${TOPIC}.é`, 0x14],
        // (OpenSSL reads a BMPString as UCS-2: no surrogate pairs)
        ['a BMPString with characters beyond ASCII', `${TOPIC}.é€`, `${TOPIC}.é€`, 0x1e],
        ['a UniversalString with a character beyond the BMP', `${TOPIC}.😀`, `${TOPIC}.😀`, 0x1c],
        // U+10FFFF, the last code point, is read (and, a noncharacter, not quoted)
        ['a UniversalString with U+10FFFF', `${TOPIC}.\u{10ffff}x`, `${TOPIC}.x`, 0x1c],
        ['a topic with a NUL in it', `${TOPIC}\u0000.x`, `${TOPIC}.x`],
        ['a topic with a right-to-left override in it', `${TOPIC}\u202e.x`, `${TOPIC}.x`],
        ['a topic with a line separator in it', `${TOPIC}\u2028.x`, `${TOPIC}.x`],
        ['a topic with a space in it', `${TOPIC} x`, `${TOPIC} x`],
        ['a topic of 257 characters', `com.apple.mgmt.${'x'.repeat(242)}`, `com.apple.mgmt.${'x'.repeat(49)}…`],
      ] as [string, string, string, number?][]
    ).map(([name, topic, quoted, tag = 0x0c]): [string, () => Buffer, Refusal] => [
      name,
      () => uidAs(tag, encodeAs(tag, topic)),
      {
        code: 'NOT_A_PUSH_CERTIFICATE',
        message: `The certificate's topic (UID "${quoted}") is not one a device can report: a push topic is at most 256 printable ASCII characters, without spaces`,
      },
    ]),
  ])('refuses a UID written as %s', async (_name, certificate, expected) => {
    const file = p12({ certificate: certificate() });
    expect(await outcome(file)).toEqual(expected);
  });
});

describe("the certificate's validity", () => {
  /** The push certificate with its notBefore (0) or notAfter (1) written as `tag` with `text`. */
  const validity = (index: 0 | 1, tag: number, text: string) =>
    pushWith((fields) => replace(kids(fields[4])[index], tlv(tag, Buffer.from(text))));
  const UNREADABLE_VALIDITY = invalid('The certificate inside the push certificate file has an unreadable validity period');

  it.each<[string, () => Buffer, Expected]>([
    ['a notAfter in month 13', () => validity(1, 0x17, '261301000000Z'), UNREADABLE_VALIDITY],
    ['a notAfter at hour 25', () => validity(1, 0x17, '260601250000Z'), UNREADABLE_VALIDITY],
    ['a notBefore in month 13', () => validity(0, 0x17, '251301000000Z'), UNREADABLE_VALIDITY],
    ['a notAfter written as a GeneralizedTime', () => validity(1, 0x18, '20260601000000Z'), OPENS],
  ])('%s', async (_name, certificate, expected) => {
    const der = certificate();
    expect(await outcome(p12({ certificate: der }))).toEqual(expected === OPENS ? summaryOf(der) : expected);
  });
});

describe('the upload', () => {
  const tooLarge = (bytes: string) =>
    invalid(`The push certificate file is ${bytes} bytes; at most 65,536 are supported (a push certificate file is a few kilobytes)`);
  const NOT_BASE64 = invalid('The push certificate file must be sent as base64 of a PKCS#12 (.p12) file');

  /** The push certificate file padded with a secret bag to exactly `size` octets. */
  function fileOfSize(size: number): Buffer {
    const build = (padding: number) =>
      Buffer.from(
        p12({}, (f) => kids(f.keySafe).push(secretBag(padding))),
        'base64',
      );
    let padding = size - build(1).length;
    for (let tries = 0; tries < 8; tries++) {
      const file = build(padding);
      if (file.length === size) return file;
      padding += size - file.length;
    }
    throw new Error(`no padding makes a file of ${size} octets`);
  }

  it.each<FileRow>([
    ['a file of exactly 65,536 octets', () => fileOfSize(65_536).toString('base64'), OPENS],
    [
      'a file of 65,536 octets, its base64 in lines of 76 characters',
      () => fileOfSize(65_536).toString('base64').replace(/.{76}/g, '$&\r\n'),
      OPENS,
    ],
    ['a file of 65,537 octets', () => fileOfSize(65_537).toString('base64'), tooLarge('65,537')],
    [
      'a file of 65,538 octets (the longest base64 of at most 65,536 octets, decoded first)',
      () => fileOfSize(65_538).toString('base64'),
      tooLarge('65,538'),
    ],
    // four base64 characters more than 65,536 octets can take: refused on its length, estimated, before decoding
    ['a file of 65,539 octets', () => fileOfSize(65_539).toString('base64'), tooLarge('65,541')],
    ['a file sent in the URL-safe base64 alphabet', () => p12().replace(/\+/g, '-').replace(/\//g, '_'), NOT_BASE64],
    ['a file with a character that is not base64 in it', () => `${p12().slice(0, 100)}*${p12().slice(100)}`, NOT_BASE64],
    ['an empty upload', () => '', NOT_BASE64],
    ['an upload of whitespace only', () => ' \n\t ', NOT_BASE64],
  ])('%s', async (_name, file, expected) => {
    await judge(file(), expected);
  });

  it('refuses an upload that is not a string as not base64', async () => {
    await judge(42 as unknown as string, NOT_BASE64);
  });
});
