// The impact preview of turning certificate-based authentication on (API.md §3), over HTTP: identities are observed
// with the setting off, so the preview names the devices without a certificate or with an untrusted one; after saving,
// exactly those are refused, as unauthenticated attempts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import type { LocalStack } from '../../local/stack.ts';
import { CertificateFactory } from '../support/certificates.ts';
import { adminCall, newStack, newlyBlockedIds, refusedDevices, waitForPropagation, type DeviceCheckin } from '../support/preview.ts';

describe('previewing certificate-based authentication', () => {
  let stack: LocalStack;
  let factory: CertificateFactory;
  let devices: DeviceCheckin[];

  beforeAll(async () => {
    factory = CertificateFactory.create();
    const root = factory.makeRootCa({ cn: 'Preview Root', keyType: 'ec256' });
    const stranger = factory.makeRootCa({ cn: 'Someone Else', keyType: 'ec256' });
    devices = [
      { deviceId: 'CERT-OK', certificate: factory.makeDeviceCertificate(root, { cn: 'CERT-OK', keyType: 'ec256' }) },
      { deviceId: 'NO-CERT' },
      { deviceId: 'OTHER-CA', certificate: factory.makeDeviceCertificate(stranger, { cn: 'OTHER-CA', keyType: 'ec256' }) },
    ];
    stack = await newStack();
    const ca = await adminCall(stack, 'PUT', '/admin/device-ca', { certificates: root.pem });
    expect(ca.status, ca.text).toBe(200);
    await waitForPropagation();
    // With the setting off, every device is accepted; what each presented is observed all the same.
    expect(await refusedDevices(stack, devices)).toEqual([]);
  });
  afterAll(async () => {
    await stack?.stop();
    factory?.cleanup();
  });

  it('names the devices without a certificate or with an untrusted one, and not the one with a valid certificate', async () => {
    const preview = await adminCall(stack, 'POST', '/admin/settings/preview', { certificateBasedAuthentication: true });
    expect(preview.status, preview.text).toBe(200);
    expect(preview.body).toMatchObject({ devices: 3, current: { blocked: 0 }, proposed: { blocked: 2 } });
    expect(preview.body.newlyBlocked).toEqual({
      count: 2,
      byViolation: { CLIENT_CERT_MISSING: 1, CLIENT_CERT_UNTRUSTED: 1 },
      devices: [
        { deviceId: 'NO-CERT', violations: ['CLIENT_CERT_MISSING'], lastCheckinAt: expect.any(String) },
        { deviceId: 'OTHER-CA', violations: ['CLIENT_CERT_UNTRUSTED'], lastCheckinAt: expect.any(String) },
      ],
    });

    const saved = await adminCall(stack, 'PATCH', '/admin/settings', { certificateBasedAuthentication: true });
    expect(saved.status, saved.text).toBe(200);
    await waitForPropagation();
    expect(await refusedDevices(stack, devices)).toEqual(newlyBlockedIds(preview));
    // Refused as unauthenticated attempts, not as blocked devices.
    const attempts = await adminCall(stack, 'GET', '/admin/unauthenticated-attempts');
    expect([...new Set((attempts.body.items as { deviceId: string }[]).map((a) => a.deviceId))].sort()).toEqual(newlyBlockedIds(preview));
  });
});
