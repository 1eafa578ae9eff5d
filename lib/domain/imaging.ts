// Imaging information and its login (API.md §2, §3): account and document rules, scrypt parameters, Basic header
// parsing and the login guard's window arithmetic. Pure: no I/O, no clock, no randomness.
import { createHash } from 'node:crypto';
import { HttpError, ValidationError } from './errors.ts';
import type { FieldChange } from './settings.ts';

// ---------------------------------------------------------------------------------------------------------------
// Names and documents

/** Imaging account names: 1–64 of [A-Za-z0-9._@-], case-sensitive. No ':' (it separates the name in Basic). */
export const USERNAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;
/** PreStage ids and device ids, the same alphabet as checkinId. */
export const IMAGING_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** A stored PreStage or Autorun document: at most 32 KiB as serialized JSON (UTF-8 bytes of JSON.stringify). */
export const MAX_IMAGING_DOCUMENT_BYTES = 32 * 1024;
/**
 * At most this many PreStages. GET /imaging/prestages returns them all in one response, and a Lambda response is
 * at most 6 MB: 100 × 32 KiB stays well inside it.
 */
export const MAX_PRESTAGES = 100;

export type ImagingDocumentKind = 'PRESTAGE' | 'AUTORUN';

/** The path parameter naming a document of each kind, as in serverless.yml. */
export const DOCUMENT_ID_FIELD: Record<ImagingDocumentKind, 'id' | 'deviceId'> = { PRESTAGE: 'id', AUTORUN: 'deviceId' };

export function isValidUsername(value: unknown): value is string {
  return typeof value === 'string' && USERNAME_PATTERN.test(value);
}

export function isValidImagingId(value: unknown): value is string {
  return typeof value === 'string' && IMAGING_ID_PATTERN.test(value);
}

/** Throws 400 INVALID_IMAGING_ACCOUNT unless the username follows the rules. */
export function assertUsername(value: unknown): string {
  if (!isValidUsername(value)) {
    throw new ValidationError('INVALID_IMAGING_ACCOUNT', 'username must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_", "@" and "-"', 'username');
  }
  return value;
}

/** Throws 400 INVALID_IMAGING_DOCUMENT unless the id follows the rules. */
export function assertImagingId(value: unknown, field: string): string {
  if (!isValidImagingId(value)) {
    throw new ValidationError('INVALID_IMAGING_DOCUMENT', `${field} must be 1 to 128 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-"`, field);
  }
  return value;
}

export interface ParsedImagingDocument {
  /** The canonical serialization stored and served (JSON.stringify of the parsed body). */
  json: string;
  sizeBytes: number;
  /** SHA-256 of json, hex: what the history records instead of the content. */
  sha256: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a PreStage or Autorun body: a JSON object (400 INVALID_IMAGING_DOCUMENT otherwise) of at most 32 KiB once
 * serialized (413 PAYLOAD_TOO_LARGE otherwise). A PreStage may carry its own "id" only if it equals the path's
 * (compared as text), so that the list, which shows the path's id, never hides a different one.
 */
export function parseImagingDocument(body: unknown, kind: ImagingDocumentKind, pathId: string): ParsedImagingDocument {
  if (!isPlainObject(body)) {
    throw new ValidationError('INVALID_IMAGING_DOCUMENT', `The body must be a JSON object (the ${kind === 'PRESTAGE' ? 'PreStage' : 'Autorun'} information to store)`);
  }
  if (kind === 'PRESTAGE' && 'id' in body && String(body.id) !== pathId) {
    throw new ValidationError('INVALID_IMAGING_DOCUMENT', 'The PreStage\'s "id", when present, must equal the id in the path', 'id');
  }
  const json = JSON.stringify(body);
  const sizeBytes = Buffer.byteLength(json, 'utf8');
  if (sizeBytes > MAX_IMAGING_DOCUMENT_BYTES) {
    throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `The document is ${sizeBytes} bytes as JSON; at most ${MAX_IMAGING_DOCUMENT_BYTES} (32 KiB) are allowed`);
  }
  return { json, sizeBytes, sha256: createHash('sha256').update(json).digest('hex') };
}

// ---------------------------------------------------------------------------------------------------------------
// Passwords

export const PASSWORD_MIN_CHARACTERS = 12;
/** Bounds the work and storage one password can cause; far above any passphrase a person types. */
export const PASSWORD_MAX_CHARACTERS = 1024;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Passwords are compared in Unicode NFC, so "é" typed as one or two code points is the same password. */
export function normalizePassword(password: string): string {
  return password.normalize('NFC');
}

/** Characters as a person counts them (code points, after NFC), not UTF-16 units. */
export function passwordLength(password: string): number {
  return [...normalizePassword(password)].length;
}

/**
 * The body of PUT /admin/imaging/accounts/{username}: exactly { "password": string }. Wrong shape: 400; a password
 * outside 12–1024 characters: 422 (a rule, as the settings' range rules are). Returns the NFC-normalized password.
 */
export function parseAccountBody(body: unknown): string {
  if (!isPlainObject(body)) throw new ValidationError('INVALID_IMAGING_ACCOUNT', 'The body must be a JSON object: { "password": "…" }');
  for (const key of Object.keys(body)) {
    if (key !== 'password') throw new ValidationError('INVALID_IMAGING_ACCOUNT', `Unknown field "${key}"; the body is { "password": "…" }`, key);
  }
  const { password } = body;
  if (typeof password !== 'string') throw new ValidationError('INVALID_IMAGING_ACCOUNT', 'password is required and must be a string', 'password');
  if (LONE_SURROGATE.test(password)) {
    throw new ValidationError('INVALID_IMAGING_ACCOUNT', 'password must be valid Unicode text', 'password');
  }
  const length = passwordLength(password);
  if (length < PASSWORD_MIN_CHARACTERS || length > PASSWORD_MAX_CHARACTERS) {
    throw new ValidationError(
      'INVALID_IMAGING_ACCOUNT',
      `password must be ${PASSWORD_MIN_CHARACTERS} to ${PASSWORD_MAX_CHARACTERS} characters long`,
      'password',
      422,
    );
  }
  return normalizePassword(password);
}

// ---------------------------------------------------------------------------------------------------------------
// scrypt

export interface ScryptParameters {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelization. */
  p: number;
  /** Derived key length, bytes. */
  keylen: number;
}

/**
 * N=2^14, r=8, p=1 is the interactive-login setting of the scrypt paper and OWASP's minimum: 16 MiB and ≈50 ms of
 * one core per check here, which a Lambda of 512 MB pays on every authenticated imaging request. keylen 32 bytes.
 */
export const SCRYPT_PARAMETERS: Readonly<ScryptParameters> = Object.freeze({ N: 16384, r: 8, p: 1, keylen: 32 });
export const SALT_BYTES = 16;

/** A stored password: only the salted scrypt hash and the parameters needed to check a password against it. */
export interface PasswordHash extends ScryptParameters {
  algorithm: 'scrypt';
  /** base64 */
  salt: string;
  /** base64 of the derived key */
  hash: string;
}

/** Memory scrypt needs for these parameters (bytes), for crypto.scrypt's maxmem. */
export function scryptMemoryBytes(params: ScryptParameters): number {
  return 128 * params.N * params.r + 128 * params.r * params.p + 1024 * 1024;
}

/**
 * True when a stored hash's parameters are ones this code will run: a corrupted or hostile record must not make a
 * login allocate gigabytes or spin for minutes.
 */
export function isUsablePasswordHash(value: unknown): value is PasswordHash {
  if (!isPlainObject(value)) return false;
  const { algorithm, N, r, p, keylen, salt, hash } = value as Record<string, unknown>;
  const int = (x: unknown, min: number, max: number) => typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max;
  return (
    algorithm === 'scrypt' &&
    int(N, 1024, 1 << 20) &&
    ((N as number) & ((N as number) - 1)) === 0 &&
    int(r, 1, 32) &&
    int(p, 1, 16) &&
    int(keylen, 16, 64) &&
    typeof salt === 'string' &&
    Buffer.from(salt, 'base64').length >= SALT_BYTES &&
    typeof hash === 'string' &&
    Buffer.from(hash, 'base64').length === keylen
  );
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP Basic (RFC 7617)

export type BasicAuthorization =
  | { kind: 'missing' }
  | { kind: 'malformed'; reason: string; username?: string }
  | { kind: 'credentials'; username: string; password: string };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads an Authorization header as HTTP Basic. "Missing" is no header at all; anything else that does not give a
 * well-formed imaging username and a password of at most 1024 characters is "malformed" (no account can match it,
 * so it is refused without being counted against a username). The password is NFC-normalized.
 */
export function parseBasicAuthorization(header: string | undefined): BasicAuthorization {
  if (header === undefined || header.trim() === '') return { kind: 'missing' };
  const match = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(header);
  if (!match) return { kind: 'malformed', reason: 'not "Basic <credentials>"' };
  if (match[1].toLowerCase() !== 'basic') return { kind: 'malformed', reason: `scheme ${match[1].slice(0, 20)} instead of Basic` };
  const token = match[2];
  if (!BASE64.test(token) || token.length % 4 === 1) return { kind: 'malformed', reason: 'credentials are not base64' };
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(token, 'base64'));
  } catch {
    return { kind: 'malformed', reason: 'credentials are not UTF-8' };
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return { kind: 'malformed', reason: 'no ":" between username and password' };
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (!isValidUsername(username)) return { kind: 'malformed', reason: 'not a valid imaging username', username };
  if (passwordLength(password) > PASSWORD_MAX_CHARACTERS) return { kind: 'malformed', reason: 'password too long', username };
  return { kind: 'credentials', username, password: normalizePassword(password) };
}

// ---------------------------------------------------------------------------------------------------------------
// The login guard: 10 failures for one username within any 15 minutes lock that username

export const LOGIN_FAILURE_LIMIT = 10;
export const LOGIN_FAILURE_WINDOW_MS = 15 * 60 * 1000;
/** The failure list is trimmed of failures outside the window once it holds more than this many. */
export const LOGIN_FAILURE_TRIM_THRESHOLD = 2 * LOGIN_FAILURE_LIMIT;

export type LoginLockState =
  | { locked: false; recentFailures: number }
  | { locked: true; recentFailures: number; /** epoch ms */ lockedUntil: number; retryAfterSeconds: number };

/**
 * Whether a username is locked at nowMs, given the times (epoch ms) of its recorded failures. A failure counts while
 * it is less than 15 minutes old. With n ≥ 10 recent failures the lock lasts until the n−9th oldest of them turns 15
 * minutes old, i.e. until fewer than 10 remain inside the window (a locked username records no new failures).
 */
export function loginLockState(failureTimes: readonly number[], nowMs: number): LoginLockState {
  const recent = failureTimes.filter((t) => t > nowMs - LOGIN_FAILURE_WINDOW_MS).sort((a, b) => a - b);
  if (recent.length < LOGIN_FAILURE_LIMIT) return { locked: false, recentFailures: recent.length };
  const lockedUntil = recent[recent.length - LOGIN_FAILURE_LIMIT] + LOGIN_FAILURE_WINDOW_MS;
  return {
    locked: true,
    recentFailures: recent.length,
    lockedUntil,
    retryAfterSeconds: Math.max(1, Math.ceil((lockedUntil - nowMs) / 1000)),
  };
}

/** How many leading entries of the (append-ordered) failure list are outside the window and may be removed. */
export function staleFailurePrefix(failureTimes: readonly number[], nowMs: number): number {
  let count = 0;
  while (count < failureTimes.length && failureTimes[count] <= nowMs - LOGIN_FAILURE_WINDOW_MS) count += 1;
  return count;
}

/** TTL (epoch seconds) of a failure record last written at nowMs: every failure in it is stale by then. */
export function loginFailureExpiresAt(nowMs: number): number {
  return Math.ceil((nowMs + LOGIN_FAILURE_WINDOW_MS) / 1000);
}

// ---------------------------------------------------------------------------------------------------------------
// History lines (API.md §3: trust-material changes are in the settings history, never a secret)

export type ImagingAccountAction = 'created' | 'updated' | 'deleted';

/** `imagingAccount:<username>`: from null (created) or "present", to the action. Never the password or its hash. */
export function accountHistoryChange(username: string, action: ImagingAccountAction): FieldChange {
  return { field: `imagingAccount:${username}`, from: action === 'created' ? null : 'present', to: action };
}

/** `imagingPrestage:<id>` / `imagingAutorun:<deviceId>`: from and to are SHA-256 fingerprints of the JSON, or null. */
export function documentHistoryChange(kind: ImagingDocumentKind, id: string, fromSha256: string | null, toSha256: string | null): FieldChange {
  const prefix = kind === 'PRESTAGE' ? 'imagingPrestage' : 'imagingAutorun';
  return { field: `${prefix}:${id}`, from: fromSha256 && `sha256:${fromSha256}`, to: toSha256 && `sha256:${toSha256}` };
}
