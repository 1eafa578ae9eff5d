// Both UnauthenticatedAttemptStore adapters pass the same contract.
import { DynamoDbUnauthenticatedAttemptStore } from '../../lib/adapters/dynamodb/attempt-store.ts';
import { InMemoryUnauthenticatedAttemptStore } from '../../lib/adapters/memory/attempt-store.ts';
import { attemptStoreContract } from '../contract/attempt-store.contract.ts';
import { createTestTables } from '../support/dynamodb.ts';

attemptStoreContract('InMemoryUnauthenticatedAttemptStore', async () => new InMemoryUnauthenticatedAttemptStore());
attemptStoreContract('DynamoDbUnauthenticatedAttemptStore', async () => {
  const tables = await createTestTables();
  return new DynamoDbUnauthenticatedAttemptStore(tables.client, tables.names.decisionsTable);
});
