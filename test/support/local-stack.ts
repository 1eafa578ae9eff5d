// Starts the local runner (the same code as `npm start`) against the test run's DynamoDB Local, on free ports.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack.ts';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
/** A TRUSTED_PROXY_SECRET for stacks started with params.trustedClientCertHeader (pass it as trustedProxySecret). */
export const TEST_TRUSTED_PROXY_SECRET = 'test-trusted-proxy-secret-0123456789abcdef';

/** One stack per test file (handlers read their environment at import, as in Lambda). */
export async function startTestStack(options: Partial<LocalStackOptions> = {}): Promise<LocalStack> {
  return startLocalStack({
    port: 0,
    tlsPort: 0,
    dynamoDbPort: 0,
    snsPort: 0,
    dataDir: mkdtempSync(join(tmpdir(), 'tollgate-test-')),
    dynamoDbEndpoint: inject('dynamoDbEndpoint'),
    tablePrefix: `e2e${randomBytes(4).toString('hex')}`,
    adminToken: TEST_ADMIN_TOKEN,
    log: () => undefined,
    ...options,
  });
}
