// The check-in schema of API.md §1: every rule, both sides of every limit, and the field and sentence each refusal
// gives the device's author.
import { describe, expect, it } from 'vitest';
import { MAX_CHECKIN_BODY_BYTES, MAX_REPORTED_PACKAGES, parseCheckin, parseRfc3339 } from '../../lib/domain/checkin.ts';
import { ValidationError } from '../../lib/domain/errors.ts';

const valid = {
  checkinId: 'c-1',
  deviceId: 'C02XK1JHJG5J',
  clientTime: '2026-11-25T18:06:03.120Z',
  serverCertificateVerified: true,
};

/** The refusal as the device sees it: field and message (always 400 INVALID_CHECKIN), or undefined if accepted. */
function refusalOf(body: unknown): { field?: string; message: string } | undefined {
  try {
    parseCheckin(body);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const e = error as ValidationError;
    expect(e.statusCode).toBe(400);
    expect(e.code).toBe('INVALID_CHECKIN');
    return { field: e.field, message: e.message };
  }
  return undefined;
}

const packages = (count: number) => Array.from({ length: count }, (_, i) => ({ packageId: `p${i}` }));
const withPackage = (item: unknown) => ({ ...valid, packages: [item] });
const IDENTIFIER_RULE = "must be 1 to 128 characters of letters, digits, '.', '_', ':' or '-'";
const TIME_RULE = 'clientTime must be an RFC 3339 timestamp with a zone offset, such as 2026-11-25T18:06:03.120Z';

describe('parseCheckin', () => {
  it('accepts the minimal check-in and fills the defaults', () => {
    expect(parseCheckin(valid)).toEqual({
      ...valid,
      clientTimeMs: Date.UTC(2026, 10, 25, 18, 6, 3, 120),
      phase: 'CHECKIN',
      packages: [],
      pushTopic: undefined,
    });
  });

  it('reads every field of a full check-in', () => {
    const checkin = parseCheckin({
      ...valid,
      clientTime: '2026-12-31T23:59:59.999+05:30',
      phase: 'ENROLLMENT',
      serverCertificateVerified: false,
      packages: [
        { packageId: 'com.example.office', checksum: { type: 'SHA_512', value: 'A'.repeat(128) } },
        { packageId: 'fonts', checksum: null },
        { packageId: 'tools' },
      ],
      pushTopic: 'com.apple.mgmt.External.0f1e2d3c',
    });
    expect(checkin).toEqual({
      checkinId: 'c-1',
      deviceId: 'C02XK1JHJG5J',
      clientTime: '2026-12-31T23:59:59.999+05:30',
      clientTimeMs: Date.UTC(2026, 11, 31, 18, 29, 59, 999),
      phase: 'ENROLLMENT',
      serverCertificateVerified: false,
      // a null checksum is the same as none; hex is lower-cased
      packages: [{ packageId: 'com.example.office', checksum: { type: 'SHA_512', value: 'a'.repeat(128) } }, { packageId: 'fonts' }, { packageId: 'tools' }],
      pushTopic: 'com.apple.mgmt.External.0f1e2d3c',
    });
  });

  it('ignores unknown fields so that older servers accept newer clients', () => {
    expect(parseCheckin({ ...valid, futureField: { nested: true } }).checkinId).toBe('c-1');
  });

  it.each([
    // [case, body, accepted as]
    ['128-character identifiers', { ...valid, checkinId: 'c'.repeat(128), deviceId: 'd'.repeat(128) }, { checkinId: 'c'.repeat(128), deviceId: 'd'.repeat(128) }],
    ['identifiers of every allowed character', { ...valid, checkinId: 'aZ09._:-', deviceId: 'A' }, { checkinId: 'aZ09._:-', deviceId: 'A' }],
    ['exactly 200 packages', { ...valid, packages: packages(200) }, { packages: packages(200) }],
    ['no packages', { ...valid, packages: [] }, { packages: [] }],
    ['a 256-character pushTopic', { ...valid, pushTopic: 'x'.repeat(256) }, { pushTopic: 'x'.repeat(256) }],
    ['an empty pushTopic', { ...valid, pushTopic: '' }, { pushTopic: '' }],
    ['an MD5 checksum', withPackage({ packageId: 'p', checksum: { type: 'MD5', value: '0123456789abcdefABCDEF0123456789' } }), { packages: [{ packageId: 'p', checksum: { type: 'MD5', value: '0123456789abcdefabcdef0123456789' } }] }],
    ['a SHA_256 checksum', withPackage({ packageId: 'p', checksum: { type: 'SHA_256', value: 'f'.repeat(64) } }), { packages: [{ packageId: 'p', checksum: { type: 'SHA_256', value: 'f'.repeat(64) } }] }],
    ['the ENROLLMENT phase', { ...valid, phase: 'ENROLLMENT' }, { phase: 'ENROLLMENT' }],
    ['the CHECKIN phase', { ...valid, phase: 'CHECKIN' }, { phase: 'CHECKIN' }],
    ['serverCertificateVerified false', { ...valid, serverCertificateVerified: false }, { serverCertificateVerified: false }],
  ])('accepts %s', (_case, body, expected) => {
    expect(parseCheckin(body)).toMatchObject(expected);
  });

  it('keeps the 64 KiB body limit and the 200-package limit of the contract', () => {
    expect(MAX_CHECKIN_BODY_BYTES).toBe(65_536);
    expect(MAX_REPORTED_PACKAGES).toBe(200);
  });

  it.each([
    // [case, body, field, message]
    // body shape
    ['a JSON array', [], 'body', 'The check-in must be a JSON object'],
    ['a string', 'hello', 'body', 'The check-in must be a JSON object'],
    ['null', null, 'body', 'The check-in must be a JSON object'],
    // identifiers
    ['missing checkinId', { ...valid, checkinId: undefined }, 'checkinId', 'checkinId is required'],
    ['null checkinId', { ...valid, checkinId: null }, 'checkinId', 'checkinId is required'],
    ['empty checkinId', { ...valid, checkinId: '' }, 'checkinId', `checkinId ${IDENTIFIER_RULE}`],
    ['checkinId of 129 characters', { ...valid, checkinId: 'a'.repeat(129) }, 'checkinId', `checkinId ${IDENTIFIER_RULE}`],
    ['checkinId with a slash', { ...valid, checkinId: 'a/b' }, 'checkinId', `checkinId ${IDENTIFIER_RULE}`],
    ['missing deviceId', { ...valid, deviceId: undefined }, 'deviceId', 'deviceId is required'],
    ['numeric deviceId', { ...valid, deviceId: 42 }, 'deviceId', `deviceId ${IDENTIFIER_RULE}`],
    ['deviceId with a space', { ...valid, deviceId: 'C02 XK' }, 'deviceId', `deviceId ${IDENTIFIER_RULE}`],
    // clientTime
    ['missing clientTime', { ...valid, clientTime: undefined }, 'clientTime', 'clientTime is required'],
    ['null clientTime', { ...valid, clientTime: null }, 'clientTime', 'clientTime is required'],
    ['clientTime without a zone', { ...valid, clientTime: '2026-11-25T18:06:03' }, 'clientTime', TIME_RULE],
    ['clientTime as epoch number', { ...valid, clientTime: 1764093963 }, 'clientTime', TIME_RULE],
    ['clientTime as a one-element list', { ...valid, clientTime: ['2026-11-25T18:06:03Z'] }, 'clientTime', TIME_RULE],
    ['clientTime on 30 February', { ...valid, clientTime: '2026-02-30T00:00:00Z' }, 'clientTime', 'clientTime 2026-02-30T00:00:00Z names a date that does not exist: February 2026 has 28 days'],
    ['clientTime with hour 24', { ...valid, clientTime: '2026-11-25T24:00:00Z' }, 'clientTime', 'clientTime 2026-11-25T24:00:00Z names a time of day that does not exist (hours 00–23, minutes 00–59, seconds 00–60)'],
    ['clientTime with zone +24:00', { ...valid, clientTime: '2026-11-25T18:06:03+24:00' }, 'clientTime', 'clientTime 2026-11-25T18:06:03+24:00 has a zone offset that does not exist (at most ±23:59)'],
    // phase and verification flag
    ['unknown phase', { ...valid, phase: 'IMAGING' }, 'phase', 'phase must be CHECKIN or ENROLLMENT'],
    ['null phase', { ...valid, phase: null }, 'phase', 'phase must be CHECKIN or ENROLLMENT'],
    ['missing serverCertificateVerified', { ...valid, serverCertificateVerified: undefined }, 'serverCertificateVerified', 'serverCertificateVerified is required'],
    ['serverCertificateVerified as a string', { ...valid, serverCertificateVerified: 'true' }, 'serverCertificateVerified', 'serverCertificateVerified must be true or false'],
    ['serverCertificateVerified null', { ...valid, serverCertificateVerified: null }, 'serverCertificateVerified', 'serverCertificateVerified must be true or false'],
    // packages
    ['packages not an array', { ...valid, packages: {} }, 'packages', 'packages must be an array'],
    ['packages null', { ...valid, packages: null }, 'packages', 'packages must be an array'],
    ['201 packages', { ...valid, packages: packages(201) }, 'packages', 'packages may list at most 200 packages'],
    ['a package that is a string', withPackage('office'), 'packages[0]', 'packages[0] must be an object'],
    ['a package that is null', withPackage(null), 'packages[0]', 'packages[0] must be an object'],
    ['a package that is a list', withPackage([{ packageId: 'p' }]), 'packages[0]', 'packages[0] must be an object'],
    ['the second package without id', { ...valid, packages: [{ packageId: 'p' }, {}] }, 'packages[1].packageId', 'packages[1].packageId is required'],
    ['package id with a space', withPackage({ packageId: 'my package' }), 'packages[0].packageId', `packages[0].packageId ${IDENTIFIER_RULE}`],
    ['a checksum that is a string', withPackage({ packageId: 'p', checksum: 'a'.repeat(64) }), 'packages[0].checksum', 'packages[0].checksum must be an object with type and value'],
    ['a checksum that is a list', withPackage({ packageId: 'p', checksum: [] }), 'packages[0].checksum', 'packages[0].checksum must be an object with type and value'],
    ['unknown checksum type', withPackage({ packageId: 'p', checksum: { type: 'SHA1', value: 'a'.repeat(40) } }), 'packages[0].checksum.type', 'packages[0].checksum.type must be one of MD5, SHA_256, SHA_512'],
    ['checksum type in lower case', withPackage({ packageId: 'p', checksum: { type: 'sha_256', value: 'a'.repeat(64) } }), 'packages[0].checksum.type', 'packages[0].checksum.type must be one of MD5, SHA_256, SHA_512'],
    ['SHA_256 of the wrong length', withPackage({ packageId: 'p', checksum: { type: 'SHA_256', value: 'a'.repeat(63) } }), 'packages[0].checksum.value', 'packages[0].checksum.value must be 64 hexadecimal digits for SHA_256'],
    ['an MD5 with the length of a SHA_256', withPackage({ packageId: 'p', checksum: { type: 'MD5', value: 'a'.repeat(64) } }), 'packages[0].checksum.value', 'packages[0].checksum.value must be 32 hexadecimal digits for MD5'],
    ['SHA_512 one digit short', withPackage({ packageId: 'p', checksum: { type: 'SHA_512', value: 'a'.repeat(127) } }), 'packages[0].checksum.value', 'packages[0].checksum.value must be 128 hexadecimal digits for SHA_512'],
    ['checksum that is not hex', withPackage({ packageId: 'p', checksum: { type: 'MD5', value: 'g'.repeat(32) } }), 'packages[0].checksum.value', 'packages[0].checksum.value must be 32 hexadecimal digits for MD5'],
    ['checksum with a non-hex first digit', withPackage({ packageId: 'p', checksum: { type: 'MD5', value: `g${'a'.repeat(31)}` } }), 'packages[0].checksum.value', 'packages[0].checksum.value must be 32 hexadecimal digits for MD5'],
    ['checksum with a non-hex last digit', withPackage({ packageId: 'p', checksum: { type: 'MD5', value: `${'a'.repeat(31)}g` } }), 'packages[0].checksum.value', 'packages[0].checksum.value must be 32 hexadecimal digits for MD5'],
    ['checksum value as a number', withPackage({ packageId: 'p', checksum: { type: 'MD5', value: 12345 } }), 'packages[0].checksum.value', 'packages[0].checksum.value must be 32 hexadecimal digits for MD5'],
    // push topic
    ['pushTopic over 256 characters', { ...valid, pushTopic: 'x'.repeat(257) }, 'pushTopic', 'pushTopic must be a string of at most 256 characters'],
    ['pushTopic as a number', { ...valid, pushTopic: 42 }, 'pushTopic', 'pushTopic must be a string of at most 256 characters'],
    // the first field at fault is named, the calendar's verdict on clientTime included
    ['clientTime on 31 June and an unknown phase', { ...valid, clientTime: '2026-06-31T09:00:00+05:30', phase: 'IMAGING' }, 'clientTime', 'clientTime 2026-06-31T09:00:00+05:30 names a date that does not exist: June 2026 has 30 days'],
    ['clientTime as a one-element list holding 30 February', { ...valid, clientTime: ['2026-02-30T00:00:00Z'] }, 'clientTime', TIME_RULE],
    ['exactly 200 packages, the last without id', { ...valid, packages: [...packages(199), {}] }, 'packages[199].packageId', 'packages[199].packageId is required'],
    ['a package without id and a numeric pushTopic', { ...valid, packages: [{}], pushTopic: 42 }, 'packages[0].packageId', 'packages[0].packageId is required'],
  ])('refuses %s (field %s)', (_case, body, field, message) => {
    expect(refusalOf(body)).toEqual({ field, message });
  });
});

describe('parseRfc3339', () => {
  it.each([
    // [case, text, epoch milliseconds]
    ['UTC with milliseconds', '2026-11-25T18:06:03.120Z', Date.UTC(2026, 10, 25, 18, 6, 3, 120)],
    ['positive offset', '2026-11-25T20:06:03+02:00', Date.UTC(2026, 10, 25, 18, 6, 3)],
    ['negative offset', '2026-11-25T13:06:03.5-05:00', Date.UTC(2026, 10, 25, 18, 6, 3, 500)],
    ['an offset with minutes, +05:30', '2026-11-25T23:36:03+05:30', Date.UTC(2026, 10, 25, 18, 6, 3)],
    ['an offset with minutes, +05:45', '2026-11-26T00:00:00+05:45', Date.UTC(2026, 10, 25, 18, 15)],
    ['a negative offset with minutes, -03:30', '2026-11-25T14:36:03-03:30', Date.UTC(2026, 10, 25, 18, 6, 3)],
    ['the widest offset, +23:59', '2026-11-26T23:59:00+23:59', Date.UTC(2026, 10, 26)],
    ['-00:00, UTC with an unknown local offset', '2026-11-25T18:06:03-00:00', Date.UTC(2026, 10, 25, 18, 6, 3)],
    ['lower-case t and z', '2026-11-25t18:06:03z', Date.UTC(2026, 10, 25, 18, 6, 3)],
    ['nanoseconds, kept to the fraction of a millisecond', '2026-11-25T18:06:03.123456789Z', Date.UTC(2026, 10, 25, 18, 6, 3, 123) + 0.456789],
    ['midnight', '2026-11-25T00:00:00Z', Date.UTC(2026, 10, 25)],
    ['the last second of a year, in December', '2026-12-31T23:59:59Z', Date.UTC(2026, 11, 31, 23, 59, 59)],
    ['the first of January', '2027-01-01T00:00:00Z', Date.UTC(2027, 0, 1)],
    ['31 January', '2026-01-31T12:00:00Z', Date.UTC(2026, 0, 31, 12)],
    ['a leap second, read as the last instant of its minute', '2016-12-31T23:59:60.500Z', Date.UTC(2016, 11, 31, 23, 59, 59, 500)],
    ['leap day', '2028-02-29T00:00:00Z', Date.UTC(2028, 1, 29)],
    ['a year below 100, not read as 19xx', '0001-01-01T00:00:00Z', -62135596800000],
    // five 400-year cycles of the Gregorian calendar (146,097 days each) before 2099
    ['a year below 100 with a time of day', '0099-12-31T23:59:59.500Z', Date.UTC(2099, 11, 31, 23, 59, 59, 500) - 5 * 146_097 * 86_400_000],
    ['29 February 2000, a leap year as a multiple of 400', '2000-02-29T12:00:00Z', Date.UTC(2000, 1, 29, 12)],
    // year 0000 is a leap year in the proleptic Gregorian calendar of RFC 3339 (a multiple of 400), as in JavaScript's
    ['29 February of year 0', '0000-02-29T00:00:00Z', new Date('0000-02-29T00:00:00Z').getTime()],
    ['30 June', '2026-06-30T00:00:00Z', Date.UTC(2026, 5, 30)],
    ['30 September', '2026-09-30T00:00:00Z', Date.UTC(2026, 8, 30)],
  ])('reads %s', (_case, text, expected) => {
    expect(parseRfc3339(text)).toBe(expected);
  });

  it.each([
    // [case, text]
    ['a date alone', '2026-11-25'],
    ['a space for T', '2026-11-25 18:06:03Z'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['month 00', '2026-00-10T00:00:00Z'],
    ['day 00', '2026-11-00T00:00:00Z'],
    ['31 November', '2026-11-31T00:00:00Z'],
    ['32 December', '2026-12-32T00:00:00Z'],
    ['29 February of a common year', '2027-02-29T00:00:00Z'],
    ['hour 24', '2026-11-25T24:00:00Z'],
    ['minute 60', '2026-11-25T18:60:00Z'],
    ['second 61', '2026-11-25T18:06:61Z'],
    ['zone +24:00', '2026-11-25T18:06:03+24:00'],
    ['zone -24:00', '2026-11-25T18:06:03-24:00'],
    ['zone minute 60', '2026-11-25T18:06:03+05:60'],
    ['a one-digit zone hour', '2026-11-25T18:06:03+2:00'],
    ['a zone without a colon', '2026-11-25T18:06:03+0200'],
    ['ten fraction digits', '2026-11-25T18:06:03.1234567890Z'],
    ['text before the timestamp', 'at 2026-11-25T18:06:03Z'],
    ['text after the timestamp', '2026-11-25T18:06:03Z, roughly'],
    ['a word', 'yesterday'],
    ['31 June', '2026-06-31T00:00:00Z'],
    ['31 September', '2026-09-31T00:00:00Z'],
    ['29 February 0100, not a leap year', '0100-02-29T00:00:00Z'],
  ])('refuses %s', (_case, text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });
});
