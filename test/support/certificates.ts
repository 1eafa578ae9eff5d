// Test helper: makes real keys and X.509 certificates with the `openssl` CLI in a fresh temp dir.
//
// Usage (make everything once per suite, in beforeAll; each certificate costs two openssl runs, plus RSA keygen):
//
//   const factory = CertificateFactory.create();
//   const root = factory.makeRootCa({ cn: 'Device Root', keyType: 'ec384', notBefore, notAfter });
//   const inter = factory.makeIntermediateCa(root, { cn: 'Device Issuing CA' });
//   const device = factory.makeDeviceCertificate(inter, { cn: 'C02XK1JHJG5J', keyType: 'ec256', eku: 'clientAuth' });
//   const limited = factory.makeIntermediateCa(root, { cn: 'Macs CA', pathLength: 0, nameConstraints: 'critical,permitted;DNS:example.com' });
//   const signature = signBody(Buffer.from('{"a":1}'), device);
//   afterAll(() => factory.cleanup());
//
// Validity is set with `openssl ca -startdate/-enddate` because `openssl x509 -req` in OpenSSL 3.0 cannot set an
// explicit notBefore (past or future); `openssl ca` runs with a minimal generated config (no global openssl.cnf CA
// section is needed). Dates default to the real clock (yesterday → +days); pass notBefore/notAfter for fixed dates.

import { execFileSync } from 'node:child_process';
import { createHash, sign as cryptoSign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitPemBundle } from '../../lib/domain/trust-material.ts';

export type KeyType = 'rsa1024' | 'rsa2048' | 'rsa3072' | 'rsa4096' | 'ec256' | 'ec384' | 'ec521';

/** Extended key usage to put in a certificate; 'none' (the default for CAs) leaves the extension out. */
export type ExtendedKeyUsage = 'clientAuth' | 'serverAuth' | 'none' | Array<'clientAuth' | 'serverAuth' | 'codeSigning' | 'emailProtection'>;

export interface KeyMaterial {
  keyType: KeyType;
  /** PKCS#8 PEM, unencrypted. */
  keyPem: string;
  keyPath: string;
}

export interface CertificateOptions {
  /** Subject common name. Ignored when `subject` is given. */
  cn: string;
  /** Whole subject in openssl `-subj` syntax (e.g. `/C=US/O=Acme/CN=x+UID=y`), for multi-RDN cases. */
  subject?: string;
  /** Default: 'ec256' for devices, 'ec384' for CAs. Ignored when `key` is given. */
  keyType?: KeyType;
  /** Reuse an existing key (skips key generation: faster, and lets two certificates share a key). */
  key?: KeyMaterial;
  /** Validity length from notBefore when notAfter is not given. Default 365 (devices) or 3650 (CAs). */
  days?: number;
  /** Default: the real clock minus one day. */
  notBefore?: Date;
  notAfter?: Date;
  /** Default: 'clientAuth' for devices, 'none' for CAs. */
  eku?: ExtendedKeyUsage;
  /** basicConstraints CA flag. Default: true for makeRootCa/makeIntermediateCa, false for devices. */
  ca?: boolean;
  /**
   * The whole basicConstraints value in openssl syntax (e.g. `CA:TRUE` for a non-critical one), or 'none' to leave
   * the extension out. Default: `critical,CA:TRUE` (with `pathLength`) or `critical,CA:FALSE`, as RFC 5280 wants.
   */
  basicConstraints?: string;
  /** pathLenConstraint of the default basicConstraints of a CA. */
  pathLength?: number;
  /** nameConstraints in openssl syntax, e.g. `critical,permitted;DNS:example.com,excluded;IP:192.0.2.0/255.255.255.0`. */
  nameConstraints?: string;
  /** authorityKeyIdentifier in openssl syntax, or 'none'. Default: `keyid` when issued by another certificate. */
  authorityKeyIdentifier?: string;
  /** keyUsage extension value (openssl syntax), or 'none' to leave it out. Default per kind. */
  keyUsage?: string;
  /** Extra extension lines in openssl syntax, e.g. `subjectAltName = DNS:example.com`. */
  extraExtensions?: string[];
  /** Keep an emailAddress attribute of `subject` in the certificate (openssl ca drops it unless told otherwise). */
  keepEmailInSubject?: boolean;
}

export interface MadeCertificate extends KeyMaterial {
  /** Common name given (or '' when only `subject` was given). */
  cn: string;
  subject: string;
  /** PEM of this certificate alone. */
  pem: string;
  der: Buffer;
  /** Base64 of the DER (the X-Device-Certificate form). */
  base64: string;
  certPath: string;
  /** SHA-256 of the DER, lowercase hex without colons. */
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
  /** The certificate that signed this one; undefined when self-signed. */
  issuer?: MadeCertificate;
}

const DAY_MS = 86_400_000;

export class CertificateFactory {
  readonly dir: string;
  private counter = 0;
  private readonly configPath: string;

  /** The minimal openssl configuration written for `openssl ca` (for other openssl runs that want no system one). */
  get configFile(): string {
    return this.configPath;
  }

  private constructor(dir: string) {
    this.dir = dir;
    mkdirSync(join(dir, 'newcerts'));
    writeFileSync(join(dir, 'index.txt'), '');
    this.configPath = join(dir, 'ca.cnf');
    // Minimal `openssl ca` config: one shared database, random serials, every subject field kept as requested.
    writeFileSync(
      this.configPath,
      [
        '[ ca ]',
        'default_ca = tollgate_test_ca',
        '[ tollgate_test_ca ]',
        `database = ${join(dir, 'index.txt')}`,
        `new_certs_dir = ${join(dir, 'newcerts')}`,
        'rand_serial = yes',
        'default_md = sha256',
        'policy = policy_anything',
        'unique_subject = no',
        'copy_extensions = none',
        '[ policy_anything ]',
        'commonName = optional',
        '',
      ].join('\n'),
    );
  }

  /** A factory working in a fresh temporary directory; call cleanup() when done. */
  static create(prefix = 'tollgate-certs-'): CertificateFactory {
    return new CertificateFactory(mkdtempSync(join(tmpdir(), prefix)));
  }

  /** Removes the temporary directory and everything made in it. */
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A new private key (PKCS#8 PEM) made by `openssl genpkey`. */
  makeKey(keyType: KeyType): KeyMaterial {
    const keyPath = this.nextPath('key');
    execFileSync('openssl', ['genpkey', ...genpkeyArgs(keyType), '-out', keyPath], { stdio: 'pipe' });
    return { keyType, keyPath, keyPem: readFileSync(keyPath, 'utf8') };
  }

  /** A self-signed CA certificate (basicConstraints CA:TRUE, keyCertSign). */
  makeRootCa(options: CertificateOptions): MadeCertificate {
    return this.issue(undefined, options, 'ca');
  }

  /** A CA certificate signed by `issuer` (a root or another intermediate). */
  makeIntermediateCa(issuer: MadeCertificate, options: CertificateOptions): MadeCertificate {
    return this.issue(issuer, options, 'ca');
  }

  /** A device (leaf) certificate signed by `issuer`; pass `undefined` as issuer for a self-signed one. */
  makeDeviceCertificate(issuer: MadeCertificate | undefined, options: CertificateOptions): MadeCertificate {
    return this.issue(issuer, options, 'device');
  }

  private issue(issuer: MadeCertificate | undefined, options: CertificateOptions, kind: 'ca' | 'device'): MadeCertificate {
    const isCa = options.ca ?? kind === 'ca';
    const keyType = options.key?.keyType ?? options.keyType ?? (kind === 'ca' ? 'ec384' : 'ec256');
    const subject = options.subject ?? `/CN=${escapeSubjectValue(options.cn)}`;
    const notBefore = options.notBefore ?? new Date(Date.now() - DAY_MS);
    const notAfter =
      options.notAfter ?? new Date(notBefore.getTime() + (options.days ?? (kind === 'ca' ? 3650 : 365)) * DAY_MS);

    const csrPath = this.nextPath('csr');
    let key: KeyMaterial;
    if (options.key) {
      key = options.key;
      execFileSync('openssl', ['req', '-new', '-utf8', '-key', key.keyPath, '-subj', subject, '-out', csrPath], {
        stdio: 'pipe',
      });
    } else {
      const keyPath = this.nextPath('key');
      execFileSync(
        'openssl',
        ['req', '-new', '-utf8', ...newkeyArgs(keyType), '-noenc', '-keyout', keyPath, '-subj', subject, '-out', csrPath],
        { stdio: 'pipe' },
      );
      key = { keyType, keyPath, keyPem: readFileSync(keyPath, 'utf8') };
    }

    const extPath = this.nextPath('ext');
    writeFileSync(extPath, extensionSection(options, isCa, keyType, issuer === undefined));
    const certPath = this.nextPath('pem');
    const issuerArgs = issuer ? ['-cert', issuer.certPath, '-keyfile', issuer.keyPath] : ['-selfsign', '-keyfile', key.keyPath];
    execFileSync(
      'openssl',
      [
        'ca', '-batch', '-config', this.configPath, ...issuerArgs,
        '-in', csrPath, '-out', certPath, '-notext', '-preserveDN', '-utf8', '-md', 'sha256',
        ...(options.keepEmailInSubject ? [] : ['-noemailDN']),
        '-startdate', opensslTime(notBefore), '-enddate', opensslTime(notAfter),
        '-extfile', extPath, '-extensions', 'ext',
      ],
      { stdio: 'pipe' },
    );
    const pem = readFileSync(certPath, 'utf8');
    const der = pemToDer(pem);
    return {
      ...key,
      cn: options.subject ? '' : options.cn,
      subject,
      pem,
      der,
      base64: der.toString('base64'),
      certPath,
      fingerprint: sha256Hex(der),
      notBefore: truncateToSeconds(notBefore),
      notAfter: truncateToSeconds(notAfter),
      issuer,
    };
  }

  private nextPath(ext: string): string {
    this.counter += 1;
    return join(this.dir, `f${this.counter}.${ext}`);
  }
}

// ---- signing a request body ----

/** Signature over `body` with the certificate's key: what `openssl dgst -sha256 -sign device.key` makes. */
export function signBody(body: Buffer | string, key: Pick<KeyMaterial, 'keyPem'>): Buffer {
  return cryptoSign('sha256', typeof body === 'string' ? Buffer.from(body) : body, key.keyPem);
}

/** The same signature made by the openssl CLI itself (slower; use it to prove interoperability). */
export function signBodyWithOpenssl(body: Buffer | string, key: Pick<KeyMaterial, 'keyPath'>): Buffer {
  return execFileSync('openssl', ['dgst', '-sha256', '-sign', key.keyPath], {
    input: typeof body === 'string' ? Buffer.from(body) : body,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

// ---- conversions and header forms ----

/** DER of the first certificate in a PEM (blocks found as the domain finds them: trust-material.ts's splitPemBundle). */
export function pemToDer(pem: string): Buffer {
  const [first] = splitPemBundle(pem);
  if (!first) throw new Error('no PEM certificate block found');
  return Buffer.from(first.split('\n').filter((line) => !line.startsWith('-----')).join(''), 'base64');
}

/** PEM (64-character lines, trailing newline) of a DER certificate. */
export function derToPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** PEM bundle of several certificates (leaf first, as mTLS passes them). */
export function pemBundle(certs: Array<{ der: Buffer }>): string {
  return certs.map((c) => derToPem(c.der)).join('');
}

/** X-Device-Certificate value: base64 DER of each certificate, comma-separated, leaf first. */
export function deviceCertificateHeader(certs: Array<{ der: Buffer }>, separator = ','): string {
  return certs.map((c) => c.der.toString('base64')).join(separator);
}

/** nginx `$ssl_client_escaped_cert`: the PEM fully URL-escaped (newlines as %0A, '+', '/', '=' escaped). */
export function nginxEscapedPem(pem: string): string {
  return encodeURIComponent(pem);
}

/** ALB `X-Amzn-Mtls-Clientcert` form: URL-escaped PEM but with '+', '=' and '/' left as they are. */
export function albEscapedPem(pem: string): string {
  return encodeURIComponent(pem).replace(/%2B/g, '+').replace(/%3D/g, '=').replace(/%2F/g, '/');
}

/** RFC 9440 structured-field byte sequence(s): `:base64-DER:`, comma-separated for a chain. */
export function rfc9440(certs: Array<{ der: Buffer }>): string {
  return certs.map((c) => `:${c.der.toString('base64')}:`).join(', ');
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

// ---- internals ----

function genpkeyArgs(keyType: KeyType): string[] {
  const rsa = /^rsa(\d+)$/.exec(keyType);
  if (rsa) return ['-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${rsa[1]}`];
  return ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${curveName(keyType)}`];
}

function newkeyArgs(keyType: KeyType): string[] {
  const rsa = /^rsa(\d+)$/.exec(keyType);
  if (rsa) return ['-newkey', `rsa:${rsa[1]}`];
  return ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curveName(keyType)}`];
}

function curveName(keyType: KeyType): string {
  switch (keyType) {
    case 'ec256':
      return 'P-256';
    case 'ec384':
      return 'P-384';
    case 'ec521':
      return 'P-521';
    default:
      throw new Error(`not an EC key type: ${keyType}`);
  }
}

function extensionSection(options: CertificateOptions, isCa: boolean, keyType: KeyType, selfSigned: boolean): string {
  const pathLength = isCa && options.pathLength !== undefined ? `,pathlen:${options.pathLength}` : '';
  const basicConstraints = options.basicConstraints ?? `critical,CA:${isCa ? 'TRUE' : 'FALSE'}${pathLength}`;
  const lines = ['[ ext ]'];
  if (basicConstraints !== 'none') lines.push(`basicConstraints = ${basicConstraints}`);
  const defaultKeyUsage = isCa
    ? 'critical,keyCertSign,cRLSign'
    : keyType.startsWith('rsa')
      ? 'critical,digitalSignature,keyEncipherment'
      : 'critical,digitalSignature';
  const keyUsage = options.keyUsage ?? defaultKeyUsage;
  if (keyUsage !== 'none') lines.push(`keyUsage = ${keyUsage}`);
  const eku = options.eku ?? (isCa ? 'none' : 'clientAuth');
  const ekuList = eku === 'none' ? [] : Array.isArray(eku) ? eku : [eku];
  if (ekuList.length > 0) lines.push(`extendedKeyUsage = ${ekuList.join(',')}`);
  lines.push('subjectKeyIdentifier = hash');
  // OpenSSL 3 adds an authorityKeyIdentifier of its own unless told `none`; self-signed certificates get none anyway.
  const authorityKeyIdentifier = options.authorityKeyIdentifier ?? (selfSigned ? undefined : 'keyid');
  if (authorityKeyIdentifier) lines.push(`authorityKeyIdentifier = ${authorityKeyIdentifier}`);
  if (options.nameConstraints) lines.push(`nameConstraints = ${options.nameConstraints}`);
  lines.push(...(options.extraExtensions ?? []));
  return `${lines.join('\n')}\n`;
}

/** `openssl ca -startdate/-enddate` format: YYYYMMDDHHMMSSZ (UTC). */
function opensslTime(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`;
}

function truncateToSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** Escapes the characters that `openssl -subj` treats specially inside a value. */
function escapeSubjectValue(value: string): string {
  return value.replace(/[\\/+]/g, (c) => `\\${c}`);
}
