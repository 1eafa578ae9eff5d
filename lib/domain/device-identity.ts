// Device identity: which certificate (chain) a check-in presented, and how, decoded to DER. Never throws.
//
// Three ways, the first present wins (API.md §1 "Device identity"):
//   1. MTLS            API Gateway mTLS: requestContext.authentication.clientCert.clientCertPem (leaf, then intermediates)
//   2. PROXY_HEADER    only when the deployment names a trusted header, and only from the proxy: the request must
//                      carry X-Tollgate-Proxy-Secret equal to the deployment's secret (compared in constant time).
//                      URL-escaped PEM (nginx), the ALB form ('+', '=', '/' unescaped), plain PEM, or RFC 9440
//                      `:base64-DER:`. A duplicated or comma-joined value is ambiguous: ignored as if absent.
//   3. SIGNED_REQUEST  X-Device-Certificate (base64 DER, comma-separated, leaf first) + X-Device-Signature (base64)
// A way that is present but cannot be decoded yields `unparseable: true` for that way; the next way is not tried,
// so a broken mTLS certificate can never be "rescued" by a header the client chose.
// Whether the DER is a certificate at all is decided by the verifier (device-certificates.ts), not here.
// A device presents the same text at every check-in, so decoded chains are remembered by their exact text (see
// rememberedChains); the Buffers handed out are then shared between check-ins and must never be written to.

import { createHash, timingSafeEqual } from 'node:crypto';
import { decodeBase64Strict } from './base64.ts';
import { BoundedCache } from './bounded-cache.ts';

export type IdentityWay = 'MTLS' | 'PROXY_HEADER' | 'SIGNED_REQUEST';

export type PresentedIdentity =
  | { way: 'NONE' }
  /** Possession of the key was proven by TLS or by the proxy; chainDer is leaf first. */
  | { way: 'MTLS' | 'PROXY_HEADER'; chainDer: Buffer[] }
  /**
   * Possession must be proven by `signature` over the exact request body bytes. An X-Device-Signature that is present
   * but not base64 is passed on as an empty Buffer, so that it is reported as an invalid signature (not as a missing
   * one, and not as an unreadable certificate).
   */
  | { way: 'SIGNED_REQUEST'; chainDer: Buffer[]; signature?: Buffer }
  | { way: IdentityWay; unparseable: true };

export const DEVICE_CERTIFICATE_HEADER = 'x-device-certificate';
export const DEVICE_SIGNATURE_HEADER = 'x-device-signature';

/** More certificates than this in one presentation is not a chain anyone needs; it is refused as undecodable. */
export const MAX_PRESENTED_CERTIFICATES = 10;

export const PROXY_SECRET_HEADER = 'x-tollgate-proxy-secret';

/**
 * Decoded presentations remembered, whatever the way (the recently used are kept: bounded-cache.ts); as many as the
 * verifier's caches. Each holds its text and DER, a few KB (at most what a request's headers may carry).
 */
export const REMEMBERED_PRESENTATIONS = 1000;

/** The deployment's trusted TLS-terminating proxy: the header it puts the client certificate in, and its secret. */
export interface TrustedProxy {
  /** Lower-cased header name (TRUSTED_CLIENT_CERT_HEADER). */
  header: string;
  /** TRUSTED_PROXY_SECRET: what the proxy sends in X-Tollgate-Proxy-Secret. */
  secret: string;
}

/** Why a trusted-proxy certificate header that was present was ignored as if absent. */
export type IgnoredProxyHeaderReason = 'PROXY_SECRET_MISSING' | 'PROXY_SECRET_WRONG' | 'AMBIGUOUS_HEADER';

export function extractDeviceIdentity(input: {
  /** event.requestContext.authentication.clientCert.clientCertPem */
  clientCertPem?: string;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** Only when the deployment sets TRUSTED_CLIENT_CERT_HEADER (and so TRUSTED_PROXY_SECRET). */
  trustedProxy?: TrustedProxy;
  /** Told when a present proxy certificate header is ignored, so that the caller can log a warning. */
  onIgnoredProxyHeader?: (reason: IgnoredProxyHeaderReason) => void;
}): PresentedIdentity {
  if (isPresent(input.clientCertPem)) {
    const chainDer = decodeRemembered('MTLS', input.clientCertPem, decodePemChain);
    return chainDer ? { way: 'MTLS', chainDer } : { way: 'MTLS', unparseable: true };
  }

  if (input.trustedProxy) {
    const value = headerValue(input.headers, input.trustedProxy.header);
    if (isPresent(value)) {
      const ignored = whyProxyHeaderIsIgnored(value, headerValue(input.headers, PROXY_SECRET_HEADER), input.trustedProxy.secret);
      if (ignored) {
        input.onIgnoredProxyHeader?.(ignored);
      } else {
        const chainDer = decodeRemembered('PROXY_HEADER', value, decodeProxyHeader);
        return chainDer ? { way: 'PROXY_HEADER', chainDer } : { way: 'PROXY_HEADER', unparseable: true };
      }
    }
  }

  const certificate = headerValue(input.headers, DEVICE_CERTIFICATE_HEADER);
  if (isPresent(certificate)) {
    const chainDer = decodeRemembered('SIGNED_REQUEST', certificate, decodeDeviceCertificateHeader);
    if (!chainDer) return { way: 'SIGNED_REQUEST', unparseable: true };
    const signatureValue = headerValue(input.headers, DEVICE_SIGNATURE_HEADER);
    if (!isPresent(signatureValue)) return { way: 'SIGNED_REQUEST', chainDer };
    const signature = safely(() => decodeBase64Strict(signatureValue)) ?? Buffer.alloc(0);
    return { way: 'SIGNED_REQUEST', chainDer, signature };
  }

  return { way: 'NONE' };
}

// ---- remembered decodings ----

/**
 * Decoded chains by the exact text presented, with the way that decoded it (the same text may mean another chain to
 * another way's decoder). Every decoder is a pure function of the text, so a hit gives the bytes decoding would give.
 * Text that cannot be decoded is not remembered: it is decoded, and refused, again every time.
 */
const rememberedChains = new BoundedCache<{ way: IdentityWay; text: string; chainDer: readonly Buffer[] }>(REMEMBERED_PRESENTATIONS);

/**
 * Where a presented text is looked up: its length with its first and last 64 characters. Each request brings its
 * header as a new string, and hashing all of one (≈ 1,300 characters for a certificate) measured ≈ 2.3 µs, as much as
 * decoding it. A certificate's first characters hold its serial number and its last its signature; texts that share
 * the key anyway are told apart by comparing them whole, and only take each other's place.
 */
function presentationKey(text: string): string {
  return text.length <= 160 ? text : `${text.length}:${text.slice(0, 64)}${text.slice(-64)}`;
}

/** SHA-256 of each DER of a remembered chain, computed when it was decoded (presentedFingerprint). */
const rememberedFingerprints = new WeakMap<Buffer, string>();

function decodeRemembered(way: IdentityWay, text: string, decode: (text: string) => Buffer[] | undefined): Buffer[] | undefined {
  const key = presentationKey(text);
  const known = rememberedChains.get(key);
  if (known !== undefined && known.way === way && known.text === text) return [...known.chainDer];
  const decoded = safely(() => decode(text));
  if (!decoded) return undefined;
  // Copied out of Node's shared allocation pool, so that a remembered certificate holds only its own bytes.
  const chainDer = decoded.map((der) => {
    const own = Buffer.allocUnsafeSlow(der.length);
    der.copy(own);
    rememberedFingerprints.set(own, sha256Hex(own));
    return own;
  });
  rememberedChains.set(key, { way, text, chainDer });
  return [...chainDer];
}

/**
 * SHA-256 of a presented DER, lowercase hex without colons: taken from when it was decoded for a chain this module
 * remembers (a warm device's leaf is not hashed again at every check-in), computed otherwise.
 */
export function presentedFingerprint(der: Buffer): string {
  return rememberedFingerprints.get(der) ?? sha256Hex(der);
}

function sha256Hex(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

// ---- decoders: each returns undefined (or throws, caught by `safely`) when the value cannot be decoded ----

const PEM_BLOCK = /-----BEGIN[ +]CERTIFICATE-----([\s\S]*?)-----END[ +]CERTIFICATE-----/g;

/**
 * Every CERTIFICATE block of a PEM text, in order. Text outside the blocks (other PEM blocks, "subject=" lines) is
 * ignored, as OpenSSL does; a block whose body is not base64 makes the whole text undecodable.
 */
function decodePemChain(pem: string): Buffer[] | undefined {
  const ders: Buffer[] = [];
  for (const match of pem.matchAll(PEM_BLOCK)) {
    const der = decodeBase64Strict(match[1]);
    if (!der) return undefined;
    ders.push(der);
  }
  return boundedChain(ders);
}

/**
 * The proxy header is believed only with the proxy's secret. An HTTP API cannot be limited to the proxy's address,
 * so without the secret anyone could send a device's public certificate in the header and be taken for the device.
 * Two values (a client's header that the proxy appended to instead of replacing, joined with a comma by API Gateway
 * or Node) cannot be told apart safely: neither is believed. No certificate encoding accepted here has a comma.
 */
function whyProxyHeaderIsIgnored(value: string, presentedSecret: string | undefined, secret: string): IgnoredProxyHeaderReason | undefined {
  if (presentedSecret === undefined || presentedSecret === '') return 'PROXY_SECRET_MISSING';
  if (!equalInConstantTime(presentedSecret, secret)) return 'PROXY_SECRET_WRONG';
  if (value.includes(',')) return 'AMBIGUOUS_HEADER';
  return undefined;
}

/** Compares digests, so that neither the content nor the length of the secret shows in the time taken. */
function equalInConstantTime(presented: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * The trusted proxy header: an RFC 9440 byte sequence, a URL-escaped PEM (nginx fully escaped, or the ALB form that
 * leaves '+', '=' and '/' alone; decodeURIComponent keeps a literal '+' as '+', so both decode), a plain PEM, or
 * bare base64 DER, as some proxies send. Intermediates a proxy does not pass are found among the stored CAs.
 */
function decodeProxyHeader(raw: string): Buffer[] | undefined {
  const value = raw.trim();
  if (value.startsWith(':')) return decodeRfc9440Item(value);
  const unescaped = value.includes('%') ? decodeURIComponent(value) : value;
  if (/-----BEGIN[ +]CERTIFICATE-----/.test(unescaped)) return decodePemChain(unescaped);
  return decodeBase64List(unescaped);
}

/** RFC 9440 Client-Cert: one sf-binary item; parameters are ignored. */
function decodeRfc9440Item(value: string): Buffer[] | undefined {
  const match = /^:([A-Za-z0-9+/=]*):(?:;.*)?$/.exec(value);
  if (!match) return undefined;
  const der = decodeBase64Strict(match[1]);
  return der ? boundedChain([der]) : undefined;
}

/** X-Device-Certificate: base64 DER, comma-separated, leaf first (a PEM bundle is tolerated too). */
function decodeDeviceCertificateHeader(value: string): Buffer[] | undefined {
  if (/-----BEGIN[ +]CERTIFICATE-----/.test(value)) return decodePemChain(value);
  return decodeBase64List(value);
}

function decodeBase64List(value: string): Buffer[] | undefined {
  const items = value.split(',').map((item) => item.trim());
  // A trailing or doubled comma is tolerated; an empty list is not.
  const nonEmpty = items.filter((item) => item !== '');
  const ders: Buffer[] = [];
  for (const item of nonEmpty) {
    const der = decodeBase64Strict(item);
    if (!der) return undefined;
    ders.push(der);
  }
  return boundedChain(ders);
}

function boundedChain(ders: Buffer[]): Buffer[] | undefined {
  return ders.length > 0 && ders.length <= MAX_PRESENTED_CERTIFICATES ? ders : undefined;
}

// ---- small helpers ----

function isPresent(value: string | undefined): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** Header names are expected lower-cased; a differently cased name is still found. */
function headerValue(headers: Record<string, string | undefined>, name: string): string | undefined {
  const lower = name.toLowerCase();
  const direct = headers[lower];
  if (direct !== undefined) return direct;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === lower) return value;
  }
  return undefined;
}

function safely<T>(decode: () => T | undefined): T | undefined {
  try {
    return decode();
  } catch {
    return undefined;
  }
}
