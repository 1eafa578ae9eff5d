// Both ExpiryAlertStore adapters pass the same contract.
import { DynamoDbExpiryAlertStore } from '../../lib/adapters/dynamodb/expiry-alert-store.ts';
import { InMemoryExpiryAlertStore } from '../../lib/adapters/memory/expiry-alert-store.ts';
import { expiryAlertStoreContract } from '../contract/expiry-alert-store.contract.ts';
import { createTestTables } from '../support/dynamodb.ts';

expiryAlertStoreContract('InMemoryExpiryAlertStore', async (leaseMs) => new InMemoryExpiryAlertStore(leaseMs));
expiryAlertStoreContract('DynamoDbExpiryAlertStore', async (leaseMs) => {
  const tables = await createTestTables();
  return new DynamoDbExpiryAlertStore(tables.client, tables.names.configTable, leaseMs);
});
