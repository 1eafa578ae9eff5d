// Builds the DynamoDB client and turns SDK failures into the port's StoreUnavailableError.
import { type AttributeValue, DynamoDBClient, type DynamoDBClientConfig, QueryCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { StoreUnavailableError } from '../../ports/errors.ts';
import { applyInvocationDeadline } from '../deadline.ts';

/**
 * Short timeouts: a check-in must fail fast with 503 rather than hang while DynamoDB is unreachable or stalled.
 * Three attempts of at most 1 s to connect and 1.5 s to answer bound one call; the invocation's deadline
 * (lib/invocation-deadline.ts, hooked in by lib/adapters/deadline.ts) bounds them all together, so a Query followed by a transaction's rounds cannot outlive
 * the function, and aborts whatever is still in flight once the invocation has answered.
 * The endpoint comes from the SDK's own configuration (AWS_ENDPOINT_URL_DYNAMODB in local mode and tests).
 */
export function createDynamoDbClient(overrides: DynamoDBClientConfig = {}): DynamoDBClient {
  return applyInvocationDeadline(
    new DynamoDBClient({
      maxAttempts: 3,
      // throwOnRequestTimeout: without it the SDK only logs a late answer and keeps waiting.
      requestHandler: { connectionTimeout: 1000, requestTimeout: 1500, throwOnRequestTimeout: true },
      ...overrides,
    }),
  );
}

const UNAVAILABLE_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'ResourceNotFoundException',
  'TimeoutError',
  'RequestTimeout',
  // The SDK resends a transaction with the same ClientRequestToken; while the first is still running DynamoDB refuses
  // the resend with this. The outcome is not known yet: answer unavailable (503), never a 500.
  'TransactionInProgressException',
]);

/** True when the failure means "the store cannot serve now" rather than a fault in our request. */
export function isStoreUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  if (e.name && UNAVAILABLE_ERRORS.has(e.name)) return true;
  if (e.$fault === 'server') return true;
  // Network errors (ECONNREFUSED, ECONNRESET, socket timeouts) carry no HTTP response.
  if (e.$metadata?.httpStatusCode === undefined && (e.code !== undefined || e.name === 'Error' || e.name === 'AbortError')) return true;
  return false;
}

/** Runs one store call; unavailability becomes StoreUnavailableError, anything else is rethrown. */
export async function callStore<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isStoreUnavailable(error)) throw new StoreUnavailableError(error);
    throw error;
  }
}

/** Runs a Query to its last page and returns every item, unmarshalled. */
export async function queryAllItems(client: DynamoDBClient, input: QueryCommandInput): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await callStore(() => client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey })));
    for (const raw of page.Items ?? []) items.push(unmarshall(raw));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}
