// SNS adapter: publishes one alert (API.md §4) as one message to the alert topic.
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { AlertMessage } from '../domain/alerts.ts';
import type { AlertPublisher, PublishOptions } from '../ports/alert-publisher.ts';

/**
 * SNS refusing the message itself, or refusing us: retrying cannot help until someone changes the message, the
 * topic's key or the role, so the alert is parked at once (functions/alerts.ts) instead of stalling the stream. The
 * SDK names errors after the model's shapes; the bare codes are those of the Query protocol's XML.
 */
const PERMANENT_ERRORS = new Set([
  'InvalidParameterException',
  'InvalidParameter',
  'InvalidParameterValueException',
  'ParameterValueInvalid',
  'ValidationException',
  'NotFoundException',
  'NotFound',
  'AuthorizationErrorException',
  'AuthorizationError',
  'InvalidSecurityException',
  'InvalidSecurity',
  'KMSDisabledException',
  'KMSDisabled',
  'KMSAccessDeniedException',
  'KMSAccessDenied',
  'KMSInvalidStateException',
  'KMSInvalidState',
  'KMSNotFoundException',
  'KMSNotFound',
  'KMSOptInRequired',
]);

/** Publishing failed; `permanent` when SNS refused for a reason a retry cannot change. */
export class AlertPublishError extends Error {
  override name = 'AlertPublishError';
  readonly permanent: boolean;
  constructor(
    readonly alertId: string,
    cause: unknown,
  ) {
    const reason = (cause as { name?: string })?.name ?? 'Error';
    super(`Publishing alert ${alertId} failed (${reason})`, { cause });
    this.permanent = PERMANENT_ERRORS.has(reason);
  }
}

/**
 * SNS answers a Publish in tens of milliseconds, and sometimes in a few seconds. The request timeout is well above
 * that: a timeout makes the SDK send the message again, and SNS may have accepted the first one, so a timeout at
 * 2 s against a 3 s answer published every alert 3 times per attempt (docs/decisions.md, "Alerts: SNS timeouts").
 * Connecting is still bounded at 1 s. The alerts function passes its own deadline as an abort signal on top. The
 * endpoint comes from the SDK's own configuration (AWS_ENDPOINT_URL_SNS in local mode).
 */
export const SNS_REQUEST_TIMEOUT_MS = 10_000;

export function createSnsClient(): SNSClient {
  return new SNSClient({
    maxAttempts: 3,
    // throwOnRequestTimeout: without it the SDK only logs a late answer and keeps waiting.
    requestHandler: { connectionTimeout: 1000, requestTimeout: SNS_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
  });
}

export class SnsAlertPublisher implements AlertPublisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  /** Message: the JSON document; Subject: the summary; MessageAttributes type and severity for filter policies. */
  async publish(alert: AlertMessage, options: PublishOptions = {}): Promise<void> {
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
        { abortSignal: options.signal },
      );
    } catch (error) {
      throw new AlertPublishError(alert.message.alertId, error);
    }
  }
}
