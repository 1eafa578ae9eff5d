// DynamoDB stream records in the form Lambda hands them to a function, and how Lambda reads a handler's answer.
import type { AttributeValue as StreamAttributeValue, _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue as LambdaAttributeValue, DynamoDBRecord } from 'aws-lambda';

/** The SDK's attribute value (binary as bytes) in the Lambda event's form (binary as base64). */
export function toLambdaAttributeValue(value: StreamAttributeValue): LambdaAttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M)! };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttributeValue) };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  return { NULL: true };
}

function toLambdaImage(image: Record<string, StreamAttributeValue> | undefined): Record<string, LambdaAttributeValue> | undefined {
  if (!image) return undefined;
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaAttributeValue(value)]));
}

/** One stream record as Lambda hands it to a function (DynamoDBStreamEvent.Records[n]). */
export function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const data = record.dynamodb ?? {};
  const created = data.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion,
    dynamodb: {
      ApproximateCreationDateTime: created instanceof Date ? Math.floor(created.getTime() / 1000) : (created as number | undefined),
      Keys: toLambdaImage(data.Keys),
      NewImage: toLambdaImage(data.NewImage),
      OldImage: toLambdaImage(data.OldImage),
      SequenceNumber: data.SequenceNumber,
      SizeBytes: data.SizeBytes,
      StreamViewType: data.StreamViewType,
    },
    eventSourceARN: streamArn,
  };
}

/**
 * Index of the first record the handler reported as failed (Lambda's ReportBatchItemFailures), or undefined when
 * the batch succeeded. A missing, empty or unknown itemIdentifier fails the whole batch, as in Lambda.
 */
export function firstFailedIndex(result: unknown, batch: readonly DynamoDBRecord[]): number | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return undefined;
  let first = batch.length;
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown })?.itemIdentifier;
    const index = typeof id === 'string' && id !== '' ? batch.findIndex((r) => r.dynamodb?.SequenceNumber === id) : -1;
    if (index < 0) return 0;
    first = Math.min(first, index);
  }
  return first;
}

/** Sequence numbers are decimal strings of up to 40 digits (DynamoDB Local pads them to 21). */
export function compareSequenceNumbers(a: string | undefined, b: string): number {
  if (a === undefined) return -1;
  try {
    const [x, y] = [BigInt(a), BigInt(b)];
    return x === y ? 0 : x > y ? 1 : -1;
  } catch {
    return a.localeCompare(b);
  }
}

export function errorName(error: unknown): string {
  return (error as { name?: string })?.name ?? 'Error';
}

export function describeError(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return e?.message ? `${e.name ?? 'Error'}: ${e.message}` : String(error);
}
