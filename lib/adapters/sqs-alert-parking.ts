// Parks an alert SNS refused for good on the alerts function's on-failure queue (the one Lambda's event source
// mapping sends exhausted batches to), so that it is alarmed and re-driven with the rest (docs/operations.md).
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { AlertParking, ParkedAlert } from '../ports/alert-publisher.ts';

export function createSqsClient(): SQSClient {
  return new SQSClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 5000, throwOnRequestTimeout: true } });
}

export class SqsAlertParking implements AlertParking {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /** One message: `{ "parkedAlert": { alert, error, parkedAt, eventID, sequenceNumber } }` (docs/alerts.md). */
  async park(parked: ParkedAlert): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify({ parkedAlert: parked }),
        MessageAttributes: { type: { DataType: 'String', StringValue: 'PARKED_ALERT' } },
      }),
    );
  }
}
