// The one error-to-HTTP mapping: the contract's shape, no internals, 503 for a store that is down or too slow.
import { describe, expect, it, vi } from 'vitest';
import {
  ConflictError,
  HttpError,
  NotFoundError,
  PreconditionFailedError,
  RuleViolationError,
  ValidationError,
} from '../../lib/domain/errors.ts';
import { logger } from '../../lib/observability.ts';
import { ConcurrentModificationError, InvalidPageTokenError, StoreUnavailableError } from '../../lib/ports/errors.ts';
import { toErrorResponse } from '../../lib/http/errors.ts';

function timeoutError(): Error {
  const error = new Error('[AbortError]: The operation was aborted');
  error.name = 'TimeoutError';
  return error;
}

describe('toErrorResponse', () => {
  it.each([
    // [case, thrown, status, body, headers]
    ['a validation error with its field', new ValidationError('INVALID_CHECKIN', 'clientTime must be RFC 3339', 'clientTime'), 400, { code: 'INVALID_CHECKIN', message: 'clientTime must be RFC 3339', field: 'clientTime' }, {}],
    ['a rule violation with details', new RuleViolationError('INVALID_SETTINGS', 'broken', [{ field: 'a', message: 'm' }, { field: 'b', message: 'n' }]), 422, { code: 'INVALID_SETTINGS', message: 'broken', details: [{ field: 'a', message: 'm' }, { field: 'b', message: 'n' }] }, {}],
    ['a store outage', new StoreUnavailableError(new Error('connect ECONNREFUSED 10.0.0.1:443')), 503, { code: 'UNAVAILABLE', message: expect.any(String) }, { 'Retry-After': '1' }],
    ['a store asking for a longer wait', new StoreUnavailableError(undefined, 5), 503, { code: 'UNAVAILABLE', message: expect.any(String) }, { 'Retry-After': '5' }],
    ['a page token the store did not give out', new InvalidPageTokenError(), 400, { code: 'INVALID_REQUEST', message: 'nextToken is not a token this API gave out', field: 'nextToken' }, {}],
    ['a change that kept meeting concurrent writers', new ConcurrentModificationError('The item kept changing; retry'), 409, { code: 'CONCURRENT_MODIFICATION', message: 'The item kept changing; retry' }, {}],
    ['the function running out of time', timeoutError(), 503, { code: 'UNAVAILABLE', message: expect.any(String) }, { 'Retry-After': '1' }],
    ['anything unexpected', new TypeError("Cannot read properties of undefined (reading 'secret')"), 500, { code: 'INTERNAL', message: expect.any(String) }, {}],
    ['a custom HTTP error with headers', new HttpError(405, 'METHOD_NOT_ALLOWED', 'no', { headers: { Allow: 'POST' } }), 405, { code: 'METHOD_NOT_ALLOWED', message: 'no' }, { Allow: 'POST' }],
  ])('maps %s', (_case, error, status, body, headers) => {
    const response = toErrorResponse(error, 'req-9');
    expect(response.statusCode).toBe(status);
    expect(response.headers).toEqual({ 'content-type': 'application/json', ...headers });
    expect(JSON.parse(response.body!)).toEqual({ error: { ...body, requestId: 'req-9' } });
    expect(response.body).not.toMatch(/ECONNREFUSED|secret|AbortError|at .+:\d+/);
  });
});

describe('what an operator reads in the logs', () => {
  it('a store outage is logged with what the store answered', () => {
    const answer = Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    try {
      toErrorResponse(new StoreUnavailableError(answer), 'req-9');
      expect(warn).toHaveBeenCalledWith('Request refused: dependency unavailable', {
        requestId: 'req-9',
        code: 'UNAVAILABLE',
        cause: 'TimeoutError ETIMEDOUT',
      });
    } finally {
      warn.mockRestore();
    }
  });

  it.each([
    ['HttpError', () => new HttpError(405, 'METHOD_NOT_ALLOWED', 'no')],
    ['ValidationError', () => new ValidationError('INVALID_CHECKIN', 'clientTime is required', 'clientTime')],
    ['RuleViolationError', () => new RuleViolationError('INVALID_SETTINGS', 'broken')],
    ['NotFoundError', () => new NotFoundError('No package "office" is registered')],
    ['ConflictError', () => new ConflictError('CONCURRENT_MODIFICATION', 'The item kept changing; retry')],
    ['PreconditionFailedError', () => new PreconditionFailedError('The settings changed since you read them')],
  ])('a %s carries its own name, which a logged error is recorded under', (name, make) => {
    expect(make().name).toBe(name);
  });
});
