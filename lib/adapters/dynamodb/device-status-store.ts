// DynamoDB adapter listing devices by their latest status (device-status table, byStatus index; never a scan).
import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DeviceStatus, DeviceStatusRecord, DeviceStatusStore, ObservedDevice, ObservedDevicesPage } from '../../ports/device-status-store.ts';
import type { Page } from '../../ports/page.ts';
import { callStore } from './client.ts';
import { DEVICE_STATUS_INDEX } from './keys.ts';
import { decodeStartKey, encodeStartKey } from './pagination.ts';

/** Devices per page of observations (about 1–2 KB each). */
const OBSERVED_PAGE_SIZE = 500;

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
   * Both statuses' partitions of the byStatus index from `since` on, each cut into time slices read side by side
   * (a partition's Query pages come one after another; slices let several run at once). Eventually consistent, as
   * every index read: a check-in a moment old may be missed or seen with its previous observations.
   */
  async *observedSince(since: string, until: string): AsyncIterable<ObservedDevicesPage> {
    const lanes = (['BLOCKED', 'ACCEPTED'] satisfies DeviceStatus[]).flatMap((status) =>
      timeSlices(since, until, SLICES_PER_STATUS).map((slice) => this.observedPages(status, slice)),
    );
    yield* mergePages(lanes);
  }

  private async *observedPages(status: DeviceStatus, slice: TimeSlice): AsyncIterable<ObservedDevicesPage> {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const result = await callStore(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.deviceStatusTable,
            IndexName: DEVICE_STATUS_INDEX,
            KeyConditionExpression: slice.to === undefined ? '#status = :status AND lastCheckinAt >= :from' : '#status = :status AND lastCheckinAt BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':status': { S: status }, ':from': { S: slice.from }, ...(slice.to === undefined ? {} : { ':to': { S: slice.to } }) },
            ProjectionExpression: 'deviceId, lastCheckinAt, facts',
            // Pages well under the 1 MB a Query may return, each answered inside the client's 1.5 s request timeout.
            Limit: OBSERVED_PAGE_SIZE,
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

/** Time slices read side by side per status partition. */
const SLICES_PER_STATUS = 4;

/** `lastCheckinAt` from `from` to `to` inclusive; the last slice is open-ended (a check-in stamped after `until`). */
interface TimeSlice {
  from: string;
  to?: string;
}

/** [since, until] cut into `count` slices that touch without overlapping, to the millisecond the timestamps carry. */
export function timeSlices(since: string, until: string, count: number): TimeSlice[] {
  const start = Date.parse(since);
  const width = Math.max(1, Math.ceil((Date.parse(until) - start) / count));
  return Array.from({ length: count }, (_, i) => ({
    from: new Date(start + i * width).toISOString(),
    ...(i === count - 1 ? {} : { to: new Date(start + (i + 1) * width - 1).toISOString() }),
  }));
}

/** Yields the pages of several page sequences as each arrives, all read concurrently. */
async function* mergePages<T>(lanes: AsyncIterable<T>[]): AsyncIterable<T> {
  const iterators = lanes.map((lane) => lane[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<T> }>>();
  const pull = (index: number) => pending.set(index, iterators[index].next().then((result) => ({ index, result })));
  iterators.forEach((_, index) => pull(index));
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(index);
        continue;
      }
      pull(index);
      yield result.value;
    }
  } finally {
    // A consumer that stops early (or a lane that failed) leaves the other lanes' reads to finish unobserved.
    for (const promise of pending.values()) promise.catch(() => undefined);
  }
}
