// lib/adapters/ssm.ts: the trusted proxy's secret read from an SSM SecureString parameter (aws-sdk-client-mock:
// there is no local Parameter Store). The value never appears in an error.
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { readSecureStringParameter, resolveTrustedProxy } from '../../lib/adapters/ssm.ts';
import { ConfigError } from '../../lib/config.ts';

const NAME = '/tollgate/prod/trusted-proxy-secret';
const SECRET = 'proxy-secret-0123456789abcdefghijklmnop';

function ssm() {
  const client = new SSMClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  return { client, mock: mockClient(client) };
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('readSecureStringParameter', () => {
  it('reads the parameter decrypted, in one call', async () => {
    const { client, mock } = ssm();
    mock.on(GetParameterCommand).resolves({ Parameter: { Name: NAME, Type: 'SecureString', Value: SECRET } });
    expect(await readSecureStringParameter(client, NAME)).toBe(SECRET);
    expect(mock.commandCalls(GetParameterCommand).map((call) => call.args[0].input)).toEqual([{ Name: NAME, WithDecryption: true }]);
  });

  it.each([
    // answer | message
    [{ Parameter: { Name: NAME, Type: 'String', Value: SECRET } }, `The SSM parameter ${NAME} must be a SecureString, not String`],
    [{ Parameter: { Name: NAME, Type: 'SecureString', Value: '' } }, `The SSM parameter ${NAME} is empty`],
    [{}, `The SSM parameter ${NAME} must be a SecureString, not absent`],
  ] as const)('refuses %j', async (answer, message) => {
    const { client, mock } = ssm();
    mock.on(GetParameterCommand).resolves(answer as never);
    const error = await errorOf(readSecureStringParameter(client, NAME));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(message);
  });

  it('names the parameter and the SDK error, not its text', async () => {
    const { client, mock } = ssm();
    mock.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'detail from the service', $metadata: { httpStatusCode: 400 } }));
    const error = await errorOf(readSecureStringParameter(client, NAME));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`Could not read the SSM parameter ${NAME}: ParameterNotFound`);
  });
});

describe('resolveTrustedProxy', () => {
  it('is undefined without a header, and makes no SSM client', async () => {
    expect(await resolveTrustedProxy(undefined, () => { throw new Error('no client expected'); })).toBeUndefined();
  });

  it('uses a secret given directly (local mode) without SSM', async () => {
    expect(await resolveTrustedProxy({ header: 'x-client-cert', secret: SECRET }, () => { throw new Error('no client expected'); })).toEqual({
      header: 'x-client-cert',
      secret: SECRET,
    });
  });

  it('reads the parameter once and gives the header with its value', async () => {
    const { client, mock } = ssm();
    mock.on(GetParameterCommand).resolves({ Parameter: { Name: NAME, Type: 'SecureString', Value: SECRET } });
    expect(await resolveTrustedProxy({ header: 'x-client-cert', secretParameter: NAME }, () => client)).toEqual({ header: 'x-client-cert', secret: SECRET });
    expect(mock.commandCalls(GetParameterCommand)).toHaveLength(1);
  });

  it('checks the stored value as it checks TRUSTED_PROXY_SECRET, without quoting it', async () => {
    const { client, mock } = ssm();
    const short = 'too-short-secret';
    mock.on(GetParameterCommand).resolves({ Parameter: { Name: NAME, Type: 'SecureString', Value: short } });
    const error = await errorOf(resolveTrustedProxy({ header: 'x-client-cert', secretParameter: NAME }, () => client));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`The SSM parameter ${NAME} (TRUSTED_PROXY_SECRET_PARAMETER) must be at least 32 characters`);
    expect(error.message).not.toContain(short);
  });
});
