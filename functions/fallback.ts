// Lambda `fallback`: GET /health, GET /openapi.json (openapi.yaml, no token), and the contract's 404 NOT_FOUND / 405
// METHOD_NOT_ALLOWED for everything else.
import { HttpError, NotFoundError } from '../lib/domain/errors.ts';
import { httpStack } from '../lib/http/middleware.ts';
import { jsonResponse } from '../lib/http/responses.ts';
import { allowedMethods } from '../lib/http/routes.ts';
import { openApiDocument } from '../lib/generated/openapi-document.js';

const OPENAPI_JSON = JSON.stringify(openApiDocument);

export const handler = httpStack(
  async (request) => {
    const isRead = request.method === 'GET' || request.method === 'HEAD';
    if (request.path === '/health' && isRead) return jsonResponse(200, { status: 'ok' });
    if (request.path === '/openapi.json' && isRead) return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: OPENAPI_JSON };
    const allowed = allowedMethods(request.path);
    if (allowed.length === 0) throw new NotFoundError(`No route ${request.path}`);
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${request.path}; use ${allowed.join(' or ')}`, {
      headers: { Allow: allowed.join(', ') },
    });
  },
  { maxBodyBytes: 0, readBody: false },
);
