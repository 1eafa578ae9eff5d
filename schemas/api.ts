// The JSON Schemas of the HTTP API (../../shared/API.md is the normative contract; docs/api.md explains it). One
// source for three things: openapi.yaml's components.schemas (written by `npm run generate`), the runtime validators
// compiled ahead of time into lib/domain/generated/validators.js, and the TypeScript types of lib/http/api-types.ts.
//
// Plain JSON Schema 2020-12, as OpenAPI 3.1 takes it; every object is `as const` so that the types follow. Shared
// parts are inlined where they are used (the generator does not write $refs between components).

const IDENTIFIER_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';
/** RFC 3339 with a zone offset; the calendar (30 February, leap years) is checked after the schema. */
const RFC3339_PATTERN = '^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})$';

const identifier = { type: 'string', pattern: IDENTIFIER_PATTERN, description: "1 to 128 of letters, digits, '.', '_', ':' and '-'." } as const;
const timestamp = { type: 'string', description: 'RFC 3339, UTC with milliseconds, such as 2026-11-25T18:06:03.120Z.' } as const;
const sha256 = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'Lower-case hex SHA-256 of the DER, no colons.' } as const;

const CHECKSUM_TYPES = ['MD5', 'SHA_256', 'SHA_512'] as const;

/** A checksum of `type`: `digits` hex digits, either case. */
const checksumOf = <T extends string, N extends number>(type: T, digits: N) =>
  ({ properties: { type: { const: type }, value: { type: 'string', pattern: `^[0-9a-fA-F]{${digits}}$` as `^[0-9a-fA-F]{${N}}$` } } }) as const;

/**
 * A checksum: its type and the hex of the right length for it. anyOf, SHA_256 first: the validator stops at the
 * first branch that fits, so the common type costs one branch (a oneOf would try all three for every package of
 * every check-in, and the validation must stay as fast as the checks it replaced).
 */
const checksum = {
  required: ['type', 'value'],
  properties: { type: { enum: CHECKSUM_TYPES }, value: { type: 'string' } },
  anyOf: [checksumOf('SHA_256', 64), checksumOf('MD5', 32), checksumOf('SHA_512', 128)],
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Requests

export const CheckinRequest = {
  type: 'object',
  description: 'A check-in (API.md §1). At most 64 KiB; unknown fields are ignored so that older servers accept newer clients.',
  required: ['checkinId', 'deviceId', 'clientTime', 'serverCertificateVerified'],
  properties: {
    checkinId: { ...identifier, description: 'Idempotency key, unique per device.' },
    deviceId: { ...identifier, description: 'Serial number or UDID.' },
    clientTime: { type: 'string', pattern: RFC3339_PATTERN, description: "RFC 3339 with a zone offset: the device's clock when it sent the check-in." },
    phase: { enum: ['CHECKIN', 'ENROLLMENT'], default: 'CHECKIN' },
    serverCertificateVerified: { type: 'boolean', description: "Whether the device verified the server's SSL certificate on this connection." },
    packages: {
      type: 'array',
      maxItems: 200,
      items: {
        type: 'object',
        required: ['packageId'],
        properties: {
          packageId: identifier,
          checksum: { ...checksum, type: ['object', 'null'], description: 'The checksum the device computed after download; null is the same as none.' },
        },
      },
    },
    pushTopic: { type: 'string', maxLength: 256, description: 'The APNs topic the device is enrolled with.' },
  },
} as const;

const settingsProperties = {
  certificateBasedAuthentication: { type: 'boolean' },
  pushNotifications: { type: 'boolean' },
  sslCertificateVerification: { enum: ['ALWAYS', 'ALWAYS_EXCEPT_DURING_ENROLLMENT', 'NEVER'] },
  packageValidation: { enum: ['ALWAYS', 'WHEN_CHECKSUM_PRESENT', 'NEVER'] },
  maxClockSkewSeconds: { type: 'number', description: 'An integer from 1 to 86400 (else 422).' },
  requireImagingAuthentication: { type: 'boolean' },
  mode: { enum: ['ENFORCE', 'MONITOR'] },
  certificateExpiryAlertDays: { type: 'array', items: { type: 'number' }, description: '1 to 10 distinct integers from 0 to 365 (else 422).' },
} as const;

export const Settings = {
  type: 'object',
  description: 'The whole settings document (PUT /admin/settings). Unknown fields or wrong types: 400 INVALID_SETTINGS.',
  additionalProperties: false,
  required: [
    'certificateBasedAuthentication',
    'pushNotifications',
    'sslCertificateVerification',
    'packageValidation',
    'maxClockSkewSeconds',
    'requireImagingAuthentication',
    'mode',
    'certificateExpiryAlertDays',
  ],
  properties: settingsProperties,
} as const;

export const SettingsPatch = {
  type: 'object',
  description: 'A JSON merge patch (RFC 7396) of the settings: the settings to change. A setting cannot be removed (null is 400).',
  additionalProperties: false,
  properties: settingsProperties,
} as const;

export const DeviceCaRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['certificates'],
  properties: { certificates: { type: 'string', minLength: 1, description: 'PEM bundle of 1 to 10 CA certificates.' } },
} as const;

export const ServerCertificateRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['certificate'],
  properties: { certificate: { type: 'string', minLength: 1, description: 'PEM.' } },
} as const;

export const PushCertificateRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['p12', 'password'],
  properties: {
    p12: { type: 'string', minLength: 1, description: 'Base64 of the PKCS#12 file.' },
    password: { type: 'string', description: 'Its password (may be empty); never stored or logged.' },
  },
} as const;

/** Text of 1 to `max` characters that is not only whitespace. */
const nonBlankText = <N extends number>(max: N) => ({ type: 'string', minLength: 1, maxLength: max, pattern: '\\S' }) as const;

export const PackageRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { ...nonBlankText(256), description: 'Not only whitespace.' },
    checksum: { ...checksum, type: ['object', 'null'], additionalProperties: false, description: 'The expected checksum; null or absent: none.' },
  },
} as const;

export const RevocationRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: { reason: { ...nonBlankText(512), description: 'Not only whitespace.' } },
} as const;

export const ExemptionRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['violations', 'until', 'reason'],
  properties: {
    violations: { type: 'array', items: { type: 'string' }, description: 'Violation codes to exempt; identity codes never (422).' },
    until: { type: 'string', description: 'RFC 3339, in the future and at most 30 days ahead (else 422).' },
    reason: { type: 'string', description: 'Not empty, at most 512 characters (else 422).' },
  },
} as const;

export const ImagingAccountRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['password'],
  properties: {
    password: {
      type: 'string',
      description: '12 to 1024 characters, counted as Unicode code points after NFC normalization (else 422); valid Unicode text. Stored only as a salted scrypt hash.',
    },
  },
} as const;

export const ImagingDocument = {
  type: 'object',
  description: 'A PreStage or Autorun document: any JSON object of at most 32 KiB (else 413) nested at most 64 levels deep, served to imaging as stored. A PreStage\'s own "id", if any, must equal the path\'s.',
  additionalProperties: true,
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Responses

export const ErrorBody = {
  type: 'object',
  description: 'Every error has this shape: `field` where one field is at fault, `details` where several are.',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message', 'requestId'],
      properties: {
        code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
        message: { type: 'string' },
        field: { type: 'string' },
        details: {
          type: 'array',
          items: { type: 'object', additionalProperties: false, required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
        },
        requestId: { type: 'string' },
      },
    },
  },
} as const;

const finding = {
  type: 'object',
  description: 'A violation or warning: its code, a sentence a person can act on, and the details of its rule.',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  additionalProperties: true,
} as const;

const findings = { type: 'array', items: finding } as const;

export const CheckinResponse = {
  type: 'object',
  description: 'The answer to a check-in, the same body with 200 (accepted) and 403 (blocked).',
  additionalProperties: false,
  required: ['checkinId', 'deviceId', 'decision', 'enforced', 'violations', 'exempted', 'warnings', 'settingsVersion', 'evaluatedAt'],
  properties: {
    checkinId: identifier,
    deviceId: identifier,
    decision: { enum: ['ACCEPT', 'BLOCK'] },
    enforced: { type: 'boolean', description: 'False in MONITOR mode.' },
    authenticated: { type: 'boolean', description: 'With certificate-based authentication on: whether the request proved it is the device.' },
    violations: findings,
    exempted: { ...findings, description: "Violations the device's active exemption covers: reported, not blocking." },
    warnings: findings,
    settingsVersion: { type: 'integer', minimum: 1 },
    evaluatedAt: timestamp,
  },
} as const;

export const StoredSettings = {
  type: 'object',
  additionalProperties: false,
  required: ['settings', 'version', 'updatedAt', 'updatedBy'],
  properties: {
    settings: Settings,
    version: { type: 'integer', minimum: 1 },
    updatedAt: { type: ['string', 'null'], description: 'Null on a fresh installation.' },
    updatedBy: { type: ['string', 'null'] },
  },
} as const;

export const HistoryPage = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['version', 'changedAt', 'actor', 'changes'],
        properties: {
          version: { type: 'integer', minimum: 1, description: 'The settings version in force after the change.' },
          changedAt: timestamp,
          actor: { type: 'string' },
          changes: {
            type: 'array',
            items: { type: 'object', additionalProperties: false, required: ['field', 'from', 'to'], properties: { field: { type: 'string' }, from: {}, to: {} } },
          },
        },
      },
    },
    nextToken: { type: 'string' },
  },
} as const;

const previewGroup = {
  type: 'object',
  additionalProperties: false,
  required: ['count', 'byViolation', 'devices'],
  properties: {
    count: { type: 'integer', minimum: 0 },
    byViolation: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
    devices: {
      type: 'array',
      maxItems: 100,
      description: 'At most 100, sorted by deviceId; count is exact.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['deviceId', 'violations', 'lastCheckinAt'],
        properties: { deviceId: identifier, violations: { type: 'array', items: { type: 'string' } }, lastCheckinAt: timestamp },
      },
    },
  },
} as const;

export const ImpactPreview = {
  type: 'object',
  description: 'The latest observations of every device that checked in within sinceDays, judged under the current and the proposed settings.',
  additionalProperties: false,
  required: ['devices', 'since', 'current', 'proposed', 'newlyBlocked', 'newlyAccepted'],
  properties: {
    devices: { type: 'integer', minimum: 0 },
    since: timestamp,
    current: { type: 'object', additionalProperties: false, required: ['blocked'], properties: { blocked: { type: 'integer', minimum: 0 } } },
    proposed: { type: 'object', additionalProperties: false, required: ['blocked'], properties: { blocked: { type: 'integer', minimum: 0 } } },
    newlyBlocked: previewGroup,
    newlyAccepted: previewGroup,
  },
} as const;

export const DeviceCaList = {
  type: 'object',
  additionalProperties: false,
  required: ['certificates'],
  properties: {
    certificates: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['subject', 'notAfter', 'sha256'],
        properties: {
          subject: { type: 'string' },
          notAfter: timestamp,
          sha256,
          nonconforming: {
            type: 'array',
            description: 'Only for a stored CA that breaks a rule added after it was uploaded: it keeps anchoring until replaced.',
            items: { type: 'object', required: ['rule', 'message'], properties: { rule: { type: 'string' }, message: { type: 'string' } } },
          },
        },
      },
    },
  },
} as const;

export const ServerCertificate = {
  type: 'object',
  additionalProperties: false,
  required: ['subject', 'issuer', 'notAfter', 'selfSigned', 'sha256'],
  properties: { subject: { type: 'string' }, issuer: { type: 'string' }, notAfter: timestamp, selfSigned: { type: 'boolean' }, sha256 },
} as const;

export const PushCertificate = {
  type: 'object',
  additionalProperties: false,
  required: ['topic', 'subject', 'notBefore', 'notAfter', 'daysRemaining', 'sha256'],
  properties: {
    topic: { type: 'string', description: "The subject's UID attribute, starting com.apple.mgmt." },
    subject: { type: 'string' },
    notBefore: timestamp,
    notAfter: timestamp,
    daysRemaining: { type: 'integer' },
    sha256,
  },
} as const;

const packageRecord = {
  type: 'object',
  additionalProperties: false,
  required: ['packageId', 'name', 'checksum', 'updatedAt', 'updatedBy'],
  properties: {
    packageId: identifier,
    name: { type: 'string' },
    checksum: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['type', 'value'],
      properties: { type: { enum: CHECKSUM_TYPES }, value: { type: 'string', pattern: '^[0-9a-f]+$', description: 'Lower-case hex.' } },
    },
    updatedAt: timestamp,
    updatedBy: { type: 'string' },
  },
} as const;

export const Package = packageRecord;
export const PackageList = { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: packageRecord } } } as const;

const revocation = {
  type: 'object',
  additionalProperties: false,
  required: ['sha256', 'reason', 'revokedAt', 'revokedBy'],
  properties: { sha256, reason: { type: 'string' }, revokedAt: timestamp, revokedBy: { type: 'string' } },
} as const;

export const Revocation = revocation;
export const RevocationList = { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: revocation } } } as const;

const exemption = {
  type: 'object',
  additionalProperties: false,
  required: ['deviceId', 'violations', 'until', 'reason', 'createdAt', 'createdBy'],
  properties: {
    deviceId: identifier,
    violations: { type: 'array', items: { type: 'string' } },
    until: timestamp,
    reason: { type: 'string' },
    createdAt: timestamp,
    createdBy: { type: 'string' },
  },
} as const;

export const Exemption = exemption;
export const ExemptionList = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: { items: { type: 'array', items: exemption, description: 'Active exemptions, soonest to expire first.' } },
} as const;

const imagingAccount = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'createdAt', 'updatedAt', 'updatedBy'],
  properties: { username: { type: 'string', pattern: '^[A-Za-z0-9._@-]{1,64}$' }, createdAt: timestamp, updatedAt: timestamp, updatedBy: { type: 'string' } },
} as const;

export const ImagingAccount = imagingAccount;
export const ImagingAccountList = { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: imagingAccount } } } as const;

const storedDocumentFacts = {
  sha256,
  sizeBytes: { type: 'integer', minimum: 0 },
  createdAt: timestamp,
  updatedAt: timestamp,
  updatedBy: { type: 'string' },
} as const;

export const StoredPrestage = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'sha256', 'sizeBytes', 'createdAt', 'updatedAt', 'updatedBy'],
  properties: { id: identifier, ...storedDocumentFacts },
} as const;

export const StoredAutorun = {
  type: 'object',
  additionalProperties: false,
  required: ['deviceId', 'sha256', 'sizeBytes', 'createdAt', 'updatedAt', 'updatedBy'],
  properties: { deviceId: identifier, ...storedDocumentFacts },
} as const;

export const PrestageList = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      description: 'Ordered by id; each is the stored object with its path id as `id`.',
      items: { type: 'object', required: ['id'], properties: { id: identifier }, additionalProperties: true },
    },
  },
} as const;

export const DevicePage = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['deviceId', 'decision', 'violations', 'lastCheckinAt', 'checkinId'],
        properties: { deviceId: identifier, decision: { enum: ['ACCEPT', 'BLOCK'] }, violations: findings, lastCheckinAt: timestamp, checkinId: identifier },
      },
    },
    nextToken: { type: 'string' },
  },
} as const;

export const DecisionPage = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      description: 'Newest first.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['checkinId', 'deviceId', 'decision', 'enforced', 'violations', 'warnings', 'facts', 'settingsVersion', 'evaluatedAt', 'statusCode'],
        properties: {
          checkinId: identifier,
          deviceId: identifier,
          decision: { enum: ['ACCEPT', 'BLOCK'] },
          enforced: { type: 'boolean' },
          violations: findings,
          exempted: findings,
          exemptionExpired: {
            type: 'object',
            additionalProperties: false,
            required: ['violations', 'until', 'reason'],
            properties: { violations: { type: 'array', items: { type: 'string' } }, until: timestamp, reason: { type: 'string' } },
          },
          warnings: findings,
          facts: {
            type: 'object',
            description: 'The observations the decision was judged on (API.md §1 "Observations"): skew, phase, server verification, package outcomes, push topic, identity.',
            required: ['clientTime', 'serverTime'],
            properties: { clientTime: { type: 'string' }, serverTime: timestamp },
          },
          settingsVersion: { type: 'integer', minimum: 1 },
          evaluatedAt: timestamp,
          statusCode: { enum: [200, 403], description: 'The HTTP status the check-in was answered with.' },
        },
      },
    },
    nextToken: { type: 'string' },
  },
} as const;

export const AttemptPage = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      description: 'Newest first, kept 7 days.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['deviceId', 'checkinId', 'violations', 'sourceIp', 'at'],
        properties: {
          deviceId: identifier,
          checkinId: identifier,
          violations: { type: 'array', items: { type: 'string', pattern: '^CLIENT_(CERT|SIGNATURE)_[A-Z_]+$' } },
          fingerprint: sha256,
          sourceIp: { type: 'string' },
          at: timestamp,
        },
      },
    },
    nextToken: { type: 'string' },
  },
} as const;

export const Caller = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role'],
  properties: { name: { type: 'string', description: 'The token name: the actor in the history.' }, role: { enum: ['admin', 'auditor'] } },
} as const;

export const Health = { type: 'object', additionalProperties: false, required: ['status'], properties: { status: { const: 'ok' } } } as const;

/** Every component, in the order openapi.yaml lists them. */
export const COMPONENT_SCHEMAS = {
  CheckinRequest,
  CheckinResponse,
  Settings,
  SettingsPatch,
  StoredSettings,
  HistoryPage,
  ImpactPreview,
  DeviceCaRequest,
  DeviceCaList,
  ServerCertificateRequest,
  ServerCertificate,
  PushCertificateRequest,
  PushCertificate,
  PackageRequest,
  Package,
  PackageList,
  RevocationRequest,
  Revocation,
  RevocationList,
  ExemptionRequest,
  Exemption,
  ExemptionList,
  ImagingAccountRequest,
  ImagingAccount,
  ImagingAccountList,
  ImagingDocument,
  StoredPrestage,
  StoredAutorun,
  PrestageList,
  DevicePage,
  DecisionPage,
  AttemptPage,
  Caller,
  Health,
  Error: ErrorBody,
} as const;

/** The request bodies whose validators are generated (lib/domain/generated/validators.js), by exported function name. */
export const GENERATED_VALIDATORS = {
  validateCheckinRequest: 'CheckinRequest',
  validateSettings: 'Settings',
  validateSettingsPatch: 'SettingsPatch',
  validatePackageRequest: 'PackageRequest',
  validateRevocationRequest: 'RevocationRequest',
  validateExemptionRequest: 'ExemptionRequest',
  validateDeviceCaRequest: 'DeviceCaRequest',
  validateServerCertificateRequest: 'ServerCertificateRequest',
  validatePushCertificateRequest: 'PushCertificateRequest',
  validateImagingAccountRequest: 'ImagingAccountRequest',
  validateImagingDocument: 'ImagingDocument',
} as const satisfies Record<string, keyof typeof COMPONENT_SCHEMAS>;
