// Unit tests: name constraints on device certificate paths (RFC 5280 §4.2.1.10) with openssl-made CAs — DNS, IP,
// email and directory-name subtrees enforced; a constrained form that is not implemented fails the path.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DistinguishedName, type GeneralNameValue, readCertificateProfile } from '../../lib/domain/certificate-extensions.ts';
import { DeviceCertificateVerifier, type DeviceCertificateVerifierOptions } from '../../lib/domain/device-certificates.ts';
import {
  constrainedNamesOf,
  describeMalformedConstraints,
  equalDistinguishedNames,
  findNameConstraintViolation,
  MAX_NAME_CONSTRAINT_COMPARISONS,
  type NameConstraints,
} from '../../lib/domain/name-constraints.ts';
import { CertificateFactory, type CertificateOptions, type MadeCertificate } from '../support/certificates.ts';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const DEVICE = 'C02NAMES0001';
const CA_DATES = { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2040-01-01T00:00:00Z') };
const LEAF_DATES = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2027-01-01T00:00:00Z') };

let factory: CertificateFactory;
let root: MadeCertificate;
const cas: Record<string, MadeCertificate> = {};

/** Constrained CAs below the configured root, by the constraint they carry (openssl nameConstraints syntax). */
const CONSTRAINED_CAS: Record<string, Partial<CertificateOptions>> = {
  dns: { nameConstraints: 'critical,permitted;DNS:example.com' },
  dnsExcluded: { nameConstraints: 'critical,excluded;DNS:forbidden.example.com' },
  ip: { nameConstraints: 'critical,permitted;IP:10.0.0.0/255.0.0.0' },
  email: { nameConstraints: 'critical,permitted;email:.example.com,permitted;email:example.org,permitted;email:it@example.net' },
  directory: { nameConstraints: 'critical,permitted;dirName:nc_directory', extraExtensions: ['[ nc_directory ]', 'O = Acme'] },
  directoryExcluded: { nameConstraints: 'critical,excluded;dirName:nc_directory', extraExtensions: ['[ nc_directory ]', 'O = Evil'] },
  uri: { nameConstraints: 'critical,permitted;URI:.example.com' },
  dnsNotCritical: { nameConstraints: 'permitted;DNS:example.com' },
  dnsLeadingPeriod: { nameConstraints: 'critical,permitted;DNS:.example.com' },
  ipv6: { nameConstraints: 'critical,permitted;IP:2001:db8:0:0:0:0:0:0/ffff:ffff:0:0:0:0:0:0' },
  directoryDeep: { nameConstraints: 'critical,permitted;dirName:nc_deep', extraExtensions: ['[ nc_deep ]', 'O = Acme', 'OU = Macs'] },
  registeredId: { nameConstraints: 'critical,excluded;RID:1.3.6.1.4.1.55738.9' },
};

beforeAll(() => {
  factory = CertificateFactory.create();
  root = factory.makeRootCa({ cn: 'Names Test Root', ...CA_DATES });
  for (const [name, options] of Object.entries(CONSTRAINED_CAS)) {
    cas[name] = factory.makeIntermediateCa(root, { cn: `Constrained CA ${name}`, keyType: 'ec256', ...CA_DATES, ...options });
  }
  leafKeyMaterial = factory.makeKey('ec256');
});

afterAll(() => factory?.cleanup());

/** One key for every device certificate of the file. */
const leafKey = () => leafKeyMaterial;
let leafKeyMaterial: ReturnType<CertificateFactory['makeKey']>;

/** A device certificate below one of the constrained CAs, with the given SAN (openssl syntax) and subject. */
function leafBelow(ca: string, san?: string, subject?: string): MadeCertificate {
  return factory.makeDeviceCertificate(cas[ca], {
    cn: DEVICE,
    subject,
    keepEmailInSubject: true,
    key: leafKey(),
    ...LEAF_DATES,
    extraExtensions: san ? [`subjectAltName = ${san}`] : [],
  });
}

const verify = (leaf: MadeCertificate, ca: MadeCertificate, options?: DeviceCertificateVerifierOptions) =>
  new DeviceCertificateVerifier([root.pem], new Set(), options).verify(
    { way: 'MTLS', chainDer: [leaf.der, ca.der] },
    { deviceId: DEVICE, body: Buffer.alloc(0), now: NOW, maxClockSkewSeconds: 300 },
  );
const codes = (result: { violations: Array<{ code: string }> }) => result.violations.map((v) => v.code);
const reasonsOf = (result: { violations: Array<{ code: string; reasons?: unknown }> }) =>
  ((result.violations.find((v) => v.code === 'CLIENT_CERT_UNTRUSTED')?.reasons as string[] | undefined) ?? []).join('\n');

describe('name constraints on the path', () => {
  // Columns: constrained CA, the leaf's SAN (openssl syntax), the leaf's subject (default /CN=deviceId), exact codes, reason.
  const cases: Array<[string, string | undefined, string | undefined, string[], RegExp?]> = [
    // DNS: the constraint and any name with more labels on the left
    ['dns', 'DNS:mac1.example.com', undefined, []],
    ['dns', 'DNS:example.com', undefined, []],
    // DNS: another domain, or one that merely ends in the same letters
    ['dns', 'DNS:evil.com', undefined, ['CLIENT_CERT_UNTRUSTED'], /its dNSName "evil\.com" is outside the permitted subtrees/],
    ['dns', 'DNS:notexample.com', undefined, ['CLIENT_CERT_UNTRUSTED'], /"notexample\.com" is outside the permitted subtrees/],
    // DNS constraints judge dNSNames; a CN-only device certificate carries none
    ['dns', undefined, undefined, []],
    // a wildcard judged by every name it matches: all inside example.com, or reaching outside it
    ['dns', 'DNS:*.example.com', undefined, []],
    ['dns', 'DNS:*.com', undefined, ['CLIENT_CERT_UNTRUSTED'], /"\*\.com" is outside the permitted subtrees/],
    // excluded DNS subtree: the name itself, names below it, and a wildcard that could stand for it
    ['dnsExcluded', 'DNS:ok.example.com', undefined, []],
    ['dnsExcluded', 'DNS:forbidden.example.com', undefined, ['CLIENT_CERT_UNTRUSTED'], /is inside an excluded subtree/],
    ['dnsExcluded', 'DNS:a.forbidden.example.com', undefined, ['CLIENT_CERT_UNTRUSTED'], /is inside an excluded subtree/],
    ['dnsExcluded', 'DNS:*.example.com', undefined, ['CLIENT_CERT_UNTRUSTED'], /"\*\.example\.com" is inside an excluded subtree/],
    // …but a wildcard of another domain, however alike in shape, cannot stand for it
    ['dnsExcluded', 'DNS:*.example.org', undefined, []],
    // IP: inside 10.0.0.0/8, outside it, and an IPv6 address against an IPv4-only permission
    ['ip', 'IP:10.1.2.3', undefined, []],
    ['ip', 'IP:192.168.1.1', undefined, ['CLIENT_CERT_UNTRUSTED'], /iPAddress "192\.168\.1\.1" is outside the permitted subtrees/],
    ['ip', 'IP:::1', undefined, ['CLIENT_CERT_UNTRUSTED'], /is outside the permitted subtrees/],
    // email: `.example.com` (hosts below it), `example.org` (that host), `it@example.net` (that mailbox)
    ['email', 'email:mac@host.example.com', undefined, []],
    ['email', 'email:mac@example.com', undefined, ['CLIENT_CERT_UNTRUSTED'], /rfc822Name "mac@example\.com" is outside/],
    ['email', 'email:mac@example.org', undefined, []],
    ['email', 'email:mac@sub.example.org', undefined, ['CLIENT_CERT_UNTRUSTED'], /rfc822Name "mac@sub\.example\.org" is outside the permitted subtrees/],
    ['email', 'email:it@example.net', undefined, []],
    // the local part of a mailbox is compared exactly
    ['email', 'email:IT@example.net', undefined, ['CLIENT_CERT_UNTRUSTED'], /rfc822Name "IT@example\.net" is outside the permitted subtrees/],
    // …and so is its host: the same local part at another host is another mailbox
    ['email', 'email:it@evil.net', undefined, ['CLIENT_CERT_UNTRUSTED'], /rfc822Name "it@evil\.net" is outside the permitted subtrees/],
    // an email address in the subject (emailAddress attribute) is constrained as well
    ['email', undefined, `/emailAddress=mac@evil.com/CN=${DEVICE}`, ['CLIENT_CERT_UNTRUSTED'], /rfc822Name "mac@evil\.com"/],
    // directory name: the subject must begin with O=Acme (compared without regard to case)
    ['directory', undefined, `/O=Acme/CN=${DEVICE}`, []],
    ['directory', undefined, `/O=ACME/CN=${DEVICE}`, []],
    ['directory', undefined, `/O=Evil/CN=${DEVICE}`, ['CLIENT_CERT_UNTRUSTED'], /its directoryName "Evil, C02NAMES0001" is outside the permitted subtrees/],
    ['directory', undefined, undefined, ['CLIENT_CERT_UNTRUSTED'], /its directoryName ".*" is outside the permitted subtrees/],
    // excluded directory name
    ['directoryExcluded', undefined, `/O=Evil/CN=${DEVICE}`, ['CLIENT_CERT_UNTRUSTED'], /is inside an excluded subtree/],
    ['directoryExcluded', undefined, `/O=Acme/CN=${DEVICE}`, []],
    // URI constraints are not implemented: a URI name below them fails the path, never passes unjudged
    [
      'uri',
      'URI:https://mdm.example.com/device',
      undefined,
      ['CLIENT_CERT_UNTRUSTED'],
      /it carries a name of the form uniformResourceIdentifier, whose name constraints this verifier cannot judge/,
    ],
    // …while a certificate with no URI name has nothing the constraint could speak about
    ['uri', 'DNS:mac.example.com', undefined, []],
    // IPv6: inside 2001:db8::/32 or outside it
    ['ipv6', 'IP:2001:db8:0:0:0:0:0:1', undefined, []],
    ['ipv6', 'IP:2001:db9:0:0:0:0:0:1', undefined, ['CLIENT_CERT_UNTRUSTED'], /iPAddress "20010db9000000000000000000000001" is outside the permitted subtrees/],
    // a subtree of two RDNs (O=Acme, OU=Macs): a subject with only the first of them is not below it
    ['directoryDeep', undefined, `/O=Acme/OU=Macs/CN=${DEVICE}`, []],
    ['directoryDeep', undefined, `/O=Acme/CN=${DEVICE}`, ['CLIENT_CERT_UNTRUSTED'], /its directoryName "Acme, C02NAMES0001" is outside the permitted subtrees/],
    // a DNS name of exactly 253 characters, the longest a host name may be, is judged like any other
    ['dns', `DNS:${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(49)}.example.com`, undefined, []],
    // a DNS name longer than 253 characters is no host name: it cannot be judged, the path fails
    [
      'dns',
      `DNS:${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(50)}.example.com`,
      undefined,
      ['CLIENT_CERT_UNTRUSTED'],
      /its dNSName ".*" is not a host name, so name constraints cannot be judged/,
    ],
    // registeredID constraints are not implemented: a registeredID name below them fails the path
    ['registeredId', 'RID:1.3.6.1.4.1.55738.1', undefined, ['CLIENT_CERT_UNTRUSTED'], /it carries a name of the form registeredID, whose name constraints this verifier cannot judge/],
    // names of forms nobody constrained pass: an otherName (a UPN) and a registeredID below a DNS constraint,
    // an otherName below a registeredID constraint
    ['dns', 'otherName:1.3.6.1.4.1.311.20.2.3;UTF8:mac@example.com, RID:1.3.6.1.4.1.55738.1', undefined, []],
    ['registeredId', 'otherName:1.3.6.1.4.1.311.20.2.3;UTF8:mac@example.com', undefined, []],
    // name constraints on a presented intermediate must be critical
    ['dnsNotCritical', 'DNS:mac.example.com', undefined, ['CLIENT_CERT_UNTRUSTED'], /nameConstraints extension is not marked critical/],
    // a DNS subtree with a leading period is not a DNS name: the constraint cannot be applied, the path fails
    ['dnsLeadingPeriod', 'DNS:mac.example.com', undefined, ['CLIENT_CERT_UNTRUSTED'], /its name constraints cannot be applied: a dNSName subtree is not a host name/],
  ];

  it.each(cases)('%s constraint, SAN %s, subject %s', (ca, san, subject, expected, reason) => {
    const result = verify(leafBelow(ca, san, subject), cas[ca]);
    expect(codes(result)).toEqual(expected);
    // a refusal as untrusted names its reason; an accepted device has none
    expect(reasonsOf(result)).toMatch(reason ?? /^$/);
  });

  it('compares at most 65,536 names × subtrees, and refuses one name more as a denial-of-service shape', () => {
    // 128 permitted and 128 excluded subtrees; the subject and 255 DNS names inside example.com: exactly 65,536
    // comparisons, accepted; with a 256th DNS name (65,792) refused, although every name is still permitted
    const subtrees = [
      'permitted;DNS:example.com',
      ...Array.from({ length: 127 }, (_, i) => `permitted;DNS:d${i}.example.com`),
      ...Array.from({ length: 128 }, (_, i) => `excluded;DNS:x${i}.example.org`),
    ];
    const wide = factory.makeIntermediateCa(root, { cn: 'Wide CA', keyType: 'ec256', ...CA_DATES, nameConstraints: `critical,${subtrees.join(',')}` });
    const leafWith = (count: number) =>
      factory.makeDeviceCertificate(wide, {
        cn: DEVICE,
        key: leafKey(),
        ...LEAF_DATES,
        extraExtensions: [`subjectAltName = ${Array.from({ length: count }, (_, i) => `DNS:mac${i}.example.com`).join(', ')}`],
      });
    expect(codes(verify(leafWith(255), wide))).toEqual([]);
    const result = verify(leafWith(256), wide);
    expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(reasonsOf(result)).toMatch(/it carries more names and name constraints than this verifier checks \(a denial-of-service shape\)/);
  });

  it('binds CAs below the constrained one too', () => {
    const below = factory.makeIntermediateCa(cas.dns, { cn: 'Below DNS CA', keyType: 'ec256', ...CA_DATES, extraExtensions: ['subjectAltName = DNS:evil.com'] });
    const leaf = factory.makeDeviceCertificate(below, { cn: DEVICE, key: leafKey(), ...LEAF_DATES });
    const result = new DeviceCertificateVerifier([root.pem], new Set()).verify(
      { way: 'MTLS', chainDer: [leaf.der, below.der, cas.dns.der] },
      { deviceId: DEVICE, body: Buffer.alloc(0), now: NOW, maxClockSkewSeconds: 300 },
    );
    expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(reasonsOf(result)).toMatch(/the presented intermediate "CN=Below DNS CA" breaks the name constraints of "CN=Constrained CA dns"/);
  });

  it('refuses a device certificate that carries name constraints itself', () => {
    const leaf = factory.makeDeviceCertificate(root, { cn: DEVICE, key: leafKey(), ...LEAF_DATES, nameConstraints: 'critical,permitted;DNS:example.com' });
    const result = new DeviceCertificateVerifier([root.pem], new Set()).verify(
      { way: 'MTLS', chainDer: [leaf.der] },
      { deviceId: DEVICE, body: Buffer.alloc(0), now: NOW, maxClockSkewSeconds: 300 },
    );
    expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(reasonsOf(result)).toBe('it carries name constraints, which only a CA may');
  });
});

describe('name constraints of a configured CA stored before the rules', () => {
  let constrainedRoot: MadeCertificate;
  beforeAll(() => {
    constrainedRoot = factory.makeRootCa({ cn: 'Legacy Constrained Root', nameConstraints: 'permitted;DNS:example.com', ...CA_DATES });
  });

  const verifyBelowRoot = (san: string, options?: DeviceCertificateVerifierOptions) =>
    new DeviceCertificateVerifier([constrainedRoot.pem], new Set(), options).verify(
      { way: 'MTLS', chainDer: [factory.makeDeviceCertificate(constrainedRoot, { cn: DEVICE, key: leafKey(), ...LEAF_DATES, extraExtensions: [`subjectAltName = ${san}`] }).der] },
      { deviceId: DEVICE, body: Buffer.alloc(0), now: NOW, maxClockSkewSeconds: 300 },
    );

  it.each([
    // Columns: the leaf's SAN, codes in the check-in path (non-critical tolerated), codes with conformance enforced
    // inside the permitted subtree: only the non-critical marking is at fault
    ['DNS:mac.example.com', [], ['CLIENT_CERT_UNTRUSTED']],
    // outside it: the constraint is enforced whatever its marking
    ['DNS:evil.com', ['CLIENT_CERT_UNTRUSTED'], ['CLIENT_CERT_UNTRUSTED']],
  ])('SAN %s', (san, tolerated, enforced) => {
    expect(codes(verifyBelowRoot(san))).toEqual(tolerated);
    expect(codes(verifyBelowRoot(san, { configuredCaConformance: 'enforce' }))).toEqual(enforced);
  });
});

// The rules on their own, for names and subtrees openssl will not write (an empty dNSName subtree, an iPAddress of
// five bytes, a mailbox without a local part) or that are quicker to state as values. Attribute values are given as
// the profile holds them: case folded.
describe('name constraints, rule by rule', () => {
  const O = '2.5.4.10';
  const OU = '2.5.4.11';
  const CN = '2.5.4.3';
  /** A distinguished name, outermost RDN first; each RDN a list of [type, value]. */
  const dn = (...rdns: Array<Array<[string, string]>>): DistinguishedName => rdns.map((rdn) => rdn.map(([type, value]) => ({ type, value })));
  const dns = (value: string): GeneralNameValue => ({ form: 'dNSName', value });
  const email = (value: string): GeneralNameValue => ({ form: 'rfc822Name', value });
  const ip = (...bytes: number[]): GeneralNameValue => ({ form: 'iPAddress', bytes: Buffer.from(bytes) });
  const dir = (name: DistinguishedName): GeneralNameValue => ({ form: 'directoryName', name });
  const constraints = (permitted: GeneralNameValue[], excluded: GeneralNameValue[] = []): NameConstraints => ({ critical: true, permitted, excluded });
  const ACME_MACS = dn([[O, 'acme']], [[OU, 'macs']]);

  it.each([
    // Columns: the CA's constraints, the certificate's names, the answer (undefined: every name satisfies them)
    // a CA permitting its DNS domain and excluding a private network: an address outside that network passes,
    // though no permitted subtree is an address
    [constraints([dns('example.com')], [ip(192, 168, 0, 0, 255, 255, 0, 0)]), [ip(10, 1, 2, 3)], undefined],
    // a CA permitting a DNS domain and an address range: each name is judged by the subtrees of its own form
    [constraints([dns('example.com'), ip(10, 0, 0, 0, 255, 0, 0, 0)]), [dns('mac.example.com'), ip(10, 1, 2, 3)], undefined],
    // a CA excluding one host and a private network: a DNS name elsewhere passes
    [constraints([], [dns('forbidden.example.com'), ip(192, 168, 0, 0, 255, 255, 0, 0)]), [dns('mac.example.com')], undefined],
    // the empty dNSName subtree is the whole DNS namespace: excluded, no DNS name passes (an S/MIME-only CA)
    [constraints([], [dns('')]), [dns('mac.example.com')], 'its dNSName "mac.example.com" is inside an excluded subtree'],
    [constraints([], [dns('')]), [email('mac@example.com')], undefined],
    // a mailbox constraint: the same local part at another host is another mailbox
    [constraints([email('it@example.net')]), [email('it@evil.net')], 'its rfc822Name "it@evil.net" is outside the permitted subtrees'],
    // an rfc822Name that is not a mailbox cannot be judged: none is taken as the host it ends with
    [constraints([email('example.org')]), [email('@example.org')], 'its rfc822Name "@example.org" is not a mailbox, so name constraints cannot be judged'],
    [constraints([email('example.org')]), [email('a@b@example.org')], 'its rfc822Name "a@b@example.org" is not a mailbox, so name constraints cannot be judged'],
    // an iPAddress of five bytes is no address: below an excluded range it is refused, not let through
    [constraints([], [ip(10, 0, 0, 0, 255, 0, 0, 0)]), [ip(10, 1, 2, 3, 4)], 'its iPAddress of 5 bytes is not an address, so name constraints cannot be judged'],
    // a subject shorter than the permitted directory subtree is not below it
    [constraints([dir(ACME_MACS)]), [dir(dn([[O, 'acme']]))], 'its directoryName "acme" is outside the permitted subtrees'],
    // multi-valued RDNs: the same set of attributes matches …
    [constraints([dir(dn([[O, 'acme'], [OU, 'macs']]))]), [dir(dn([[O, 'acme'], [OU, 'macs']], [[CN, 'c02names0001']]))], undefined],
    // … a subset of it, or a set with one attribute changed, does not
    [constraints([dir(dn([[O, 'acme'], [OU, 'macs']]))]), [dir(dn([[O, 'acme']], [[CN, 'c02names0001']]))], 'its directoryName "acme, c02names0001" is outside the permitted subtrees'],
    [constraints([dir(dn([[O, 'acme'], [OU, 'macs']]))]), [dir(dn([[O, 'acme'], [OU, 'evil']], [[CN, 'c02names0001']]))], 'its directoryName "acme+evil, c02names0001" is outside the permitted subtrees'],
    // an attribute of another type with the permitted value (OU=Acme below a CA permitting O=Acme) is outside
    [constraints([dir(dn([[O, 'acme']]))]), [dir(dn([[OU, 'acme']], [[CN, 'c02names0001']]))], 'its directoryName "acme, c02names0001" is outside the permitted subtrees'],
  ] as Array<[NameConstraints, GeneralNameValue[], string | undefined]>)('%# %j', (nameConstraints, names, answer) => {
    expect(findNameConstraintViolation(nameConstraints, names, { remaining: MAX_NAME_CONSTRAINT_COMPARISONS })).toEqual(answer);
  });

  it.each([
    // Columns: the CA's constraints, why they cannot be applied (undefined: they can)
    // the empty dNSName subtree (all of DNS) is well formed
    [constraints([], [dns('')]), undefined],
    // a bad subtree after a good one is still found
    [constraints([dns('example.com'), dns('.example.org')]), 'a dNSName subtree is not a host name'],
    [constraints([dns('example.com')], [dns('*.example.org')]), 'a dNSName subtree is not a host name'],
    // rfc822Name subtrees: a mailbox, a host (one of a single letter, x.com), a domain
    [constraints([email('it@example.net'), email('x.com'), email('.example.com')]), undefined],
    [constraints([email('example.com'), email('a@b@example.net')]), 'an rfc822Name subtree has more than one @'],
    [constraints([email('example.com'), email('@example.net')]), 'an rfc822Name subtree is not a mailbox'],
    [constraints([email('example.com'), email('it@bad_host.example.net')]), 'an rfc822Name subtree is not a mailbox'],
    [constraints([email('example.com'), email('bad host.example.net')]), 'an rfc822Name subtree is not a host or domain'],
    // an iPAddress mask with a one after a zero (255.255.255.1, a typing slip for .0) is no prefix
    [constraints([ip(10, 0, 0, 0, 255, 255, 255, 1)]), 'an iPAddress subtree has a mask that is not a prefix'],
    [constraints([ip(10, 0, 0, 0, 255, 255, 255, 254)]), undefined],
  ] as Array<[NameConstraints, string | undefined]>)('malformed? %# %j', (nameConstraints, problem) => {
    expect(describeMalformedConstraints(nameConstraints)).toEqual(problem);
  });

  it.each([
    // Columns: subject, issuer, equal? (a CA whose subject equals its issuer is self-issued and does not count
    // towards pathLenConstraint, so "begins with" must not pass for "equals")
    [dn([[O, 'acme']], [[CN, 'sub ca']]), dn([[O, 'acme']]), false],
    [dn([[O, 'acme']]), dn([[O, 'acme']], [[CN, 'sub ca']]), false],
    [dn([[O, 'acme']], [[CN, 'root']]), dn([[O, 'acme']], [[CN, 'root']]), true],
  ])('equalDistinguishedNames %# → %s', (a, b, equal) => {
    expect(equalDistinguishedNames(a, b)).toBe(equal);
  });

  it('constrains the subject only when it is not empty, and the subjectAltNames only when there are some', () => {
    const noSubject = factory.makeDeviceCertificate(cas.dns, { cn: '', subject: '/', key: leafKey(), ...LEAF_DATES, extraExtensions: ['subjectAltName = DNS:mac.example.com'] });
    expect(constrainedNamesOf(readCertificateProfile(noSubject.der))).toEqual([dns('mac.example.com')]);
    const noSan = factory.makeDeviceCertificate(cas.directory, { cn: DEVICE, subject: `/O=Acme/CN=${DEVICE}`, key: leafKey(), ...LEAF_DATES });
    const profile = readCertificateProfile(noSan.der);
    expect(constrainedNamesOf(profile)).toEqual([dir(profile.subject)]);
  });
});
