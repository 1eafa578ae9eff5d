// SNS adapter: publishes one alert (API.md §4) as one message to the alert topic.
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { AlertMessage } from '../domain/alerts.ts';
import type { AlertPublisher } from '../ports/alert-publisher.ts';

/** Publishing failed (SNS unreachable, throttled or refusing); the caller retries later. */
export class AlertPublishError extends Error {
  override name = 'AlertPublishError';
  constructor(
    readonly alertId: string,
    cause: unknown,
  ) {
    const reason = (cause as { name?: string })?.name ?? 'Error';
    super(`Publishing alert ${alertId} failed (${reason})`, { cause });
  }
}

/**
 * Short timeouts so that one unreachable SNS cannot use up the function's time: at most 3 attempts of
 * ≤ 1 s to connect and ≤ 2 s to answer. The endpoint comes from the SDK's own configuration
 * (AWS_ENDPOINT_URL_SNS in local mode).
 */
export function createSnsClient(): SNSClient {
  return new SNSClient({
    maxAttempts: 3,
    // throwOnRequestTimeout: without it the SDK only logs a late answer and keeps waiting.
    requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true },
  });
}

export class SnsAlertPublisher implements AlertPublisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  /** Message: the JSON document; Subject: the summary; MessageAttributes type and severity for filter policies. */
  async publish(alert: AlertMessage): Promise<void> {
    try {
      await this.client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: alert.subject,
          Message: JSON.stringify(alert.message),
          MessageAttributes: {
            type: { DataType: 'String', StringValue: alert.type },
            severity: { DataType: 'String', StringValue: alert.severity },
          },
        }),
      );
    } catch (error) {
      throw new AlertPublishError(alert.message.alertId, error);
    }
  }
}
