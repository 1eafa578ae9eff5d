// `npm run screenshots`: regenerates the README's two console screenshots (docs/screenshot-security-editing.png and
// docs/screenshot-devices.png) from a throwaway local stack with a few devices, in headless Chromium at 1280×800.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../local/serverless-config.ts';
import { startLocalStack } from '../local/stack.ts';
import { launchBrowser, saveScreenshot, signIn } from '../test/support/browser.ts';

/** Devices of the picture: clocks off by these many seconds, and whether they verified the server. */
const FLEET: [deviceId: string, skewSeconds: number, verified: boolean][] = [
  ['C02XK1JHJG5J', -3600, true],
  ['C02YL2KJJG6K', 5400, true],
  ['C02ZM3LKJG7L', -120, false],
  ['FVFX41ABQ6L4', -150, true],
  ['FVFY52BCQ7M5', 200, true],
  ['FVFZ63CDQ8N6', 0, true],
  ['C07AB1CDEF12', 30, true],
];

async function main(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-screenshots-'));
  const stack = await startLocalStack({ port: 0, tlsPort: 0, dynamoDbPort: 0, snsPort: 0, dataDir, log: () => undefined });
  const browser = await launchBrowser();
  try {
    let n = 0;
    for (const [deviceId, skew, verified] of FLEET) {
      n += 1;
      const json = { checkinId: `shot-${n}`, deviceId, clientTime: new Date(Date.now() + skew * 1000).toISOString(), serverCertificateVerified: verified };
      await fetch(`${stack.httpUrl}/checkin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
    }
    const page = await browser.newPage();
    await signIn(page, stack.httpUrl, stack.adminToken, '#/security');
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Maximum clock skew').fill('100');
    await page.getByRole('region', { name: 'Impact of this change' }).getByText(/^Would block/).waitFor();
    await saveScreenshot(page, 'security-editing', join(PROJECT_ROOT, 'docs', 'screenshot-security-editing.png'));
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('link', { name: 'Devices' }).click();
    await page.locator('tbody tr').first().waitFor();
    await saveScreenshot(page, 'devices', join(PROJECT_ROOT, 'docs', 'screenshot-devices.png'));
    console.log('Wrote docs/screenshot-security-editing.png and docs/screenshot-devices.png');
  } finally {
    await browser.close();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`Screenshots failed: ${(error as Error)?.message ?? error}`);
  process.exit(1);
});
