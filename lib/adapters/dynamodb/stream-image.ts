// A DynamoDB stream record's image, as Lambda's event carries it, read as a plain item.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';

export type StreamImage = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['NewImage']>;

export function readStreamImage(raw: StreamImage | undefined): Record<string, unknown> | undefined {
  // Lambda's event and the SDK's AttributeValue differ only in how binary values are typed; the status has none.
  return raw ? unmarshall(raw as unknown as Record<string, AttributeValue>) : undefined;
}
