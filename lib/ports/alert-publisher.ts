// Where alerts go (SNS in AWS, the local SNS endpoint in local mode), and where an alert SNS refuses for good is
// parked (the alerts function's on-failure queue).
import type { AlertMessage } from '../domain/alerts.ts';

export interface PublishOptions {
  /** Aborts the publish (the caller's deadline). */
  signal?: AbortSignal;
}

export interface AlertPublisher {
  /**
   * Resolves once the message is accepted; throws when it was not (the caller retries, with the same alertId). An
   * error with `permanent: true` means retrying cannot help.
   */
  publish(alert: AlertMessage, options?: PublishOptions): Promise<void>;
}

/** Why an alert was parked, and where it came from: enough to publish it again once the cause is fixed. */
export interface ParkedAlert {
  alert: AlertMessage;
  /** The error's name (never its message, which may quote the alert). */
  error: string;
  parkedAt: string;
  /** The stream record that raised it. */
  eventID?: string;
  sequenceNumber?: string;
}

export interface AlertParking {
  /** Resolves once the parked alert is kept; throws when it was not (the caller retries the record). */
  park(parked: ParkedAlert): Promise<void>;
}
export type { AlertMessage } from '../domain/alerts.ts';
