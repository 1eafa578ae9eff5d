// Faults DynamoDB cannot be made to produce on demand (aws-sdk-client-mock): conflicts and throttling that outlast
// the retries become StoreUnavailableError (answered 503), never a 500.
import { DynamoDBClient, TransactionCanceledException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DynamoDbDecisionStore } from '../../lib/adapters/dynamodb/decision-store.ts';
import { StoreUnavailableError } from '../../lib/ports/errors.ts';
import { makeDecision } from '../support/decisions.ts';

const decision = makeDecision();

function cancelled(code: string) {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: [{ Code: 'None' }, { Code: code }, { Code: 'None' }],
  });
}

describe('DynamoDbDecisionStore under injected faults', () => {
  it.each(['TransactionConflict', 'ThrottlingError'])('gives up as unavailable when every attempt is cancelled with %s', async (code) => {
    const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const mock = mockClient(client);
    mock.on(TransactWriteItemsCommand).rejects(cancelled(code));
    const store = new DynamoDbDecisionStore(client, { decisionsTable: 'd', deviceStatusTable: 's', retentionDays: 90 });
    await expect(store.record(decision, { statusCode: 200, body: '' })).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(mock.commandCalls(TransactWriteItemsCommand)).toHaveLength(4);
  });

  it('records after a conflict that clears', async () => {
    const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const mock = mockClient(client);
    mock.on(TransactWriteItemsCommand).rejectsOnce(cancelled('TransactionConflict')).resolves({});
    const store = new DynamoDbDecisionStore(client, { decisionsTable: 'd', deviceStatusTable: 's', retentionDays: 90 });
    expect(await store.record(decision, { statusCode: 200, body: '' })).toEqual({ outcome: 'RECORDED' });
  });
});
