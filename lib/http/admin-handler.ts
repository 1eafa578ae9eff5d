// The admin function's HTTP handler: authenticate, check the role, then read the body and dispatch on the route key.
import type { Context } from 'aws-lambda';
import { HttpError, NotFoundError } from '../domain/errors.ts';
import { logger } from '../observability.ts';
import type { Clock } from '../ports/clock.ts';
import { type AdminPrincipal, type AdminTokenEntry, AdminAuthError, authenticate, authorize } from './admin-auth.ts';
import type { AdminRoutes } from './admin-route.ts';
import { httpStack, type HttpRequest, readRequest } from './middleware.ts';

/** API.md §3: admin bodies are JSON of at most 1 MiB (a CA bundle or a base64 .p12 fits easily). */
export const MAX_ADMIN_BODY_BYTES = 1024 * 1024;

const BODY_METHODS = new Set(['PUT', 'PATCH', 'POST']);

export interface AdminHandlerDeps {
  tokens: readonly AdminTokenEntry[];
  routes: AdminRoutes;
  clock: Clock;
}

/** The caller, or the 401/403 (logged with the reason, never the token). */
function admit(request: HttpRequest, tokens: readonly AdminTokenEntry[]): AdminPrincipal {
  let principal: AdminPrincipal | undefined;
  try {
    principal = authenticate(request.headers.authorization, tokens);
    authorize(principal, { method: request.method, routeKey: request.event.routeKey, query: request.query });
    return principal;
  } catch (error) {
    logger.warn('Admin request refused', {
      requestId: request.requestId,
      routeKey: request.event.routeKey,
      sourceIp: request.sourceIp,
      reason: error instanceof AdminAuthError ? error.reason : 'FORBIDDEN',
      actor: principal?.name,
    });
    throw error;
  }
}

export function makeAdminHandler(deps: AdminHandlerDeps) {
  return httpStack(
    // The stack reads no body: the caller is authenticated first, so that nobody learns anything (not even
    // 400/413/415) from /admin without a valid token. The body is read, limited and parsed afterwards.
    async (unread: HttpRequest, _context: Context) => {
      const routeKey = unread.event.routeKey;
      const { name: actor, role } = admit(unread, deps.tokens);
      const route = deps.routes[routeKey];
      if (!route) throw new NotFoundError(`No admin route ${routeKey}`);
      const request = BODY_METHODS.has(unread.method) ? readRequest(unread.event, { maxBodyBytes: MAX_ADMIN_BODY_BYTES }) : unread;
      try {
        const response = await route({ request, actor, role, now: deps.clock.now() });
        logger.info('Admin request', { requestId: request.requestId, routeKey, actor, status: response.statusCode });
        return response;
      } catch (error) {
        // Bodies are never logged: they can hold a .p12 password or an imaging account's password.
        if (error instanceof HttpError) {
          logger.info('Admin request', { requestId: request.requestId, routeKey, actor, status: error.statusCode, code: error.code });
        }
        throw error;
      }
    },
    { maxBodyBytes: MAX_ADMIN_BODY_BYTES, readBody: false },
  );
}
