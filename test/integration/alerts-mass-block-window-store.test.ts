// Both MassBlockWindowStore adapters pass the same contract.
import { DynamoDbMassBlockWindowStore } from '../../lib/adapters/dynamodb/mass-block-window-store.ts';
import { InMemoryMassBlockWindowStore } from '../../lib/adapters/memory/mass-block-window-store.ts';
import { massBlockWindowStoreContract } from '../contract/mass-block-window-store.contract.ts';
import { createTestTables } from '../support/dynamodb.ts';

massBlockWindowStoreContract('InMemoryMassBlockWindowStore', async () => new InMemoryMassBlockWindowStore());
massBlockWindowStoreContract('DynamoDbMassBlockWindowStore', async () => {
  const tables = await createTestTables();
  return new DynamoDbMassBlockWindowStore(tables.client, tables.names.decisionsTable);
});
