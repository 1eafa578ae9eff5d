// SSM Parameter Store adapter: reads a SecureString once at cold start (the trusted proxy's secret for check-in,
// ADMIN_TOKENS for admin). The value is returned to the caller only: it is never logged, and no error message quotes it.
import type { Parameter, SSMClient } from '@aws-sdk/client-ssm';
import { checkTrustedProxySecret, ConfigError, type TrustedProxyConfig } from '../config.ts';
import type { TrustedProxy } from '../domain/device-identity.ts';

/**
 * A client made with lib/adapters/ssm-client.ts's settings. The SDK's code is imported here, on first use, so that a
 * function that reads no parameter (check-in without TRUSTED_PROXY_SECRET_PARAMETER) never evaluates it at cold start.
 */
export async function createSsmClient(): Promise<SSMClient> {
  return (await import('./ssm-client.ts')).createSsmClient();
}

/**
 * The decrypted value of one SecureString parameter. Throws ConfigError naming the parameter (never its value)
 * when it cannot be read, is not a SecureString, or is empty.
 */
export async function readSecureStringParameter(client: Pick<SSMClient, 'send'>, name: string): Promise<string> {
  const { GetParameterCommand } = await import('./ssm-client.ts');
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
  ssmClient: () => Pick<SSMClient, 'send'> | Promise<Pick<SSMClient, 'send'>> = createSsmClient,
): Promise<TrustedProxy | undefined> {
  if (!config) return undefined;
  if (config.secret !== undefined) return { header: config.header, secret: config.secret };
  const secret = await readSecureStringParameter(await ssmClient(), config.secretParameter);
  return { header: config.header, secret: checkTrustedProxySecret(secret, `The SSM parameter ${config.secretParameter} (TRUSTED_PROXY_SECRET_PARAMETER)`) };
}
