// DynamoDB adapter listing devices by their latest status (device-status table, byStatus index; never a scan).
import { type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DeviceStatus, DeviceStatusRecord, DeviceStatusStore } from '../../ports/device-status-store.ts';
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
}
