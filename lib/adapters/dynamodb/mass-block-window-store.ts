// DynamoDB adapter for the MASS_BLOCK windows (decisions table, pk MASS_BLOCK#<reason>#<window start>, sk WINDOW).
//
// One item per window and reason: `D#<deviceId>` = the device's rank, `V#<code>` = how many counted devices had
// that violation code, `deviceCount`. Counting is one conditional UpdateItem: it sets the device's rank only when
// the device is not there yet and fewer than `limit` devices are, so a redelivered record finds its own rank again
// and the item never holds more than `limit` devices (at 2,000 devices of 128 characters, about 270 KB of the
// 400 KB an item may have; config.ts caps massBlockDevices there).
import { type AttributeValue, type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { MassBlockWindow } from '../../domain/alerts.ts';
import type { MassBlockWindowStore, WindowCount, WindowEntry } from '../../ports/mass-block-window-store.ts';
import { callStore } from './client.ts';
import { decisionKey } from './keys.ts';

const DEVICE_PREFIX = 'D#';
const VIOLATION_PREFIX = 'V#';

function isConditionFailed(error: unknown): error is { Item?: Record<string, AttributeValue> } {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

export class DynamoDbMassBlockWindowStore implements MassBlockWindowStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly decisionsTable: string,
  ) {}

  async count(entry: WindowEntry, limit: number): Promise<WindowCount> {
    const key = { pk: { S: decisionKey.massBlockPk(entry.reason, entry.windowStart) }, sk: { S: decisionKey.massBlockSk } };
    const codes = [...new Set(entry.violationCodes)].sort();
    const names: Record<string, string> = { '#device': `${DEVICE_PREFIX}${entry.deviceId}`, '#count': 'deviceCount' };
    codes.forEach((code, i) => (names[`#v${i}`] = `${VIOLATION_PREFIX}${code}`));
    const add = codes.length ? ` ADD ${codes.map((_, i) => `#v${i} :one`).join(', ')}` : '';
    try {
      const result = await callStore(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.decisionsTable,
            Key: key,
            // Operands are read before any action applies: the device's rank is the count before, plus one.
            UpdateExpression: `SET #device = if_not_exists(#count, :zero) + :one, #count = if_not_exists(#count, :zero) + :one, expiresAt = :expiresAt${add}`,
            ConditionExpression: 'attribute_not_exists(#device) AND (attribute_not_exists(#count) OR #count < :limit)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' }, ':limit': { N: String(limit) }, ':expiresAt': { N: String(entry.expiresAt) } },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return this.read(entry, unmarshall(result.Attributes ?? {}));
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // Counted before (a redelivery) or the window is full; the item as it was tells which.
      const item = error.Item ? unmarshall(error.Item) : await this.get(key);
      return this.read(entry, item);
    }
  }

  private async get(key: Record<string, AttributeValue>): Promise<Record<string, unknown>> {
    const result = await callStore(() => this.client.send(new GetItemCommand({ TableName: this.decisionsTable, Key: key, ConsistentRead: true })));
    return unmarshall(result.Item ?? {});
  }

  private read(entry: WindowEntry, item: Record<string, unknown>): WindowCount {
    const rank = item[`${DEVICE_PREFIX}${entry.deviceId}`];
    if (typeof rank !== 'number') return { counted: false };
    const ranked: [string, number][] = [];
    const byViolation: Record<string, number> = {};
    for (const [name, value] of Object.entries(item)) {
      if (typeof value !== 'number') continue;
      if (name.startsWith(DEVICE_PREFIX)) ranked.push([name.slice(DEVICE_PREFIX.length), value]);
      else if (name.startsWith(VIOLATION_PREFIX)) byViolation[name.slice(VIOLATION_PREFIX.length)] = value;
    }
    const window: MassBlockWindow = {
      reason: entry.reason,
      windowStart: entry.windowStart,
      devices: ranked.sort(([, a], [, b]) => a - b).map(([deviceId]) => deviceId),
      byViolation,
    };
    return { counted: true, rank, window };
  }
}
