// The check-in schema of API.md §1: every rule, and the field each violation names.
import { describe, expect, it } from 'vitest';
import { parseCheckin, parseRfc3339 } from '../../lib/domain/checkin.ts';
import { ValidationError } from '../../lib/domain/errors.ts';

const valid = {
  checkinId: 'c-1',
  deviceId: 'C02XK1JHJG5J',
  clientTime: '2026-11-25T18:06:03.120Z',
  serverCertificateVerified: true,
};

function fieldOf(body: unknown): string | undefined {
  try {
    parseCheckin(body);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const e = error as ValidationError;
    expect(e.statusCode).toBe(400);
    expect(e.code).toBe('INVALID_CHECKIN');
    return e.field;
  }
  return undefined;
}

describe('parseCheckin', () => {
  it('accepts the minimal check-in and fills the defaults', () => {
    const checkin = parseCheckin(valid);
    expect(checkin).toMatchObject({ ...valid, phase: 'CHECKIN', packages: [] });
    expect(checkin.clientTimeMs).toBe(Date.parse(valid.clientTime));
  });

  it('ignores unknown fields so that older servers accept newer clients', () => {
    expect(parseCheckin({ ...valid, futureField: { nested: true } }).checkinId).toBe('c-1');
  });

  it('lower-cases checksum hex and keeps the type', () => {
    const checkin = parseCheckin({ ...valid, packages: [{ packageId: 'p1', checksum: { type: 'MD5', value: 'A'.repeat(32) } }] });
    expect(checkin.packages[0].checksum).toEqual({ type: 'MD5', value: 'a'.repeat(32) });
  });

  it.each([
    // body shape
    ['a JSON array', [], 'body'],
    ['a string', 'hello', 'body'],
    // identifiers
    ['missing checkinId', { ...valid, checkinId: undefined }, 'checkinId'],
    ['empty checkinId', { ...valid, checkinId: '' }, 'checkinId'],
    ['checkinId of 129 characters', { ...valid, checkinId: 'a'.repeat(129) }, 'checkinId'],
    ['checkinId with a slash', { ...valid, checkinId: 'a/b' }, 'checkinId'],
    ['numeric deviceId', { ...valid, deviceId: 42 }, 'deviceId'],
    ['deviceId with a space', { ...valid, deviceId: 'C02 XK' }, 'deviceId'],
    // clientTime
    ['missing clientTime', { ...valid, clientTime: undefined }, 'clientTime'],
    ['clientTime without a zone', { ...valid, clientTime: '2026-11-25T18:06:03' }, 'clientTime'],
    ['clientTime as epoch number', { ...valid, clientTime: 1764093963 }, 'clientTime'],
    ['clientTime on 30 February', { ...valid, clientTime: '2026-02-30T00:00:00Z' }, 'clientTime'],
    ['clientTime with hour 24', { ...valid, clientTime: '2026-11-25T24:00:00Z' }, 'clientTime'],
    // phase and verification flag
    ['unknown phase', { ...valid, phase: 'IMAGING' }, 'phase'],
    ['missing serverCertificateVerified', { ...valid, serverCertificateVerified: undefined }, 'serverCertificateVerified'],
    ['serverCertificateVerified as a string', { ...valid, serverCertificateVerified: 'true' }, 'serverCertificateVerified'],
    // packages
    ['packages not an array', { ...valid, packages: {} }, 'packages'],
    ['201 packages', { ...valid, packages: Array.from({ length: 201 }, (_, i) => ({ packageId: `p${i}` })) }, 'packages'],
    ['package without id', { ...valid, packages: [{}] }, 'packages[0].packageId'],
    ['unknown checksum type', { ...valid, packages: [{ packageId: 'p', checksum: { type: 'SHA1', value: 'a'.repeat(40) } }] }, 'packages[0].checksum.type'],
    ['SHA_256 of the wrong length', { ...valid, packages: [{ packageId: 'p', checksum: { type: 'SHA_256', value: 'a'.repeat(63) } }] }, 'packages[0].checksum.value'],
    ['checksum that is not hex', { ...valid, packages: [{ packageId: 'p', checksum: { type: 'MD5', value: 'g'.repeat(32) } }] }, 'packages[0].checksum.value'],
    // push topic
    ['pushTopic over 256 characters', { ...valid, pushTopic: 'x'.repeat(257) }, 'pushTopic'],
  ])('refuses %s (field %s)', (_case, body, field) => {
    expect(fieldOf(body)).toBe(field);
  });
});

describe('parseRfc3339', () => {
  it.each([
    ['UTC with milliseconds', '2026-11-25T18:06:03.120Z', Date.UTC(2026, 10, 25, 18, 6, 3, 120)],
    ['positive offset', '2026-11-25T20:06:03+02:00', Date.UTC(2026, 10, 25, 18, 6, 3)],
    ['negative offset', '2026-11-25T13:06:03.5-05:00', Date.UTC(2026, 10, 25, 18, 6, 3, 500)],
    ['lower-case t and z', '2026-11-25t18:06:03z', Date.UTC(2026, 10, 25, 18, 6, 3)],
    ['leap day', '2028-02-29T00:00:00Z', Date.UTC(2028, 1, 29)],
    ['a year below 100, not read as 19xx', '0001-01-01T00:00:00Z', -62135596800000],
  ])('reads %s', (_case, text, expected) => {
    expect(parseRfc3339(text)).toBe(expected);
  });

  it.each(['2026-11-25', '2026-11-25 18:06:03Z', '2026-13-01T00:00:00Z', '2027-02-29T00:00:00Z', '2026-11-25T18:06:03+2:00', 'yesterday'])(
    'refuses %s',
    (text) => expect(parseRfc3339(text)).toBeUndefined(),
  );
});
