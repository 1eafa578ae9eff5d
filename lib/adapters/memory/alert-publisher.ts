// In-memory AlertPublisher: keeps what it was given, in order (for tests and tools that want to look at alerts).
import type { AlertMessage } from '../../domain/alerts.ts';
import type { AlertPublisher } from '../../ports/alert-publisher.ts';

export class InMemoryAlertPublisher implements AlertPublisher {
  readonly published: AlertMessage[] = [];

  async publish(alert: AlertMessage): Promise<void> {
    this.published.push(structuredClone(alert));
  }
}
