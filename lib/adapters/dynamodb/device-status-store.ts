// DynamoDB adapter listing devices by their latest status (device-status table, byStatus index; never a scan).
import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DeviceStatus, DeviceStatusRecord, DeviceStatusStore, ObservedDevice, ObservedDevicesPage } from '../../ports/device-status-store.ts';
import type { Page } from '../../ports/page.ts';
import { callStore } from './client.ts';
import { DEVICE_STATUS_INDEX } from './keys.ts';
import { decodeStartKey, encodeStartKey } from './pagination.ts';

export class DynamoDbDeviceStatusStore implements DeviceStatusStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly deviceStatusTable: string,
  ) {}

  async listDevices(status: DeviceStatus, limit: number, nextToken?: string): Promise<Page<DeviceStatusRecord>> {
    const startKey = decodeStartKey(nextToken, ['deviceId', 'status', 'lastCheckinAt'], (key) => key.status === status);
    const result = await callStore(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.deviceStatusTable,
          IndexName: DEVICE_STATUS_INDEX,
          KeyConditionExpression: '#status = :status',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': { S: status } },
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: startKey,
        }),
      ),
    );
    const items = (result.Items ?? []).map((raw) => {
      const { violationCodes: _codes, ...record } = unmarshall(raw);
      return record as DeviceStatusRecord;
    });
    return { items, nextToken: encodeStartKey(result.LastEvaluatedKey) };
  }

  /**
   * Both statuses' partitions of the byStatus index from `since` on, 1 MB a page (eventually consistent, as every
   * index read; a check-in a moment old may be missed or seen with its previous status's observations).
   */
  async *observedSince(since: string): AsyncIterable<ObservedDevicesPage> {
    for (const status of ['BLOCKED', 'ACCEPTED'] satisfies DeviceStatus[]) {
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const result = await callStore(() =>
          this.client.send(
            new QueryCommand({
              TableName: this.deviceStatusTable,
              IndexName: DEVICE_STATUS_INDEX,
              KeyConditionExpression: '#status = :status AND lastCheckinAt >= :since',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':status': { S: status }, ':since': { S: since } },
              ProjectionExpression: 'deviceId, lastCheckinAt, facts',
              ExclusiveStartKey: startKey,
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        );
        const devices = (result.Items ?? []).map((raw) => unmarshall(raw) as ObservedDevice);
        yield { devices, readUnits: result.ConsumedCapacity?.CapacityUnits };
        startKey = result.LastEvaluatedKey;
      } while (startKey);
    }
  }
}
