// The admin function's tokens at cold start: ADMIN_TOKENS in local mode and tests, or the SSM SecureString parameter
// whose name the template carries (ADMIN_TOKENS_PARAMETER) in AWS — exactly one of the two. aws-sdk-client-mock
// stands in for Parameter Store, which has no local version. No hash or token appears in an error.
import { createHash } from 'node:crypto';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { readSecureStringParameter } from '../../lib/adapters/ssm.ts';
import { ConfigError } from '../../lib/config.ts';
import { loadAdminConfig } from '../../lib/http/admin-auth.ts';

const PARAMETER = '/tollgate/prod/admin-tokens';
const TABLES = { CONFIG_TABLE: 'config', DECISIONS_TABLE: 'decisions', DEVICE_STATUS_TABLE: 'status' };
const sha = (token: string) => createHash('sha256').update(token).digest('hex');
const ENTRIES = `alice:admin:${sha('token-a')}, audrey:auditor:${sha('token-b')}`;

function parameterStore(value: string, type = 'SecureString') {
  const client = new SSMClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(client);
  mock.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER, Type: type as 'SecureString', Value: value } });
  return { mock, read: (name: string) => readSecureStringParameter(client, name) };
}

const noParameterStore = () => Promise.reject(new Error('Parameter Store must not be called'));

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('loadAdminConfig', () => {
  it('reads the tokens from the parameter, decrypted, once', async () => {
    const { mock, read } = parameterStore(ENTRIES);
    const config = await loadAdminConfig({ ...TABLES, ADMIN_TOKENS_PARAMETER: PARAMETER }, read);
    expect(config.tokens.map(({ name, role, digest }) => ({ name, role, digest: digest.toString('hex') }))).toEqual([
      { name: 'alice', role: 'admin', digest: sha('token-a') },
      { name: 'audrey', role: 'auditor', digest: sha('token-b') },
    ]);
    expect(config.configTable).toBe('config');
    expect(mock.commandCalls(GetParameterCommand).map((call) => call.args[0].input)).toEqual([{ Name: PARAMETER, WithDecryption: true }]);
  });

  it('uses ADMIN_TOKENS without touching Parameter Store when no parameter is named (local mode, tests)', async () => {
    const config = await loadAdminConfig({ ...TABLES, ADMIN_TOKENS: ENTRIES, ADMIN_TOKENS_PARAMETER: '' }, noParameterStore);
    expect(config.tokens.map((t) => t.name)).toEqual(['alice', 'audrey']);
  });

  it.each([
    // case | environment | message
    ['both set', { ADMIN_TOKENS: ENTRIES, ADMIN_TOKENS_PARAMETER: PARAMETER }, 'Set ADMIN_TOKENS or ADMIN_TOKENS_PARAMETER, not both'],
    ['a name that is no path', { ADMIN_TOKENS_PARAMETER: 'admin-tokens' }, 'ADMIN_TOKENS_PARAMETER must be an SSM parameter path such as /tollgate/prod/admin-tokens, got "admin-tokens"'],
    ['neither set', {}, 'Environment variable ADMIN_TOKENS is required: comma-separated name:role:sha256hex entries (role admin or auditor)'],
  ])('refuses %s before any call', async (_case, env, message) => {
    const error = await errorOf(loadAdminConfig({ ...TABLES, ...env }, noParameterStore));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(message);
  });

  it.each([
    // case | stored value | type | message
    ['a malformed entry', 'alice:admin', 'SecureString', `The SSM parameter ${PARAMETER} (ADMIN_TOKENS_PARAMETER): ADMIN_TOKENS entry 1 must be name:role:sha256hex (three parts separated by ':'), found 2 part(s)`],
    ['a token where its hash belongs', `alice:admin:token-a`, 'SecureString', `The SSM parameter ${PARAMETER} (ADMIN_TOKENS_PARAMETER): ADMIN_TOKENS entry 1 ("alice"): the third part must be the token's SHA-256 as 64 hex digits (printf %s "$TOKEN" | sha256sum), not the token itself`],
    ['only separators', ' , ', 'SecureString', `The SSM parameter ${PARAMETER} (ADMIN_TOKENS_PARAMETER): Environment variable ADMIN_TOKENS is required: comma-separated name:role:sha256hex entries (role admin or auditor)`],
    ['a plain String parameter', ENTRIES, 'String', `The SSM parameter ${PARAMETER} must be a SecureString, not String`],
  ])('refuses %s, naming the parameter and not the value', async (_case, value, type, message) => {
    const { read } = parameterStore(value, type);
    const error = await errorOf(loadAdminConfig({ ...TABLES, ADMIN_TOKENS_PARAMETER: PARAMETER }, read));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(message);
    expect(error.message).not.toContain(sha('token-a'));
    expect(error.message).not.toContain('token-a');
  });
});
