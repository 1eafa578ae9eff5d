// Test helper: PKCS#12 (.p12) files made with the `openssl` CLI, from keys and certificates made by the one openssl
// factory (certificates.ts's CertificateFactory, in the same temporary directory).
//
// Usage (make everything once per suite, in beforeAll; RSA key generation is the slow part, so share keys):
//
//   const bench = OpensslWorkbench.create();
//   const key = bench.makeKey();
//   const push = bench.makeCertificate({ subject: pushSubject(uuid), key });
//   const modern = bench.exportPkcs12({ certificate: push, password: 's3cret' });           // AES-256/PBKDF2/SHA-256 MAC
//   const legacy = bench.exportPkcs12({ certificate: push, password: 's3cret', legacy: true }); // RC2-40 + 3DES, SHA-1 MAC
//   afterAll(() => bench.cleanup());
//
// Certificates are TLS-style: CAs with keyCertSign, leaves with digitalSignature, keyEncipherment and the serverAuth and
// clientAuth EKUs, both with key identifiers (`keyid:always`). Validity is set as the factory sets it (past and
// fixed dates work offline). Passwords go through the environment (`-passout env:`), so any character, including
// non-ASCII, reaches openssl unchanged.
//
// Hostile files (what an attacker would upload) are made by taking an openssl file apart with node-forge's ASN.1
// reader and putting it back together with other iteration counts, more bags or SafeContents, or no MAC:
//
//   const huge = editPkcs12(modern, 's3cret', (p12) => { p12.macIterations = 2n ** 31n - 1n; });
//   const many = editPkcs12(legacy, 's3cret', (p12) => { p12.safes[1].bags!.push(...copies(tinyKeyBag(2048n, 's3cret'), 500)); });

import { spawnSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, pbkdf2Sync, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { CertificateFactory, type CertificateOptions, type KeyMaterial, type MadeCertificate as FactoryCertificate } from './certificates.ts';

export interface KeyFile {
  path: string;
  pem: string;
}

export interface MadeCertificate {
  /** Path of the PEM file. */
  path: string;
  pem: string;
  key: KeyFile;
  /** The subject in openssl `-subj` syntax, as given. */
  subject: string;
}

export interface CertificateRequest {
  /** openssl `-subj` syntax, e.g. `/CN=Example Device CA/O=Example`; `+` joins a multi-valued RDN. */
  subject: string;
  key: KeyFile;
  /** Signed by this CA; self-signed when absent. */
  issuer?: MadeCertificate;
  /** basicConstraints CA:TRUE (with keyCertSign) when true; CA:FALSE (a TLS/client leaf) otherwise. Default false. */
  ca?: boolean;
  /** Default: the real clock minus one day. */
  notBefore?: Date;
  /** Default: notBefore + `days`. */
  notAfter?: Date;
  /** Default 365. */
  days?: number;
}

export interface Pkcs12Request {
  /** The certificate to put in the file (with its key unless `noKey`). */
  certificate?: MadeCertificate;
  password: string;
  /** `-legacy`: RC2-40 for certificates, 3DES for the key, SHA-1 MAC, as Keychain Access exports. */
  legacy?: boolean;
  /** More certificates to add (`-certfile`), e.g. the issuing CA. */
  chain?: MadeCertificate[];
  /** Leave the private key out (`-nokeys`); `certificate` and `chain` are then all plain certificates. */
  noKey?: boolean;
  /** Leave certificates out (`-nocerts`): only the key of `keyOnly` is stored. */
  keyOnly?: KeyFile;
  /** Any further `openssl pkcs12 -export` arguments, e.g. `['-nomac']`. */
  extraArgs?: string[];
}

/** What openssl itself says about a certificate, in the forms the domain returns. */
export interface OpensslView {
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
}

/** Subject of an Apple MDM push certificate; `uid: null` leaves the UID out, a string replaces the topic. */
export function pushSubject(uuid: string = randomUUID(), options: { uid?: string | null } = {}): string {
  const uid = options.uid === undefined ? `com.apple.mgmt.External.${uuid}` : options.uid;
  return `${uid === null ? '' : `/UID=${uid}`}/CN=APSP:${uuid}/C=US`;
}

/** The extensions of a workbench certificate: a CA, or a TLS leaf usable as server and client. */
function profile(request: CertificateRequest): Partial<CertificateOptions> {
  return request.ca
    ? { ca: true, authorityKeyIdentifier: 'keyid:always' }
    : { ca: false, eku: ['serverAuth', 'clientAuth'], keyUsage: 'critical,digitalSignature,keyEncipherment', authorityKeyIdentifier: 'keyid:always' };
}

export class OpensslWorkbench {
  /** The factory's certificate behind each workbench certificate (by path), to issue from it. */
  private readonly made = new Map<string, FactoryCertificate>();
  private readonly keys = new Map<string, KeyMaterial>();
  private counter = 0;

  private constructor(private readonly factory: CertificateFactory) {}

  static create(): OpensslWorkbench {
    return new OpensslWorkbench(CertificateFactory.create('tollgate-pkcs12-'));
  }

  get dir(): string {
    return this.factory.dir;
  }

  cleanup(): void {
    this.factory.cleanup();
  }

  /** Runs openssl in the workbench dir; throws with its stderr on failure. Returns stdout. */
  openssl(args: string[], env: Record<string, string> = {}): string {
    const result = spawnSync('openssl', args, {
      cwd: this.dir,
      env: { ...process.env, OPENSSL_CONF: this.factory.configFile, ...env },
      encoding: 'utf8',
    });
    if (result.error) throw result.error;
    if (result.status !== 0) throw new Error(`openssl ${args[0]} failed (${result.status}): ${result.stderr}`);
    return result.stdout;
  }

  private next(prefix: string): string {
    this.counter += 1;
    return join(this.dir, `${prefix}-${this.counter}`);
  }

  makeKey(kind: 'rsa2048' | 'ec256' = 'rsa2048'): KeyFile {
    const key = this.factory.makeKey(kind);
    this.keys.set(key.keyPath, key);
    return { path: key.keyPath, pem: key.keyPem };
  }

  makeCertificate(request: CertificateRequest): MadeCertificate {
    const key = this.keys.get(request.key.path) ?? { keyType: 'rsa2048', keyPath: request.key.path, keyPem: request.key.pem };
    const options: CertificateOptions = {
      cn: '',
      subject: request.subject,
      key,
      notBefore: request.notBefore,
      notAfter: request.notAfter,
      days: request.days ?? 365,
      ...profile(request),
    };
    const issuer = request.issuer ? this.made.get(request.issuer.path) : undefined;
    if (request.issuer && !issuer) throw new Error('OpensslWorkbench: the issuer was not made by this workbench');
    const made = request.ca
      ? issuer
        ? this.factory.makeIntermediateCa(issuer, options)
        : this.factory.makeRootCa(options)
      : this.factory.makeDeviceCertificate(issuer, options);
    this.made.set(made.certPath, made);
    return { path: made.certPath, pem: made.pem, key: request.key, subject: request.subject };
  }

  /** A PKCS#12 file as base64 (modern algorithms unless `legacy`). */
  exportPkcs12(request: Pkcs12Request): string {
    const base = this.next('p12');
    const args = ['pkcs12', '-export', '-passout', 'env:WORKBENCH_P12_PASSWORD', '-out', `${base}.p12`];
    if (request.legacy) args.push('-legacy');
    if (request.keyOnly) {
      args.push('-nocerts', '-inkey', request.keyOnly.path);
    } else {
      if (!request.certificate) throw new Error('exportPkcs12 needs a certificate or keyOnly');
      const input = `${base}-in.pem`;
      writeFileSync(input, request.certificate.pem);
      args.push('-in', input);
      if (request.noKey) args.push('-nokeys');
      else args.push('-inkey', request.certificate.key.path);
      if (request.chain && request.chain.length > 0) {
        const chain = `${base}-chain.pem`;
        writeFileSync(chain, request.chain.map((c) => c.pem).join(''));
        args.push('-certfile', chain);
      }
    }
    args.push(...(request.extraArgs ?? []));
    this.openssl(args, { WORKBENCH_P12_PASSWORD: request.password });
    return readFileSync(`${base}.p12`).toString('base64');
  }

  /** openssl's own reading of a certificate: one-line subject/issuer as Node prints them, dates, SHA-256. */
  inspect(certificate: MadeCertificate): OpensslView {
    const out = this.openssl([
      'x509', '-in', certificate.path, '-noout', '-subject', '-issuer', '-startdate', '-enddate', '-fingerprint', '-sha256',
      '-nameopt', 'esc_2253,esc_ctrl,utf8,sep_comma_plus_space,sname',
    ]);
    const field = (name: string): string => {
      const line = out.split('\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}=`));
      if (line === undefined) throw new Error(`openssl x509 printed no ${name}`);
      return line.slice(name.length + 1).trim();
    };
    return {
      subject: field('subject'),
      issuer: field('issuer'),
      notBefore: new Date(field('notBefore')).toISOString(),
      notAfter: new Date(field('notAfter')).toISOString(),
      sha256: field('sha256 Fingerprint').replace(/:/g, '').toLowerCase(),
    };
  }
}

// ---- Hostile PKCS#12 files --------------------------------------------------------------------------------------

type Asn1 = forge.asn1.Asn1;
const asn1 = forge.asn1;
const { Class, Type } = forge.asn1;

const P12_OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  pbes2: '1.2.840.113549.1.5.13',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  hmacWithSha256: '1.2.840.113549.2.9',
  pbeWithSha1And3KeyTripleDesCbc: '1.2.840.113549.1.12.1.3',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  secretBag: '1.2.840.113549.1.12.10.1.5',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

/** One SafeContents of the authenticated safe, as editPkcs12 hands it to the edit. */
export interface EditableSafe {
  /** The AlgorithmIdentifier of an encrypted SafeContents (absent when it is in the clear); see setIterations. */
  encryption?: Asn1;
  /**
   * The bags: editable for SafeContents in the clear and for those encrypted with openssl's modern default
   * (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC), which are decrypted and encrypted again with their original
   * parameters, so the file still opens if the iteration count is left alone. Undefined for legacy encryption.
   */
  bags?: Asn1[];
  /** Replaces the SafeContents DER of a SafeContents in the clear with these bytes, verbatim. */
  raw?: Buffer;
  /** The ciphertext of a SafeContents whose bags are not editable, kept as it was. */
  ciphertext?: Buffer;
  /** How the ciphertext was made, to make it again (modern encryption only). */
  reencrypt?: { salt: Buffer; iterations: number; iv: Buffer };
}

/** A PKCS#12 file taken apart: its MAC iteration count (null: no MAC) and its SafeContents. */
export interface EditablePkcs12 {
  macIterations: bigint | null;
  safes: EditableSafe[];
}

function der(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

function fromDerBytes(bytes: Buffer): Asn1 {
  return asn1.fromDer(bytes.toString('binary'));
}

function kids(node: Asn1): Asn1[] {
  if (!Array.isArray(node.value)) throw new Error('editPkcs12: expected a constructed ASN.1 node');
  return node.value;
}

function octets(node: Asn1): Buffer {
  if (typeof node.value === 'string') return Buffer.from(node.value, 'binary');
  return Buffer.concat(kids(node).map(octets));
}

const oid = (node: Asn1): string => asn1.derToOid(node.value as string);
const sequence = (...items: Asn1[]): Asn1 => asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, items);
const octetString = (bytes: Buffer): Asn1 => asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, bytes.toString('binary'));
const oidNode = (text: string): Asn1 => asn1.create(Class.UNIVERSAL, Type.OID, false, asn1.oidToDer(text).getBytes());
const explicit = (item: Asn1): Asn1 => asn1.create(Class.CONTEXT_SPECIFIC, 0, true, [item]);

/** A DER INTEGER of any size (2^31-1, 2^64, …): openssl refuses to write such counts, an attacker need not. */
export function integerNode(value: bigint): Asn1 {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return asn1.create(Class.UNIVERSAL, Type.INTEGER, false, Buffer.from(hex, 'hex').toString('binary'));
}

/** The INTEGER holding the iteration count in a PKCS#12-PBE or PBES2/PBKDF2 AlgorithmIdentifier. */
function iterationIndex(algorithm: Asn1): { parent: Asn1; index: number } {
  const [algorithmOid, params] = kids(algorithm);
  if (oid(algorithmOid) === P12_OID.pbes2) return { parent: kids(kids(params)[0])[1], index: 1 };
  return { parent: params, index: 1 };
}

/** Sets the iteration count an encryption AlgorithmIdentifier states (it is not encrypted again). */
export function setIterations(algorithm: Asn1, count: bigint): void {
  const { parent, index } = iterationIndex(algorithm);
  kids(parent)[index] = integerNode(count);
}

/** The AlgorithmIdentifier of a pkcs8ShroudedKeyBag. */
export function keyBagEncryption(bag: Asn1): Asn1 {
  return kids(kids(kids(bag)[1])[0])[0];
}

export function isShroudedKeyBag(bag: Asn1): boolean {
  return oid(kids(bag)[0]) === P12_OID.shroudedKeyBag;
}

/** `count` deep copies of an ASN.1 node (bags, ContentInfos). */
export function copies(node: Asn1, count: number): Asn1[] {
  const copy = (asn1 as unknown as { copy(node: Asn1): Asn1 }).copy;
  return Array.from({ length: count }, () => copy(node));
}

/**
 * A small pkcs8ShroudedKeyBag (pbeWithSHAAnd3-KeyTripleDES-CBC, 8 bytes of ciphertext) stating `iterations`:
 * about 60 bytes, so hundreds fit in a file of 64 KiB. With `password` its ciphertext really decrypts (to an empty
 * SEQUENCE, which passes for a key), so that a file without a MAC makes a reader derive and decrypt every copy;
 * make it once and copy it, as deriving its key here costs what it costs the reader.
 */
export function tinyKeyBag(iterations: bigint, password?: string): Asn1 {
  const salt = Buffer.alloc(8, 7);
  let ciphertext = Buffer.alloc(8, 9);
  if (password !== undefined) {
    const generateKey = (forge as unknown as { pkcs12: { generateKey(...args: unknown[]): forge.util.ByteStringBuffer } }).pkcs12.generateKey;
    const derive = (id: number, length: number) =>
      Buffer.from(generateKey(password, forge.util.createBuffer(salt.toString('binary')), id, Number(iterations), length, forge.md.sha1.create()).getBytes(), 'binary');
    const cipher = createCipheriv('des-ede3-cbc', derive(1, 24), derive(2, 8));
    ciphertext = Buffer.concat([cipher.update(Buffer.from('3000', 'hex')), cipher.final()]);
  }
  const algorithm = sequence(oidNode(P12_OID.pbeWithSha1And3KeyTripleDesCbc), sequence(octetString(salt), integerNode(iterations)));
  return sequence(oidNode(P12_OID.shroudedKeyBag), explicit(sequence(algorithm, octetString(ciphertext))));
}

/** A secret bag of `size` bytes (Tollgate ignores secret bags; only their size and number matter). */
export function secretBag(size: number): Asn1 {
  return sequence(oidNode(P12_OID.secretBag), explicit(sequence(oidNode(P12_OID.data), explicit(octetString(Buffer.alloc(size, 0x5a))))));
}

/** An empty SafeContents in the clear, as a ContentInfo (about 20 bytes). */
export function emptySafe(): EditableSafe {
  return { bags: [] };
}

/** `depth` SEQUENCEs nested in one another (DER), built without recursion: a parser that recurses runs out of stack. */
export function nestedSequences(depth: number): Buffer {
  // contentLengths[level]: the bytes inside that level's SEQUENCE, which is everything below it.
  const contentLengths: number[] = new Array(depth);
  let below = 0;
  for (let level = depth - 1; level >= 0; level--) {
    contentLengths[level] = below;
    below += 1 + lengthBytes(below).length;
  }
  const out: number[] = [];
  for (let level = 0; level < depth; level++) out.push(0x30, ...lengthBytes(contentLengths[level]));
  return Buffer.from(out);
}

function lengthBytes(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return [0x80 | bytes.length, ...bytes];
}

function pbes2Parameters(algorithm: Asn1): { salt: Buffer; iterations: number; iv: Buffer } | undefined {
  const [algorithmOid, params] = kids(algorithm);
  if (oid(algorithmOid) !== P12_OID.pbes2) return undefined;
  const [kdf, scheme] = kids(params);
  const [salt, iterations, ...optional] = kids(kids(kdf)[1]);
  const prf = optional.find((node) => Array.isArray(node.value));
  if (!prf || oid(kids(prf)[0]) !== P12_OID.hmacWithSha256 || oid(kids(scheme)[0]) !== P12_OID.aes256Cbc) return undefined;
  return { salt: octets(salt), iterations: Number.parseInt(Buffer.from(iterations.value as string, 'binary').toString('hex'), 16), iv: octets(kids(scheme)[1]) };
}

function aes256(direction: 'encrypt' | 'decrypt', password: string, parameters: { salt: Buffer; iterations: number; iv: Buffer }, data: Buffer): Buffer {
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), parameters.salt, parameters.iterations, 32, 'sha256');
  const cipher = direction === 'encrypt' ? createCipheriv('aes-256-cbc', key, parameters.iv) : createDecipheriv('aes-256-cbc', key, parameters.iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/**
 * Takes an openssl-made PKCS#12 file (base64) apart, lets `edit` change it, and puts it back together (base64).
 * The MAC is computed again, with node-forge's PKCS#12 KDF, when its iteration count is 1 to 100,000; otherwise
 * its digest is left as zeros (a file stating such a count must be refused before any MAC is computed).
 */
export function editPkcs12(p12Base64: string, password: string, edit: (p12: EditablePkcs12) => void): string {
  const [, authSafeInfo, macData] = kids(fromDerBytes(Buffer.from(p12Base64, 'base64')));
  const authSafe = fromDerBytes(octets(kids(kids(authSafeInfo)[1])[0]));
  const safes: EditableSafe[] = kids(authSafe).map((contentInfo) => {
    const [type, content] = kids(contentInfo);
    if (oid(type) === P12_OID.data) return { bags: kids(fromDerBytes(octets(kids(content)[0]))) };
    const [, encryptedContentInfo] = kids(kids(content)[0]);
    const [, encryption, encrypted] = kids(encryptedContentInfo);
    const ciphertext = octets(encrypted);
    const reencrypt = pbes2Parameters(encryption);
    if (!reencrypt) return { encryption, ciphertext };
    return { encryption, reencrypt, bags: kids(fromDerBytes(aes256('decrypt', password, reencrypt, ciphertext))) };
  });
  const macDigestOid = macData ? oid(kids(kids(kids(macData)[0])[0])[0]) : P12_OID.sha256;
  const macSalt = macData ? octets(kids(macData)[1]) : Buffer.alloc(8, 1);
  const macIterations = macData && kids(macData)[2] ? BigInt(`0x${Buffer.from(kids(macData)[2].value as string, 'binary').toString('hex')}`) : null;

  const p12: EditablePkcs12 = { macIterations: macData ? (macIterations ?? 1n) : null, safes };
  edit(p12);

  const contentInfos = p12.safes.map((safe) => {
    if (!safe.encryption) {
      const safeContents = safe.raw ?? der(sequence(...(safe.bags ?? [])));
      return sequence(oidNode(P12_OID.data), explicit(octetString(safeContents)));
    }
    const ciphertext = safe.reencrypt && safe.bags ? aes256('encrypt', password, safe.reencrypt, der(sequence(...safe.bags))) : safe.ciphertext;
    if (!ciphertext) throw new Error('editPkcs12: an encrypted SafeContents needs its bags or its ciphertext');
    const encryptedContent = asn1.create(Class.CONTEXT_SPECIFIC, 0, false, ciphertext.toString('binary'));
    const encryptedContentInfo = sequence(oidNode(P12_OID.data), safe.encryption, encryptedContent);
    return sequence(oidNode(P12_OID.encryptedData), explicit(sequence(integerNode(0n), encryptedContentInfo)));
  });
  const authSafeDer = der(sequence(...contentInfos));
  const pfx = [integerNode(3n), sequence(oidNode(P12_OID.data), explicit(octetString(authSafeDer)))];

  if (p12.macIterations !== null) {
    const sha256 = macDigestOid === P12_OID.sha256;
    if (!sha256 && macDigestOid !== P12_OID.sha1) throw new Error('editPkcs12: only SHA-1 and SHA-256 MACs are made again');
    const length = sha256 ? 32 : 20;
    let digest = Buffer.alloc(length);
    if (p12.macIterations >= 1n && p12.macIterations <= 100_000n) {
      const generateKey = (forge as unknown as { pkcs12: { generateKey(...args: unknown[]): forge.util.ByteStringBuffer } }).pkcs12.generateKey;
      const md = () => (sha256 ? forge.md.sha256.create() : forge.md.sha1.create());
      const key = generateKey(password, forge.util.createBuffer(macSalt.toString('binary')), 3, Number(p12.macIterations), length, md());
      const hmac = forge.hmac.create();
      hmac.start(md(), key.getBytes());
      hmac.update(authSafeDer.toString('binary'));
      digest = Buffer.from(hmac.digest().getBytes(), 'binary');
    }
    const digestAlgorithm = sequence(oidNode(macDigestOid), asn1.create(Class.UNIVERSAL, Type.NULL, false, ''));
    pfx.push(sequence(sequence(digestAlgorithm, octetString(digest)), octetString(macSalt), integerNode(p12.macIterations)));
  }
  return der(sequence(...pfx)).toString('base64');
}
