// Reading admin requests: bodies, path and query parameters, If-Match. Every refusal is a 400 in the contract's shape.
import { ValidationError } from '../../domain/errors.ts';

export const INVALID_REQUEST = 'INVALID_REQUEST';

/** The same identifier rule as checkinId/deviceId/packageId in API.md §1. */
export const IDENTIFIER = /^[A-Za-z0-9._:-]{1,128}$/;

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as a JSON object whose fields are all in `allowed` (a typo such as `checksums` is refused, not ignored). */
export function readObjectBody(json: unknown, allowed: readonly string[], code = INVALID_REQUEST): Record<string, unknown> {
  if (!isPlainObject(json)) {
    throw new ValidationError(code, `The body must be a JSON object with ${allowed.map((f) => `"${f}"`).join(', ')}`, 'body');
  }
  for (const key of Object.keys(json)) {
    if (!allowed.includes(key)) throw new ValidationError(code, `Unknown field "${key}"; expected ${allowed.join(', ')}`, key);
  }
  return json;
}

/** A required string field of 1..max characters (not only whitespace). */
export function requireText(body: Record<string, unknown>, field: string, max: number): string {
  const value = body[field];
  if (value === undefined || value === null) throw new ValidationError(INVALID_REQUEST, `${field} is required`, field);
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > max) {
    throw new ValidationError(INVALID_REQUEST, `${field} must be a non-empty string of at most ${max} characters`, field);
  }
  return value;
}

/** A path parameter that must be an identifier (packageId, deviceId). */
export function requireIdentifierParam(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined || !IDENTIFIER.test(value)) {
    throw new ValidationError(INVALID_REQUEST, `${name} must be 1 to 128 characters of letters, digits, '.', '_', ':' or '-'`, name);
  }
  return value;
}

/**
 * A certificate's SHA-256 fingerprint as given by people and tools: 64 hex digits, any case, optionally with colons
 * between bytes (`AB:CD:…`, what `openssl x509 -fingerprint -sha256` prints). Returned lowercase without colons.
 */
export function normaliseFingerprint(value: string | undefined, field = 'sha256'): string {
  const compact = (value ?? '').trim().replace(/:/g, '');
  if (!/^[0-9a-fA-F]{64}$/.test(compact)) {
    throw new ValidationError(INVALID_REQUEST, `${field} must be a SHA-256 fingerprint: 64 hex digits, with or without colons`, field);
  }
  return compact.toLowerCase();
}

/** `limit` from the query: default 50, an integer from 1 to 500. */
export function parseLimit(query: Record<string, string>, fallback = DEFAULT_PAGE_LIMIT): number {
  const text = query.limit;
  if (text === undefined || text === '') return fallback;
  if (!/^\d{1,6}$/.test(text) || Number(text) < 1 || Number(text) > MAX_PAGE_LIMIT) {
    throw new ValidationError(INVALID_REQUEST, `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`, 'limit');
  }
  return Number(text);
}

/** An If-Match precondition on the settings version. */
export interface VersionPrecondition {
  /** The versions the client accepts (strong tags only); `any` for `*`. */
  versions: number[] | 'any';
  /** The header named weak tags (`W/"3"`), which never match under strong comparison; kept to explain the 412. */
  weakTags?: boolean;
}

/** Strong comparison (RFC 9110 §13.1.1 requires it for If-Match): only the strong tags named can match. */
export function matchesVersion(precondition: VersionPrecondition | undefined, version: number): boolean {
  if (!precondition || precondition.versions === 'any') return true;
  return precondition.versions.includes(version);
}

/**
 * Parses If-Match: `"3"` as the ETag is sent, a bare `3` (a convenience for people typing headers), a list
 * (`"3", "4"`) and `*`. A weak tag `W/"3"` is well formed but never matches: If-Match uses the strong comparison
 * function (RFC 9110 §13.1.1), so a header of weak tags only is always 412. Absent or empty: no precondition.
 * Anything else is 400 (a malformed precondition must not silently pass).
 */
export function parseIfMatch(header: string | undefined): VersionPrecondition | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  if (header.trim() === '*') return { versions: 'any' };
  const versions: number[] = [];
  let weakTags = false;
  for (const part of header.split(',')) {
    const match = /^\s*(W\/(?="))?("?)(\d{1,15})\2\s*$/.exec(part);
    if (!match) {
      throw new ValidationError(INVALID_REQUEST, 'If-Match must be the ETag of GET /admin/settings, such as "3"', 'If-Match');
    }
    if (match[1]) weakTags = true;
    else versions.push(Number(match[3]));
  }
  return weakTags ? { versions, weakTags } : { versions };
}
