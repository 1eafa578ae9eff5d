import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One DynamoDB Local for the whole run; each test file makes its own tables in it.
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Two files at a time even on 2 cores: most of a file's time is spent waiting on DynamoDB Local, HTTP and child
    // processes (vitest's default, one fewer than the cores, would run them one by one there).
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true', AWS_REGION: 'us-east-1' },
  },
});
