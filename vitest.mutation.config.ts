// The test run Stryker mutates against (npm run mutation, stryker.config.mjs): the unit tests of the domain and the
// services, and the contract suites on the in-memory adapters. No globalSetup, so no DynamoDB Local: every mutant
// is judged by tests that run in milliseconds.
import { statSync } from 'node:fs';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/** Test files whose tests take seconds each (keys derived at the limits' edge): run after every other file. */
const COSTLY_FILES = ['test/unit/push-certificate-accepted-work.test.ts'];

/**
 * Small, focused test files first, the costly ones last. A mutant's run stops at its first failing test (Stryker
 * runs vitest with bail: 1), so a mutant most focused tests catch is caught before the slow files start; vitest's
 * own order (slowest file first) would run the slowest file for every mutant. Only a surviving mutant runs them all.
 */
class CheapFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cost = (file: TestSpecification): number => {
      const costly = COSTLY_FILES.findIndex((name) => file.moduleId.endsWith(name));
      return costly >= 0 ? Number.MAX_SAFE_INTEGER - COSTLY_FILES.length + costly : statSync(file.moduleId).size;
    };
    return [...files].sort((a, b) => cost(a) - cost(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/contract/in-memory-adapters.test.ts'],
    // Tests of the outer layers (handlers, CLI, DynamoDB and SSM adapters, environment), of the import graph and of
    // SECURITY.md: nothing they test is mutated, and a domain mutant only they notice is a gap in the domain's tests.
    exclude: [
      'test/unit/admin-auth.test.ts',
      'test/unit/admin-cli.test.ts',
      'test/unit/alerts-handler.test.ts',
      'test/unit/architecture.test.ts',
      'test/unit/config.test.ts',
      'test/unit/config-transaction.test.ts',
      'test/unit/decision-store-faults.test.ts',
      'test/unit/decision-store-transaction.test.ts',
      'test/unit/mutation-baseline.test.ts',
      'test/unit/security-claims.test.ts',
      'test/unit/ssm-trusted-proxy-secret.test.ts',
    ],
    // The certificates and keys a test file makes with openssl, made once per run instead of once per mutant.
    setupFiles: ['test/support/mutation-fixture-cache.ts'],
    // Modules (the domain, the ASN.1 and PKCS#12 libraries) stay loaded between the runs of one test runner; every
    // test file still runs from the start, hooks and all, for every mutant.
    isolate: false,
    sequence: { sequencer: CheapFirstSequencer },
    testTimeout: 30_000,
    hookTimeout: 120_000,
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true', AWS_REGION: 'us-east-1' },
  },
});
