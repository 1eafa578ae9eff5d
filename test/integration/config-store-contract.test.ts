// Both ConfigStore adapters pass the same contract.
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { InMemoryConfigStore } from '../../lib/adapters/memory/config-store.ts';
import { configStoreContract } from '../contract/config-store.contract.ts';
import { createTestTables } from '../support/dynamodb.ts';

configStoreContract('InMemoryConfigStore', async () => new InMemoryConfigStore());
configStoreContract('DynamoDbConfigStore', async () => {
  const tables = await createTestTables();
  return new DynamoDbConfigStore(tables.client, tables.names.configTable);
});
