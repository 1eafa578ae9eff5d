// The settings document's ETag and If-Match (RFC 9110 §8.8.3, §13.1.1): the version is the entity tag.
import { ValidationError } from '../domain/errors.ts';
import type { VersionPrecondition } from '../services/admin/precondition.ts';
import { INVALID_REQUEST } from './admin-request.ts';

/** The strong ETag of a settings version: `"3"`. */
export function settingsETag(version: number): string {
  return `"${version}"`;
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
