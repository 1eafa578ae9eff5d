// A preview of an invalid change (API.md §3): the same 400/422 as the PATCH it previews, 400 for a bad sinceDays or
// dryRun, 412 for a stale If-Match, and nothing changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built before the stack sets POWERTOOLS_LOG_LEVEL from serverless.yml, so the run stays quiet.
import '../../lib/observability.ts';
import type { LocalStack } from '../../local/stack.ts';
import type { HttpResult } from '../support/http.ts';
import { adminCall, newStack, settingsState } from '../support/preview.ts';

describe('a preview of an invalid change', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await newStack();
  });
  afterAll(async () => stack?.stop());

  const errorOf = (res: HttpResult) => {
    const { requestId: _requestId, ...error } = res.body.error;
    return { status: res.status, error };
  };

  it.each([
    // [case, patch]
    ['a rule broken (422 with details)', { maxClockSkewSeconds: 0 }],
    ['certificate-based authentication without a device CA (422)', { certificateBasedAuthentication: true }],
    ['an unknown setting (400)', { maxSkew: 100 }],
    ['a wrong type (400)', { mode: 'enforce' }],
    ['a setting removed (400)', { mode: null }],
    ['not an object (400)', [1, 2]],
  ])('is the same error as the PATCH: %s', async (_case, patch) => {
    const before = await settingsState(stack);
    const preview = await adminCall(stack, 'POST', '/admin/settings/preview', patch);
    const dryRun = await adminCall(stack, 'PATCH', '/admin/settings?dryRun=true', patch);
    const patched = await adminCall(stack, 'PATCH', '/admin/settings', patch);
    expect([400, 422]).toContain(patched.status);
    expect(errorOf(preview)).toEqual(errorOf(patched));
    expect(errorOf(dryRun)).toEqual(errorOf(patched));
    expect(await settingsState(stack)).toEqual(before);
  });

  it.each([
    // [case, path, headers, status, code, field]
    ['sinceDays 0', '/admin/settings/preview?sinceDays=0', {}, 400, 'INVALID_REQUEST', 'sinceDays'],
    ['sinceDays not a number', '/admin/settings/preview?sinceDays=week', {}, 400, 'INVALID_REQUEST', 'sinceDays'],
    ['sinceDays past a year', '/admin/settings/preview?sinceDays=366', {}, 400, 'INVALID_REQUEST', 'sinceDays'],
    ['dryRun neither true nor false', '/admin/settings?dryRun=yes', {}, 400, 'INVALID_REQUEST', 'dryRun'],
    ['a stale If-Match', '/admin/settings/preview', { 'if-match': '"99"' }, 412, 'PRECONDITION_FAILED', undefined],
  ] as const)('%s is %s and changes nothing', async (_case, path, headers, status, code, field) => {
    const before = await settingsState(stack);
    const method = path.startsWith('/admin/settings?') ? 'PATCH' : 'POST';
    const res = await adminCall(stack, method, path, { maxClockSkewSeconds: 100 }, headers);
    expect(res.status, res.text).toBe(status);
    expect(res.body.error).toMatchObject({ code, ...(field ? { field } : {}) });
    expect(await settingsState(stack)).toEqual(before);
  });

  it('with no devices seen, previews nothing blocked; sinceDays and If-Match of the current version are honoured', async () => {
    const { etag } = await settingsState(stack);
    const res = await adminCall(stack, 'POST', '/admin/settings/preview?sinceDays=1', { maxClockSkewSeconds: 100 }, { 'if-match': String(etag) });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ devices: 0, current: { blocked: 0 }, proposed: { blocked: 0 }, newlyBlocked: { count: 0, byViolation: {}, devices: [] } });
    expect(Math.abs(Date.parse(res.body.since) - (Date.now() - 86_400_000))).toBeLessThan(60_000);
  });
});
