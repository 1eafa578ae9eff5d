// Device-status transitions → alerts (API.md §4): the transition table, message shape, subjects and alert ids.
import { describe, expect, it } from 'vitest';
import {
  composeSubject,
  deviceBlockedSubject,
  type DeviceStatusImage,
  deviceStatusAlert,
  MAX_SUBJECT_LENGTH,
  readDeviceStatusImage,
  stableAlertId,
  summarizeViolation,
  truncateText,
} from '../../lib/domain/alerts.ts';
import type { Finding } from '../../lib/domain/errors.ts';

const SKEW: Finding = {
  code: 'CLOCK_SKEW_EXCEEDED',
  message: "The device clock is 412.0 s ahead of the server's, more than the 300 s allowed; set the device to network time.",
  skewSeconds: 412,
  maxClockSkewSeconds: 300,
};
const SERVER: Finding = { code: 'SERVER_CERT_NOT_VERIFIED', message: "The device did not verify the server's SSL certificate." };
const MISMATCH: Finding = { code: 'PACKAGE_CHECKSUM_MISMATCH', message: 'The checksum does not match.', packageId: 'office' };

/** A device-status item as decision-store.ts writes it (and the stream carries it, unmarshalled). */
function item(status: 'BLOCKED' | 'ACCEPTED', violations: Finding[], checkinId: string): Record<string, unknown> {
  return {
    deviceId: 'C02XK1JHJG5J',
    status,
    decision: status === 'BLOCKED' ? 'BLOCK' : 'ACCEPT',
    violations,
    violationCodes: [...new Set(violations.map((v) => v.code))].sort(),
    lastCheckinAt: `2026-11-25T18:06:0${checkinId.slice(-1)}.120Z`,
    checkinId,
    settingsVersion: 4,
  };
}

/** A blocked device-status item as the stream carries it, and what is read from it. */
const BLOCKED_ITEM = { deviceId: 'D1', status: 'BLOCKED', checkinId: 'c-1', lastCheckinAt: 'x', violations: [SKEW] };
const BLOCKED_IMAGE = { deviceId: 'D1', status: 'BLOCKED', checkinId: 'c-1', lastCheckinAt: 'x', violations: [SKEW], violationCodes: ['CLOCK_SKEW_EXCEEDED'] };

const image = (raw: Record<string, unknown> | undefined): DeviceStatusImage | undefined => readDeviceStatusImage(raw);

describe('deviceStatusAlert: the transition table', () => {
  it.each([
    // The device's first check-in is blocked: no old image.
    { name: 'first check-in blocked', old: undefined, now: item('BLOCKED', [SKEW], 'c-1'), type: 'DEVICE_BLOCKED' },
    // The first check-in accepted: nothing to say.
    { name: 'first check-in accepted', old: undefined, now: item('ACCEPTED', [], 'c-1'), type: undefined },
    { name: 'accept → block', old: item('ACCEPTED', [], 'c-1'), now: item('BLOCKED', [SKEW], 'c-2'), type: 'DEVICE_BLOCKED' },
    // A blocked laptop checking in every 15 minutes with the same violations must not flood anyone.
    { name: 'block → same block', old: item('BLOCKED', [SKEW], 'c-1'), now: item('BLOCKED', [SKEW], 'c-2'), type: undefined },
    // Same codes, other details (the skew moved): still the same set of codes.
    {
      name: 'block → same codes, other details',
      old: item('BLOCKED', [SKEW], 'c-1'),
      now: item('BLOCKED', [{ ...SKEW, skewSeconds: 980 }], 'c-2'),
      type: undefined,
    },
    // Same codes in another order: a set, not a list.
    { name: 'block → same codes reordered', old: item('BLOCKED', [SKEW, SERVER], 'c-1'), now: item('BLOCKED', [SERVER, SKEW], 'c-2'), type: undefined },
    { name: 'block → other block (code added)', old: item('BLOCKED', [SKEW], 'c-1'), now: item('BLOCKED', [SKEW, SERVER], 'c-2'), type: 'DEVICE_BLOCKED' },
    { name: 'block → other block (code replaced)', old: item('BLOCKED', [SKEW], 'c-1'), now: item('BLOCKED', [MISMATCH], 'c-2'), type: 'DEVICE_BLOCKED' },
    { name: 'block → other block (code removed)', old: item('BLOCKED', [SKEW, SERVER], 'c-1'), now: item('BLOCKED', [SERVER], 'c-2'), type: 'DEVICE_BLOCKED' },
    // One of two codes replaced: as many codes as before, some the same, but another set.
    { name: 'block → other block (one of two codes replaced)', old: item('BLOCKED', [SKEW, SERVER], 'c-1'), now: item('BLOCKED', [SKEW, MISMATCH], 'c-2'), type: 'DEVICE_BLOCKED' },
    { name: 'block → accept', old: item('BLOCKED', [SKEW], 'c-1'), now: item('ACCEPTED', [], 'c-2'), type: 'DEVICE_RECOVERED' },
    { name: 'accept → accept', old: item('ACCEPTED', [], 'c-1'), now: item('ACCEPTED', [], 'c-2'), type: undefined },
    // MONITOR mode: violations listed, decision ACCEPT, status ACCEPTED: never a block alert.
    { name: 'accept → MONITOR-mode accept with violations', old: item('ACCEPTED', [], 'c-1'), now: item('ACCEPTED', [SKEW], 'c-2'), type: undefined },
    { name: 'first check-in MONITOR-mode accept with violations', old: undefined, now: item('ACCEPTED', [SKEW], 'c-1'), type: undefined },
    // Switching to MONITOR releases a blocked device: it is accepted again.
    { name: 'block → MONITOR-mode accept with violations', old: item('BLOCKED', [SKEW], 'c-1'), now: item('ACCEPTED', [SKEW], 'c-2'), type: 'DEVICE_RECOVERED' },
    // The status item deleted (REMOVE has no new image): nothing.
    { name: 'item removed', old: item('BLOCKED', [SKEW], 'c-1'), now: undefined, type: undefined },
  ])('$name → $type', ({ old, now, type }) => {
    expect(deviceStatusAlert(image(old), image(now))?.type).toBe(type);
  });
});

describe('alert messages', () => {
  it('DEVICE_BLOCKED: type, alertId, occurredAt, deviceId, checkinId, violations; severity high; attributes', () => {
    const alert = deviceStatusAlert(image(item('ACCEPTED', [], 'c-1')), image(item('BLOCKED', [SKEW], 'c-2')))!;
    expect(alert).toEqual({
      type: 'DEVICE_BLOCKED',
      severity: 'high',
      subject: 'Device C02XK1JHJG5J blocked: clock skew 412 s > 300 s',
      message: {
        type: 'DEVICE_BLOCKED',
        alertId: stableAlertId(['DEVICE_BLOCKED', 'C02XK1JHJG5J', 'c-2']),
        occurredAt: '2026-11-25T18:06:02.120Z',
        deviceId: 'C02XK1JHJG5J',
        checkinId: 'c-2',
        violations: [SKEW],
      },
    });
  });

  it('DEVICE_RECOVERED: type, alertId, occurredAt, deviceId, checkinId; severity info', () => {
    const alert = deviceStatusAlert(image(item('BLOCKED', [SKEW], 'c-1')), image(item('ACCEPTED', [], 'c-3')))!;
    expect(alert).toEqual({
      type: 'DEVICE_RECOVERED',
      severity: 'info',
      subject: 'Device C02XK1JHJG5J recovered: check-in accepted again',
      message: {
        type: 'DEVICE_RECOVERED',
        alertId: stableAlertId(['DEVICE_RECOVERED', 'C02XK1JHJG5J', 'c-3']),
        occurredAt: '2026-11-25T18:06:03.120Z',
        deviceId: 'C02XK1JHJG5J',
        checkinId: 'c-3',
      },
    });
  });

  it('the same event (a redelivered record) yields the same alertId; another check-in another one', () => {
    const first = deviceStatusAlert(undefined, image(item('BLOCKED', [SKEW], 'c-1')))!;
    const again = deviceStatusAlert(undefined, image(item('BLOCKED', [SKEW], 'c-1')))!;
    const other = deviceStatusAlert(undefined, image(item('BLOCKED', [SKEW], 'c-2')))!;
    expect(again.message).toEqual(first.message);
    expect(other.message.alertId).not.toBe(first.message.alertId);
    expect(first.message.alertId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('ids do not collide by concatenation', () => {
    expect(stableAlertId(['DEVICE_BLOCKED', 'a#b', 'c'])).not.toBe(stableAlertId(['DEVICE_BLOCKED', 'a', 'b#c']));
  });

  it.each([
    // [case, the item as the stream carries it, what is read]
    [
      'an item without violationCodes: derived from violations, sorted, once each',
      { deviceId: 'D1', status: 'BLOCKED', checkinId: 'c-1', lastCheckinAt: '2026-11-25T18:06:03.120Z', violations: [SERVER, SKEW, SKEW] },
      { deviceId: 'D1', status: 'BLOCKED', checkinId: 'c-1', lastCheckinAt: '2026-11-25T18:06:03.120Z', violations: [SERVER, SKEW, SKEW], violationCodes: ['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED'] },
    ],
    [
      'violationCodes as written, without anything that is not a code',
      { deviceId: 'D1', status: 'BLOCKED', checkinId: 'c-1', lastCheckinAt: 'x', violations: [SKEW], violationCodes: ['SERVER_CERT_NOT_VERIFIED', 7, null] },
      { deviceId: 'D1', status: 'BLOCKED', checkinId: 'c-1', lastCheckinAt: 'x', violations: [SKEW], violationCodes: ['SERVER_CERT_NOT_VERIFIED'] },
    ],
    [
      'violations that are not findings are left out',
      { deviceId: 'D1', status: 'BLOCKED', checkinId: 'c-1', lastCheckinAt: 'x', violations: [SKEW, null, 'SERVER', { message: 'no code' }, { code: 5 }] },
      { deviceId: 'D1', status: 'BLOCKED', checkinId: 'c-1', lastCheckinAt: 'x', violations: [SKEW], violationCodes: ['CLOCK_SKEW_EXCEEDED'] },
    ],
    [
      'an accepted item without violations or time',
      { deviceId: 'D1', status: 'ACCEPTED', checkinId: 'c-1', violations: 'none', lastCheckinAt: 1764093963 },
      { deviceId: 'D1', status: 'ACCEPTED', checkinId: 'c-1', lastCheckinAt: '', violations: [], violationCodes: [] },
    ],
    [
      'the exemption that ran out',
      { ...BLOCKED_ITEM, exemptionExpired: { violations: ['CLOCK_SKEW_EXCEEDED'], until: '2026-11-25T00:00:00Z', reason: 'RMA' } },
      { ...BLOCKED_IMAGE, exemptionExpired: { violations: ['CLOCK_SKEW_EXCEEDED'], until: '2026-11-25T00:00:00Z', reason: 'RMA' } },
    ],
    // an exemption record that is not one is left out, never passed on half read
    ['an exemption that is a string', { ...BLOCKED_ITEM, exemptionExpired: 'CLOCK_SKEW_EXCEEDED' }, BLOCKED_IMAGE],
    ['an exemption that is null', { ...BLOCKED_ITEM, exemptionExpired: null }, BLOCKED_IMAGE],
    ['an exemption without a list of codes', { ...BLOCKED_ITEM, exemptionExpired: { violations: 'CLOCK_SKEW_EXCEEDED', until: 'u', reason: 'r' } }, BLOCKED_IMAGE],
    ['an exemption with a code that is no string', { ...BLOCKED_ITEM, exemptionExpired: { violations: ['CLOCK_SKEW_EXCEEDED', 7], until: 'u', reason: 'r' } }, BLOCKED_IMAGE],
    ['an exemption without until', { ...BLOCKED_ITEM, exemptionExpired: { violations: ['CLOCK_SKEW_EXCEEDED'], reason: 'r' } }, BLOCKED_IMAGE],
    ['an exemption without a reason', { ...BLOCKED_ITEM, exemptionExpired: { violations: ['CLOCK_SKEW_EXCEEDED'], until: 'u', reason: 3 } }, BLOCKED_IMAGE],
    ['the settings version the check-in was judged under', { ...BLOCKED_ITEM, settingsVersion: 4 }, { ...BLOCKED_IMAGE, settingsVersion: 4 }],
    ['a settings version that is not a number', { ...BLOCKED_ITEM, settingsVersion: '4' }, BLOCKED_IMAGE],
    ['the time a restore copied the item back', { ...BLOCKED_ITEM, restoredAt: '2026-12-02T08:00:00Z' }, { ...BLOCKED_IMAGE, restoredAt: '2026-12-02T08:00:00Z' }],
    ['a restoredAt that is not text', { ...BLOCKED_ITEM, restoredAt: 1764662400 }, BLOCKED_IMAGE],
    ['an unknown status', { deviceId: 'D1', status: 'PENDING', checkinId: 'c-1' }, undefined],
    ['no deviceId', { status: 'BLOCKED', checkinId: 'c-1' }, undefined],
    ['no checkinId', { deviceId: 'D1', status: 'BLOCKED' }, undefined],
    ['a numeric checkinId', { deviceId: 'D1', status: 'BLOCKED', checkinId: 1 }, undefined],
    ['no item', undefined, undefined],
  ])('reads %s', (_case, raw, expected) => {
    expect(readDeviceStatusImage(raw as Record<string, unknown> | undefined)).toEqual(expected);
  });
});

describe('subjects', () => {
  it.each([
    { violations: [SKEW], subject: 'Device C02XK1JHJG5J blocked: clock skew 412 s > 300 s' },
    { violations: [SKEW, SERVER, MISMATCH], subject: 'Device C02XK1JHJG5J blocked: clock skew 412 s > 300 s and 2 more' },
    { violations: [SERVER], subject: 'Device C02XK1JHJG5J blocked: server certificate not verified' },
    { violations: [MISMATCH], subject: 'Device C02XK1JHJG5J blocked: checksum mismatch for package office' },
    { violations: [{ ...SKEW, skewSeconds: -300.4 }], subject: 'Device C02XK1JHJG5J blocked: clock skew 300.4 s > 300 s' },
    { violations: [{ code: 'SOMETHING_NEW', message: 'x' }], subject: 'Device C02XK1JHJG5J blocked: something new' },
  ])('$subject', ({ violations, subject }) => {
    expect(deviceBlockedSubject('C02XK1JHJG5J', violations)).toBe(subject);
  });

  it('stays within 99 characters (SNS: fewer than 100) and keeps the "and N more" when the first violation is long', () => {
    const longPackage: Finding = { ...MISMATCH, packageId: 'p'.repeat(128) };
    const subject = deviceBlockedSubject('C02XK1JHJG5J', [longPackage, SKEW, SERVER]);
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(subject).toMatch(/^Device C02XK1JHJG5J blocked: checksum mismatch for package p+\.\.\. and 2 more$/);
  });

  it('shortens a 128-character device id', () => {
    const subject = deviceBlockedSubject('D'.repeat(128), [SKEW, SERVER]);
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(subject).toMatch(/^Device D{37}\.\.\. blocked: clock skew 412 s > 300 s and 1 more$/);
  });

  it('keeps to printable ASCII, as SNS requires of a Subject, and drops line breaks and control characters', () => {
    const subject = composeSubject('Device CA certificate ', `${'😀'.repeat(120)}`, 'expires in 3 days');
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject.endsWith('... expires in 3 days')).toBe(true);
    expect(composeSubject('Line\none\r\n', 'two\u0007')).toBe('Line one two');
    expect(composeSubject('Device CA certificate ', 'Gerät Zertifizierungsstelle München', 'expires in 19 days')).toBe(
      'Device CA certificate Gerat Zertifizierungsstelle Munchen expires in 19 days',
    );
    expect(composeSubject('CA ', '東京 CA')).toBe('CA ?? CA');
  });

  it.each([
    // [violation, the few words for it in a subject line]
    [{ code: 'CLOCK_SKEW_EXCEEDED', skewSeconds: -412.04, maxClockSkewSeconds: 300 }, 'clock skew 412 s > 300 s'],
    [{ code: 'CLOCK_SKEW_EXCEEDED', maxClockSkewSeconds: 300 }, 'clock skew ? s > 300 s'],
    [{ code: 'CLOCK_SKEW_EXCEEDED', skewSeconds: Number.POSITIVE_INFINITY, maxClockSkewSeconds: '300' }, 'clock skew ? s > ? s'],
    [{ code: 'CLIENT_CERT_MISSING' }, 'no client certificate'],
    [{ code: 'CLIENT_CERT_INVALID' }, 'unreadable client certificate'],
    [{ code: 'CLIENT_CERT_UNTRUSTED' }, 'untrusted client certificate'],
    [{ code: 'CLIENT_CERT_EXPIRED' }, 'client certificate expired'],
    [{ code: 'CLIENT_CERT_NOT_YET_VALID' }, 'client certificate not yet valid'],
    [{ code: 'CLIENT_CERT_DEVICE_MISMATCH' }, 'client certificate of another device'],
    [{ code: 'CLIENT_CERT_REVOKED' }, 'client certificate revoked'],
    [{ code: 'CLIENT_SIGNATURE_MISSING' }, 'request signature missing'],
    [{ code: 'CLIENT_SIGNATURE_INVALID' }, 'invalid request signature'],
    [{ code: 'SERVER_CERT_NOT_VERIFIED' }, 'server certificate not verified'],
    [{ code: 'PACKAGE_CHECKSUM_UNAVAILABLE', packageId: 'office' }, 'no checksum registered for package office'],
    [{ code: 'PACKAGE_CHECKSUM_MISSING', packageId: 'office' }, 'no checksum reported for package office'],
    [{ code: 'PACKAGE_CHECKSUM_MISMATCH', packageId: 'office' }, 'checksum mismatch for package office'],
    [{ code: 'PACKAGE_CHECKSUM_MISMATCH' }, 'checksum mismatch for package'],
    [{ code: 'SOMETHING_NEW' }, 'something new'],
    [{ code: undefined }, 'violation'],
  ])('summarizes %j as "%s"', (violation, words) => {
    expect(summarizeViolation({ message: 'm', ...violation } as Finding)).toBe(words);
  });

  it('says only "blocked" when the status item lists no violations', () => {
    expect(deviceBlockedSubject('C02XK1JHJG5J', [])).toBe('Device C02XK1JHJG5J blocked');
  });
});

describe('composeSubject', () => {
  /** Heads that leave, with the tail " and 2 more", exactly 12 and 11 characters for the middle. */
  const headLeaving12 = `Device CA certificate ${'H'.repeat(53)} `;
  const headLeaving11 = `Device CA certificate ${'H'.repeat(54)} `;
  it.each([
    // [case, head, middle, tail, subject]
    ['whole when it fits', 'Device CA certificate ', 'Device Root', 'expires in 3 days', 'Device CA certificate Device Root expires in 3 days'],
    ['trimmed and with single spaces', '  Server  certificate ', 'tollgate  example ', '  expired on 2026-11-25  ', 'Server certificate tollgate example expired on 2026-11-25'],
    ['exactly 99 characters, kept whole', 'Head ', 'm'.repeat(94), '', `Head ${'m'.repeat(94)}`],
    ['exactly 99 characters with the space at the start of the middle', 'Head', ` ${'m'.repeat(94)}`, '', `Head ${'m'.repeat(94)}`],
    ['a head alone, without its trailing space', 'Device CA certificate ', '', '', 'Device CA certificate'],
    ['100 characters: the middle is cut', 'Head ', 'm'.repeat(95), '', `Head ${'m'.repeat(91)}...`],
    ['a middle with leading spaces, cut after trimming', 'Head ', `   ${'m'.repeat(120)}`, '', `Head ${'m'.repeat(91)}...`],
    ['the tail is kept whole when the middle is cut', 'Head ', 'm'.repeat(120), 'and 2 more', `Head ${'m'.repeat(80)}... and 2 more`],
    ['12 characters left for the middle: the middle is cut', headLeaving12, 'middle part is long', 'and 2 more', `${headLeaving12}middle pa... and 2 more`],
    ['11 left: too few for a name, the line is cut', headLeaving11, 'middle part is long', 'and 2 more', `${headLeaving11}middle part is long...`],
  ])('%s', (_case, head, middle, tail, subject) => {
    const composed = composeSubject(head, middle, tail);
    expect(composed).toBe(subject);
    expect(composed.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
  });
});

describe('truncateText', () => {
  it.each([
    // [text, at most this many characters, result]
    ['abcde', 5, 'abcde'],
    ['abcdef', 5, 'ab...'],
    ['abcdef', 4, 'a...'],
    ['abcdef', 3, 'abc'],
    ['abcdef', 2, 'ab'],
    ['ab   cdefgh', 6, 'ab...'],
    ['😀😀😀😀😀😀', 5, '😀😀...'],
  ])('cuts %j to %i characters: %j', (text, max, result) => {
    expect(truncateText(text, max)).toBe(result);
  });
});
