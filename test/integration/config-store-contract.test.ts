// Both ConfigStore adapters pass the same contract.
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { InMemoryConfigStore } from '../../lib/adapters/memory/config-store.ts';
import { configStoreContract } from '../contract/config-store.contract.ts';
import { createTestTables } from '../support/dynamodb.ts';

configStoreContract('InMemoryConfigStore', async (options) => new InMemoryConfigStore(options));
configStoreContract('DynamoDbConfigStore', async (options) => {
  const tables = await createTestTables();
  if (options?.initialized === false) {
    // An empty config table: what createTestTables initialised, removed again.
    for (const sk of ['SETTINGS', 'VERSION']) {
      await tables.client.send(new DeleteItemCommand({ TableName: tables.names.configTable, Key: { pk: { S: 'CONFIG' }, sk: { S: sk } } }));
    }
  }
  return new DynamoDbConfigStore(tables.client, tables.names.configTable);
});
