// A web page in the admin's browser, on another origin, against the local runner: it gets no CORS grant to read any
// answer, cannot post a check-in as a form (no JSON content type), and holds no token for /admin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.ts';
import { call } from '../support/http.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const EVIL = 'https://evil.example';

describe('a page of another origin', () => {
  it.each([
    ['OPTIONS', '/admin/settings'],
    ['OPTIONS', '/checkin'],
    ['GET', '/admin/settings'],
    ['GET', '/health'],
  ])('%s %s: no Access-Control-Allow-Origin, so the browser shows the page nothing', async (method, path) => {
    const res = await call(`${stack.httpUrl}${path}`, {
      method,
      headers: { origin: EVIL, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization,content-type', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('cannot post a check-in as an HTML form would (text/plain): 415, and nothing is recorded', async () => {
    const body = JSON.stringify({ checkinId: 'form-1', deviceId: 'FORM-POSTED', clientTime: new Date().toISOString(), serverCertificateVerified: false });
    const res = await call(`${stack.httpUrl}/checkin`, { body, headers: { origin: EVIL, 'content-type': 'text/plain' } });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const decisions = await call(`${stack.httpUrl}/admin/devices/FORM-POSTED/decisions`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(decisions.body.items).toEqual([]);
  });

  it('cannot use the admin API without the token, which a browser never attaches by itself', async () => {
    const res = await call(`${stack.httpUrl}/admin/settings`, { method: 'PATCH', body: '{"mode":"MONITOR"}', headers: { origin: EVIL, 'content-type': 'text/plain' } });
    expect(res.status).toBe(401);
    const settings = await call(`${stack.httpUrl}/admin/settings`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(settings.body.settings.mode).toBe('ENFORCE');
  });
});
