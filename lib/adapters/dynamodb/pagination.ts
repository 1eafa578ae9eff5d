// Opaque page tokens: DynamoDB's LastEvaluatedKey, base64url JSON, checked strictly when it comes back.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ValidationError } from '../../domain/errors.ts';

type Key = Record<string, AttributeValue>;

export function encodePageToken(key: Key | undefined): string | undefined {
  if (!key) return undefined;
  const plain: Record<string, string> = {};
  for (const [name, value] of Object.entries(key)) {
    if (value.S !== undefined) plain[name] = value.S;
  }
  return Buffer.from(JSON.stringify(plain), 'utf8').toString('base64url');
}

/**
 * Decodes a token into an ExclusiveStartKey with exactly the expected string attributes; anything else is
 * 400 INVALID_REQUEST on nextToken (never handed to DynamoDB, never a 500).
 */
export function decodePageToken(token: string | undefined, expectedAttributes: readonly string[], check?: (key: Record<string, string>) => boolean): Key | undefined {
  if (token === undefined || token === '') return undefined;
  const refuse = (): never => {
    throw new ValidationError('INVALID_REQUEST', 'nextToken is not a token this API gave out', 'nextToken');
  };
  if (token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token)) refuse();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    refuse();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) refuse();
  const record = parsed as Record<string, unknown>;
  const names = Object.keys(record).sort();
  if (names.join(',') !== [...expectedAttributes].sort().join(',')) refuse();
  const key: Key = {};
  for (const name of names) {
    const value = record[name];
    if (typeof value !== 'string' || value.length === 0 || value.length > 1024) refuse();
    key[name] = { S: value as string };
  }
  if (check && !check(record as Record<string, string>)) refuse();
  return key;
}
