// Lambda `admin`: every /admin/* route (API.md §3). Composes the DynamoDB stores into the admin route table; the
// handler (lib/http/admin-handler.ts) authenticates, checks the role, then dispatches on the route key.
import { createDynamoDbClient } from '../lib/adapters/dynamodb/client.ts';
import { DynamoDbConfigStore } from '../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbUnauthenticatedAttemptStore } from '../lib/adapters/dynamodb/attempt-store.ts';
import { DynamoDbDecisionReader } from '../lib/adapters/dynamodb/decision-store.ts';
import { DynamoDbDeviceStatusStore } from '../lib/adapters/dynamodb/device-status-store.ts';
import { DynamoDbImagingStore } from '../lib/adapters/dynamodb/imaging-store.ts';
import { systemClock } from '../lib/adapters/system-clock.ts';
import { createSsmClient, readSecureStringParameter } from '../lib/adapters/ssm.ts';
import { loadAdminConfig } from '../lib/http/admin-auth.ts';
import { type AdminHandlerDeps, makeAdminHandler } from '../lib/http/admin-handler.ts';
import { makeAdminRoutes } from '../lib/http/admin-routes.ts';
import type { Clock } from '../lib/ports/clock.ts';

export { MAX_ADMIN_BODY_BYTES, type AdminHandlerDeps } from '../lib/http/admin-handler.ts';

export const makeHandler = (deps: AdminHandlerDeps) => makeAdminHandler(deps);

/** Cold start: the tokens come from ADMIN_TOKENS, or from the SSM parameter ADMIN_TOKENS_PARAMETER names. */
async function realDeps(clock: Clock = systemClock): Promise<AdminHandlerDeps> {
  const config = await loadAdminConfig(process.env, async (name) => readSecureStringParameter(await createSsmClient(), name));
  const client = createDynamoDbClient();
  const routes = makeAdminRoutes({
    config: new DynamoDbConfigStore(client, config.configTable),
    decisions: new DynamoDbDecisionReader(client, config.decisionsTable),
    deviceStatus: new DynamoDbDeviceStatusStore(client, config.deviceStatusTable),
    attempts: new DynamoDbUnauthenticatedAttemptStore(client, config.decisionsTable),
    imaging: new DynamoDbImagingStore(client, config.configTable),
    clock,
  });
  return { tokens: config.tokens, routes, clock };
}

export const handler = makeHandler(await realDeps());
