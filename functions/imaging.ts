// Lambda `imaging`: GET /imaging/prestages, /imaging/prestages/{id}, /imaging/autorun/{deviceId} — imaging
// information as admins stored it, behind HTTP Basic with an imaging account when requireImagingAuthentication is on.
import type { Context } from 'aws-lambda';
import { createDynamoDbClient } from '../lib/adapters/dynamodb/client.ts';
import { DynamoDbConfigStore } from '../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbImagingStore } from '../lib/adapters/dynamodb/imaging-store.ts';
import { DynamoDbLoginAttemptStore } from '../lib/adapters/dynamodb/login-attempt-store.ts';
import { systemClock } from '../lib/adapters/system-clock.ts';
import { requiredEnv } from '../lib/config.ts';
import { NotFoundError } from '../lib/domain/errors.ts';
import { imagingRoutes } from '../lib/http/imaging-routes.ts';
import { httpStack, type HttpRequest } from '../lib/http/middleware.ts';
import { logger } from '../lib/observability.ts';
import type { Clock } from '../lib/ports/clock.ts';
import { makeImagingService, type ImagingServiceDeps } from '../lib/services/imaging/imaging-service.ts';
import { type ImagingLog, LoginGuard } from '../lib/services/imaging/login-guard.ts';
import { PasswordVerifier } from '../lib/services/imaging/passwords.ts';
import { SettingsCache } from '../lib/services/imaging/settings-cache.ts';

export interface ImagingHandlerDeps extends ImagingServiceDeps {
  log: ImagingLog & { info(message: string, fields: Record<string, unknown>): void };
}

export function makeHandler(deps: ImagingHandlerDeps) {
  const routes = imagingRoutes(makeImagingService(deps));
  return httpStack(
    async (request: HttpRequest, _context: Context) => {
      const route = routes[request.event.routeKey];
      // serverless.yml routes only the keys of the table here.
      if (!route) throw new NotFoundError(`No route ${request.path}`);
      const answer = await route(request, { authorization: request.headers.authorization, sourceIp: request.sourceIp, requestId: request.requestId });
      deps.log.info('Imaging information served', { requestId: request.requestId, route: request.event.routeKey, username: answer.caller.username });
      // Authenticated content: no shared cache may keep it.
      return { statusCode: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: answer.body };
    },
    { maxBodyBytes: 0, readBody: false },
  );
}

function realDeps(clock: Clock = systemClock): ImagingHandlerDeps {
  const configTable = requiredEnv(process.env, 'CONFIG_TABLE');
  const client = createDynamoDbClient();
  const store = new DynamoDbImagingStore(client, configTable);
  // Calls go through the module's logger object at call time (tests observe it).
  const log = { warn: (message: string, fields: Record<string, unknown>) => logger.warn(message, fields), info: (message: string, fields: Record<string, unknown>) => logger.info(message, fields) };
  return {
    settings: new SettingsCache(new DynamoDbConfigStore(client, configTable), clock),
    store,
    guard: new LoginGuard({ accounts: store, attempts: new DynamoDbLoginAttemptStore(client, configTable), passwords: new PasswordVerifier(), clock, log }),
    log,
  };
}

export const handler = makeHandler(realDeps());
