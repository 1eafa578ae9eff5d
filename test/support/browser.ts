// One headless Chromium per test file (Debian's /usr/bin/chromium driven by playwright-core), with a fresh profile;
// each test opens its own tab, so that sessionStorage (where the console keeps the token) starts empty.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../local/serverless-config.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Where the tests save a screenshot of each page (gitignored). */
export const SCREENSHOT_DIR = join(PROJECT_ROOT, 'test-results', 'console');

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export interface ConsoleBrowser {
  /** A new tab at the given viewport (1280×800 unless told). */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<ConsoleBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'tollgate-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: DESKTOP,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
  context.setDefaultTimeout(10_000);
  // The persistent context opens one blank tab; the tests open their own.
  await Promise.all(context.pages().map((page) => page.close()));
  return {
    async newPage(viewport = DESKTOP) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot under test-results/console/. */
export async function saveScreenshot(page: Page, name: string, path: string = join(SCREENSHOT_DIR, `${name}.png`)): Promise<string> {
  mkdirSync(join(path, '..'), { recursive: true });
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  return path;
}

/** Signs in through the page as a person would: the token in `Admin token`, then `Sign in`. */
export async function signIn(page: Page, baseUrl: string, token: string, hash = '#/overview'): Promise<void> {
  await page.goto(`${baseUrl}/console/${hash}`);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Waits until the locator shows; returns its visible text. */
export async function textOf(locator: Locator): Promise<string> {
  await locator.first().waitFor({ state: 'visible' });
  return (await locator.first().innerText()).trim();
}

/** The text a control is described by (aria-describedby): what a screen reader reads after its label. */
export async function descriptionOf(control: Locator): Promise<string> {
  await control.waitFor({ state: 'attached' });
  return control.evaluate((element) =>
    (element.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent?.trim() ?? '')
      .filter(Boolean)
      .join(' '),
  );
}

/** Polls until `read` returns something `accept` likes (the page updates after its requests answer). */
export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

/**
 * Runs `action`, then waits until the element `shown` matches now has left the page: for a message that stays while
 * the action runs again and is replaced by its answer, so that what is read next is the new one, not the old.
 */
export async function replacing(shown: Locator, action: () => Promise<void>): Promise<void> {
  const before = await shown.first().elementHandle();
  await action();
  await shown.page().waitForFunction((element) => !element.isConnected, before);
  await before.dispose();
}
