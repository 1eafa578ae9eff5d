// End-to-end tests of hostile admin bodies over HTTP (the local stack, DynamoDB Local underneath): JSON nested far
// deeper than any recursive reader can follow, in every admin body and every field, is a 4xx in the contract's
// error shape and never a 500; PKCS#12 files asking for hours of key derivation are 422 INVALID_P12 at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.ts';
import { call, type HttpResult } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';
import { copies, editPkcs12, OpensslWorkbench, pushSubject, setIterations, tinyKeyBag } from '../support/pkcs12.ts';

const P12_PASSWORD = 'hostile-upload-password';
const SHA256 = 'ab'.repeat(32);

let stack: LocalStack;
let bench: OpensslWorkbench;
let modernP12: string;
let legacyP12: string;

beforeAll(async () => {
  const starting = startTestStack();
  bench = OpensslWorkbench.create();
  const push = bench.makeCertificate({ subject: pushSubject(), key: bench.makeKey() });
  modernP12 = bench.exportPkcs12({ certificate: push, password: P12_PASSWORD });
  legacyP12 = bench.exportPkcs12({ certificate: push, password: P12_PASSWORD, legacy: true });
  stack = await starting;
});

afterAll(async () => {
  bench?.cleanup();
  await stack?.stop();
});

function admin(method: string, path: string, body: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return call(`${stack.httpUrl}${path}`, {
    method,
    body,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json', ...headers },
  });
}

function expectContractError(response: HttpResult, status?: number, code?: string): void {
  expect(response.status, response.text.slice(0, 300)).toBeGreaterThanOrEqual(400);
  expect(response.status, response.text.slice(0, 300)).toBeLessThan(500);
  if (status !== undefined) expect(response.status).toBe(status);
  expect(response.body).toEqual({
    error: { code: code ?? expect.any(String), message: expect.any(String), ...(response.body?.error?.field === undefined ? {} : { field: expect.any(String) }), requestId: expect.any(String) },
  });
}

describe('deeply nested JSON is a 4xx on every admin body, never a 500', () => {
  /** 100,000 objects one in the other (600 KB) and 300,000 arrays (600 KB): both inside the 1 MiB admin body. */
  const deepValues: Array<[string, string]> = [
    ['objects 100,000 deep', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`],
    ['arrays 300,000 deep', `${'['.repeat(300_000)}${']'.repeat(300_000)}`],
  ];

  /** [route, path, body with the deep value in place of DEEP, extra headers] */
  const bodies: Array<[string, string, string, Record<string, string>?]> = [
    ['PUT', '/admin/settings', 'DEEP', { 'if-match': '*' }],
    ['PUT', '/admin/settings', '{"mode":DEEP}', { 'if-match': '*' }],
    ['PUT', '/admin/settings', '{"certificateExpiryAlertDays":DEEP}', { 'if-match': '*' }],
    ['PATCH', '/admin/settings', 'DEEP'],
    ['PATCH', '/admin/settings', '{"mode":DEEP}'],
    ['PATCH', '/admin/settings', '{"certificateExpiryAlertDays":DEEP}'],
    ['PATCH', '/admin/settings', '{"unknownSetting":DEEP}'],
    ['PATCH', '/admin/settings?dryRun=true', '{"maxClockSkewSeconds":DEEP}'],
    ['POST', '/admin/settings/preview', '{"mode":DEEP}'],
    ['PUT', '/admin/packages/deep-package', 'DEEP'],
    ['PUT', '/admin/packages/deep-package', '{"name":DEEP,"checksum":null}'],
    ['PUT', '/admin/packages/deep-package', '{"name":"x","checksum":DEEP}'],
    ['PUT', '/admin/packages/deep-package', '{"name":"x","checksum":{"type":"SHA256","value":DEEP}}'],
    ['PUT', '/admin/exemptions/C02DEEP', '{"violations":DEEP,"until":"2099-01-01T00:00:00Z","reason":"x"}'],
    ['PUT', '/admin/device-ca', '{"certificates":DEEP}'],
    ['PUT', '/admin/server-certificate', '{"certificate":DEEP}'],
    ['PUT', '/admin/push-certificate', '{"p12":DEEP,"password":"x"}'],
    ['PUT', '/admin/push-certificate', `{"p12":"${'A'.repeat(16)}","password":DEEP}`],
    ['PUT', `/admin/revocations/${SHA256}`, '{"reason":DEEP}'],
    ['PUT', '/admin/imaging/accounts/deep-user', '{"password":DEEP}'],
    ['PUT', '/admin/imaging/prestages/deep', '{"steps":DEEP}'],
    ['PUT', '/admin/imaging/autorun/C02DEEP', '{"steps":DEEP}'],
  ];

  it.each(deepValues)('%s, wherever it is put', async (_name, deep) => {
    const before = await call(`${stack.httpUrl}/admin/settings`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    for (const [method, path, template, headers] of bodies) {
      const body = template.replace('DEEP', deep);
      expect(body.length).toBeLessThanOrEqual(1024 * 1024);
      const response = await admin(method, path, body, headers);
      expect(response.status, `${method} ${path} ${template}: ${response.text.slice(0, 200)}`).not.toBe(500);
      expectContractError(response);
    }
    // Nothing changed.
    const after = await call(`${stack.httpUrl}/admin/settings`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(after.body.version).toBe(before.body.version);
    const packages = await call(`${stack.httpUrl}/admin/packages/deep-package`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(packages.status).toBe(404);
  });

  it('the imaging documents say why, with their own code', async () => {
    for (const [, deep] of deepValues) {
      const response = await admin('PUT', '/admin/imaging/prestages/deep', `{"steps":${deep}}`);
      expectContractError(response, 400, 'INVALID_IMAGING_DOCUMENT');
      expect(response.body.error.message).toMatch(/more than 64 levels deep/);
    }
  });

  it('a check-in nested as deep as its 64 KiB body allows is a 4xx too', async () => {
    const deep = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
    for (const body of [deep, `{"checkinId":${deep}}`, `{"facts":${deep}}`]) {
      const response = await call(`${stack.httpUrl}/checkin`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      expect(response.status, response.text.slice(0, 200)).not.toBe(500);
      expectContractError(response);
    }
  });
});

describe('PUT /admin/push-certificate refuses CPU-bomb files at once', () => {
  const upload = (p12: string) => admin('PUT', '/admin/push-certificate', JSON.stringify({ p12, password: P12_PASSWORD }));

  it.each([
    // 2^31-1 iterations would take hours to derive: the answer must not depend on the count
    ['a MAC stating 2^31-1 iterations', () => editPkcs12(modernP12, P12_PASSWORD, (p12) => (p12.macIterations = 2n ** 31n - 1n)), /asks for 2147483647 key-derivation iterations/],
    // a valid MAC, and a certificate SafeContents stating 2^31-1
    [
      'an encrypted SafeContents stating 2^31-1 iterations',
      () => editPkcs12(legacyP12, P12_PASSWORD, (p12) => setIterations(p12.safes[0].encryption!, 2n ** 31n - 1n)),
      /asks for 2147483647 key-derivation iterations/,
    ],
    // no MAC, 500 key bags: each would be decrypted to check the password
    [
      '500 key bags without a MAC',
      () =>
        editPkcs12(legacyP12, P12_PASSWORD, (p12) => {
          p12.macIterations = null;
          p12.safes[1].bags!.push(...copies(tinyKeyBag(2048n, P12_PASSWORD), 500));
        }),
      /holds more than 32 bags/,
    ],
    ['a megabyte of base64', () => 'A'.repeat(1000 * 1000), /at most 65,536 are supported/],
  ])('%s → 422 INVALID_P12 within a second, nothing stored', async (_name, file, message) => {
    const p12 = file();
    const start = Date.now();
    const response = await upload(p12);
    expect(Date.now() - start).toBeLessThan(1000);
    expectContractError(response, 422, 'INVALID_P12');
    expect(response.body.error.message).toMatch(message);
    const stored = await call(`${stack.httpUrl}/admin/push-certificate`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(stored.status).toBe(404);
  });
});
