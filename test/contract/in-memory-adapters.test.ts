// Every contract suite of this folder on the in-memory adapters alone: fast, and what `npm run mutation` runs (no
// DynamoDB Local or SNS endpoint there). test/integration/*-contract.test.ts run the same suites on both adapters.
import { InMemoryAlertPublisher } from '../../lib/adapters/memory/alert-publisher.ts';
import { InMemoryUnauthenticatedAttemptStore } from '../../lib/adapters/memory/attempt-store.ts';
import { ManualClock } from '../../lib/adapters/memory/clock.ts';
import { InMemoryConfigStore } from '../../lib/adapters/memory/config-store.ts';
import { InMemoryDecisionStore } from '../../lib/adapters/memory/decision-store.ts';
import { InMemoryExpiryAlertStore } from '../../lib/adapters/memory/expiry-alert-store.ts';
import { InMemoryImagingStore } from '../../lib/adapters/memory/imaging-store.ts';
import { InMemoryLoginAttemptStore } from '../../lib/adapters/memory/login-attempt-store.ts';
import { alertPublisherContract } from './alert-publisher.contract.ts';
import { attemptStoreContract } from './attempt-store.contract.ts';
import { clockContract } from './clock.contract.ts';
import { configStoreContract } from './config-store.contract.ts';
import { decisionStoreContract } from './decision-store.contract.ts';
import { deviceStatusStoreContract } from './device-status-store.contract.ts';
import { expiryAlertStoreContract } from './expiry-alert-store.contract.ts';
import { imagingStoreContract } from './imaging-store.contract.ts';
import { loginAttemptStoreContract } from './login-attempt-store.contract.ts';

alertPublisherContract('InMemoryAlertPublisher', async () => {
  const publisher = new InMemoryAlertPublisher();
  return { publisher, delivered: async () => publisher.published };
});
attemptStoreContract('InMemoryUnauthenticatedAttemptStore', async () => new InMemoryUnauthenticatedAttemptStore());
clockContract('ManualClock', () => new ManualClock('2026-11-25T18:06:03.120Z'));
configStoreContract('InMemoryConfigStore', async (options) => new InMemoryConfigStore(options));
decisionStoreContract('InMemoryDecisionStore', async () => new InMemoryDecisionStore());
deviceStatusStoreContract('InMemoryDecisionStore', async () => {
  const store = new InMemoryDecisionStore();
  return { writer: store, statuses: store };
});
expiryAlertStoreContract('InMemoryExpiryAlertStore', async (leaseMs) => new InMemoryExpiryAlertStore(leaseMs));
imagingStoreContract('InMemoryImagingStore', async () => {
  const config = new InMemoryConfigStore();
  return { imaging: new InMemoryImagingStore(config), config };
});
loginAttemptStoreContract('InMemoryLoginAttemptStore', async () => new InMemoryLoginAttemptStore());
