// Both DecisionStore adapters pass the same contract.
import { DynamoDbDecisionStore } from '../../lib/adapters/dynamodb/decision-store.ts';
import { InMemoryDecisionStore } from '../../lib/adapters/memory/decision-store.ts';
import { decisionStoreContract } from '../contract/decision-store.contract.ts';
import { createTestTables } from '../support/dynamodb.ts';

decisionStoreContract('InMemoryDecisionStore', async () => new InMemoryDecisionStore());
decisionStoreContract('DynamoDbDecisionStore', async () => {
  const tables = await createTestTables();
  return new DynamoDbDecisionStore(tables.client, { decisionsTable: tables.names.decisionsTable, deviceStatusTable: tables.names.deviceStatusTable, retentionDays: 90 });
});
