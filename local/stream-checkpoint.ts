// The stream poller's checkpoint file: per shard, the last record delivered (or that the shard was read to its
// end), so that a restart neither loses nor repeats records. Written atomically, and only when it changed.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { describeError } from './stream-records.ts';

/** What the checkpoint keeps of one shard. */
export interface ShardPosition {
  /** The last sequence number delivered successfully. */
  sequenceNumber?: string;
  /** The shard was read to its end and everything in it delivered. */
  finished?: boolean;
}

interface CheckpointData {
  streamArn?: string;
  shards: Record<string, ShardPosition>;
}

export class StreamCheckpoint {
  private data: CheckpointData;
  private writtenText: string;

  constructor(
    private readonly file: string,
    log: (line: string) => void,
  ) {
    this.data = StreamCheckpoint.read(file, log);
    this.writtenText = JSON.stringify(this.data);
  }

  private static read(file: string, log: (line: string) => void): CheckpointData {
    if (!existsSync(file)) return { shards: {} };
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as CheckpointData;
      return { streamArn: parsed.streamArn, shards: parsed.shards ?? {} };
    } catch (error) {
      log(`Stream checkpoint ${file} unreadable (${describeError(error)}); starting from the oldest record`);
      return { shards: {} };
    }
  }

  /** True when the checkpoint was kept for another stream (the table was recreated): its positions are dropped. */
  belongsToAnotherStream(streamArn: string): boolean {
    if (!this.data.streamArn || this.data.streamArn === streamArn) return false;
    this.data.shards = {};
    return true;
  }

  positionOf(shardId: string): ShardPosition | undefined {
    return this.data.shards[shardId];
  }

  /** Forgets the shards the stream no longer has (trimmed away, with their records). */
  keepOnly(present: ReadonlySet<string | undefined>): void {
    for (const id of Object.keys(this.data.shards)) if (!present.has(id)) delete this.data.shards[id];
  }

  /** Records the positions given and writes the file if anything changed. */
  save(streamArn: string | undefined, positions: Iterable<[string, ShardPosition]>): void {
    this.data.streamArn = streamArn;
    for (const [shardId, position] of positions) this.data.shards[shardId] = position;
    const text = JSON.stringify(this.data);
    if (text === this.writtenText) return;
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, this.file);
    this.writtenText = text;
  }
}
