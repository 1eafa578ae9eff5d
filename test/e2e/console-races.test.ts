// The admin console when the API answers out of order, in a real Chromium against the local stack on DynamoDB
// Local. The page's requests are intercepted and one answer is held back until the person has moved on and the
// newer answer is shown; then it is let go. What a person sees must stay the newer answer: the list of the status
// they chose, the page they asked for, the exemption boxes they ticked, the exemption or package they just saved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import type { APIResponse, Page, Route } from 'playwright-core';
import type { LocalStack } from '../../local/stack.ts';
import { type ConsoleBrowser, launchBrowser, signIn, textOf } from '../support/browser.ts';
import { call, checkInWithClockOff, type HttpResult } from '../support/http.ts';
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
  const answer = await checkInWithClockOff(stack.httpUrl, `race-${counter}`, deviceId, skewSeconds);
  expect(answer.status).toBe(skewSeconds === 0 ? 200 : 403);
  return answer;
}

const admin = (path: string) => call(`${stack.httpUrl}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });

/** An answer held back: the API answered when the page asked, and the page gets that answer on `release()`. */
interface HeldAnswer {
  /** Resolves once the API has answered the request (the page is still waiting for it). */
  answered: Promise<void>;
  /** Hands the page its answer; returns once the page has read it and drawn what it changes. */
  release(): Promise<void>;
}

/** Holds the answer to the first GET of `pathname` that `matches` accepts; every other request goes through at once. */
async function holdFirst(page: Page, pathname: string, matches: (query: URLSearchParams) => boolean = () => true): Promise<HeldAnswer> {
  let holding = true;
  let heldAnswer!: (held: { route: Route; response: APIResponse }) => void;
  const held = new Promise<{ route: Route; response: APIResponse }>((resolve) => (heldAnswer = resolve));
  await page.route(
    (url) => url.pathname === pathname,
    async (route) => {
      if (holding && route.request().method() === 'GET' && matches(new URL(route.request().url()).searchParams)) {
        holding = false;
        heldAnswer({ route, response: await route.fetch() });
        return;
      }
      await route.continue();
    },
  );
  return {
    answered: held.then(() => undefined),
    async release() {
      const { route, response } = await held;
      const finished = page.waitForEvent('requestfinished', (request) => request === route.request());
      await route.fulfill({ response });
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
    await blocked.answered;

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
    await secondPage.answered;
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
    const decisions = await holdFirst(page, `/admin/devices/${deviceId}/decisions`);
    await open(page, `#/devices/${deviceId}`);
    const exemption = page.getByRole('region', { name: 'Exemption' });
    await exemption.getByText('This device has no exemption.').waitFor();
    await decisions.answered;

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

  it('shows the exemption just granted when the exemption read on arrival (none yet) is answered after', async () => {
    const deviceId = BLOCKED_DEVICES[3];
    const page = await browser.newPage();
    const arrival = await holdFirst(page, `/admin/exemptions/${deviceId}`);
    await open(page, `#/devices/${deviceId}`);
    await arrival.answered;
    await textOf(page.getByRole('region', { name: 'Decisions' }).locator('.decision .badge'));
    expect(await page.getByLabel('Clock too far off').isChecked()).toBe(true);

    await page.getByLabel('Reason').fill('Clock battery replaced on Monday');
    await page.getByRole('button', { name: 'Grant exemption' }).click();
    const exemption = page.getByRole('region', { name: 'Exemption' });
    expect(await textOf(exemption.getByText(/^Exempt from/))).toMatch(/^Exempt from Clock too far off until .+\.$/);

    await arrival.release();
    expect(await exemption.getByText(/^Exempt from/).isVisible()).toBe(true);
    expect(await exemption.getByText('This device has no exemption.').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Replace exemption' }).isVisible()).toBe(true);
    await page.close();
  });
});

describe('Trust', () => {
  it('lists the package just saved when the list read on arrival (empty) is answered after', async () => {
    const page = await browser.newPage();
    const arrival = await holdFirst(page, '/admin/packages');
    await open(page, '#/trust');
    await arrival.answered;

    await page.getByLabel('Package ID').fill('com.example.race-agent');
    await page.getByLabel('Name').fill('Race Agent');
    await page.getByRole('button', { name: 'Save package' }).click();
    const packages = page.getByRole('region', { name: 'Packages' });
    expect(await textOf(packages.locator('.done'))).toBe('Package com.example.race-agent saved.');
    const rows = () => packages.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)));
    expect(await rows()).toEqual([['com.example.race-agent', 'Race Agent', 'none']]);

    await arrival.release();
    expect(await rows()).toEqual([['com.example.race-agent', 'Race Agent', 'none']]);
    expect(await packages.getByText('No package is registered.').count()).toBe(0);
    await page.close();
  });
});
