// The behaviour every UnauthenticatedAttemptStore adapter must have; run against each adapter.
import { describe, expect, it } from 'vitest';
import type { UnauthenticatedAttempt, UnauthenticatedAttemptStore } from '../../lib/ports/attempt-store.ts';
import { InvalidPageTokenError } from '../../lib/ports/errors.ts';

const DAY = 86_400_000;
// The real clock: DynamoDB Local's TTL sweeper really deletes items whose 7 days have passed.
const now = new Date();
const window = { since: new Date(now.getTime() - 7 * DAY), now };

function attempt(minutesAgo: number, overrides: Partial<UnauthenticatedAttempt> = {}): UnauthenticatedAttempt {
  return {
    deviceId: 'C02XK1JHJG5J',
    checkinId: `a-${minutesAgo}`,
    violations: ['CLIENT_CERT_MISSING'],
    sourceIp: '198.51.100.7',
    at: new Date(now.getTime() - minutesAgo * 60_000).toISOString(),
    ...overrides,
  };
}

export function attemptStoreContract(name: string, makeStore: () => Promise<UnauthenticatedAttemptStore>): void {
  describe(`${name} (UnauthenticatedAttemptStore contract)`, () => {
    it('lists what it recorded, newest first, with every field as given', async () => {
      const store = await makeStore();
      const withCertificate = attempt(5, { violations: ['CLIENT_CERT_UNTRUSTED', 'CLIENT_CERT_DEVICE_MISMATCH'], fingerprint: 'ab'.repeat(32) });
      await store.record(attempt(10));
      await store.record(withCertificate);
      expect(await store.list(window, 50)).toEqual({ items: [withCertificate, attempt(10)] });
    });

    it('keeps two attempts with the same checkinId and time apart (an attacker may repeat one)', async () => {
      const store = await makeStore();
      await store.record(attempt(1));
      await store.record(attempt(1));
      expect((await store.list(window, 50)).items).toEqual([attempt(1), attempt(1)]);
    });

    it('pages newest first across days, each attempt exactly once, and leaves out what is older than the window', async () => {
      const store = await makeStore();
      // Minutes ago, newest first: within today, yesterday, three days ago, six days ago; and eight days ago (outside the window).
      const ages = [1, 2, 3, 60 * 24 + 1, 60 * 24 + 2, 3 * 60 * 24, 6 * 60 * 24, 8 * 60 * 24];
      for (const age of ages) await store.record(attempt(age));
      for (const limit of [1, 2, 3, 7, 50]) {
        const seen: string[] = [];
        let token: string | undefined;
        let pages = 0;
        do {
          const page = await store.list(window, limit, token);
          expect(page.items.length).toBeLessThanOrEqual(limit);
          seen.push(...page.items.map((a) => a.checkinId));
          token = page.nextToken;
          pages += 1;
        } while (token && pages < 20);
        expect({ limit, seen }).toEqual({ limit, seen: ages.slice(0, 7).map((age) => `a-${age}`) });
      }
    });

    it('refuses a page token it did not give out', async () => {
      const store = await makeStore();
      await expect(store.list(window, 2, 'e30')).rejects.toBeInstanceOf(InvalidPageTokenError);
      await expect(store.list(window, 2, 'not a token!')).rejects.toBeInstanceOf(InvalidPageTokenError);
    });

    it('lists nothing when nothing was recorded', async () => {
      const store = await makeStore();
      expect(await store.list(window, 50)).toEqual({ items: [] });
    });
  });
}
