// The one place where errors become HTTP responses (API.md: one error shape, no stack traces, no SDK text): the
// domain's and the use cases' errors carry their status and code; the ports' errors are given theirs here.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ConflictError, HttpError, ValidationError } from '../domain/errors.ts';
import { logger, recordSettingsMissing, recordUnavailable } from '../observability.ts';
import { ConcurrentModificationError, InvalidPageTokenError, SettingsMissingError, StoreUnavailableError } from '../ports/errors.ts';

export interface ErrorBody {
  error: { code: string; message: string; field?: string; details?: { field: string; message: string }[]; requestId: string };
}

export function errorResponse(
  statusCode: number,
  body: Omit<ErrorBody['error'], 'requestId'>,
  requestId: string,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  // Key order as in API.md: code, message, field / details, requestId.
  const error: Partial<ErrorBody['error']> = { code: body.code, message: body.message };
  if (body.field !== undefined) error.field = body.field;
  if (body.details !== undefined) error.details = body.details;
  error.requestId = requestId;
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ error }),
  };
}

/** The answer to a port's error: 503 with Retry-After for a store that is down, 400 for a foreign page token, 409. */
function fromPortError(error: unknown): HttpError | undefined {
  if (error instanceof StoreUnavailableError) {
    return new HttpError(503, 'UNAVAILABLE', error.message, { headers: { 'Retry-After': String(error.retryAfterSeconds) }, cause: error.cause });
  }
  if (error instanceof InvalidPageTokenError) return new ValidationError('INVALID_REQUEST', error.message, error.field);
  if (error instanceof ConcurrentModificationError) return new ConflictError('CONCURRENT_MODIFICATION', error.message);
  if (error instanceof SettingsMissingError) {
    // Fail closed: never judged or shown as a fresh installation. An operator must act (the SettingsMissing alarm).
    logger.error('The settings document is missing from the config table: requests are refused until it is restored');
    recordSettingsMissing();
    return new HttpError(503, 'UNAVAILABLE', 'The service is unavailable; retry later', { headers: { 'Retry-After': '60' } });
  }
  return undefined;
}

/** Maps any thrown value to a response; HttpErrors keep their public code, everything else is a logged 500. */
export function toErrorResponse(thrown: unknown, requestId: string): APIGatewayProxyStructuredResultV2 {
  const error = fromPortError(thrown) ?? thrown;
  if (error instanceof HttpError) {
    if (error.statusCode === 503) recordUnavailable();
    if (error.statusCode >= 500) {
      logger.warn('Request refused: dependency unavailable', { requestId, code: error.code, cause: describeCause(error.cause) });
    }
    return errorResponse(error.statusCode, { code: error.code, message: error.message, field: error.field, details: error.details }, requestId, error.headers);
  }
  // middy ends a request that is about to exceed the function's timeout; what was slow is the store.
  if ((error as { name?: string })?.name === 'TimeoutError') {
    recordUnavailable();
    logger.warn('Request refused: the function ran out of time', { requestId });
    return errorResponse(503, { code: 'UNAVAILABLE', message: 'The service is unavailable; retry shortly' }, requestId, { 'Retry-After': '1' });
  }
  logger.error('Unexpected error', { requestId, error: error as Error });
  return errorResponse(500, { code: 'INTERNAL', message: 'An unexpected error occurred; it has been logged with the request id' }, requestId);
}

function describeCause(cause: unknown): string | undefined {
  if (!cause || typeof cause !== 'object') return undefined;
  const { name, code } = cause as { name?: string; code?: string };
  return [name, code].filter(Boolean).join(' ') || undefined;
}
