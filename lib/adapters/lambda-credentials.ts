// What the packaged functions use in place of the AWS SDK's default credential-provider chain (serverless.yml's
// custom.esbuild.alias maps @aws-sdk/credential-provider-node here). Lambda hands a function its role's credentials
// in environment variables and nothing else, so the chain's other sources (SSO, INI files, credential processes, web
// identity, console login, the container and instance metadata services) are never reached there; bundling them
// cost a third of the check-in bundle and its import time (docs/decisions.md, "Check-in bundle"). Run from source
// (npm start, tests) the SDK's own chain is used, unchanged.
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** The SDK's error for "this source has no credentials", by its name and the flag that lets a chain go on. */
class CredentialsProviderError extends Error {
  override name = 'CredentialsProviderError';
  readonly tryNextLink = false;
}

/** The function's credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, read per call. */
export function defaultProvider(): AwsCredentialIdentityProvider {
  return async () => {
    const env = process.env;
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new CredentialsProviderError('No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
    }
    const credentials: AwsCredentialIdentity = {
      accessKeyId,
      secretAccessKey,
      ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }),
      ...(env.AWS_CREDENTIAL_EXPIRATION && { expiration: new Date(env.AWS_CREDENTIAL_EXPIRATION) }),
    };
    return credentials;
  };
}
