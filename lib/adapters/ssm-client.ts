// The SSM client, in a module of its own that lib/adapters/ssm.ts imports on first use, so that a function reads its
// code only when it must read a parameter (check-in: only with TRUSTED_PROXY_SECRET_PARAMETER). When packaged, the
// import below is replaced by the two ES modules it needs (serverless-plugins/esbuild-plugins.cjs): a module loaded on
// first use is kept whole by the bundler, and the package's index would bring every SSM command.
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

export { GetParameterCommand };

/**
 * Cold start has at most 10 s: three attempts of at most 1 s to connect and 2 s to answer, then the function fails
 * to start (and the Errors alarm says so) rather than run without its secret.
 */
export function createSsmClient(): SSMClient {
  return new SSMClient({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true },
  });
}
