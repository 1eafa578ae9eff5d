// The security settings document: its type, the defaults of a fresh installation, its shape, merge patch and diff.
import { ValidationError } from './errors.ts';
import { type SchemaIssue, validateSettings, validateSettingsPatch } from './generated/validators.js';

export const SSL_VERIFICATION_VALUES = ['ALWAYS', 'ALWAYS_EXCEPT_DURING_ENROLLMENT', 'NEVER'] as const;
export const PACKAGE_VALIDATION_VALUES = ['ALWAYS', 'WHEN_CHECKSUM_PRESENT', 'NEVER'] as const;
export const MODE_VALUES = ['ENFORCE', 'MONITOR'] as const;

export type SslCertificateVerification = (typeof SSL_VERIFICATION_VALUES)[number];
export type PackageValidation = (typeof PACKAGE_VALIDATION_VALUES)[number];
export type Mode = (typeof MODE_VALUES)[number];

export interface Settings {
  certificateBasedAuthentication: boolean;
  pushNotifications: boolean;
  sslCertificateVerification: SslCertificateVerification;
  packageValidation: PackageValidation;
  /** Seconds the device clock may differ from the server's, either way. */
  maxClockSkewSeconds: number;
  requireImagingAuthentication: boolean;
  mode: Mode;
  /** Days before notAfter at which an expiring certificate is alerted, each once. */
  certificateExpiryAlertDays: number[];
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  certificateBasedAuthentication: false,
  pushNotifications: false,
  sslCertificateVerification: 'ALWAYS_EXCEPT_DURING_ENROLLMENT',
  packageValidation: 'WHEN_CHECKSUM_PRESENT',
  maxClockSkewSeconds: 300,
  requireImagingAuthentication: true,
  mode: 'ENFORCE',
  certificateExpiryAlertDays: [60, 30, 14, 7, 1],
} satisfies Settings);

export const SETTINGS_FIELDS = Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[];

type FieldKind = { type: 'boolean' } | { type: 'enum'; values: readonly string[] } | { type: 'number' } | { type: 'number[]' };

const FIELD_KINDS: Record<keyof Settings, FieldKind> = {
  certificateBasedAuthentication: { type: 'boolean' },
  pushNotifications: { type: 'boolean' },
  sslCertificateVerification: { type: 'enum', values: SSL_VERIFICATION_VALUES },
  packageValidation: { type: 'enum', values: PACKAGE_VALIDATION_VALUES },
  maxClockSkewSeconds: { type: 'number' },
  requireImagingAuthentication: { type: 'boolean' },
  mode: { type: 'enum', values: MODE_VALUES },
  certificateExpiryAlertDays: { type: 'number[]' },
};

/** How a field is typed, for callers (the CLI) that turn text into values. */
export function settingsFieldKind(field: string): FieldKind | undefined {
  return Object.hasOwn(FIELD_KINDS, field) ? (FIELD_KINDS as Record<string, FieldKind>)[field] : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a value of the field must be, as the refusal says it. */
function typeRule(field: keyof Settings): string {
  const kind = FIELD_KINDS[field];
  switch (kind.type) {
    case 'boolean':
      return `${field} must be true or false`;
    case 'enum':
      return `${field} must be one of ${kind.values.join(', ')}`;
    case 'number':
      return `${field} must be a number`;
    case 'number[]':
      return `${field} must be an array of numbers`;
  }
}

/**
 * The refusal of a document the generated schema validator did not accept: an unknown field first (in the order
 * sent), then the first field of the document's order that is missing or of the wrong type.
 */
function settingsRefusal(input: Record<string, unknown>, issues: readonly SchemaIssue[]): ValidationError {
  const unknown = Object.keys(input).find((key) => !Object.hasOwn(FIELD_KINDS, key));
  if (unknown !== undefined) return new ValidationError('INVALID_SETTINGS', `Unknown setting "${unknown}"`, unknown);
  const faulty = new Set(issues.map((issue) => (issue.instancePath === '' ? issue.params.missingProperty : issue.instancePath.split('/')[1])));
  const field = SETTINGS_FIELDS.find((name) => faulty.has(name));
  if (field === undefined) return new ValidationError('INVALID_SETTINGS', 'The settings do not match their schema');
  if (!(field in input)) return new ValidationError('INVALID_SETTINGS', `${field} is required`, field);
  return new ValidationError('INVALID_SETTINGS', typeRule(field), field);
}

/**
 * Checks the shape of a whole settings document (PUT, or the result of a merge patch) with the validator generated
 * from schemas/api.ts's Settings: every field present, no unknown field, each of its type. Throws 400
 * INVALID_SETTINGS naming the first offending field.
 */
export function parseSettingsDocument(input: unknown): Settings {
  if (!isPlainObject(input)) throw new ValidationError('INVALID_SETTINGS', 'The settings must be a JSON object');
  if (!validateSettings(input)) throw settingsRefusal(input, validateSettings.errors ?? []);
  const settings = {} as Record<string, unknown>;
  for (const field of SETTINGS_FIELDS) {
    const value = input[field];
    settings[field] = Array.isArray(value) ? [...value] : value;
  }
  return settings as unknown as Settings;
}

/**
 * Checks the shape of a merge patch of the settings (PATCH, the impact preview) with the validator generated from
 * schemas/api.ts's SettingsPatch: an object of known settings, none removed (null), each of its type. Throws 400
 * INVALID_SETTINGS naming the first offending field, in the order sent.
 */
export function checkSettingsPatch(patch: unknown): void {
  if (!isPlainObject(patch)) throw new ValidationError('INVALID_SETTINGS', 'A merge patch of the settings must be a JSON object of the settings to change');
  if (validateSettingsPatch(patch)) return;
  for (const [field, value] of Object.entries(patch)) {
    if (!Object.hasOwn(FIELD_KINDS, field)) throw new ValidationError('INVALID_SETTINGS', `Unknown setting "${field}"`, field);
    if (value === null) {
      throw new ValidationError('INVALID_SETTINGS', `${field} cannot be removed (every setting is required); send its new value instead`, field);
    }
  }
  const faulty = new Set((validateSettingsPatch.errors ?? []).map((issue) => issue.instancePath.split('/')[1]));
  const field = SETTINGS_FIELDS.find((name) => faulty.has(name));
  throw field === undefined ? new ValidationError('INVALID_SETTINGS', 'The settings patch does not match its schema') : new ValidationError('INVALID_SETTINGS', typeRule(field), field);
}

// The semantic rules of API.md §3 (what each setting requires of its value and of the trust material) live in
// settings-requirements.ts, their one home; re-exported here with the document they judge.
export { assertSettingsRules, findSettingsRuleProblems, type TrustFacts } from './settings-requirements.ts';

/** RFC 7396 JSON merge patch. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

/** Field-by-field difference between two documents, in field order. */
export function diffSettings(from: Settings, to: Settings): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of SETTINGS_FIELDS) {
    if (JSON.stringify(from[field]) !== JSON.stringify(to[field])) {
      changes.push({ field, from: from[field], to: to[field] });
    }
  }
  return changes;
}
