// RFC 5280 §6 path validation for device certificates: the rules each certificate must meet by its place on the
// path (device leaf, CA, configured device CA), and the walk from trust anchor to leaf that enforces
// pathLenConstraint and name constraints. Signatures are checked by the caller (device-certificates.ts).

import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { plainIssuance, readPlainCertificate, readPlainIssuer, type PlainCertificate, type PlainIssuer } from './plain-certificate.ts';
import { MAX_QUOTED_LENGTH, quoteUntrusted } from './quote.ts';
import { candidateSignatureEncodingTwins, EXTENSION, readCertificateProfile, signatureEncodingTwins, type CertificateProfile } from './certificate-extensions.ts';
import {
  constrainedNamesOf,
  describeMalformedConstraints,
  equalDistinguishedNames,
  findNameConstraintViolation,
  MAX_NAME_CONSTRAINT_COMPARISONS,
  type NameConstraints,
} from './name-constraints.ts';

/** One rule a certificate breaks: a short stable name and a clause saying how ("its basicConstraints …"). */
export interface RuleBreak {
  rule: string;
  message: string;
}

export interface CaRuleBreak extends RuleBreak {
  /**
   * A configured device CA that breaks this rule still anchors paths in the check-in path (the rule was added after
   * such CAs could be uploaded; an upgrade never locks out a fleet). Rules whose breach leaves the CA's own
   * constraints unreadable, or that were always required, are never tolerated.
   */
  toleratedForConfiguredCa: boolean;
}

export interface LeafRuleBreak extends RuleBreak {
  /** INVALID: the certificate cannot be read unambiguously; UNTRUSTED: it reads fine but is no device certificate. */
  kind: 'INVALID' | 'UNTRUSTED';
}

/** Extensions whose meaning this verifier applies, so that they may be critical. */
const PROCESSED_EXTENSIONS: ReadonlySet<string> = new Set([
  EXTENSION.basicConstraints,
  EXTENSION.keyUsage,
  EXTENSION.extendedKeyUsage,
  EXTENSION.subjectAltName,
  EXTENSION.nameConstraints,
  // No certificate policy is ever required of a device, so RFC 5280 §6 policy processing cannot fail a path: the
  // extension is understood (and ignored) whether critical or not. policyConstraints, which could require one, is not.
  EXTENSION.certificatePolicies,
]);

const EXTENSION_NAMES: Record<string, string> = {
  [EXTENSION.basicConstraints]: 'basicConstraints',
  [EXTENSION.keyUsage]: 'keyUsage',
  [EXTENSION.extendedKeyUsage]: 'extKeyUsage',
  [EXTENSION.subjectAltName]: 'subjectAltName',
  [EXTENSION.nameConstraints]: 'nameConstraints',
  [EXTENSION.certificatePolicies]: 'certificatePolicies',
  [EXTENSION.policyConstraints]: 'policyConstraints',
  [EXTENSION.authorityKeyIdentifier]: 'authorityKeyIdentifier',
  [EXTENSION.subjectKeyIdentifier]: 'subjectKeyIdentifier',
  [EXTENSION.authorityInfoAccess]: 'authorityInfoAccess',
  '2.5.29.33': 'policyMappings',
  '2.5.29.54': 'inhibitAnyPolicy',
  '2.5.29.31': 'cRLDistributionPoints',
};

/**
 * A certificate parsed once: its names, dates and key (by Node's X509Certificate, or for a presented certificate
 * written the plain way by the DER walk: plain-certificate.ts) and, on first use, the ASN.1 profile.
 */
export class ParsedCertificate {
  /** Subject on one line (`CN=…, O=…`), for messages only through quoteSubject(). */
  readonly subject: string;
  readonly issuer: string;
  readonly commonNames: string[];
  /** Why the public key breaks the key policy; undefined when it meets it. */
  readonly keyProblem?: string;
  /** The walk's reading when the certificate was read without X509Certificate (parsePresented). */
  readonly plain?: PlainCertificate;
  private x509Read?: X509Certificate;
  private plainIssuerRead?: { issuer?: PlainIssuer };
  private profileRead?: { profile?: CertificateProfile };
  private caBreaks?: CaRuleBreak[];
  private leafBreaks?: LeafRuleBreak[];
  private revocationNames?: string[];
  /** Fingerprints of candidateSignatureEncodingTwins (null when the walk could not read the signature). */
  private candidateNames?: string[] | null;

  private constructor(
    readonly der: Buffer,
    /** SHA-256 of the DER, lowercase hex without colons. */
    readonly fingerprint: string,
    readonly notBefore: Date,
    readonly notAfter: Date,
    names: { subject: string; issuer: string },
    readonly publicKey: KeyObject,
    reading: { x509: X509Certificate } | { plain: PlainCertificate },
  ) {
    this.subject = oneLine(names.subject);
    this.issuer = oneLine(names.issuer);
    if ('x509' in reading) {
      this.x509Read = reading.x509;
      this.commonNames = commonNamesOf(names.subject);
    } else {
      this.plain = reading.plain;
      this.commonNames = reading.plain.commonNames;
    }
    this.keyProblem = describeKeyProblem(publicKey);
  }

  /**
   * Node's reading, made on first use for a certificate read by the walk. Throws when OpenSSL cannot read the bytes,
   * or reads other bytes from them: given a buffer, X509Certificate tries PEM first, and OpenSSL's PEM reader skips
   * whatever precedes a BEGIN line, so a certificate could carry someone else's in its unsigned signature bits.
   */
  get x509(): X509Certificate {
    if (!this.x509Read) {
      const x509 = new X509Certificate(this.der);
      if (!x509.raw.equals(this.der)) throw new RangeError('the bytes hold another certificate than the one read');
      this.x509Read = x509;
    }
    return this.x509Read;
  }

  /**
   * Undefined when Node cannot read the bytes (or PEM) as a certificate with a usable key and dates, or when the
   * bytes hold more than the certificate: Node ignores what follows the DER, and a trailing byte would give the same
   * certificate another fingerprint, past a revocation.
   */
  static parse(input: Buffer | string, knownFingerprint?: string): ParsedCertificate | undefined {
    try {
      const x509 = new X509Certificate(input);
      if (typeof input !== 'string' && !x509.raw.equals(input)) return undefined;
      const notBefore = certificateDate(x509, 'validFrom');
      const notAfter = certificateDate(x509, 'validTo');
      if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) return undefined;
      // Node reports an empty name as undefined, not as an empty string.
      const names = { subject: x509.subject ?? '', issuer: x509.issuer ?? '' };
      return new ParsedCertificate(x509.raw, knownFingerprint ?? sha256Fingerprint(x509.raw), notBefore, notAfter, names, x509.publicKey, { x509 });
    } catch {
      return undefined;
    }
  }

  /**
   * A certificate a device presented: read by the walk when it is written the plain way (an RSA key, SHA-2
   * signatures, printable names; plain-certificate.ts), which costs a small part of X509Certificate's key decoding,
   * else by parse(). Both readings give the same names, dates and key (test/unit/plain-certificate.test.ts).
   */
  static parsePresented(der: Buffer, fingerprint: string): ParsedCertificate | undefined {
    const plain = readPlainCertificate(der);
    if (plain) {
      let publicKey: KeyObject | undefined;
      try {
        publicKey = createPublicKey({ key: Buffer.from(plain.rsaPublicKey), format: 'der', type: 'pkcs1' });
      } catch {
        publicKey = undefined; // a key OpenSSL refuses: X509Certificate decides below
      }
      if (publicKey) {
        const names = { subject: plain.subjectText, issuer: plain.issuerText };
        return new ParsedCertificate(der, fingerprint, plain.notBefore, plain.notAfter, names, publicKey, { plain });
      }
    }
    return ParsedCertificate.parse(der, fingerprint);
  }

  /**
   * OpenSSL's issuer check (X509Certificate#checkIssued) of this certificate against `issuer`, decided by the walk
   * when both are plain (plain-certificate.ts), so that X509Certificate is never built for a device whose certificate
   * chains the plain way: true or false only where checkIssued says the same, undefined where it must decide. Past
   * the names, both certificates' extensions must read without fault: OpenSSL refuses a certificate it marked invalid.
   */
  plainIssuanceBy(issuer: ParsedCertificate): boolean | undefined {
    const plainIssuer = this.plain && issuer.plainIssuer;
    if (!this.plain || !plainIssuer) return undefined;
    if (this.plain.issuerCanonical !== plainIssuer.subjectCanonical) return false;
    if (!this.readsWithoutFault || !issuer.readsWithoutFault) return undefined;
    const keyUsage = issuer.profile?.keyUsage;
    return plainIssuance(this.plain, plainIssuer, issuer.publicKey, keyUsage === undefined || keyUsage.usages.has('keyCertSign'));
  }

  private get readsWithoutFault(): boolean {
    const profile = this.profile;
    return profile !== undefined && profile.malformedExtensions.length === 0 && profile.duplicateExtensions.length === 0;
  }

  /** What OpenSSL's issuer check reads of this certificate as a CA, read by the walk (undefined when not plain). */
  get plainIssuer(): PlainIssuer | undefined {
    this.plainIssuerRead ??= { issuer: readPlainIssuer(this.der) };
    return this.plainIssuerRead.issuer;
  }

  /** The ASN.1 reading, made on first use and kept; undefined when the ASN.1 library cannot read the certificate. */
  get profile(): CertificateProfile | undefined {
    if (!this.profileRead) {
      try {
        this.profileRead = { profile: readCertificateProfile(this.der) };
      } catch {
        this.profileRead = {};
      }
    }
    return this.profileRead.profile;
  }

  /**
   * The fingerprints a revocation of this certificate may have been written with: its own, and those of its
   * signature-encoding twins (an ECDSA signature is as valid with s as with n − s). Computed on first use.
   */
  get revocationFingerprints(): readonly string[] {
    if (!this.revocationNames) {
      let twins: Buffer[] = [];
      try {
        twins = signatureEncodingTwins(this.der);
      } catch {
        // not readable by the ASN.1 library: its own fingerprint is all there is
      }
      this.revocationNames = [this.fingerprint, ...twins.map(sha256Fingerprint)];
    }
    return this.revocationNames;
  }

  /**
   * Revoked under its own fingerprint or a signature-encoding twin's. The twins are found by the DER walk, which keeps
   * the signed part's bytes and re-encodes only the signature (candidateSignatureEncodingTwins): a twin of a revoked
   * certificate is found even when its signed part is not the ASN.1 library's own encoding (an explicit critical
   * FALSE, a long-form length in a name), where the library's twins (revocationFingerprints) are none. Only when the
   * walk cannot read the signature are those used.
   */
  isRevokedBy(revoked: ReadonlySet<string>): boolean {
    if (revoked.size === 0) return false;
    if (revoked.has(this.fingerprint)) return true;
    if (this.candidateNames === undefined) {
      let candidates: Buffer[] | undefined;
      try {
        candidates = candidateSignatureEncodingTwins(this.der);
      } catch {
        candidates = undefined;
      }
      this.candidateNames = candidates === undefined ? null : candidates.map(sha256Fingerprint);
    }
    const twins = this.candidateNames ?? this.revocationFingerprints;
    return twins.some((fingerprint) => revoked.has(fingerprint));
  }

  /** Subject and issuer are the same name (RFC 5280: such a CA does not count towards pathLenConstraint). */
  get selfIssued(): boolean {
    const profile = this.profile;
    return profile !== undefined && equalDistinguishedNames(profile.subject, profile.issuer);
  }

  /** The rules this certificate breaks as a CA on a path (computed once). */
  get caRuleBreaks(): CaRuleBreak[] {
    this.caBreaks ??= findCaRuleBreaks(this);
    return this.caBreaks;
  }

  /** The rules this certificate breaks as a device certificate, key policy aside (computed once). */
  get leafRuleBreaks(): LeafRuleBreak[] {
    this.leafBreaks ??= findLeafRuleBreaks(this);
    return this.leafBreaks;
  }
}

export function sha256Fingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

// ---- the rules ----

function findCaRuleBreaks(cert: ParsedCertificate): CaRuleBreak[] {
  const profile = cert.profile;
  if (!profile) {
    return [{ rule: 'certificate-unreadable', message: 'its extensions cannot be read as X.509', toleratedForConfiguredCa: false }];
  }
  const breaks: CaRuleBreak[] = [];
  const add = (rule: string, message: string, toleratedForConfiguredCa: boolean) => breaks.push({ rule, message, toleratedForConfiguredCa });

  if (profile.version !== 3) add('certificate-version', `it is an X.509 version ${profile.version} certificate, not version 3`, true);
  for (const oid of profile.duplicateExtensions) {
    add('duplicate-extension', `it holds the ${extensionName(oid)} extension more than once`, !PROCESSED_EXTENSIONS.has(oid));
  }
  for (const oid of profile.malformedExtensions) add('malformed-extension', `its ${extensionName(oid)} extension cannot be decoded`, false);

  const basicConstraints = profile.basicConstraints;
  if (!basicConstraints || !basicConstraints.ca) {
    add('basic-constraints-ca', 'it is not a CA certificate (it lacks basicConstraints CA:TRUE)', false);
  } else if (!basicConstraints.critical) {
    add('basic-constraints-critical', 'its basicConstraints extension is not marked critical, as RFC 5280 requires of a CA', true);
  }
  // OpenSSL's issuer check (X509Certificate#checkIssued) already refuses such an issuer, so it never anchored.
  if (profile.keyUsage && !profile.keyUsage.usages.has('keyCertSign')) {
    add('key-usage-key-cert-sign', 'its keyUsage does not include keyCertSign', false);
  }
  if (cert.keyProblem) add('key-policy', cert.keyProblem, true);
  else if (profile.ecCurveIsNamed === false) add('key-policy', EXPLICIT_CURVE, true);
  for (const oid of unprocessedCriticalExtensions(profile)) {
    add('unrecognised-critical-extension', `it has a critical ${extensionName(oid)} extension, which this verifier does not process`, true);
  }
  if (profile.subject.length === 0) add('empty-subject', 'its subject is empty, which RFC 5280 forbids for a CA', true);
  if (!profile.signatureAlgorithmsMatch) {
    add('signature-algorithm-mismatch', 'its two signature algorithm fields differ', true);
  }
  const nameConstraints = profile.nameConstraints;
  if (nameConstraints) {
    if (!nameConstraints.critical) {
      add('name-constraints-critical', 'its nameConstraints extension is not marked critical, as RFC 5280 requires', true);
    }
    const malformed = describeMalformedConstraints(nameConstraints);
    if (malformed) add('name-constraints-malformed', `its name constraints cannot be applied: ${malformed}`, false);
  }
  const policyConstraints = profile.extensions.find((extension) => extension.oid === EXTENSION.policyConstraints);
  if (policyConstraints && !policyConstraints.critical) {
    add('policy-constraints-critical', 'its policyConstraints extension is not marked critical, as RFC 5280 requires', true);
  }
  return breaks;
}

/** The rules a device (leaf) certificate breaks, key policy aside (reported on its own as CLIENT_CERT_INVALID). */
function findLeafRuleBreaks(cert: ParsedCertificate): LeafRuleBreak[] {
  const profile = cert.profile;
  if (!profile) return [{ rule: 'certificate-unreadable', message: 'its extensions cannot be read as X.509', kind: 'INVALID' }];
  const breaks: LeafRuleBreak[] = [];
  const add = (rule: string, message: string, kind: LeafRuleBreak['kind']) => breaks.push({ rule, message, kind });

  for (const oid of profile.duplicateExtensions) add('duplicate-extension', `it holds the ${extensionName(oid)} extension more than once`, 'INVALID');
  for (const oid of profile.malformedExtensions) add('malformed-extension', `its ${extensionName(oid)} extension cannot be decoded`, 'INVALID');
  if (!profile.signatureAlgorithmsMatch) add('signature-algorithm-mismatch', 'its two signature algorithm fields differ', 'INVALID');
  if (profile.ecCurveIsNamed === false) add('key-policy', EXPLICIT_CURVE, 'INVALID');
  if (breaks.length > 0) return breaks;

  if (profile.version !== 3) add('certificate-version', `it is an X.509 version ${profile.version} certificate, not version 3`, 'UNTRUSTED');
  if (profile.basicConstraints?.ca) add('leaf-is-ca', 'it is a CA certificate (basicConstraints CA:TRUE), not a device certificate', 'UNTRUSTED');
  if (profile.keyUsage?.usages.has('keyCertSign')) {
    add('leaf-key-cert-sign', 'its keyUsage allows signing certificates (keyCertSign), which a device certificate must not', 'UNTRUSTED');
  }
  if (profile.nameConstraints) add('name-constraints-in-leaf', 'it carries name constraints, which only a CA may', 'UNTRUSTED');
  for (const oid of unprocessedCriticalExtensions(profile)) {
    add('unrecognised-critical-extension', `it has a critical ${extensionName(oid)} extension, which this verifier does not process`, 'UNTRUSTED');
  }
  if (profile.subject.length === 0 && !profile.subjectAltNames?.critical) {
    add('empty-subject-san', 'its subject is empty and it has no critical subjectAltName to name it instead', 'UNTRUSTED');
  }
  return breaks;
}

const EXPLICIT_CURVE = 'its EC key gives explicit curve parameters instead of naming P-256 or P-384';

function unprocessedCriticalExtensions(profile: CertificateProfile): string[] {
  return profile.extensions.filter((extension) => extension.critical && !PROCESSED_EXTENSIONS.has(extension.oid)).map((extension) => extension.oid);
}

function extensionName(oid: string): string {
  return EXTENSION_NAMES[oid] ?? (/^[0-9.]{1,64}$/.test(oid) ? oid : 'unnamed');
}

/**
 * The device CA rules a configured CA certificate breaks (RFC 5280 §4.2.1.9 and the rest of what path validation
 * asks of a CA), for upload validation and the daily CERTIFICATE_NONCONFORMING alert. Validity is not a rule here
 * (expiry has alerts of its own). A PEM that holds no readable certificate breaks `certificate-unreadable`.
 */
export function findDeviceCaNonconformance(pem: string): RuleBreak[] {
  const block = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(pem)?.[0] ?? pem;
  const cert = ParsedCertificate.parse(block);
  if (!cert) return [{ rule: 'certificate-unreadable', message: 'it cannot be read as an X.509 certificate with a supported key' }];
  return cert.caRuleBreaks.map(({ rule, message }) => ({ rule, message }));
}

// ---- the path ----

export interface PathCheck {
  /** The server's time, already floored to whole seconds (validity is encoded in seconds; RFC 5280 §4.1.2.5). */
  nowMs: number;
  /** A notBefore up to this far after now is tolerated. */
  skewMs: number;
  /** 'enforce': configured CAs meet every CA rule; 'tolerate': only the rules no configured CA was ever exempt from. */
  configuredCaConformance: 'enforce' | 'tolerate';
}

/**
 * Validates one candidate path, `[leaf, intermediate…, anchor]` (each issued by the next; signatures already
 * checked), as RFC 5280 §6 does from the anchor down. The anchor's own pathLenConstraint and name constraints bind
 * what is below it, as they would if it were an intermediate. Undefined when valid; otherwise why not.
 */
export function findPathProblem(path: ParsedCertificate[], check: PathCheck): string | undefined {
  const anchor = path[path.length - 1];
  const intermediates = path.slice(1, -1);
  const leaf = path[0];

  for (const intermediate of intermediates) {
    const problem = describeCaProblem(intermediate, 'the presented intermediate', check, false);
    if (problem) return problem;
  }
  const anchorProblem = describeCaProblem(anchor, 'the configured device CA', check, check.configuredCaConformance === 'tolerate');
  if (anchorProblem) return anchorProblem;

  // Walk down from the anchor: pathLenConstraint and the name constraints of every CA above bind each certificate.
  let remainingCas = anchor.profile?.basicConstraints?.pathLength ?? Number.POSITIVE_INFINITY;
  const constraints: Array<{ from: ParsedCertificate; constraints: NameConstraints }> = [];
  const budget = { remaining: MAX_NAME_CONSTRAINT_COMPARISONS };
  const addConstraints = (ca: ParsedCertificate) => {
    const nameConstraints = ca.profile?.nameConstraints;
    if (nameConstraints) constraints.push({ from: ca, constraints: nameConstraints });
  };
  const nameProblem = (cert: ParsedCertificate, role: string): string | undefined => {
    if (constraints.length === 0) return undefined;
    const names = constrainedNamesOf(cert.profile as CertificateProfile);
    for (const { from, constraints: nameConstraints } of constraints) {
      const violation = findNameConstraintViolation(nameConstraints, names, budget);
      if (violation) return `${role} "${quoteSubject(cert.subject)}" breaks the name constraints of "${quoteSubject(from.subject)}": ${violation}`;
    }
    return undefined;
  };

  addConstraints(anchor);
  for (let i = intermediates.length - 1; i >= 0; i -= 1) {
    const ca = intermediates[i];
    // Self-issued CAs (key rollover) neither use up pathLenConstraint nor are bound by name constraints (§6.1.4).
    if (!ca.selfIssued) {
      if (remainingCas <= 0) {
        return `the presented intermediate "${quoteSubject(ca.subject)}" is one CA more than a pathLenConstraint above it allows`;
      }
      remainingCas -= 1;
      const problem = nameProblem(ca, 'the presented intermediate');
      if (problem) return problem;
    }
    const pathLength = ca.profile?.basicConstraints?.pathLength;
    if (pathLength !== undefined) remainingCas = Math.min(remainingCas, pathLength);
    addConstraints(ca);
  }
  return nameProblem(leaf, 'the device certificate');
}

/** The static and time-bound problems of one CA on a path; `tolerant` keeps only what no configured CA is exempt from. */
export function describeCaProblem(ca: ParsedCertificate, role: string, check: PathCheck, tolerant: boolean): string | undefined {
  const breaks = ca.caRuleBreaks.filter((rule) => !tolerant || !rule.toleratedForConfiguredCa);
  if (breaks.length > 0) return `${role} "${quoteSubject(ca.subject)}" cannot be a CA on the path: ${breaks[0].message}`;
  return describeValidityProblem(ca, role, check);
}

export function describeValidityProblem(cert: ParsedCertificate, role: string, check: Pick<PathCheck, 'nowMs' | 'skewMs'>): string | undefined {
  if (check.nowMs > cert.notAfter.getTime()) {
    return `${role} "${quoteSubject(cert.subject)}" expired at ${cert.notAfter.toISOString()}`;
  }
  if (cert.notBefore.getTime() > check.nowMs + check.skewMs) {
    return `${role} "${quoteSubject(cert.subject)}" is not valid until ${cert.notBefore.toISOString()}`;
  }
  return undefined;
}

// ---- key policy ----

/**
 * RSA of at least 2048 bits (a whole number of bytes) with an odd public exponent of at least 3, or EC on P-256 or
 * P-384, for devices and CAs alike.
 */
export function describeKeyProblem(key: KeyObject): string | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < 2048) return `its RSA key has ${bits} bits, fewer than the 2048 required`;
    if (bits % 8 !== 0) return `its RSA key has ${bits} bits, not a whole number of bytes`;
    // RFC 8017 §3.1: an odd exponent of at least 3. With 1, any text is its own signature.
    const exponent = details.publicExponent ?? 0n;
    if (exponent < 3n || exponent % 2n === 0n) return `its RSA public exponent is ${exponent}, not an odd number of at least 3`;
    return undefined;
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = details.namedCurve;
    if (curve === 'prime256v1' || curve === 'secp384r1') return undefined;
    return `its EC key is on the curve ${curve ?? '(explicit parameters)'}, and only P-256 and P-384 are supported`;
  }
  return `its key type ${key.asymmetricKeyType ?? 'unknown'} is not supported`;
}

// ---- names in messages ----

/** Longest excerpt of a certificate name that a message may quote (API.md: attacker-made names write no prose). */
export const MAX_QUOTED_NAME = MAX_QUOTED_LENGTH;

/**
 * A certificate's subject (or any name from it) as a message may quote it: printable characters only, at most 64 of
 * them (then "…"), "(empty subject)" for an empty one. Never put a certificate's text in a message any other way.
 */
export function quoteSubject(name: string): string {
  return quoteUntrusted(name, '(empty subject)');
}

// ---- Node's text forms ----

/** Node ≥ 22.10 has validFromDate/validToDate; Node 20 only the OpenSSL text form ("Jan  1 00:00:00 2026 GMT"). */
function certificateDate(x509: X509Certificate, field: 'validFrom' | 'validTo'): Date {
  const native = (x509 as unknown as Record<string, unknown>)[`${field}Date`];
  if (native instanceof Date) return native;
  return new Date(x509[field]);
}

function oneLine(name: string): string {
  return name.split('\n').filter((line) => line.length > 0).join(', ');
}

/**
 * Common names from X509Certificate#subject: one RDN per line; within a line, attributes of a multi-valued RDN are
 * separated by an unescaped "+" (printed " + "); values are RFC 2253-escaped (`\,`, `\+`, `\"`, `\ `) and control
 * characters hex-escaped (`\0A`).
 */
export function commonNamesOf(subject: string): string[] {
  const names: string[] = [];
  for (const line of subject.split('\n')) {
    for (const attribute of splitUnescaped(line, '+')) {
      const eq = attribute.indexOf('=');
      if (eq < 0) continue;
      if (attribute.slice(0, eq).trim().toUpperCase() !== 'CN') continue;
      names.push(unescapeValue(trimUnescaped(attribute.slice(eq + 1))));
    }
  }
  return names;
}

function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length) {
      current += ch + text[i + 1];
      i += 1;
    } else if (ch === separator) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/** Trims spaces that are not escaped (an escaped trailing space, `\ `, is part of the value). */
function trimUnescaped(value: string): string {
  let start = 0;
  while (start < value.length && value[start] === ' ') start += 1;
  let end = value.length;
  while (end > start && value[end - 1] === ' ' && value[end - 2] !== '\\') end -= 1;
  return value.slice(start, end);
}

function unescapeValue(value: string): string {
  const bytes: number[] = [];
  const out: string[] = [];
  const flush = () => {
    if (bytes.length > 0) out.push(Buffer.from(bytes.splice(0)).toString('utf8'));
  };
  for (let i = 0; i < value.length; i += 1) {
    const ch = value[i];
    if (ch === '\\' && /^[0-9A-Fa-f]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
      continue;
    }
    flush();
    if (ch === '\\' && i + 1 < value.length) {
      out.push(value[i + 1]);
      i += 1;
    } else {
      out.push(ch);
    }
  }
  flush();
  return out.join('');
}
