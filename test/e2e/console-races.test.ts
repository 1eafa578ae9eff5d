// The admin console when the API answers out of order, in a real Chromium against the local stack on DynamoDB
// Local. The page's requests are intercepted and one answer is held back until the person has moved on and the
// newer answer is shown; then it is let go. What a person sees must stay the newer answer: the list of the status
// they chose, the page they asked for, the exemption boxes they ticked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import type { Page, Route } from 'playwright-core';
import type { LocalStack } from '../../local/stack.ts';
import { type ConsoleBrowser, launchBrowser, signIn, textOf } from '../support/browser.ts';
import { call, type HttpResult } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

const BLOCKED_DEVICES = Array.from({ length: 27 }, (_v, i) => `RACE-BLOCKED-${String(i + 1).padStart(2, '0')}`);

let stack: LocalStack;
let browser: ConsoleBrowser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startTestStack(), launchBrowser()]);
  for (const deviceId of BLOCKED_DEVICES) await checkin(deviceId, -3600);
  await checkin('RACE-ACCEPTED-1', 0);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

let counter = 0;
async function checkin(deviceId: string, skewSeconds: number): Promise<HttpResult> {
  counter += 1;
  const json = { checkinId: `race-${counter}`, deviceId, clientTime: new Date(Date.now() + skewSeconds * 1000).toISOString(), serverCertificateVerified: true };
  const answer = await call(`${stack.httpUrl}/checkin`, { json });
  expect(answer.status).toBe(skewSeconds === 0 ? 200 : 403);
  return answer;
}

const admin = (path: string) => call(`${stack.httpUrl}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });

/** A request held back: `release()` lets it reach the API and returns once the page has had its answer. */
interface HeldRequest {
  /** Resolves when the page has sent the request (it is then waiting). */
  sent: Promise<void>;
  release(): Promise<void>;
}

/** Holds the first request to `pathname` that `matches` accepts; every other request goes through at once. */
async function holdFirst(page: Page, pathname: string, matches: (query: URLSearchParams) => boolean): Promise<HeldRequest> {
  let holding = true;
  let heldRoute!: (route: Route) => void;
  const held = new Promise<Route>((resolve) => (heldRoute = resolve));
  await page.route(
    (url) => url.pathname === pathname,
    async (route) => {
      if (holding && matches(new URL(route.request().url()).searchParams)) {
        holding = false;
        heldRoute(route);
        return;
      }
      await route.continue();
    },
  );
  return {
    sent: held.then(() => undefined),
    async release() {
      const route = await held;
      const finished = page.waitForEvent('requestfinished', (request) => request === route.request());
      await route.continue();
      await finished;
      await settled(page);
    },
  };
}

/** Until the page has read the answers it has and drawn what they change (two frames and a task later). */
const settled = (page: Page) =>
  page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 100)))));

const deviceIds = (page: Page) => page.locator('tbody tr td:first-child').allInnerTexts();

async function open(page: Page, hash: string) {
  await signIn(page, stack.httpUrl, TEST_ADMIN_TOKEN, hash);
}

describe('Device list', () => {
  it('shows the status chosen last when the answer for the status before it arrives after', async () => {
    const page = await browser.newPage();
    const blocked = await holdFirst(page, '/admin/devices', (query) => query.get('status') === 'BLOCKED');
    await open(page, '#/devices');
    await blocked.sent;

    await page.getByLabel('Status').selectOption({ label: 'Accepted' });
    await page.locator('tbody tr').first().waitFor();
    expect(await deviceIds(page)).toEqual(['RACE-ACCEPTED-1']);

    await blocked.release();
    expect(await page.getByLabel('Status').locator('option:checked').innerText()).toBe('Accepted');
    expect(await deviceIds(page)).toEqual(['RACE-ACCEPTED-1']);
    await page.close();
  });

  it('shows the page asked for last when the answer for the page before it arrives after', async () => {
    const page = await browser.newPage();
    const secondPage = await holdFirst(page, '/admin/devices', (query) => query.has('nextToken'));
    await open(page, '#/devices');
    await page.locator('tbody tr').first().waitFor();
    const firstPage = (await admin('/admin/devices?status=BLOCKED&limit=25')).body.items.map((device: { deviceId: string }) => device.deviceId);
    expect(await deviceIds(page)).toEqual(firstPage);

    await page.getByRole('button', { name: 'Next page' }).click();
    await secondPage.sent;
    await page.getByRole('button', { name: 'First page' }).click();
    await page.locator('tbody tr').first().waitFor();
    expect(await deviceIds(page)).toEqual(firstPage);

    await secondPage.release();
    expect(await deviceIds(page)).toEqual(firstPage);
    expect(await page.getByRole('button', { name: 'First page' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Next page' }).isEnabled()).toBe(true);
    await page.close();
  });
});

describe('Exemption', () => {
  it('keeps the violations a person ticked when the device’s decisions arrive after, and grants those', async () => {
    const deviceId = BLOCKED_DEVICES[2];
    const page = await browser.newPage();
    const decisions = await holdFirst(page, `/admin/devices/${deviceId}/decisions`, () => true);
    await open(page, `#/devices/${deviceId}`);
    const exemption = page.getByRole('region', { name: 'Exemption' });
    await exemption.getByText('This device has no exemption.').waitFor();
    await decisions.sent;

    await page.getByLabel("Did not verify the server's certificate").check();
    await decisions.release();
    expect(await textOf(page.getByRole('region', { name: 'Decisions' }).locator('.decision .badge'))).toBe('Blocked');
    const ticked = () =>
      page
        .getByRole('group', { name: 'Violations to exempt' })
        .getByRole('checkbox', { checked: true })
        .evaluateAll((boxes) => boxes.map((box) => (box as HTMLInputElement).labels?.[0]?.textContent));
    expect(await ticked()).toEqual(["Did not verify the server's certificate"]);

    await page.getByLabel('Reason').fill('Proxy certificate pinned by the network team');
    await page.getByRole('button', { name: 'Grant exemption' }).click();
    await exemption.getByText(/^Exempt from/).waitFor();
    const stored = await admin(`/admin/exemptions/${deviceId}`);
    expect(stored.body.violations).toEqual(['SERVER_CERT_NOT_VERIFIED']);
    await page.close();
  });
});
