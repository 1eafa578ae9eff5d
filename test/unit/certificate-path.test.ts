// Unit tests: RFC 5280 §6 path validation of device certificates with real openssl-made chains — the CA rules,
// pathLenConstraint, critical extensions, the CA key policy, revoked CAs, configured CAs stored before the rules,
// attackers' chains and the chain cache.

import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AsnParser, AsnSerializer } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { signatureEncodingTwins } from '../../lib/domain/certificate-extensions.ts';
import { describeKeyProblem, ParsedCertificate } from '../../lib/domain/certificate-path.ts';
import { DeviceCertificateVerifier, type DeviceCertificateVerifierOptions } from '../../lib/domain/device-certificates.ts';
import type { PresentedIdentity } from '../../lib/domain/device-identity.ts';
import { CertificateFactory, type MadeCertificate } from '../support/certificates.ts';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const DEVICE = 'C02PATH00001';
const at = (iso: string) => new Date(iso);
const CA_DATES = { notBefore: at('2020-01-01T00:00:00Z'), notAfter: at('2040-01-01T00:00:00Z') };
const LEAF_DATES = { notBefore: at('2026-01-01T00:00:00Z'), notAfter: at('2027-01-01T00:00:00Z') };
const UNKNOWN_CRITICAL = '1.3.6.1.4.1.55738.666.1 = critical,ASN1:NULL';

let factory: CertificateFactory;
const c: Record<string, MadeCertificate> = {};

beforeAll(() => {
  const f = (factory = CertificateFactory.create());
  const leafKey = f.makeKey('ec256');
  const device = (issuer: MadeCertificate, extra: Partial<Parameters<CertificateFactory['makeDeviceCertificate']>[1]> = {}) =>
    f.makeDeviceCertificate(issuer, { cn: DEVICE, key: leafKey, ...LEAF_DATES, ...extra });
  const ca = (issuer: MadeCertificate, cn: string, extra: Partial<Parameters<CertificateFactory['makeIntermediateCa']>[1]> = {}) =>
    f.makeIntermediateCa(issuer, { cn, keyType: 'ec256', ...CA_DATES, ...extra });

  c.root = f.makeRootCa({ cn: 'Path Test Root', ...CA_DATES });
  c.inter = ca(c.root, 'Path Test Issuing CA');
  c.leafViaInter = device(c.inter);
  c.leafViaRoot = device(c.root);

  // basicConstraints and keyUsage of an intermediate
  c.interNoBc = ca(c.root, 'No basicConstraints CA', { basicConstraints: 'none' });
  c.leafViaNoBc = device(c.interNoBc);
  c.interBcNotCritical = ca(c.root, 'Non-critical basicConstraints CA', { basicConstraints: 'CA:TRUE' });
  c.leafViaBcNotCritical = device(c.interBcNotCritical);
  c.interCaFalse = ca(c.root, 'CA:FALSE CA', { ca: false, keyUsage: 'critical,keyCertSign,digitalSignature' });
  c.leafViaCaFalse = device(c.interCaFalse);
  c.interNoCertSign = ca(c.root, 'No keyCertSign CA', { keyUsage: 'critical,digitalSignature,cRLSign' });
  c.leafViaNoCertSign = device(c.interNoCertSign);
  c.interNoKeyUsage = ca(c.root, 'No keyUsage CA', { keyUsage: 'none' });
  c.leafViaNoKeyUsage = device(c.interNoKeyUsage);

  // pathLenConstraint
  c.interPath0 = ca(c.root, 'PathLen 0 CA', { pathLength: 0 });
  c.leafViaPath0 = device(c.interPath0);
  c.belowPath0 = ca(c.interPath0, 'Below PathLen 0 CA');
  c.leafBelowPath0 = device(c.belowPath0);
  c.rolloverPath0 = ca(c.interPath0, 'PathLen 0 CA'); // self-issued: same name, new key (key rollover)
  c.leafViaRollover = device(c.rolloverPath0);
  c.interPath1 = ca(c.root, 'PathLen 1 CA', { pathLength: 1 });
  c.belowPath1 = ca(c.interPath1, 'Below PathLen 1 CA');
  c.leafBelowPath1 = device(c.belowPath1);
  c.rootPath0 = f.makeRootCa({ cn: 'PathLen 0 Root', pathLength: 0, ...CA_DATES });
  c.leafDirectlyBelowRootPath0 = device(c.rootPath0);
  c.belowRootPath0 = ca(c.rootPath0, 'Below PathLen 0 Root');
  c.leafBelowRootPath0 = device(c.belowRootPath0);
  c.rootPath1 = f.makeRootCa({ cn: 'PathLen 1 Root', pathLength: 1, ...CA_DATES });
  c.firstBelowRootPath1 = ca(c.rootPath1, 'First CA below PathLen 1 Root');
  c.leafFirstBelowRootPath1 = device(c.firstBelowRootPath1);
  c.secondBelowRootPath1 = ca(c.firstBelowRootPath1, 'Second CA below PathLen 1 Root');
  c.leafSecondBelowRootPath1 = device(c.secondBelowRootPath1);

  // the leaf itself
  c.leafCa = device(c.root, { ca: true, keyUsage: 'critical,digitalSignature' });
  c.leafCertSign = device(c.root, { keyUsage: 'critical,digitalSignature,keyCertSign' });
  c.leafUnknownCritical = device(c.root, { extraExtensions: [UNKNOWN_CRITICAL] });
  c.leafUnknownNonCritical = device(c.root, { extraExtensions: ['1.3.6.1.4.1.55738.666.1 = ASN1:NULL'] });
  c.leafEmptySubject = device(c.root, { cn: '', subject: '/', extraExtensions: ['subjectAltName = critical,email:mac@example.com'] });
  c.leafEmptySubjectLooseSan = device(c.root, { cn: '', subject: '/', extraExtensions: ['subjectAltName = email:mac@example.com'] });
  c.leafEmptySubjectNoSan = device(c.root, { cn: '', subject: '/' });
  c.leafServerAuth = device(c.root, { eku: 'serverAuth' });
  c.leafEndsAtNow = device(c.root, { notBefore: at('2026-01-01T00:00:00Z'), notAfter: NOW });

  // critical extensions and keys of CAs
  c.interUnknownCritical = ca(c.root, 'Unknown critical extension CA', { extraExtensions: [UNKNOWN_CRITICAL] });
  c.leafViaUnknownCritical = device(c.interUnknownCritical);
  c.interRsa1024 = ca(c.root, 'RSA 1024 CA', { keyType: 'rsa1024' });
  c.leafViaRsa1024 = device(c.interRsa1024);
  c.interP521 = ca(c.root, 'P-521 CA', { keyType: 'ec521' });
  c.leafViaP521 = device(c.interP521);

  // configured CAs that break a rule added later, or that are outside their validity
  c.rootBcNotCritical = f.makeRootCa({ cn: 'Legacy Root (basicConstraints not critical)', basicConstraints: 'CA:TRUE', ...CA_DATES });
  c.leafBelowRootBcNotCritical = device(c.rootBcNotCritical);
  // another key under the legacy root's name, and a device it issued (its authorityKeyIdentifier names the other key)
  c.legacyImpostor = f.makeRootCa({ cn: 'Legacy Root (basicConstraints not critical)', keyType: 'ec256', ...CA_DATES });
  c.leafByLegacyImpostor = device(c.legacyImpostor);
  c.rootUnknownCritical = f.makeRootCa({ cn: 'Legacy Root (unknown critical extension)', extraExtensions: [UNKNOWN_CRITICAL], ...CA_DATES });
  c.leafBelowRootUnknownCritical = device(c.rootUnknownCritical);
  c.rootRsa1024 = f.makeRootCa({ cn: 'Legacy Root (RSA 1024)', keyType: 'rsa1024', ...CA_DATES });
  c.leafBelowRootRsa1024 = device(c.rootRsa1024);
  c.rootEmptySubject = f.makeRootCa({ cn: '', subject: '/', ...CA_DATES });
  c.leafBelowRootEmptySubject = device(c.rootEmptySubject);
  const loosePolicy = ['policyConstraints = requireExplicitPolicy:0'];
  c.rootLoosePolicy = f.makeRootCa({ cn: 'Legacy Root (policyConstraints not critical)', extraExtensions: loosePolicy, ...CA_DATES });
  c.leafBelowRootLoosePolicy = device(c.rootLoosePolicy);
  const leadingPeriod = 'critical,permitted;DNS:.example.com';
  c.rootLeadingPeriod = f.makeRootCa({ cn: 'Root constraining .example.com', nameConstraints: leadingPeriod, ...CA_DATES });
  c.leafBelowRootLeadingPeriod = device(c.rootLeadingPeriod);
  c.rootNoCertSign = f.makeRootCa({ cn: 'Root without keyCertSign', keyUsage: 'critical,digitalSignature,cRLSign', ...CA_DATES });
  c.leafBelowRootNoCertSign = device(c.rootNoCertSign);
  c.rootCaFalse = f.makeRootCa({ cn: 'Not A CA Root', ca: false, keyUsage: 'critical,keyCertSign,digitalSignature', ...CA_DATES });
  c.leafBelowRootCaFalse = device(c.rootCaFalse);
  c.rootExpired = f.makeRootCa({ cn: 'Expired Root', notBefore: at('2016-01-01T00:00:00Z'), notAfter: at('2026-05-01T00:00:00Z') });
  c.leafBelowRootExpired = device(c.rootExpired, { notBefore: at('2026-01-01T00:00:00Z'), notAfter: at('2026-05-01T00:00:00Z') });
  c.rootNotYetValid = f.makeRootCa({ cn: 'Future Root', notBefore: at('2026-07-01T00:00:00Z'), notAfter: at('2036-07-01T00:00:00Z') });
  c.leafBelowRootNotYetValid = device(c.rootNotYetValid);
  // valid from exactly the clock-skew tolerance (300 s) ahead of now
  const skewEdge = new Date(NOW.getTime() + 300_000);
  c.rootAtSkewEdge = f.makeRootCa({ cn: 'Root valid at the skew edge', notBefore: skewEdge, notAfter: at('2036-07-01T00:00:00Z') });
  c.leafBelowRootAtSkewEdge = device(c.rootAtSkewEdge);

  // attackers: a CA named like ours with another key; a dead-end cross certificate
  c.impostor = f.makeRootCa({ cn: '', subject: '/CN=Path Test Issuing CA', keyType: 'ec256', ...CA_DATES });
  c.leafByImpostor = device(c.impostor, { authorityKeyIdentifier: 'none' });
  c.leafByImpostorWithKeyId = device(c.impostor);
  c.otherRoot = f.makeRootCa({ cn: 'Somebody Else Root', ...CA_DATES });
  c.renamedRoot = f.makeRootCa({ cn: 'Renamed Path Test Root', key: c.root, ...CA_DATES }); // the root's key, another name
  const crossKey = f.makeKey('ec256');
  c.crossDeadEnd = ca(c.otherRoot, 'Cross-signed CA', { key: crossKey });
  c.crossGood = ca(c.root, 'Cross-signed CA', { key: crossKey });
  c.leafViaCross = device(c.crossGood);
  c.belowCross = ca(c.crossGood, 'Below Cross-signed CA');
  c.leafBelowCross = device(c.belowCross);
});

afterAll(() => factory?.cleanup());

interface Setup {
  revoked?: string[];
  options?: DeviceCertificateVerifierOptions;
}
const verifierFor = (configured: MadeCertificate[], setup: Setup = {}) =>
  new DeviceCertificateVerifier(
    configured.map((ca) => ca.pem),
    new Set(setup.revoked ?? []),
    setup.options,
  );
const mtls = (chain: MadeCertificate[]): PresentedIdentity => ({ way: 'MTLS', chainDer: chain.map((x) => x.der) });
const request = (overrides: Partial<{ deviceId: string; now: Date }> = {}) => ({
  deviceId: DEVICE,
  body: Buffer.alloc(0),
  now: NOW,
  maxClockSkewSeconds: 300,
  ...overrides,
});
const codes = (result: { violations: Array<{ code: string }> }) => result.violations.map((v) => v.code);
const reasonsOf = (result: { violations: Array<{ code: string; reasons?: unknown }> }) =>
  (result.violations.find((v) => v.code === 'CLIENT_CERT_UNTRUSTED')?.reasons as string[] | undefined) ?? [];

interface PathCase {
  /** what a device presents, leaf first */
  presented: () => MadeCertificate[];
  /** the configured device CAs */
  configured: () => MadeCertificate[];
  codes: string[];
  /** a reason the UNTRUSTED violation must give */
  reason?: RegExp;
}

describe('path validation: what each CA on the path must be', () => {
  // name → presented chain, configured CAs, exact codes, and the reason that must be given
  const cases: Record<string, PathCase> = {
    // the reference: leaf → intermediate → configured root
    'a conforming chain': { presented: () => [c.leafViaInter, c.inter], configured: () => [c.root], codes: [] },
    // basicConstraints missing from the intermediate: its key must not verify certificates (RFC 5280 §4.2.1.9)
    'an intermediate without basicConstraints': {
      presented: () => [c.leafViaNoBc, c.interNoBc],
      configured: () => [c.root],
      codes: ['CLIENT_CERT_UNTRUSTED'],
      reason: /"CN=No basicConstraints CA" cannot be a CA on the path: it is not a CA certificate/,
    },
    // CA:TRUE but not critical: RFC 5280 requires critical in a CA that signs certificates
    'an intermediate whose basicConstraints is not critical': {
      presented: () => [c.leafViaBcNotCritical, c.interBcNotCritical],
      configured: () => [c.root],
      codes: ['CLIENT_CERT_UNTRUSTED'],
      reason: /basicConstraints extension is not marked critical/,
    },
    // CA:FALSE with keyCertSign: OpenSSL's issuer check alone would let it sign
    'an intermediate with CA:FALSE and keyCertSign': {
      presented: () => [c.leafViaCaFalse, c.interCaFalse],
      configured: () => [c.root],
      codes: ['CLIENT_CERT_UNTRUSTED'],
      reason: /it is not a CA certificate \(it lacks basicConstraints CA:TRUE\)/,
    },
    // keyUsage present without keyCertSign
    'an intermediate whose keyUsage lacks keyCertSign': {
      presented: () => [c.leafViaNoCertSign, c.interNoCertSign],
      configured: () => [c.root],
      codes: ['CLIENT_CERT_UNTRUSTED'],
      reason: /"CN=No keyCertSign CA" cannot be a CA on the path: its keyUsage does not include keyCertSign/,
    },
    // no keyUsage at all: RFC 5280 checks keyCertSign only when keyUsage is present
    'an intermediate without keyUsage': { presented: () => [c.leafViaNoKeyUsage, c.interNoKeyUsage], configured: () => [c.root], codes: [] },
    // a critical extension nobody processes, on the intermediate
    'an intermediate with an unknown critical extension': {
      presented: () => [c.leafViaUnknownCritical, c.interUnknownCritical],
      configured: () => [c.root],
      codes: ['CLIENT_CERT_UNTRUSTED'],
      reason: /it has a critical 1\.3\.6\.1\.4\.1\.55738\.666\.1 extension, which this verifier does not process/,
    },
    // CA keys meet the device key policy: RSA 1024 is refused
    'an intermediate with an RSA 1024 key': {
      presented: () => [c.leafViaRsa1024, c.interRsa1024],
      configured: () => [c.root],
      codes: ['CLIENT_CERT_UNTRUSTED'],
      reason: /"CN=RSA 1024 CA" cannot be a CA on the path: its RSA key has 1024 bits, fewer than the 2048 required/,
    },
    // and so is P-521
    'an intermediate with a P-521 key': {
      presented: () => [c.leafViaP521, c.interP521],
      configured: () => [c.root],
      codes: ['CLIENT_CERT_UNTRUSTED'],
      reason: /its EC key is on the curve secp521r1/,
    },
    // the configured CA has expired: nothing below it is trusted
    'an expired configured CA': {
      presented: () => [c.leafBelowRootExpired],
      configured: () => [c.rootExpired],
      codes: ['CLIENT_CERT_UNTRUSTED', 'CLIENT_CERT_EXPIRED'],
      reason: /the configured device CA "CN=Expired Root" expired at 2026-05-01T00:00:00\.000Z/,
    },
    // the configured CA is not valid yet (a month ahead, far beyond the clock-skew tolerance)
    'a configured CA that is not yet valid': {
      presented: () => [c.leafBelowRootNotYetValid],
      configured: () => [c.rootNotYetValid],
      codes: ['CLIENT_CERT_UNTRUSTED'],
      reason: /the configured device CA "CN=Future Root" is not valid until 2026-07-01T00:00:00\.000Z/,
    },
    // a configured CA valid from exactly the clock-skew tolerance ahead: a device whose clock runs ahead is accepted
    'a configured CA valid from the clock-skew tolerance ahead': {
      presented: () => [c.leafBelowRootAtSkewEdge],
      configured: () => [c.rootAtSkewEdge],
      codes: [],
    },
    // a configured "CA" with CA:FALSE never anchors, whatever the mode
    'a configured certificate that is not a CA': {
      presented: () => [c.leafBelowRootCaFalse],
      configured: () => [c.rootCaFalse],
      codes: ['CLIENT_CERT_UNTRUSTED'],
      reason: /the configured device CA "CN=Not A CA Root" cannot be a CA on the path: it is not a CA certificate/,
    },
  };

  it.each(Object.entries(cases))('%s', (_name, testCase) => {
    const result = verifierFor(testCase.configured()).verify(mtls(testCase.presented()), request());
    expect(codes(result)).toEqual(testCase.codes);
    // a refusal as untrusted names its reason; any other answer has none
    expect(reasonsOf(result).join('\n')).toMatch(testCase.reason ?? /^$/);
  });
});

describe('path validation: pathLenConstraint', () => {
  // name → presented chain, configured CAs, exact codes
  const cases: Record<string, PathCase> = {
    // pathlen:0 allows a leaf directly below it
    'a leaf directly below a pathlen:0 CA': { presented: () => [c.leafViaPath0, c.interPath0], configured: () => [c.root], codes: [] },
    // pathlen:0 forbids another CA below it
    'a CA below a pathlen:0 CA': {
      presented: () => [c.leafBelowPath0, c.belowPath0, c.interPath0],
      configured: () => [c.root],
      codes: ['CLIENT_CERT_UNTRUSTED'],
      reason: /the presented intermediate "CN=Below PathLen 0 CA" is one CA more than a pathLenConstraint above it allows/,
    },
    // pathlen:1 allows one CA below it
    'a CA below a pathlen:1 CA': { presented: () => [c.leafBelowPath1, c.belowPath1, c.interPath1], configured: () => [c.root], codes: [] },
    // a self-issued CA (same name, new key: a key rollover) does not count towards the limit
    'a self-issued rollover CA below a pathlen:0 CA': {
      presented: () => [c.leafViaRollover, c.rolloverPath0, c.interPath0],
      configured: () => [c.root],
      codes: [],
    },
    // the configured CA's own pathLenConstraint binds too
    'a CA below a configured pathlen:0 root': {
      presented: () => [c.leafBelowRootPath0, c.belowRootPath0],
      configured: () => [c.rootPath0],
      codes: ['CLIENT_CERT_UNTRUSTED'],
      reason: /is one CA more than a pathLenConstraint above it allows/,
    },
    // …while a leaf directly below that root is fine
    'a leaf directly below a configured pathlen:0 root': { presented: () => [c.leafDirectlyBelowRootPath0], configured: () => [c.rootPath0], codes: [] },
    // a configured pathlen:1 root allows one CA below it…
    'one CA below a configured pathlen:1 root': {
      presented: () => [c.leafFirstBelowRootPath1, c.firstBelowRootPath1],
      configured: () => [c.rootPath1],
      codes: [],
    },
    // …and not a second one below that CA, which sets no pathLenConstraint of its own
    'two CAs below a configured pathlen:1 root': {
      presented: () => [c.leafSecondBelowRootPath1, c.secondBelowRootPath1, c.firstBelowRootPath1],
      configured: () => [c.rootPath1],
      codes: ['CLIENT_CERT_UNTRUSTED'],
      reason: /the presented intermediate "CN=Second CA below PathLen 1 Root" is one CA more than a pathLenConstraint above it allows/,
    },
    // a stored intermediate as the anchor: the pathlen:0 of the stored CA still binds what is presented below it
    'a CA below a stored pathlen:0 intermediate': {
      presented: () => [c.leafBelowPath0, c.belowPath0],
      configured: () => [c.interPath0],
      codes: ['CLIENT_CERT_UNTRUSTED'],
      reason: /the presented intermediate "CN=Below PathLen 0 CA" is one CA more than a pathLenConstraint above it allows/,
    },
  };

  it.each(Object.entries(cases))('%s', (_name, testCase) => {
    const result = verifierFor(testCase.configured()).verify(mtls(testCase.presented()), request());
    expect(codes(result)).toEqual(testCase.codes);
    // a refusal as untrusted names its reason; any other answer has none
    expect(reasonsOf(result).join('\n')).toMatch(testCase.reason ?? /^$/);
  });
});

describe('the key policy, for devices and CAs alike', () => {
  // an RSA key given by its modulus and public exponent (base64url), as a device's or a CA's certificate may carry it
  const rsaKey = (n: Buffer, e: string) => createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e }, format: 'jwk' });
  let modulus: Buffer;
  beforeAll(() => {
    const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    modulus = Buffer.from(jwk.n as string, 'base64url');
  });

  it('accepts RSA 2048 with the exponent 65537 or 3, the smallest odd one allowed', () => {
    expect(describeKeyProblem(rsaKey(modulus, 'AQAB'))).toBeUndefined();
    expect(describeKeyProblem(rsaKey(modulus, 'Aw'))).toBeUndefined();
  });

  it('refuses an even RSA public exponent', () => {
    expect(describeKeyProblem(rsaKey(modulus, 'BA'))).toBe('its RSA public exponent is 4, not an odd number of at least 3');
    expect(describeKeyProblem(rsaKey(modulus, 'AQAC'))).toBe('its RSA public exponent is 65538, not an odd number of at least 3');
  });

  it('refuses an RSA modulus of more than 2048 bits that is not a whole number of bytes', () => {
    const key = rsaKey(Buffer.concat([Buffer.from([0x02]), modulus]), 'AQAB');
    expect(describeKeyProblem(key)).toBe('its RSA key has 2050 bits, not a whole number of bytes');
  });

  it('refuses an Ed25519 key by its type, not as an EC key on an unnamed curve', () => {
    expect(describeKeyProblem(generateKeyPairSync('ed25519').publicKey)).toBe('its key type ed25519 is not supported');
  });
});

describe('path validation: the device certificate itself', () => {
  // name → leaf (issued by the configured root), verifier options, exact codes, reason
  const cases: Array<[string, () => MadeCertificate, DeviceCertificateVerifierOptions, string[], RegExp?]> = [
    // CA:TRUE in the leaf: a CA certificate is not a device certificate
    ['CA:TRUE', () => c.leafCa, {}, ['CLIENT_CERT_UNTRUSTED'], /it is a CA certificate \(basicConstraints CA:TRUE\), not a device certificate/],
    // keyCertSign in the leaf's keyUsage
    ['keyCertSign', () => c.leafCertSign, {}, ['CLIENT_CERT_UNTRUSTED'], /its keyUsage allows signing certificates \(keyCertSign\)/],
    // an unknown critical extension in the leaf
    ['an unknown critical extension', () => c.leafUnknownCritical, {}, ['CLIENT_CERT_UNTRUSTED'], /critical 1\.3\.6\.1\.4\.1\.55738\.666\.1 extension/],
    // the same extension, not critical: ignored as RFC 5280 says
    ['an unknown non-critical extension', () => c.leafUnknownNonCritical, {}, []],
    // an empty subject named by a critical SAN: readable, but without a CN it cannot be bound to the device
    ['an empty subject with a critical SAN', () => c.leafEmptySubject, {}, ['CLIENT_CERT_DEVICE_MISMATCH']],
    // an empty subject whose SAN is not critical: RFC 5280 wants the SAN critical then
    [
      'an empty subject with a non-critical SAN',
      () => c.leafEmptySubjectLooseSan,
      {},
      ['CLIENT_CERT_UNTRUSTED', 'CLIENT_CERT_DEVICE_MISMATCH'],
      /its subject is empty and it has no critical subjectAltName/,
    ],
    // an empty subject and no SAN at all: nothing names the device
    [
      'an empty subject without a SAN',
      () => c.leafEmptySubjectNoSan,
      {},
      ['CLIENT_CERT_UNTRUSTED', 'CLIENT_CERT_DEVICE_MISMATCH'],
      /its subject is empty and it has no critical subjectAltName/,
    ],
    // serverAuth only, with the device profile's clientAuth purpose
    ['serverAuth only, clientAuth required', () => c.leafServerAuth, {}, ['CLIENT_CERT_UNTRUSTED'], /not for client authentication/],
    // serverAuth only when no purpose is asked (as x509-limbo does)
    ['serverAuth only, no purpose asked', () => c.leafServerAuth, { requiredExtendedKeyUsage: null }, []],
    // a verifier asked for another purpose (x509-limbo's serverAuth cases) refuses a clientAuth-only leaf, naming both
    [
      'clientAuth only, serverAuth asked',
      () => c.leafViaRoot,
      { requiredExtendedKeyUsage: '1.3.6.1.5.5.7.3.1' },
      ['CLIENT_CERT_UNTRUSTED'],
      /^its extended key usage is clientAuth, without serverAuth$/,
    ],
  ];

  it.each(cases)('%s', (_name, leaf, options, expected, reason) => {
    const result = verifierFor([c.root], { options }).verify(mtls([leaf()]), request());
    expect(codes(result)).toEqual(expected);
    expect(result.fingerprint).toBe(leaf().fingerprint);
    // a refusal as untrusted names its reason; any other answer has none
    expect(reasonsOf(result).join('\n')).toMatch(reason ?? /^$/);
  });

  it('reports a certificate with an empty subject as having no common name, never as unreadable', () => {
    const result = verifierFor([c.root]).verify(mtls([c.leafEmptySubject]), request());
    expect(result.violations).toEqual([
      {
        code: 'CLIENT_CERT_DEVICE_MISMATCH',
        message: `The certificate has no common name; issue the device a certificate whose common name is its deviceId "${DEVICE}".`,
        fingerprint: c.leafEmptySubject.fingerprint,
        commonName: [],
        deviceId: DEVICE,
      },
    ]);
  });

  it('refuses an X.509 version 1 device certificate (it has no extensions at all)', () => {
    // `openssl x509 -req` without extensions writes version 1, valid from the real clock for a day
    const csr = join(factory.dir, 'v1-leaf.csr');
    const pem = join(factory.dir, 'v1-leaf.pem');
    execFileSync('openssl', ['req', '-new', '-key', c.leafViaRoot.keyPath, '-subj', `/CN=${DEVICE}`, '-out', csr], { stdio: 'pipe' });
    execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', c.root.certPath, '-CAkey', c.root.keyPath, '-set_serial', '7', '-days', '1', '-out', pem], { stdio: 'pipe' });
    const der = new X509Certificate(readFileSync(pem)).raw;
    const result = verifierFor([c.root]).verify({ way: 'MTLS', chainDer: [der] }, request({ now: new Date() }));
    expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(reasonsOf(result)).toEqual(['it is an X.509 version 1 certificate, not version 3']);
  });

  it('compares validity in whole seconds: half a second after notAfter is still notAfter', () => {
    const verifier = verifierFor([c.root]);
    expect(codes(verifier.verify(mtls([c.leafEndsAtNow]), request({ now: new Date(NOW.getTime() + 500) })))).toEqual([]);
    expect(codes(verifier.verify(mtls([c.leafEndsAtNow]), request({ now: new Date(NOW.getTime() + 1000) })))).toEqual(['CLIENT_CERT_EXPIRED']);
  });
});

describe('configured device CAs stored before the CA rules', () => {
  // name → configured CA, its leaf, codes in the check-in path ('tolerate'), codes for x509-limbo ('enforce')
  const cases: Array<[string, () => MadeCertificate, () => MadeCertificate, string[], string[]]> = [
    // basicConstraints not critical: kept in the check-in path, refused when conformance is enforced
    ['basicConstraints not critical', () => c.rootBcNotCritical, () => c.leafBelowRootBcNotCritical, [], ['CLIENT_CERT_UNTRUSTED']],
    // an unknown critical extension on the stored CA
    ['an unknown critical extension', () => c.rootUnknownCritical, () => c.leafBelowRootUnknownCritical, [], ['CLIENT_CERT_UNTRUSTED']],
    // an RSA 1024 key on the stored CA (a presented RSA 1024 intermediate is refused in both modes, above)
    ['an RSA 1024 key', () => c.rootRsa1024, () => c.leafBelowRootRsa1024, [], ['CLIENT_CERT_UNTRUSTED']],
    // an empty subject on the stored CA
    ['an empty subject', () => c.rootEmptySubject, () => c.leafBelowRootEmptySubject, [], ['CLIENT_CERT_UNTRUSTED']],
    // a policyConstraints extension not marked critical
    ['policyConstraints not critical', () => c.rootLoosePolicy, () => c.leafBelowRootLoosePolicy, [], ['CLIENT_CERT_UNTRUSTED']],
    // name constraints that cannot be applied (a DNS subtree with a leading period) were always refused
    [
      'name constraints that cannot be applied',
      () => c.rootLeadingPeriod,
      () => c.leafBelowRootLeadingPeriod,
      ['CLIENT_CERT_UNTRUSTED'],
      ['CLIENT_CERT_UNTRUSTED'],
    ],
    // CA:FALSE was always refused: no mode makes it an anchor
    ['CA:FALSE', () => c.rootCaFalse, () => c.leafBelowRootCaFalse, ['CLIENT_CERT_UNTRUSTED'], ['CLIENT_CERT_UNTRUSTED']],
    // expiry is never tolerated
    ['expired', () => c.rootExpired, () => c.leafBelowRootExpired, ['CLIENT_CERT_UNTRUSTED', 'CLIENT_CERT_EXPIRED'], ['CLIENT_CERT_UNTRUSTED', 'CLIENT_CERT_EXPIRED']],
  ];

  it.each(cases)('%s', (_name, root, leaf, tolerated, enforced) => {
    const checkIn = verifierFor([root()]); // the default: what policy-cache.ts builds
    const limbo = verifierFor([root()], { options: { configuredCaConformance: 'enforce' } });
    expect(codes(checkIn.verify(mtls([leaf()]), request()))).toEqual(tolerated);
    expect(codes(limbo.verify(mtls([leaf()]), request()))).toEqual(enforced);
  });

  it('refuses a device of another key under a stored CA\'s name, naming a rule of that CA only when conformance is enforced', () => {
    const refused = (why: string) => [`it does not chain to a configured device CA certificate (${why})`];
    const checkIn = verifierFor([c.rootBcNotCritical]).verify(mtls([c.leafByLegacyImpostor]), request());
    expect(codes(checkIn)).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(reasonsOf(checkIn)).toEqual(
      refused(
        'the configured device CA "CN=Legacy Root (basicConstraints not critical)" bears the issuer name of "CN=C02PATH00001" but is ' +
          'not its issuer (their key identifiers differ)',
      ),
    );
    const enforcing = verifierFor([c.rootBcNotCritical], { options: { configuredCaConformance: 'enforce' } });
    const limbo = enforcing.verify(mtls([c.leafByLegacyImpostor]), request());
    expect(codes(limbo)).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(reasonsOf(limbo)).toEqual(
      refused(
        'the configured device CA "CN=Legacy Root (basicConstraints not critical)" cannot be a CA on the path: its basicConstraints ' +
          'extension is not marked critical, as RFC 5280 requires of a CA',
      ),
    );
  });

  it('quotes an empty CA name as "(empty subject)", as subject and as issuer', () => {
    const enforcing = verifierFor([c.rootEmptySubject], { options: { configuredCaConformance: 'enforce' } });
    expect(reasonsOf(enforcing.verify(mtls([c.leafBelowRootEmptySubject]), request())).join('\n')).toContain(
      'the configured device CA "(empty subject)" cannot be a CA on the path: its subject is empty',
    );
    const unknownIssuer = verifierFor([c.root]).verify(mtls([c.leafBelowRootEmptySubject]), request());
    expect(reasonsOf(unknownIssuer).join('\n')).toContain('"(empty subject)"');
  });

  it('names a keyUsage without keyCertSign as why a stored CA does not anchor, in either mode', () => {
    const reason = 'the configured device CA "CN=Root without keyCertSign" cannot be a CA on the path: ' +
      'its keyUsage does not include keyCertSign';
    for (const options of [{}, { configuredCaConformance: 'enforce' as const }]) {
      const result = verifierFor([c.rootNoCertSign], { options }).verify(mtls([c.leafBelowRootNoCertSign]), request());
      expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
      expect(reasonsOf(result)).toEqual([`it does not chain to a configured device CA certificate (${reason})`]);
    }
  });

  it('still holds presented intermediates to every rule in the check-in path', () => {
    const result = verifierFor([c.root]).verify(mtls([c.leafViaBcNotCritical, c.interBcNotCritical]), request());
    expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
  });
});

describe('revocation reaches every device below a revoked certificate', () => {
  // name → presented chain, configured CAs, revoked certificate, exact codes
  const cases: Array<[string, () => MadeCertificate[], () => MadeCertificate[], () => MadeCertificate, string[]]> = [
    // the presented intermediate is revoked
    ['a revoked presented intermediate', () => [c.leafViaInter, c.inter], () => [c.root], () => c.inter, ['CLIENT_CERT_REVOKED']],
    // the configured root is revoked: devices below its intermediate
    ['a revoked configured root, via an intermediate', () => [c.leafViaInter, c.inter], () => [c.root], () => c.root, ['CLIENT_CERT_REVOKED']],
    // the configured root is revoked: devices directly below it
    ['a revoked configured root, directly', () => [c.leafViaRoot], () => [c.root], () => c.root, ['CLIENT_CERT_REVOKED']],
    // a stored intermediate (configured as an anchor) is revoked
    ['a revoked stored intermediate', () => [c.leafViaInter], () => [c.root, c.inter], () => c.inter, ['CLIENT_CERT_REVOKED']],
    // the root above a stored intermediate is revoked: the intermediate's own path ends at itself, yet it is below
    ['a revoked root above a stored intermediate', () => [c.leafViaInter], () => [c.root, c.inter], () => c.root, ['CLIENT_CERT_REVOKED']],
    // the root two stored CAs above the one that issued the device
    ['a revoked root two stored CAs above', () => [c.leafBelowPath1], () => [c.root, c.interPath1, c.belowPath1], () => c.root, ['CLIENT_CERT_REVOKED']],
    // a stored CA whose issuer is stored twice, cross-signed by two roots: revoking the second root reaches it too
    [
      'a revoked root above the second copy of a cross-signed stored CA',
      () => [c.leafBelowCross],
      () => [c.root, c.otherRoot, c.crossGood, c.crossDeadEnd, c.belowCross],
      () => c.otherRoot,
      ['CLIENT_CERT_REVOKED'],
    ],
    // a revoked certificate elsewhere changes nothing
    ['an unrelated revoked CA', () => [c.leafViaInter, c.inter], () => [c.root], () => c.otherRoot, []],
    // a revoked configured CA that issued none of the path: the devices of the other configured root are unaffected
    ['an unrelated revoked configured CA', () => [c.leafViaRoot], () => [c.root, c.otherRoot], () => c.otherRoot, []],
    // a revoked configured CA with the root's key under another name: it signs like the root, yet it did not issue it
    [
      'a revoked configured CA with the same key under another name',
      () => [c.leafViaInter],
      () => [c.root, c.inter, c.renamedRoot],
      () => c.renamedRoot,
      [],
    ],
  ];

  it.each(cases)('%s', (_name, presented, configured, revoked, expected) => {
    const result = verifierFor(configured(), { revoked: [revoked().fingerprint] }).verify(mtls(presented()), request());
    expect(codes(result)).toEqual(expected);
    for (const violation of result.violations) {
      expect(violation).toMatchObject({ fingerprint: presented()[0].fingerprint, revokedFingerprint: revoked().fingerprint });
      expect(violation.message).toMatch(/^The (configured device CA|intermediate CA) ".*" \(SHA-256 fingerprint [0-9a-f]{64}\) .* has been revoked; .*\.$/);
    }
  });

  it('prefers a path without the revoked CA when there is one', () => {
    // crossGood and crossDeadEnd are the same CA (same name and key); revoking the dead end leaves the good path
    const result = verifierFor([c.root], { revoked: [c.crossDeadEnd.fingerprint] }).verify(mtls([c.leafViaCross, c.crossDeadEnd, c.crossGood]), request());
    expect(codes(result)).toEqual([]);
  });

  it('refuses a revoked intermediate even when a chain through it was cached before', () => {
    const before = verifierFor([c.root]);
    expect(codes(before.verify(mtls([c.leafViaInter, c.inter]), request()))).toEqual([]);
    expect(before.cachedChainCount).toBe(1);
    const after = verifierFor([c.root], { revoked: [c.inter.fingerprint] }); // revocations build a new verifier
    expect(codes(after.verify(mtls([c.leafViaInter, c.inter]), request()))).toEqual(['CLIENT_CERT_REVOKED']);
    expect(after.cachedChainCount).toBe(0);
  });
});

describe('attackers', () => {
  it("refuses someone else's valid intermediate presented with a leaf signed by an unknown key", () => {
    // the impostor CA bears the real intermediate's name; its leaf names no key identifier, so only the signature can tell
    const result = verifierFor([c.root]).verify(mtls([c.leafByImpostor, c.inter]), request());
    expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(reasonsOf(result).join('\n')).toMatch(/the signature of "CN=C02PATH00001" does not verify with the key of "CN=Path Test Issuing CA"/);
  });

  it('refuses the same forgery when its key identifier points at the impostor', () => {
    const result = verifierFor([c.root]).verify(mtls([c.leafByImpostorWithKeyId, c.inter]), request());
    expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(reasonsOf(result).join('\n')).toMatch(/"CN=Path Test Issuing CA" bears the issuer name of "CN=C02PATH00001" but is not its issuer/);
  });

  it('refuses a different bad chain after a good chain through the same intermediate was cached', () => {
    const verifier = verifierFor([c.root]);
    expect(codes(verifier.verify(mtls([c.leafViaInter, c.inter]), request()))).toEqual([]);
    expect(verifier.cachedChainCount).toBe(1);
    expect(codes(verifier.verify(mtls([c.leafByImpostor, c.inter]), request()))).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(codes(verifier.verify(mtls([c.leafViaInter, c.inter, c.impostor]), request()))).toEqual([]); // extra junk: still the good path
    expect(verifier.cachedChainCount).toBe(2);
  });

  it('refuses a dead-end intermediate (issued by a CA that is not configured)', () => {
    const result = verifierFor([c.root]).verify(mtls([c.leafViaCross, c.crossDeadEnd]), request());
    expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(reasonsOf(result).join('\n')).toMatch(/its issuer "CN=Cross-signed CA" is neither a configured device CA nor reached through the presented intermediates/);
  });

  it('backs out of a dead end and finds the path through the other certificate of the same CA', () => {
    expect(codes(verifierFor([c.root]).verify(mtls([c.leafViaCross, c.crossDeadEnd, c.crossGood]), request()))).toEqual([]);
  });

  it('does not let a presented copy of a configured CA stand in for a configured one it is not', () => {
    // the other root is presented as if it were an intermediate: it is a CA, but nothing configured issued it
    const result = verifierFor([c.root]).verify(mtls([c.leafViaCross, c.crossDeadEnd, c.otherRoot]), request());
    expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
  });
});

/** The byte-different twin of an ECDSA-signed certificate (s → n − s) that still verifies with its issuer's key. */
function signatureTwin(cert: MadeCertificate, issuer: MadeCertificate): Buffer {
  const issuerKey = new X509Certificate(issuer.der).publicKey;
  const twins = signatureEncodingTwins(cert.der).filter((der) => new X509Certificate(der).verify(issuerKey));
  expect(twins).toHaveLength(1);
  expect(twins[0].equals(cert.der)).toBe(false);
  return twins[0];
}

describe('attackers: the same certificate in other bytes', () => {
  const presented = (...ders: Buffer[]): PresentedIdentity => ({ way: 'MTLS', chainDer: ders });

  it("refuses a device certificate that carries someone else's certificate as PEM in its signature bits", () => {
    // an RSA root that only OpenSSL's issuer check reads (its private extension is none the plain reading knows)
    const privateExtension = '1.3.6.1.4.1.55738.666.2 = ASN1:NULL';
    const root = factory.makeRootCa({ cn: 'PEM Inside Root', keyType: 'rsa2048', extraExtensions: [privateExtension], ...CA_DATES });
    const genuine = factory.makeDeviceCertificate(root, { cn: 'C02PATH00002', keyType: 'rsa2048', ...LEAF_DATES });
    const made = factory.makeDeviceCertificate(root, { cn: DEVICE, keyType: 'rsa2048', ...LEAF_DATES });
    // this device's certificate with its signature replaced by the other device's PEM: OpenSSL's PEM reader finds it
    const forged = AsnParser.parse(made.der, Certificate);
    forged.signatureValue = new Uint8Array(Buffer.from(`\n${genuine.pem}`)).buffer;
    const der = Buffer.from(AsnSerializer.serialize(forged));
    expect(codes(verifierFor([root]).verify(mtls([genuine]), request({ deviceId: 'C02PATH00002' })))).toEqual([]);
    expect(codes(verifierFor([root]).verify(presented(der), request()))).toEqual(['CLIENT_CERT_INVALID']);
  });

  it('refuses a certificate with bytes after its DER (Node would read it, with another fingerprint)', () => {
    const padded = Buffer.concat([c.leafViaInter.der, Buffer.from([0])]);
    const result = verifierFor([c.root], { revoked: [c.leafViaInter.fingerprint] }).verify(presented(padded, c.inter.der), request());
    expect(codes(result)).toEqual(['CLIENT_CERT_INVALID']);
    const paddedIntermediate = Buffer.concat([c.inter.der, Buffer.from([0])]);
    expect(codes(verifierFor([c.root]).verify(presented(c.leafViaInter.der, paddedIntermediate), request()))).toEqual(['CLIENT_CERT_INVALID']);
  });

  it('still finds a revoked device certificate presented with its ECDSA signature as (r, n − s)', () => {
    const twin = signatureTwin(c.leafViaInter, c.inter);
    const result = verifierFor([c.root], { revoked: [c.leafViaInter.fingerprint] }).verify(presented(twin, c.inter.der), request());
    expect(codes(result)).toEqual(['CLIENT_CERT_REVOKED']);
  });

  it('still finds a revoked intermediate presented as its signature twin', () => {
    const twin = signatureTwin(c.inter, c.root);
    const result = verifierFor([c.root], { revoked: [c.inter.fingerprint] }).verify(presented(c.leafViaInter.der, twin), request());
    expect(codes(result)).toEqual(['CLIENT_CERT_REVOKED']);
  });

  it('still finds a revoked stored CA when its signature twin is presented beside it', () => {
    const twin = signatureTwin(c.inter, c.root);
    const result = verifierFor([c.root, c.inter], { revoked: [c.inter.fingerprint] }).verify(presented(c.leafViaInter.der, twin), request());
    expect(codes(result)).toEqual(['CLIENT_CERT_REVOKED']);
  });
});

describe('attackers: work', () => {
  it('gives up, untrusted, when the presented CAs offer more issuers than it checks signatures for', () => {
    // twelve CAs with one name and one key: every one could have issued every other (over 100 signature checks), and
    // chained one above another they pass the limit of 8 CAs on a path
    const key = factory.makeKey('ec256');
    const root = factory.makeRootCa({ cn: 'Ambiguous Signer', key, ...CA_DATES });
    const twins = Array.from({ length: 12 }, () => factory.makeIntermediateCa(root, { cn: 'Ambiguous Signer', key, ...CA_DATES }));
    const leaf = factory.makeDeviceCertificate(twins[0], { cn: DEVICE, ...LEAF_DATES });
    const result = verifierFor([c.root]).verify(mtls([leaf, ...twins]), request());
    expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(reasonsOf(result)).toEqual([
      'it does not chain to a configured device CA certificate (the path is longer than 8 CA certificates; the presented ' +
        'certificates offer more candidate issuers than this verifier examines)',
    ]);
  });

  it('bounds the path search over CAs that share a name and a key, whatever order they could be chained in', () => {
    const key = factory.makeKey('ec256');
    const root = factory.makeRootCa({ cn: 'Ambiguous CA', key, ...CA_DATES });
    const twins = Array.from({ length: 9 }, () => factory.makeIntermediateCa(root, { cn: 'Ambiguous CA', key, ...CA_DATES }));
    const leaf = factory.makeDeviceCertificate(twins[0], { cn: DEVICE, ...LEAF_DATES });
    const verifier = verifierFor([c.root]);
    const extendPath = vi.spyOn(verifier as unknown as { extendPath: (...args: unknown[]) => unknown }, 'extendPath');
    const result = verifier.verify(mtls([leaf, ...twins]), request());
    expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(extendPath.mock.calls.length).toBeLessThanOrEqual(257); // 256 steps, and the call that finds none left
  });
});

describe('a device presenting what only an administrator should hold', () => {
  const untrusted = (leaf: MadeCertificate, reasons: string[]) => ({
    violations: [
      {
        code: 'CLIENT_CERT_UNTRUSTED',
        message:
          `The device certificate is not trusted: ${reasons.join('; and ')}. Issue the device a client-authentication ` +
          'certificate from a configured device CA.',
        fingerprint: leaf.fingerprint,
        reasons,
      },
    ],
    fingerprint: leaf.fingerprint,
  });

  it('refuses the configured root presented as a device certificate, naming it as the configured CA', () => {
    const result = verifierFor([c.root]).verify(mtls([c.root]), request({ deviceId: 'Path Test Root' }));
    expect(result).toEqual(
      untrusted(c.root, [
        'it is a CA certificate (basicConstraints CA:TRUE), not a device certificate',
        'its keyUsage allows signing certificates (keyCertSign), which a device certificate must not',
        'it is the configured device CA certificate "CN=Path Test Root", not a device certificate',
      ]),
    );
  });

  it('refuses a self-signed device certificate that was configured as a device CA', () => {
    // nothing else is wrong with it: a client-authentication certificate, CA:FALSE, its CN the deviceId
    const selfSigned = factory.makeDeviceCertificate(undefined, { cn: DEVICE, keyType: 'ec256', ...LEAF_DATES });
    const verifier = verifierFor([selfSigned]);
    const expected = untrusted(selfSigned, ['it is the configured device CA certificate "CN=C02PATH00001", not a device certificate']);
    expect(verifier.verify(mtls([selfSigned]), request())).toEqual(expected);
    expect(verifier.verify(mtls([selfSigned]), request())).toEqual(expected); // nothing was remembered
    expect(verifier.cachedChainCount).toBe(0);
  });

  it('names the issuer of a self-signed device certificate presented twice, not its copy as a CA', () => {
    const selfSigned = factory.makeDeviceCertificate(undefined, { cn: DEVICE, keyType: 'ec256', ...LEAF_DATES });
    const result = verifierFor([c.root], { options: { chainCacheSize: 0 } }).verify(mtls([selfSigned, selfSigned]), request());
    expect(result).toEqual(
      untrusted(selfSigned, [
        'it does not chain to a configured device CA certificate (its issuer "CN=C02PATH00001" is neither a configured device CA nor ' +
          'reached through the presented intermediates)',
      ]),
    );
  });

  it("names the leaf's issuer when a chain ends in a presented root that is not configured", () => {
    const result = verifierFor([c.root]).verify(mtls([c.leafViaCross, c.crossDeadEnd, c.otherRoot]), request());
    expect(result).toEqual(
      untrusted(c.leafViaCross, [
        'it does not chain to a configured device CA certificate (its issuer "CN=Cross-signed CA" is neither a configured device CA nor ' +
          'reached through the presented intermediates)',
      ]),
    );
  });

  it('says whether the CA named like the issuer but with another key is configured or presented', () => {
    const refused = (role: string) =>
      untrusted(c.leafByImpostorWithKeyId, [
        `it does not chain to a configured device CA certificate (${role} "CN=Path Test Issuing CA" bears the issuer name of ` +
          '"CN=C02PATH00001" but is not its issuer (their key identifiers differ))',
      ]);
    const configured = verifierFor([c.root, c.inter]).verify(mtls([c.leafByImpostorWithKeyId]), request());
    expect(configured).toEqual(refused('the configured device CA'));
    const presented = verifierFor([c.root]).verify(mtls([c.leafByImpostorWithKeyId, c.inter]), request());
    expect(presented).toEqual(refused('the presented intermediate'));
  });

  it('gives that reason for an RSA device certificate too, which is read without X509Certificate', () => {
    // all RSA, so that the walk answers the issuer question (no) instead of OpenSSL
    const rsaInter = factory.makeIntermediateCa(c.root, { cn: 'RSA Issuing CA', keyType: 'rsa2048', ...CA_DATES });
    const rsaImpostor = factory.makeRootCa({ cn: '', subject: '/CN=RSA Issuing CA', keyType: 'rsa2048', ...CA_DATES });
    const rsaLeafByImpostor = factory.makeDeviceCertificate(rsaImpostor, { cn: DEVICE, keyType: 'rsa2048', ...LEAF_DATES });
    expect(ParsedCertificate.parsePresented(rsaLeafByImpostor.der, rsaLeafByImpostor.fingerprint)?.plain).toBeDefined();
    const verifier = verifierFor([c.root]);
    expect(verifier.verify(mtls([rsaLeafByImpostor, rsaInter]), request())).toEqual(
      untrusted(rsaLeafByImpostor, [
        'it does not chain to a configured device CA certificate (the presented intermediate "CN=RSA Issuing CA" bears the ' +
          'issuer name of "CN=C02PATH00001" but is not its issuer (their key identifiers differ))',
      ]),
    );
  });

  it('accepts a path of 8 CA certificates and refuses one of 9', () => {
    // root → CA 1 → … → CA 8; the device below CA 7 has a path of 8 CAs, the one below CA 8 a path of 9
    const cas: MadeCertificate[] = [];
    for (let i = 1; i <= 8; i += 1) {
      cas.push(factory.makeIntermediateCa(cas[i - 2] ?? c.root, { cn: `Depth ${i} CA`, keyType: 'ec256', ...CA_DATES }));
    }
    const below7 = factory.makeDeviceCertificate(cas[6], { cn: DEVICE, keyType: 'ec256', ...LEAF_DATES });
    const below8 = factory.makeDeviceCertificate(cas[7], { cn: DEVICE, keyType: 'ec256', ...LEAF_DATES });
    const verifier = verifierFor([c.root]);
    const accepted = verifier.verify(mtls([below7, ...cas.slice(0, 7).reverse()]), request());
    expect(accepted).toEqual({ violations: [], fingerprint: below7.fingerprint });
    expect(verifier.verify(mtls([below8, ...cas.reverse()]), request())).toEqual(
      untrusted(below8, ['it does not chain to a configured device CA certificate (the path is longer than 8 CA certificates)']),
    );
  });
});
