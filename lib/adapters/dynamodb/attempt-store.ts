// DynamoDB adapter for unauthenticated check-in attempts: one partition per UTC day in the decisions table, 7-day TTL.
// With `marks` it also leaves, per MASS_BLOCK window and claimed device, one small item on the device-status table,
// whose stream is how the alerts function learns of attempts (API.md §4, MASS_BLOCK reason UNAUTHENTICATED).
import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { randomBytes } from 'node:crypto';
import { type MassBlockPolicy, massBlockWindowStart, UNAUTHENTICATED_ATTEMPT_KIND } from '../../domain/alerts.ts';
import type { UnauthenticatedAttempt, UnauthenticatedAttemptStore } from '../../ports/attempt-store.ts';
import type { Page } from '../../ports/page.ts';
import { callStore } from './client.ts';
import { decisionKey, unauthenticatedMarkKey } from './keys.ts';
import { decodeStartKey, encodeStartKey } from './pagination.ts';

/** API.md §1: attempts are kept 7 days. */
export const ATTEMPT_RETENTION_SECONDS = 7 * 86400;

const DAY_MS = 86400_000;
/** Sorts after every `<at>#…` sort key of a day: the position "before the newest item" of a partition. */
const PARTITION_TOP = '~';

/** Where and how the attempts are marked for MASS_BLOCK. */
export interface AttemptMarking {
  deviceStatusTable: string;
  massBlock: MassBlockPolicy;
}

export class DynamoDbUnauthenticatedAttemptStore implements UnauthenticatedAttemptStore {
  /** The claimed devices this container has marked in the current window (a flood costs one write per device). */
  private marked: { windowStart: string; devices: Set<string> } = { windowStart: '', devices: new Set() };

  constructor(
    private readonly client: DynamoDBClient,
    private readonly decisionsTable: string,
    private readonly marking?: AttemptMarking,
  ) {}

  async record(attempt: UnauthenticatedAttempt, judgedUnder?: { settingsVersion: number }): Promise<void> {
    const expiresAt = Math.floor(Date.parse(attempt.at) / 1000) + ATTEMPT_RETENTION_SECONDS;
    const item = {
      pk: decisionKey.attemptsPk(attempt.at),
      sk: decisionKey.attemptSk(attempt.at, attempt.checkinId, randomBytes(6).toString('hex')),
      ...attempt,
      expiresAt,
    };
    await Promise.all([
      callStore(() => this.client.send(new PutItemCommand({ TableName: this.decisionsTable, Item: marshall(item, { removeUndefinedValues: true }) }))),
      this.mark(attempt, judgedUnder?.settingsVersion),
    ]);
  }

  /**
   * One item per window and claimed device, written only if absent (so its stream record is one INSERT, never a
   * MODIFY). A container stops marking a window after massBlockDevices + 1 distinct devices: that many already take
   * the window over the threshold, so a flood of invented device ids costs at most that many writes per container
   * and window.
   */
  private async mark(attempt: UnauthenticatedAttempt, settingsVersion: number | undefined): Promise<void> {
    if (!this.marking) return;
    const { windowMinutes, devices: threshold } = this.marking.massBlock;
    const windowStart = massBlockWindowStart(attempt.at, windowMinutes);
    if (this.marked.windowStart !== windowStart) this.marked = { windowStart, devices: new Set() };
    if (this.marked.devices.has(attempt.deviceId) || this.marked.devices.size > threshold) return;
    const mark = {
      deviceId: unauthenticatedMarkKey(windowStart, attempt.deviceId),
      kind: UNAUTHENTICATED_ATTEMPT_KIND,
      claimedDeviceId: attempt.deviceId,
      windowStart,
      violationCodes: [...new Set(attempt.violations)].sort(),
      at: attempt.at,
      settingsVersion,
      // The device-status stream's filter passes only records that carry this marker (serverless.yml).
      alertRelevant: true,
      expiresAt: Math.floor(Date.parse(windowStart) / 1000) + windowMinutes * 60 + 86_400,
    };
    try {
      await callStore(() =>
        this.client.send(
          new PutItemCommand({
            TableName: this.marking!.deviceStatusTable,
            Item: marshall(mark, { removeUndefinedValues: true }),
            ConditionExpression: 'attribute_not_exists(deviceId)',
          }),
        ),
      );
    } catch (error) {
      if ((error as { name?: string })?.name !== 'ConditionalCheckFailedException') throw error;
    }
    this.marked.devices.add(attempt.deviceId);
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
