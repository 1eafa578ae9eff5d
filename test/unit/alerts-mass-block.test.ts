// MASS_BLOCK in the domain (API.md §4): the window an event belongs to, what each counted device gets, the message;
// and the status before a status item without an old image, and restored copies (docs/operations.md).
import { describe, expect, it } from 'vitest';
import { ConfigError, readAlertsFunctionConfig, readMassBlockConfig } from '../../lib/config.ts';
import {
  isRestoredCopy,
  MAX_SUBJECT_LENGTH,
  massBlockAlert,
  massBlockRole,
  massBlockWindowStart,
  previousStatusFromDecisions,
  readDeviceStatusImage,
  readUnauthenticatedAttemptMark,
  stableAlertId,
} from '../../lib/domain/alerts.ts';

describe('massBlockWindowStart: windows of windowMinutes laid end to end from the epoch (UTC)', () => {
  it.each([
    ['2026-12-01T22:30:00.000Z', 10, '2026-12-01T22:30:00.000Z'],
    ['2026-12-01T22:39:59.999Z', 10, '2026-12-01T22:30:00.000Z'],
    ['2026-12-01T22:40:00.000Z', 10, '2026-12-01T22:40:00.000Z'],
    ['2026-12-01T22:44:10.123Z', 1, '2026-12-01T22:44:00.000Z'],
    ['2026-12-01T22:44:10.123Z', 7, '2026-12-01T22:41:00.000Z'],
    ['2026-12-01T23:59:59.999Z', 1440, '2026-12-01T00:00:00.000Z'],
  ])('%s in windows of %i minutes starts at %s', (at, minutes, start) => {
    expect(massBlockWindowStart(at, minutes)).toBe(start);
  });

  it('refuses a time it cannot read', () => {
    expect(() => massBlockWindowStart('yesterday', 10)).toThrow(RangeError);
  });

  it('names the time it cannot read', () => {
    expect(() => massBlockWindowStart('yesterday', 10)).toThrow(new RangeError('not a timestamp: yesterday'));
  });
});

describe('massBlockRole: what the device counted at a rank gets, with massBlockDevices 50', () => {
  it.each([
    [1, 'OWN_ALERT'],
    [49, 'OWN_ALERT'],
    [50, 'OWN_ALERT'],
    [51, 'MASS_BLOCK'],
    [52, 'SUMMARISED'],
    [500, 'SUMMARISED'],
    [undefined, 'SUMMARISED'],
  ] as const)('rank %s → %s', (rank, role) => {
    expect(massBlockRole(rank, 50)).toBe(role);
  });
});

describe('massBlockAlert', () => {
  const devices = Array.from({ length: 120 }, (_, i) => `DEV-${String(i).padStart(3, '0')}`);
  const window = {
    reason: 'BLOCKED' as const,
    windowStart: '2026-12-01T22:30:00.000Z',
    devices,
    byViolation: { SERVER_CERT_NOT_VERIFIED: 20, CLOCK_SKEW_EXCEEDED: 120 },
  };

  it('is critical, counts every device, lists the first 100 in counting order, byViolation with sorted keys', () => {
    const alert = massBlockAlert(window, { devices: 119, windowMinutes: 10 }, { occurredAt: '2026-12-01T22:31:02.000Z', settingsVersion: 7 });
    expect(alert).toEqual({
      type: 'MASS_BLOCK',
      severity: 'critical',
      subject: 'Mass block: 120 devices blocked within 10 minutes',
      message: {
        type: 'MASS_BLOCK',
        alertId: stableAlertId(['MASS_BLOCK', 'BLOCKED', '2026-12-01T22:30:00.000Z']),
        occurredAt: '2026-12-01T22:31:02.000Z',
        reason: 'BLOCKED',
        count: 120,
        windowMinutes: 10,
        byViolation: { CLOCK_SKEW_EXCEEDED: 120, SERVER_CERT_NOT_VERIFIED: 20 },
        settingsVersion: 7,
        devices: devices.slice(0, 100),
      },
    });
    expect(Object.keys(alert.message.byViolation as object)).toEqual(['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED']);
  });

  it.each([
    ['in code order', { CLOCK_SKEW_EXCEEDED: 5, PACKAGE_CHECKSUM_MISMATCH: 3, SERVER_CERT_NOT_VERIFIED: 2 }],
    ['in another order', { SERVER_CERT_NOT_VERIFIED: 2, CLOCK_SKEW_EXCEEDED: 5, PACKAGE_CHECKSUM_MISMATCH: 3 }],
  ])('byViolation counted %s is published with its codes in code order', (_case, byViolation) => {
    const trigger = { occurredAt: '2026-12-01T22:31:02.000Z', settingsVersion: 7 };
    const alert = massBlockAlert({ ...window, byViolation }, { devices: 119, windowMinutes: 10 }, trigger);
    const codes = ['CLOCK_SKEW_EXCEEDED', 'PACKAGE_CHECKSUM_MISMATCH', 'SERVER_CERT_NOT_VERIFIED'];
    expect(Object.keys(alert.message.byViolation as object)).toEqual(codes);
    expect(alert.message.byViolation).toEqual({ CLOCK_SKEW_EXCEEDED: 5, PACKAGE_CHECKSUM_MISMATCH: 3, SERVER_CERT_NOT_VERIFIED: 2 });
  });

  it('alertId is one per window and reason: the same for another trigger, different for another window or reason', () => {
    const policy = { devices: 50, windowMinutes: 10 };
    const a = massBlockAlert(window, policy, { occurredAt: 'x', settingsVersion: 1 }).message.alertId;
    expect(massBlockAlert(window, policy, { occurredAt: 'y', settingsVersion: 2 }).message.alertId).toBe(a);
    expect(massBlockAlert({ ...window, windowStart: '2026-12-01T22:40:00.000Z' }, policy, { occurredAt: 'x', settingsVersion: 1 }).message.alertId).not.toBe(a);
    expect(massBlockAlert({ ...window, reason: 'UNAUTHENTICATED' }, policy, { occurredAt: 'x', settingsVersion: 1 }).message.alertId).not.toBe(a);
  });

  it.each([
    ['BLOCKED', 51, 10, 'Mass block: 51 devices blocked within 10 minutes'],
    ['BLOCKED', 2001, 1, 'Mass block: 2001 devices blocked within 1 minute'],
    ['UNAUTHENTICATED', 51, 10, 'Mass block: unauthenticated check-ins from 51 claimed devices within 10 minutes'],
    ['UNAUTHENTICATED', 2001, 1440, 'Mass block: unauthenticated check-ins from 2001 claimed devices within 1440 minutes'],
  ] as const)('subject for %s, %i devices, %i minutes: %s (at most 99 characters)', (reason, count, minutes, subject) => {
    const alert = massBlockAlert({ ...window, reason, devices: devices.concat(Array(count).fill('X')).slice(0, count) }, { devices: count - 1, windowMinutes: minutes }, { occurredAt: 'x', settingsVersion: null });
    expect(alert.subject).toBe(subject);
    expect(alert.subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
  });
});

describe('readUnauthenticatedAttemptMark', () => {
  it('reads the mark the check-in leaves, codes sorted and unique', () => {
    expect(
      readUnauthenticatedAttemptMark({
        deviceId: '#UNAUTHENTICATED#2026-12-01T22:30:00.000Z#D1',
        kind: 'UNAUTHENTICATED_ATTEMPT',
        claimedDeviceId: 'D1',
        windowStart: '2026-12-01T22:30:00.000Z',
        violationCodes: ['CLIENT_CERT_UNTRUSTED', 'CLIENT_CERT_EXPIRED', 'CLIENT_CERT_UNTRUSTED'],
        at: '2026-12-01T22:31:00.000Z',
        settingsVersion: 4,
      }),
    ).toEqual({ claimedDeviceId: 'D1', windowStart: '2026-12-01T22:30:00.000Z', violationCodes: ['CLIENT_CERT_EXPIRED', 'CLIENT_CERT_UNTRUSTED'], at: '2026-12-01T22:31:00.000Z', settingsVersion: 4 });
  });

  it.each([
    ['a device status', { deviceId: 'D1', status: 'BLOCKED', checkinId: 'c' }],
    ['no claimed device', { kind: 'UNAUTHENTICATED_ATTEMPT', windowStart: 'w', at: 'a' }],
    ['nothing', undefined],
    ['a record of another kind with the same fields', { kind: 'DEVICE_STATUS', claimedDeviceId: 'D1', windowStart: '2026-12-01T22:30:00.000Z', at: '2026-12-01T22:31:00.000Z' }],
    ['a record without a kind', { claimedDeviceId: 'D1', windowStart: '2026-12-01T22:30:00.000Z', at: '2026-12-01T22:31:00.000Z' }],
    ['no window', { kind: 'UNAUTHENTICATED_ATTEMPT', claimedDeviceId: 'D1', at: '2026-12-01T22:31:00.000Z' }],
    ['a window that is not text', { kind: 'UNAUTHENTICATED_ATTEMPT', claimedDeviceId: 'D1', windowStart: 1764628200, at: '2026-12-01T22:31:00.000Z' }],
    ['no time', { kind: 'UNAUTHENTICATED_ATTEMPT', claimedDeviceId: 'D1', windowStart: '2026-12-01T22:30:00.000Z' }],
    ['a time that is not text', { kind: 'UNAUTHENTICATED_ATTEMPT', claimedDeviceId: 'D1', windowStart: '2026-12-01T22:30:00.000Z', at: 1764628260 }],
  ])('is undefined for %s', (_name, item) => {
    expect(readUnauthenticatedAttemptMark(item as Record<string, unknown> | undefined)).toBeUndefined();
  });

  it.each([
    // [case, fields of the mark, what is read beside the device, window and time]
    ['codes that are not text are left out', { violationCodes: ['CLIENT_CERT_EXPIRED', 7, null, { code: 'X' }] }, { violationCodes: ['CLIENT_CERT_EXPIRED'] }],
    ['no list of codes counts no code', {}, { violationCodes: [] }],
    ['a list of codes that is not a list counts no code', { violationCodes: 'CLIENT_CERT_EXPIRED' }, { violationCodes: [] }],
    ['a settings version that is not a number is left out', { violationCodes: ['CLIENT_CERT_MISSING'], settingsVersion: '4' }, { violationCodes: ['CLIENT_CERT_MISSING'] }],
  ])('reads an odd mark: %s', (_case, fields, expected) => {
    const mark = readUnauthenticatedAttemptMark({
      kind: 'UNAUTHENTICATED_ATTEMPT',
      claimedDeviceId: 'D1',
      windowStart: '2026-12-01T22:30:00.000Z',
      at: '2026-12-01T22:31:00.000Z',
      ...fields,
    });
    expect(mark).toStrictEqual({
      claimedDeviceId: 'D1',
      windowStart: '2026-12-01T22:30:00.000Z',
      at: '2026-12-01T22:31:00.000Z',
      ...expected,
    });
  });
});

describe('the status before a status item without an old image, from the device decisions', () => {
  const SKEW = { code: 'CLOCK_SKEW_EXCEEDED', message: 'off' };
  const decision = (checkinId: string, evaluatedAt: string, blocked: boolean) => ({
    checkinId,
    deviceId: 'D1',
    decision: blocked ? 'BLOCK' : 'ACCEPT',
    violations: blocked ? [SKEW] : [],
    evaluatedAt,
    settingsVersion: 3,
  });
  const current = { checkinId: 'c-3', lastCheckinAt: '2026-12-01T22:30:00.000Z' };

  it.each([
    ['a first check-in (only its own decision)', [decision('c-3', current.lastCheckinAt, false)], undefined],
    [
      'the newest decision before it',
      [decision('c-3', current.lastCheckinAt, false), decision('c-2', '2026-12-01T22:15:00.000Z', true), decision('c-1', '2026-12-01T22:00:00.000Z', false)],
      { deviceId: 'D1', status: 'BLOCKED', checkinId: 'c-2', lastCheckinAt: '2026-12-01T22:15:00.000Z', violations: [SKEW], violationCodes: ['CLOCK_SKEW_EXCEEDED'], settingsVersion: 3 },
    ],
    [
      'not a decision newer than it (the stream lagging)',
      [decision('c-4', '2026-12-01T22:45:00.000Z', true), decision('c-3', current.lastCheckinAt, false), decision('c-2', '2026-12-01T22:15:00.000Z', false)],
      { deviceId: 'D1', status: 'ACCEPTED', checkinId: 'c-2', lastCheckinAt: '2026-12-01T22:15:00.000Z', violations: [], violationCodes: [], settingsVersion: 3 },
    ],
    [
      'not an earlier judgement of the same check-in (sent again and judged again)',
      [decision('c-3', current.lastCheckinAt, false), decision('c-3', '2026-12-01T22:29:00.000Z', true), decision('c-2', '2026-12-01T22:15:00.000Z', false)],
      { deviceId: 'D1', status: 'ACCEPTED', checkinId: 'c-2', lastCheckinAt: '2026-12-01T22:15:00.000Z', violations: [], violationCodes: [], settingsVersion: 3 },
    ],
  ])('%s', (_name, decisions, expected) => {
    expect(previousStatusFromDecisions(decisions, current)).toEqual(expected);
  });
});

describe('isRestoredCopy: only the write that sets or changes restoredAt', () => {
  const image = (restoredAt?: string) => readDeviceStatusImage({ deviceId: 'D1', status: 'BLOCKED', checkinId: 'c-1', lastCheckinAt: 't', ...(restoredAt ? { restoredAt } : {}) });
  it.each([
    ['copied back into an empty slot', undefined, image('2026-12-02T08:00:00Z'), true],
    ['copied over an item', image(), image('2026-12-02T08:00:00Z'), true],
    ['restored again later', image('2026-12-02T08:00:00Z'), image('2026-12-03T08:00:00Z'), true],
    ['a check-in after the restore, keeping the attribute', image('2026-12-02T08:00:00Z'), image('2026-12-02T08:00:00Z'), false],
    ['a check-in after the restore, writing the whole item', image('2026-12-02T08:00:00Z'), image(), false],
    ['an ordinary check-in', image(), image(), false],
  ])('%s → %s', (_name, oldImage, newImage, expected) => {
    expect(isRestoredCopy(oldImage, newImage)).toBe(expected);
  });

  it.each([
    ['a status item copied back by a restore is one', { restoredAt: '2026-12-02T08:00:00Z' }, true],
    ['a restoredAt that is not text does not make one', { restoredAt: 1764662400 }, false],
  ])('read from the stream: %s', (_name, fields, expected) => {
    const newImage = readDeviceStatusImage({ deviceId: 'D1', status: 'BLOCKED', checkinId: 'c-1', lastCheckinAt: 't', ...fields });
    expect(isRestoredCopy(undefined, newImage)).toBe(expected);
  });

  it('a record without a new image (the item deleted) is no restored copy', () => {
    const restored = { deviceId: 'D1', status: 'BLOCKED', checkinId: 'c-1', lastCheckinAt: 't', restoredAt: '2026-12-02T08:00:00Z' };
    const oldImage = readDeviceStatusImage(restored);
    expect(isRestoredCopy(oldImage, undefined)).toBe(false);
  });
});

describe('the MASS_BLOCK configuration (MASS_BLOCK_DEVICES, MASS_BLOCK_WINDOW_MINUTES)', () => {
  it.each([
    [{}, { devices: 50, windowMinutes: 10 }],
    [{ MASS_BLOCK_DEVICES: '200', MASS_BLOCK_WINDOW_MINUTES: '15' }, { devices: 200, windowMinutes: 15 }],
    [{ MASS_BLOCK_DEVICES: '2000', MASS_BLOCK_WINDOW_MINUTES: '1440' }, { devices: 2000, windowMinutes: 1440 }],
  ])('%j → %j', (env, expected) => {
    expect(readMassBlockConfig(env)).toEqual(expected);
  });

  it.each([
    [{ MASS_BLOCK_DEVICES: '0' }, 'Environment variable MASS_BLOCK_DEVICES must be a positive integer, got "0"'],
    [{ MASS_BLOCK_DEVICES: '2001' }, 'Environment variable MASS_BLOCK_DEVICES must be at most 2000, got "2001"'],
    [{ MASS_BLOCK_WINDOW_MINUTES: '1441' }, 'Environment variable MASS_BLOCK_WINDOW_MINUTES must be at most 1440, got "1441"'],
    [{ MASS_BLOCK_WINDOW_MINUTES: 'ten' }, 'Environment variable MASS_BLOCK_WINDOW_MINUTES must be a positive integer, got "ten"'],
  ])('%j is refused: %s', (env, message) => {
    expect(() => readMassBlockConfig(env)).toThrow(new ConfigError(message));
  });

  it('the alerts function also needs its topic and the decisions table', () => {
    expect(readAlertsFunctionConfig({ ALERT_TOPIC_ARN: 'arn:t', DECISIONS_TABLE: 'd' })).toEqual({ alertTopicArn: 'arn:t', decisionsTable: 'd', massBlock: { devices: 50, windowMinutes: 10 } });
    expect(() => readAlertsFunctionConfig({ ALERT_TOPIC_ARN: 'arn:t' })).toThrow('Environment variable DECISIONS_TABLE is required');
  });
});
