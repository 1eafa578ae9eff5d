// Reads a DynamoDB (Local) table's stream: its current stream, its shards, and the next records of one shard into
// that shard's buffer, never handing over a record twice.
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, type DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type Shard } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import type { ShardPosition } from './stream-checkpoint.ts';
import { compareSequenceNumbers, errorName, toLambdaRecord } from './stream-records.ts';

/** GetRecords returns at most 1000 records. */
const GET_RECORDS_LIMIT = 1000;

/** What the poller knows of one shard. */
export interface ShardState {
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

/** A shard as the stream describes it, where the checkpoint left it. */
export function newShardState(shard: Shard & { ShardId: string }, saved: ShardPosition | undefined): ShardState {
  return {
    shardId: shard.ShardId,
    parentShardId: shard.ParentShardId,
    buffer: [],
    delivered: saved?.sequenceNumber,
    exhausted: saved?.finished === true,
    finished: saved?.finished === true,
    failures: 0,
    retryAt: 0,
  };
}

export class ShardReader {
  constructor(
    private readonly dynamoDb: DynamoDBClient,
    private readonly streams: DynamoDBStreamsClient,
    private readonly tableName: string,
    private readonly log: (line: string) => void,
  ) {}

  /** The table's current stream. */
  async latestStreamArn(): Promise<string> {
    const table = await this.dynamoDb.send(new DescribeTableCommand({ TableName: this.tableName }));
    const arn = table.Table?.LatestStreamArn;
    if (!arn) throw new Error(`table ${this.tableName} has no stream`);
    return arn;
  }

  async listShards(streamArn: string): Promise<Shard[]> {
    const all: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const page = await this.streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }));
      all.push(...(page.StreamDescription?.Shards ?? []));
      exclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    return all;
  }

  /** Reads the next records of a shard into its buffer; returns how many. */
  async read(streamArn: string, state: ShardState): Promise<number> {
    state.iterator ??= await this.newIterator(streamArn, state);
    if (!state.iterator) {
      state.exhausted = true;
      return 0;
    }
    let result;
    try {
      result = await this.streams.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: GET_RECORDS_LIMIT }));
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
      .map((r) => toLambdaRecord(r, streamArn))
      .filter((r) => position === undefined || compareSequenceNumbers(r.dynamodb?.SequenceNumber, position) > 0);
    state.buffer.push(...records);
    if (records.length > 0) state.lastRead = records[records.length - 1].dynamodb?.SequenceNumber;
    return records.length;
  }

  /** An iterator after the last record read or delivered, or from the oldest record kept (trimmed, or nothing read). */
  private async newIterator(streamArn: string, state: ShardState): Promise<string | undefined> {
    const after = state.lastRead ?? state.delivered;
    if (after && !state.fromHorizon) {
      try {
        const result = await this.streams.send(
          new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: state.shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }),
        );
        return result.ShardIterator;
      } catch (error) {
        if (errorName(error) !== 'TrimmedDataAccessException') throw error;
        this.log(`Stream delivery (stream of ${this.tableName}): records after ${after} of ${state.shardId} were trimmed (older than 24 h); continuing from the oldest kept`);
      }
    }
    state.fromHorizon = false;
    const result = await this.streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: state.shardId, ShardIteratorType: 'TRIM_HORIZON' }));
    return result.ShardIterator;
  }
}
