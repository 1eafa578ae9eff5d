// The key layout of Tollgate's three tables, in one place. Table and index names are set in serverless.yml.
//
// Config table (pk, sk): everything admins manage.
//   pk CONFIG      sk SETTINGS | DEVICE_CA | SERVER_CERTIFICATE | PUSH_CERTIFICATE | PACKAGE#<id> | EXEMPTION#<deviceId>
//                  (one Query of this partition loads all a check-in is judged against but the revocations)
//   pk CONFIG      sk VERSION   the change counters (version, policyVersion, revocationsVersion, changedAt), ~100 bytes,
//                  updated in the transaction of every config commit; the policy cache reads only this item per refresh
//   pk REVOCATION#<first hex digit of the sha256> sk <sha256>   the revoked fingerprints, 16 partitions (loaded
//                  whole only at a container's first load or when it is too far behind)
//   pk REVOCATION_LOG sk <version, 12 digits>   one line per revocation change: the fingerprint, the record or
//                  removed, and the revocationsVersion it follows (TTL expiresAt); warm containers read only the lines
//                  after the version they hold
//   pk HISTORY     sk <changedAt>#<version, 12 digits>#[<config version, 12 digits>]<random>  the settings and
//                  trust-material history (lines
//                  written before the version was part of the key have sk <changedAt>#<random>; read alike)
//   pk IMAGING_ACCOUNT / PRESTAGE / AUTORUN, sk <name or id>      imaging information
//   pk LOGIN_FAILURES sk <username>                               imaging login attempts, reserved before each check (TTL)
//   pk EXPIRY_ALERT   sk <sha256>#<threshold> | <sha256>#<day> | <sha256>#NONCONFORMING#<rule>#<day>   alerts already sent
// Decisions table (pk, sk):
//   pk DEVICE#<deviceId>  sk <evaluatedAt>#<checkinId>    a device's decisions, oldest to newest (TTL expiresAt)
//   pk CHECKIN#<checkinId> sk CHECKIN                      idempotency record: the answer given (TTL expiresAt)
//   pk ATTEMPTS#<yyyy-mm-dd> sk <at>#<checkinId>#<random>   unauthenticated check-in attempts, one partition a day
//                                                          (TTL expiresAt, 7 days)
//   pk MASS_BLOCK#<reason>#<window start> sk WINDOW          a MASS_BLOCK window: the first massBlockDevices + 1
//                                                          distinct devices with their rank, counts per violation
//                                                          (TTL expiresAt, a day after the window)
// Device status table (deviceId): the latest decision per device; its stream drives the alerts.
//   deviceId #UNAUTHENTICATED#<window start>#<claimed deviceId>   an unauthenticated attempt's mark, one per window
//                                                          and claimed device, for the alerts function (never a
//                                                          device: '#' is not in a deviceId; TTL expiresAt)
//   deviceId <deviceId>   the device's latest status: deviceId, status, decision, violations, violationCodes,
//                         lastCheckinAt, checkinId, settingsVersion, exemptionExpired?, facts (compact JSON string,
//                         facts-codec.ts), statusShard, statusSk, and alertRelevant (BOOL true) only on a write whose
//                         decision or violation codes differ from the status it replaced (or the device's first), so
//                         that the stream's filter passes just those records to the alerts function
//   GSI byStatusShard (statusShard <status>#<00-15>, statusSk <lastCheckinAt>#<deviceId>)   a status spread over 16
//                         shards by a hash of the deviceId; listings query every shard and merge newest first.
//                         Items written before the shards existed have neither attribute and are absent from the
//                         index until the device's next check-in

export const CONFIG_PK = 'CONFIG';
export const REVOCATION_LOG_PK = 'REVOCATION_LOG';

/**
 * The revoked fingerprints, in 16 partitions by the fingerprint's first hex digit: a whole load is 16 Queries run
 * side by side, none reading more than a sixteenth of the set from one partition.
 */
export const REVOCATION_SHARDS = [...'0123456789abcdef'];
export const revocationPk = (shard: string) => `REVOCATION#${shard}`;
export const revocationKey = (sha256: string) => ({ pk: revocationPk(sha256.charAt(0).toLowerCase()), sk: sha256 });

/** A revocation log line's sort key: the config version of its commit, so that lines sort in commit order. */
export function revocationLogSk(version: number): string {
  return String(version).padStart(12, '0');
}
export const HISTORY_PK = 'HISTORY';
export const EXPIRY_ALERT_PK = 'EXPIRY_ALERT';

/** The imaging partitions: one per kind of imaging item, and the login attempt records. */
export const IMAGING_PK = { account: 'IMAGING_ACCOUNT', PRESTAGE: 'PRESTAGE', AUTORUN: 'AUTORUN', loginFailures: 'LOGIN_FAILURES' } as const;

/**
 * A history line's sort key: time first (newest-first listing), then the settings version in force, so that two
 * lines of the same millisecond list in the order they were made; the unique part keeps two such lines apart (a
 * config commit's starts with its config version, 12 digits, so that its lines list in commit order).
 */
export function historySk(changedAt: string, version: number, unique: string): string {
  return `${changedAt}#${String(version).padStart(12, '0')}#${unique}`;
}

export const configSk = {
  settings: 'SETTINGS',
  version: 'VERSION',
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
  massBlockPk: (reason: string, windowStart: string) => `MASS_BLOCK#${reason}#${windowStart}`,
  massBlockSk: 'WINDOW',
} as const;

export const DEVICE_STATUS_INDEX = 'byStatusShard';

/**
 * Shards of each status in the index: a fleet's check-ins spread over this many key values, so that no index
 * partition takes more than a sixteenth of them. It may grow (items keep their shard until their next check-in,
 * and readers query 0..N-1, which includes every old shard); it must never shrink.
 */
export const STATUS_SHARDS = 16;

/** The attribute marking a status write whose decision or violation codes changed (the alert stream's filter). */
export const ALERT_RELEVANT_ATTRIBUTE = 'alertRelevant';

/** A device's shard, 0..STATUS_SHARDS-1: FNV-1a of its id's UTF-16 code units, stable forever (it is stored). */
export function statusShardOf(deviceId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < deviceId.length; i += 1) {
    hash ^= deviceId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % STATUS_SHARDS;
}

export const statusIndexKey = {
  /** `ACCEPTED#07`: the index partition of a status's shard. */
  shard: (status: string, shard: number) => `${status}#${String(shard).padStart(2, '0')}`,
  /** Newest first by time, then deviceId: a total order, so that a page ends at one exact position. */
  sortKey: (lastCheckinAt: string, deviceId: string) => `${lastCheckinAt}#${deviceId}`,
} as const;

/** An unauthenticated attempt's mark in the device-status table (a key no deviceId can take). */
export const unauthenticatedMarkKey = (windowStart: string, claimedDeviceId: string) => `#UNAUTHENTICATED#${windowStart}#${claimedDeviceId}`;
