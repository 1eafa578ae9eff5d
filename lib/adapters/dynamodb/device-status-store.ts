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
   * (a partition's Query pages come one after another; slices let several run at once). A device that checks in
   * meanwhile can be read twice (at its old and its new position): the reader keeps its latest. Eventually consistent, as
   * every index read: a check-in a moment old may be missed or seen with its previous observations.
   */
  async *observedSince(since: string, until: string): AsyncIterable<ObservedDevicesPage> {
    const lanes = (['BLOCKED', 'ACCEPTED'] satisfies DeviceStatus[]).flatMap((status) =>
      timeSlices(since, until).map((slice) => this.observedPages(status, slice)),
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

/**
 * Where each status partition is cut, counted back from now: the recent minutes, where a fleet checking in every
 * 15 minutes keeps nearly all its devices, in thirds; the rest of the hour and the day; everything older.
 */
const SLICE_CUTS_MS = [24 * 3_600_000, 3_600_000, 10 * 60_000, 5 * 60_000];

/** `lastCheckinAt` from `from` to `to` inclusive; the last slice is open-ended (a check-in stamped after `until`). */
interface TimeSlice {
  from: string;
  to?: string;
}

/**
 * [since, until] cut at `cutsBeforeUntil` (milliseconds before `until`, a cut outside the range dropped) into
 * slices that touch without overlapping, to the millisecond the timestamps carry; the last one open-ended.
 */
export function timeSlices(since: string, until: string, cutsBeforeUntil: readonly number[] = SLICE_CUTS_MS): TimeSlice[] {
  const start = Date.parse(since);
  const end = Date.parse(until);
  const bounds = [...new Set(cutsBeforeUntil.map((cut) => end - cut).filter((at) => at > start))].sort((a, b) => a - b);
  const froms = [start, ...bounds];
  return froms.map((from, i) => ({
    from: new Date(from).toISOString(),
    ...(i === froms.length - 1 ? {} : { to: new Date(froms[i + 1] - 1).toISOString() }),
  }));
}

type Pulled<T> = { index: number; result?: IteratorResult<T>; error?: unknown };

/**
 * Yields the pages of several page sequences as each arrives, all read concurrently. A lane's failure is kept as
 * a value until the loop rethrows it (never an unhandled rejection while the consumer is busy); on a failure or an
 * early stop the other lanes are told to stop after their current read.
 */
export async function* mergePages<T>(lanes: AsyncIterable<T>[]): AsyncIterable<T> {
  const iterators = lanes.map((lane) => lane[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<Pulled<T>>>();
  const pull = (index: number) =>
    pending.set(
      index,
      iterators[index].next().then(
        (result) => ({ index, result }),
        (error: unknown) => ({ index, error }),
      ),
    );
  iterators.forEach((_, index) => pull(index));
  try {
    while (pending.size > 0) {
      const { index, result, error } = await Promise.race(pending.values());
      pending.delete(index);
      if (error !== undefined) throw error;
      if (result?.done) continue;
      pull(index);
      yield result!.value;
    }
  } finally {
    for (const index of pending.keys()) void iterators[index].return?.().catch(() => undefined);
  }
}
