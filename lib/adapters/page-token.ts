// Opaque page tokens shared by the adapters: base64url of a few string fields as JSON followed by a check value
// over them, checked strictly when they come back (a token is never handed to a store unchecked).
//
// The check value is an HMAC under a key fixed in this file: it refuses a token that was edited or made by hand
// (400 on nextToken, as the README says), which base64 JSON alone would let through. It is an integrity check, not
// a secret: a token only says where a listing continues, and whoever holds one may read that whole listing anyway.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidPageTokenError } from '../ports/errors.ts';

/** Longest token accepted, and longest field value inside one. */
const MAX_TOKEN_LENGTH = 2048;
const MAX_FIELD_LENGTH = 1024;
const CHECK_KEY = 'tollgate page token v1';
/** Bytes of the HMAC kept in the token. */
const CHECK_BYTES = 12;

function checkValue(payload: Buffer): Buffer {
  return createHmac('sha256', CHECK_KEY).update(payload).digest().subarray(0, CHECK_BYTES);
}

export function encodePageToken(fields: Record<string, string> | undefined): string | undefined {
  if (!fields) return undefined;
  const payload = Buffer.from(JSON.stringify(fields), 'utf8');
  return Buffer.concat([payload, checkValue(payload)]).toString('base64url');
}

/**
 * The fields of a token, which must carry its check value, be exactly `expectedFields`, each a non-empty string,
 * and pass `check`; anything else throws InvalidPageTokenError. An absent or empty token is the first page (undefined).
 */
export function decodePageToken(
  token: string | undefined,
  expectedFields: readonly string[],
  check?: (fields: Record<string, string>) => boolean,
): Record<string, string> | undefined {
  if (token === undefined || token === '') return undefined;
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw new InvalidPageTokenError();
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length <= CHECK_BYTES) throw new InvalidPageTokenError();
  const payload = bytes.subarray(0, bytes.length - CHECK_BYTES);
  if (!timingSafeEqual(bytes.subarray(bytes.length - CHECK_BYTES), checkValue(payload))) throw new InvalidPageTokenError();
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new InvalidPageTokenError();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidPageTokenError();
  const record = parsed as Record<string, unknown>;
  const names = Object.keys(record).sort();
  if (names.join(',') !== [...expectedFields].sort().join(',')) throw new InvalidPageTokenError();
  const fields: Record<string, string> = {};
  for (const name of names) {
    const value = record[name];
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_FIELD_LENGTH) throw new InvalidPageTokenError();
    fields[name] = value;
  }
  if (check && !check(fields)) throw new InvalidPageTokenError();
  return fields;
}
