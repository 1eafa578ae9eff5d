// Reading admin requests: bodies, path and query parameters. Every refusal is a 400 in the contract's shape.
import { CHECKSUM_HEX_LENGTH, CHECKSUM_TYPES, type ChecksumType } from '../domain/checkin.ts';
import { ValidationError } from '../domain/errors.ts';
import {
  type GeneratedValidator,
  validateDeviceCaRequest,
  validateExemptionRequest,
  validatePackageRequest,
  validatePushCertificateRequest,
  validateRevocationRequest,
  validateServerCertificateRequest,
} from '../domain/generated/validators.js';
import type { DeviceStatus } from '../ports/device-status-store.ts';
import type { PackageInput } from '../services/admin/packages-service.ts';
import type { ExemptionInput } from '../domain/exemptions.ts';

export const INVALID_REQUEST = 'INVALID_REQUEST';

/** The same identifier rule as checkinId/deviceId/packageId in API.md §1. */
export const IDENTIFIER = /^[A-Za-z0-9._:-]{1,128}$/;

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;
export const MAX_PACKAGE_NAME_LENGTH = 256;
export const MAX_REVOCATION_REASON_LENGTH = 512;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A path parameter that must be an identifier (packageId, deviceId). */
export function requireIdentifierParam(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined || !IDENTIFIER.test(value)) {
    throw new ValidationError(INVALID_REQUEST, `${name} must be 1 to 128 characters of letters, digits, '.', '_', ':' or '-'`, name);
  }
  return value;
}

/**
 * A certificate's SHA-256 fingerprint as given by people and tools: 64 hex digits, any case, optionally with colons
 * between bytes (`AB:CD:…`, what `openssl x509 -fingerprint -sha256` prints). Returned lowercase without colons.
 */
export function normaliseFingerprint(value: string | undefined, field = 'sha256'): string {
  const compact = (value ?? '').trim().replace(/:/g, '');
  if (!/^[0-9a-fA-F]{64}$/.test(compact)) {
    throw new ValidationError(INVALID_REQUEST, `${field} must be a SHA-256 fingerprint: 64 hex digits, with or without colons`, field);
  }
  return compact.toLowerCase();
}

/** `limit` from the query: default 50, an integer from 1 to 500. */
export function parseLimit(query: Record<string, string>, fallback = DEFAULT_PAGE_LIMIT): number {
  const text = query.limit;
  if (text === undefined || text === '') return fallback;
  if (!/^\d{1,6}$/.test(text) || Number(text) < 1 || Number(text) > MAX_PAGE_LIMIT) {
    throw new ValidationError(INVALID_REQUEST, `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`, 'limit');
  }
  return Number(text);
}

const STATUSES: readonly DeviceStatus[] = ['BLOCKED', 'ACCEPTED'];

/** `status` is required: the index is per status, and "blocked devices" is the question admins ask. */
export function parseDeviceStatus(value: string | undefined): DeviceStatus {
  if (value === undefined || value === '') {
    throw new ValidationError(INVALID_REQUEST, 'status is required: BLOCKED or ACCEPTED', 'status');
  }
  if (!(STATUSES as readonly string[]).includes(value)) throw new ValidationError(INVALID_REQUEST, 'status must be BLOCKED or ACCEPTED', 'status');
  return value as DeviceStatus;
}

/**
 * Runs a body's validator generated from schemas/api.ts. Returns undefined when the body is accepted; otherwise
 * throws as every admin body is refused — a body that is not an object, then an unknown field (the first sent; a typo
 * such as `checksums` is refused, not ignored) — or returns the top-level fields at fault, for the caller to name the
 * first of them in its own order with its own sentence.
 */
export function bodyFaults(json: unknown, validate: GeneratedValidator, fields: readonly string[], code = INVALID_REQUEST): Set<string> | undefined {
  if (validate(json)) return undefined;
  const issues = validate.errors ?? [];
  if (issues.some((issue) => issue.instancePath === '' && issue.keyword === 'type')) {
    throw new ValidationError(code, `The body must be a JSON object with ${fields.map((f) => `"${f}"`).join(', ')}`, 'body');
  }
  const unknown = issues.find((issue) => issue.instancePath === '' && issue.keyword === 'additionalProperties');
  if (unknown) {
    const key = String(unknown.params.additionalProperty);
    throw new ValidationError(code, `Unknown field "${key}"; expected ${fields.join(', ')}`, key);
  }
  return new Set(issues.map((issue) => (issue.instancePath === '' ? issue.params.missingProperty : issue.instancePath.split('/')[1])));
}

/** The refusal of a field left out or null. */
function missing(field: string): ValidationError {
  return new ValidationError(INVALID_REQUEST, `${field} is required`, field);
}

/** The refusal of a text field the schema did not accept (1..max characters, not only whitespace). */
function textRefusal(body: Record<string, unknown>, field: string, max: number): ValidationError {
  const value = body[field];
  if (value === undefined || value === null) return missing(field);
  return new ValidationError(INVALID_REQUEST, `${field} must be a non-empty string of at most ${max} characters`, field);
}

/** The refusal of a body whose faults name none of its fields (unreachable while the schema and the fields agree). */
function mismatch(): ValidationError {
  return new ValidationError(INVALID_REQUEST, 'The body does not match its schema', 'body');
}

const PACKAGE_FIELDS = ['name', 'checksum'] as const;

/** The sentence for a package's checksum the schema refused (neither absent nor null: those are accepted). */
function checksumRefusal(checksum: unknown): ValidationError {
  if (!isPlainObject(checksum)) return new ValidationError(INVALID_REQUEST, 'checksum must be an object with type and value, or null', 'checksum');
  const unknown = Object.keys(checksum).find((key) => key !== 'type' && key !== 'value');
  if (unknown !== undefined) return new ValidationError(INVALID_REQUEST, `Unknown field "checksum.${unknown}"; expected type and value`, `checksum.${unknown}`);
  const { type } = checksum;
  if (typeof type !== 'string' || !(CHECKSUM_TYPES as readonly string[]).includes(type)) {
    return new ValidationError(INVALID_REQUEST, `checksum.type must be one of ${CHECKSUM_TYPES.join(', ')}`, 'checksum.type');
  }
  return new ValidationError(INVALID_REQUEST, `checksum.value must be ${CHECKSUM_HEX_LENGTH[type as ChecksumType]} hexadecimal digits for ${type}`, 'checksum.value');
}

/**
 * The body of PUT /admin/packages/{packageId}: `{ name, checksum: { type, value } | null }` (checksum may be left out:
 * null), checked by the validator generated from schemas/api.ts's PackageRequest. The checksum is kept lowercase.
 */
export function parsePackageBody(json: unknown): PackageInput {
  const faults = bodyFaults(json, validatePackageRequest, PACKAGE_FIELDS);
  const body = json as { name: string; checksum?: { type: ChecksumType; value: string } | null };
  if (faults?.has('name')) throw textRefusal(json as Record<string, unknown>, 'name', MAX_PACKAGE_NAME_LENGTH);
  if (faults?.has('checksum')) throw checksumRefusal(body.checksum);
  if (faults) throw mismatch();
  const { name, checksum } = body;
  return { name, checksum: checksum ? { type: checksum.type, value: checksum.value.toLowerCase() } : null };
}

/** The body of PUT /admin/revocations/{sha256}: `{ reason }`, 1–512 characters (schemas/api.ts's RevocationRequest). */
export function parseRevocationBody(json: unknown): { reason: string } {
  const faults = bodyFaults(json, validateRevocationRequest, ['reason']);
  if (faults?.has('reason')) throw textRefusal(json as Record<string, unknown>, 'reason', MAX_REVOCATION_REASON_LENGTH);
  if (faults) throw mismatch();
  return { reason: (json as { reason: string }).reason };
}

const EXEMPTION_FIELDS = ['violations', 'until', 'reason'] as const;

const EXEMPTION_TYPE_RULES: Record<(typeof EXEMPTION_FIELDS)[number], string> = {
  violations: 'violations must be an array of violation codes',
  until: 'until must be an RFC 3339 date-time string',
  reason: 'reason must be a string',
};

/**
 * The body of PUT /admin/exemptions/{deviceId}: `{ violations: string[], until: string, reason: string }`; its shape
 * checked by the validator generated from schemas/api.ts's ExemptionRequest (400: a field left out or null first,
 * then one of the wrong type, each in the order above), the rules in the domain (422 INVALID_EXEMPTION).
 */
export function parseExemptionBody(json: unknown): ExemptionInput {
  const faults = bodyFaults(json, validateExemptionRequest, EXEMPTION_FIELDS);
  if (faults) {
    const body = json as Record<string, unknown>;
    const absent = EXEMPTION_FIELDS.find((field) => faults.has(field) && (body[field] === undefined || body[field] === null));
    if (absent !== undefined) throw missing(absent);
    const field = EXEMPTION_FIELDS.find((name) => faults.has(name));
    throw field === undefined ? mismatch() : new ValidationError(INVALID_REQUEST, EXEMPTION_TYPE_RULES[field], field);
  }
  const { violations, until, reason } = json as ExemptionInput;
  return { violations, until, reason };
}

/** The refusal of a field of text of any length the schema did not accept (PEM text, base64 files, a password). */
function fileTextRefusal(body: Record<string, unknown>, field: string, options: { allowEmpty?: boolean } = {}): ValidationError {
  if (body[field] === undefined || body[field] === null) return missing(field);
  return new ValidationError(INVALID_REQUEST, `${field} must be a ${options.allowEmpty ? '' : 'non-empty '}string`, field);
}

/** A body of one required, non-empty text field, checked by its generated validator; returns the text. */
function singleTextBody(json: unknown, validate: GeneratedValidator, field: string): string {
  const faults = bodyFaults(json, validate, [field]);
  if (faults?.has(field)) throw fileTextRefusal(json as Record<string, unknown>, field);
  if (faults) throw mismatch();
  return (json as Record<string, string>)[field];
}

/** The body of PUT /admin/device-ca: `{ certificates }`, the PEM bundle (schemas/api.ts's DeviceCaRequest). */
export function parseDeviceCaBody(json: unknown): string {
  return singleTextBody(json, validateDeviceCaRequest, 'certificates');
}

/** The body of PUT /admin/server-certificate: `{ certificate }`, PEM (schemas/api.ts's ServerCertificateRequest). */
export function parseServerCertificateBody(json: unknown): string {
  return singleTextBody(json, validateServerCertificateRequest, 'certificate');
}

/**
 * The body of PUT /admin/push-certificate: `{ p12, password }` (schemas/api.ts's PushCertificateRequest). An empty
 * password is a real PKCS#12 case (openssl -passout pass:); a missing one is a client mistake.
 */
export function parsePushCertificateBody(json: unknown): { p12: string; password: string } {
  const faults = bodyFaults(json, validatePushCertificateRequest, ['p12', 'password']);
  if (faults?.has('p12')) throw fileTextRefusal(json as Record<string, unknown>, 'p12');
  if (faults?.has('password')) throw fileTextRefusal(json as Record<string, unknown>, 'password', { allowEmpty: true });
  if (faults) throw mismatch();
  const { p12, password } = json as { p12: string; password: string };
  return { p12, password };
}
