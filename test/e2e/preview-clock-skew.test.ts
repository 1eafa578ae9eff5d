// The impact preview over HTTP against DynamoDB Local (API.md §3): devices skewed 50 to 400 s, a shorter maximum
// clock skew previewed (an exempted device spared), the same answer by PATCH ?dryRun=true and to an auditor, and after
// saving, the same check-ins refused for exactly the devices the preview named.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import type { LocalStack } from '../../local/stack.ts';
import { AUDITOR_TOKEN, adminCall, newStack, newlyBlockedIds, refusedDevices, settingsState, waitForPropagation, type DeviceCheckin } from '../support/preview.ts';

const withoutSince = ({ since: _since, ...rest }: Record<string, unknown>) => rest;

describe('previewing a shorter maximum clock skew', () => {
  let stack: LocalStack;
  const devices: DeviceCheckin[] = [
    { deviceId: 'SKEW-050', skewSeconds: 50 },
    { deviceId: 'SKEW-200', skewSeconds: -200 },
    { deviceId: 'SKEW-250', skewSeconds: 250 },
    { deviceId: 'SKEW-400', skewSeconds: 400 },
    { deviceId: 'EXEMPT-200', skewSeconds: 200 },
  ];

  beforeAll(async () => {
    stack = await newStack();
    const until = new Date(Date.now() + 86_400_000).toISOString();
    const exempt = await adminCall(stack, 'PUT', '/admin/exemptions/EXEMPT-200', { violations: ['CLOCK_SKEW_EXCEEDED'], until, reason: 'Clock battery replaced on Friday' });
    expect(exempt.status, exempt.text).toBe(201);
    expect(await refusedDevices(stack, devices)).toEqual(['SKEW-400']);
  });
  afterAll(async () => stack?.stop());

  it('lists the devices between 100 and 300 s and counts them, sparing the exempted one, and changes nothing', async () => {
    const before = await settingsState(stack);
    const preview = await adminCall(stack, 'POST', '/admin/settings/preview', { maxClockSkewSeconds: 100 });
    expect(preview.status, preview.text).toBe(200);
    expect(preview.body).toEqual({
      devices: 5,
      since: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      current: { blocked: 1 },
      proposed: { blocked: 3 },
      newlyBlocked: {
        count: 2,
        byViolation: { CLOCK_SKEW_EXCEEDED: 2 },
        devices: [
          { deviceId: 'SKEW-200', violations: ['CLOCK_SKEW_EXCEEDED'], lastCheckinAt: expect.any(String) },
          { deviceId: 'SKEW-250', violations: ['CLOCK_SKEW_EXCEEDED'], lastCheckinAt: expect.any(String) },
        ],
      },
      newlyAccepted: { count: 0, byViolation: {}, devices: [] },
    });
    // `since` is 30 days back by default.
    expect(Math.abs(Date.parse(preview.body.since) - (Date.now() - 30 * 86_400_000))).toBeLessThan(60_000);
    expect(await settingsState(stack)).toEqual(before);
  });

  it('answers the same to PATCH ?dryRun=true and to an auditor, and loosening previews devices accepted again', async () => {
    const post = await adminCall(stack, 'POST', '/admin/settings/preview', { maxClockSkewSeconds: 100 });
    const dryRun = await adminCall(stack, 'PATCH', '/admin/settings?dryRun=true', { maxClockSkewSeconds: 100 });
    const auditor = await adminCall(stack, 'POST', '/admin/settings/preview', { maxClockSkewSeconds: 100 }, {}, AUDITOR_TOKEN);
    const auditorDryRun = await adminCall(stack, 'PATCH', '/admin/settings?dryRun=true', { maxClockSkewSeconds: 100 }, {}, AUDITOR_TOKEN);
    for (const other of [dryRun, auditor, auditorDryRun]) {
      expect(other.status, other.text).toBe(200);
      expect(withoutSince(other.body)).toEqual(withoutSince(post.body));
    }
    const loosened = await adminCall(stack, 'POST', '/admin/settings/preview', { maxClockSkewSeconds: 600 });
    expect(loosened.body.newlyAccepted).toEqual({
      count: 1,
      byViolation: { CLOCK_SKEW_EXCEEDED: 1 },
      devices: [{ deviceId: 'SKEW-400', violations: ['CLOCK_SKEW_EXCEEDED'], lastCheckinAt: expect.any(String) }],
    });
    // An auditor previews but cannot save.
    const save = await adminCall(stack, 'PATCH', '/admin/settings', { maxClockSkewSeconds: 100 }, {}, AUDITOR_TOKEN);
    expect(save.status).toBe(403);
  });

  it('after the change is saved, exactly the devices it named are refused as well as those refused before', async () => {
    const preview = await adminCall(stack, 'POST', '/admin/settings/preview', { maxClockSkewSeconds: 100 });
    const saved = await adminCall(stack, 'PATCH', '/admin/settings', { maxClockSkewSeconds: 100 });
    expect(saved.status, saved.text).toBe(200);
    await waitForPropagation();
    const refused = await refusedDevices(stack, devices);
    expect(refused.filter((id) => id !== 'SKEW-400')).toEqual(newlyBlockedIds(preview));
  });
});
