// Device alerts end to end: POST /checkin over HTTP → device-status write → DynamoDB Local stream → the local
// runner's stream delivery → the `alerts` handler → the local SNS endpoint → alerts.jsonl. Includes the SNS outage.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.ts';
import { call } from '../support/http.ts';
import { startTestStack } from '../support/local-stack.ts';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

interface AlertLine {
  subject: string;
  message: Record<string, any>;
  messageAttributes: Record<string, string>;
}

function alertLines(deviceId?: string): AlertLine[] {
  const file = join(stack.dataDir, 'alerts.jsonl');
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AlertLine);
  return deviceId ? lines.filter((l) => l.message.deviceId === deviceId) : lines;
}

let counter = 0;
/** A check-in; `skewed` puts the device clock an hour behind (CLOCK_SKEW_EXCEEDED), `unverified` adds SERVER_CERT_NOT_VERIFIED. */
async function checkin(deviceId: string, options: { skewed?: boolean; unverified?: boolean; checkinId?: string } = {}) {
  counter += 1;
  const body = {
    checkinId: options.checkinId ?? `c-${Date.now()}-${counter}`,
    deviceId,
    clientTime: new Date(Date.now() - (options.skewed ? 3_600_000 : 0)).toISOString(),
    serverCertificateVerified: !options.unverified,
  };
  const res = await call(`${stack.httpUrl}/checkin`, { json: body });
  return { ...res, checkinId: body.checkinId };
}

describe('device alerts', () => {
  it('a blocked first check-in raises exactly one DEVICE_BLOCKED, with the message, subject and attributes of API.md §4', async () => {
    const res = await checkin('C02XK1JHJG5J', { skewed: true });
    expect(res.status).toBe(403);
    await stack.drainAlerts();
    const lines = alertLines('C02XK1JHJG5J');
    expect(lines).toEqual([
      {
        // An hour, plus however long the request took on a loaded machine.
        subject: expect.stringMatching(/^Device C02XK1JHJG5J blocked: clock skew 36\d\d(\.\d)? s > 300 s$/),
        message: {
          type: 'DEVICE_BLOCKED',
          alertId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
          occurredAt: res.body.evaluatedAt,
          deviceId: 'C02XK1JHJG5J',
          checkinId: res.checkinId,
          violations: res.body.violations,
        },
        messageAttributes: { type: 'DEVICE_BLOCKED', severity: 'high' },
      },
    ]);
    expect(lines[0].subject.length).toBeLessThanOrEqual(100);
  });

  it('repeated blocked check-ins with the same violations, and an idempotent replay, raise nothing new', async () => {
    const first = await checkin('REPEAT-1', { skewed: true });
    expect(first.status).toBe(403);
    expect((await checkin('REPEAT-1', { skewed: true })).status).toBe(403);
    expect((await checkin('REPEAT-1', { skewed: true })).status).toBe(403);
    const replay = await checkin('REPEAT-1', { skewed: true, checkinId: first.checkinId });
    expect(replay.headers['idempotent-replay']).toBe('true');
    await stack.drainAlerts();
    expect(alertLines('REPEAT-1').map((l) => [l.message.type, l.message.checkinId])).toEqual([['DEVICE_BLOCKED', first.checkinId]]);
  });

  it('a blocked device whose set of violation codes changes raises a new DEVICE_BLOCKED; recovery raises DEVICE_RECOVERED', async () => {
    const blocked = await checkin('CHANGE-1', { skewed: true });
    const changed = await checkin('CHANGE-1', { skewed: true, unverified: true });
    expect(changed.status).toBe(403);
    const accepted = await checkin('CHANGE-1');
    expect(accepted.status).toBe(200);
    const acceptedAgain = await checkin('CHANGE-1');
    expect(acceptedAgain.status).toBe(200);
    await stack.drainAlerts();

    const lines = alertLines('CHANGE-1');
    expect(lines.map((l) => [l.message.type, l.message.checkinId, l.messageAttributes.severity])).toEqual([
      ['DEVICE_BLOCKED', blocked.checkinId, 'high'],
      ['DEVICE_BLOCKED', changed.checkinId, 'high'],
      ['DEVICE_RECOVERED', accepted.checkinId, 'info'],
    ]);
    expect(lines[1].message.violations.map((v: { code: string }) => v.code).sort()).toEqual(['CLOCK_SKEW_EXCEEDED', 'SERVER_CERT_NOT_VERIFIED']);
    expect(lines[1].subject).toMatch(/^Device CHANGE-1 blocked: .+ and 1 more$/);
    expect(lines[2]).toEqual({
      subject: 'Device CHANGE-1 recovered: check-in accepted again',
      message: { type: 'DEVICE_RECOVERED', alertId: expect.any(String), occurredAt: accepted.body.evaluatedAt, deviceId: 'CHANGE-1', checkinId: accepted.checkinId },
      messageAttributes: { type: 'DEVICE_RECOVERED', severity: 'info' },
    });
  });

  it('an accepted device raises nothing', async () => {
    expect((await checkin('CLEAN-1')).status).toBe(200);
    expect((await checkin('CLEAN-1')).status).toBe(200);
    await stack.drainAlerts();
    expect(alertLines('CLEAN-1')).toEqual([]);
  });

  it('OUTAGE: with SNS unreachable a check-in is still blocked promptly, and the alert arrives exactly once when SNS is back', async () => {
    await stack.sns.pause();
    try {
      const started = Date.now();
      const res = await checkin('OUTAGE-1', { skewed: true });
      const elapsed = Date.now() - started;
      expect(res.status).toBe(403);
      expect(elapsed).toBeLessThan(2000);

      // Delivery is being tried and failing: the stream does not catch up, and nothing is written.
      await expect(stack.drainAlerts(1500)).rejects.toThrow(/did not catch up/);
      expect(alertLines('OUTAGE-1')).toEqual([]);

      // Check-ins of other devices keep flowing meanwhile.
      expect((await checkin('OUTAGE-2')).status).toBe(200);
    } finally {
      await stack.sns.resume();
    }
    await stack.drainAlerts();
    const lines = alertLines('OUTAGE-1');
    expect(lines).toHaveLength(1);
    expect(lines[0].message).toMatchObject({ type: 'DEVICE_BLOCKED', deviceId: 'OUTAGE-1' });
    // No duplicates of anything else either.
    const ids = alertLines().map((l) => l.message.alertId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
