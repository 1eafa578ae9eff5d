// GET /openapi.json: the API document, served by the local runner as by API Gateway, to anyone (no token), equal
// to openapi.yaml; and every other method on it is the fallback's 405.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { LocalStack } from '../../local/stack.ts';
import { PROJECT_ROOT } from '../../local/serverless-config.ts';
import { call } from '../support/http.ts';
import { startTestStack } from '../support/local-stack.ts';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe('GET /openapi.json', () => {
  it('answers openapi.yaml as JSON, without a token', async () => {
    const res = await call(`${stack.httpUrl}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(parse(readFileSync(join(PROJECT_ROOT, 'openapi.yaml'), 'utf8')));
  });

  it('is read only: POST is 405 with Allow: GET', async () => {
    const res = await call(`${stack.httpUrl}/openapi.json`, { method: 'POST', json: {} });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET');
    expect(res.body.error.code).toBe('METHOD_NOT_ALLOWED');
  });
});
