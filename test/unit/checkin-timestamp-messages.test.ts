// What a device (or its admin) reads when clientTime is refused: a well-formed timestamp that names no real instant
// is told what does not exist, not that its form is wrong.
import { describe, expect, it } from 'vitest';
import { parseCheckin } from '../../lib/domain/checkin.ts';
import { ValidationError } from '../../lib/domain/errors.ts';

function refusal(clientTime: unknown): { field?: string; message: string } {
  try {
    parseCheckin({ checkinId: 'c-1', deviceId: 'C02XK1JHJG5J', clientTime, serverCertificateVerified: true });
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return { field: (error as ValidationError).field, message: (error as Error).message };
  }
  throw new Error(`${JSON.stringify(clientTime)} was accepted`);
}

describe('clientTime refusals', () => {
  it.each([
    ['2026-02-30T15:00:00Z', 'clientTime 2026-02-30T15:00:00Z names a date that does not exist: February 2026 has 28 days'],
    ['2028-02-30T15:00:00Z', 'clientTime 2028-02-30T15:00:00Z names a date that does not exist: February 2028 has 29 days'],
    ['2100-02-29T15:00:00Z', 'clientTime 2100-02-29T15:00:00Z names a date that does not exist: February 2100 has 28 days'],
    ['2026-04-31T00:00:00+02:00', 'clientTime 2026-04-31T00:00:00+02:00 names a date that does not exist: April 2026 has 30 days'],
    ['2026-11-00T00:00:00Z', 'clientTime 2026-11-00T00:00:00Z names a date that does not exist: November 2026 has 30 days'],
    ['2026-13-01T00:00:00Z', 'clientTime 2026-13-01T00:00:00Z names month 13, which does not exist; months are 01 to 12'],
    ['2026-11-25T24:00:00Z', 'clientTime 2026-11-25T24:00:00Z names a time of day that does not exist (hours 00–23, minutes 00–59, seconds 00–60)'],
    ['2026-11-25T18:60:00Z', 'clientTime 2026-11-25T18:60:00Z names a time of day that does not exist (hours 00–23, minutes 00–59, seconds 00–60)'],
    ['2026-11-25T18:00:00+24:00', 'clientTime 2026-11-25T18:00:00+24:00 has a zone offset that does not exist (at most ±23:59)'],
    ['2026-11-25T18:00:00', 'clientTime must be an RFC 3339 timestamp with a zone offset, such as 2026-11-25T18:06:03.120Z'],
    ['yesterday', 'clientTime must be an RFC 3339 timestamp with a zone offset, such as 2026-11-25T18:06:03.120Z'],
    [1764093963, 'clientTime must be an RFC 3339 timestamp with a zone offset, such as 2026-11-25T18:06:03.120Z'],
    // the months of 30 days, and the first and last month
    ['2026-06-31T12:00:00Z', 'clientTime 2026-06-31T12:00:00Z names a date that does not exist: June 2026 has 30 days'],
    ['2026-09-31T12:00:00+02:00', 'clientTime 2026-09-31T12:00:00+02:00 names a date that does not exist: September 2026 has 30 days'],
    ['2026-01-32T00:00:00Z', 'clientTime 2026-01-32T00:00:00Z names a date that does not exist: January 2026 has 31 days'],
    ['2026-12-32T00:00:00Z', 'clientTime 2026-12-32T00:00:00Z names a date that does not exist: December 2026 has 31 days'],
    ['2026-00-10T00:00:00Z', 'clientTime 2026-00-10T00:00:00Z names month 00, which does not exist; months are 01 to 12'],
    // leap years: 2000 is one (divisible by 400), 100 is not
    ['2000-02-30T00:00:00Z', 'clientTime 2000-02-30T00:00:00Z names a date that does not exist: February 2000 has 29 days'],
    ['0100-02-29T00:00:00Z', 'clientTime 0100-02-29T00:00:00Z names a date that does not exist: February 0100 has 28 days'],
    // the first and last day of a month are real: what is wrong is the time
    ['2026-11-01T24:00:00Z', 'clientTime 2026-11-01T24:00:00Z names a time of day that does not exist (hours 00–23, minutes 00–59, seconds 00–60)'],
    ['2026-11-30T24:00:00Z', 'clientTime 2026-11-30T24:00:00Z names a time of day that does not exist (hours 00–23, minutes 00–59, seconds 00–60)'],
    ['2026-11-25T18:06:61Z', 'clientTime 2026-11-25T18:06:61Z names a time of day that does not exist (hours 00–23, minutes 00–59, seconds 00–60)'],
    // hour 23, minute 59 and a leap second are real: what is wrong is the zone
    ['2026-11-25T23:00:00+24:00', 'clientTime 2026-11-25T23:00:00+24:00 has a zone offset that does not exist (at most ±23:59)'],
    ['2026-11-25T18:59:00-24:00', 'clientTime 2026-11-25T18:59:00-24:00 has a zone offset that does not exist (at most ±23:59)'],
    ['2016-12-31T23:59:60+24:00', 'clientTime 2016-12-31T23:59:60+24:00 has a zone offset that does not exist (at most ±23:59)'],
    ['2026-11-25T18:00:00+23:60', 'clientTime 2026-11-25T18:00:00+23:60 has a zone offset that does not exist (at most ±23:59)'],
    ['2026-11-25T24:00:00z', 'clientTime 2026-11-25T24:00:00z names a time of day that does not exist (hours 00–23, minutes 00–59, seconds 00–60)'],
  ])('%j: %s', (clientTime, message) => {
    expect(refusal(clientTime)).toEqual({ field: 'clientTime', message });
  });

  it.each([
    '2028-02-29T15:00:00Z',
    '2026-11-25T23:59:60Z',
    '2026-11-25T18:06:03.120-23:59',
    '2000-02-29T12:00:00Z',
    '2026-06-30T12:00:00+05:30',
    '2026-09-30T23:59:59-09:30',
  ])('%s is a real instant and accepted', (clientTime) => {
    expect(parseCheckin({ checkinId: 'c-1', deviceId: 'd', clientTime, serverCertificateVerified: true }).clientTime).toBe(clientTime);
  });

  it('29 February of year 0 is a real instant and accepted (RFC 3339 counts year 0000 as a leap year); 30 February of it is named', () => {
    const leapDayOfYear0 = { checkinId: 'c-1', deviceId: 'd', clientTime: '0000-02-29T00:00:00Z', serverCertificateVerified: true };
    expect(parseCheckin(leapDayOfYear0).clientTime).toBe('0000-02-29T00:00:00Z');
    expect(refusal('0000-02-30T00:00:00Z')).toEqual({
      field: 'clientTime',
      message: 'clientTime 0000-02-30T00:00:00Z names a date that does not exist: February 0000 has 29 days',
    });
  });
});
