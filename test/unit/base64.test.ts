// The one strict base64 decoder (lib/domain/base64.ts): device certificates and signatures take the standard or the
// URL alphabet, PKCS#12 uploads the standard one; junk is refused, never skipped.
import { describe, expect, it } from 'vitest';
import { decodeBase64Strict } from '../../lib/domain/base64.ts';

describe('decodeBase64Strict', () => {
  // Each case: input text and the expected bytes (undefined when it must be refused).
  it.each([
    // standard alphabet with padding
    ['aGVsbG8=', Buffer.from('hello')],
    // padding left out
    ['aGVsbG8', Buffer.from('hello')],
    // URL-safe alphabet
    ['-_8', Buffer.from([0xfb, 0xff])],
    // whitespace and line breaks inside
    ['aGVs\n bG8=', Buffer.from('hello')],
    // characters outside base64 (Buffer.from would silently skip them)
    ['aGV*sbG8=', undefined],
    // impossible length
    ['aGVsb', undefined],
    // padding in the middle
    ['aG=VsbG8', undefined],
    // padding that does not complete a group of four
    ['AA=', undefined],
    ['AAAA==', undefined],
    // empty
    ['', undefined],
  ] as Array<[string, Buffer | undefined]>)('%j', (text, expected) => {
    expect(decodeBase64Strict(text)).toEqual(expected);
  });

  it.each([
    // [text, bytes with the standard alphabet only]
    ['aGVsbG8=', Buffer.from('hello')],
    ['AAA', Buffer.from([0, 0])],
    ['-_8', undefined],
    ['ab_c', undefined],
  ] as Array<[string, Buffer | undefined]>)('standard alphabet only: %j', (text, expected) => {
    expect(decodeBase64Strict(text, 'standard')).toEqual(expected);
  });
});
