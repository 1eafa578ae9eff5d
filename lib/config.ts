// Reads the environment once, at cold start, and fails fast naming the variable that is missing or wrong.

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

export interface CheckinConfig extends TableConfig {
  /** Days decisions are kept (DynamoDB TTL). */
  decisionRetentionDays: number;
  /** Lower-cased name of the header a trusted TLS-terminating proxy puts the client certificate in, if any. */
  trustedClientCertHeader?: string;
}

export function readCheckinConfig(env: Env = process.env): CheckinConfig {
  return {
    ...readTableConfig(env),
    decisionRetentionDays: positiveInteger(env, 'DECISION_RETENTION_DAYS', 90),
    trustedClientCertHeader: env.TRUSTED_CLIENT_CERT_HEADER?.trim().toLowerCase() || undefined,
  };
}

export interface AlertConfig {
  alertTopicArn: string;
}

export function readAlertConfig(env: Env = process.env): AlertConfig {
  return { alertTopicArn: required(env, 'ALERT_TOPIC_ARN') };
}

export { required as requiredEnv, positiveInteger as positiveIntegerEnv };
