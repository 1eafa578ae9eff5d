// SSM Parameter Store adapter: reads a SecureString once at cold start (the trusted proxy's secret for check-in,
// ADMIN_TOKENS for admin). The value is returned to the caller only: it is never logged, and no error message quotes it.
import { GetParameterCommand, type Parameter, SSMClient } from '@aws-sdk/client-ssm';
import { checkTrustedProxySecret, ConfigError, type TrustedProxyConfig } from '../config.ts';
import type { TrustedProxy } from '../domain/device-identity.ts';

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

/**
 * The decrypted value of one SecureString parameter. Throws ConfigError naming the parameter (never its value)
 * when it cannot be read, is not a SecureString, or is empty.
 */
export async function readSecureStringParameter(client: Pick<SSMClient, 'send'>, name: string): Promise<string> {
  let parameter: Parameter | undefined;
  try {
    parameter = (await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter;
  } catch (error) {
    // The SDK error's name says enough (ParameterNotFound, AccessDeniedException, TimeoutError); its text stays out.
    throw new ConfigError(`Could not read the SSM parameter ${name}: ${(error as { name?: string })?.name ?? 'Error'}`, { cause: error });
  }
  if (parameter?.Type !== 'SecureString') throw new ConfigError(`The SSM parameter ${name} must be a SecureString, not ${parameter?.Type ?? 'absent'}`);
  if (!parameter.Value) throw new ConfigError(`The SSM parameter ${name} is empty`);
  return parameter.Value;
}

/**
 * The trusted proxy with its secret, ready for the check-in service: the configured secret as it is, or the SSM
 * parameter's value (read once, with a client made only then), checked like TRUSTED_PROXY_SECRET. Undefined when no
 * header is configured.
 */
export async function resolveTrustedProxy(
  config: TrustedProxyConfig | undefined,
  ssmClient: () => Pick<SSMClient, 'send'> = createSsmClient,
): Promise<TrustedProxy | undefined> {
  if (!config) return undefined;
  if (config.secret !== undefined) return { header: config.header, secret: config.secret };
  const secret = await readSecureStringParameter(ssmClient(), config.secretParameter);
  return { header: config.header, secret: checkTrustedProxySecret(secret, `The SSM parameter ${config.secretParameter} (TRUSTED_PROXY_SECRET_PARAMETER)`) };
}
