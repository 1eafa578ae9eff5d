// The impact preview of packageValidation ALWAYS (API.md §3), over HTTP: PACKAGE_CHECKSUM_UNAVAILABLE counted from the
// recorded package outcomes; after saving, exactly those devices are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import type { LocalStack } from '../../local/stack.ts';
import { adminCall, newStack, newlyBlockedIds, refusedDevices, waitForPropagation, type DeviceCheckin } from '../support/preview.ts';

describe('previewing packageValidation ALWAYS', () => {
  let stack: LocalStack;
  const office = { type: 'SHA_256', value: 'a'.repeat(64) };
  const devices: DeviceCheckin[] = [
    { deviceId: 'PKG-MATCH', packages: [{ packageId: 'office', checksum: office }] },
    { deviceId: 'PKG-UNREGISTERED', packages: [{ packageId: 'office', checksum: office }, { packageId: 'side-loaded' }] },
    { deviceId: 'PKG-NO-CHECKSUM', packages: [{ packageId: 'fonts' }] },
    { deviceId: 'PKG-NONE' },
  ];

  beforeAll(async () => {
    stack = await newStack();
    expect((await adminCall(stack, 'PUT', '/admin/packages/office', { name: 'Office', checksum: office })).status).toBe(201);
    expect((await adminCall(stack, 'PUT', '/admin/packages/fonts', { name: 'Fonts', checksum: null })).status).toBe(201);
    await waitForPropagation();
    expect(await refusedDevices(stack, devices)).toEqual([]);
  });
  afterAll(async () => stack?.stop());

  it('counts PACKAGE_CHECKSUM_UNAVAILABLE from the recorded package outcomes, and the saved change refuses exactly those', async () => {
    const preview = await adminCall(stack, 'POST', '/admin/settings/preview', { packageValidation: 'ALWAYS' });
    expect(preview.status, preview.text).toBe(200);
    expect(preview.body.newlyBlocked).toEqual({
      count: 2,
      byViolation: { PACKAGE_CHECKSUM_UNAVAILABLE: 2 },
      devices: [
        { deviceId: 'PKG-NO-CHECKSUM', violations: ['PACKAGE_CHECKSUM_UNAVAILABLE'], lastCheckinAt: expect.any(String) },
        { deviceId: 'PKG-UNREGISTERED', violations: ['PACKAGE_CHECKSUM_UNAVAILABLE'], lastCheckinAt: expect.any(String) },
      ],
    });
    expect((await adminCall(stack, 'PATCH', '/admin/settings', { packageValidation: 'ALWAYS' })).status).toBe(200);
    await waitForPropagation();
    expect(await refusedDevices(stack, devices)).toEqual(newlyBlockedIds(preview));
  });
});
