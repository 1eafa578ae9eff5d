// DynamoDB adapter for unauthenticated check-in attempts: one partition per UTC day in the decisions table, 7-day TTL.
import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { randomBytes } from 'node:crypto';
import type { UnauthenticatedAttempt, UnauthenticatedAttemptStore } from '../../ports/attempt-store.ts';
import type { Page } from '../../ports/page.ts';
import { callStore } from './client.ts';
import { decisionKey } from './keys.ts';
import { decodeStartKey, encodeStartKey } from './pagination.ts';

/** API.md §1: attempts are kept 7 days. */
export const ATTEMPT_RETENTION_SECONDS = 7 * 86400;

const DAY_MS = 86400_000;
/** Sorts after every `<at>#…` sort key of a day: the position "before the newest item" of a partition. */
const PARTITION_TOP = '~';

export class DynamoDbUnauthenticatedAttemptStore implements UnauthenticatedAttemptStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly decisionsTable: string,
  ) {}

  async record(attempt: UnauthenticatedAttempt): Promise<void> {
    const expiresAt = Math.floor(Date.parse(attempt.at) / 1000) + ATTEMPT_RETENTION_SECONDS;
    const item = {
      pk: decisionKey.attemptsPk(attempt.at),
      sk: decisionKey.attemptSk(attempt.at, attempt.checkinId, randomBytes(6).toString('hex')),
      ...attempt,
      expiresAt,
    };
    await callStore(() =>
      this.client.send(new PutItemCommand({ TableName: this.decisionsTable, Item: marshall(item, { removeUndefinedValues: true }) })),
    );
  }

  /**
   * Newest first, walking the day partitions from `now` back to `since`. The page token is the DynamoDB position
   * in the partition being read; a page that ends exactly at a partition's end points at the top of the next one.
   */
  async list(window: { since: Date; now: Date }, limit: number, nextToken?: string): Promise<Page<UnauthenticatedAttempt>> {
    const sinceIso = window.since.toISOString();
    const days = dayPartitions(window.since, window.now);
    const start = decodeStartKey(nextToken, ['pk', 'sk'], (key) => days.includes(key.pk));
    let dayIndex = start ? days.indexOf(start.pk.S as string) : 0;
    let exclusiveStart = start?.sk.S === PARTITION_TOP ? undefined : start;
    const items: UnauthenticatedAttempt[] = [];

    while (dayIndex < days.length && items.length < limit) {
      const pk = days[dayIndex];
      const result = await callStore(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.decisionsTable,
            KeyConditionExpression: 'pk = :pk AND sk >= :since',
            ExpressionAttributeValues: { ':pk': { S: pk }, ':since': { S: sinceIso } },
            ScanIndexForward: false,
            Limit: limit - items.length,
            ExclusiveStartKey: exclusiveStart,
          }),
        ),
      );
      for (const raw of result.Items ?? []) items.push(toAttempt(unmarshall(raw)));
      if (result.LastEvaluatedKey) {
        if (items.length >= limit) return { items, nextToken: encodeStartKey(result.LastEvaluatedKey) };
        exclusiveStart = result.LastEvaluatedKey;
        continue;
      }
      dayIndex += 1;
      exclusiveStart = undefined;
    }
    const more = items.length >= limit && dayIndex < days.length;
    return { items, nextToken: more ? encodeStartKey({ pk: { S: days[dayIndex] }, sk: { S: PARTITION_TOP } }) : undefined };
  }
}

/** The day partitions from `now`'s day back to `since`'s day, newest first. */
function dayPartitions(since: Date, now: Date): string[] {
  const days: string[] = [];
  const first = Date.parse(since.toISOString().slice(0, 10));
  for (let day = Date.parse(now.toISOString().slice(0, 10)); day >= first; day -= DAY_MS) {
    days.push(decisionKey.attemptsPk(new Date(day).toISOString()));
  }
  return days;
}

function toAttempt(item: Record<string, unknown>): UnauthenticatedAttempt {
  const attempt: UnauthenticatedAttempt = {
    deviceId: item.deviceId as string,
    checkinId: item.checkinId as string,
    violations: item.violations as string[],
    sourceIp: item.sourceIp as string,
    at: item.at as string,
  };
  if (typeof item.fingerprint === 'string') attempt.fingerprint = item.fingerprint;
  return attempt;
}
