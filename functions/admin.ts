// Lambda `admin`: every /admin/* route (API.md §3). Authenticates, checks the role, then dispatches on the route key.
import type { Context } from 'aws-lambda';
import { createDynamoDbClient } from '../lib/adapters/dynamodb/client.ts';
import { DynamoDbConfigStore } from '../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbUnauthenticatedAttemptStore } from '../lib/adapters/dynamodb/attempt-store.ts';
import { DynamoDbDecisionStore } from '../lib/adapters/dynamodb/decision-store.ts';
import { HttpError, NotFoundError } from '../lib/domain/errors.ts';
import { type AdminPrincipal, type AdminTokenEntry, AdminAuthError, authenticate, authorize, readAdminConfig } from '../lib/http/admin-auth.ts';
import type { AdminRoutes } from '../lib/http/admin-route.ts';
import { httpStack, type HttpRequest, readRequest } from '../lib/http/middleware.ts';
import { logger } from '../lib/observability.ts';
import { type Clock, systemClock } from '../lib/ports.ts';
import { makeAdminRoutes } from '../lib/services/admin/routes.ts';
import { makeImagingAdminRoutes } from '../lib/services/imaging/admin-routes.ts';

/** API.md §3: admin bodies are JSON of at most 1 MiB (a CA bundle or a base64 .p12 fits easily). */
export const MAX_ADMIN_BODY_BYTES = 1024 * 1024;

const BODY_METHODS = new Set(['PUT', 'PATCH', 'POST']);

export interface AdminHandlerDeps {
  tokens: readonly AdminTokenEntry[];
  routes: AdminRoutes;
  clock: Clock;
}

export function makeHandler(deps: AdminHandlerDeps) {
  return httpStack(
    // The stack reads no body: the caller is authenticated first, so that nobody learns anything (not even
    // 400/413/415) from /admin without a valid token. The body is read, limited and parsed afterwards.
    async (unread: HttpRequest, _context: Context) => {
      const routeKey = unread.event.routeKey;
      let principal: AdminPrincipal | undefined;
      try {
        principal = authenticate(unread.headers.authorization, deps.tokens);
        authorize(principal, unread.method);
      } catch (error) {
        logger.warn('Admin request refused', {
          requestId: unread.requestId,
          routeKey,
          sourceIp: unread.sourceIp,
          reason: error instanceof AdminAuthError ? error.reason : 'FORBIDDEN',
          actor: principal?.name,
        });
        throw error;
      }

      const { name: actor, role } = principal;
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

function realDeps(clock: Clock = systemClock): AdminHandlerDeps {
  const config = readAdminConfig();
  const client = createDynamoDbClient();
  const configStore = new DynamoDbConfigStore(client, config.configTable);
  const decisionStore = new DynamoDbDecisionStore(client, {
    decisionsTable: config.decisionsTable,
    deviceStatusTable: config.deviceStatusTable,
    // Only read here; retention matters to the writer (check-in), which has its own configuration.
    retentionDays: 90,
  });
  const routes: AdminRoutes = {
    ...makeAdminRoutes({ configStore, decisionStore, attemptStore: new DynamoDbUnauthenticatedAttemptStore(client, config.decisionsTable), clock }),
    ...makeImagingAdminRoutes({ client, configTable: config.configTable, configStore }),
  };
  return { tokens: config.tokens, routes, clock };
}

export const handler = makeHandler(realDeps());
