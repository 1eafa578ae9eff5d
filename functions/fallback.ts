// Lambda `fallback`: GET /health, and the contract's 404 NOT_FOUND / 405 METHOD_NOT_ALLOWED for everything else.
import { HttpError, NotFoundError } from '../lib/domain/errors.ts';
import { httpStack } from '../lib/http/middleware.ts';
import { jsonResponse } from '../lib/http/responses.ts';
import { allowedMethods } from '../lib/http/routes.ts';

export const handler = httpStack(
  async (request) => {
    if (request.path === '/health' && (request.method === 'GET' || request.method === 'HEAD')) return jsonResponse(200, { status: 'ok' });
    const allowed = allowedMethods(request.path);
    if (allowed.length === 0) throw new NotFoundError(`No route ${request.path}`);
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${request.path}; use ${allowed.join(' or ')}`, {
      headers: { Allow: allowed.join(', ') },
    });
  },
  { maxBodyBytes: 0, readBody: false },
);
