// Trust material uploaded by admins (device CA bundle, server certificate): parsed with native X509; device CAs are
// also held to the CA rules of path validation (certificate-path.ts).
//
// Node's crypto only: this module is shared with the check-in path and must not pull in node-forge
// (the PKCS#12 push certificate lives in push-certificate.ts, loaded by the admin function alone).

import { X509Certificate, createHash } from 'node:crypto';
import { findDeviceCaNonconformance } from './certificate-path.ts';
import { HttpError } from './errors.ts';

export interface CertificateSummary {
  /** The certificate as normalised PEM: base64 of the exact DER in 64-character lines, `\n` line ends. */
  pem: string;
  /** One-line distinguished name in certificate order, e.g. `CN=Example Device CA, O=Example`. */
  subject: string;
  issuer: string;
  /** RFC 3339 UTC with milliseconds. */
  notBefore: string;
  notAfter: string;
  /** Lowercase hex SHA-256 of the DER, no colons. */
  sha256: string;
}

export interface ServerCertificateSummary extends CertificateSummary {
  /** Issuer equals subject and the signature verifies with the certificate's own public key. */
  selfSigned: boolean;
}

/** The contract's bound on the device CA set. */
export const MAX_DEVICE_CA_CERTIFICATES = 10;

/** Blocks beyond this are not even parsed (each parse costs ≈130 µs; a 1 MiB body could hold ~1000). */
const MAX_PEM_BLOCKS = 50;

const MS_PER_DAY = 86_400_000;

/**
 * Turns the multi-line form of `X509Certificate.subject`/`.issuer` (one RDN per line, RFC 2253 escaping, so a
 * value never holds a raw newline) into one line: `CN=Example Device CA, O=Example`. Multi-valued RDNs keep
 * their ` + ` separator. Shared with push-certificate.ts so that every subject in the API looks the same. Node
 * reports an empty name as undefined; it becomes the empty string.
 */
export function formatDistinguishedName(multiline: string | undefined): string {
  return (multiline ?? '')
    .split('\n')
    .filter((line) => line.length > 0)
    .join(', ');
}

interface PemBlock {
  /** The label after BEGIN, e.g. `CERTIFICATE`, `PRIVATE KEY`. Never contains body text. */
  label: string;
  /** The base64 body with all whitespace removed. */
  body: string;
  /** BEGIN and a matching END line were both found. */
  complete: boolean;
  /** RFC 1421 headers (`Proc-Type: …`) were present inside the block (legacy encrypted keys). */
  hasHeaders: boolean;
}

const BEGIN_LINE = /^-----BEGIN ([^-]*)-----$/;
const END_LINE = /^-----END ([^-]*)-----$/;
const BASE64_BODY = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Every PEM block in the text, whatever its label; text outside blocks (openssl's `subject=` lines) is ignored. */
function scanPemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let current: { label: string; lines: string[]; hasHeaders: boolean } | undefined;
  // Markers get lines of their own, so that `cat a.pem b.pem` without a final newline, or PEM whose newlines were
  // lost on the way (one long line), still splits.
  const separated = text.replace(/-----(?:BEGIN|END) [^-\r\n]{0,80}-----/g, '\n$&\n');
  for (const rawLine of separated.split(/\r\n|\r|\n/)) {
    const line = rawLine.trim();
    const begin = BEGIN_LINE.exec(line);
    if (begin) {
      if (current) blocks.push({ label: current.label, body: current.lines.join(''), complete: false, hasHeaders: current.hasHeaders });
      current = { label: begin[1].trim(), lines: [], hasHeaders: false };
      continue;
    }
    if (!current) continue;
    const end = END_LINE.exec(line);
    if (end) {
      blocks.push({
        label: current.label,
        body: current.lines.join(''),
        complete: end[1].trim() === current.label,
        hasHeaders: current.hasHeaders,
      });
      current = undefined;
      continue;
    }
    if (line.includes(':')) current.hasHeaders = true;
    else current.lines.push(line.replace(/\s+/g, ''));
  }
  if (current) blocks.push({ label: current.label, body: current.lines.join(''), complete: false, hasHeaders: current.hasHeaders });
  return blocks;
}

function wrapPem(label: string, base64: string): string {
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * Every complete `-----BEGIN CERTIFICATE-----` block of the text, normalised (body rewrapped at 64 characters,
 * `\n` line ends, one trailing newline). Other blocks and text around the blocks are left out.
 */
export function splitPemBundle(text: string): string[] {
  if (typeof text !== 'string') return [];
  return scanPemBlocks(text)
    .filter((block) => block.complete && block.label === 'CERTIFICATE')
    .map((block) => wrapPem('CERTIFICATE', block.body));
}

/** A label that is safe to repeat in an error message (it is never the body, but it is still caller input). */
function describeLabel(label: string): string {
  return /^[A-Z0-9 ]{1,40}$/.test(label) ? label : 'unrecognised';
}

/** Why a non-certificate block is refused; never quotes the block's body. */
function describeForeignBlock(block: PemBlock): string {
  const label = describeLabel(block.label);
  const article = /^[aeiou]/i.test(label) ? 'an' : 'a';
  if (/PRIVATE KEY/.test(label)) return `is ${article} ${label} block, not a certificate (never upload private keys; the key text was not stored)`;
  return `is ${article} ${label} block, not a CERTIFICATE`;
}

type ParsedBlock = { ok: true; x509: X509Certificate } | { ok: false; why: string };

function parseCertificateBlock(block: PemBlock): ParsedBlock {
  if (!block.complete) return { ok: false, why: 'is cut off (its -----END CERTIFICATE----- line is missing or does not match)' };
  if (block.hasHeaders || !BASE64_BODY.test(block.body) || block.body.length === 0) {
    return { ok: false, why: 'is not valid base64' };
  }
  const der = Buffer.from(block.body, 'base64');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch {
    return { ok: false, why: 'cannot be read as an X.509 certificate' };
  }
  // OpenSSL ignores bytes after the certificate; refuse them so that the stored PEM is exactly what was sent.
  if (x509.raw.length !== der.length) return { ok: false, why: 'has extra bytes after the certificate' };
  return { ok: true, x509 };
}

function toIso(opensslDate: string): string {
  const date = new Date(opensslDate);
  if (Number.isNaN(date.getTime())) throw new RangeError(`unreadable certificate date: ${opensslDate}`);
  return date.toISOString();
}

function summarize(x509: X509Certificate): CertificateSummary {
  return {
    pem: wrapPem('CERTIFICATE', x509.raw.toString('base64')),
    subject: formatDistinguishedName(x509.subject),
    issuer: formatDistinguishedName(x509.issuer),
    notBefore: toIso(x509.validFrom),
    notAfter: toIso(x509.validTo),
    sha256: createHash('sha256').update(x509.raw).digest('hex'),
  };
}

/** Subjects are quoted in messages; a pathological one (a CN of kilobytes) is cut so the message stays readable. */
const MAX_QUOTED_SUBJECT = 200;

function quoteSubject(x509: X509Certificate): string {
  const subject = formatDistinguishedName(x509.subject);
  if (subject.length === 0) return ' (empty subject)';
  return ` (${subject.length > MAX_QUOTED_SUBJECT ? `${subject.slice(0, MAX_QUOTED_SUBJECT)}…` : subject})`;
}

/**
 * 422 INVALID_CERTIFICATE on the one request field at fault (`certificates` or `certificate`, API.md's error shape:
 * `field`, no `details`), with one message naming every problem: by PEM block position, subject when readable, and
 * why. Messages are built from positions, sanitised block labels and parsed subjects only, never from block bodies,
 * so key material pasted by mistake is not echoed.
 */
function reject(field: string, what: string, problems: string[]): never {
  const message =
    problems.length === 1
      ? problems[0]
      : `${what} has ${problems.length} problems: ${problems.map((problem, i) => `(${i + 1}) ${problem}`).join('; ')}`;
  throw new HttpError(422, 'INVALID_CERTIFICATE', message, { field });
}

/**
 * Reads the device CA bundle of `PUT /admin/device-ca`: 1–10 distinct certificates, each parseable, with
 * basicConstraints CA:TRUE and meeting every other device CA rule (findDeviceCaNonconformance: basicConstraints
 * critical, keyCertSign, key policy, no unprocessed critical extension, …). Every problem is reported in the one
 * message (numbered by PEM block, 1-based; a broken rule by its name), as 422 INVALID_CERTIFICATE on field
 * `certificates`. Duplicates (same SHA-256) are dropped before counting; order is kept.
 */
export function parseDeviceCaBundle(pemBundle: string): CertificateSummary[] {
  const field = 'certificates';
  const what = 'The device CA bundle';
  const blocks = typeof pemBundle === 'string' ? scanPemBlocks(pemBundle) : [];
  if (blocks.length === 0) {
    reject(field, what, [`${what} contains no PEM certificate (-----BEGIN CERTIFICATE-----)`]);
  }
  if (blocks.length > MAX_PEM_BLOCKS) {
    reject(field, what, [`${what} contains ${blocks.length} PEM blocks; at most ${MAX_DEVICE_CA_CERTIFICATES} certificates are allowed`]);
  }

  const problems: string[] = [];
  const accepted: CertificateSummary[] = [];
  const seen = new Set<string>();
  blocks.forEach((block, index) => {
    const position = `${index + 1} of ${blocks.length}`;
    if (block.label !== 'CERTIFICATE') {
      problems.push(`PEM block ${position} ${describeForeignBlock(block)}`);
      return;
    }
    const parsed = parseCertificateBlock(block);
    if (!parsed.ok) {
      problems.push(`Certificate ${position} ${parsed.why}`);
      return;
    }
    if (!parsed.x509.ca) {
      problems.push(
        `Certificate ${position}${quoteSubject(parsed.x509)} is not a CA certificate: it lacks basicConstraints CA:TRUE`,
      );
      return;
    }
    // Every other device CA rule path validation holds CAs to, each named so that the admin can look it up.
    const nonconformance = findDeviceCaNonconformance(wrapPem('CERTIFICATE', parsed.x509.raw.toString('base64')));
    for (const broken of nonconformance) {
      problems.push(`Certificate ${position}${quoteSubject(parsed.x509)} breaks rule ${broken.rule}: ${broken.message}`);
    }
    if (nonconformance.length > 0) return;
    let summary: CertificateSummary;
    try {
      summary = summarize(parsed.x509);
    } catch {
      problems.push(`Certificate ${position}${quoteSubject(parsed.x509)} has an unreadable validity period`);
      return;
    }
    if (seen.has(summary.sha256)) return;
    seen.add(summary.sha256);
    accepted.push(summary);
  });

  if (problems.length === 0 && accepted.length > MAX_DEVICE_CA_CERTIFICATES) {
    problems.push(`${what} holds ${accepted.length} distinct certificates; at most ${MAX_DEVICE_CA_CERTIFICATES} are allowed`);
  }
  if (problems.length > 0) reject(field, what, problems);
  return accepted;
}

/**
 * Reads the server certificate of `PUT /admin/server-certificate`: the first PEM certificate is the server's;
 * further certificates (its chain) are allowed and ignored. Any other PEM block (a private key pasted with the
 * chain), no certificate at all, or an unreadable first certificate is 422 INVALID_CERTIFICATE on field
 * `certificate`, every problem named in the one message.
 */
export function describeServerCertificate(pem: string): ServerCertificateSummary {
  const field = 'certificate';
  const what = 'The server certificate';
  const blocks = typeof pem === 'string' ? scanPemBlocks(pem) : [];
  const problems: string[] = [];
  blocks.forEach((block, index) => {
    if (block.label !== 'CERTIFICATE') problems.push(`PEM block ${index + 1} of ${blocks.length} ${describeForeignBlock(block)}`);
  });
  const first = blocks.find((block) => block.label === 'CERTIFICATE');
  if (!first) {
    problems.push(`${what} contains no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    reject(field, what, problems);
  }
  const parsed = parseCertificateBlock(first);
  if (!parsed.ok) problems.push(`${what}${blocks.length > 1 ? ` (PEM block ${blocks.indexOf(first) + 1} of ${blocks.length})` : ''} ${parsed.why}`);
  if (problems.length > 0 || !parsed.ok) reject(field, what, problems);
  const x509 = parsed.x509;
  let summary: CertificateSummary;
  try {
    summary = summarize(x509);
  } catch {
    reject(field, what, [`${what}${quoteSubject(x509)} has an unreadable validity period`]);
  }
  let selfSigned = false;
  try {
    // checkIssued also demands keyCertSign in keyUsage (and matching key identifiers), which a self-signed *leaf*
    // lacks; such a certificate is still self-signed for a device, so equal names count too.
    const namesMatch = x509.checkIssued(x509) || (x509.subject ?? '') === (x509.issuer ?? '');
    selfSigned = namesMatch && x509.verify(x509.publicKey);
  } catch {
    // An unsupported key or signature algorithm cannot prove self-signature; report it as not self-signed.
    selfSigned = false;
  }
  return { ...summary, selfSigned };
}

/**
 * Whole days until `notAfterIso`: floor((notAfter − now) / 24 h). 0 on the last day, negative once expired.
 * Throws RangeError for an unreadable timestamp (a programming error: callers pass stored RFC 3339 values).
 */
export function daysRemaining(notAfterIso: string, now: Date): number {
  const notAfter = Date.parse(notAfterIso);
  if (Number.isNaN(notAfter)) throw new RangeError(`not a timestamp: ${notAfterIso}`);
  return Math.floor((notAfter - now.getTime()) / MS_PER_DAY);
}
