// The check-in request: its validation (API.md §1; the schema is schemas/api.ts's CheckinRequest, compiled into
// ./generated/validators.js) and the parsed form the rules work on.
import { ValidationError } from './errors.ts';
import { type SchemaIssue, validateCheckinRequest } from './generated/validators.js';

export const CHECKSUM_TYPES = ['MD5', 'SHA_256', 'SHA_512'] as const;
export type ChecksumType = (typeof CHECKSUM_TYPES)[number];
/** Hex digits per checksum type. */
export const CHECKSUM_HEX_LENGTH: Record<ChecksumType, number> = { MD5: 32, SHA_256: 64, SHA_512: 128 };

export type CheckinPhase = 'CHECKIN' | 'ENROLLMENT';

export interface Checksum {
  type: ChecksumType;
  /** Lower-case hex. */
  value: string;
}

export interface ReportedPackage {
  packageId: string;
  checksum?: Checksum;
}

export interface Checkin {
  checkinId: string;
  deviceId: string;
  clientTime: string;
  /** clientTime as epoch milliseconds, with its fraction kept. */
  clientTimeMs: number;
  phase: CheckinPhase;
  serverCertificateVerified: boolean;
  packages: ReportedPackage[];
  pushTopic?: string;
}

export const MAX_CHECKIN_BODY_BYTES = 64 * 1024;
export const MAX_REPORTED_PACKAGES = 200;
const IDENTIFIER = /^[A-Za-z0-9._:-]{1,128}$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Parses an RFC 3339 timestamp with a zone; returns epoch milliseconds (fractional) or undefined. */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]), month = Number(m[2]), day = Number(m[3]), hour = Number(m[4]), minute = Number(m[5]), second = Number(m[6]);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return undefined;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== 'Z' && zone !== 'z') {
    const zoneHours = Number(m[10]), zoneMinutes = Number(m[11]);
    if (zoneHours > 23 || zoneMinutes > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  }
  const fraction = m[7];
  const fractionMs = fraction ? Number(fraction) * 1000 : 0;
  // A leap second (:60) is read as the last instant of that minute.
  const wholeSeconds = Math.min(second, 59);
  return utcMilliseconds(year, month, day, hour, minute, wholeSeconds) + fractionMs - offsetMinutes * 60_000;
}

/** Days in the month of the proleptic Gregorian calendar RFC 3339 uses (year 0000 is a leap year). */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Epoch milliseconds of a valid UTC date and time (years 0–9999). */
function utcMilliseconds(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Why `text` is not accepted as a timestamp with a zone offset, as one sentence about `field` (`example` shows the
 * form): a well-formed one that names no real instant (2026-02-30, 24:00, +25:00) is told so, not that its form is wrong.
 */
export function describeInvalidTimestamp(field: string, text: string, example: string): string {
  const m = RFC3339.exec(text);
  if (!m) return `${field} must be an RFC 3339 timestamp with a zone offset, such as ${example}`;
  const [, y, mo, d, h, mi, s, , zone, , zh, zm] = m;
  const month = Number(mo);
  if (month < 1 || month > 12) return `${field} ${text} names month ${mo}, which does not exist; months are 01 to 12`;
  const days = daysInMonth(Number(y), month);
  if (Number(d) < 1 || Number(d) > days) {
    return `${field} ${text} names a date that does not exist: ${MONTH_NAMES[month - 1]} ${y} has ${days} days`;
  }
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return `${field} ${text} names a time of day that does not exist (hours 00–23, minutes 00–59, seconds 00–60)`;
  if (zone.toUpperCase() !== 'Z' && (Number(zh) > 23 || Number(zm) > 59)) return `${field} ${text} has a zone offset that does not exist (at most ±23:59)`;
  return `${field} must be an RFC 3339 timestamp with a zone offset, such as ${example}`;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function invalid(field: string, message: string): never {
  throw new ValidationError('INVALID_CHECKIN', message, field);
}

const IDENTIFIER_RULE = "must be 1 to 128 characters of letters, digits, '.', '_', ':' or '-'";
const TIME_EXAMPLE = '2026-11-25T18:06:03.120Z';

/** The check-in's fields in the order a refusal names them: the first field at fault is the one reported. */
const FIELD_ORDER = ['checkinId', 'deviceId', 'clientTime', 'phase', 'serverCertificateVerified', 'packages', 'pushTopic'] as const;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function identifierProblem(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return `${path} is required`;
  return typeof value === 'string' && IDENTIFIER.test(value) ? undefined : `${path} ${IDENTIFIER_RULE}`;
}

/** The sentence for a reported package the schema refused (`path` is `packages[i]`). */
function packageProblem(item: unknown, path: string): [field: string, message: string] {
  if (!isObject(item)) return [path, `${path} must be an object`];
  const idProblem = identifierProblem(item.packageId, `${path}.packageId`);
  if (idProblem) return [`${path}.packageId`, idProblem];
  const checksumPath = `${path}.checksum`;
  const checksum = item.checksum;
  if (!isObject(checksum)) return [checksumPath, `${checksumPath} must be an object with type and value`];
  if (typeof checksum.type !== 'string' || !(CHECKSUM_TYPES as readonly string[]).includes(checksum.type)) {
    return [`${checksumPath}.type`, `${checksumPath}.type must be one of ${CHECKSUM_TYPES.join(', ')}`];
  }
  const type = checksum.type as ChecksumType;
  return [`${checksumPath}.value`, `${checksumPath}.value must be ${CHECKSUM_HEX_LENGTH[type]} hexadecimal digits for ${type}`];
}

/**
 * The refusal of a body the generated schema validator did not accept: the first field, in FIELD_ORDER, that the
 * schema (or, for clientTime, the calendar) finds at fault, with the sentence the contract's tests know.
 */
function refusalOf(input: unknown, issues: readonly SchemaIssue[]): [field: string, message: string] {
  if (!isObject(input)) return ['body', 'The check-in must be a JSON object'];
  const faulty = new Set(issues.map((issue) => (issue.instancePath === '' ? issue.params.missingProperty : issue.instancePath.split('/')[1])));
  for (const field of FIELD_ORDER) {
    const value = input[field];
    if (field === 'clientTime' && typeof value === 'string' && !faulty.has(field) && parseRfc3339(value) !== undefined) continue;
    if (field !== 'clientTime' && !faulty.has(field)) continue;
    switch (field) {
      case 'checkinId':
      case 'deviceId':
        return [field, identifierProblem(value, field)!];
      case 'clientTime':
        if (value === undefined || value === null) return [field, 'clientTime is required'];
        return [field, typeof value === 'string' ? describeInvalidTimestamp(field, value, TIME_EXAMPLE) : `clientTime must be an RFC 3339 timestamp with a zone offset, such as ${TIME_EXAMPLE}`];
      case 'phase':
        return [field, 'phase must be CHECKIN or ENROLLMENT'];
      case 'serverCertificateVerified':
        return [field, value === undefined ? 'serverCertificateVerified is required' : 'serverCertificateVerified must be true or false'];
      case 'packages': {
        if (!Array.isArray(value)) return [field, 'packages must be an array'];
        if (value.length > MAX_REPORTED_PACKAGES) return [field, `packages may list at most ${MAX_REPORTED_PACKAGES} packages`];
        const index = Math.min(...issues.filter((issue) => issue.instancePath.startsWith('/packages/')).map((issue) => Number(issue.instancePath.split('/')[2])));
        return packageProblem(value[index], `packages[${index}]`);
      }
      case 'pushTopic':
        return [field, 'pushTopic must be a string of at most 256 characters'];
    }
  }
  // Unreachable while the schema and FIELD_ORDER name the same fields (test/unit/checkin-schema.test.ts).
  return ['body', 'The check-in does not match its schema'];
}

/** The check-in's body as the schema (schemas/api.ts, CheckinRequest) accepts it. */
interface CheckinBody {
  checkinId: string;
  deviceId: string;
  clientTime: string;
  phase?: CheckinPhase;
  serverCertificateVerified: boolean;
  packages?: { packageId: string; checksum?: Checksum | null }[];
  pushTopic?: string;
}

/**
 * Validates a parsed JSON body against API.md §1 (the generated validator of schemas/api.ts's CheckinRequest, and
 * the calendar for clientTime); throws 400 INVALID_CHECKIN naming the field. Unknown fields are ignored.
 */
export function parseCheckin(body: unknown): Checkin {
  if (!validateCheckinRequest(body)) {
    const [field, message] = refusalOf(body, validateCheckinRequest.errors ?? []);
    invalid(field, message);
  }
  const input = body as CheckinBody;
  const clientTimeMs = parseRfc3339(input.clientTime);
  if (clientTimeMs === undefined) invalid('clientTime', describeInvalidTimestamp('clientTime', input.clientTime, TIME_EXAMPLE));
  const reported = input.packages ?? [];
  const packages: ReportedPackage[] = new Array(reported.length);
  for (let i = 0; i < reported.length; i += 1) {
    const { packageId, checksum } = reported[i];
    packages[i] = checksum ? { packageId, checksum: { type: checksum.type, value: checksum.value.toLowerCase() } } : { packageId };
  }
  return {
    checkinId: input.checkinId,
    deviceId: input.deviceId,
    clientTime: input.clientTime,
    clientTimeMs,
    phase: input.phase ?? 'CHECKIN',
    serverCertificateVerified: input.serverCertificateVerified,
    packages,
    pushTopic: input.pushTopic,
  };
}
