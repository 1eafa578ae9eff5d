// Imaging information and its login (API.md §2, §3): account and document rules, scrypt parameters, Basic header
// parsing and the login guard's attempt arithmetic. Pure: no I/O, no clock, no randomness.
import { createHash } from 'node:crypto';
import { decodeBase64Strict } from './base64.ts';
import { HttpError, ValidationError } from './errors.ts';
import { type SchemaIssue, validateImagingAccountRequest, validateImagingDocument } from './generated/validators.js';
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
 * Deepest nesting of a stored document, the document object itself being level 1. JSON.parse reads any depth, but
 * everything that walks a document recursively does not: JSON.stringify (the canonical form stored) runs out of
 * stack at a few thousand levels in Node, far fewer than the 1 MiB admin body can nest (hundreds of thousands), and
 * so may the imaging clients that read it. PreStage and Autorun documents are a few levels deep, and, stored as
 * text, need not fit DynamoDB's 32 levels of nested maps; 64 leaves them room and stays far below any of these.
 */
export const MAX_IMAGING_DOCUMENT_DEPTH = 64;
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
 * Whether a parsed JSON value nests objects and arrays more than `maxDepth` levels (a scalar is level 0, `{}` and
 * `[]` level 1). Walks with its own stack, never recursion, so any depth JSON.parse produced is safe to check; it
 * stops at the first container too deep.
 */
export function jsonNestingExceeds(value: unknown, maxDepth: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [item, parentDepth] = pending.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    const depth = parentDepth + 1;
    if (depth > maxDepth) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (typeof child === 'object' && child !== null) pending.push([child, depth]);
    }
  }
  return false;
}

/**
 * Checks a PreStage or Autorun body: a JSON object (the validator generated from schemas/api.ts's ImagingDocument)
 * nested at most 64 levels deep (400 INVALID_IMAGING_DOCUMENT otherwise) of at most 32 KiB once serialized (413
 * PAYLOAD_TOO_LARGE otherwise). A PreStage may carry its own "id" only if it equals the path's (compared as text), so
 * that the list, which shows the path's id, never hides a different one. The depth is checked first: both the id
 * comparison and the serialization recurse.
 */
export function parseImagingDocument(body: unknown, kind: ImagingDocumentKind, pathId: string): ParsedImagingDocument {
  if (!validateImagingDocument(body)) {
    throw new ValidationError('INVALID_IMAGING_DOCUMENT', `The body must be a JSON object (the ${kind === 'PRESTAGE' ? 'PreStage' : 'Autorun'} information to store)`);
  }
  if (jsonNestingExceeds(body, MAX_IMAGING_DOCUMENT_DEPTH)) {
    throw new ValidationError(
      'INVALID_IMAGING_DOCUMENT',
      `The document nests objects and arrays more than ${MAX_IMAGING_DOCUMENT_DEPTH} levels deep (the document itself is level 1); at most ${MAX_IMAGING_DOCUMENT_DEPTH} are allowed`,
    );
  }
  const document = body as Record<string, unknown>;
  if (kind === 'PRESTAGE' && 'id' in document && String(document.id) !== pathId) {
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

/** The refusal (400) of an account body the schema did not accept: not an object, an unknown field, no password text. */
function accountBodyRefusal(issues: readonly SchemaIssue[]): ValidationError {
  if (issues.some((issue) => issue.instancePath === '' && issue.keyword === 'type')) {
    return new ValidationError('INVALID_IMAGING_ACCOUNT', 'The body must be a JSON object: { "password": "…" }');
  }
  const unknown = issues.find((issue) => issue.instancePath === '' && issue.keyword === 'additionalProperties');
  if (unknown) {
    const key = String(unknown.params.additionalProperty);
    return new ValidationError('INVALID_IMAGING_ACCOUNT', `Unknown field "${key}"; the body is { "password": "…" }`, key);
  }
  return new ValidationError('INVALID_IMAGING_ACCOUNT', 'password is required and must be a string', 'password');
}

/**
 * The body of PUT /admin/imaging/accounts/{username}: exactly { "password": string }, checked by the validator
 * generated from schemas/api.ts's ImagingAccountRequest (400 otherwise). Then the rules a schema cannot say: the
 * password must be valid Unicode text (400), and 12–1024 characters as a person counts them, code points after NFC
 * (422, a rule, as the settings' range rules are). Returns the NFC-normalized password.
 */
export function parseAccountBody(body: unknown): string {
  if (!validateImagingAccountRequest(body)) throw accountBodyRefusal(validateImagingAccountRequest.errors ?? []);
  const { password } = body as { password: string };
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
  const bytes = decodeBase64Strict(token, 'standard');
  if (!bytes) return { kind: 'malformed', reason: 'credentials are not base64' };
  let decoded: string;
  try {
    decoded = utf8.decode(bytes);
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
// The login guard: at most 10 attempts (failed, or still being checked) per username within any 15 minutes

/** API.md §2: after this many failed logins within the window the username is refused with 429. */
export const LOGIN_ATTEMPT_LIMIT = 10;
export const LOGIN_FAILURE_WINDOW_MS = 15 * 60 * 1000;
/**
 * How long a PENDING attempt may still be in flight (a Lambda times out after 10 s; the check itself takes ~50 ms).
 * Older, it was never confirmed: its container died, or recording its outcome failed. It is then known never to be
 * released, and keeps counting as a failure until LOGIN_FAILURE_WINDOW_MS after its reservation, like any failure:
 * a store that refuses to record failures must not give the guesser a fresh attempt every minute.
 */
export const LOGIN_IN_FLIGHT_MS = 60 * 1000;

/**
 * PENDING: reserved, its password being checked, or its outcome never recorded (it counts like a failure).
 * FAILED: the password was wrong (or the user unknown).
 */
export type LoginAttemptState = 'PENDING' | 'FAILED';

/** One reserved attempt. Successful attempts are removed, so they never count. */
export interface LoginAttemptEntry {
  id: string;
  /** epoch ms: when it was reserved (PENDING) or found wrong (FAILED) */
  at: number;
  state: LoginAttemptState;
}

/**
 * Whether an entry still counts against its username at nowMs: a failure, and a reservation not confirmed as a success
 * (PENDING), count for the whole window after they were recorded.
 */
export function isCountedAttempt(entry: LoginAttemptEntry, nowMs: number): boolean {
  return entry.at > nowMs - LOGIN_FAILURE_WINDOW_MS;
}

/** The earliest moment a counted entry may stop counting: a PENDING one still in flight may be released at once. */
function countedUntil(entry: LoginAttemptEntry, nowMs: number): number {
  return entry.state === 'PENDING' && entry.at > nowMs - LOGIN_IN_FLIGHT_MS ? nowMs : entry.at + LOGIN_FAILURE_WINDOW_MS;
}

export type LoginAttemptDecision =
  | {
      allowed: true;
      /** Entries that count now, before the new one. */
      counted: number;
      /** Entries that no longer count and may be removed. */
      stale: LoginAttemptEntry[];
    }
  | {
      allowed: false;
      counted: number;
      failed: number;
      pending: number;
      /** epoch ms: the earliest moment fewer than 10 entries could count */
      lockedUntil: number;
      retryAfterSeconds: number;
      stale: LoginAttemptEntry[];
    };

/**
 * Whether one more attempt may be checked at nowMs, given the username's recorded entries. Allowed while fewer than
 * 10 count; then the new one is reserved (so 10 is also the most that can be checked at once). When refused, the
 * refusal lasts until fewer than 10 could count: a FAILED entry, and a PENDING one older than LOGIN_IN_FLIGHT_MS
 * (never confirmed), stop counting 15 minutes after they were recorded; a PENDING one still in flight may be
 * released (a success) at any moment, so a lock that leans on attempts in flight is announced with the shortest
 * Retry-After (1 s); one made of failures alone with the exact time until the oldest of them that must go has left
 * the window.
 */
export function decideLoginAttempt(entries: readonly LoginAttemptEntry[], nowMs: number): LoginAttemptDecision {
  const counted = entries.filter((e) => isCountedAttempt(e, nowMs));
  const stale = entries.filter((e) => !isCountedAttempt(e, nowMs));
  if (counted.length < LOGIN_ATTEMPT_LIMIT) return { allowed: true, counted: counted.length, stale };
  const releases = counted.map((e) => countedUntil(e, nowMs)).sort((a, b) => a - b);
  const lockedUntil = releases[counted.length - LOGIN_ATTEMPT_LIMIT];
  const failed = counted.filter((e) => e.state === 'FAILED').length;
  return {
    allowed: false,
    counted: counted.length,
    failed,
    pending: counted.length - failed,
    lockedUntil,
    retryAfterSeconds: Math.max(1, Math.ceil((lockedUntil - nowMs) / 1000)),
    stale,
  };
}

/** TTL (epoch seconds) of an attempt record last written at nowMs: every entry in it has stopped counting by then. */
export function loginAttemptsExpiresAt(nowMs: number): number {
  return Math.ceil((nowMs + LOGIN_FAILURE_WINDOW_MS) / 1000);
}

// ---------------------------------------------------------------------------------------------------------------
// History lines (API.md §3: trust-material changes are in the settings history with fixed field names, values are
// ids or fingerprints or null, never a secret)

export type ImagingAccountAction = 'created' | 'updated' | 'deleted';

/**
 * `imagingAccounts`: from and to are the username, or null where there was (created) or is (deleted) no account;
 * a password change is "alice" → "alice". Never the password, its hash or its salt.
 */
export function accountHistoryChange(username: string, action: ImagingAccountAction): FieldChange {
  return { field: 'imagingAccounts', from: action === 'created' ? null : username, to: action === 'deleted' ? null : username };
}

/** The history value of a stored document: `"<id> sha256:<hex of the stored JSON text>"`. */
export function documentHistoryValue(id: string, sha256: string): string {
  return `${id} sha256:${sha256}`;
}

/** `imagingPrestages` / `imagingAutorun`: from and to are documentHistoryValue, or null where there is no document. */
export function documentHistoryChange(kind: ImagingDocumentKind, id: string, fromSha256: string | null, toSha256: string | null): FieldChange {
  return {
    field: kind === 'PRESTAGE' ? 'imagingPrestages' : 'imagingAutorun',
    from: fromSha256 === null ? null : documentHistoryValue(id, fromSha256),
    to: toSha256 === null ? null : documentHistoryValue(id, toSha256),
  };
}
