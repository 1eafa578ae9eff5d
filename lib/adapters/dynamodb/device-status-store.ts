// DynamoDB adapter listing devices by their latest status (device-status table, byStatusShard index; never a scan).
// Each status is spread over STATUS_SHARDS index partitions (keys.ts): a listing queries every shard and merges.
import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DeviceStatus, DeviceStatusRecord, DeviceStatusStore, ObservedDevice, ObservedDevicesPage } from '../../ports/device-status-store.ts';
import type { Page } from '../../ports/page.ts';
import { decodePageToken, encodePageToken } from '../page-token.ts';
import { callStore } from './client.ts';
import { decodeFacts } from './facts-codec.ts';
import { DEVICE_STATUS_INDEX, STATUS_SHARDS, statusIndexKey } from './keys.ts';

/** Devices per page of observations (about 0.5–1 KB each). */
const OBSERVED_PAGE_SIZE = 500;

/**
 * Queries of observedSince in flight at once: every shard of both statuses, cut in time slices, makes more lanes
 * than a store answers at once inside the client's request timeout; this many keep every shard busy.
 */
const OBSERVED_LANES_AT_ONCE = 32;

const SHARDS = Array.from({ length: STATUS_SHARDS }, (_, shard) => shard);

/** What the index holds beside a device's status record, not part of it. */
const INDEX_ONLY_ATTRIBUTES = ['statusShard', 'statusSk', 'violationCodes', 'alertRelevant'];

type IndexedStatus = Record<string, unknown> & { statusSk: string };

function statusRecordOf(item: Record<string, unknown>): DeviceStatusRecord {
  const record: Record<string, unknown> = { ...item };
  for (const name of INDEX_ONLY_ATTRIBUTES) delete record[name];
  const facts = decodeFacts(item.facts, item.lastCheckinAt as string);
  if (facts === undefined) delete record.facts;
  else record.facts = facts;
  return record as unknown as DeviceStatusRecord;
}

export class DynamoDbDeviceStatusStore implements DeviceStatusStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly deviceStatusTable: string,
  ) {}

  /**
   * Every shard's first `limit` devices after the page's position, merged most recent first; the page ends at an
   * exact position of that order (time, then deviceId), which the next token carries.
   */
  async listDevices(status: DeviceStatus, limit: number, nextToken?: string): Promise<Page<DeviceStatusRecord>> {
    const start = decodePageToken(nextToken, ['status', 'before'], (token) => token.status === status);
    const shards = await Promise.all(SHARDS.map((shard) => this.shardPage(statusIndexKey.shard(status, shard), limit, start?.before)));
    const merged = shards.flatMap((shard) => shard.items).sort((a, b) => (a.statusSk < b.statusSk ? 1 : a.statusSk > b.statusSk ? -1 : 0));
    const page = merged.slice(0, limit);
    const more = merged.length > limit || shards.some((shard) => shard.more);
    return {
      items: page.map(statusRecordOf),
      nextToken: more && page.length > 0 ? encodePageToken({ status, before: page[page.length - 1].statusSk }) : undefined,
    };
  }

  private async shardPage(statusShard: string, limit: number, before: string | undefined): Promise<{ items: IndexedStatus[]; more: boolean }> {
    const result = await callStore(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.deviceStatusTable,
          IndexName: DEVICE_STATUS_INDEX,
          KeyConditionExpression: before === undefined ? 'statusShard = :shard' : 'statusShard = :shard AND statusSk < :before',
          ExpressionAttributeValues: { ':shard': { S: statusShard }, ...(before === undefined ? {} : { ':before': { S: before } }) },
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    );
    return { items: (result.Items ?? []).map((raw) => unmarshall(raw) as IndexedStatus), more: result.LastEvaluatedKey !== undefined };
  }

  /**
   * Every shard of both statuses from `since` on, each cut into time slices, all read side by side (a partition's
   * Query pages come one after another; shards and slices let many run at once). A device that checks in
   * meanwhile can be read twice (at its old and its new position): the reader keeps its latest. Eventually consistent, as
   * every index read: a check-in a moment old may be missed or seen with its previous observations.
   */
  async *observedSince(since: string, until: string): AsyncIterable<ObservedDevicesPage> {
    const slices = timeSlices(since, until);
    const lanes = (['BLOCKED', 'ACCEPTED'] satisfies DeviceStatus[]).flatMap((status) =>
      SHARDS.flatMap((shard) => slices.map((slice) => this.observedPages(statusIndexKey.shard(status, shard), slice))),
    );
    yield* mergePages(lanes, OBSERVED_LANES_AT_ONCE);
  }

  private async *observedPages(statusShard: string, slice: TimeSlice): AsyncIterable<ObservedDevicesPage> {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const result = await callStore(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.deviceStatusTable,
            IndexName: DEVICE_STATUS_INDEX,
            // statusSk is <lastCheckinAt>#<deviceId>: from the slice's first millisecond to the end of its last.
            KeyConditionExpression: slice.to === undefined ? 'statusShard = :shard AND statusSk >= :from' : 'statusShard = :shard AND statusSk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':shard': { S: statusShard }, ':from': { S: slice.from }, ...(slice.to === undefined ? {} : { ':to': { S: `${slice.to}#~` } }) },
            ProjectionExpression: 'deviceId, lastCheckinAt, facts',
            // Pages well under the 1 MB a Query may return, each answered inside the client's 1.5 s request timeout.
            Limit: OBSERVED_PAGE_SIZE,
            ExclusiveStartKey: startKey,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      const devices = (result.Items ?? []).map((raw) => {
        const { deviceId, lastCheckinAt, facts } = unmarshall(raw);
        const observed = decodeFacts(facts, lastCheckinAt);
        return { deviceId, lastCheckinAt, ...(observed ? { facts: observed } : {}) } as ObservedDevice;
      });
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
 * Yields the pages of several page sequences as each arrives, at most `maxConcurrent` lanes read at once (the next
 * lane starts when one ends). A lane's failure is kept as a value until the loop rethrows it (never an unhandled
 * rejection while the consumer is busy); on a failure or an early stop the other lanes are told to stop after their
 * current read.
 */
export async function* mergePages<T>(lanes: AsyncIterable<T>[], maxConcurrent = lanes.length): AsyncIterable<T> {
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
  let started = Math.min(Math.max(1, maxConcurrent), iterators.length);
  for (let index = 0; index < started; index += 1) pull(index);
  try {
    while (pending.size > 0) {
      const { index, result, error } = await Promise.race(pending.values());
      pending.delete(index);
      if (error !== undefined) throw error;
      if (result?.done) {
        if (started < iterators.length) pull(started++);
        continue;
      }
      pull(index);
      yield result!.value;
    }
  } finally {
    for (const index of pending.keys()) void iterators[index].return?.().catch(() => undefined);
  }
}
