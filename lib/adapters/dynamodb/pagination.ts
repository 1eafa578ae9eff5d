// Page tokens of DynamoDB listings: the LastEvaluatedKey's string attributes, in the shared opaque token form.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { decodePageToken, encodePageToken } from '../page-token.ts';

type Key = Record<string, AttributeValue>;

export function encodeStartKey(key: Key | undefined): string | undefined {
  if (!key) return undefined;
  const plain: Record<string, string> = {};
  for (const [name, value] of Object.entries(key)) {
    if (value.S !== undefined) plain[name] = value.S;
  }
  return encodePageToken(plain);
}

/**
 * An ExclusiveStartKey with exactly the expected string attributes, or InvalidPageTokenError (never handed to
 * DynamoDB, never a 500).
 */
export function decodeStartKey(token: string | undefined, expectedAttributes: readonly string[], check?: (key: Record<string, string>) => boolean): Key | undefined {
  const fields = decodePageToken(token, expectedAttributes, check);
  if (!fields) return undefined;
  return Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, { S: value }]));
}
