// Strict base64 decoding, for every encoded value the outside world sends (certificates, signatures, PKCS#12 files).

/**
 * Base64 (padding optional, whitespace ignored) to bytes; undefined when it is not base64 or is empty.
 * `standard-or-url` also takes the URL alphabet (`-`, `_`). Buffer.from(…, 'base64') alone silently skips
 * garbage, which would turn junk into "some bytes".
 */
export function decodeBase64Strict(text: string, alphabet: 'standard' | 'standard-or-url' = 'standard-or-url'): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  const pattern = alphabet === 'standard' ? /^[A-Za-z0-9+/]*={0,2}$/ : /^[A-Za-z0-9+/_-]*={0,2}$/;
  if (compact === '' || !pattern.test(compact)) return undefined;
  const unpadded = compact.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  if (compact.includes('=') && compact.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(unpadded.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length > 0 ? bytes : undefined;
}
