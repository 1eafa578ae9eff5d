// PLACEHOLDER (created by the admin-function work): the imaging admin routes are being written by a colleague,
// who will overwrite this file. Until then the admin router merges no imaging routes.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDbConfigStore } from '../../adapters/dynamodb/config-store.ts';
import type { AdminRoutes } from '../../http/admin-route.ts';

export function makeImagingAdminRoutes(_deps: { client: DynamoDBClient; configTable: string; configStore: DynamoDbConfigStore }): AdminRoutes {
  return {};
}
