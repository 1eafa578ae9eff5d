// The behaviour every AlertPublisher adapter must have: each alert delivered once, in order, with its subject, type,
// severity and message as given. `delivered` reads back what reached the other side.
import { describe, expect, it } from 'vitest';
import type { AlertMessage } from '../../lib/domain/alerts.ts';
import type { AlertPublisher } from '../../lib/ports/alert-publisher.ts';

export interface PublisherUnderTest {
  publisher: AlertPublisher;
  delivered(): Promise<AlertMessage[]>;
}

const alert = (n: number): AlertMessage => ({
  type: 'DEVICE_BLOCKED',
  severity: n % 2 === 0 ? 'high' : 'warning',
  subject: `Device C02-${n} blocked: clock skew ${400 + n} s > 300 s`,
  message: { type: 'DEVICE_BLOCKED', alertId: `00000000-0000-8000-8000-00000000000${n}`, occurredAt: '2026-11-25T18:06:03.120Z', deviceId: `C02-${n}`, note: 'Ünïcödé & <xml> "quotes" = + / %' },
});

export function alertPublisherContract(name: string, make: () => Promise<PublisherUnderTest>): void {
  describe(`${name} (AlertPublisher contract)`, () => {
    it('delivers each alert once, in order, with subject, type, severity and message as given', async () => {
      const { publisher, delivered } = await make();
      for (const n of [1, 2, 3]) await publisher.publish(alert(n));
      expect(await delivered()).toEqual([alert(1), alert(2), alert(3)]);
    });
  });
}
