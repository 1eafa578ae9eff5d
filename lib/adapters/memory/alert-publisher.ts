// In-memory AlertPublisher and AlertParking: keep what they were given, in order (for tests and tools that want to
// look at alerts).
import type { AlertMessage } from '../../domain/alerts.ts';
import type { AlertParking, AlertPublisher, ParkedAlert } from '../../ports/alert-publisher.ts';

export class InMemoryAlertPublisher implements AlertPublisher {
  readonly published: AlertMessage[] = [];

  async publish(alert: AlertMessage): Promise<void> {
    this.published.push(structuredClone(alert));
  }
}

export class InMemoryAlertParking implements AlertParking {
  readonly parked: ParkedAlert[] = [];

  async park(parked: ParkedAlert): Promise<void> {
    this.parked.push(structuredClone(parked));
  }
}
