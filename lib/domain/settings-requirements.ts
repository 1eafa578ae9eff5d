// What each setting requires, one table entry per setting: of its own value, and of the stored trust material. The
// settings write consults it (may this document be stored, and what must stay as read until it lands?) and so do
// the trust-material writes (may this change be made while the settings are as they are?), so that each rule, with
// its status code and message, has this one home.
import { ConflictError, type FieldProblem, type HttpError, RuleViolationError } from './errors.ts';
import type { Settings } from './settings.ts';

/** What the rules need to know about the stored trust material. */
export interface TrustFacts {
  deviceCaCount: number;
  serverCertificateSelfSigned?: boolean;
  /** RFC 3339 notAfter of the stored push certificate, if any. */
  pushCertificateNotAfter?: string;
}

/** A stored trust item a setting can depend on. */
export type TrustItem = 'deviceCas' | 'serverCertificate' | 'pushCertificate';

export interface TrustRequirement {
  /** The trust item the requirement reads: a change of it is checked against the requirement. */
  item: TrustItem;
  /** True when the settings make the requirement apply. */
  appliesTo(settings: Settings): boolean;
  /** Why the trust material does not meet it, said to whoever changes the setting; undefined when it does. */
  unmetBecause(trust: TrustFacts, now: Date): string | undefined;
  /** The error a trust change that would leave the requirement unmet is refused with. */
  refusal(): HttpError;
}

export interface SettingRequirements {
  /** Why the setting's own value is not acceptable; undefined when it is. */
  valueProblem?(settings: Settings): string | undefined;
  trust?: TrustRequirement;
}

/**
 * One entry per setting, in the order problems are reported. `satisfies` keeps it complete: a setting added to
 * Settings without an entry does not compile.
 */
export const SETTING_REQUIREMENTS = {
  sslCertificateVerification: {
    trust: {
      item: 'serverCertificate',
      appliesTo: (settings) => settings.sslCertificateVerification === 'ALWAYS',
      unmetBecause: (trust) =>
        trust.serverCertificateSelfSigned === true
          ? 'The stored server certificate is self-signed, so devices cannot verify it during enrollment; use ALWAYS_EXCEPT_DURING_ENROLLMENT or upload a CA-issued server certificate'
          : undefined,
      refusal: () =>
        new RuleViolationError('INVALID_SETTINGS', 'A self-signed server certificate cannot be used while sslCertificateVerification is ALWAYS; nothing was changed', [
          {
            field: 'sslCertificateVerification',
            message:
              'Devices cannot verify a self-signed server certificate during enrollment; set sslCertificateVerification to ALWAYS_EXCEPT_DURING_ENROLLMENT first, or upload a CA-issued certificate',
          },
        ]),
    },
  },
  pushNotifications: {
    trust: {
      item: 'pushCertificate',
      appliesTo: (settings) => settings.pushNotifications,
      unmetBecause: (trust, now) => {
        if (trust.pushCertificateNotAfter === undefined) return 'Push notifications need a push certificate; upload one first';
        if (Date.parse(trust.pushCertificateNotAfter) <= now.getTime()) return 'The stored push certificate has expired; upload a renewed one first';
        return undefined;
      },
      refusal: () =>
        new ConflictError(
          'PUSH_CERTIFICATE_IN_USE',
          'Push notifications are on and need this certificate; set pushNotifications to false first, or upload a replacement instead',
        ),
    },
  },
  certificateBasedAuthentication: {
    trust: {
      item: 'deviceCas',
      appliesTo: (settings) => settings.certificateBasedAuthentication,
      unmetBecause: (trust) =>
        trust.deviceCaCount < 1
          ? 'Certificate-based authentication needs at least one device CA certificate; upload the device CA first'
          : undefined,
      // A replacement set holds 1 to 10 CAs (parseDeviceCaBundle), so no upload can be refused with this.
      refusal: () =>
        new RuleViolationError('INVALID_SETTINGS', 'Certificate-based authentication needs at least one device CA certificate; nothing was changed', [
          { field: 'certificateBasedAuthentication', message: 'Set certificateBasedAuthentication to false first, or keep at least one device CA certificate' },
        ]),
    },
  },
  packageValidation: {},
  maxClockSkewSeconds: {
    valueProblem: ({ maxClockSkewSeconds: skew }) =>
      !Number.isInteger(skew) || skew < 1 || skew > 86400 ? 'maxClockSkewSeconds must be an integer from 1 to 86400' : undefined,
  },
  requireImagingAuthentication: {},
  mode: {},
  certificateExpiryAlertDays: {
    valueProblem: ({ certificateExpiryAlertDays: days }) =>
      days.length < 1 || days.length > 10 || new Set(days).size !== days.length || !days.every((d) => Number.isInteger(d) && d >= 0 && d <= 365)
        ? 'certificateExpiryAlertDays must be 1 to 10 distinct integers from 0 to 365'
        : undefined,
  },
} satisfies { readonly [Field in keyof Settings]: SettingRequirements };

const ENTRIES = Object.entries(SETTING_REQUIREMENTS) as [keyof Settings, SettingRequirements][];

/**
 * Every rule the document breaks, one problem per rule, in table order; `trustFields`, when given, limits the trust
 * rules to those settings (the value rules always apply).
 */
export function findSettingsRuleProblems(settings: Settings, trust: TrustFacts, now: Date, trustFields?: ReadonlySet<string>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const [field, requirements] of ENTRIES) {
    const requirement = requirements.trust;
    if (requirement?.appliesTo(settings) && (trustFields === undefined || trustFields.has(field))) {
      const message = requirement.unmetBecause(trust, now);
      if (message) problems.push({ field, message });
    }
    const message = requirements.valueProblem?.(settings);
    if (message) problems.push({ field, message });
  }
  return problems;
}

/**
 * The settings write's check: 422 INVALID_SETTINGS listing every broken rule. The settings write passes the fields
 * it changes as `trustFields`: a trust rule is enforced when the change turns its setting on (or to ALWAYS), not
 * against a setting left as it was; otherwise a push certificate that expired on its own would make every unrelated
 * change (say maxClockSkewSeconds during an incident) fail until push notifications are turned off.
 */
export function assertSettingsRules(settings: Settings, trust: TrustFacts, now: Date, trustFields?: ReadonlySet<string>): void {
  const problems = findSettingsRuleProblems(settings, trust, now, trustFields);
  if (problems.length > 0) {
    throw new RuleViolationError('INVALID_SETTINGS', 'The settings break the rules listed in details; nothing was changed', problems);
  }
}

/** The trust items the document's rules rely on: a write of it must find them as they were read when it lands. */
export function trustItemsReliedOn(settings: Settings): TrustItem[] {
  return ENTRIES.flatMap(([, requirements]) => (requirements.trust?.appliesTo(settings) ? [requirements.trust.item] : []));
}

/**
 * A change of one trust item, judged by what the trust material would be after it (`after`): refused with the
 * refusal of the first requirement on that item which the settings make apply and which `after` leaves unmet.
 */
export function checkTrustChange(settings: Settings, item: TrustItem, after: TrustFacts, now: Date): void {
  for (const [, { trust: requirement }] of ENTRIES) {
    if (requirement?.item === item && requirement.appliesTo(settings) && requirement.unmetBecause(after, now) !== undefined) {
      throw requirement.refusal();
    }
  }
}
