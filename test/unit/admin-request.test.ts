// Reading admin requests: If-Match, limit, fingerprints, package, revocation and trust-material bodies, device status.
import { describe, expect, it } from 'vitest';
import {
  normaliseFingerprint,
  parseDeviceCaBody,
  parseDeviceStatus,
  parseLimit,
  parsePackageBody,
  parsePushCertificateBody,
  parseRevocationBody,
  parseServerCertificateBody,
} from '../../lib/http/admin-request.ts';
import { parseIfMatch } from '../../lib/http/etag.ts';
import { matchesVersion } from '../../lib/services/admin/precondition.ts';

const fails = (fn: () => unknown, field: string) =>
  expect(fn).toThrow(expect.objectContaining({ statusCode: 400, code: 'INVALID_REQUEST', field }));

describe('parseIfMatch', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['"3"', { versions: [3] }],
    ['3', { versions: [3] }],
    ['"3", "4"', { versions: [3, 4] }],
    // weak tags are well formed but never match (strong comparison, RFC 9110 §13.1.1)
    ['W/"3"', { versions: [], weakTags: true }],
    [' "3" , W/"4"', { versions: [3], weakTags: true }],
    ['*', { versions: 'any' }],
  ])('%j → %j', (header, expected) => {
    expect(parseIfMatch(header)).toEqual(expected);
  });

  it('never matches a version named only by a weak tag', () => {
    expect(matchesVersion(parseIfMatch('W/"3"'), 3)).toBe(false);
    expect(matchesVersion(parseIfMatch('W/"3", "4"'), 3)).toBe(false);
    expect(matchesVersion(parseIfMatch('W/"3", "4"'), 4)).toBe(true);
    expect(matchesVersion(parseIfMatch('"3"'), 3)).toBe(true);
  });

  it.each(['"abc"', 'version 3', '"3', '3"', 'W/', '"-1"', 'W/3', 'w/"3"', 'W/"abc"'])('refuses %j with 400 on If-Match', (header) => {
    fails(() => parseIfMatch(header), 'If-Match');
  });

  it('matches versions', () => {
    expect(matchesVersion(undefined, 7)).toBe(true);
    expect(matchesVersion({ versions: 'any' }, 7)).toBe(true);
    expect(matchesVersion({ versions: [6, 7] }, 7)).toBe(true);
    expect(matchesVersion({ versions: [6] }, 7)).toBe(false);
  });
});

describe('parseLimit', () => {
  it.each([
    [{}, 50],
    [{ limit: '' }, 50],
    [{ limit: '1' }, 1],
    [{ limit: '500' }, 500],
    [{ limit: '007' }, 7],
  ])('%j → %d', (query, expected) => expect(parseLimit(query as Record<string, string>)).toBe(expected));

  it.each(['0', '501', '-1', '1.5', '1e2', 'ten', ' 5', '99999999'])('refuses %j', (limit) => fails(() => parseLimit({ limit }), 'limit'));
});

describe('normaliseFingerprint', () => {
  const hex = '0123456789abcdef'.repeat(4);
  it.each([
    [hex, hex],
    [hex.toUpperCase(), hex],
    [hex.match(/../g)!.join(':'), hex],
    [hex.toUpperCase().match(/../g)!.join(':'), hex],
  ])('%s → lowercase without colons', (input, expected) => expect(normaliseFingerprint(input)).toBe(expected));

  it.each([undefined, '', hex.slice(1), `${hex}0`, `${hex.slice(1)}g`, `sha256:${hex}`])('refuses %j', (input) => fails(() => normaliseFingerprint(input), 'sha256'));
});

describe('parsePackageBody', () => {
  it('keeps name and lowercases the checksum; null or absent checksum is null', () => {
    expect(parsePackageBody({ name: 'Office', checksum: { type: 'MD5', value: 'AB'.repeat(16) } })).toEqual({ name: 'Office', checksum: { type: 'MD5', value: 'ab'.repeat(16) } });
    expect(parsePackageBody({ name: 'Office', checksum: null })).toEqual({ name: 'Office', checksum: null });
    expect(parsePackageBody({ name: 'Office' })).toEqual({ name: 'Office', checksum: null });
  });

  it.each([
    // [why, body, field]
    ['not an object', 'office', 'body'],
    ['no name', { checksum: null }, 'name'],
    ['a long name', { name: 'x'.repeat(257) }, 'name'],
    ['SHA_256 of 63 digits', { name: 'x', checksum: { type: 'SHA_256', value: 'a'.repeat(63) } }, 'checksum.value'],
    ['SHA_512 of 128 non-hex', { name: 'x', checksum: { type: 'SHA_512', value: 'z'.repeat(128) } }, 'checksum.value'],
    ['a lowercase type', { name: 'x', checksum: { type: 'sha_256', value: 'a'.repeat(64) } }, 'checksum.type'],
    ['an array checksum', { name: 'x', checksum: [] }, 'checksum'],
  ])('refuses %s', (_why, body, field) => fails(() => parsePackageBody(body), field));

  it.each([
    // [why, body, field, message]: the first fault in the order body, unknown field, name, checksum
    ['a list', [], 'body', 'The body must be a JSON object with "name", "checksum"'],
    ['an unknown field before a bad name', { checksums: null, name: '' }, 'checksums', 'Unknown field "checksums"; expected name, checksum'],
    ['a null name', { name: null }, 'name', 'name is required'],
    ['a name of whitespace only', { name: ' \u00a0\n' }, 'name', 'name must be a non-empty string of at most 256 characters'],
    ['a name and a checksum both wrong', { name: 5, checksum: 'x' }, 'name', 'name must be a non-empty string of at most 256 characters'],
    ['a checksum as text', { name: 'x', checksum: 'abc' }, 'checksum', 'checksum must be an object with type and value, or null'],
    ['an unknown checksum field before a bad type', { name: 'x', checksum: { algo: 1, type: 'sha1' } }, 'checksum.algo', 'Unknown field "checksum.algo"; expected type and value'],
    ['a checksum without type', { name: 'x', checksum: { value: 'a'.repeat(32) } }, 'checksum.type', 'checksum.type must be one of MD5, SHA_256, SHA_512'],
    ['an MD5 of 64 digits', { name: 'x', checksum: { type: 'MD5', value: 'a'.repeat(64) } }, 'checksum.value', 'checksum.value must be 32 hexadecimal digits for MD5'],
  ])('names %s with its sentence', (_why, body, field, message) => {
    expect(() => parsePackageBody(body)).toThrow(expect.objectContaining({ statusCode: 400, code: 'INVALID_REQUEST', field, message }));
  });
});

describe('parseRevocationBody and parseDeviceStatus', () => {
  it('takes a reason of 1..512 characters', () => {
    expect(parseRevocationBody({ reason: 'lost' })).toEqual({ reason: 'lost' });
    fails(() => parseRevocationBody({ reason: 'x'.repeat(513) }), 'reason');
    fails(() => parseRevocationBody({ reason: 5 }), 'reason');
    fails(() => parseRevocationBody(null), 'body');
  });

  it.each([
    // [why, body, field, message]
    ['text', 'lost', 'body', 'The body must be a JSON object with "reason"'],
    ['an unknown field', { reason: 'lost', note: 'x' }, 'note', 'Unknown field "note"; expected reason'],
    ['no reason', {}, 'reason', 'reason is required'],
    ['a reason of whitespace only', { reason: '\t ' }, 'reason', 'reason must be a non-empty string of at most 512 characters'],
    ['a reason of 513 characters', { reason: 'x'.repeat(513) }, 'reason', 'reason must be a non-empty string of at most 512 characters'],
  ])('refuses a revocation body with %s, with its sentence', (_why, body, field, message) => {
    expect(() => parseRevocationBody(body)).toThrow(expect.objectContaining({ statusCode: 400, code: 'INVALID_REQUEST', field, message }));
  });

  it('needs status BLOCKED or ACCEPTED', () => {
    expect(parseDeviceStatus('BLOCKED')).toBe('BLOCKED');
    expect(parseDeviceStatus('ACCEPTED')).toBe('ACCEPTED');
    fails(() => parseDeviceStatus(undefined), 'status');
    fails(() => parseDeviceStatus('blocked'), 'status');
  });
});

describe('trust-material bodies (device CA bundle, server certificate, push certificate)', () => {
  it('reads the text as sent; a .p12 password may be empty', () => {
    expect(parseDeviceCaBody({ certificates: ' PEM ' })).toBe(' PEM ');
    expect(parseServerCertificateBody({ certificate: 'PEM' })).toBe('PEM');
    expect(parsePushCertificateBody({ p12: 'MIIK', password: '' })).toEqual({ p12: 'MIIK', password: '' });
  });

  it.each([
    // [why, parse, body, field, message]
    ['a device CA body that is a list', parseDeviceCaBody, ['PEM'], 'body', 'The body must be a JSON object with "certificates"'],
    ['an unknown field before an empty bundle', parseDeviceCaBody, { comment: 'hi', certificates: '' }, 'comment', 'Unknown field "comment"; expected certificates'],
    ['no bundle', parseDeviceCaBody, {}, 'certificates', 'certificates is required'],
    ['an empty bundle', parseDeviceCaBody, { certificates: '' }, 'certificates', 'certificates must be a non-empty string'],
    ['a certificate as a list', parseServerCertificateBody, { certificate: ['PEM'] }, 'certificate', 'certificate must be a non-empty string'],
    ['a null certificate', parseServerCertificateBody, { certificate: null }, 'certificate', 'certificate is required'],
    ['a push body that is text', parsePushCertificateBody, 'MIIK', 'body', 'The body must be a JSON object with "p12", "password"'],
    ['an empty p12 and no password', parsePushCertificateBody, { p12: '' }, 'p12', 'p12 must be a non-empty string'],
    ['no password', parsePushCertificateBody, { p12: 'MIIK' }, 'password', 'password is required'],
    ['a numeric password', parsePushCertificateBody, { p12: 'MIIK', password: 1234 }, 'password', 'password must be a string'],
  ] as const)('refuses %s with its sentence', (_why, parse, body, field, message) => {
    expect(() => parse(body)).toThrow(expect.objectContaining({ statusCode: 400, code: 'INVALID_REQUEST', field, message }));
  });
});
