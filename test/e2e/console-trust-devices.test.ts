// The admin console's Trust, Devices and Attempts pages in a real Chromium against the local stack on DynamoDB
// Local: uploading a device CA and push certificates (legacy and modern .p12, a wrong password answered with the
// API's message), devices filtered and paged, a device's decisions in words, an exemption granted (a 422 next to its
// field) and lifted, and unauthenticated attempts. Each test asserts what a person sees.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import type { LocalStack } from '../../local/stack.ts';
import { type ConsoleBrowser, descriptionOf, eventually, launchBrowser, saveScreenshot, signIn, textOf } from '../support/browser.ts';
import { CertificateFactory, type MadeCertificate } from '../support/certificates.ts';
import { call, checkInWithClockOff, type HttpResult } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';
import { OpensslWorkbench, pushSubject } from '../support/pkcs12.ts';

const P12_PASSWORD = 'console-p12-password';
const BLOCKED_DEVICES = Array.from({ length: 27 }, (_v, i) => `BLOCKED-${String(i + 1).padStart(2, '0')}`);

let stack: LocalStack;
let browser: ConsoleBrowser;
let factory: CertificateFactory;
let bench: OpensslWorkbench;
let root: MadeCertificate;
let notACa: MadeCertificate;
let legacyP12: string;
let modernP12: string;
// Each push certificate's own topic (com.apple.mgmt.External.<uuid>), so that the page's answer to each upload is told apart.
const LEGACY_UUID = randomUUID();
const MODERN_UUID = randomUUID();

beforeAll(async () => {
  const starting = Promise.all([startTestStack(), launchBrowser()]);
  factory = CertificateFactory.create();
  root = factory.makeRootCa({ cn: 'Console Device Root', keyType: 'ec256' });
  notACa = factory.makeDeviceCertificate(root, { cn: 'not-a-ca', keyType: 'ec256' });
  bench = OpensslWorkbench.create();
  const key = bench.makeKey('rsa2048');
  legacyP12 = bench.exportPkcs12({ certificate: bench.makeCertificate({ subject: pushSubject(LEGACY_UUID), key }), password: P12_PASSWORD, legacy: true });
  modernP12 = bench.exportPkcs12({ certificate: bench.makeCertificate({ subject: pushSubject(MODERN_UUID), key }), password: P12_PASSWORD });
  [stack, browser] = await starting;
  for (const deviceId of BLOCKED_DEVICES) await checkin(deviceId, -3600);
  await checkin('ACCEPTED-1', 0);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  factory?.cleanup();
  bench?.cleanup();
});

let counter = 0;
async function checkin(deviceId: string, skewSeconds: number): Promise<HttpResult> {
  counter += 1;
  return checkInWithClockOff(stack.httpUrl, `trust-${counter}`, deviceId, skewSeconds);
}

function admin(method: string, path: string, json?: unknown): Promise<HttpResult> {
  return call(`${stack.httpUrl}${path}`, { method, json, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
}

async function open(hash: string) {
  const page = await browser.newPage();
  await signIn(page, stack.httpUrl, TEST_ADMIN_TOKEN, hash);
  return page;
}

const p12File = (base64: string) => ({ name: 'push.p12', mimeType: 'application/x-pkcs12', buffer: Buffer.from(base64, 'base64') });

describe('Trust', () => {
  it('uploads a device CA, and shows the API’s message next to the form for a certificate that is not a CA', async () => {
    const page = await open('#/trust');
    const cas = page.getByRole('region', { name: 'Device CA certificates' });
    await cas.getByText('No device CA is configured').waitFor();

    await page.getByLabel('Device CA certificates (PEM)').fill(notACa.pem);
    await page.getByRole('button', { name: 'Replace device CAs' }).click();
    const refusal = await admin('PUT', '/admin/device-ca', { certificates: notACa.pem });
    expect(refusal.status).toBe(422);
    expect(await eventually(() => descriptionOf(page.getByLabel('Device CA certificates (PEM)')), (text) => text !== '')).toBe(refusal.body.error.message);

    await page.getByLabel('Device CA certificates (PEM)').fill(root.pem);
    await page.getByRole('button', { name: 'Replace device CAs' }).click();
    expect(await textOf(cas.getByRole('status'))).toBe('Device CAs replaced: 1 certificate.');
    const stored = (await admin('GET', '/admin/device-ca')).body.certificates;
    expect(await cas.locator('tbody tr td').first().innerText()).toBe(stored[0].subject);
    expect(await cas.locator('tbody tr td').nth(2).innerText()).toMatch(/^\d+ days left$/);
    expect(await descriptionOf(page.getByLabel('Device CA certificates (PEM)'))).toBe('');
    await page.close();
  });

  it('uploads a legacy and a modern .p12 with their password; a wrong password shows the API’s message', async () => {
    const page = await open('#/trust');
    const push = page.getByRole('region', { name: 'Push certificate' });
    await push.getByText('No push certificate is stored').waitFor();

    await page.getByLabel('Push certificate (.p12)').setInputFiles(p12File(modernP12));
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Upload push certificate' }).click();
    const wrong = await admin('PUT', '/admin/push-certificate', { p12: modernP12, password: 'not the password' });
    expect(wrong.body.error.code).toBe('INVALID_P12');
    expect(await eventually(() => descriptionOf(page.getByLabel('Push certificate (.p12)')), (text) => text !== '')).toBe(wrong.body.error.message);
    expect(await push.getByText('No push certificate is stored').isVisible()).toBe(true);

    for (const [p12, uuid] of [
      [legacyP12, LEGACY_UUID],
      [modernP12, MODERN_UUID],
    ]) {
      await page.getByLabel('Push certificate (.p12)').setInputFiles(p12File(p12));
      await page.getByLabel('Password').fill(P12_PASSWORD);
      await page.getByRole('button', { name: 'Upload push certificate' }).click();
      // This upload's answer, not the one before it (the second upload follows the first's "uploaded").
      await push.locator('.done').filter({ hasText: uuid }).waitFor();
      const stored = (await admin('GET', '/admin/push-certificate')).body;
      expect(await textOf(push.locator('.done'))).toBe(`Push certificate for ${stored.topic} uploaded.`);
      expect(await textOf(push.locator('dd').first())).toBe(stored.topic);
      expect(await textOf(push.locator('.days'))).toBe(`${stored.daysRemaining} days left`);
      await page.getByLabel('Password').fill('');
    }
    await saveScreenshot(page, 'trust');
    await page.close();
  });
});

describe('Devices', () => {
  it('lists blocked devices first with their violations in words, pages them, and filters by status', async () => {
    const page = await open('#/devices');
    const rows = page.locator('tbody tr');
    await rows.first().waitFor();
    expect(await page.getByLabel('Status').locator('option:checked').innerText()).toBe('Blocked');
    const firstPage = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)));
    expect(firstPage).toHaveLength(25);
    for (const row of firstPage) {
      expect(row[0]).toMatch(/^BLOCKED-\d\d$/);
      expect(row.slice(1)).toEqual(['Blocked', 'Clock too far off']);
    }
    await saveScreenshot(page, 'devices');

    await page.getByRole('button', { name: 'Next page' }).click();
    const secondPage = await eventually(() => page.locator('tbody tr td:first-child').allInnerTexts(), (ids) => ids.length === 2);
    expect([...firstPage.map((row) => row[0]), ...secondPage].sort()).toEqual(BLOCKED_DEVICES);
    await page.getByRole('button', { name: 'First page' }).click();
    await eventually(() => rows.count(), (n) => n === 25);

    await page.getByLabel('Status').selectOption({ label: 'Accepted' });
    expect(await eventually(() => page.locator('tbody tr td:first-child').allInnerTexts(), (ids) => ids.length === 1)).toEqual(['ACCEPTED-1']);
    expect(await page.locator('tbody tr td').nth(2).innerText()).toBe('none');
    await page.close();
  });

  it('shows a device’s decisions with each violation in words and the API’s sentence', async () => {
    const page = await open('#/devices');
    const link = page.locator('tbody tr td a').first();
    const deviceId = await textOf(link);
    await link.click();
    // The list's own heading ("Device list") shows until the page follows the link.
    await page.getByRole('heading', { level: 2, name: `Device ${deviceId}` }).waitFor();
    await page.waitForURL(`${stack.httpUrl}/console/#/devices/${deviceId}`);
    expect(page.url()).toBe(`${stack.httpUrl}/console/#/devices/${deviceId}`);
    expect(await textOf(page.getByRole('heading', { level: 2 }).first())).toBe(`Device ${deviceId}`);
    const decisions = page.getByRole('region', { name: 'Decisions' });
    const recorded = (await admin('GET', `/admin/devices/${deviceId}/decisions`)).body.items;
    expect(await textOf(decisions.locator('.decision .badge'))).toBe('Blocked');
    expect(await decisions.locator('.violations li').allInnerTexts()).toEqual([`Clock too far off: ${recorded[0].violations[0].message} CLOCK_SKEW_EXCEEDED`]);
    expect(await textOf(decisions.locator('.decision .hint'))).toBe(`Check-in ${recorded[0].checkinId} · settings version ${recorded[0].settingsVersion}`);
    await saveScreenshot(page, 'device');
    await page.close();
  });

  it('grants an exemption (a 422 shown next to its field first), which the next check-in honours, then lifts it', async () => {
    const page = await open('#/devices/BLOCKED-02');
    const exemption = page.getByRole('region', { name: 'Exemption' });
    await exemption.getByText('This device has no exemption.').waitFor();
    // The device's current violations are offered ticked.
    await eventually(() => page.getByLabel('Clock too far off').isChecked(), (checked) => checked);
    expect(await page.getByLabel("Did not verify the server's certificate").isChecked()).toBe(false);

    await page.getByRole('button', { name: 'Grant exemption' }).click();
    expect(await eventually(() => descriptionOf(page.getByLabel('Reason')), (text) => text !== '')).toMatch(/reason/i);
    expect(await exemption.getByText('This device has no exemption.').isVisible()).toBe(true);

    await page.getByLabel('Reason').fill('Clock battery replaced on Monday');
    await page.getByRole('button', { name: 'Grant exemption' }).click();
    expect(await textOf(exemption.getByText(/^Exempt from/))).toMatch(/^Exempt from Clock too far off until .+\.$/);
    expect(await textOf(exemption.getByText(/^Reason:/))).toMatch(/^Reason: Clock battery replaced on Monday — granted by local-admin on /);
    const stored = (await admin('GET', '/admin/exemptions/BLOCKED-02')).body;
    expect(stored).toMatchObject({ deviceId: 'BLOCKED-02', violations: ['CLOCK_SKEW_EXCEEDED'], reason: 'Clock battery replaced on Monday', createdBy: 'local-admin' });
    expect(new Date(stored.until).getTime() - Date.now()).toBeGreaterThan(6 * 86_400_000);
    // The exemption reaches check-ins within 5 s.
    const accepted = await eventually(() => checkin('BLOCKED-02', -3600), (res) => res.status === 200, 8000);
    expect(accepted.body.exempted.map((v: { code: string }) => v.code)).toEqual(['CLOCK_SKEW_EXCEEDED']);

    await page.getByRole('button', { name: 'Lift exemption' }).click();
    await exemption.getByText('This device has no exemption.').waitFor();
    expect((await admin('GET', '/admin/exemptions/BLOCKED-02')).status).toBe(404);
    await page.close();
  });
});

describe('Attempts', () => {
  it('lists unauthenticated check-ins with why they were refused', async () => {
    // Certificate-based authentication on (a device CA is stored by the Trust test above, or here).
    if ((await admin('GET', '/admin/device-ca')).body.certificates.length === 0) await admin('PUT', '/admin/device-ca', { certificates: root.pem });
    expect((await admin('PATCH', '/admin/settings', { certificateBasedAuthentication: true })).status).toBe(200);
    try {
      const refused = await eventually(() => checkin('IMPOSTOR-1', 0), (res) => res.status === 403, 8000);
      expect(refused.body.authenticated).toBe(false);
      const page = await open('#/attempts');
      const row = page.locator('tbody tr').first();
      expect(await textOf(row.locator('td').nth(1))).toBe('IMPOSTOR-1');
      expect(await row.locator('td').nth(2).innerText()).toBe('No device certificate');
      expect(await row.locator('td').nth(3).innerText()).toBe('none');
      await saveScreenshot(page, 'attempts');
      await page.close();
    } finally {
      await admin('PATCH', '/admin/settings', { certificateBasedAuthentication: false });
    }
  });
});
