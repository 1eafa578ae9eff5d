// RFC 5280 §4.2.1.10 name constraints: whether a certificate's names lie inside a CA's permitted subtrees and outside
// its excluded ones. Implemented forms: dNSName, rfc822Name, iPAddress, directoryName. A constraint on any other form
// is never ignored: it fails every certificate below it that carries a name of that form (§4.2.1.10 allows "process
// the constraint or reject the certificate"; this does the latter).

import type { CertificateProfile, DistinguishedName, GeneralNameValue, NameForm } from './certificate-extensions.ts';

export type NameConstraints = NonNullable<CertificateProfile['nameConstraints']>;

const IMPLEMENTED_FORMS: ReadonlySet<NameForm> = new Set(['dNSName', 'rfc822Name', 'iPAddress', 'directoryName']);

/**
 * Work allowed for one path: names checked × subtrees checked against. Real device PKIs need a handful; a CA with
 * thousands of subtrees over a certificate with thousands of names (a known denial-of-service shape) is refused.
 */
export const MAX_NAME_CONSTRAINT_COMPARISONS = 65_536;

export interface ComparisonBudget {
  remaining: number;
}

/** Why the constraints cannot be applied as written; undefined when every subtree is well formed. */
export function describeMalformedConstraints(constraints: NameConstraints): string | undefined {
  if (constraints.structureProblem) return constraints.structureProblem;
  for (const subtree of [...constraints.permitted, ...constraints.excluded]) {
    const problem = describeMalformedSubtree(subtree);
    if (problem) return problem;
  }
  return undefined;
}

/** The names of a certificate that constraints apply to: the subject (when not empty), its email attributes, the SAN. */
export function constrainedNamesOf(profile: CertificateProfile): GeneralNameValue[] {
  const names: GeneralNameValue[] = [];
  if (profile.subject.length > 0) names.push({ form: 'directoryName', name: profile.subject });
  for (const address of profile.subjectEmailAddresses) names.push({ form: 'rfc822Name', value: address });
  names.push(...(profile.subjectAltNames?.names ?? []));
  return names;
}

/**
 * Undefined when every name satisfies the constraints; otherwise why not, as a clause ("its dNSName … is excluded").
 * Malformed constraints must have been refused before (describeMalformedConstraints).
 */
export function findNameConstraintViolation(
  constraints: NameConstraints,
  names: GeneralNameValue[],
  budget: ComparisonBudget,
): string | undefined {
  budget.remaining -= names.length * (constraints.permitted.length + constraints.excluded.length);
  if (budget.remaining < 0) {
    return 'it carries more names and name constraints than this verifier checks (a denial-of-service shape)';
  }
  const constrainedForms = new Set([...constraints.permitted, ...constraints.excluded].map((subtree) => subtree.form));
  for (const name of names) {
    if (!constrainedForms.has(name.form)) continue;
    if (!IMPLEMENTED_FORMS.has(name.form)) {
      return `it carries a name of the form ${name.form}, whose name constraints this verifier cannot judge`;
    }
    const malformed = describeMalformedName(name);
    if (malformed) return `its ${name.form} ${malformed}, so name constraints cannot be judged`;
    const permitted = constraints.permitted.filter((subtree) => subtree.form === name.form);
    if (permitted.length > 0 && !permitted.some((subtree) => isWithin(name, subtree, 'permitted'))) {
      return `its ${name.form} ${describeName(name)} is outside the permitted subtrees`;
    }
    const excluded = constraints.excluded.filter((subtree) => subtree.form === name.form);
    if (excluded.some((subtree) => isWithin(name, subtree, 'excluded'))) {
      return `its ${name.form} ${describeName(name)} is inside an excluded subtree`;
    }
  }
  return undefined;
}

/** Distinguished names equal under RFC 5280 §7.1 (each RDN the same set of attributes, in the same order). */
export function equalDistinguishedNames(a: DistinguishedName, b: DistinguishedName): boolean {
  return a.length === b.length && startsWithNames(a, b);
}

// ---- matching ----

/**
 * For `permitted`, whether every name the certificate's name could stand for lies in the subtree; for `excluded`,
 * whether any could. They differ only for a wildcard dNSName (`*.example.com`), which is judged as the set of names
 * it matches, so that neither "forbid bar.example.com" nor "permit foo.example.com" lets it through.
 */
function isWithin(name: GeneralNameValue, subtree: GeneralNameValue, use: 'permitted' | 'excluded'): boolean {
  switch (name.form) {
    case 'dNSName': {
      const base = (subtree as { value: string }).value.toLowerCase();
      const value = name.value.toLowerCase();
      if (!value.startsWith('*.')) return dnsWithin(value, base);
      const parent = value.slice(2);
      if (dnsWithin(parent, base)) return true; // every x.parent is inside base
      return use === 'excluded' && base.endsWith(`.${parent}`) && !base.slice(0, -parent.length - 1).includes('.');
    }
    case 'rfc822Name':
      return emailWithin(name.value, (subtree as { value: string }).value);
    case 'iPAddress':
      return ipWithin(name.bytes, (subtree as { bytes: Buffer }).bytes);
    case 'directoryName':
      return startsWithNames(name.name, (subtree as { name: DistinguishedName }).name);
    default:
      return false;
  }
}

/** RFC 5280: a DNS constraint matches the name itself and any name made by adding labels on the left. */
function dnsWithin(name: string, base: string): boolean {
  return base === '' || name === base || name.endsWith(`.${base}`);
}

/**
 * RFC 5280: `user@host` matches that mailbox only (local part exactly, host in any case), `host` every mailbox on
 * that host, `.domain` every mailbox on a host below the domain. An asterisk is a literal character.
 */
function emailWithin(address: string, constraint: string): boolean {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const host = address.slice(at + 1).toLowerCase();
  if (constraint.includes('@')) {
    const constraintAt = constraint.lastIndexOf('@');
    return local === constraint.slice(0, constraintAt) && host === constraint.slice(constraintAt + 1).toLowerCase();
  }
  const domain = constraint.toLowerCase();
  if (domain.startsWith('.')) return host.endsWith(domain);
  return host === domain;
}

function ipWithin(address: Buffer, constraint: Buffer): boolean {
  if (constraint.length !== address.length * 2) return false; // IPv4 against an IPv6 subtree, or the reverse
  for (let i = 0; i < address.length; i += 1) {
    const mask = constraint[address.length + i];
    if ((address[i] & mask) !== (constraint[i] & mask)) return false;
  }
  return true;
}

/** Whether `name` begins with the RDNs of `prefix` (a directoryName subtree holds the names below it). */
function startsWithNames(name: DistinguishedName, prefix: DistinguishedName): boolean {
  if (prefix.length > name.length) return false;
  return prefix.every((rdn, i) => sameRdn(name[i], rdn));
}

function sameRdn(a: DistinguishedName[number], b: DistinguishedName[number]): boolean {
  return a.length === b.length && a.every((x) => b.some((y) => x.type === y.type && x.value === y.value));
}

// ---- well-formedness ----

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

function isHostName(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  return value.split('.').every((label) => DNS_LABEL.test(label));
}

function describeMalformedSubtree(subtree: GeneralNameValue): string | undefined {
  switch (subtree.form) {
    case 'dNSName':
      // The empty name is the whole DNS namespace (used to exclude every DNS name). A leading period or a wildcard
      // is not a DNS name (RFC 5280 allows the period for URIs and email domains only).
      return subtree.value === '' || isHostName(subtree.value) ? undefined : 'a dNSName subtree is not a host name';
    case 'rfc822Name': {
      const value = subtree.value;
      const parts = value.split('@');
      if (parts.length > 2) return 'an rfc822Name subtree has more than one @';
      if (parts.length === 2) return parts[0] !== '' && isHostName(parts[1]) ? undefined : 'an rfc822Name subtree is not a mailbox';
      return isHostName(value.startsWith('.') ? value.slice(1) : value) ? undefined : 'an rfc822Name subtree is not a host or domain';
    }
    case 'iPAddress': {
      const bytes = subtree.bytes;
      if (bytes.length !== 8 && bytes.length !== 32) return 'an iPAddress subtree is not an address with a mask';
      return isContiguousMask(bytes.subarray(bytes.length / 2)) ? undefined : 'an iPAddress subtree has a mask that is not a prefix';
    }
    default:
      return undefined; // directoryName needs nothing; the other forms are refused when a name of theirs is met
  }
}

function describeMalformedName(name: GeneralNameValue): string | undefined {
  switch (name.form) {
    case 'dNSName': {
      const value = name.value.startsWith('*.') ? name.value.slice(2) : name.value;
      return isHostName(value) ? undefined : `${describeName(name)} is not a host name`;
    }
    case 'rfc822Name': {
      const parts = name.value.split('@');
      return parts.length === 2 && parts[0] !== '' && isHostName(parts[1]) ? undefined : `${describeName(name)} is not a mailbox`;
    }
    case 'iPAddress':
      return name.bytes.length === 4 || name.bytes.length === 16 ? undefined : `of ${name.bytes.length} bytes is not an address`;
    default:
      return undefined;
  }
}

function isContiguousMask(mask: Buffer): boolean {
  let seenZero = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit -= 1) {
      const one = (byte >> bit) & 1;
      if (one && seenZero) return false;
      if (!one) seenZero = true;
    }
  }
  return true;
}

/** A name for a message: cut short and limited to printable ASCII, since it comes from a certificate. */
function describeName(name: GeneralNameValue): string {
  let text: string;
  switch (name.form) {
    case 'dNSName':
    case 'rfc822Name':
      text = name.value;
      break;
    case 'iPAddress':
      text = name.bytes.length === 4 ? [...name.bytes].join('.') : name.bytes.toString('hex');
      break;
    case 'directoryName':
      text = name.name.map((rdn) => rdn.map((attribute) => attribute.text ?? attribute.value).join('+')).join(', ');
      break;
    default:
      text = name.form;
  }
  const printable = text.replace(/[^\x20-\x7e]/g, '');
  return `"${printable.length > 64 ? `${printable.slice(0, 64)}…` : printable}"`;
}
