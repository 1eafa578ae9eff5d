// Which DynamoDB failures mean "the store cannot serve now" (StoreUnavailableError: 503 with Retry-After) and which
// are a fault in the request (rethrown as they are). A transaction the SDK resent while the first was still running
// (TransactionInProgressException) is not known to have landed or not: unavailable, never a 500.
import {
  ConditionalCheckFailedException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  TransactionInProgressException,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { callStore } from '../../lib/adapters/dynamodb/client.ts';
import { StoreUnavailableError } from '../../lib/ports/errors.ts';

const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

const UNAVAILABLE: [string, () => unknown][] = [
  ['a transaction resent while the first still runs', () => new TransactionInProgressException({ message: 'Transaction is in progress', ...metadata(400) })],
  ['throttling', () => new ProvisionedThroughputExceededException({ message: 'Throughput exceeded', ...metadata(400) })],
  ['a 500', () => new InternalServerError({ message: 'Internal server error', ...metadata(500) })],
  ['a lost connection', () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ['the invocation deadline', () => Object.assign(new Error('The invocation has answered'), { name: 'AbortError' })],
];

const REQUEST_FAULTS: [string, () => unknown][] = [
  ['a failed condition', () => new ConditionalCheckFailedException({ message: 'The conditional request failed', ...metadata(400) })],
  ['an invalid request', () => Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException', $fault: 'client', ...metadata(400) })],
];

describe('callStore', () => {
  it.each(UNAVAILABLE)('%s: StoreUnavailableError', async (_case, failure) => {
    const error = failure();
    const thrown = await callStore(() => Promise.reject(error)).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(StoreUnavailableError);
    expect((thrown as StoreUnavailableError).cause).toBe(error);
  });

  it.each(REQUEST_FAULTS)('%s: rethrown as it is', async (_case, failure) => {
    const error = failure();
    await expect(callStore(() => Promise.reject(error))).rejects.toBe(error);
  });
});
