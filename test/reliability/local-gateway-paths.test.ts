// Paths that begin with "//" reach the local runner's routing as paths (found by the paths-and-queries property:
// "//.-%3A…" was read as a URL of another host, which threw, and the runner answered 500).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.ts';
import { send } from '../support/fuzz-harness.ts';
import { startTestStack, TEST_ADMIN_TOKEN } from '../support/local-stack.ts';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe('a path beginning with two slashes', () => {
  // path sent as is → the contract's answer (segments as API Gateway sees them: "//health" is not "/health")
  it.each([
    ['//health', 404],
    ['//.-%3A%3A%3ARcz_-y2/%EF%BF%BD', 404],
    ['//admin/settings', 404],
    ['//example.com/admin/settings?x=1', 404],
  ])('%s → %i NOT_FOUND in the error shape', async (path, status) => {
    const res = await send(stack.httpUrl, { method: 'GET', path, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect({ status: res.status, body: res.body }).toEqual({ status, body: { error: { code: 'NOT_FOUND', message: expect.any(String), requestId: expect.any(String) } } });
  });

  it('and the runner still answers afterwards', async () => {
    const res = await send(stack.httpUrl, { method: 'GET', path: '/health' });
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { status: 'ok' } });
  });
});
