// The admin console in a real Chromium against the local stack on DynamoDB Local: signing in, the Security pane
// (read, Edit, impact preview, Save, 422 next to its control, 412 with the other writer's change, Cancel), the
// auditor's read-only console, the store-unreachable message, a token that stops working, keyboard use, and the
// console's headers (strict CSP). Each test asserts what a person sees.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import type { LocalStack } from '../../local/stack.ts';
import { type ConsoleBrowser, descriptionOf, eventually, launchBrowser, PHONE, replacing, saveScreenshot, signIn, textOf } from '../support/browser.ts';
import { call, checkInWithClockOff, type HttpResult } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

const AUDITOR_TOKEN = 'auditor-token-for-the-console-test';
const OTHER_ADMIN_TOKEN = 'other-admin-token-for-the-console-test';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let stack: LocalStack;
let browser: ConsoleBrowser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startTestStack({ adminTokens: `auditor1:auditor:${sha256(AUDITOR_TOKEN)},other-admin:admin:${sha256(OTHER_ADMIN_TOKEN)}` }),
    launchBrowser(),
  ]);
  // Three devices whose clocks are 2 minutes off (accepted under 300 s) and one that is exact.
  for (const deviceId of ['SKEW-A', 'SKEW-B', 'SKEW-C']) await checkin(deviceId, -120);
  await checkin('EXACT-1', 0);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

let counter = 0;
async function checkin(deviceId: string, skewSeconds: number): Promise<HttpResult> {
  counter += 1;
  return checkInWithClockOff(stack.httpUrl, `console-${counter}`, deviceId, skewSeconds);
}

function admin(method: string, path: string, json?: unknown, headers: Record<string, string> = {}, token = TEST_ADMIN_TOKEN): Promise<HttpResult> {
  return call(`${stack.httpUrl}${path}`, { method, json, headers: { authorization: `Bearer ${token}`, ...headers } });
}

const settingsNow = async () => (await admin('GET', '/admin/settings')).body;

async function openSecurity(token = TEST_ADMIN_TOKEN) {
  const page = await browser.newPage();
  await signIn(page, stack.httpUrl, token, '#/security');
  await page.getByText(/^Version \d+/).waitFor();
  return page;
}

describe('the console is served as static files with a strict Content-Security-Policy', () => {
  it('GET /console/ is the page, its script and style sheet come from the same origin, and nothing inline', async () => {
    const [html, script, style, missing, bare] = await Promise.all(
      ['/console/', '/console/app.js', '/console/app.css', '/console/nothing.js', '/console'].map((path) =>
        fetch(`${stack.httpUrl}${path}`, { redirect: 'manual' }).then(async (r) => ({ status: r.status, headers: Object.fromEntries(r.headers), text: await r.text() })),
      ),
    );
    const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    expect([html.status, script.status, style.status, missing.status, bare.status]).toEqual([200, 200, 200, 404, 301]);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
    for (const answer of [html, script, style]) {
      expect(answer.headers['content-security-policy']).toBe(csp);
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
    }
    expect(bare.headers.location).toBe('/console/');
    // No inline script, no external resource: every src/href is a file of the console itself.
    expect(html.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect([...html.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).sort()).toEqual(['app.css', 'app.js']);
    expect(JSON.parse(missing.text).error.code).toBe('NOT_FOUND');
  });
});

describe('signing in', () => {
  it('a wrong token is refused with a clear message; the right one opens the console, and the token stays in sessionStorage only', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(`${stack.httpUrl}/console/`);
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The message appears when the refusal arrives.
    expect(await eventually(() => descriptionOf(page.getByLabel('Admin token')), (text) => text !== '')).toBe('This token was not accepted (The bearer token is not valid). Check it and try again.');

    await page.getByLabel('Admin token').fill(TEST_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Signed in once Sign out shows; until then the heading is still the sign-in form's.
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(await textOf(page.getByRole('heading', { level: 1 }))).toBe('Overview');
    expect(await textOf(page.locator('header .who span'))).toBe('local-admin (admin)');
    // The local runner registered its HTTPS certificate as the server certificate.
    expect(await textOf(page.getByRole('region', { name: 'Certificates' }).locator('li'))).toMatch(/^Server .+: \d+ days left$/);
    expect(await textOf(page.getByRole('region', { name: 'Blocked now' }).locator('.big-number'))).toBe('No device is blocked.');
    await saveScreenshot(page, 'overview');

    const storage = await page.evaluate(() => ({ session: { ...sessionStorage }, local: { ...localStorage }, cookies: document.cookie, url: location.href }));
    expect(storage).toEqual({ session: { 'tollgate.adminToken': TEST_ADMIN_TOKEN }, local: {}, cookies: '', url: `${stack.httpUrl}/console/` });
    expect(violations).toEqual([]);
    await page.close();
  });

  it('works by keyboard alone, with a visible focus ring', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.httpUrl}/console/#/security`);
    await page.getByLabel('Admin token').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('admin-token');
    await page.keyboard.type(TEST_ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Edit' }).waitFor();
    // Tab from the page's top to the Edit button, then Enter: the pane becomes editable.
    await page.getByRole('button', { name: 'Edit' }).focus();
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle + ' ' + getComputedStyle(document.activeElement!).outlineWidth);
    expect(outline).toBe('solid 3px');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Save' }).waitFor();
    expect(await page.getByLabel('Maximum clock skew').isEditable()).toBe(true);
    await page.getByRole('button', { name: 'Cancel' }).press('Enter');
    await page.getByRole('button', { name: 'Edit' }).waitFor();
    expect(await page.getByLabel('Maximum clock skew').isEditable()).toBe(false);
    await page.close();
  });
});

describe('the Security pane', () => {
  it('shows the settings with the labels of the pane, read-only until Edit', async () => {
    const page = await openSecurity();
    const { version } = await settingsNow();
    expect(await textOf(page.getByText(/^Version \d+/))).toMatch(new RegExp(`^Version ${version}`));
    const seen = {
      certificateBasedAuthentication: await page.getByLabel('Enable certificate-based authentication').isChecked(),
      pushNotifications: await page.getByLabel('Enable push notifications').isChecked(),
      ssl: await page.getByLabel('SSL certificate verification').locator('option:checked').innerText(),
      packages: await page.getByLabel('Package validation').locator('option:checked').innerText(),
      skew: await page.getByLabel('Maximum clock skew').inputValue(),
      imaging: await page.getByLabel('Require login for imaging information').isChecked(),
      mode: await page.getByLabel('Mode').locator('option:checked').innerText(),
      alerts: await page.getByLabel('Certificate expiry alerts').inputValue(),
    };
    expect(seen).toEqual({
      certificateBasedAuthentication: false,
      pushNotifications: false,
      ssl: 'Always except during enrollment',
      packages: 'When a checksum is present',
      skew: '300',
      imaging: true,
      mode: 'Enforce',
      alerts: '60, 30, 14, 7, 1',
    });
    expect(await page.getByLabel('Maximum clock skew').isEditable()).toBe(false);
    expect(await page.getByLabel('SSL certificate verification').locator('option').allInnerTexts()).toEqual(['Always', 'Always except during enrollment', 'Never']);
    expect(await page.getByLabel('Package validation').locator('option').allInnerTexts()).toEqual(['Always', 'When a checksum is present', 'Never']);
    expect(await page.getByLabel('Mode').locator('option').allInnerTexts()).toEqual(['Enforce', 'Monitor']);
    await page.close();
  });

  it('Edit → a smaller maximum clock skew → the preview names the devices it would block → Save → the version goes up and History shows it', async () => {
    const before = await settingsNow();
    const page = await openSecurity();
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Maximum clock skew').fill('60');
    const impact = page.getByRole('region', { name: 'Impact of this change' });
    expect(await textOf(impact.getByText(/^Would block/))).toBe('Would block 3 more devices');
    expect(await impact.locator('.by-violation li').allInnerTexts()).toEqual(['Clock too far off: 3']);
    expect(await impact.locator('.device-list li').allInnerTexts()).toEqual([
      'SKEW-A — Clock too far off',
      'SKEW-B — Clock too far off',
      'SKEW-C — Clock too far off',
    ]);
    await saveScreenshot(page, 'security-editing');

    await page.getByRole('button', { name: 'Save' }).click();
    expect(await textOf(page.getByRole('status').filter({ hasText: 'Saved' }))).toBe(`Saved. The settings are now at version ${before.version + 1}.`);
    expect(await textOf(page.getByText(/^Version \d+/))).toMatch(new RegExp(`^Version ${before.version + 1} · last changed by local-admin`));
    expect(await page.getByLabel('Maximum clock skew').inputValue()).toBe('60');
    expect((await settingsNow()).settings.maxClockSkewSeconds).toBe(60);

    await page.getByRole('link', { name: 'History' }).click();
    const firstRow = page.locator('tbody tr').first();
    expect(await textOf(firstRow.locator('td').nth(1))).toBe('local-admin');
    expect(await textOf(firstRow.locator('td').nth(2))).toBe('Maximum clock skew: 300 → 60');
    expect(await textOf(firstRow.locator('td').nth(3))).toBe(String(before.version + 1));
    await saveScreenshot(page, 'history');
    await page.close();
  });

  it('shows a 422 rule next to the control it concerns, and saves nothing', async () => {
    const before = await settingsNow();
    const page = await openSecurity();
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Enable push notifications').check();
    const push = page.getByLabel('Enable push notifications');
    // The preview validates as PATCH does; Save says the same where the preview is not available.
    await page.getByRole('button', { name: 'Save' }).click();
    const message = await eventually(() => descriptionOf(push), (text) => text !== '');
    expect(message).toMatch(/push certificate/i);
    expect(await push.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Maximum clock skew').getAttribute('aria-invalid')).toBeNull();
    expect(await settingsNow()).toEqual(before);
    await page.close();
  });

  it('says what the console cannot read next to the field, before anything is sent', async () => {
    const page = await openSecurity();
    const skew = page.getByLabel('Maximum clock skew');
    await page.getByRole('button', { name: 'Edit' }).click();
    await skew.fill('ten');
    await page.getByRole('button', { name: 'Save' }).click();
    // Until the message shows, the field is described by its unit alone.
    const unreadable = 'seconds Enter the maximum clock skew as a whole number of seconds, from 1 to 86400.';
    expect(await eventually(() => descriptionOf(skew), (text) => text !== 'seconds')).toBe(unreadable);
    // A number the console can read goes to the server's preview, whose 422 rule replaces the console's message.
    await skew.fill('0');
    const refusal = await admin('POST', '/admin/settings/preview', { maxClockSkewSeconds: 0 }, { 'content-type': 'application/merge-patch+json' });
    expect(refusal.status).toBe(422);
    const rule = refusal.body.error.details.find((detail: { field: string }) => detail.field === 'maxClockSkewSeconds').message;
    expect(rule).toMatch(/86400/);
    expect(await eventually(() => descriptionOf(skew), (text) => text !== unreadable)).toBe(`seconds ${rule}`);
    await page.close();
  });

  it('a 412 says that someone else changed the settings, shows their change, keeps the edit, and Save then works', async () => {
    const page = await openSecurity();
    const before = await settingsNow();
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Mode').selectOption({ label: 'Monitor' });
    // Another admin saves first.
    const theirs = await admin('PATCH', '/admin/settings', { maxClockSkewSeconds: 120 }, { 'if-match': `"${before.version}"` }, OTHER_ADMIN_TOKEN);
    expect(theirs.status).toBe(200);

    await page.getByRole('button', { name: 'Save' }).click();
    const conflict = page.getByRole('alert').filter({ hasText: 'Someone else changed the settings' });
    expect(await textOf(conflict.locator('li'))).toMatch(new RegExp(`^other-admin at .+ \\(version ${before.version + 1}\\): Maximum clock skew from 60 to 120$`));
    expect(await page.getByLabel('Mode').locator('option:checked').innerText()).toBe('Monitor');
    expect(await page.getByLabel('Maximum clock skew').inputValue()).toBe('120');
    expect((await settingsNow()).settings.mode).toBe('ENFORCE');

    await page.getByRole('button', { name: 'Save' }).click();
    expect(await textOf(page.getByRole('status').filter({ hasText: 'Saved' }))).toBe(`Saved. The settings are now at version ${before.version + 2}.`);
    expect((await settingsNow()).settings).toMatchObject({ mode: 'MONITOR', maxClockSkewSeconds: 120 });
    await admin('PATCH', '/admin/settings', { mode: 'ENFORCE' });
    await page.close();
  });

  it('Cancel discards the edit', async () => {
    const before = await settingsNow();
    const page = await openSecurity();
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Maximum clock skew').fill('999');
    await page.getByRole('button', { name: 'Cancel' }).click();
    // The pane is read-only again (Edit shows) in the same update that puts the stored value back.
    await page.getByRole('button', { name: 'Edit' }).waitFor();
    expect(await page.getByLabel('Maximum clock skew').inputValue()).toBe(String(before.settings.maxClockSkewSeconds));
    expect(await settingsNow()).toEqual(before);
    await page.close();
  });

  it('without an impact preview on the server, says so and still saves', async () => {
    const before = await settingsNow();
    const page = await openSecurity();
    await page.route('**/admin/settings/preview', (route) =>
      route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ error: { code: 'NOT_FOUND', message: 'No route', requestId: 'r' } }) }),
    );
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Certificate expiry alerts').fill('30, 7');
    const impact = page.getByRole('region', { name: 'Impact of this change' });
    expect(await eventually(() => textOf(impact.locator('p')), (text) => !text.startsWith('Change') && !text.startsWith('Working'))).toBe(
      'The impact preview is not available on this server; the change can still be saved.',
    );
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    expect((await settingsNow()).settings.certificateExpiryAlertDays).toEqual([30, 7]);
    expect((await settingsNow()).version).toBe(before.version + 1);
    await page.close();
  });
});

describe('failures', () => {
  it('a lost connection or a 503 says "Tollgate cannot reach its store; nothing was changed" and keeps the form as typed', async () => {
    const before = await settingsNow();
    const page = await openSecurity();
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Maximum clock skew').fill('450');
    await page.getByLabel('Require login for imaging information').uncheck();
    await page.route('**/admin/settings', (route) => (route.request().method() === 'PATCH' ? route.abort('connectionreset') : route.fallback()));
    await page.getByRole('button', { name: 'Save' }).click();
    const form = page.getByRole('form', { name: 'Computer Management › Security' });
    expect(await textOf(form.getByRole('alert'))).toBe('Tollgate cannot reach its store; nothing was changed');
    expect(await page.getByLabel('Maximum clock skew').inputValue()).toBe('450');
    expect(await page.getByLabel('Require login for imaging information').isChecked()).toBe(false);

    await page.unroute('**/admin/settings');
    await page.route('**/admin/settings', (route) =>
      route.request().method() === 'PATCH'
        ? route.fulfill({ status: 503, headers: { 'retry-after': '1' }, contentType: 'application/json', body: JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'The store is unavailable', requestId: 'r' } }) })
        : route.fallback(),
    );
    await page.getByLabel('Maximum clock skew').fill('451');
    // The first failure's message stays until Save is pressed again: wait for it to go, so that the one read is the 503's.
    await replacing(form.getByRole('alert'), () => page.getByRole('button', { name: 'Save' }).click());
    expect(await textOf(form.getByRole('alert'))).toBe('Tollgate cannot reach its store; nothing was changed');
    expect(await page.getByLabel('Maximum clock skew').inputValue()).toBe('451');
    expect(await page.getByRole('button', { name: 'Save' }).isVisible()).toBe(true);
    expect(await settingsNow()).toEqual(before);
    await page.close();
  });

  it('a token that stops working goes back to sign-in, and signing in again returns to the same page', async () => {
    const page = await browser.newPage();
    await signIn(page, stack.httpUrl, TEST_ADMIN_TOKEN, '#/history');
    // The token is no longer accepted (as when ADMIN_TOKENS no longer lists it).
    await page.evaluate(() => sessionStorage.setItem('tollgate.adminToken', 'a-token-that-was-removed'));
    await page.getByRole('link', { name: 'Attempts' }).click();
    expect(await textOf(page.getByRole('status').filter({ hasText: 'session has ended' }))).toBe(
      'Your session has ended: the token is no longer accepted. Sign in again to go on where you were.',
    );
    expect(page.url()).toBe(`${stack.httpUrl}/console/#/attempts`);
    expect(await page.evaluate(() => sessionStorage.getItem('tollgate.adminToken'))).toBeNull();
    await page.getByLabel('Admin token').fill(TEST_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(await textOf(page.getByRole('heading', { level: 1 }))).toBe('Attempts');
    await page.close();
  });
});

describe('an auditor', () => {
  it('gets a read-only console: settings shown, no Edit, no upload, no exemption controls', async () => {
    const page = await browser.newPage();
    await signIn(page, stack.httpUrl, AUDITOR_TOKEN, '#/security');
    expect(await textOf(page.locator('header .who span'))).toBe('auditor1 (auditor)');
    expect(await textOf(page.getByText(/^Read-only/))).toBe('Read-only: you are signed in as an auditor, so nothing here can be changed.');
    await page.getByLabel('Maximum clock skew').waitFor();
    expect(await page.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    expect(await page.getByLabel('Maximum clock skew').isEditable()).toBe(false);

    await page.getByRole('link', { name: 'Trust' }).click();
    await page.getByRole('heading', { name: 'Push certificate' }).waitFor();
    // Every section has loaded (a stored certificate or package would bring its Remove button).
    expect(await eventually(() => page.getByRole('status').filter({ hasText: /^Loading / }).count(), (loading) => loading === 0)).toBe(0);
    expect(await page.getByRole('button').allInnerTexts()).toEqual(['Sign out']);

    await page.goto(`${stack.httpUrl}/console/#/devices/SKEW-A`);
    await page.getByRole('heading', { name: 'Decisions' }).waitFor();
    await page.getByText(/has no exemption/).waitFor();
    expect(await page.getByRole('button', { name: /exemption/i }).count()).toBe(0);
    await page.close();
  });
});

describe('at 390×844', () => {
  it('the Security pane and Devices fit the width (no sideways scrolling of the page)', async () => {
    const page = await browser.newPage(PHONE);
    await signIn(page, stack.httpUrl, TEST_ADMIN_TOKEN, '#/security');
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Maximum clock skew').fill('30');
    await page.getByRole('region', { name: 'Impact of this change' }).getByText(/^Would block/).waitFor();
    const widths = async () => page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect((await widths()).scroll).toBeLessThanOrEqual((await widths()).client);
    await saveScreenshot(page, 'security-editing-phone');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('link', { name: 'Devices' }).click();
    await page.getByLabel('Status').waitFor();
    // The list as loaded, not the loading line.
    await page.getByRole('status').filter({ hasText: 'Loading devices' }).waitFor({ state: 'detached' });
    expect((await widths()).scroll).toBeLessThanOrEqual((await widths()).client);
    await page.close();
  });
});
