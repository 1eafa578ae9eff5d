// Unit tests for lib/domain/trust-material.ts: device CA bundles and the server certificate, with openssl-made certificates.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../../lib/domain/errors.ts';
import {
  daysRemaining,
  describeServerCertificate,
  formatDistinguishedName,
  parseDeviceCaBundle,
  splitPemBundle,
} from '../../lib/domain/trust-material.ts';
import { CertificateFactory, type MadeCertificate as FactoryCertificate } from '../support/certificates.ts';
import { OpensslWorkbench, type KeyFile, type MadeCertificate } from '../support/pkcs12.ts';

const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
const NOT_AFTER = new Date('2035-06-30T12:00:00Z');

let bench: OpensslWorkbench;
let caKey: KeyFile;
let serverKey: KeyFile;
let cas: MadeCertificate[]; // 11 distinct CA certificates
let leaf: MadeCertificate; // CA:FALSE, issued by cas[0]
let selfSignedCa: MadeCertificate; // self-signed with CA:TRUE, as `openssl req -x509` makes them
let selfSignedLeaf: MadeCertificate; // self-signed with CA:FALSE and no keyCertSign
let issuedServer: MadeCertificate; // issued by cas[0]

beforeAll(() => {
  bench = OpensslWorkbench.create();
  caKey = bench.makeKey();
  serverKey = bench.makeKey('ec256');
  cas = Array.from({ length: 11 }, (_, i) =>
    bench.makeCertificate({ subject: `/CN=Example Device CA ${i + 1}/O=Example`, key: caKey, ca: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER }),
  );
  leaf = bench.makeCertificate({ subject: '/CN=Leaf Device/O=Example', key: serverKey, issuer: cas[0] });
  selfSignedCa = bench.makeCertificate({ subject: '/CN=tollgate.example.com/O=Example', key: serverKey, ca: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
  selfSignedLeaf = bench.makeCertificate({ subject: '/CN=self.example.com', key: serverKey });
  issuedServer = bench.makeCertificate({ subject: '/CN=tollgate.example.com/O=Example', key: serverKey, issuer: cas[0], notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
});

afterAll(() => bench?.cleanup());

/** The 422 INVALID_CERTIFICATE a bad upload throws: one `field`, one message naming every problem, no `details`. */
function certificateError(run: () => unknown, field: 'certificates' | 'certificate'): HttpError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    const httpError = error as HttpError;
    expect(httpError.statusCode).toBe(422);
    expect(httpError.code).toBe('INVALID_CERTIFICATE');
    expect(httpError.field).toBe(field);
    expect(httpError.details).toBeUndefined();
    return httpError;
  }
  throw new Error('expected an HttpError, but nothing was thrown');
}

/** The same certificate block with one zero byte appended to its DER. */
const withTrailingByte = (pem: string) => {
  const der = Buffer.concat([Buffer.from(bodyLines(pem).join(''), 'base64'), Buffer.from([0])]);
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
};

/** Every base64 line of a PEM file (not the BEGIN/END markers). */
const bodyLines = (pem: string) => pem.split('\n').filter((line) => line.length > 0 && !line.startsWith('-----'));

describe('formatDistinguishedName', () => {
  it.each([
    // one RDN per line becomes one line, in certificate order
    ['CN=Example Device CA\nO=Example', 'CN=Example Device CA, O=Example'],
    // escaped commas and multi-valued RDNs are kept as Node prints them
    ['CN=a + O=b\nOU=t\\,x', 'CN=a + O=b, OU=t\\,x'],
    // empty name
    ['', ''],
  ])('%j → %j', (multiline, oneLine) => {
    expect(formatDistinguishedName(multiline)).toBe(oneLine);
  });
});

describe('splitPemBundle', () => {
  it('finds nothing in what is not text', () => {
    expect(splitPemBundle(undefined as unknown as string)).toEqual([]);
  });

  it('returns every certificate block, normalised, and leaves other blocks and text out', () => {
    const messy =
      'subject=CN=whatever\r\n' +
      cas[0].pem.replace(/\n/g, '\r\n').replace(/^(?!-----)/gm, '   ') + // CRLF and indented base64
      'random words\n' +
      serverKey.pem +
      cas[1].pem.replace(/\n/g, '');
    const blocks = splitPemBundle(messy);
    expect(blocks).toEqual([cas[0].pem, cas[1].pem]);
  });

  it('leaves header lines inside a certificate block out of the certificate it returns', () => {
    // a "Name: value" line between the BEGIN line and the base64 (RFC 1421's form), which is no part of the DER
    const annotated = cas[0].pem.replace('-----\n', '-----\nComment: Example Device CA 1\n');
    expect(splitPemBundle(annotated)).toEqual([cas[0].pem]);
  });
});

describe('parseDeviceCaBundle', () => {
  it('summarises one CA exactly as openssl reads it', () => {
    const view = bench.inspect(cas[0]);
    expect(parseDeviceCaBundle(cas[0].pem)).toEqual([
      {
        pem: cas[0].pem,
        subject: 'CN=Example Device CA 1, O=Example',
        issuer: 'CN=Example Device CA 1, O=Example',
        notBefore: '2025-01-01T00:00:00.000Z',
        notAfter: '2035-06-30T12:00:00.000Z',
        sha256: view.sha256,
      },
    ]);
    expect(view.subject).toBe('CN=Example Device CA 1, O=Example');
  });

  it.each([
    // the contract's upper bound
    ['10 CAs', () => cas.slice(0, 10).map((c) => c.pem).join(''), 10],
    // a duplicate is dropped, order kept
    ['duplicates', () => [cas[0], cas[1], cas[0], cas[1]].map((c) => c.pem).join(''), 2],
    // 11 blocks but only 10 distinct certificates: counted after dropping duplicates
    ['11 blocks, 10 distinct', () => [...cas.slice(0, 10), cas[3]].map((c) => c.pem).join(''), 10],
    // markers with a space before their closing dashes, and a space inside a body line (as pasted from a form)
    ['loosely written markers and body', () => cas[0].pem.replace(/CERTIFICATE-----/g, 'CERTIFICATE -----').replace(/\n(.{10})/, '\n$1 '), 1],
    // 50 blocks, the most that are read: the same CA fifty times is one CA
    ['50 blocks of one CA', () => cas[0].pem.repeat(50), 1],
    // openssl-style text between blocks and CRLF line ends are tolerated
    ['annotated CRLF bundle', () => `subject=CN=Example Device CA 1\r\n${cas[0].pem.replace(/\n/g, '\r\n')}\r\n# second\r\n${cas[1].pem}`, 2],
  ])('accepts %s', (_name, bundle, count) => {
    const summaries = parseDeviceCaBundle(bundle());
    expect(summaries).toHaveLength(count);
    expect(new Set(summaries.map((s) => s.sha256)).size).toBe(count);
    expect(summaries[0].subject).toBe('CN=Example Device CA 1, O=Example');
  });

  it.each([
    // more than 10 distinct CAs
    ['11 CAs', () => cas.map((c) => c.pem).join(''), /holds 11 distinct certificates; at most 10/],
    // nothing at all
    ['empty text', () => '', /contains no PEM certificate/],
    // text without any PEM block
    ['garbage', () => 'this is not a certificate', /contains no PEM certificate/],
    // a PEM block whose body is not a certificate
    ['garbage inside a block', () => '-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQh\n-----END CERTIFICATE-----\n', /Certificate 1 of 1 cannot be read as an X\.509 certificate/],
    // a body that is not base64
    ['not base64', () => '-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n', /Certificate 1 of 1 is not valid base64/],
    // BEGIN without END
    ['cut off', () => cas[0].pem.split('-----END')[0], /Certificate 1 of 1 is cut off/],
    // a certificate block closed by another label
    ['closed by another label', () => cas[0].pem.replace('END CERTIFICATE', 'END X509 CRL'), /^Certificate 1 of 1 is cut off \(its -----END CERTIFICATE----- line is missing or does not match\)$/],
    // a block left open when the next one begins
    ['cut off by the next block', () => cas[0].pem.split('-----END')[0] + cas[1].pem, /^Certificate 1 of 2 is cut off/],
    // RFC 1421 headers inside the block (a legacy encrypted PEM): not the bare base64 of a certificate
    ['with PEM headers', () => cas[0].pem.replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\n'), /^Certificate 1 of 1 is not valid base64$/],
    // a byte after the certificate's DER, which OpenSSL would ignore
    ['bytes after the DER', () => withTrailingByte(cas[0].pem), /^Certificate 1 of 1 has extra bytes after the certificate$/],
    // more blocks than are read at all
    ['51 blocks', () => cas[0].pem.repeat(51), /^The device CA bundle contains 51 PEM blocks; at most 10 certificates are allowed$/],
    // not text at all (a JSON number where the bundle belongs)
    ['a number', () => 42 as unknown as string, /contains no PEM certificate/],
    // a leaf (CA:FALSE) after a good CA: named by position and subject
    ['a leaf certificate', () => cas[0].pem + leaf.pem, /^Certificate 2 of 2 \(CN=Leaf Device, O=Example\) is not a CA certificate: it lacks basicConstraints CA:TRUE$/],
  ])('rejects %s', (_name, bundle, message) => {
    const error = certificateError(() => parseDeviceCaBundle(bundle()), 'certificates');
    expect(error.message).toMatch(message);
  });

  it('calls an encrypted private key block what it is, without echoing it', () => {
    const encrypted = caKey.pem.replace(/PRIVATE KEY-----/g, 'ENCRYPTED PRIVATE KEY-----');
    const error = certificateError(() => parseDeviceCaBundle(cas[0].pem + encrypted), 'certificates');
    expect(error.message).toBe(
      'PEM block 2 of 2 is an ENCRYPTED PRIVATE KEY block, not a certificate (never upload private keys; the key text was not stored)',
    );
  });

  it('rejects a private key block without echoing the key', () => {
    const error = certificateError(() => parseDeviceCaBundle(cas[0].pem + caKey.pem), 'certificates');
    expect(error.message).toMatch(/^PEM block 2 of 2 is a PRIVATE KEY block, not a certificate/);
    const everything = JSON.stringify({ message: error.message, field: error.field, details: error.details });
    for (const line of bodyLines(caKey.pem)) expect(everything).not.toContain(line);
  });

  it('names every problem in the one message, by block, subject and reason', () => {
    const error = certificateError(() => parseDeviceCaBundle(leaf.pem + cas[0].pem + caKey.pem), 'certificates');
    expect(error.message).toBe(
      'The device CA bundle has 2 problems: ' +
        '(1) Certificate 1 of 3 (CN=Leaf Device, O=Example) is not a CA certificate: it lacks basicConstraints CA:TRUE; ' +
        '(2) PEM block 3 of 3 is a PRIVATE KEY block, not a certificate (never upload private keys; the key text was not stored)',
    );
    for (const line of bodyLines(caKey.pem)) expect(error.message).not.toContain(line);
  });

  it('does not repeat the body of a block whose label is not a certificate, whatever the label', () => {
    const secret = Buffer.from('x'.repeat(48)).toString('base64');
    const error = certificateError(
      () => parseDeviceCaBundle(`${cas[0].pem}-----BEGIN ${secret.slice(0, 20)}-----\n${secret}\n-----END ${secret.slice(0, 20)}-----\n`),
      'certificates',
    );
    expect(error.message).toBe('PEM block 2 of 2 is an unrecognised block, not a CERTIFICATE');
  });

  it('does not repeat a label that starts like a key block and goes on with its body', () => {
    // the key's first base64 line joined to its BEGIN line, as a careless copy or a mail client's rewrap leaves it
    const secret = Buffer.from('x'.repeat(48)).toString('base64');
    const error = certificateError(() => parseDeviceCaBundle(`${cas[0].pem}-----BEGIN PRIVATE KEY ${secret}-----\n${secret}\n-----END PRIVATE KEY-----\n`), 'certificates');
    expect(error.message).toBe('PEM block 2 of 2 is an unrecognised block, not a CERTIFICATE');
  });

  it('refuses such a block pasted indented, its BEGIN line longer than 80 characters', () => {
    // the key's first line as MIME wraps base64 (76 characters) joined to its BEGIN line, every line indented two
    // spaces, as a bundle pasted from a YAML file or a quoted mail arrives
    const secret = Buffer.from('x'.repeat(57)).toString('base64');
    const indentedKey = [`-----BEGIN PRIVATE KEY ${secret}-----`, secret, '-----END PRIVATE KEY-----'].map((line) => `  ${line}\n`).join('');
    const error = certificateError(() => parseDeviceCaBundle(`${cas[0].pem}${indentedKey}`), 'certificates');
    expect(error.message).toBe('PEM block 2 of 2 is an unrecognised block, not a CERTIFICATE');
  });

  it.each([
    // Columns: what was uploaded, the exact message of the 422
    // the certificate signing request instead of the certificate the CA issued from it (openssl req -new)
    ['a CSR', () => '-----BEGIN CERTIFICATE REQUEST-----\nMIIBAA==\n-----END CERTIFICATE REQUEST-----\n', 'PEM block 1 of 1 is a CERTIFICATE REQUEST block, not a CERTIFICATE'],
    // the markers with nothing between them (a form's paste that lost the body)
    ['an empty certificate block', () => '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n', 'Certificate 1 of 1 is not valid base64'],
  ])('names %s for what it is', (_name, bundle, message) => {
    expect(certificateError(() => parseDeviceCaBundle(bundle()), 'certificates').message).toBe(message);
  });
});

describe('parseDeviceCaBundle: the device CA rules of path validation', () => {
  let factory: CertificateFactory;
  const made: Record<string, FactoryCertificate> = {};
  beforeAll(() => {
    factory = CertificateFactory.create();
    made.conforming = factory.makeRootCa({ cn: 'Conforming CA', notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    made.constrained = factory.makeRootCa({ cn: 'Constrained CA', pathLength: 0, nameConstraints: 'critical,permitted;DNS:example.com' });
    made.bcNotCritical = factory.makeRootCa({ cn: 'Legacy CA', basicConstraints: 'CA:TRUE' });
    made.rsa1024 = factory.makeRootCa({ cn: 'Weak CA', keyType: 'rsa1024' });
    made.unknownCritical = factory.makeRootCa({ cn: 'Odd CA', extraExtensions: ['1.3.6.1.4.1.55738.666.1 = critical,ASN1:NULL'] });
    made.emptySubject = factory.makeRootCa({ cn: '', subject: '/' });
  });
  afterAll(() => factory?.cleanup());

  it('accepts conforming CAs, name constraints and pathLenConstraint included', () => {
    expect(parseDeviceCaBundle(made.conforming.pem + made.constrained.pem).map((summary) => summary.subject)).toEqual([
      'CN=Conforming CA',
      'CN=Constrained CA',
    ]);
  });

  it.each([
    // Columns: the CA, the exact message (rule named) of the 422
    // basicConstraints CA:TRUE but not critical (accepted before these rules; refused for new uploads)
    ['bcNotCritical', 'Certificate 1 of 1 (CN=Legacy CA) breaks rule basic-constraints-critical: its basicConstraints extension is not marked critical, as RFC 5280 requires of a CA'],
    // a CA key below the device key policy
    ['rsa1024', 'Certificate 1 of 1 (CN=Weak CA) breaks rule key-policy: its RSA key has 1024 bits, fewer than the 2048 required'],
    // a critical extension path validation does not process
    ['unknownCritical', 'Certificate 1 of 1 (CN=Odd CA) breaks rule unrecognised-critical-extension: it has a critical 1.3.6.1.4.1.55738.666.1 extension, which this verifier does not process'],
    // an empty subject: named as such, never as unreadable
    ['emptySubject', 'Certificate 1 of 1 (empty subject) breaks rule empty-subject: its subject is empty, which RFC 5280 forbids for a CA'],
  ])('refuses %s, naming the rule', (name, message) => {
    const error = certificateError(() => parseDeviceCaBundle(made[name].pem), 'certificates');
    expect(error.message).toBe(message);
  });

  it('names every broken rule of every certificate in the one message', () => {
    const error = certificateError(() => parseDeviceCaBundle(made.conforming.pem + made.bcNotCritical.pem + leaf.pem + made.rsa1024.pem), 'certificates');
    expect(error.message).toBe(
      'The device CA bundle has 3 problems: ' +
        '(1) Certificate 2 of 4 (CN=Legacy CA) breaks rule basic-constraints-critical: its basicConstraints extension is not marked critical, as RFC 5280 requires of a CA; ' +
        '(2) Certificate 3 of 4 (CN=Leaf Device, O=Example) is not a CA certificate: it lacks basicConstraints CA:TRUE; ' +
        '(3) Certificate 4 of 4 (CN=Weak CA) breaks rule key-policy: its RSA key has 1024 bits, fewer than the 2048 required',
    );
  });
});

describe('describeServerCertificate', () => {
  let sameNameOtherKey: MadeCertificate;
  let ownKeyOtherName: MadeCertificate;
  let selfSignedNoSubject: MadeCertificate;
  beforeAll(() => {
    const twinCa = bench.makeCertificate({ subject: '/CN=twin.example.com', key: caKey, ca: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    sameNameOtherKey = bench.makeCertificate({ subject: '/CN=twin.example.com', key: serverKey, issuer: twinCa, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    ownKeyOtherName = bench.makeCertificate({ subject: '/CN=reuse.example.com', key: caKey, issuer: cas[0], notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    selfSignedNoSubject = bench.makeCertificate({ subject: '/', key: serverKey, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
  });

  it.each([
    // self-signed with CA:TRUE, as `openssl req -x509` makes it
    ['self-signed CA-style', () => selfSignedCa, true],
    // self-signed leaf without keyCertSign (X509Certificate.checkIssued alone would miss it)
    ['self-signed leaf', () => selfSignedLeaf, true],
    // issued by a CA
    ['CA-issued', () => issuedServer, false],
    // issued by a CA of the same name but another key (a CA's new key certified by its old one, or a private CA
    // named after the host): self-issued, not self-signed
    ['same name, signed by another key', () => sameNameOtherKey, false],
    // signed with its own key by a CA that reuses that key under another name: not self-signed either
    ['own key, another name', () => ownKeyOtherName, false],
    // self-signed with an empty subject and issuer, the host named in its subjectAltName only
    ['self-signed with an empty subject', () => selfSignedNoSubject, true],
  ])('%s → selfSigned %s', (_name, certificate, selfSigned) => {
    expect(describeServerCertificate(certificate().pem).selfSigned).toBe(selfSigned);
  });

  it('returns subject, issuer, dates and fingerprint exactly as openssl reads them', () => {
    const view = bench.inspect(issuedServer);
    const summary = describeServerCertificate(issuedServer.pem);
    expect(summary).toEqual({
      pem: issuedServer.pem,
      subject: 'CN=tollgate.example.com, O=Example',
      issuer: 'CN=Example Device CA 1, O=Example',
      notBefore: '2025-01-01T00:00:00.000Z',
      notAfter: '2035-06-30T12:00:00.000Z',
      sha256: view.sha256,
      selfSigned: false,
    });
    expect({ subject: summary.subject, issuer: summary.issuer, notBefore: summary.notBefore, notAfter: summary.notAfter, sha256: summary.sha256 }).toEqual(view);
  });

  it('describes the first certificate of a full chain and ignores the rest', () => {
    expect(describeServerCertificate(issuedServer.pem + cas[0].pem).subject).toBe('CN=tollgate.example.com, O=Example');
  });

  it.each([
    // nothing
    ['empty', () => '', /^The server certificate contains no PEM certificate \(-----BEGIN CERTIFICATE-----\)$/],
    // not PEM at all
    ['garbage', () => 'hello', /^The server certificate contains no PEM certificate \(-----BEGIN CERTIFICATE-----\)$/],
    // unreadable first certificate
    ['unreadable', () => '-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQh\n-----END CERTIFICATE-----\n', /cannot be read as an X\.509 certificate/],
    // the key pasted with the certificate
    ['certificate plus key', () => issuedServer.pem + serverKey.pem, /^PEM block 2 of 2 is a PRIVATE KEY block/],
    // not text at all
    ['a number', () => 42 as unknown as string, /^The server certificate contains no PEM certificate \(-----BEGIN CERTIFICATE-----\)$/],
    // a byte after the certificate's DER
    ['bytes after the DER', () => withTrailingByte(issuedServer.pem), /^The server certificate has extra bytes after the certificate$/],
  ])('rejects %s', (_name, pem, message) => {
    const error = certificateError(() => describeServerCertificate(pem()), 'certificate');
    expect(error.message).toMatch(message);
    for (const line of bodyLines(serverKey.pem)) expect(error.message).not.toContain(line);
  });

  it('names every problem in the one message: each foreign block and an unreadable certificate', () => {
    const unreadable = '-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQh\n-----END CERTIFICATE-----\n';
    const error = certificateError(() => describeServerCertificate(serverKey.pem + unreadable + caKey.pem), 'certificate');
    expect(error.message).toBe(
      'The server certificate has 3 problems: ' +
        '(1) PEM block 1 of 3 is a PRIVATE KEY block, not a certificate (never upload private keys; the key text was not stored); ' +
        '(2) PEM block 3 of 3 is a PRIVATE KEY block, not a certificate (never upload private keys; the key text was not stored); ' +
        '(3) The server certificate (PEM block 2 of 3) cannot be read as an X.509 certificate',
    );
    for (const line of [...bodyLines(serverKey.pem), ...bodyLines(caKey.pem)]) expect(error.message).not.toContain(line);
  });

  it('a key alone: the key block and the missing certificate', () => {
    const error = certificateError(() => describeServerCertificate(serverKey.pem), 'certificate');
    expect(error.message).toBe(
      'The server certificate has 2 problems: ' +
        '(1) PEM block 1 of 1 is a PRIVATE KEY block, not a certificate (never upload private keys; the key text was not stored); ' +
        '(2) The server certificate contains no PEM certificate (-----BEGIN CERTIFICATE-----)',
    );
  });
});

describe('daysRemaining', () => {
  const notAfter = '2030-01-31T12:00:00.000Z';
  it.each([
    // exactly 30 days
    ['2030-01-01T12:00:00.000Z', 30],
    // one millisecond short of 30 days: whole days only
    ['2030-01-01T12:00:00.001Z', 29],
    // the last day
    ['2030-01-31T00:00:00.000Z', 0],
    // at the instant of expiry
    ['2030-01-31T12:00:00.000Z', 0],
    // one millisecond after expiry
    ['2030-01-31T12:00:00.001Z', -1],
    // ten days after expiry
    ['2030-02-10T12:00:00.000Z', -10],
  ])('now %s → %i', (now, days) => {
    expect(daysRemaining(notAfter, new Date(now))).toBe(days);
  });

  it('throws RangeError for a non-timestamp', () => {
    expect(() => daysRemaining('soon', new Date())).toThrow(RangeError);
  });
});
