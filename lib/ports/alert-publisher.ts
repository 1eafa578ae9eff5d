// Where alerts go (SNS in AWS, the local SNS endpoint in local mode).
import type { AlertMessage } from '../domain/alerts.ts';

export interface AlertPublisher {
  /** Resolves once the message is accepted; throws when it was not (the caller retries, with the same alertId). */
  publish(alert: AlertMessage): Promise<void>;
}
export type { AlertMessage } from '../domain/alerts.ts';
