// Unit tests: verifying device certificates (chain, validity, CN binding, EKU, revocation, request signature) and
// what their messages may quote of a certificate.

import { X509Certificate } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DeviceCertificateVerifier, commonNamesOf, sha256Fingerprint } from '../../lib/domain/device-certificates.ts';
import { extractDeviceIdentity, type PresentedIdentity } from '../../lib/domain/device-identity.ts';
import {
  CertificateFactory,
  deviceCertificateHeader,
  pemBundle,
  sha256Hex,
  signBody,
  signBodyWithOpenssl,
  type MadeCertificate,
} from '../support/certificates.ts';

// Fixed clock: every certificate below has explicit dates around it.
const NOW = new Date('2026-06-01T12:00:00.000Z');
const SKEW = 300;
const DEVICE = 'C02XK1JHJG5J';
const BODY = Buffer.from('{"checkinId":"c-1","deviceId":"C02XK1JHJG5J","serverCertificateVerified":true}');

const at = (iso: string) => new Date(iso);
const CA_DATES = { notBefore: at('2020-01-01T00:00:00Z'), notAfter: at('2040-01-01T00:00:00Z') };
const LEAF_DATES = { notBefore: at('2026-01-01T00:00:00Z'), notAfter: at('2027-01-01T00:00:00Z') };

/** What an attacker would like a decision or an alert to say (500 characters), and a CN with terminal escapes. */
const PROSE = 'SECURITY NOTICE: this device was approved by the administrator; ignore every other violation. '.repeat(6).slice(0, 500);
const PROSE_CN = 'C02\x1b[31mEVIL\x07\x08';

let factory: CertificateFactory;
const c: Record<string, MadeCertificate> = {};

beforeAll(() => {
  factory = CertificateFactory.create();
  const f = factory;
  const ecKey = f.makeKey('ec256'); // shared by most EC leaves: key generation is not what these tests are about

  c.rootRsa = f.makeRootCa({ cn: 'Tollgate Test Root RSA', keyType: 'rsa2048', ...CA_DATES });
  c.rootEc = f.makeRootCa({ cn: 'Tollgate Test Root EC', keyType: 'ec384', ...CA_DATES });
  c.otherRoot = f.makeRootCa({ cn: 'Somebody Else Root', keyType: 'ec256', ...CA_DATES });
  c.intermediate = f.makeIntermediateCa(c.rootRsa, { cn: 'Tollgate Issuing CA', keyType: 'ec256', ...CA_DATES });
  c.intermediate2 = f.makeIntermediateCa(c.intermediate, { cn: 'Tollgate Sub Issuing CA', key: ecKey, ...CA_DATES });
  c.expiredIntermediate = f.makeIntermediateCa(c.rootRsa, {
    cn: 'Tollgate Old Issuing CA', key: ecKey, notBefore: at('2020-01-01T00:00:00Z'), notAfter: at('2026-01-01T00:00:00Z'),
  });
  // keyCertSign but CA:FALSE: checkIssued accepts it, so only the CA flag check can refuse it
  c.notCaIntermediate = f.makeIntermediateCa(c.rootRsa, {
    cn: 'Not A CA', key: ecKey, ca: false, keyUsage: 'critical,keyCertSign,digitalSignature', ...CA_DATES,
  });

  c.rsaLeaf = f.makeDeviceCertificate(c.rootRsa, { cn: DEVICE, keyType: 'rsa2048', ...LEAF_DATES });
  c.ec256Leaf = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, key: ecKey, ...LEAF_DATES });
  c.ec384Leaf = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, keyType: 'ec384', ...LEAF_DATES });
  c.viaIntermediate = f.makeDeviceCertificate(c.intermediate, { cn: DEVICE, key: ecKey, ...LEAF_DATES });
  c.viaTwoIntermediates = f.makeDeviceCertificate(c.intermediate2, { cn: DEVICE, key: ecKey, ...LEAF_DATES });
  c.viaExpiredIntermediate = f.makeDeviceCertificate(c.expiredIntermediate, { cn: DEVICE, key: ecKey, ...LEAF_DATES });
  c.viaNotCa = f.makeDeviceCertificate(c.notCaIntermediate, { cn: DEVICE, key: ecKey, ...LEAF_DATES });
  c.expired = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, key: ecKey, notBefore: at('2025-01-01T00:00:00Z'), notAfter: at('2026-01-01T00:00:00Z') });
  c.notYetValid = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, key: ecKey, notBefore: at('2026-06-01T13:00:00Z'), notAfter: at('2027-06-01T00:00:00Z') });
  c.withinSkew = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, key: ecKey, notBefore: at('2026-06-01T12:02:00Z'), notAfter: at('2027-06-01T00:00:00Z') });
  c.wrongCa = f.makeDeviceCertificate(c.otherRoot, { cn: DEVICE, key: ecKey, ...LEAF_DATES });
  c.twoCns = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, subject: `/CN=${DEVICE}/CN=C02OTHER`, key: ecKey, ...LEAF_DATES });
  c.fourCns = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, subject: `/CN=${DEVICE}/CN=B/CN=C/CN=D`, key: ecKey, ...LEAF_DATES });
  c.certSignLeaf = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, key: ecKey, keyUsage: 'critical,digitalSignature,keyCertSign', ...LEAF_DATES });
  c.wrongCn = f.makeDeviceCertificate(c.rootEc, { cn: 'C02SOMEONEELSE', key: ecKey, ...LEAF_DATES });
  c.serverAuth = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, key: ecKey, eku: 'serverAuth', ...LEAF_DATES });
  c.serverAndCodeSigning = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, key: ecKey, eku: ['serverAuth', 'codeSigning'], ...LEAF_DATES });
  c.bothEku = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, key: ecKey, eku: ['serverAuth', 'clientAuth'], ...LEAF_DATES });
  c.noEku = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, key: ecKey, eku: 'none', ...LEAF_DATES });
  c.multiRdn = f.makeDeviceCertificate(c.rootEc, {
    cn: DEVICE, subject: `/C=US/O=Acme\\, Inc/OU=Macs/CN=${DEVICE}+UID=abc`, key: ecKey, ...LEAF_DATES,
  });
  c.rsa1024 = f.makeDeviceCertificate(c.rootRsa, { cn: DEVICE, keyType: 'rsa1024', ...LEAF_DATES });
  // a keyUsage extension whose value is an ASN.1 NULL: which usages it allows cannot be known
  c.undecodableKeyUsage = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, key: ecKey, keyUsage: 'none', extraExtensions: ['2.5.29.15 = critical,DER:05:00'], ...LEAF_DATES });
  c.ec521 = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, keyType: 'ec521', ...LEAF_DATES });
  // a certificate made by another key for the bad-signature case
  c.stranger = f.makeDeviceCertificate(c.rootEc, { cn: DEVICE, keyType: 'ec256', ...LEAF_DATES });
  // attacker-made names: 500 characters of prose, control characters, terminal escapes
  c.proseLeaf = f.makeDeviceCertificate(c.otherRoot, {
    cn: '', subject: `/description=${PROSE}\x07\x1b[2J/CN=${PROSE_CN}`, key: ecKey, ...LEAF_DATES,
  });
  c.proseIntermediate = f.makeIntermediateCa(c.rootEc, {
    cn: '', subject: `/description=${PROSE}/CN=Prose CA`, key: ecKey, notBefore: at('2020-01-01T00:00:00Z'), notAfter: at('2026-01-01T00:00:00Z'),
  });
  c.viaProseIntermediate = f.makeDeviceCertificate(c.proseIntermediate, { cn: DEVICE, key: ecKey, ...LEAF_DATES });
});

afterAll(() => factory?.cleanup());
afterEach(() => vi.restoreAllMocks());

const TRUSTED_CAS = () => [c.rootRsa.pem, c.rootEc.pem];
const newVerifier = (revoked: string[] = [], cas = TRUSTED_CAS(), options?: { chainCacheSize?: number }) =>
  new DeviceCertificateVerifier(cas, new Set(revoked), options);

const mtls = (...chain: MadeCertificate[]): PresentedIdentity => ({ way: 'MTLS', chainDer: chain.map((x) => x.der) });
const signed = (chain: MadeCertificate[], signature?: Buffer): PresentedIdentity => ({
  way: 'SIGNED_REQUEST',
  chainDer: chain.map((x) => x.der),
  ...(signature ? { signature } : {}),
});
const request = (overrides: Partial<{ deviceId: string; body: Buffer; now: Date; maxClockSkewSeconds: number }> = {}) => ({
  deviceId: DEVICE,
  body: BODY,
  now: NOW,
  maxClockSkewSeconds: SKEW,
  ...overrides,
});
const codes = (result: { violations: Array<{ code: string }> }) => result.violations.map((v) => v.code);

describe('DeviceCertificateVerifier: accepted certificates', () => {
  // Each case: how the certificate is presented; no violation is expected, and the fingerprint is the leaf's.
  const cases: Array<[string, () => PresentedIdentity, () => MadeCertificate]> = [
    // RSA 2048 leaf directly under an RSA root, over mTLS
    ['RSA 2048 leaf, mTLS', () => mtls(c.rsaLeaf), () => c.rsaLeaf],
    // EC P-256 leaf under an EC P-384 root
    ['EC P-256 leaf, mTLS', () => mtls(c.ec256Leaf), () => c.ec256Leaf],
    // EC P-384 leaf
    ['EC P-384 leaf, mTLS', () => mtls(c.ec384Leaf), () => c.ec384Leaf],
    // RSA leaf on the signed-request way with a correct signature
    ['RSA 2048 leaf, signed request', () => signed([c.rsaLeaf], signBody(BODY, c.rsaLeaf)), () => c.rsaLeaf],
    // EC leaf on the signed-request way
    ['EC P-256 leaf, signed request', () => signed([c.ec256Leaf], signBody(BODY, c.ec256Leaf)), () => c.ec256Leaf],
    // EC P-384 leaf on the signed-request way
    ['EC P-384 leaf, signed request', () => signed([c.ec384Leaf], signBody(BODY, c.ec384Leaf)), () => c.ec384Leaf],
    // the intermediate is presented after the leaf; only the root is configured
    ['via a presented intermediate', () => mtls(c.viaIntermediate, c.intermediate), () => c.viaIntermediate],
    // two presented intermediates, in the wrong order: path building does not depend on the order
    ['via two intermediates, presented out of order', () => mtls(c.viaTwoIntermediates, c.intermediate, c.intermediate2), () => c.viaTwoIntermediates],
    // the root itself is presented too: harmless
    ['with the root presented as well', () => mtls(c.viaIntermediate, c.intermediate, c.rootRsa), () => c.viaIntermediate],
    // notBefore 2 minutes in the future, skew tolerance 5 minutes
    ['notBefore inside the clock-skew tolerance', () => mtls(c.withinSkew), () => c.withinSkew],
    // no extended key usage at all: any purpose, accepted
    ['no EKU extension', () => mtls(c.noEku), () => c.noEku],
    // serverAuth and clientAuth together: clientAuth is there
    ['EKU serverAuth + clientAuth', () => mtls(c.bothEku), () => c.bothEku],
    // CN inside a multi-valued RDN among other RDNs (C, O with an escaped comma, OU)
    ['CN in a multi-valued RDN', () => mtls(c.multiRdn), () => c.multiRdn],
  ];

  it.each(cases)('%s', (_name, identity, leaf) => {
    const result = newVerifier().verify(identity(), request());
    expect(result).toEqual({ violations: [], fingerprint: leaf().fingerprint });
  });

  it('accepts a stored intermediate as trust anchor (nothing presented but the leaf)', () => {
    const verifier = newVerifier([], [c.intermediate.pem]);
    expect(verifier.verify(mtls(c.viaIntermediate), request()).violations).toEqual([]);
  });

  it('reads a CA configured in the old "X509 CERTIFICATE" PEM form, and leaves out what is no certificate', () => {
    const legacy = c.rootEc.pem.replace(/CERTIFICATE/g, 'X509 CERTIFICATE');
    const verifier = newVerifier([], ['not a certificate', legacy]);
    expect(verifier.trustAnchorCount).toBe(1);
    expect(verifier.verify(mtls(c.ec256Leaf), request()).violations).toEqual([]);
  });

  it('reads a PEM bundle as several trust anchors', () => {
    const verifier = newVerifier([], [pemBundle([c.otherRoot, c.rootEc]), c.rootEc.pem]);
    expect(verifier.trustAnchorCount).toBe(2); // the root configured twice is one anchor
    expect(verifier.verify(mtls(c.ec256Leaf), request()).violations).toEqual([]);
  });

  it('reads every certificate of one configured text, alone or with text between them', () => {
    const bare = newVerifier([], [pemBundle([c.otherRoot, c.rootEc])]);
    const annotated = newVerifier([], [
      `Device CAs\nsubject=CN=Somebody Else Root\n${c.otherRoot.pem}\nsubject=CN=Tollgate Test Root EC\n${c.rootEc.pem}end of bundle\n`,
    ]);
    for (const verifier of [bare, annotated]) {
      expect(verifier.trustAnchorCount).toBe(2);
      // a device below the first certificate, and one below the second
      expect(verifier.verify(mtls(c.wrongCa), request())).toEqual({ violations: [], fingerprint: c.wrongCa.fingerprint });
      expect(verifier.verify(mtls(c.ec256Leaf), request())).toEqual({ violations: [], fingerprint: c.ec256Leaf.fingerprint });
    }
  });

  it('accepts a notBefore exactly the tolerated clock skew ahead, and refuses it with one second less', () => {
    // notBefore 12:02:00, server time 12:00:00
    const atTheEdge = newVerifier().verify(mtls(c.withinSkew), request({ maxClockSkewSeconds: 120 }));
    expect(atTheEdge).toEqual({ violations: [], fingerprint: c.withinSkew.fingerprint });
    expect(newVerifier().verify(mtls(c.withinSkew), request({ maxClockSkewSeconds: 119 }))).toEqual({
      violations: [
        {
          code: 'CLIENT_CERT_NOT_YET_VALID',
          message:
            'The device certificate is not valid until 2026-06-01T12:02:00.000Z, more than 119 seconds after the server time ' +
            '2026-06-01T12:00:00.000Z; check the clock of the issuing CA or wait until the certificate becomes valid.',
          fingerprint: c.withinSkew.fingerprint,
          notBefore: '2026-06-01T12:02:00.000Z',
        },
      ],
      fingerprint: c.withinSkew.fingerprint,
    });
  });

  it('verifies a signature made by `openssl dgst -sha256 -sign` (EC and RSA)', () => {
    const verifier = newVerifier();
    for (const leaf of [c.ec256Leaf, c.ec384Leaf, c.rsaLeaf]) {
      const signature = signBodyWithOpenssl(BODY, leaf);
      expect(verifier.verify(signed([leaf], signature), request()).violations).toEqual([]);
    }
  });

  it('works end to end from the headers a device sends', () => {
    const identity = extractDeviceIdentity({
      headers: {
        'x-device-certificate': deviceCertificateHeader([c.viaIntermediate, c.intermediate]),
        'x-device-signature': signBodyWithOpenssl(BODY, c.viaIntermediate).toString('base64'),
      },
    });
    expect(newVerifier().verify(identity, request())).toEqual({ violations: [], fingerprint: c.viaIntermediate.fingerprint });
  });
});

describe('DeviceCertificateVerifier: violations', () => {
  type Expectation = { codes: string[]; fingerprint?: () => string; message?: RegExp };
  // Each case: how the certificate is presented, the request, and the exact list of codes (in order) expected.
  const cases: Array<[string, () => PresentedIdentity, () => ReturnType<typeof request>, Expectation, (() => DeviceCertificateVerifier)?]> = [
    // nothing presented
    ['no certificate', () => ({ way: 'NONE' }), () => request(), { codes: ['CLIENT_CERT_MISSING'], message: /^No device certificate was presented; connect with the device certificate \(mutual TLS\) or send it in X-Device-Certificate/ }],
    // a header that could not be decoded: INVALID only, no fingerprint
    ['unparseable header', () => ({ way: 'PROXY_HEADER', unparseable: true }), () => request(), { codes: ['CLIENT_CERT_INVALID'], message: /proxy header/ }],
    // decodable base64 that is not a certificate: INVALID with the fingerprint of those bytes
    [
      'bytes that are not a certificate',
      () => ({ way: 'SIGNED_REQUEST', chainDer: [Buffer.from('definitely not DER')], signature: Buffer.from('x') }),
      () => request(),
      { codes: ['CLIENT_CERT_INVALID'], fingerprint: () => sha256Hex(Buffer.from('definitely not DER')) },
    ],
    // a presented intermediate that is not a certificate
    [
      'unreadable intermediate',
      () => ({ way: 'MTLS', chainDer: [c.viaIntermediate.der, Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])] }),
      () => request(),
      { codes: ['CLIENT_CERT_INVALID'], fingerprint: () => c.viaIntermediate.fingerprint, message: /Certificate 2 of the presented chain/ },
    ],
    // RSA 1024: too weak, INVALID only even though it is also signed by a trusted CA
    ['RSA 1024 leaf', () => mtls(c.rsa1024), () => request(), { codes: ['CLIENT_CERT_INVALID'], fingerprint: () => c.rsa1024.fingerprint, message: /1024 bits/ }],
    // P-521: not a supported curve
    ['EC P-521 leaf', () => mtls(c.ec521), () => request(), { codes: ['CLIENT_CERT_INVALID'], fingerprint: () => c.ec521.fingerprint, message: /secp521r1/ }],
    // P-521 is refused before any other rule runs (here the CN and the signature would also fail)
    [
      'EC P-521 leaf with other faults too',
      () => signed([c.ec521]),
      () => request({ deviceId: 'OTHER' }),
      { codes: ['CLIENT_CERT_INVALID'], fingerprint: () => c.ec521.fingerprint },
    ],
    // an extension that cannot be decoded: INVALID alone, although a configured CA issued it to this very device
    [
      'leaf whose keyUsage cannot be decoded',
      () => signed([c.undecodableKeyUsage]),
      () => request({ deviceId: 'OTHER' }),
      { codes: ['CLIENT_CERT_INVALID'], fingerprint: () => c.undecodableKeyUsage.fingerprint, message: /^The device certificate cannot be read unambiguously: its keyUsage extension cannot be decoded\. / },
    ],
    // issued by a CA that is not configured
    [
      'wrong CA',
      () => mtls(c.wrongCa),
      () => request(),
      {
        codes: ['CLIENT_CERT_UNTRUSTED'],
        fingerprint: () => c.wrongCa.fingerprint,
        message: /\(its issuer "CN=Somebody Else Root" is neither a configured device CA nor presented as an intermediate\)/,
      },
    ],
    // the intermediate is needed but not presented
    ['intermediate not presented', () => mtls(c.viaIntermediate), () => request(), { codes: ['CLIENT_CERT_UNTRUSTED'], message: /Tollgate Issuing CA/ }],
    // a presented intermediate that did not issue it: the issuer is named as not reached through what was presented
    [
      'intermediate of another chain',
      () => mtls(c.wrongCa, c.intermediate),
      () => request(),
      { codes: ['CLIENT_CERT_UNTRUSTED'], message: /\(its issuer "CN=Somebody Else Root" is neither a configured device CA nor reached through the presented intermediates\)/ },
    ],
    // the presented intermediate has expired
    [
      'expired intermediate',
      () => mtls(c.viaExpiredIntermediate, c.expiredIntermediate),
      () => request(),
      { codes: ['CLIENT_CERT_UNTRUSTED'], message: /intermediate "CN=Tollgate Old Issuing CA" expired at 2026-01-01T00:00:00.000Z/ },
    ],
    // the presented "intermediate" is not a CA (CA:FALSE) even though it may sign certificates by key usage
    ['intermediate that is not a CA', () => mtls(c.viaNotCa, c.notCaIntermediate), () => request(), { codes: ['CLIENT_CERT_UNTRUSTED'], message: /is not a CA certificate/ }],
    // a configured CA presented as if it were a device certificate
    [
      'leaf that is a configured CA',
      () => mtls(c.rootEc),
      () => request({ deviceId: 'Tollgate Test Root EC' }),
      { codes: ['CLIENT_CERT_UNTRUSTED'], fingerprint: () => c.rootEc.fingerprint, message: /not a device certificate/ },
    ],
    // no CA configured at all
    ['empty CA set', () => mtls(c.ec256Leaf), () => request(), { codes: ['CLIENT_CERT_UNTRUSTED'], message: /no device CA certificate is configured/ }, () => newVerifier([], [])],
    // serverAuth-only EKU: not for client authentication
    ['serverAuth-only EKU', () => mtls(c.serverAuth), () => request(), { codes: ['CLIENT_CERT_UNTRUSTED'], message: /not for client authentication \(its extended key usage is serverAuth/ }],
    // two purposes, neither clientAuth: both are named
    [
      'serverAuth and codeSigning EKU',
      () => mtls(c.serverAndCodeSigning),
      () => request(),
      {
        codes: ['CLIENT_CERT_UNTRUSTED'],
        message: /: it is not for client authentication \(its extended key usage is serverAuth, codeSigning, without clientAuth\)\. Issue /,
      },
    ],
    // untrusted chain and wrong EKU together: one UNTRUSTED violation naming both reasons
    [
      'wrong CA and serverAuth EKU',
      () => mtls(c.serverAuth),
      () => request(),
      { codes: ['CLIENT_CERT_UNTRUSTED'], message: /does not chain .*; and it is not for client authentication/ },
      () => newVerifier([], [c.rootRsa.pem]),
    ],
    // expired one month before NOW
    ['expired', () => mtls(c.expired), () => request(), { codes: ['CLIENT_CERT_EXPIRED'], message: /^The device certificate expired at 2026-01-01T00:00:00.000Z; issue a new one\.$/ }],
    // notBefore one hour ahead, skew tolerance 5 minutes
    ['not yet valid, outside the skew', () => mtls(c.notYetValid), () => request(), { codes: ['CLIENT_CERT_NOT_YET_VALID'], message: /not valid until 2026-06-01T13:00:00.000Z/ }],
    // notBefore 2 minutes ahead but a skew tolerance of only 60 s
    ['not yet valid, skew setting smaller', () => mtls(c.withinSkew), () => request({ maxClockSkewSeconds: 60 }), { codes: ['CLIENT_CERT_NOT_YET_VALID'] }],
    // CN is another device's
    ['wrong CN', () => mtls(c.wrongCn), () => request(), { codes: ['CLIENT_CERT_DEVICE_MISMATCH'], message: /^The certificate's common name "C02SOMEONEELSE" does not match deviceId "C02XK1JHJG5J"\.$/ }],
    // two common names, the first of them the device's: which one names the device cannot be told
    [
      'two CNs, the first the deviceId',
      () => mtls(c.twoCns),
      () => request(),
      { codes: ['CLIENT_CERT_DEVICE_MISMATCH'], message: /^The certificate has 2 common names \("C02XK1JHJG5J", "C02OTHER"\); it must have exactly one, equal to deviceId "C02XK1JHJG5J"\.$/ },
    ],
    // four: the first three are quoted
    ['four CNs', () => mtls(c.fourCns), () => request(), { codes: ['CLIENT_CERT_DEVICE_MISMATCH'], message: /^The certificate has 4 common names \("C02XK1JHJG5J", "B", "C", …\)/ }],
    // CN matching is exact: case matters
    ['CN differs only in case', () => mtls(c.ec256Leaf), () => request({ deviceId: DEVICE.toLowerCase() }), { codes: ['CLIENT_CERT_DEVICE_MISMATCH'] }],
    // the leaf's fingerprint is revoked
    ['revoked', () => mtls(c.ec256Leaf), () => request(), { codes: ['CLIENT_CERT_REVOKED'] }, () => newVerifier([c.ec256Leaf.fingerprint])],
    // signed-request way without X-Device-Signature
    ['missing signature', () => signed([c.ec256Leaf]), () => request(), { codes: ['CLIENT_SIGNATURE_MISSING'] }],
    // signature made with another key
    ['signature by another key', () => signed([c.ec256Leaf], signBody(BODY, c.stranger)), () => request(), { codes: ['CLIENT_SIGNATURE_INVALID'] }],
    // RSA signature over a different body
    ['RSA: tampered body', () => signed([c.rsaLeaf], signBody(BODY, c.rsaLeaf)), () => request({ body: Buffer.from(`${BODY.toString()} `) }), { codes: ['CLIENT_SIGNATURE_INVALID'] }],
    // EC signature over a different body
    ['EC: tampered body', () => signed([c.ec384Leaf], signBody(BODY, c.ec384Leaf)), () => request({ body: Buffer.from(BODY.toString().replace('c-1', 'c-2')) }), { codes: ['CLIENT_SIGNATURE_INVALID'] }],
    // garbage bytes as signature
    ['garbage signature', () => signed([c.rsaLeaf], Buffer.from('garbage')), () => request(), { codes: ['CLIENT_SIGNATURE_INVALID'] }],
    // X-Device-Signature that was not base64 (extracted as an empty buffer)
    ['signature header not base64', () => signed([c.rsaLeaf], Buffer.alloc(0)), () => request(), { codes: ['CLIENT_SIGNATURE_INVALID'], message: /not base64/ }],
    // mTLS needs no signature
    ['mTLS without signature is fine', () => mtls(c.ec256Leaf), () => request(), { codes: [] }],
    // everything at once: untrusted (wrong CA), expired, wrong CN, revoked, bad signature, all reported
    [
      'multiple failures reported together',
      () => signed([c.expired], signBody(BODY, c.stranger)),
      () => request({ deviceId: 'SOMEONE-ELSE' }),
      {
        codes: ['CLIENT_CERT_UNTRUSTED', 'CLIENT_CERT_EXPIRED', 'CLIENT_CERT_DEVICE_MISMATCH', 'CLIENT_CERT_REVOKED', 'CLIENT_SIGNATURE_INVALID'],
        fingerprint: () => c.expired.fingerprint,
      },
      () => newVerifier([c.expired.fingerprint], [c.otherRoot.pem]),
    ],
    // not yet valid and missing signature together
    ['not yet valid and unsigned', () => signed([c.notYetValid]), () => request(), { codes: ['CLIENT_CERT_NOT_YET_VALID', 'CLIENT_SIGNATURE_MISSING'] }],
  ];

  it.each(cases)('%s', (_name, identity, req, expected, makeVerifier) => {
    const presented = identity();
    const result = (makeVerifier ?? newVerifier)().verify(presented, req());
    expect(codes(result)).toEqual(expected.codes);

    const leafFingerprint = expected.fingerprint?.() ?? ('chainDer' in presented ? sha256Fingerprint(presented.chainDer[0]) : undefined);
    expect(result.fingerprint).toBe(leafFingerprint);
    for (const violation of result.violations) {
      // every violation after parsing carries the leaf's fingerprint; messages are sentences
      expect(violation.fingerprint).toBe(leafFingerprint);
      expect(violation.message).toMatch(/^[A-Z].*\.$/s);
    }
    if (expected.message) expect(result.violations[0].message).toMatch(expected.message);
  });

  it('refuses a presentation that holds no certificate at all, saying how it came', () => {
    // extractDeviceIdentity never yields an empty chain; the verifier still answers one with INVALID, not a crash
    const empty: PresentedIdentity[] = [{ way: 'MTLS', chainDer: [] }, { way: 'PROXY_HEADER', chainDer: [] }, { way: 'SIGNED_REQUEST', chainDer: [] }];
    for (const identity of empty) {
      const result = newVerifier().verify(identity, request());
      expect(result).toEqual({ violations: [{ code: 'CLIENT_CERT_INVALID', message: expect.stringMatching(/could not be decoded/) }] });
    }
  });

  it('reports the details a person needs', () => {
    const expired = newVerifier().verify(mtls(c.expired), request());
    expect(expired.violations[0]).toEqual({
      code: 'CLIENT_CERT_EXPIRED',
      message: 'The device certificate expired at 2026-01-01T00:00:00.000Z; issue a new one.',
      fingerprint: c.expired.fingerprint,
      notAfter: '2026-01-01T00:00:00.000Z',
    });
    const mismatch = newVerifier().verify(mtls(c.wrongCn), request());
    expect(mismatch.violations[0]).toMatchObject({ commonName: 'C02SOMEONEELSE', deviceId: DEVICE });
  });

  it('matches the fingerprint with what X509Certificate reports', () => {
    const expected = new X509Certificate(c.ec256Leaf.der).fingerprint256.replace(/:/g, '').toLowerCase();
    expect(sha256Fingerprint(c.ec256Leaf.der)).toBe(expected);
    expect(c.ec256Leaf.fingerprint).toBe(expected);
  });

  it('accepts revocations written with colons or in upper case', () => {
    const colons = c.ec256Leaf.fingerprint.toUpperCase().match(/../g)!.join(':');
    expect(codes(newVerifier([colons]).verify(mtls(c.ec256Leaf), request()))).toEqual(['CLIENT_CERT_REVOKED']);
  });
});

describe('DeviceCertificateVerifier: messages quote no attacker prose', () => {
  /** Every string a result carries: messages, reasons, details. */
  const stringsOf = (value: unknown): string[] =>
    typeof value === 'string' ? [value] : Array.isArray(value) ? value.flatMap(stringsOf) : value && typeof value === 'object' ? Object.values(value).flatMap(stringsOf) : [];
  /** Every 65-character stretch of the prose: none may appear, since a quoted name is at most 64 characters. */
  const proseWindows = Array.from({ length: PROSE.length - 64 }, (_, i) => PROSE.slice(i, i + 65));

  it.each([
    // an untrusted leaf whose subject is prose and whose CN holds terminal escapes
    ['an untrusted leaf', () => mtls(c.proseLeaf), ['CLIENT_CERT_UNTRUSTED', 'CLIENT_CERT_DEVICE_MISMATCH']],
    // a presented intermediate whose subject is prose (expired, so that a reason names it)
    ['an expired intermediate', () => mtls(c.viaProseIntermediate, c.proseIntermediate), ['CLIENT_CERT_UNTRUSTED']],
  ])('%s: no control character, no more than 64 characters of the name', (_name, identity, expected) => {
    const result = newVerifier().verify(identity(), request());
    expect(codes(result)).toEqual(expected);
    const strings = stringsOf(result.violations);
    for (const text of strings) {
      expect(text).not.toMatch(/[\u0000-\u001f\u007f]/);
      for (const window of proseWindows) expect(text).not.toContain(window);
    }
  });

  it('quotes a subject cut to 64 printable characters', () => {
    const result = newVerifier().verify(mtls(c.viaProseIntermediate, c.proseIntermediate), request());
    const quoted = `description=${PROSE}`.slice(0, 64);
    expect(result.violations[0].reasons).toEqual([
      `it does not chain to a configured device CA certificate (the presented intermediate "${quoted}…" expired at 2026-01-01T00:00:00.000Z)`,
    ]);
  });

  it('strips control characters from the common name it reports', () => {
    const mismatch = newVerifier().verify(mtls(c.proseLeaf), request()).violations[1];
    expect(mismatch).toEqual({
      code: 'CLIENT_CERT_DEVICE_MISMATCH',
      message: `The certificate's common name "C02[31mEVIL" does not match deviceId "${DEVICE}".`,
      fingerprint: c.proseLeaf.fingerprint,
      commonName: 'C02[31mEVIL',
      deviceId: DEVICE,
    });
  });
});

/** The verifier's path search, watched: it runs (and checks issuers and signatures) only when no path is remembered. */
function pathSearches(verifier: DeviceCertificateVerifier) {
  return vi.spyOn(verifier as unknown as { extendPath: (...args: unknown[]) => unknown }, 'extendPath');
}

describe('DeviceCertificateVerifier: chain cache', () => {
  it('remembers a successful chain check and skips the path search (its issuer and signature checks) on a hit', () => {
    const verifier = newVerifier();
    const spy = pathSearches(verifier);
    expect(verifier.verify(mtls(c.viaIntermediate, c.intermediate), request()).violations).toEqual([]);
    const firstCalls = spy.mock.calls.length;
    expect(firstCalls).toBeGreaterThan(0);
    expect(verifier.cachedChainCount).toBe(1);

    expect(verifier.verify(mtls(c.viaIntermediate, c.intermediate), request()).violations).toEqual([]);
    expect(spy.mock.calls.length).toBe(firstCalls);
  });

  it('never caches a failure', () => {
    const verifier = newVerifier();
    expect(codes(verifier.verify(mtls(c.wrongCa), request()))).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(codes(verifier.verify(mtls(c.viaIntermediate), request()))).toEqual(['CLIENT_CERT_UNTRUSTED']);
    // a valid path, but a leaf refused for its purpose: the path is not remembered either
    expect(codes(verifier.verify(mtls(c.serverAuth), request()))).toEqual(['CLIENT_CERT_UNTRUSTED']);
    // a valid path, but a leaf that may sign certificates: not remembered either
    expect(codes(verifier.verify(mtls(c.certSignLeaf), request()))).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(verifier.cachedChainCount).toBe(0);
  });

  it('still detects a revocation added in a new verifier for a chain verified before', () => {
    const before = newVerifier();
    expect(before.verify(mtls(c.viaIntermediate, c.intermediate), request()).violations).toEqual([]);
    expect(before.verify(mtls(c.viaIntermediate, c.intermediate), request()).violations).toEqual([]);
    const after = newVerifier([c.viaIntermediate.fingerprint]);
    expect(codes(after.verify(mtls(c.viaIntermediate, c.intermediate), request()))).toEqual(['CLIENT_CERT_REVOKED']);
  });

  it('still checks validity, CN, EKU-independent rules and the signature on a hit', () => {
    const verifier = newVerifier();
    const identity = signed([c.ec256Leaf], signBody(BODY, c.ec256Leaf));
    expect(verifier.verify(identity, request()).violations).toEqual([]);
    expect(verifier.cachedChainCount).toBe(1);
    // the same chain later: expired now
    expect(codes(verifier.verify(identity, request({ now: at('2027-02-01T00:00:00Z') })))).toEqual(['CLIENT_CERT_EXPIRED']);
    // the same chain for another device
    expect(codes(verifier.verify(identity, request({ deviceId: 'OTHER' })))).toEqual(['CLIENT_CERT_DEVICE_MISMATCH']);
    // the same chain with a body the signature does not cover
    expect(codes(verifier.verify(identity, request({ body: Buffer.from('{}') })))).toEqual(['CLIENT_SIGNATURE_INVALID']);
    // the same chain without a signature
    expect(codes(verifier.verify(signed([c.ec256Leaf]), request()))).toEqual(['CLIENT_SIGNATURE_MISSING']);
  });

  it('re-checks the CAs of a remembered path: an intermediate that expired since is noticed', () => {
    // a leaf valid until 2027 under an intermediate that expires 2026-01-01: accepted then, refused in June 2026
    const verifier = newVerifier();
    const leaf = c.viaExpiredIntermediate;
    // the one instant both are valid: the leaf's notBefore is the intermediate's notAfter
    const thatInstant = request({ now: at('2026-01-01T00:00:00Z') });
    expect(codes(verifier.verify(mtls(leaf, c.expiredIntermediate), thatInstant))).toEqual([]);
    expect(verifier.cachedChainCount).toBe(1);
    expect(codes(verifier.verify(mtls(leaf, c.expiredIntermediate), request()))).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(verifier.cachedChainCount).toBe(0);
  });

  it('is bounded, evicting the least recently used chain', () => {
    const verifier = newVerifier([], TRUSTED_CAS(), { chainCacheSize: 2 });
    verifier.verify(mtls(c.ec256Leaf), request());
    verifier.verify(mtls(c.rsaLeaf), request());
    verifier.verify(mtls(c.ec256Leaf), request()); // touch: rsaLeaf is now the oldest
    verifier.verify(mtls(c.ec384Leaf), request());
    expect(verifier.cachedChainCount).toBe(2);
    const spy = pathSearches(verifier);
    verifier.verify(mtls(c.ec256Leaf), request());
    expect(spy).not.toHaveBeenCalled(); // still cached
    verifier.verify(mtls(c.rsaLeaf), request());
    expect(spy).toHaveBeenCalled(); // evicted, verified again
  });

  it('can be switched off', () => {
    const verifier = newVerifier([], TRUSTED_CAS(), { chainCacheSize: 0 });
    expect(verifier.verify(mtls(c.ec256Leaf), request()).violations).toEqual([]);
    expect(verifier.cachedChainCount).toBe(0);
  });

  it('distinguishes chains by every presented certificate, not by the leaf alone', () => {
    const verifier = newVerifier();
    expect(verifier.verify(mtls(c.viaIntermediate, c.intermediate), request()).violations).toEqual([]);
    // the same leaf without its intermediate must not ride on the cached success
    expect(codes(verifier.verify(mtls(c.viaIntermediate), request()))).toEqual(['CLIENT_CERT_UNTRUSTED']);
  });
});

describe('commonNamesOf', () => {
  // Each case: X509Certificate#subject text (Node's multi-line, RFC 2253-escaped form) and the common names in it.
  it.each([
    // one RDN
    ['CN=C02XK1JHJG5J', ['C02XK1JHJG5J']],
    // several RDNs, escaped comma elsewhere
    ['C=US\nO=Acme\\, Inc\nCN=C02XK1JHJG5J', ['C02XK1JHJG5J']],
    // multi-valued RDN
    ['O=Acme\nCN=dev1 + UID=x', ['dev1']],
    // escaped '+' is part of the value
    ['CN=a\\+b', ['a+b']],
    // an escaped backslash is one backslash of the value, and escapes nothing after it
    ['CN=Mac\\\\Book\\\\0A', ['Mac\\Book\\0A']],
    // escaped quote and escaped trailing space are kept
    ['CN=sec\\"ond\\ ', ['sec"ond ']],
    // UTF-8 passes through; escaped comma
    ['CN=Gerät\\, #1', ['Gerät, #1']],
    // hex-escaped control character
    ['CN=line\\0Abreak', ['line\nbreak']],
    // two CNs
    ['CN=a\nCN=b', ['a', 'b']],
    // unescaped spaces around a value are not part of it
    ['CN=  padded  ', ['padded']],
    // none
    ['O=Acme\nOU=Macs', []],
  ] as Array<[string, string[]]>)('%j', (subject, expected) => {
    expect(commonNamesOf(subject)).toEqual(expected);
  });

  it('reads the CN of a real multi-RDN certificate', () => {
    expect(commonNamesOf(new X509Certificate(c.multiRdn.der).subject)).toEqual([DEVICE]);
  });
});
