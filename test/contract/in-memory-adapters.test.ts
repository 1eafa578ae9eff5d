// The contract suites of this folder on the in-memory adapters alone: fast, and what `npm run mutation` runs
// (no DynamoDB Local there). test/integration/*-contract.test.ts run the same suites on both adapters.
import { InMemoryUnauthenticatedAttemptStore } from '../../lib/adapters/memory/attempt-store.ts';
import { InMemoryDecisionStore } from '../../lib/adapters/memory/decision-store.ts';
import { attemptStoreContract } from './attempt-store.contract.ts';
import { decisionStoreContract } from './decision-store.contract.ts';

decisionStoreContract('InMemoryDecisionStore', async () => new InMemoryDecisionStore());
attemptStoreContract('InMemoryUnauthenticatedAttemptStore', async () => new InMemoryUnauthenticatedAttemptStore());
