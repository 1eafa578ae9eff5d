// Tables of serverless.yml in the shared DynamoDB Local, under a prefix of the test file's own.
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { ensureTables, localDynamoDbClient, tableNamesFor } from '../../local/dynamodb-local.ts';
import { loadServerlessConfig } from '../../local/serverless-config.ts';

export interface TestTables {
  client: DynamoDBClient;
  endpoint: string;
  names: { configTable: string; decisionsTable: string; deviceStatusTable: string };
}

export async function createTestTables(): Promise<TestTables> {
  const endpoint = inject('dynamoDbEndpoint');
  const client = localDynamoDbClient(endpoint);
  const config = loadServerlessConfig();
  const names = tableNamesFor(config, `t${randomBytes(4).toString('hex')}`);
  await ensureTables(client, config, names);
  // As a deployment and local mode start: settings version 1 stored (a missing document fails closed).
  await new DynamoDbConfigStore(client, names.ConfigTable).initializeSettings(new Date());
  return {
    client,
    endpoint,
    names: { configTable: names.ConfigTable, decisionsTable: names.DecisionsTable, deviceStatusTable: names.DeviceStatusTable },
  };
}
