// What the API's codes and fields mean, in the words the console shows (labels as API.md §6 names them).

/** Each violation code in a few words; the API's own message (a sentence to act on) is shown beside it. */
export const VIOLATION_WORDS: Record<string, string> = {
  CLOCK_SKEW_EXCEEDED: 'Clock too far off',
  CLIENT_CERT_MISSING: 'No device certificate',
  CLIENT_CERT_INVALID: 'Unreadable device certificate',
  CLIENT_CERT_UNTRUSTED: 'Device certificate not from a trusted CA',
  CLIENT_CERT_EXPIRED: 'Device certificate expired',
  CLIENT_CERT_NOT_YET_VALID: 'Device certificate not yet valid',
  CLIENT_CERT_DEVICE_MISMATCH: 'Device certificate names another device',
  CLIENT_CERT_REVOKED: 'Device certificate revoked',
  CLIENT_SIGNATURE_MISSING: 'Request not signed',
  CLIENT_SIGNATURE_INVALID: 'Request signature does not verify',
  SERVER_CERT_NOT_VERIFIED: "Did not verify the server's certificate",
  PACKAGE_CHECKSUM_UNAVAILABLE: 'Package has no checksum on record',
  PACKAGE_CHECKSUM_MISSING: 'Package checksum not reported',
  PACKAGE_CHECKSUM_MISMATCH: 'Package checksum does not match',
  PUSH_TOPIC_MISMATCH: 'Push topic differs from the push certificate',
};

export const violationWords = (code: string) => VIOLATION_WORDS[code] ?? code;

/** Identity codes can never be exempted (API.md §1 "Exemptions"). */
export const isIdentityCode = (code: string) => code.startsWith('CLIENT_CERT_') || code.startsWith('CLIENT_SIGNATURE_');

export const EXEMPTABLE_CODES = Object.keys(VIOLATION_WORDS).filter((code) => !isIdentityCode(code) && code !== 'PUSH_TOPIC_MISMATCH');

export const SSL_CHOICES = [
  ['ALWAYS', 'Always'],
  ['ALWAYS_EXCEPT_DURING_ENROLLMENT', 'Always except during enrollment'],
  ['NEVER', 'Never'],
] as const;

export const PACKAGE_CHOICES = [
  ['ALWAYS', 'Always'],
  ['WHEN_CHECKSUM_PRESENT', 'When a checksum is present'],
  ['NEVER', 'Never'],
] as const;

export const MODE_CHOICES = [
  ['ENFORCE', 'Enforce'],
  ['MONITOR', 'Monitor'],
] as const;

/** The Security pane's label of each setting. */
export const SETTING_LABELS: Record<string, string> = {
  certificateBasedAuthentication: 'Enable certificate-based authentication',
  pushNotifications: 'Enable push notifications',
  sslCertificateVerification: 'SSL certificate verification',
  packageValidation: 'Package validation',
  maxClockSkewSeconds: 'Maximum clock skew',
  requireImagingAuthentication: 'Require login for imaging information',
  mode: 'Mode',
  certificateExpiryAlertDays: 'Certificate expiry alerts',
};

/** History fields that are trust material rather than settings. */
const TRUST_FIELD_LABELS: Record<string, string> = {
  deviceCa: 'Device CA certificates',
  serverCertificate: 'Server certificate',
  pushCertificate: 'Push certificate',
  packages: 'Package',
  revocations: 'Revocation',
  exemption: 'Exemption',
  imagingAccounts: 'Imaging account',
};

export const fieldLabel = (field: string) => SETTING_LABELS[field] ?? TRUST_FIELD_LABELS[field] ?? field;

const ENUM_WORDS: Record<string, string> = Object.fromEntries([...SSL_CHOICES, ...PACKAGE_CHOICES, ...MODE_CHOICES].map(([value, words]) => [value, words]));

/** A setting's value as the pane shows it. */
export function valueWords(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (value === true) return 'on';
  if (value === false) return 'off';
  if (Array.isArray(value)) return value.map(valueWords).join(', ');
  if (typeof value === 'string') return ENUM_WORDS[value] ?? value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A timestamp for people: local date and time to the minute. */
export function when(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function daysUntil(iso: string, now = Date.now()): number {
  return Math.floor((new Date(iso).getTime() - now) / 86_400_000);
}
