// Exemptions (API.md §3 "Exemptions"): for a while, a device's violations of listed codes do not block it. Pure: what
// an exemption may list, how long it may run, and which of a check-in's violations it covers at a given instant.
import { ValidationError } from './errors.ts';
import type { Finding } from './errors.ts';

export const INVALID_EXEMPTION = 'INVALID_EXEMPTION';

/** The violation codes of API.md §1 that an exemption may list; identity codes (CLIENT_CERT_*, CLIENT_SIGNATURE_*) never. */
export const EXEMPTIBLE_CODES = [
  'CLOCK_SKEW_EXCEEDED',
  'SERVER_CERT_NOT_VERIFIED',
  'PACKAGE_CHECKSUM_UNAVAILABLE',
  'PACKAGE_CHECKSUM_MISSING',
  'PACKAGE_CHECKSUM_MISMATCH',
] as const;

export const MAX_EXEMPTION_DAYS = 30;
export const MAX_EXEMPTION_REASON_LENGTH = 512;

export interface Exemption {
  deviceId: string;
  /** Exemptible codes, each once, in the order given. */
  violations: string[];
  /** RFC 3339, UTC as stored (toISOString). */
  until: string;
  reason: string;
  createdAt: string;
  createdBy: string;
}

/** An exemption that has run out, as the DEVICE_BLOCKED alert carries it (API.md §4 `exemptionExpired`). */
export interface ExpiredExemption {
  violations: string[];
  until: string;
  reason: string;
}

export interface ExemptionInput {
  violations: string[];
  until: string;
  reason: string;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

const invalid = (field: string, message: string) => new ValidationError(INVALID_EXEMPTION, message, field, 422);

/**
 * Checks the rules of a well-typed exemption body at `now` and returns it normalised (codes once each, `until` as UTC
 * ISO). 422 INVALID_EXEMPTION with the field of the first broken rule.
 */
export function validateExemption(input: ExemptionInput, now: Date): ExemptionInput {
  if (input.violations.length === 0) throw invalid('violations', 'violations must list at least one violation code');
  for (const code of input.violations) {
    if (!(EXEMPTIBLE_CODES as readonly string[]).includes(code)) {
      throw invalid('violations', `${code} cannot be exempted; exemptible codes: ${EXEMPTIBLE_CODES.join(', ')} (identity violations never are)`);
    }
  }
  const untilMs = RFC3339.test(input.until) ? Date.parse(input.until) : Number.NaN;
  if (Number.isNaN(untilMs)) throw invalid('until', 'until must be an RFC 3339 date-time such as 2026-12-08T00:00:00Z');
  if (untilMs <= now.getTime()) throw invalid('until', 'until must be in the future');
  if (untilMs > now.getTime() + MAX_EXEMPTION_DAYS * 86_400_000) throw invalid('until', `until must be at most ${MAX_EXEMPTION_DAYS} days ahead`);
  if (input.reason.trim().length === 0 || input.reason.length > MAX_EXEMPTION_REASON_LENGTH) {
    throw invalid('reason', `reason must be a non-empty text of at most ${MAX_EXEMPTION_REASON_LENGTH} characters`);
  }
  return { violations: [...new Set(input.violations)], until: new Date(untilMs).toISOString(), reason: input.reason };
}

/** In force at `now`: until is still ahead (to the millisecond; stored values are whole seconds when given so). */
export function isExemptionActive(exemption: Pick<Exemption, 'until'>, now: Date): boolean {
  return Date.parse(exemption.until) > now.getTime();
}

/**
 * Splits a check-in's violations: those an active exemption lists move, as they are, to `exempted`; identity
 * violations never move. With no exemption or an expired one, nothing moves.
 */
export function applyExemption(
  violations: readonly Finding[],
  exemption: { readonly violations: readonly string[]; readonly until: string } | undefined,
  now: Date,
): { violations: Finding[]; exempted: Finding[] } {
  if (!exemption || !isExemptionActive(exemption, now)) return { violations: [...violations], exempted: [] };
  const kept: Finding[] = [];
  const exempted: Finding[] = [];
  for (const violation of violations) {
    const covered = (EXEMPTIBLE_CODES as readonly string[]).includes(violation.code) && exemption.violations.includes(violation.code);
    (covered ? exempted : kept).push(violation);
  }
  return { violations: kept, exempted };
}

/**
 * The exemption that ran out and covered some of these violations (for the DEVICE_BLOCKED alert's
 * `exemptionExpired`); undefined when none did.
 */
export function expiredExemptionCovering(
  violations: readonly Finding[],
  exemption: { readonly violations: readonly string[]; readonly until: string; readonly reason: string } | undefined,
  now: Date,
): ExpiredExemption | undefined {
  if (!exemption || isExemptionActive(exemption, now)) return undefined;
  if (!violations.some((v) => exemption.violations.includes(v.code))) return undefined;
  return { violations: [...exemption.violations], until: exemption.until, reason: exemption.reason };
}
