// Opens the APNs push certificate of `PUT /admin/push-certificate` (PKCS#12) and returns the certificate alone.
//
// Loaded only by the admin function (dynamic import), so node-forge stays out of the check-in bundle.
//
// Why not forge.pkcs12.pkcs12FromAsn1 alone: node-forge 1.4 opens legacy files (RC2-40/3DES, SHA-1 MAC) and
// modern ones (PBES2 AES-256-CBC + PBKDF2-HMAC-SHA256, SHA-256 MAC), but it derives PBES2 keys from the
// password's UTF-16 code units instead of its UTF-8 bytes (as OpenSSL 3 and RFC 8018 do), so a modern file with a
// non-ASCII password fails; it also decrypts and parses every private key, and keeps no raw certificate DER
// (re-encoding could change the fingerprint). So this module walks the PFX itself with forge's ASN.1 reader,
// verifies the MAC, decrypts with Node's crypto (AES, 3DES, PBKDF2) or forge (RC2, gone from OpenSSL 3's default
// provider), and never decrypts a private key unless that is the only way to check the password (no MAC).

import { X509Certificate, createDecipheriv, createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import forge from 'node-forge';
import { decodeBase64Strict } from './base64.ts';
import { RuleViolationError } from './errors.ts';
import { quoteUntrusted } from './quote.ts';
import { daysRemaining, formatDistinguishedName } from './trust-material.ts';

export interface PushCertificateSummary {
  /** The certificate as PEM (never the private key). */
  pem: string;
  /** The subject's UID attribute, e.g. `com.apple.mgmt.External.<uuid>`. */
  topic: string;
  /** One-line distinguished name, as in trust-material.ts. */
  subject: string;
  /** RFC 3339 UTC with milliseconds. */
  notBefore: string;
  notAfter: string;
  /** Whole days from `now` to notAfter (see daysRemaining in trust-material.ts). */
  daysRemaining: number;
  /** Lowercase hex SHA-256 of the certificate DER. */
  sha256: string;
}

export const PUSH_TOPIC_PREFIX = 'com.apple.mgmt';

/**
 * A topic as a device reports it (API.md: `pushTopic`, at most 256 characters) and as Apple writes it
 * (com.apple.mgmt.External.<UUID>): the topic is quoted in every device's PUSH_TOPIC_MISMATCH warning and shown in
 * the console, so a certificate whose UID holds control, format or non-ASCII characters, or more than a device can
 * report, names no topic.
 */
const PUSH_TOPIC_FORM = /^[\x21-\x7e]{1,256}$/;

// ---- Limits -----------------------------------------------------------------------------------------------------
//
// A PKCS#12 file states its own key-derivation work (iteration counts) and its own size (bags, SafeContents), so an
// upload could otherwise hold the admin function for hours: a MAC or a bag asking for 2^31-1 iterations, or
// thousands of password-encrypted bags. All of this is read from the ASN.1 structure and checked BEFORE the first
// key derivation; what only decryption reveals (bags inside an encrypted SafeContents) is charged to the same
// budget before it is derived.
//
// Real exports: OpenSSL 1.x/3.x and Keychain Access use 2048 iterations (MAC and encryption); Windows 2000; Java's
// keytool 10,000 (JDK 12 and later) or, in older JDKs, 50,000 for the bags and 100,000 for the MAC; Bouncy Castle
// 1.86 writes 600,000 (OWASP's PBKDF2-HMAC-SHA256 figure). A push certificate file holds one certificate, its key
// and perhaps a few chain certificates, in 2 SafeContents, and is 3-10 KB.
//
// Measured cost (CPU time, Node 20, x86-64 AMD EPYC): the PKCS#12 KDF below (one createHash per iteration, so
// bound by JavaScript) takes 1.7-2.2 s per 1,000,000 iterations per derived block (SHA-1 1.66, SHA-256 1.81,
// SHA-512 2.2); Node's native PBKDF2 takes 0.2-0.44 s per 1,000,000 iterations per block (SHA-256 0.20, SHA-1 0.39,
// SHA-512 0.44); node-forge's own JavaScript PBKDF2 would take about 7 s per 1,000,000 (SHA-256). A 3DES bag
// derives three blocks (two for the key, one for the IV), so one such bag at 1,000,000 iterations would cost about
// 6 s, and a non-ASCII password makes the MAC try two encodings. The admin function has 512 MB (about a third of a
// vCPU) and 29 s.
//
// Hence two bounds: any one iteration count at most MAX_ITERATIONS (headroom over every exporter above), and the
// work of the whole file at most MAX_KDF_WORK steps, where a step is one hash of the PKCS#12 KDF (about 2 us) and a
// PBKDF2 iteration counts a third of a step (measured 4-9 times cheaper). The costliest file accepted (a SHA-512
// MAC at 1,000,000 iterations) takes 2.2 s of CPU, a few seconds on the Lambda, far inside 29 s; Java's legacy
// 100,000/50,000 (300,000 steps, 0.6 s) and, with an ASCII password, Bouncy Castle's 600,000 (600,000 MAC steps +
// 200,000 PBKDF2 steps, 1.3 s) still open. OpenSSL's `-iter 1000000`, which sets the MAC and every bag to that
// count, is over the total and refused.

/** Bound on any single key-derivation iteration count in the file (MAC, PKCS#12 PBE, PBKDF2). */
const MAX_ITERATIONS = 1_000_000;
/** Bound on the key-derivation work of the whole file, in PKCS#12 KDF hash steps (see above). */
const MAX_KDF_WORK = 1_000_000;
/** Cost of one PBKDF2 iteration (per derived block) in PKCS#12 KDF steps: native HMAC, measured 4-9x cheaper. */
const PBKDF2_STEP_COST = 1 / 3;
/**
 * Longest password accepted: the PKCS#12 KDF hashes the password (as UTF-16) into every block it derives, so a
 * password of a megabyte would cost about 0.2 s per derivation. No exported file has a password this long.
 */
const MAX_PASSWORD_CHARACTERS = 1024;
/** Largest file accepted, decoded: 6 to 20 times a real push certificate file, a fraction of the 1 MiB body. */
const MAX_P12_BYTES = 64 * 1024;
/** Bound on the ContentInfos of the authenticated safe (OpenSSL, Keychain, Windows and Java write 2). */
const MAX_SAFE_CONTENTS = 8;
/** Bound on the bags of the whole file, nested and decrypted ones included (a real file has 2 to 5). */
const MAX_BAGS = 32;
/** Bound on nested SafeContents bags. */
const MAX_BAG_DEPTH = 4;
/**
 * Bound on ASN.1 nesting in any one DER structure parsed here (node-forge's own default is 256). The deepest real
 * structure, a certificate bag inside MAX_BAG_DEPTH nested SafeContents, is about 20 levels.
 */
const MAX_DER_DEPTH = 64;

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  userId: '0.9.2342.19200300.100.1.1',
} as const;

/** Digest OIDs of the MacData, with the PKCS#12 KDF parameters u (output) and v (block) in bytes. */
const MAC_DIGESTS: Record<string, { name: string; u: number; v: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', u: 20, v: 64 },
  '2.16.840.1.101.3.4.2.4': { name: 'sha224', u: 28, v: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', u: 32, v: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', u: 48, v: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', u: 64, v: 128 },
};

/** PKCS#12 v1 password-based encryption (RFC 7292 appendix C), always SHA-1 based. */
const PKCS12_PBE: Record<string, { cipher: 'des-ede3-cbc' | 'des-ede-cbc' | 'rc2'; keyLength: number }> = {
  '1.2.840.113549.1.12.1.3': { cipher: 'des-ede3-cbc', keyLength: 24 }, // pbeWithSHAAnd3-KeyTripleDES-CBC
  '1.2.840.113549.1.12.1.4': { cipher: 'des-ede-cbc', keyLength: 16 }, // pbeWithSHAAnd2-KeyTripleDES-CBC
  '1.2.840.113549.1.12.1.5': { cipher: 'rc2', keyLength: 16 }, // pbeWithSHAAnd128BitRC2-CBC
  '1.2.840.113549.1.12.1.6': { cipher: 'rc2', keyLength: 5 }, // pbewithSHAAnd40BitRC2-CBC (Keychain, -legacy)
};

/** PBES2 (RFC 8018) encryption schemes and PBKDF2 PRFs. */
const PBES2_CIPHERS: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};
const PBKDF2_PRFS: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

type Asn1 = forge.asn1.Asn1;
const { Class, Type } = forge.asn1;

/** A problem with the file, phrased for the admin; becomes 422 INVALID_P12. Never carries the password. */
class P12Problem extends Error {}

const WRONG_PASSWORD = 'The push certificate file could not be opened: the password is wrong or the file is damaged';

// ---- ASN.1 access (forge nodes hold bytes as binary strings) ------------------------------------------------

function parseDer(bytes: Buffer, what: string): Asn1 {
  try {
    // forge's typings only know the boolean form; the options object is what 1.x implements.
    const fromDer = forge.asn1.fromDer as unknown as (bytes: string, options: object) => Asn1;
    return fromDer(bytes.toString('binary'), { strict: true, parseAllBytes: true, decodeBitStrings: false, maxDepth: MAX_DER_DEPTH });
  } catch {
    throw new P12Problem(`The push certificate file is not a readable PKCS#12 file (${what} is not valid DER)`);
  }
}

function malformed(what: string): P12Problem {
  return new P12Problem(`The push certificate file is not a readable PKCS#12 file (${what} is malformed)`);
}

function children(node: Asn1 | undefined, what: string, type: forge.asn1.Type = Type.SEQUENCE): Asn1[] {
  if (!node || node.tagClass !== Class.UNIVERSAL || node.type !== type || !Array.isArray(node.value)) throw malformed(what);
  return node.value;
}

function oidOf(node: Asn1 | undefined, what: string): string {
  if (!node || node.tagClass !== Class.UNIVERSAL || node.type !== Type.OID || typeof node.value !== 'string') {
    throw malformed(what);
  }
  return forge.asn1.derToOid(node.value);
}

/** OCTET STRING content, joining the chunks of a constructed (BER) one; `implicitTag` for [n] IMPLICIT. */
function octetsOf(node: Asn1 | undefined, what: string, implicitTag?: number): Buffer {
  if (!node) throw malformed(what);
  const tagOk =
    implicitTag === undefined
      ? node.tagClass === Class.UNIVERSAL && node.type === Type.OCTETSTRING
      : node.tagClass === Class.CONTEXT_SPECIFIC && node.type === implicitTag;
  if (!tagOk) throw malformed(what);
  if (typeof node.value === 'string') return Buffer.from(node.value, 'binary');
  return Buffer.concat(node.value.map((chunk) => octetsOf(chunk, what)));
}

function integerOf(node: Asn1 | undefined, what: string): number {
  if (!node || node.tagClass !== Class.UNIVERSAL || node.type !== Type.INTEGER || typeof node.value !== 'string') {
    throw malformed(what);
  }
  const bytes = Buffer.from(node.value, 'binary');
  if (bytes.length === 0 || bytes.length > 6 || (bytes[0] & 0x80) !== 0) throw malformed(what);
  return bytes.readUIntBE(0, bytes.length);
}

/** The single child of a [0] EXPLICIT wrapper. */
function explicit0(node: Asn1 | undefined, what: string): Asn1 {
  if (!node || node.tagClass !== Class.CONTEXT_SPECIFIC || node.type !== 0 || !Array.isArray(node.value) || node.value.length !== 1) {
    throw malformed(what);
  }
  return node.value[0];
}

/**
 * An iteration count, refused unless 1..MAX_ITERATIONS. Read from the INTEGER itself (any length), so that a count
 * of 2^31-1 or 2^64 gets the same answer as 1,000,001, before anything is derived.
 */
function iterationsOf(node: Asn1 | undefined, where: string): number {
  if (!node || node.tagClass !== Class.UNIVERSAL || node.type !== Type.INTEGER || typeof node.value !== 'string' || node.value.length === 0) {
    throw malformed(`the iteration count of ${where}`);
  }
  const bytes = Buffer.from(node.value, 'binary');
  if ((bytes[0] & 0x80) !== 0) throw malformed(`the iteration count of ${where}`);
  const count = BigInt(`0x${bytes.toString('hex')}`);
  if (count < 1n || count > BigInt(MAX_ITERATIONS)) {
    throw new P12Problem(
      `The push certificate file asks for ${count} key-derivation iterations; 1 to ${MAX_ITERATIONS.toLocaleString('en-US')} are supported (in ${where})`,
    );
  }
  return Number(count);
}

/**
 * The key-derivation work of one upload, in PKCS#12 KDF hash steps (see MAX_KDF_WORK), and its bag count. One
 * Budget plans the whole visible file before anything is derived; a second one is charged as the work is done, so
 * that what decryption reveals is bounded too.
 */
class Budget {
  private work = 0;
  private bags = 0;

  spend(steps: number): void {
    this.work += steps;
    if (this.work > MAX_KDF_WORK) {
      throw new P12Problem(
        `The push certificate file asks for more than ${MAX_KDF_WORK.toLocaleString('en-US')} key-derivation steps in all ` +
          '(its iteration counts times the keys derived with them); export it again with the usual settings (2048 iterations)',
      );
    }
  }

  countBag(): void {
    this.bags += 1;
    if (this.bags > MAX_BAGS) {
      throw new P12Problem(
        `The push certificate file holds more than ${MAX_BAGS} bags; a push certificate file holds the certificate, its key and perhaps a few chain certificates`,
      );
    }
  }
}

// ---- Passwords and key derivation -----------------------------------------------------------------------------

/** BMPString form of the password for the PKCS#12 KDF: UTF-16BE plus a two-byte terminator (as OpenSSL). */
function bmpPassword(password: string): Buffer {
  const utf16 = Buffer.from(password, 'utf16le');
  utf16.swap16();
  return Buffer.concat([utf16, Buffer.alloc(2)]);
}

/**
 * Password encodings to try against the MAC, in OpenSSL's order: the proper BMPString; for a non-ASCII password
 * the UTF-8 bytes zero-extended (files from OpenSSL before 1.1.0); for the empty password no bytes at all.
 */
function passwordCandidates(password: string): Buffer[] {
  const candidates = [bmpPassword(password)];
  if (/[^\x00-\x7f]/.test(password)) {
    const utf8 = Buffer.from(password, 'utf8');
    const widened = Buffer.alloc(utf8.length * 2 + 2);
    utf8.forEach((byte, i) => (widened[i * 2 + 1] = byte));
    candidates.push(widened);
  }
  if (password === '') candidates.push(Buffer.alloc(0));
  return candidates;
}

/** RFC 7292 appendix B.2: the PKCS#12 key derivation (id 1 = key, 2 = IV, 3 = MAC key). */
function pkcs12Kdf(
  digest: { name: string; u: number; v: number },
  password: Buffer,
  salt: Buffer,
  id: 1 | 2 | 3,
  iterations: number,
  length: number,
): Buffer {
  const { name, u, v } = digest;
  const stretch = (input: Buffer): Buffer => {
    const out = Buffer.alloc(v * Math.ceil(input.length / v));
    for (let i = 0; i < out.length; i++) out[i] = input[i % input.length];
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([salt.length > 0 ? stretch(salt) : Buffer.alloc(0), password.length > 0 ? stretch(password) : Buffer.alloc(0)]);
  const blocks: Buffer[] = [];
  for (let produced = 0; produced < length; produced += u) {
    let A = createHash(name).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(name).update(A).digest();
    blocks.push(A);
    if (produced + u >= length) break;
    // I_j = (I_j + B + 1) mod 2^(8v), with B = A repeated to v bytes.
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
  return Buffer.concat(blocks).subarray(0, length);
}

interface MacParameters {
  digest: { name: string; u: number; v: number };
  expected: Buffer;
  salt: Buffer;
  iterations: number;
}

function readMac(macData: Asn1): MacParameters {
  const [digestInfo, saltNode, iterationsNode] = children(macData, 'the MAC');
  const [algorithm, digestNode] = children(digestInfo, 'the MAC digest');
  const digestOid = oidOf(children(algorithm, 'the MAC algorithm')[0], 'the MAC algorithm');
  const digest = MAC_DIGESTS[digestOid];
  if (!digest) throw new P12Problem(`The push certificate file uses an unsupported MAC algorithm (${digestOid})`);
  return {
    digest,
    expected: octetsOf(digestNode, 'the MAC digest'),
    salt: octetsOf(saltNode, 'the MAC salt'),
    iterations: iterationsNode ? iterationsOf(iterationsNode, 'the MAC') : 1,
  };
}

/** The most the MAC check can cost: one derived block per password encoding tried. */
function macWork(mac: MacParameters, password: string): number {
  return mac.iterations * passwordCandidates(password).length;
}

/**
 * Checks the MacData against each password encoding; returns the one that matches (PKCS#12 PBE bags are
 * encrypted with the same encoding), or throws the wrong-password problem.
 */
function verifyMac(mac: MacParameters, authSafe: Buffer, password: string, budget: Budget): Buffer {
  for (const candidate of passwordCandidates(password)) {
    budget.spend(mac.iterations);
    const key = pkcs12Kdf(mac.digest, candidate, mac.salt, 3, mac.iterations, mac.digest.u);
    const actual = createHmac(mac.digest.name, key).update(authSafe).digest();
    if (actual.length === mac.expected.length && timingSafeEqual(actual, mac.expected)) return candidate;
  }
  throw new P12Problem(WRONG_PASSWORD);
}

// ---- Decryption ------------------------------------------------------------------------------------------------

interface Secrets {
  /** The UTF-16 password as typed (PBES2 uses its UTF-8 bytes). */
  password: string;
  /** The BMPString encoding that matched the MAC, for PKCS#12 PBE. */
  bmp: Buffer;
}

function decipher(name: string, key: Buffer, iv: Buffer, data: Buffer): Buffer {
  try {
    const d = createDecipheriv(name, key, iv);
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    throw new P12Problem(WRONG_PASSWORD);
  }
}

function decryptRc2(key: Buffer, bits: number, iv: Buffer, data: Buffer): Buffer {
  const cipher = forge.rc2.createDecryptionCipher(key.toString('binary'), bits);
  cipher.start(iv.toString('binary'));
  cipher.update(forge.util.createBuffer(data.toString('binary')));
  if (!cipher.finish()) throw new P12Problem(WRONG_PASSWORD);
  return Buffer.from(cipher.output.getBytes(), 'binary');
}

/** Output sizes in bytes of the PBKDF2 PRFs, for the number of blocks a key length takes. */
const HASH_BYTES: Record<string, number> = { sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 };

/** The password-based encryption of an EncryptedContentInfo or EncryptedPrivateKeyInfo, read but not yet run. */
type Encryption =
  | { scheme: 'pkcs12'; cipher: (typeof PKCS12_PBE)[string]; salt: Buffer; iterations: number }
  | { scheme: 'pbes2'; cipher: (typeof PBES2_CIPHERS)[string]; prf: string; salt: Buffer; iterations: number; iv: Buffer };

/** Reads an encryption AlgorithmIdentifier; refuses unsupported algorithms and iteration counts out of bounds. */
function readEncryption(algorithmId: Asn1, where: string): Encryption {
  const [oidNode, params] = children(algorithmId, 'an encryption algorithm');
  const oid = oidOf(oidNode, 'an encryption algorithm');

  const pbe = PKCS12_PBE[oid];
  if (pbe) {
    const [saltNode, iterationsNode] = children(params, 'the PBE parameters');
    return { scheme: 'pkcs12', cipher: pbe, salt: octetsOf(saltNode, 'the PBE salt'), iterations: iterationsOf(iterationsNode, where) };
  }

  if (oid === OID.pbes2) {
    const [kdf, scheme] = children(params, 'the PBES2 parameters');
    const [kdfOid, kdfParams] = children(kdf, 'the PBES2 key derivation');
    if (oidOf(kdfOid, 'the PBES2 key derivation') !== OID.pbkdf2) {
      throw new P12Problem('The push certificate file uses an unsupported key derivation (only PBKDF2 is supported)');
    }
    const pbkdf2Fields = children(kdfParams, 'the PBKDF2 parameters');
    const salt = octetsOf(pbkdf2Fields[0], 'the PBKDF2 salt');
    const iterations = iterationsOf(pbkdf2Fields[1], where);
    let keyLength: number | undefined;
    let prf = 'sha1';
    for (const optional of pbkdf2Fields.slice(2)) {
      if (optional.type === Type.INTEGER) keyLength = integerOf(optional, 'the PBKDF2 key length');
      else {
        const prfOid = oidOf(children(optional, 'the PBKDF2 PRF')[0], 'the PBKDF2 PRF');
        const name = PBKDF2_PRFS[prfOid];
        if (!name) throw new P12Problem(`The push certificate file uses an unsupported PBKDF2 PRF (${prfOid})`);
        prf = name;
      }
    }
    const [schemeOid, ivNode] = children(scheme, 'the PBES2 encryption scheme');
    const cipherOid = oidOf(schemeOid, 'the PBES2 encryption scheme');
    const cipher = PBES2_CIPHERS[cipherOid];
    if (!cipher) throw new P12Problem(`The push certificate file uses an unsupported cipher (${cipherOid})`);
    if (keyLength !== undefined && keyLength !== cipher.keyLength) throw malformed('the PBKDF2 key length');
    return { scheme: 'pbes2', cipher, prf, salt, iterations, iv: octetsOf(ivNode, 'the PBES2 IV') };
  }

  throw new P12Problem(`The push certificate file uses an unsupported encryption algorithm (${oid})`);
}

/**
 * For an EncryptedPrivateKeyInfo that is never decrypted: bounds the iteration count it states when its algorithm
 * is one read here (PKCS#12 PBE, PBES2 with PBKDF2), and otherwise lets it be, as before these bounds existed: the
 * second parameter of another key derivation (scrypt's cost N, say) is no iteration count.
 */
function boundStatedIterations(encryptedKey: Asn1, where: string): void {
  const node = (n: Asn1 | undefined, i: number): Asn1 | undefined => (n && Array.isArray(n.value) ? n.value[i] : undefined);
  const algorithm = node(encryptedKey, 0);
  const oidNode = node(algorithm, 0);
  const isObjectIdentifier = (n: Asn1 | undefined, expected?: string): boolean =>
    n?.tagClass === Class.UNIVERSAL &&
    n.type === Type.OID &&
    typeof n.value === 'string' &&
    (expected === undefined || forge.asn1.derToOid(n.value) === expected);
  if (!isObjectIdentifier(oidNode)) return;
  const oid = forge.asn1.derToOid(oidNode!.value as string);
  const params = node(algorithm, 1);
  let count: Asn1 | undefined;
  if (PKCS12_PBE[oid]) count = node(params, 1);
  else if (oid === OID.pbes2 && isObjectIdentifier(node(node(params, 0), 0), OID.pbkdf2)) count = node(node(node(params, 0), 1), 1);
  if (count && count.tagClass === Class.UNIVERSAL && count.type === Type.INTEGER) iterationsOf(count, where);
}

/** What deriving the key (and IV) of an encryption costs, in PKCS#12 KDF steps (see MAX_KDF_WORK). */
function encryptionWork(encryption: Encryption): number {
  if (encryption.scheme === 'pkcs12') {
    // SHA-1 blocks of 20 bytes: the key's, plus one for the 8-byte IV.
    return encryption.iterations * (Math.ceil(encryption.cipher.keyLength / 20) + 1);
  }
  const blocks = Math.ceil(encryption.cipher.keyLength / HASH_BYTES[encryption.prf]);
  return Math.ceil(encryption.iterations * blocks * PBKDF2_STEP_COST);
}

/** Derives the key, charging the budget first, and decrypts. */
function decrypt(encryption: Encryption, data: Buffer, secrets: Secrets, budget: Budget): Buffer {
  budget.spend(encryptionWork(encryption));
  if (encryption.scheme === 'pkcs12') {
    const { cipher, salt, iterations } = encryption;
    const sha1 = MAC_DIGESTS['1.3.14.3.2.26'];
    const key = pkcs12Kdf(sha1, secrets.bmp, salt, 1, iterations, cipher.keyLength);
    const iv = pkcs12Kdf(sha1, secrets.bmp, salt, 2, iterations, 8);
    return cipher.cipher === 'rc2' ? decryptRc2(key, cipher.keyLength * 8, iv, data) : decipher(cipher.cipher, key, iv, data);
  }
  const { cipher, prf, salt, iterations, iv } = encryption;
  const key = pbkdf2Sync(Buffer.from(secrets.password, 'utf8'), salt, iterations, cipher.keyLength, prf);
  return decipher(cipher.name, key, iv, data);
}

// ---- Walking the PFX -------------------------------------------------------------------------------------------

interface FoundCertificate {
  der: Buffer;
  localKeyId?: string;
}

interface Pkcs12Contents {
  certificates: FoundCertificate[];
  /** localKeyId (hex) of every private key bag; the keys themselves are not kept. */
  keyIds: Set<string>;
}

function localKeyIdOf(attributes: Asn1 | undefined): string | undefined {
  if (!attributes) return undefined;
  for (const attribute of children(attributes, 'the bag attributes', Type.SET)) {
    const [oidNode, values] = children(attribute, 'a bag attribute');
    if (oidOf(oidNode, 'a bag attribute') !== OID.localKeyId) continue;
    const [first] = children(values, 'the localKeyId', Type.SET);
    return octetsOf(first, 'the localKeyId').toString('hex');
  }
  return undefined;
}

/**
 * How a SafeContents is walked. Every bag counts against `budget`. `decryptsKeys` (a file without a MAC) makes
 * every private key a key derivation: its cost is charged to `budget`, and with `keySecrets` the key is decrypted as
 * the password check. Planning passes neither `found` nor `keySecrets`: it reads and bounds, and derives nothing.
 */
interface Walk {
  budget: Budget;
  decryptsKeys: boolean;
  found?: Pkcs12Contents;
  keySecrets?: Secrets;
}

function walkSafeContents(safeContents: Asn1, walk: Walk, depth: number): void {
  if (depth > MAX_BAG_DEPTH) throw malformed('the bag nesting');
  for (const bag of children(safeContents, 'the SafeContents')) {
    walk.budget.countBag();
    const [bagIdNode, bagValue, attributes] = children(bag, 'a SafeBag');
    const bagId = oidOf(bagIdNode, 'a SafeBag');
    const value = explicit0(bagValue, 'a SafeBag');
    const localKeyId = localKeyIdOf(attributes);
    switch (bagId) {
      case OID.certBag: {
        const [certIdNode, certValue] = children(value, 'a certificate bag');
        if (oidOf(certIdNode, 'a certificate bag') !== OID.x509Certificate) break; // SDSI certificates: ignored
        const der = octetsOf(explicit0(certValue, 'a certificate bag'), 'a certificate bag');
        walk.found?.certificates.push({ der, localKeyId });
        break;
      }
      case OID.pkcs8ShroudedKeyBag: {
        // With a verified MAC the key is left encrypted (in whatever algorithm), though an iteration count it
        // states is still bounded. Without a MAC, decrypting it is the only password check: its cost is planned
        // with the rest of the file, and the plaintext is checked for shape and wiped, never kept.
        if (!walk.decryptsKeys) {
          boundStatedIterations(value, 'an encrypted private key');
        } else {
          const [algorithm, encrypted] = children(value, 'an encrypted private key');
          const encryption = readEncryption(algorithm, 'an encrypted private key');
          if (!walk.keySecrets) {
            walk.budget.spend(encryptionWork(encryption));
          } else {
            const plain = decrypt(encryption, octetsOf(encrypted, 'an encrypted private key'), walk.keySecrets, walk.budget);
            const looksLikeKey = plain[0] === 0x30;
            plain.fill(0);
            if (!looksLikeKey) throw new P12Problem(WRONG_PASSWORD);
          }
        }
        if (localKeyId) walk.found?.keyIds.add(localKeyId);
        break;
      }
      case OID.keyBag:
        if (localKeyId) walk.found?.keyIds.add(localKeyId);
        break;
      case OID.safeContentsBag:
        walkSafeContents(value, walk, depth + 1);
        break;
      default:
        break; // CRL and secret bags carry nothing we need.
    }
  }
}

/** A SafeContents of the authenticated safe: in the clear, or encrypted (with its content absent, nothing). */
type SafeContentsSource = { encrypted: false; safeContents: Asn1 } | { encrypted: true; encryption: Encryption; data: Buffer };

interface Pfx {
  authSafe: Buffer;
  mac?: MacParameters;
  sources: SafeContentsSource[];
}

/** Reads the PFX structure, bounding what it states, without deriving or decrypting anything. */
function readPfx(der: Buffer): Pfx {
  const [versionNode, authSafeInfo, macData] = children(parseDer(der, 'the file'), 'the PFX');
  if (integerOf(versionNode, 'the PFX version') !== 3) throw malformed('the PFX version');
  const [contentType, content] = children(authSafeInfo, 'the PFX content');
  const type = oidOf(contentType, 'the PFX content');
  if (type === OID.signedData) {
    throw new P12Problem('The push certificate file uses public-key integrity mode, which is not supported; export it with a password');
  }
  if (type !== OID.data) throw malformed('the PFX content');
  const authSafe = octetsOf(explicit0(content, 'the PFX content'), 'the PFX content');
  const mac = macData ? readMac(macData) : undefined;

  const contentInfos = children(parseDer(authSafe, 'the authenticated safe'), 'the authenticated safe');
  if (contentInfos.length > MAX_SAFE_CONTENTS) {
    throw new P12Problem(
      `The push certificate file holds ${contentInfos.length} SafeContents; at most ${MAX_SAFE_CONTENTS} are supported (a push certificate file has 2)`,
    );
  }
  const sources: SafeContentsSource[] = [];
  for (const contentInfo of contentInfos) {
    const [infoType, infoContent] = children(contentInfo, 'a ContentInfo');
    const kind = oidOf(infoType, 'a ContentInfo');
    if (kind === OID.data) {
      const safeContents = octetsOf(explicit0(infoContent, 'a ContentInfo'), 'a ContentInfo');
      sources.push({ encrypted: false, safeContents: parseDer(safeContents, 'a SafeContents') });
    } else if (kind === OID.encryptedData) {
      const [, encryptedContentInfo] = children(explicit0(infoContent, 'an EncryptedData'), 'an EncryptedData');
      const [, algorithm, encrypted] = children(encryptedContentInfo, 'an EncryptedContentInfo');
      const encryption = readEncryption(algorithm, 'an encrypted SafeContents');
      if (!encrypted) continue; // content absent: nothing to read
      sources.push({ encrypted: true, encryption, data: octetsOf(encrypted, 'an EncryptedContentInfo', 0) });
    } else {
      throw new P12Problem('The push certificate file holds content that is not supported (only data and password-encrypted data)');
    }
  }
  return { authSafe, mac, sources };
}

/**
 * Everything the file states, bounded before the first key derivation: iteration counts (read by readPfx), the
 * bags in the clear and the total work of the MAC, of the encrypted SafeContents and (without a MAC) of the keys.
 */
function planPkcs12(pfx: Pfx, password: string): void {
  const plan = new Budget();
  if (pfx.mac) plan.spend(macWork(pfx.mac, password));
  for (const source of pfx.sources) {
    if (source.encrypted) plan.spend(encryptionWork(source.encryption));
    else walkSafeContents(source.safeContents, { budget: plan, decryptsKeys: !pfx.mac }, 0);
  }
}

function readPkcs12(der: Buffer, password: string): Pkcs12Contents {
  const pfx = readPfx(der);
  planPkcs12(pfx, password);

  // With a MAC the password is proven before anything is decrypted; without one, by decrypting (see above).
  const budget = new Budget();
  const bmp = pfx.mac ? verifyMac(pfx.mac, pfx.authSafe, password, budget) : bmpPassword(password);
  const secrets: Secrets = { password, bmp };
  const found: Pkcs12Contents = { certificates: [], keyIds: new Set() };
  const walk: Walk = { budget, decryptsKeys: !pfx.mac, found, keySecrets: pfx.mac ? undefined : secrets };
  for (const source of pfx.sources) {
    if (!source.encrypted) {
      walkSafeContents(source.safeContents, walk, 0);
      continue;
    }
    const plain = decrypt(source.encryption, source.data, secrets, budget);
    let safeContents: Asn1;
    try {
      safeContents = parseDer(plain, 'a decrypted SafeContents');
    } catch {
      // Without a MAC a wrong password can still unpad cleanly (about 1 in 256); the DER check catches it.
      throw new P12Problem(WRONG_PASSWORD);
    }
    walkSafeContents(safeContents, walk, 0);
  }
  return found;
}

// ---- The certificate -------------------------------------------------------------------------------------------

/** The certificate paired with a private key by localKeyId; else the first non-CA one; else the first. */
function chooseCertificate(certificates: FoundCertificate[], keyIds: Set<string>): { der: Buffer; x509: X509Certificate } {
  const parsed = certificates.map((certificate) => {
    try {
      return { ...certificate, x509: new X509Certificate(certificate.der) };
    } catch {
      return { ...certificate, x509: undefined };
    }
  });
  const paired = parsed.find((c) => c.localKeyId !== undefined && keyIds.has(c.localKeyId));
  const chosen = paired ?? parsed.find((c) => c.x509 !== undefined && !c.x509.ca) ?? parsed[0];
  if (!chosen.x509 || chosen.x509.raw.length !== chosen.der.length) {
    throw new P12Problem('The certificate inside the push certificate file cannot be read');
  }
  return { der: chosen.der, x509: chosen.x509 };
}

function decodeDirectoryString(node: Asn1): string | undefined {
  if (node.tagClass !== Class.UNIVERSAL || typeof node.value !== 'string') return undefined;
  const bytes = Buffer.from(node.value, 'binary');
  switch (node.type as number) {
    case Type.UTF8:
      return bytes.toString('utf8');
    case Type.PRINTABLESTRING:
    case Type.IA5STRING:
    case 18: // NumericString
    case 20: // TeletexString
    case 26: // VisibleString (OpenSSL refuses such a name, so the certificate is refused before its UID is read)
      return bytes.toString('latin1');
    case Type.BMPSTRING:
      // forge's reader has already turned the UTF-16BE octets into the text's UTF-16 code units.
      return node.value;
    case 28: {
      // UniversalString: UTF-32BE
      if (bytes.length % 4 !== 0) return undefined;
      const codePoints = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readUInt32BE(i * 4));
      return codePoints.every((point) => point <= 0x10ffff) ? String.fromCodePoint(...codePoints) : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The first UID (0.9.2342.19200300.100.1.1) in the subject, read from the DER (no string unescaping): its text, or
 * `unreadable` when it is not written as a DER string (a BER-constructed string, another type), or undefined when
 * there is none.
 */
function subjectUid(der: Buffer): string | { unreadable: true } | undefined {
  try {
    const [tbs] = children(parseDer(der, 'the certificate'), 'the certificate');
    const fields = children(tbs, 'the certificate');
    const hasVersion = fields[0]?.tagClass === Class.CONTEXT_SPECIFIC && fields[0]?.type === 0;
    const subject = fields[hasVersion ? 5 : 4];
    for (const rdn of children(subject, 'the subject')) {
      for (const attribute of children(rdn, 'the subject', Type.SET)) {
        const [type, value] = children(attribute, 'the subject');
        if (oidOf(type, 'the subject') === OID.userId && value) return decodeDirectoryString(value) ?? { unreadable: true };
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function decodeBase64(text: string): Buffer {
  const compact = typeof text === 'string' ? text.replace(/\s+/g, '') : '';
  // Size first, on the text: nothing larger is even decoded.
  if (compact.length > Math.ceil(MAX_P12_BYTES / 3) * 4) throw fileTooLarge(Math.floor((compact.length * 3) / 4));
  const bytes = decodeBase64Strict(compact, 'standard');
  if (!bytes) throw new RuleViolationError('INVALID_P12', 'The push certificate file must be sent as base64 of a PKCS#12 (.p12) file');
  if (bytes.length > MAX_P12_BYTES) throw fileTooLarge(bytes.length);
  return bytes;
}

function fileTooLarge(bytes: number): RuleViolationError {
  return new RuleViolationError(
    'INVALID_P12',
    `The push certificate file is ${bytes.toLocaleString('en-US')} bytes; at most ${MAX_P12_BYTES.toLocaleString('en-US')} are supported (a push certificate file is a few kilobytes)`,
  );
}

/**
 * Opens a PKCS#12 push certificate (legacy RC2/3DES + SHA-1 MAC, or modern AES + PBKDF2 + SHA-256 MAC) and
 * returns the certificate and its metadata only. 422 errors: INVALID_P12 (not base64, not PKCS#12, wrong
 * password, no certificate; or a file over the limits above, refused before any key derivation: its size, an
 * iteration count, its total key-derivation work, its SafeContents or bags), NOT_A_PUSH_CERTIFICATE (no UID, or one not starting with com.apple.mgmt),
 * CERTIFICATE_EXPIRED (notAfter before `now`). No message ever contains the password.
 */
export async function openPushCertificate(p12Base64: string, password: string, now: Date): Promise<PushCertificateSummary> {
  const der = decodeBase64(p12Base64);
  let chosen: { der: Buffer; x509: X509Certificate };
  try {
    if (typeof password === 'string' && password.length > MAX_PASSWORD_CHARACTERS) {
      throw new P12Problem(
        `The push certificate file could not be opened: the password is longer than ${MAX_PASSWORD_CHARACTERS.toLocaleString('en-US')} characters, which no PKCS#12 export uses`,
      );
    }
    const contents = readPkcs12(der, typeof password === 'string' ? password : '');
    if (contents.certificates.length === 0) {
      throw new P12Problem('The push certificate file holds no certificate (export the certificate with its key)');
    }
    chosen = chooseCertificate(contents.certificates, contents.keyIds);
  } catch (error) {
    const message = error instanceof P12Problem ? error.message : 'The push certificate file is not a readable PKCS#12 file';
    throw new RuleViolationError('INVALID_P12', message);
  }

  const { x509 } = chosen;
  const subject = formatDistinguishedName(x509.subject);
  const topic = subjectUid(chosen.der);
  if (topic === undefined) {
    throw new RuleViolationError(
      'NOT_A_PUSH_CERTIFICATE',
      `The certificate (${subject}) has no UID attribute in its subject, so it is not an APNs push certificate`,
    );
  }
  if (typeof topic !== 'string') {
    throw new RuleViolationError(
      'NOT_A_PUSH_CERTIFICATE',
      `The certificate (${subject}) has a UID attribute written in a form that is not read (not a DER string type), so it names no push topic`,
    );
  }
  if (!topic.startsWith(PUSH_TOPIC_PREFIX)) {
    throw new RuleViolationError(
      'NOT_A_PUSH_CERTIFICATE',
      `The certificate's topic (UID ${JSON.stringify(topic.length > 100 ? `${topic.slice(0, 100)}…` : topic)}) does not start with ${PUSH_TOPIC_PREFIX}, so it is not an MDM push certificate`,
    );
  }

  if (!PUSH_TOPIC_FORM.test(topic)) {
    throw new RuleViolationError(
      'NOT_A_PUSH_CERTIFICATE',
      `The certificate's topic (UID "${quoteUntrusted(topic, '(empty)')}") is not one a device can report: a push topic is at most 256 printable ASCII characters, without spaces`,
    );
  }

  const notBefore = new Date(x509.validFrom);
  const notAfter = new Date(x509.validTo);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    throw new RuleViolationError('INVALID_P12', 'The certificate inside the push certificate file has an unreadable validity period');
  }
  if (notAfter.getTime() < now.getTime()) {
    throw new RuleViolationError(
      'CERTIFICATE_EXPIRED',
      `The push certificate for ${topic} expired at ${notAfter.toISOString()}; renew it at identity.apple.com and upload the new one`,
    );
  }

  return {
    pem: x509.toString(),
    topic,
    subject,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    daysRemaining: daysRemaining(notAfter.toISOString(), now),
    sha256: createHash('sha256').update(chosen.der).digest('hex'),
  };
}
