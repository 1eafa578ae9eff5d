// Hands a shard's buffered records to the handler in batches, as Lambda's event source mapping does: a failure is
// retried from its first failed record, after a backoff that doubles, never skipping a record.
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { ShardState } from './stream-shard-reader.ts';
import { describeError, firstFailedIndex } from './stream-records.ts';

export interface DelivererOptions {
  handler: (event: DynamoDBStreamEvent) => Promise<unknown>;
  batchSize: number;
  /** First delay before retrying a failed batch; doubles on each failure up to maxRetryDelayMs. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  log: (line: string) => void;
  label: string;
  /** Called after records were delivered, so that the checkpoint can be saved. */
  onDelivered: () => void;
  /** Called with why a batch failed (the poller's last problem). */
  onFailure: (problem: string) => void;
}

export class Deliverer {
  constructor(private readonly options: DelivererOptions) {}

  /** Hands the next batch of a shard to the handler; false when it failed (retried after a backoff). */
  async deliver(state: ShardState): Promise<boolean> {
    const batch = state.buffer.slice(0, this.options.batchSize);
    let failedFrom: number | undefined;
    let reason = 'reported failed records';
    try {
      failedFrom = firstFailedIndex(await this.options.handler({ Records: batch }), batch);
    } catch (error) {
      failedFrom = 0;
      reason = `threw ${describeError(error)}`;
    }
    const succeeded = failedFrom === undefined ? batch.length : failedFrom;
    if (succeeded > 0) {
      state.buffer.splice(0, succeeded);
      state.delivered = batch[succeeded - 1].dynamodb?.SequenceNumber;
      this.options.onDelivered();
    }
    if (failedFrom === undefined) {
      if (state.failures > 0) this.options.log(`Stream delivery (${this.options.label}): delivered after ${state.failures + 1} attempts`);
      state.failures = 0;
      return true;
    }
    this.scheduleRetry(state, reason, batch[failedFrom]?.dynamodb?.SequenceNumber);
    return false;
  }

  private scheduleRetry(state: ShardState, reason: string, from: string | undefined): void {
    state.failures += 1;
    this.options.onFailure(`handler ${reason}`);
    const delay = Math.min(this.options.maxRetryDelayMs, this.options.retryDelayMs * 2 ** (state.failures - 1));
    state.retryAt = Date.now() + delay;
    // Log the first failures and then at powers of two, not every retry of a long outage.
    if ((state.failures & (state.failures - 1)) === 0) {
      this.options.log(`Stream delivery (${this.options.label}): handler ${reason} from record ${from} (attempt ${state.failures}); retrying in ${delay} ms`);
    }
  }
}
