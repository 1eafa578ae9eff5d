// Strict base64 decoding, for every encoded value the outside world sends (certificates, signatures, PKCS#12 files).

const WHITESPACE = /\s/;
const ALL_WHITESPACE = /\s+/g;
const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const STANDARD_OR_URL = /^[A-Za-z0-9+/_-]*={0,2}$/;
const EQUALS = 0x3d;

/**
 * Base64 (padding optional, whitespace ignored) to bytes; undefined when it is not base64 or is empty.
 * `standard-or-url` also takes the URL alphabet (`-`, `_`). Buffer.from(…, 'base64') alone silently skips
 * garbage, which would turn junk into "some bytes"; once the text is known to be base64, it decodes both alphabets
 * and padded or unpadded text alike.
 */
export function decodeBase64Strict(text: string, alphabet: 'standard' | 'standard-or-url' = 'standard-or-url'): Buffer | undefined {
  const compact = WHITESPACE.test(text) ? text.replace(ALL_WHITESPACE, '') : text;
  if (compact === '' || !(alphabet === 'standard' ? STANDARD : STANDARD_OR_URL).test(compact)) return undefined;
  // Padded text comes in whole groups of four; unpadded text cannot end one character into a group (6 bits are no byte).
  const padded = compact.charCodeAt(compact.length - 1) === EQUALS;
  if (padded ? compact.length % 4 !== 0 : compact.length % 4 === 1) return undefined;
  // Non-empty, and at least two characters into a group: at least one byte.
  return Buffer.from(compact, 'base64');
}
