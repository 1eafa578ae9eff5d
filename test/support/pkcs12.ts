// Test helper: makes keys, X.509 certificates and PKCS#12 (.p12) files with the `openssl` CLI in a fresh temp dir.
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
// Validity is set with `openssl ca -startdate/-enddate` (a minimal generated config and database), because OpenSSL
// 3.0's `req -x509` and `x509 -req` only take a positive `-days` from now, and faketime is not installed. So past
// (expired) and fixed dates work offline. Passwords go through the environment (`-passout env:`), so any
// character, including non-ASCII, reaches openssl unchanged.

import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

const MINIMAL_CONFIG = `
[ req ]
distinguished_name = req_dn
[ req_dn ]
[ ca ]
default_ca = workbench_ca
[ workbench_ca ]
database = ./index.txt
serial = ./serial
new_certs_dir = ./issued
default_md = sha256
policy = anything
unique_subject = no
email_in_dn = no
copy_extensions = none
[ anything ]
commonName = optional
[ ext_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

/** openssl's GeneralizedTime argument form: YYYYMMDDHHMMSSZ. */
function opensslDate(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

export class OpensslWorkbench {
  private counter = 0;

  private constructor(readonly dir: string) {}

  static create(): OpensslWorkbench {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-pkcs12-'));
    writeFileSync(join(dir, 'openssl.cnf'), MINIMAL_CONFIG);
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '1000\n');
    mkdirSync(join(dir, 'issued'));
    return new OpensslWorkbench(dir);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs openssl in the workbench dir; throws with its stderr on failure. Returns stdout. */
  openssl(args: string[], env: Record<string, string> = {}): string {
    const result = spawnSync('openssl', args, {
      cwd: this.dir,
      env: { ...process.env, OPENSSL_CONF: join(this.dir, 'openssl.cnf'), ...env },
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
    const path = `${this.next('key')}.pem`;
    const algorithm = kind === 'rsa2048' ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'] : ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    this.openssl(['genpkey', ...algorithm, '-out', path]);
    return { path, pem: readFileSync(path, 'utf8') };
  }

  makeCertificate(request: CertificateRequest): MadeCertificate {
    const base = this.next('cert');
    const notBefore = request.notBefore ?? new Date(Math.floor(Date.now() / 1000) * 1000 - 86_400_000);
    const notAfter = request.notAfter ?? new Date(notBefore.getTime() + (request.days ?? 365) * 86_400_000);
    this.openssl(['req', '-new', '-utf8', '-multivalue-rdn', '-key', request.key.path, '-subj', request.subject, '-out', `${base}.csr`]);
    const signer = request.issuer
      ? ['-cert', request.issuer.path, '-keyfile', request.issuer.key.path]
      : ['-selfsign', '-keyfile', request.key.path];
    this.openssl([
      'ca', '-batch', '-notext', '-utf8', '-preserveDN', '-config', join(this.dir, 'openssl.cnf'),
      ...signer,
      '-in', `${base}.csr`,
      '-startdate', opensslDate(notBefore),
      '-enddate', opensslDate(notAfter),
      '-extensions', request.ca ? 'ext_ca' : 'ext_leaf',
      '-out', `${base}.pem`,
    ]);
    return { path: `${base}.pem`, pem: readFileSync(`${base}.pem`, 'utf8'), key: request.key, subject: request.subject };
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
