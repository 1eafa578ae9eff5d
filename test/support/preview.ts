// Helpers of the impact-preview end-to-end tests (test/e2e/preview-*.test.ts): one stack per file (the handlers read
// their environment at import, as in Lambda), check-ins of named devices, and what a preview must leave unchanged.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { LocalStack } from '../../local/stack.ts';
import { type MadeCertificate, signBody } from './certificates.ts';
import { call, type HttpResult } from './http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from './local-stack.ts';

export const AUDITOR_TOKEN = 'auditor-token-for-the-preview-test';
/** The policy cache's age limit (API.md: changes reach check-ins within 5 s), and a margin. */
export const PROPAGATION_MS = 5_300;

export const waitForPropagation = () => new Promise((resolve) => setTimeout(resolve, PROPAGATION_MS));

export async function newStack(): Promise<LocalStack> {
  return startTestStack({ adminTokens: `auditor1:auditor:${createHash('sha256').update(AUDITOR_TOKEN).digest('hex')}` });
}

export function adminCall(stack: LocalStack, method: string, path: string, json?: unknown, headers: Record<string, string> = {}, token = TEST_ADMIN_TOKEN): Promise<HttpResult> {
  return call(`${stack.httpUrl}${path}`, { method, json, headers: { authorization: `Bearer ${token}`, ...headers } });
}

export interface DeviceCheckin {
  deviceId: string;
  skewSeconds?: number;
  packages?: { packageId: string; checksum?: { type: string; value: string } }[];
  /** Sign the body with this certificate's key (X-Device-Certificate and X-Device-Signature). */
  certificate?: MadeCertificate;
}

let counter = 0;
/** Sends the device's check-in with a new checkinId (the same content each time it is called). */
export async function checkIn(stack: LocalStack, device: DeviceCheckin): Promise<HttpResult> {
  counter += 1;
  const body = JSON.stringify({
    checkinId: `pv-${Date.now()}-${counter}`,
    deviceId: device.deviceId,
    clientTime: new Date(Date.now() + (device.skewSeconds ?? 0) * 1000).toISOString(),
    serverCertificateVerified: true,
    ...(device.packages ? { packages: device.packages } : {}),
  });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (device.certificate) {
    headers['x-device-certificate'] = device.certificate.base64;
    headers['x-device-signature'] = signBody(Buffer.from(body), device.certificate).toString('base64');
  }
  return call(`${stack.httpUrl}/checkin`, { method: 'POST', body, headers });
}

/** Checks every device in once more; the ids of those answered 403, sorted. */
export async function refusedDevices(stack: LocalStack, devices: DeviceCheckin[]): Promise<string[]> {
  const answers = await Promise.all(devices.map(async (d) => [d.deviceId, (await checkIn(stack, d)).status] as const));
  for (const [deviceId, status] of answers) expect([200, 403], `${deviceId} answered ${status}`).toContain(status);
  return answers.filter(([, status]) => status === 403).map(([deviceId]) => deviceId).sort();
}

/** The settings' version, ETag and history length: what a preview must leave as it found them. */
export async function settingsState(stack: LocalStack) {
  const settings = await adminCall(stack, 'GET', '/admin/settings');
  const history = await adminCall(stack, 'GET', '/admin/settings/history');
  return { version: settings.body.version as number, etag: settings.headers.etag, history: history.body.items.length as number };
}

export const newlyBlockedIds = (preview: HttpResult) => (preview.body.newlyBlocked.devices as { deviceId: string }[]).map((d) => d.deviceId);
