// lib/config.ts: the check-in configuration, and the trusted proxy's header with its secret (API.md §1, way 2).
import { describe, expect, it } from 'vitest';
import { checkTrustedProxySecret, ConfigError, readCheckinConfig, readTrustedProxyConfig } from '../../lib/config.ts';

const TABLES = { CONFIG_TABLE: 'c', DECISIONS_TABLE: 'd', DEVICE_STATUS_TABLE: 's' };
const SECRET = 'proxy-secret-0123456789abcdefghijklmnop';
const PARAMETER = '/tollgate/prod/trusted-proxy-secret';

describe('readTrustedProxyConfig', () => {
  it.each([
    // environment | configuration
    [{}, undefined],
    [{ TRUSTED_CLIENT_CERT_HEADER: '  ' }, undefined],
    // The secret variables alone configure nothing.
    [{ TRUSTED_PROXY_SECRET: SECRET, TRUSTED_PROXY_SECRET_PARAMETER: PARAMETER }, undefined],
    [{ TRUSTED_CLIENT_CERT_HEADER: 'X-Client-Cert', TRUSTED_PROXY_SECRET: SECRET }, { header: 'x-client-cert', secret: SECRET }],
    [{ TRUSTED_CLIENT_CERT_HEADER: 'x-amzn-mtls-clientcert', TRUSTED_PROXY_SECRET_PARAMETER: ` ${PARAMETER} ` }, { header: 'x-amzn-mtls-clientcert', secretParameter: PARAMETER }],
    // Empty counts as unset (serverless.yml gives the unused one as '').
    [{ TRUSTED_CLIENT_CERT_HEADER: 'x-client-cert', TRUSTED_PROXY_SECRET: SECRET, TRUSTED_PROXY_SECRET_PARAMETER: '' }, { header: 'x-client-cert', secret: SECRET }],
  ])('%j → %j', (env, expected) => {
    expect(readTrustedProxyConfig(env)).toEqual(expected);
  });

  it.each([
    // environment | message (one line, naming the variables)
    [{ TRUSTED_CLIENT_CERT_HEADER: 'x-client-cert' }, /^TRUSTED_CLIENT_CERT_HEADER is set but TRUSTED_PROXY_SECRET \(at least 32 characters\) is not/],
    [{ TRUSTED_CLIENT_CERT_HEADER: 'x-client-cert', TRUSTED_PROXY_SECRET: '' }, /TRUSTED_PROXY_SECRET .* is not/],
    [{ TRUSTED_CLIENT_CERT_HEADER: 'x-client-cert', TRUSTED_PROXY_SECRET: 'a'.repeat(31) }, /^TRUSTED_PROXY_SECRET must be at least 32 characters$/],
    [{ TRUSTED_CLIENT_CERT_HEADER: 'x-client-cert', TRUSTED_PROXY_SECRET: ` ${SECRET}` }, /^TRUSTED_PROXY_SECRET must be printable ASCII without leading or trailing spaces/],
    [{ TRUSTED_CLIENT_CERT_HEADER: 'x-client-cert', TRUSTED_PROXY_SECRET: `${SECRET}\n` }, /^TRUSTED_PROXY_SECRET must be printable ASCII/],
    [{ TRUSTED_CLIENT_CERT_HEADER: 'x-client-cert', TRUSTED_PROXY_SECRET: `${SECRET}é` }, /^TRUSTED_PROXY_SECRET must be printable ASCII/],
    [{ TRUSTED_CLIENT_CERT_HEADER: 'x-client-cert', TRUSTED_PROXY_SECRET: SECRET, TRUSTED_PROXY_SECRET_PARAMETER: PARAMETER }, /^Set TRUSTED_PROXY_SECRET or TRUSTED_PROXY_SECRET_PARAMETER, not both$/],
    [{ TRUSTED_CLIENT_CERT_HEADER: 'x-client-cert', TRUSTED_PROXY_SECRET_PARAMETER: 'tollgate-secret' }, /^TRUSTED_PROXY_SECRET_PARAMETER must be an SSM parameter path/],
    [{ TRUSTED_CLIENT_CERT_HEADER: 'x client cert', TRUSTED_PROXY_SECRET: SECRET }, /^TRUSTED_CLIENT_CERT_HEADER must be an HTTP header name/],
    [{ TRUSTED_CLIENT_CERT_HEADER: 'X-Tollgate-Proxy-Secret', TRUSTED_PROXY_SECRET: SECRET }, /^TRUSTED_CLIENT_CERT_HEADER must not be x-tollgate-proxy-secret/],
  ])('refuses %j', (env, message) => {
    let error: unknown;
    try {
      readTrustedProxyConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it.each(['short-but-secret', ` ${SECRET} `])('never quotes the secret in a refusal (%j)', (secret) => {
    expect(() => checkTrustedProxySecret(secret, 'TRUSTED_PROXY_SECRET')).toThrow(ConfigError);
    expect(() => checkTrustedProxySecret(secret, 'TRUSTED_PROXY_SECRET')).not.toThrow(secret.trim());
  });

  it('accepts exactly 32 characters, and inner spaces', () => {
    expect(checkTrustedProxySecret('a'.repeat(32), 'S')).toBe('a'.repeat(32));
    expect(checkTrustedProxySecret(`${'a'.repeat(16)} ${'b'.repeat(16)}`, 'S')).toHaveLength(33);
  });
});

describe('readCheckinConfig', () => {
  it('reads the tables, the retentions and the trusted proxy', () => {
    expect(
      readCheckinConfig({ ...TABLES, DECISION_RETENTION_DAYS: '30', IDEMPOTENCY_RETENTION_DAYS: '2', TRUSTED_CLIENT_CERT_HEADER: 'x-client-cert', TRUSTED_PROXY_SECRET: SECRET }),
    ).toEqual({
      configTable: 'c',
      decisionsTable: 'd',
      deviceStatusTable: 's',
      decisionRetentionDays: 30,
      idempotencyRetentionDays: 2,
      trustedProxy: { header: 'x-client-cert', secret: SECRET },
    });
    expect(readCheckinConfig(TABLES).trustedProxy).toBeUndefined();
  });

  it('keeps decisions 90 days and idempotency records 3 days unless told otherwise', () => {
    expect(readCheckinConfig(TABLES)).toMatchObject({ decisionRetentionDays: 90, idempotencyRetentionDays: 3 });
    expect(() => readCheckinConfig({ ...TABLES, IDEMPOTENCY_RETENTION_DAYS: '0' })).toThrow('Environment variable IDEMPOTENCY_RETENTION_DAYS must be a positive integer, got "0"');
  });

  it('fails at cold start when the header comes without its secret', () => {
    expect(() => readCheckinConfig({ ...TABLES, TRUSTED_CLIENT_CERT_HEADER: 'x-client-cert', TRUSTED_PROXY_SECRET_PARAMETER: '' })).toThrow(
      /TRUSTED_CLIENT_CERT_HEADER is set but TRUSTED_PROXY_SECRET/,
    );
  });
});
