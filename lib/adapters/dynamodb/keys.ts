// The key layout of Tollgate's three tables, in one place. Table and index names are set in serverless.yml.
//
// Config table (pk, sk): everything admins manage.
//   pk CONFIG      sk SETTINGS | DEVICE_CA | SERVER_CERTIFICATE | PUSH_CERTIFICATE | PACKAGE#<id> | REVOCATION#<sha256>
//                  (one Query of this partition loads all a check-in is judged against)
//   pk HISTORY     sk <changedAt>#<version, 12 digits>#<random>  the settings and trust-material history (lines
//                  written before the version was part of the key have sk <changedAt>#<random>; read alike)
//   pk IMAGING_ACCOUNT / PRESTAGE / AUTORUN, sk <name or id>      imaging information
//   pk LOGIN_FAILURES sk <username>                               imaging login attempts, reserved before each check (TTL)
//   pk EXPIRY_ALERT   sk <sha256>#<threshold> | <sha256>#<day> | <sha256>#NONCONFORMING#<rule>#<day>   alerts already sent
// Decisions table (pk, sk):
//   pk DEVICE#<deviceId>  sk <evaluatedAt>#<checkinId>    a device's decisions, oldest to newest (TTL expiresAt)
//   pk CHECKIN#<checkinId> sk CHECKIN                      idempotency record: the answer given (TTL expiresAt)
//   pk ATTEMPTS#<yyyy-mm-dd> sk <at>#<checkinId>#<random>   unauthenticated check-in attempts, one partition a day
//                                                          (TTL expiresAt, 7 days)
// Device status table (deviceId): the latest decision per device; its stream drives the alerts.
//   GSI byStatus (status, lastCheckinAt)

export const CONFIG_PK = 'CONFIG';
export const HISTORY_PK = 'HISTORY';
export const EXPIRY_ALERT_PK = 'EXPIRY_ALERT';

/** The imaging partitions: one per kind of imaging item, and the login attempt records. */
export const IMAGING_PK = { account: 'IMAGING_ACCOUNT', PRESTAGE: 'PRESTAGE', AUTORUN: 'AUTORUN', loginFailures: 'LOGIN_FAILURES' } as const;

/**
 * A history line's sort key: time first (newest-first listing), then the settings version in force, so that two
 * lines of the same millisecond list in the order they were made; the random part keeps two such lines apart.
 */
export function historySk(changedAt: string, version: number, unique: string): string {
  return `${changedAt}#${String(version).padStart(12, '0')}#${unique}`;
}

export const configSk = {
  settings: 'SETTINGS',
  deviceCa: 'DEVICE_CA',
  serverCertificate: 'SERVER_CERTIFICATE',
  pushCertificate: 'PUSH_CERTIFICATE',
  package: (packageId: string) => `PACKAGE#${packageId}`,
  revocation: (sha256: string) => `REVOCATION#${sha256}`,
  packagePrefix: 'PACKAGE#',
  revocationPrefix: 'REVOCATION#',
  exemption: (deviceId: string) => `EXEMPTION#${deviceId}`,
  exemptionPrefix: 'EXEMPTION#',
} as const;

export const decisionKey = {
  devicePk: (deviceId: string) => `DEVICE#${deviceId}`,
  decisionSk: (evaluatedAt: string, checkinId: string) => `${evaluatedAt}#${checkinId}`,
  checkinPk: (checkinId: string) => `CHECKIN#${checkinId}`,
  checkinSk: 'CHECKIN',
  /** Attempts are bucketed by UTC day, so that listing newest first reads at most 8 partitions. */
  attemptsPk: (at: string) => `ATTEMPTS#${at.slice(0, 10)}`,
  attemptSk: (at: string, checkinId: string, unique: string) => `${at}#${checkinId}#${unique}`,
} as const;

export const DEVICE_STATUS_INDEX = 'byStatus';
