// Both decision adapters pass the same contracts: the writer and reader, and the device status the writer leaves.
import { DynamoDbDecisionReader, DynamoDbDecisionStore } from '../../lib/adapters/dynamodb/decision-store.ts';
import { DynamoDbDeviceStatusStore } from '../../lib/adapters/dynamodb/device-status-store.ts';
import { InMemoryDecisionStore } from '../../lib/adapters/memory/decision-store.ts';
import { decisionStoreContract } from '../contract/decision-store.contract.ts';
import { deviceStatusStoreContract } from '../contract/device-status-store.contract.ts';
import { createTestTables } from '../support/dynamodb.ts';

async function dynamoDb() {
  const tables = await createTestTables();
  const { decisionsTable, deviceStatusTable } = tables.names;
  return {
    // The contracts' fixed times lie in the past: records are kept long enough that DynamoDB Local's TTL leaves them.
    writer: new DynamoDbDecisionStore(tables.client, { decisionsTable, deviceStatusTable, retentionDays: 36500, idempotencyRetentionDays: 36500 }),
    reader: new DynamoDbDecisionReader(tables.client, decisionsTable),
    statuses: new DynamoDbDeviceStatusStore(tables.client, deviceStatusTable),
  };
}

decisionStoreContract('InMemoryDecisionStore', async () => new InMemoryDecisionStore());
decisionStoreContract('DynamoDbDecisionStore', async () => (await dynamoDb()).writer);
// The admin function's reader, over what the check-in's writer recorded.
decisionStoreContract('DynamoDbDecisionReader', async () => {
  const { writer, reader } = await dynamoDb();
  return { record: writer.record.bind(writer), listDecisions: reader.listDecisions.bind(reader) };
});

deviceStatusStoreContract('InMemoryDecisionStore', async () => {
  const store = new InMemoryDecisionStore();
  return { writer: store, statuses: store };
});
deviceStatusStoreContract('DynamoDbDeviceStatusStore', async () => dynamoDb());
