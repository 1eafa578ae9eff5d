// Device certificate verification: RFC 5280 §6 path validation to a configured device CA, validity, device binding,
// extended key usage, revocation and the request signature. Signatures with Node's crypto: X509Certificate, or for a
// presented certificate written the plain way its key and signed part read by the DER walk (plain-certificate.ts);
// what X509Certificate does not expose is read once per certificate (certificate-extensions.ts). Pure: the clock
// comes in with each request.
//
// Performance (DESIGN.md "Decisions already measured"): parsing costs more than verifying, so the CA set is parsed
// once per verifier (its ASN.1 reading on first use), parsed certificates are cached per DER hash, and successful
// chain checks are kept in a bounded cache (bounded-cache.ts) keyed by the hash of the presented DERs. Failures are
// never cached. A cache hit still re-checks everything that depends on the time or on the request: validity windows
// (the leaf's and the path's CAs'), revocation of every certificate on the path, the CN binding, EKU and the
// signature. Build a new verifier when the CA set or the revocations change: that clears the caches.

import { verify as verifySignature, type KeyObject } from 'node:crypto';
import {
  describeCaProblem,
  describeValidityProblem,
  findPathProblem,
  ParsedCertificate,
  quoteSubject,
  type PathCheck,
} from './certificate-path.ts';
import { BoundedCache } from './bounded-cache.ts';
import { verifyPlainSignature } from './plain-certificate.ts';
import type { Finding } from './errors.ts';
import { presentedFingerprint, type PresentedIdentity } from './device-identity.ts';

export { commonNamesOf, findDeviceCaNonconformance, sha256Fingerprint } from './certificate-path.ts';

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

export interface DeviceCertificateVerifierOptions {
  /** Successful chain checks (and parsed certificates) remembered; 0 switches the caches off. Default 1000. */
  chainCacheSize?: number;
  /**
   * How the configured device CAs' own conformance is judged. 'tolerate' (the default, the check-in path): a CA
   * stored before a CA rule existed keeps anchoring although it breaks that rule (API.md: an upgrade never locks out
   * a fleet; the daily CERTIFICATE_NONCONFORMING alert names it); rules it was always held to, validity, revocation,
   * and its pathLenConstraint and name constraints still apply. 'enforce': configured CAs meet every CA rule, as
   * x509-limbo expects of trust anchors.
   */
  configuredCaConformance?: 'tolerate' | 'enforce';
  /**
   * The purpose the leaf's extended key usage must allow when it has one. Default clientAuth (the device profile);
   * null asks for no purpose (x509-limbo's testcases without extended_key_usage).
   */
  requiredExtendedKeyUsage?: string | null;
}

export const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';

/** Longest path from the leaf to a trust anchor (counting CA certificates); real device PKIs use 1–3. */
const MAX_PATH_CAS = 8;

/**
 * Work one path search may do. Presented chains are short (device-identity.ts allows 10 certificates), but their
 * issuers can be made ambiguous on purpose (same subject, same key, cycles): then the search stops and fails.
 */
const MAX_SIGNATURE_CHECKS = 100;
const MAX_ISSUER_CANDIDATES = 2_000;
/**
 * Partial paths one search may extend. Cached issuer checks make each step cheap, but CAs that share a name and a key
 * can be combined in factorially many orders (nine of them: ~260,000 paths); a real chain needs a handful.
 */
const MAX_PATH_STEPS = 256;

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

/** The outcome of building a path: found, or why none would do. */
type ChainOutcome =
  | { ok: true }
  | { ok: false; problem: string }
  /** A path was found that is valid but for a revoked CA on it. */
  | { ok: false; revokedCa: ParsedCertificate };

/** The state of one path search. */
interface PathSearch {
  intermediates: ParsedCertificate[];
  check: PathCheck;
  problems: string[];
  revokedCa?: ParsedCertificate;
  /** `child fingerprint:issuer fingerprint` → issued and signed by. */
  issuedBy: Map<string, boolean>;
  signatureChecksLeft: number;
  issuerCandidatesLeft: number;
  pathStepsLeft: number;
  gaveUp: boolean;
}

export class DeviceCertificateVerifier {
  private readonly anchors: ParsedCertificate[] = [];
  private readonly anchorFingerprints = new Set<string>();
  private readonly revoked: ReadonlySet<string>;
  private readonly configuredCaConformance: 'tolerate' | 'enforce';
  private readonly requiredExtendedKeyUsage: string | null;
  /** Successful chain checks: hash of the presented DERs → the CA certificates of the path found (leaf excluded). */
  private readonly chainCache: BoundedCache<ParsedCertificate[]>;
  /** Parsed certificates by DER fingerprint (leaves and presented intermediates), with their ASN.1 reading. */
  private readonly parsedCache: BoundedCache<ParsedCertificate>;
  /** Configured CA fingerprint → the revoked configured CA above it, or null when there is none (findRevokedIssuerOf). */
  private readonly revokedIssuers = new Map<string, ParsedCertificate | null>();

  constructor(caPems: string[], revokedSha256: ReadonlySet<string>, options: DeviceCertificateVerifierOptions = {}) {
    const size = Math.max(0, Math.floor(options.chainCacheSize ?? 1000));
    this.chainCache = new BoundedCache(size);
    this.parsedCache = new BoundedCache(size);
    this.configuredCaConformance = options.configuredCaConformance ?? 'tolerate';
    this.requiredExtendedKeyUsage = options.requiredExtendedKeyUsage === undefined ? CLIENT_AUTH_EKU : options.requiredExtendedKeyUsage;
    for (const pem of caPems) {
      const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [pem];
      for (const block of blocks) {
        // A certificate that cannot be read cannot anchor anything: it is left out.
        const parsed = ParsedCertificate.parse(block);
        if (!parsed || this.anchorFingerprints.has(parsed.fingerprint)) continue;
        this.anchorFingerprints.add(parsed.fingerprint);
        this.anchors.push(parsed);
      }
    }
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

  /**
   * Every identity violation of one presentation, in the contract's order. Longer than 60 lines on purpose: it reads
   * top to bottom as API.md §1's list (readable, trusted, valid, bound, not revoked, signed), one block per violation,
   * each block a few lines; splitting it would scatter that list over helpers that only pass the same values on.
   */
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

    const fingerprint = presentedFingerprint(leafDer);

    const leaf = this.parseCached(leafDer, fingerprint);
    if (!leaf) {
      return invalidCertificate(
        'The device certificate could not be read as an X.509 certificate; present a valid DER or PEM certificate.',
        fingerprint,
      );
    }
    if (leaf.keyProblem) {
      return invalidCertificate(
        `The device certificate is not supported: ${leaf.keyProblem}. Issue the device a certificate with an RSA key ` +
          'of at least 2048 bits or an EC key on P-256 or P-384.',
        fingerprint,
      );
    }
    const leafBreaks = leaf.leafRuleBreaks;
    const unreadable = leafBreaks.filter((broken) => broken.kind === 'INVALID');
    if (unreadable.length > 0) {
      return invalidCertificate(
        `The device certificate cannot be read unambiguously: ${unreadable.map((broken) => broken.message).join('; ')}. ` +
          'Issue the device a certificate encoded as RFC 5280 requires.',
        fingerprint,
      );
    }
    const intermediates: ParsedCertificate[] = [];
    for (const [index, der] of intermediateDers.entries()) {
      const parsed = this.parseCached(der, presentedFingerprint(der));
      if (!parsed) {
        return invalidCertificate(
          `Certificate ${index + 2} of the presented chain could not be read as an X.509 certificate; present only ` +
            'valid intermediate CA certificates after the device certificate.',
          fingerprint,
        );
      }
      intermediates.push(parsed);
    }

    const violations: Finding[] = [];
    const skewMs = Math.max(0, request.maxClockSkewSeconds) * 1000;
    // Validity is encoded in whole seconds; comparing the floored time makes 00:00:00.005 still "at" 00:00:00.
    const nowMs = Math.floor(request.now.getTime() / 1000) * 1000;
    const check: PathCheck = { nowMs, skewMs, configuredCaConformance: this.configuredCaConformance };

    // Trust: the leaf's profile, the path to a configured CA and the purpose together make one UNTRUSTED violation.
    const reasons = leafBreaks.map((broken) => broken.message);
    const purposeProblem = this.describePurposeProblem(leaf);
    const chain = this.checkChain(leaf, intermediates, identity.chainDer, check, reasons.length === 0 && !purposeProblem);
    if (!chain.ok && 'problem' in chain) reasons.push(chain.problem);
    if (purposeProblem) reasons.push(purposeProblem);
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
    if (nowMs > leaf.notAfter.getTime()) {
      violations.push({
        code: 'CLIENT_CERT_EXPIRED',
        message: `The device certificate expired at ${leaf.notAfter.toISOString()}; issue a new one.`,
        fingerprint,
        notAfter: leaf.notAfter.toISOString(),
      });
    }
    if (leaf.notBefore.getTime() > nowMs + skewMs) {
      violations.push({
        code: 'CLIENT_CERT_NOT_YET_VALID',
        message:
          `The device certificate is not valid until ${leaf.notBefore.toISOString()}, more than ` +
          `${request.maxClockSkewSeconds} seconds after the server time ${request.now.toISOString()}; check the clock of ` +
          'the issuing CA or wait until the certificate becomes valid.',
        fingerprint,
        notBefore: leaf.notBefore.toISOString(),
      });
    }

    // Device binding: exactly one common name, equal to deviceId.
    const bindingProblem = describeBindingProblem(leaf.commonNames, request.deviceId);
    if (bindingProblem) {
      const quoted = leaf.commonNames.map(quoteName);
      violations.push({
        code: 'CLIENT_CERT_DEVICE_MISMATCH',
        message: bindingProblem,
        fingerprint,
        commonName: quoted.length === 1 ? quoted[0] : quoted,
        deviceId: request.deviceId,
      });
    }

    // Revocation: of the leaf, or of a CA on the only path(s) that would otherwise have been valid.
    if (this.isRevoked(leaf)) {
      violations.push({
        code: 'CLIENT_CERT_REVOKED',
        message: `The device certificate with SHA-256 fingerprint ${fingerprint} has been revoked; issue the device a new certificate.`,
        fingerprint,
      });
    } else if (!chain.ok && 'revokedCa' in chain) {
      const ca = chain.revokedCa;
      const role = this.anchorFingerprints.has(ca.fingerprint) ? 'configured device CA' : 'intermediate CA';
      violations.push({
        code: 'CLIENT_CERT_REVOKED',
        message:
          `The ${role} "${quoteSubject(ca.subject)}" (SHA-256 fingerprint ${ca.fingerprint}) that issued the device ` +
          'certificate, directly or through other CAs, has been revoked; issue the device a certificate from a CA that is not revoked.',
        fingerprint,
        revokedFingerprint: ca.fingerprint,
      });
    }

    // Possession of the key: proven by TLS or the proxy, or by the signature over the body.
    if (identity.way === 'SIGNED_REQUEST') {
      const signatureProblem = checkSignature(identity.signature, request.body, leaf.publicKey);
      if (signatureProblem) violations.push({ ...signatureProblem, fingerprint });
    }

    return { violations, fingerprint };
  }

  /** Revoked under its own fingerprint or a signature-encoding twin's (no revocations: no twins computed). */
  private isRevoked(cert: ParsedCertificate): boolean {
    return cert.isRevokedBy(this.revoked);
  }

  private describePurposeProblem(leaf: ParsedCertificate): string | undefined {
    const required = this.requiredExtendedKeyUsage;
    const purposes = leaf.profile?.extendedKeyUsage?.purposes;
    if (required === null || purposes === undefined || purposes.includes(required)) return undefined;
    const names = purposes.map((oid) => EKU_NAMES[oid] ?? (/^[0-9.]{1,64}$/.test(oid) ? oid : 'unnamed')).join(', ');
    const requiredName = EKU_NAMES[required] ?? required;
    return requiredName === 'clientAuth'
      ? `it is not for client authentication (its extended key usage is ${names}, without clientAuth)`
      : `its extended key usage is ${names}, without ${requiredName}`;
  }

  /** The path from the leaf to a configured CA; remembered only when `remember` (the leaf is otherwise trusted). */
  private checkChain(
    leaf: ParsedCertificate,
    intermediates: ParsedCertificate[],
    chainDer: Buffer[],
    check: PathCheck,
    remember: boolean,
  ): ChainOutcome {
    if (this.anchorFingerprints.has(leaf.fingerprint)) {
      return { ok: false, problem: `it is the configured device CA certificate "${quoteSubject(leaf.subject)}", not a device certificate` };
    }
    if (this.anchors.length === 0) return { ok: false, problem: 'no device CA certificate is configured' };

    const key = chainDer.length === 1 ? leaf.fingerprint : chainKey(chainDer);
    const cached = this.chainCache.get(key);
    if (cached) {
      const stillValid = cached.every((ca) => !this.isRevoked(ca) && describeValidityProblem(ca, '', check) === undefined);
      if (stillValid) return { ok: true };
      this.chainCache.delete(key); // a CA of the remembered path is outside its validity now: search again
    }

    const search: PathSearch = {
      intermediates: intermediates.filter((cert) => cert.fingerprint !== leaf.fingerprint),
      check,
      problems: [],
      issuedBy: new Map(),
      signatureChecksLeft: MAX_SIGNATURE_CHECKS,
      issuerCandidatesLeft: MAX_ISSUER_CANDIDATES,
      pathStepsLeft: MAX_PATH_STEPS,
      gaveUp: false,
    };
    const path = this.extendPath([leaf], search);
    if (path) {
      if (remember) this.chainCache.set(key, path.slice(1));
      return { ok: true };
    }
    if (search.revokedCa) return { ok: false, revokedCa: search.revokedCa };
    const unique = [...new Set(search.problems)];
    if (unique.length > 0) return { ok: false, problem: `it does not chain to a configured device CA certificate (${unique.join('; ')})` };
    return {
      ok: false,
      problem:
        `it does not chain to a configured device CA certificate (its issuer "${quoteSubject(leaf.issuer)}" is neither a ` +
        `configured device CA nor ${intermediates.length > 0 ? 'reached through the presented intermediates' : 'presented as an intermediate'})`,
    };
  }

  /**
   * Depth-first search upward from the last certificate of `path` (leaf first): configured CAs are tried before
   * presented intermediates, and every complete candidate is validated as a whole (findPathProblem), so that a CA
   * refused on one path (a pathLenConstraint used up, a name constraint broken) can still serve on another. A
   * certificate appears at most once per path, which ends cycles.
   */
  private extendPath(path: ParsedCertificate[], search: PathSearch): ParsedCertificate[] | undefined {
    if (search.pathStepsLeft <= 0) {
      this.giveUp(search);
      return undefined;
    }
    search.pathStepsLeft -= 1;
    const cert = path[path.length - 1];
    for (const anchor of this.anchors) {
      if (!this.isIssuedBy(cert, anchor, search, 'configured')) continue;
      const candidate = [...path, anchor];
      const problem = findPathProblem(candidate, search.check);
      if (problem) {
        search.problems.push(problem);
        continue;
      }
      const revokedCa = candidate.slice(1).find((ca) => this.isRevoked(ca)) ?? this.findRevokedIssuerOf(anchor);
      if (revokedCa) {
        search.revokedCa ??= revokedCa;
        continue;
      }
      return candidate;
    }
    if (search.gaveUp) return undefined;
    const casSoFar = path.length - 1;
    for (const intermediate of search.intermediates) {
      if (path.includes(intermediate) || this.anchorFingerprints.has(intermediate.fingerprint)) continue;
      if (!this.isIssuedBy(cert, intermediate, search, 'presented')) continue;
      if (casSoFar + 2 > MAX_PATH_CAS) {
        search.problems.push(`the path is longer than ${MAX_PATH_CAS} CA certificates`);
        return undefined;
      }
      // What rules out this intermediate rules out every path through it.
      const problem = describeCaProblem(intermediate, 'the presented intermediate', search.check, false);
      if (problem) {
        search.problems.push(problem);
        continue;
      }
      const found = this.extendPath([...path, intermediate], search);
      if (found || search.gaveUp) return found;
    }
    return undefined;
  }

  /**
   * A revoked configured CA that issued `anchor`, directly or through other configured CAs: a stored intermediate
   * anchors paths of its own, and revoking the root above it must still reach every device below. Computed once per
   * anchor (the configured set and the revocations are fixed for the verifier's life).
   */
  private findRevokedIssuerOf(anchor: ParsedCertificate): ParsedCertificate | undefined {
    if (this.revoked.size === 0) return undefined;
    let known = this.revokedIssuers.get(anchor.fingerprint);
    if (known === undefined) {
      known = this.searchRevokedIssuer(anchor, new Set([anchor.fingerprint])) ?? null;
      this.revokedIssuers.set(anchor.fingerprint, known);
    }
    return known ?? undefined;
  }

  private searchRevokedIssuer(cert: ParsedCertificate, visited: Set<string>): ParsedCertificate | undefined {
    for (const issuer of this.anchors) {
      if (visited.has(issuer.fingerprint) || !issuedAndSigned(cert, issuer)) continue;
      if (this.isRevoked(issuer)) return issuer;
      visited.add(issuer.fingerprint);
      const above = this.searchRevokedIssuer(issuer, visited);
      if (above) return above;
    }
    return undefined;
  }

  /** `child` names `issuer` as its issuer (OpenSSL's check: names, key identifiers, keyUsage) and its signature verifies. */
  private isIssuedBy(child: ParsedCertificate, issuer: ParsedCertificate, search: PathSearch, source: 'configured' | 'presented'): boolean {
    const key = `${child.fingerprint}:${issuer.fingerprint}`;
    const known = search.issuedBy.get(key);
    if (known !== undefined) return known;
    let issued = false;
    if (search.issuerCandidatesLeft <= 0) {
      this.giveUp(search);
      return false;
    }
    search.issuerCandidatesLeft -= 1;
    try {
      // Decided by the walk when both are plain; otherwise (and only then) by OpenSSL, which reads the child anew.
      const plain = child.plainIssuanceBy(issuer);
      if (plain ?? child.x509.checkIssued(issuer.x509)) {
        if (search.signatureChecksLeft <= 0) {
          this.giveUp(search);
          return false;
        }
        search.signatureChecksLeft -= 1;
        issued = plain ? verifyPlainSignature(child.plain!, issuer.publicKey) : child.x509.verify(issuer.publicKey);
        if (!issued) {
          search.problems.push(
            `the signature of "${quoteSubject(child.subject)}" does not verify with the key of "${quoteSubject(issuer.subject)}"`,
          );
        }
      } else if (plain === undefined && (child.x509.issuer ?? '') === (issuer.x509.subject ?? '')) {
        search.problems.push(this.describeRefusedIssuer(child, issuer, search, source));
      }
    } catch {
      issued = false; // an unsupported signature algorithm or key, or a certificate OpenSSL cannot read: "not issued by"
    }
    search.issuedBy.set(key, issued);
    return issued;
  }

  /**
   * Why OpenSSL's issuer check refuses a CA that bears the child's issuer name: usually a CA rule it breaks (OpenSSL
   * refuses, among others, a keyUsage without keyCertSign and critical key identifiers), else its key identifier.
   */
  private describeRefusedIssuer(child: ParsedCertificate, issuer: ParsedCertificate, search: PathSearch, source: 'configured' | 'presented'): string {
    const role = source === 'configured' ? 'the configured device CA' : 'the presented intermediate';
    const tolerant = source === 'configured' && search.check.configuredCaConformance === 'tolerate';
    const problem = describeCaProblem(issuer, role, search.check, tolerant);
    if (problem) return problem;
    return (
      `${role} "${quoteSubject(issuer.subject)}" bears the issuer name of "${quoteSubject(child.subject)}" but is not its ` +
      'issuer (their key identifiers differ)'
    );
  }

  private giveUp(search: PathSearch): void {
    if (!search.gaveUp) {
      search.problems.push('the presented certificates offer more candidate issuers than this verifier examines');
    }
    search.gaveUp = true;
  }

  private parseCached(der: Buffer, fingerprint: string): ParsedCertificate | undefined {
    const cached = this.parsedCache.get(fingerprint);
    if (cached) return cached;
    const parsed = ParsedCertificate.parsePresented(der, fingerprint);
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

function invalidCertificate(message: string, fingerprint: string): DeviceCertificateVerification {
  return { violations: [{ code: 'CLIENT_CERT_INVALID', message, fingerprint }], fingerprint };
}

// ---- checks ----

/** A common name as a message may quote it (printable, at most 64 characters): it comes from the certificate. */
function quoteName(commonName: string): string {
  return commonName === '' ? '' : quoteSubject(commonName);
}

function describeBindingProblem(commonNames: string[], deviceId: string): string | undefined {
  if (commonNames.length === 0) {
    return `The certificate has no common name; issue the device a certificate whose common name is its deviceId "${deviceId}".`;
  }
  if (commonNames.length > 1) {
    const list = commonNames
      .slice(0, 3)
      .map((cn) => `"${quoteName(cn)}"`)
      .join(', ');
    return `The certificate has ${commonNames.length} common names (${list}${commonNames.length > 3 ? ', …' : ''}); it must have exactly one, equal to deviceId "${deviceId}".`;
  }
  if (commonNames[0] !== deviceId) {
    return `The certificate's common name "${quoteName(commonNames[0])}" does not match deviceId "${deviceId}".`;
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

function issuedAndSigned(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return child.x509.checkIssued(issuer.x509) && child.x509.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * The chain cache's key for a leaf presented with intermediates: the certificates' SHA-256 fingerprints in order, each
 * taken when its presentation was decoded (presentedFingerprint), so a warm device's chain is not hashed again.
 */
function chainKey(chainDer: Buffer[]): string {
  return chainDer.map(presentedFingerprint).join(':');
}
