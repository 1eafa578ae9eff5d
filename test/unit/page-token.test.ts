// Page tokens come back from clients: only a token this API gave out, unedited, names a page; anything else is
// InvalidPageTokenError (400 on nextToken), never a position a client chose.
import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken } from '../../lib/adapters/page-token.ts';
import { InvalidPageTokenError } from '../../lib/ports/errors.ts';

const KEY = { pk: 'DEVICE#C02XK1JHJG5J', sk: '2026-11-25T18:06:03.120Z#c-1' };
const handMade = (fields: unknown) => Buffer.from(JSON.stringify(fields)).toString('base64url');

describe('page tokens', () => {
  it('give back the fields they were made from', () => {
    expect(decodePageToken(encodePageToken(KEY), ['pk', 'sk'])).toEqual(KEY);
    expect(encodePageToken(undefined)).toBeUndefined();
    expect(decodePageToken(undefined, ['pk', 'sk'])).toBeUndefined();
    expect(decodePageToken('', ['pk', 'sk'])).toBeUndefined();
  });

  const token = encodePageToken(KEY)!;
  const bytes = Buffer.from(token, 'base64url');
  const check = bytes.subarray(bytes.length - 12);
  const otherPayload = Buffer.from(JSON.stringify({ ...KEY, sk: '2020-01-01T00:00:00.000Z#c-0' }));
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 1] ^= 1;

  it('are base64url, nothing else', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['hand-made base64 JSON of the right fields', handMade(KEY)],
    ['hand-made fields with a check value copied from another token', Buffer.concat([otherPayload, check]).toString('base64url')],
    ['a check value edited', flipped.toString('base64url')],
    ['a check value cut short', bytes.subarray(0, bytes.length - 2).toString('base64url')],
    ['nothing but a check value', check.toString('base64url')],
    ['characters outside base64url', `${token}=`],
    ['too long', 'A'.repeat(2049)],
  ])('refuse %s', (_case, text) => {
    expect(() => decodePageToken(text, ['pk', 'sk'])).toThrow(InvalidPageTokenError);
  });

  it('refuse a genuine token of another listing (other fields, or the check of the query fails)', () => {
    expect(() => decodePageToken(token, ['deviceId', 'status', 'lastCheckinAt'])).toThrow(InvalidPageTokenError);
    expect(() => decodePageToken(token, ['pk', 'sk'], (fields) => fields.pk === 'DEVICE#OTHER')).toThrow(InvalidPageTokenError);
    expect(decodePageToken(token, ['pk', 'sk'], (fields) => fields.pk === KEY.pk)).toEqual(KEY);
  });
});
