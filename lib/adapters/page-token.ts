// Opaque page tokens shared by the adapters: base64url JSON of a few string fields, checked strictly when they come
// back (a token is never handed to a store unchecked).
import { InvalidPageTokenError } from '../ports/errors.ts';

/** Longest token accepted, and longest field value inside one. */
const MAX_TOKEN_LENGTH = 2048;
const MAX_FIELD_LENGTH = 1024;

export function encodePageToken(fields: Record<string, string> | undefined): string | undefined {
  if (!fields) return undefined;
  return Buffer.from(JSON.stringify(fields), 'utf8').toString('base64url');
}

/**
 * The fields of a token, which must be exactly `expectedFields`, each a non-empty string, and pass `check`;
 * anything else throws InvalidPageTokenError. An absent or empty token is the first page (undefined).
 */
export function decodePageToken(
  token: string | undefined,
  expectedFields: readonly string[],
  check?: (fields: Record<string, string>) => boolean,
): Record<string, string> | undefined {
  if (token === undefined || token === '') return undefined;
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw new InvalidPageTokenError();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
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
