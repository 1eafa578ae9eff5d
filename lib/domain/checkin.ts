// The check-in request: its schema (API.md §1) and the parsed form the rules work on.
import { ValidationError } from './errors.ts';

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
const HEX = /^[0-9a-fA-F]+$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Parses an RFC 3339 timestamp with a zone; returns epoch milliseconds (fractional) or undefined. */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone, sign, zh, zm] = m;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return undefined;
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    if (Number(zh) > 23 || Number(zm) > 59) return undefined;
    offsetMinutes = (sign === '-' ? -1 : 1) * (Number(zh) * 60 + Number(zm));
  }
  const fractionMs = frac ? Number(frac) * 1000 : 0;
  // A leap second (:60) is read as the last instant of that minute.
  const wholeSeconds = Math.min(second, 59);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, wholeSeconds, 0);
  return date.getTime() + fractionMs - offsetMinutes * 60_000;
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
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeapYear(Number(y)) ? 1 : 0);
  if (Number(d) < 1 || Number(d) > daysInMonth) {
    return `${field} ${text} names a date that does not exist: ${MONTH_NAMES[month - 1]} ${y} has ${daysInMonth} days`;
  }
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return `${field} ${text} names a time of day that does not exist (hours 00–23, minutes and seconds 00–59)`;
  if (zone.toUpperCase() !== 'Z' && (Number(zh) > 23 || Number(zm) > 59)) return `${field} ${text} has a zone offset that does not exist (at most ±23:59)`;
  return `${field} must be an RFC 3339 timestamp with a zone offset, such as ${example}`;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function invalid(field: string, message: string): never {
  throw new ValidationError('INVALID_CHECKIN', message, field);
}

function requireIdentifier(body: Record<string, unknown>, field: string, path = field): string {
  const value = body[field];
  if (value === undefined || value === null) invalid(path, `${path} is required`);
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    invalid(path, `${path} must be 1 to 128 characters of letters, digits, '.', '_', ':' or '-'`);
  }
  return value;
}

function parseChecksum(value: unknown, path: string): Checksum {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(path, `${path} must be an object with type and value`);
  const { type, value: hex } = value as Record<string, unknown>;
  if (typeof type !== 'string' || !(CHECKSUM_TYPES as readonly string[]).includes(type)) {
    invalid(`${path}.type`, `${path}.type must be one of ${CHECKSUM_TYPES.join(', ')}`);
  }
  const expectedLength = CHECKSUM_HEX_LENGTH[type as ChecksumType];
  if (typeof hex !== 'string' || hex.length !== expectedLength || !HEX.test(hex)) {
    invalid(`${path}.value`, `${path}.value must be ${expectedLength} hexadecimal digits for ${type}`);
  }
  return { type: type as ChecksumType, value: hex.toLowerCase() };
}

/** Validates a parsed JSON body against API.md §1; throws 400 INVALID_CHECKIN naming the field. Unknown fields are ignored. */
export function parseCheckin(body: unknown): Checkin {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) invalid('body', 'The check-in must be a JSON object');
  const input = body as Record<string, unknown>;
  const checkinId = requireIdentifier(input, 'checkinId');
  const deviceId = requireIdentifier(input, 'deviceId');

  const clientTime = input.clientTime;
  if (clientTime === undefined || clientTime === null) invalid('clientTime', 'clientTime is required');
  const clientTimeMs = typeof clientTime === 'string' ? parseRfc3339(clientTime) : undefined;
  if (typeof clientTime !== 'string' || clientTimeMs === undefined) {
    invalid('clientTime', typeof clientTime === 'string' ? describeInvalidTimestamp('clientTime', clientTime, '2026-11-25T18:06:03.120Z') : 'clientTime must be an RFC 3339 timestamp with a zone offset, such as 2026-11-25T18:06:03.120Z');
  }

  let phase: CheckinPhase = 'CHECKIN';
  if (input.phase !== undefined) {
    if (input.phase !== 'CHECKIN' && input.phase !== 'ENROLLMENT') invalid('phase', 'phase must be CHECKIN or ENROLLMENT');
    phase = input.phase;
  }

  if (input.serverCertificateVerified === undefined) invalid('serverCertificateVerified', 'serverCertificateVerified is required');
  if (typeof input.serverCertificateVerified !== 'boolean') {
    invalid('serverCertificateVerified', 'serverCertificateVerified must be true or false');
  }

  const packages: ReportedPackage[] = [];
  if (input.packages !== undefined) {
    if (!Array.isArray(input.packages)) invalid('packages', 'packages must be an array');
    if (input.packages.length > MAX_REPORTED_PACKAGES) invalid('packages', `packages may list at most ${MAX_REPORTED_PACKAGES} packages`);
    input.packages.forEach((item, index) => {
      const path = `packages[${index}]`;
      if (typeof item !== 'object' || item === null || Array.isArray(item)) invalid(path, `${path} must be an object`);
      const record = item as Record<string, unknown>;
      const packageId = requireIdentifier(record, 'packageId', `${path}.packageId`);
      const reported: ReportedPackage = { packageId };
      if (record.checksum !== undefined && record.checksum !== null) {
        reported.checksum = parseChecksum(record.checksum, `${path}.checksum`);
      }
      packages.push(reported);
    });
  }

  let pushTopic: string | undefined;
  if (input.pushTopic !== undefined) {
    if (typeof input.pushTopic !== 'string' || input.pushTopic.length > 256) {
      invalid('pushTopic', 'pushTopic must be a string of at most 256 characters');
    }
    pushTopic = input.pushTopic;
  }

  return {
    checkinId,
    deviceId,
    clientTime,
    clientTimeMs,
    phase,
    serverCertificateVerified: input.serverCertificateVerified,
    packages,
    pushTopic,
  };
}
