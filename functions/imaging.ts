// Lambda `imaging`: GET /imaging/prestages, /imaging/prestages/{id}, /imaging/autorun/{deviceId} — imaging
// information as admins stored it, behind HTTP Basic with an imaging account when requireImagingAuthentication is on.
import type { Context } from 'aws-lambda';
import { createDynamoDbClient } from '../lib/adapters/dynamodb/client.ts';
import { DynamoDbConfigStore } from '../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbImagingStore, DynamoDbLoginAttemptStore } from '../lib/adapters/dynamodb/imaging-store.ts';
import { requiredEnv } from '../lib/config.ts';
import { HttpError } from '../lib/domain/errors.ts';
import { httpStack, type HttpRequest } from '../lib/http/middleware.ts';
import { logger } from '../lib/observability.ts';
import { type Clock, systemClock } from '../lib/ports.ts';
import { makeImagingService, type ImagingAnswer, type ImagingServiceDeps } from '../lib/services/imaging/imaging-service.ts';
import { type ImagingLog, LoginGuard } from '../lib/services/imaging/login-guard.ts';
import { PasswordVerifier } from '../lib/services/imaging/passwords.ts';
import { SettingsCache } from '../lib/services/imaging/settings-cache.ts';

export interface ImagingHandlerDeps extends ImagingServiceDeps {
  log: ImagingLog & { info(message: string, fields: Record<string, unknown>): void };
}

export function makeHandler(deps: ImagingHandlerDeps) {
  const service = makeImagingService(deps);
  return httpStack(
    async (request: HttpRequest, _context: Context) => {
      const attempt = { authorization: request.headers.authorization, sourceIp: request.sourceIp, requestId: request.requestId };
      let answer: ImagingAnswer;
      switch (request.event.routeKey) {
        case 'GET /imaging/prestages':
          answer = await service.listPrestages(attempt);
          break;
        case 'GET /imaging/prestages/{id}':
          answer = await service.getPrestage(request.pathParameters.id, attempt);
          break;
        case 'GET /imaging/autorun/{deviceId}':
          answer = await service.getAutorun(request.pathParameters.deviceId, attempt);
          break;
        default:
          // serverless.yml routes only the three keys above here.
          throw new HttpError(404, 'NOT_FOUND', `No route ${request.path}`);
      }
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
  const configStore = new DynamoDbConfigStore(client, configTable);
  const store = new DynamoDbImagingStore(client, configTable, configStore);
  // Calls go through the module's logger object at call time (tests observe it).
  const log = { warn: (message: string, fields: Record<string, unknown>) => logger.warn(message, fields), info: (message: string, fields: Record<string, unknown>) => logger.info(message, fields) };
  return {
    settings: new SettingsCache(configStore, clock),
    store,
    guard: new LoginGuard({ accounts: store, attempts: new DynamoDbLoginAttemptStore(client, configTable), passwords: new PasswordVerifier(), clock, log }),
    log,
  };
}

export const handler = makeHandler(realDeps());
