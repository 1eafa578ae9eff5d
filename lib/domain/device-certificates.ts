// Device certificate verification with Node's native X509Certificate: chain, validity, device binding, EKU,
// revocation and the request signature. Pure: the clock comes in with each request.
//
// Performance (DESIGN.md "Decisions already measured"): parsing costs more than verifying, so the CA set is parsed
// once per verifier, parsed certificates are cached per DER hash, and successful chain checks are kept in a bounded
// LRU keyed by the hash of the presented DERs. Failures are never cached. A cache hit still re-checks everything that
// depends on the time or on the request: validity windows (the leaf's and the path's CAs'), the CN binding, EKU,
// revocation and the signature. Build a new verifier when the CA set or the revocations change: that clears the caches.

import { createHash, verify as verifySignature, X509Certificate, type KeyObject } from 'node:crypto';
import type { Finding } from './errors.ts';
import type { PresentedIdentity } from './device-identity.ts';

export interface DeviceCertificateVerification {
  violations: Finding[];
  /** SHA-256 of the leaf DER, lowercase hex, no colons; present whenever a leaf DER was decoded. */
  fingerprint?: string;
}

export interface DeviceCertificateRequest {
  deviceId: string;
  /** The exact request body bytes (what a SIGNED_REQUEST signature covers). */
  body: Buffer;
  /** The server's time. */
  now: Date;
  /** A notBefore less than this many seconds after `now` is tolerated. */
  maxClockSkewSeconds: number;
}

export const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';

/** Longest path from the leaf to a trust anchor (counting CA certificates); real device PKIs use 1–3. */
const MAX_PATH_CAS = 8;

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

/** SHA-256 of a DER certificate: lowercase hex without colons (the form revocations are stored in). */
export function sha256Fingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/** A certificate parsed once, with what the checks need precomputed. */
interface ParsedCertificate {
  fingerprint: string;
  x509: X509Certificate;
  notBefore: Date;
  notAfter: Date;
  /** Subject on one line, for messages. */
  subject: string;
  issuer: string;
  commonNames: string[];
  isCa: boolean;
  /** Extended key usage OIDs; undefined when the extension is absent. */
  extendedKeyUsage?: string[];
  /** Why the public key is not acceptable for a device certificate; undefined when it is. */
  keyProblem?: string;
}

export class DeviceCertificateVerifier {
  private readonly anchors: ParsedCertificate[] = [];
  private readonly anchorFingerprints = new Set<string>();
  private readonly revoked: ReadonlySet<string>;
  /** Successful chain checks: hash of the presented DERs → the CA certificates of the path found (leaf excluded). */
  private readonly chainCache: BoundedLru<ParsedCertificate[]>;
  /** Parsed certificates by DER fingerprint (leaves and presented intermediates). */
  private readonly parsedCache: BoundedLru<ParsedCertificate>;
  /** How many of the configured certificates could not be parsed (they are ignored: they cannot anchor anything). */
  readonly unreadableCaCount: number = 0;

  constructor(caPems: string[], revokedSha256: ReadonlySet<string>, options: { chainCacheSize?: number } = {}) {
    const size = Math.max(0, Math.floor(options.chainCacheSize ?? 1000));
    this.chainCache = new BoundedLru(size);
    this.parsedCache = new BoundedLru(size);
    let unreadable = 0;
    for (const pem of caPems) {
      const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [pem];
      for (const block of blocks) {
        const parsed = parseCertificate(block);
        if (!parsed) {
          unreadable += 1;
          continue;
        }
        if (this.anchorFingerprints.has(parsed.fingerprint)) continue;
        this.anchorFingerprints.add(parsed.fingerprint);
        this.anchors.push(parsed);
      }
    }
    this.unreadableCaCount = unreadable;
    this.revoked = new Set([...revokedSha256].map((fp) => fp.replace(/:/g, '').toLowerCase()));
  }

  /** Number of successful chain checks remembered (for tests and metrics). */
  get cachedChainCount(): number {
    return this.chainCache.size;
  }

  /** Number of distinct trust anchors (configured CA certificates, stored intermediates included). */
  get trustAnchorCount(): number {
    return this.anchors.length;
  }

  verify(identity: PresentedIdentity, request: DeviceCertificateRequest): DeviceCertificateVerification {
    if (identity.way === 'NONE') {
      return {
        violations: [
          {
            code: 'CLIENT_CERT_MISSING',
            message:
              'No device certificate was presented; connect with the device certificate (mutual TLS) or send it in ' +
              'X-Device-Certificate with the request signed in X-Device-Signature.',
          },
        ],
      };
    }
    if ('unparseable' in identity) {
      return { violations: [{ code: 'CLIENT_CERT_INVALID', message: UNPARSEABLE_MESSAGES[identity.way] }] };
    }
    const [leafDer, ...intermediateDers] = identity.chainDer;
    if (!leafDer) {
      return { violations: [{ code: 'CLIENT_CERT_INVALID', message: UNPARSEABLE_MESSAGES[identity.way] }] };
    }

    const fingerprint = sha256Fingerprint(leafDer);
    const invalid = (message: string): DeviceCertificateVerification => ({
      violations: [{ code: 'CLIENT_CERT_INVALID', message, fingerprint }],
      fingerprint,
    });

    const leaf = this.parseCached(leafDer, fingerprint);
    if (!leaf) {
      return invalid('The device certificate could not be read as an X.509 certificate; present a valid DER or PEM certificate.');
    }
    if (leaf.keyProblem) {
      return invalid(
        `The device certificate is not supported: ${leaf.keyProblem}. Issue the device a certificate with an RSA key ` +
          'of at least 2048 bits or an EC key on P-256 or P-384.',
      );
    }
    const intermediates: ParsedCertificate[] = [];
    for (const [index, der] of intermediateDers.entries()) {
      const parsed = this.parseCached(der, sha256Fingerprint(der));
      if (!parsed) {
        return invalid(
          `Certificate ${index + 2} of the presented chain could not be read as an X.509 certificate; present only ` +
            'valid intermediate CA certificates after the device certificate.',
        );
      }
      intermediates.push(parsed);
    }

    const violations: Finding[] = [];
    const skewMs = Math.max(0, request.maxClockSkewSeconds) * 1000;
    const now = request.now;

    // Trust: the chain to a configured CA and the purpose (EKU) together make one UNTRUSTED violation.
    const reasons: string[] = [];
    const chainProblem = this.checkChain(leaf, intermediates, identity.chainDer, now, skewMs);
    if (chainProblem) reasons.push(chainProblem);
    if (leaf.extendedKeyUsage && !leaf.extendedKeyUsage.includes(CLIENT_AUTH_EKU)) {
      const names = leaf.extendedKeyUsage.map((oid) => EKU_NAMES[oid] ?? oid).join(', ');
      reasons.push(`it is not for client authentication (its extended key usage is ${names}, without clientAuth)`);
    }
    if (reasons.length > 0) {
      violations.push({
        code: 'CLIENT_CERT_UNTRUSTED',
        message:
          `The device certificate is not trusted: ${reasons.join('; and ')}. Issue the device a client-authentication ` +
          'certificate from a configured device CA.',
        fingerprint,
        reasons,
      });
    }

    // Validity window at the server's time.
    if (now.getTime() > leaf.notAfter.getTime()) {
      violations.push({
        code: 'CLIENT_CERT_EXPIRED',
        message: `The device certificate expired at ${leaf.notAfter.toISOString()}; issue a new one.`,
        fingerprint,
        notAfter: leaf.notAfter.toISOString(),
      });
    }
    if (leaf.notBefore.getTime() > now.getTime() + skewMs) {
      violations.push({
        code: 'CLIENT_CERT_NOT_YET_VALID',
        message:
          `The device certificate is not valid until ${leaf.notBefore.toISOString()}, more than ` +
          `${request.maxClockSkewSeconds} seconds after the server time ${now.toISOString()}; check the clock of ` +
          'the issuing CA or wait until the certificate becomes valid.',
        fingerprint,
        notBefore: leaf.notBefore.toISOString(),
      });
    }

    // Device binding: exactly one common name, equal to deviceId.
    const bindingProblem = describeBindingProblem(leaf.commonNames, request.deviceId);
    if (bindingProblem) {
      violations.push({
        code: 'CLIENT_CERT_DEVICE_MISMATCH',
        message: bindingProblem,
        fingerprint,
        commonName: leaf.commonNames.length === 1 ? leaf.commonNames[0] : leaf.commonNames,
        deviceId: request.deviceId,
      });
    }

    if (this.revoked.has(fingerprint)) {
      violations.push({
        code: 'CLIENT_CERT_REVOKED',
        message: `The device certificate with SHA-256 fingerprint ${fingerprint} has been revoked; issue the device a new certificate.`,
        fingerprint,
      });
    }

    // Possession of the key: proven by TLS or the proxy, or by the signature over the body.
    if (identity.way === 'SIGNED_REQUEST') {
      const signatureProblem = checkSignature(identity.signature, request.body, leaf.x509.publicKey);
      if (signatureProblem) violations.push({ ...signatureProblem, fingerprint });
    }

    return { violations, fingerprint };
  }

  /** Undefined when the leaf chains to a trust anchor at `now`; otherwise why not, as a clause of a sentence. */
  private checkChain(
    leaf: ParsedCertificate,
    intermediates: ParsedCertificate[],
    chainDer: Buffer[],
    now: Date,
    skewMs: number,
  ): string | undefined {
    if (this.anchorFingerprints.has(leaf.fingerprint)) {
      return `it is the configured device CA certificate "${leaf.subject}", not a device certificate`;
    }
    if (this.anchors.length === 0) return 'no device CA certificate is configured';

    const key = chainDer.length === 1 ? leaf.fingerprint : hashChain(chainDer);
    const cached = this.chainCache.get(key);
    if (cached) {
      if (cached.every((ca) => validityProblem(ca, now, skewMs, '') === undefined)) return undefined;
      this.chainCache.delete(key); // a CA of the remembered path is outside its validity now: search again
    }

    const problems: string[] = [];
    const path = this.findPath(leaf, intermediates, now, skewMs, new Set([leaf.fingerprint]), problems, 0);
    if (path) {
      this.chainCache.set(key, path);
      return undefined;
    }
    const unique = [...new Set(problems)];
    if (unique.length > 0) return `it does not chain to a configured device CA certificate (${unique.join('; ')})`;
    return (
      `it does not chain to a configured device CA certificate (its issuer "${leaf.issuer}" is neither a configured ` +
      `device CA nor ${intermediates.length > 0 ? 'reached through the presented intermediates' : 'presented as an intermediate'})`
    );
  }

  /** Depth-first search from `cert` to a trust anchor; anchors are tried before presented intermediates. */
  private findPath(
    cert: ParsedCertificate,
    intermediates: ParsedCertificate[],
    now: Date,
    skewMs: number,
    visited: Set<string>,
    problems: string[],
    depth: number,
  ): ParsedCertificate[] | undefined {
    if (depth >= MAX_PATH_CAS) {
      problems.push(`the path is longer than ${MAX_PATH_CAS} CA certificates`);
      return undefined;
    }
    for (const anchor of this.anchors) {
      if (!isIssuedBy(cert, anchor, problems)) continue;
      const problem = caProblem(anchor, now, skewMs, 'the configured device CA');
      if (problem) {
        problems.push(problem);
        continue;
      }
      return [anchor];
    }
    for (const intermediate of intermediates) {
      if (visited.has(intermediate.fingerprint) || this.anchorFingerprints.has(intermediate.fingerprint)) continue;
      if (!isIssuedBy(cert, intermediate, problems)) continue;
      const problem = caProblem(intermediate, now, skewMs, 'the presented intermediate');
      if (problem) {
        problems.push(problem);
        continue;
      }
      visited.add(intermediate.fingerprint); // kept after a dead end too: no certificate is explored twice
      const rest = this.findPath(intermediate, intermediates, now, skewMs, visited, problems, depth + 1);
      if (rest) return [intermediate, ...rest];
    }
    return undefined;
  }

  private parseCached(der: Buffer, fingerprint: string): ParsedCertificate | undefined {
    const cached = this.parsedCache.get(fingerprint);
    if (cached) return cached;
    const parsed = parseCertificate(der, fingerprint);
    if (parsed) this.parsedCache.set(fingerprint, parsed); // failures are not cached
    return parsed;
  }
}

const UNPARSEABLE_MESSAGES: Record<'MTLS' | 'PROXY_HEADER' | 'SIGNED_REQUEST', string> = {
  MTLS: 'The client certificate passed by mutual TLS could not be decoded as PEM; present a valid device certificate.',
  PROXY_HEADER:
    'The client certificate in the trusted proxy header could not be decoded; the proxy must send a URL-escaped PEM ' +
    'or an RFC 9440 :base64-DER: value.',
  SIGNED_REQUEST:
    'X-Device-Certificate could not be decoded; send the device certificate as base64 DER, optionally followed by ' +
    'its intermediate CA certificates, comma-separated, leaf first.',
};

// ---- checks ----

function isIssuedBy(child: ParsedCertificate, issuer: ParsedCertificate, problems: string[]): boolean {
  try {
    if (!child.x509.checkIssued(issuer.x509)) return false;
    if (child.x509.verify(issuer.x509.publicKey)) return true;
  } catch {
    // an unsupported signature algorithm or key: treated as "not issued by"
  }
  problems.push(`the signature of "${child.subject}" does not verify with the key of "${issuer.subject}"`);
  return false;
}

function caProblem(ca: ParsedCertificate, now: Date, skewMs: number, role: string): string | undefined {
  if (!ca.isCa) return `${role} "${ca.subject}" is not a CA certificate`;
  return validityProblem(ca, now, skewMs, role);
}

function validityProblem(cert: ParsedCertificate, now: Date, skewMs: number, role: string): string | undefined {
  if (now.getTime() > cert.notAfter.getTime()) {
    return `${role} "${cert.subject}" expired at ${cert.notAfter.toISOString()}`;
  }
  if (cert.notBefore.getTime() > now.getTime() + skewMs) {
    return `${role} "${cert.subject}" is not valid until ${cert.notBefore.toISOString()}`;
  }
  return undefined;
}

function describeBindingProblem(commonNames: string[], deviceId: string): string | undefined {
  if (commonNames.length === 0) {
    return `The certificate has no common name; issue the device a certificate whose common name is its deviceId "${deviceId}".`;
  }
  if (commonNames.length > 1) {
    const list = commonNames.map((cn) => `"${cn}"`).join(', ');
    return `The certificate has several common names (${list}); it must have exactly one, equal to deviceId "${deviceId}".`;
  }
  if (commonNames[0] !== deviceId) {
    return `The certificate's common name "${commonNames[0]}" does not match deviceId "${deviceId}".`;
  }
  return undefined;
}

function checkSignature(signature: Buffer | undefined, body: Buffer, publicKey: KeyObject): Finding | undefined {
  if (signature === undefined) {
    return {
      code: 'CLIENT_SIGNATURE_MISSING',
      message:
        'The request carries X-Device-Certificate but no X-Device-Signature; sign the exact request body with the ' +
        "device's private key (SHA-256) and send the signature in base64.",
    };
  }
  if (signature.length === 0) {
    return {
      code: 'CLIENT_SIGNATURE_INVALID',
      message: 'X-Device-Signature is not base64; send the base64 of the signature over the exact request body.',
    };
  }
  let valid = false;
  try {
    // RSA: RSASSA-PKCS1-v1_5 (the default padding); EC: DER-encoded ECDSA (the default dsaEncoding).
    valid = verifySignature('sha256', body, publicKey, signature);
  } catch {
    valid = false;
  }
  if (valid) return undefined;
  return {
    code: 'CLIENT_SIGNATURE_INVALID',
    message:
      "The request signature does not verify with the device certificate's public key; sign the exact request body " +
      "bytes with the device's private key (RSASSA-PKCS1-v1_5 or ECDSA with SHA-256, as openssl dgst -sha256 -sign makes).",
  };
}

// ---- parsing ----

function parseCertificate(input: Buffer | string, knownFingerprint?: string): ParsedCertificate | undefined {
  try {
    const x509 = new X509Certificate(input);
    const notBefore = certificateDate(x509, 'validFrom');
    const notAfter = certificateDate(x509, 'validTo');
    if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) return undefined;
    return {
      fingerprint: knownFingerprint ?? sha256Fingerprint(x509.raw),
      x509,
      notBefore,
      notAfter,
      subject: oneLine(x509.subject),
      issuer: oneLine(x509.issuer),
      commonNames: commonNamesOf(x509.subject),
      isCa: x509.ca,
      extendedKeyUsage: x509.keyUsage,
      keyProblem: keyProblemOf(x509.publicKey),
    };
  } catch {
    return undefined;
  }
}

/** Node ≥ 22.10 has validFromDate/validToDate; Node 20 only the OpenSSL text form ("Jan  1 00:00:00 2026 GMT"). */
function certificateDate(x509: X509Certificate, field: 'validFrom' | 'validTo'): Date {
  const native = (x509 as unknown as Record<string, unknown>)[`${field}Date`];
  if (native instanceof Date) return native;
  return new Date(x509[field]);
}

function keyProblemOf(key: KeyObject): string | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    return bits >= 2048 ? undefined : `its RSA key has ${bits} bits, fewer than the 2048 required`;
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = details.namedCurve;
    if (curve === 'prime256v1' || curve === 'secp384r1') return undefined;
    return `its EC key is on the curve ${curve ?? 'unknown'}, and only P-256 and P-384 are supported`;
  }
  return `its key type ${key.asymmetricKeyType ?? 'unknown'} is not supported`;
}

function oneLine(name: string): string {
  return name.split('\n').join(', ');
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

function hashChain(chainDer: Buffer[]): string {
  const hash = createHash('sha256');
  for (const der of chainDer) hash.update(der); // DER is self-delimiting, so plain concatenation is unambiguous
  return hash.digest('hex');
}

/** A Map used as an LRU: insertion order is recency order; the oldest entry goes when the bound is passed. */
class BoundedLru<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly maxEntries: number) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    if (this.maxEntries === 0) return;
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
