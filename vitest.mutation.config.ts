// The test run Stryker mutates against (npm run mutation, stryker.config.mjs): the unit tests of the domain and the
// services, and the contract suites on the in-memory adapters. No globalSetup, so no DynamoDB Local: every mutant
// is judged by tests that run in milliseconds.
import { defineConfig } from 'vitest/config';

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
      'test/unit/security-claims.test.ts',
      'test/unit/ssm-trusted-proxy-secret.test.ts',
    ],
    // The certificates and keys a test file makes with openssl, made once per run instead of once per mutant.
    setupFiles: ['test/support/mutation-fixture-cache.ts'],
    // Modules (the domain, the ASN.1 and PKCS#12 libraries) stay loaded between the runs of one test runner; every
    // test file still runs from the start, hooks and all, for every mutant.
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true', AWS_REGION: 'us-east-1' },
  },
});
