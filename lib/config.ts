// Reads the environment once, at cold start, and fails fast naming the variable that is missing or wrong.
import { PROXY_SECRET_HEADER } from './domain/device-identity.ts';

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`Environment variable ${name} is required`);
  return value;
}

function positiveInteger(env: Env, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`Environment variable ${name} must be a positive integer, got "${text}"`);
  return value;
}

export interface TableConfig {
  configTable: string;
  decisionsTable: string;
  deviceStatusTable: string;
}

export function readTableConfig(env: Env = process.env): TableConfig {
  return {
    configTable: required(env, 'CONFIG_TABLE'),
    decisionsTable: required(env, 'DECISIONS_TABLE'),
    deviceStatusTable: required(env, 'DEVICE_STATUS_TABLE'),
  };
}

/** Shortest TRUSTED_PROXY_SECRET accepted (API.md §1): long enough that guessing it over HTTP is hopeless. */
export const MIN_TRUSTED_PROXY_SECRET_LENGTH = 32;

/** Header names as HTTP defines them (RFC 9110 token), lower-cased. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
/** An SSM parameter path as the IAM grant in serverless.yml expects it: a leading slash, then SSM's name characters. */
export const SSM_PARAMETER_PATH = /^\/[A-Za-z0-9_.\-/]{1,1010}$/;
/** Visible ASCII with inner spaces: what a proxy can put in a header value and the comparison sees unchanged. */
const HEADER_SAFE_SECRET = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * The TLS-terminating proxy whose client-certificate header is believed (API.md §1, way 2), as configured. The
 * secret is given directly (TRUSTED_PROXY_SECRET: local mode, tests) or as the name of an SSM SecureString parameter
 * read once at cold start (TRUSTED_PROXY_SECRET_PARAMETER: AWS); exactly one of the two is set.
 */
export type TrustedProxyConfig =
  | { /** Lower-cased header name. */ header: string; secret: string; secretParameter?: undefined }
  | { header: string; secret?: undefined; secretParameter: string };

/**
 * Checks a proxy secret, wherever it came from (`source` names it in the message). Messages never quote the value.
 */
export function checkTrustedProxySecret(secret: string, source: string): string {
  if (secret.length < MIN_TRUSTED_PROXY_SECRET_LENGTH) {
    throw new ConfigError(`${source} must be at least ${MIN_TRUSTED_PROXY_SECRET_LENGTH} characters`);
  }
  if (!HEADER_SAFE_SECRET.test(secret)) {
    throw new ConfigError(`${source} must be printable ASCII without leading or trailing spaces (it travels in the X-Tollgate-Proxy-Secret header)`);
  }
  return secret;
}

/**
 * TRUSTED_CLIENT_CERT_HEADER with its secret, or undefined when the header is not set (the secret variables are then
 * unused). A header without a secret is refused: without it any client could claim a certificate.
 */
export function readTrustedProxyConfig(env: Env = process.env): TrustedProxyConfig | undefined {
  const header = env.TRUSTED_CLIENT_CERT_HEADER?.trim().toLowerCase();
  if (!header) return undefined;
  if (!HEADER_NAME.test(header)) throw new ConfigError(`TRUSTED_CLIENT_CERT_HEADER must be an HTTP header name, got "${header}"`);
  if (header === PROXY_SECRET_HEADER) throw new ConfigError(`TRUSTED_CLIENT_CERT_HEADER must not be ${PROXY_SECRET_HEADER}, the header that carries the secret`);
  const secret = env.TRUSTED_PROXY_SECRET || undefined;
  const secretParameter = env.TRUSTED_PROXY_SECRET_PARAMETER?.trim() || undefined;
  if (secret !== undefined && secretParameter !== undefined) {
    throw new ConfigError('Set TRUSTED_PROXY_SECRET or TRUSTED_PROXY_SECRET_PARAMETER, not both');
  }
  if (secret !== undefined) return { header, secret: checkTrustedProxySecret(secret, 'TRUSTED_PROXY_SECRET') };
  if (secretParameter !== undefined) {
    if (!SSM_PARAMETER_PATH.test(secretParameter)) {
      throw new ConfigError(`TRUSTED_PROXY_SECRET_PARAMETER must be an SSM parameter path such as /tollgate/prod/trusted-proxy-secret, got "${secretParameter}"`);
    }
    return { header, secretParameter };
  }
  throw new ConfigError(
    `TRUSTED_CLIENT_CERT_HEADER is set but TRUSTED_PROXY_SECRET (at least ${MIN_TRUSTED_PROXY_SECRET_LENGTH} characters) is not; the certificate header is believed only with the proxy's secret`,
  );
}

export interface CheckinConfig extends TableConfig {
  /** Days decisions are kept (DynamoDB TTL). */
  decisionRetentionDays: number;
  /** Days a check-in's idempotency record (its replayable answer) is kept (DynamoDB TTL). */
  idempotencyRetentionDays: number;
  /** The trusted TLS-terminating proxy, if any (its secret may still need resolving: lib/adapters/ssm.ts). */
  trustedProxy?: TrustedProxyConfig;
}

export function readCheckinConfig(env: Env = process.env): CheckinConfig {
  return {
    ...readTableConfig(env),
    decisionRetentionDays: positiveInteger(env, 'DECISION_RETENTION_DAYS', 90),
    idempotencyRetentionDays: positiveInteger(env, 'IDEMPOTENCY_RETENTION_DAYS', 3),
    trustedProxy: readTrustedProxyConfig(env),
  };
}

export interface AlertConfig {
  alertTopicArn: string;
}

export function readAlertConfig(env: Env = process.env): AlertConfig {
  return { alertTopicArn: required(env, 'ALERT_TOPIC_ARN') };
}

/**
 * MASS_BLOCK's threshold and window (API.md §4; massBlockDevices, massBlockWindowMinutes). The threshold is capped so
 * that a window's item (the first massBlockDevices + 1 device ids) stays well inside DynamoDB's 400 KB; the window
 * at a day.
 */
export const MAX_MASS_BLOCK_DEVICES = 2000;
export const MAX_MASS_BLOCK_WINDOW_MINUTES = 1440;

export interface MassBlockConfig {
  devices: number;
  windowMinutes: number;
}

function boundedInteger(env: Env, name: string, fallback: number, max: number): number {
  const value = positiveInteger(env, name, fallback);
  if (value > max) throw new ConfigError(`Environment variable ${name} must be at most ${max}, got "${value}"`);
  return value;
}

export function readMassBlockConfig(env: Env = process.env): MassBlockConfig {
  return {
    devices: boundedInteger(env, 'MASS_BLOCK_DEVICES', 50, MAX_MASS_BLOCK_DEVICES),
    windowMinutes: boundedInteger(env, 'MASS_BLOCK_WINDOW_MINUTES', 10, MAX_MASS_BLOCK_WINDOW_MINUTES),
  };
}

/** The alerts function: where alerts go, the MASS_BLOCK policy, and the tables it reads and counts in. */
export interface AlertsFunctionConfig extends AlertConfig {
  massBlock: MassBlockConfig;
  decisionsTable: string;
}

export function readAlertsFunctionConfig(env: Env = process.env): AlertsFunctionConfig {
  return { ...readAlertConfig(env), massBlock: readMassBlockConfig(env), decisionsTable: required(env, 'DECISIONS_TABLE') };
}

export { required as requiredEnv, positiveInteger as positiveIntegerEnv };
