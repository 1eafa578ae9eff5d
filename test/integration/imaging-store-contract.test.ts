// Both imaging adapters pass the same contracts: the ImagingStore (with the config store whose history it writes
// into) and the LoginAttemptStore.
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { DynamoDbImagingStore } from '../../lib/adapters/dynamodb/imaging-store.ts';
import { DynamoDbLoginAttemptStore } from '../../lib/adapters/dynamodb/login-attempt-store.ts';
import { InMemoryConfigStore } from '../../lib/adapters/memory/config-store.ts';
import { InMemoryImagingStore } from '../../lib/adapters/memory/imaging-store.ts';
import { InMemoryLoginAttemptStore } from '../../lib/adapters/memory/login-attempt-store.ts';
import { imagingStoreContract } from '../contract/imaging-store.contract.ts';
import { loginAttemptStoreContract } from '../contract/login-attempt-store.contract.ts';
import { createTestTables } from '../support/dynamodb.ts';

imagingStoreContract('InMemoryImagingStore', async () => {
  const config = new InMemoryConfigStore();
  return { imaging: new InMemoryImagingStore(config), config };
});
imagingStoreContract('DynamoDbImagingStore', async () => {
  const tables = await createTestTables();
  return { imaging: new DynamoDbImagingStore(tables.client, tables.names.configTable), config: new DynamoDbConfigStore(tables.client, tables.names.configTable) };
});

loginAttemptStoreContract('InMemoryLoginAttemptStore', async () => new InMemoryLoginAttemptStore());
loginAttemptStoreContract('DynamoDbLoginAttemptStore', async () => {
  const tables = await createTestTables();
  return new DynamoDbLoginAttemptStore(tables.client, tables.names.configTable);
});
