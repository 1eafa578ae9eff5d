// Unit tests: readCertificateProfile on certificates written byte by byte, as an attacker writes them. The profile's
// names, algorithm identifiers, basicConstraints and extKeyUsage are read by a DER walk when they are encoded plainly
// and by @peculiar/asn1-x509 otherwise (docs/decisions.md, "A new certificate's names and algorithms read by the walk
// when they are plain"): whatever the encoding — long or non-minimal lengths and OIDs, indefinite lengths, trailing
// bytes, wrong tags, strings other than UTF8String / PrintableString / IA5String, octets of 0x80 and above — the
// profile must be the one the library alone reads (`libraryProfile` below, the whole certificate decoded by the
// library as the profile was read before the walk), and the structure around them refused where it is not a
// certificate's. The path rules judge nothing but this profile (certificate-path.ts), so an equal profile is an
// equal verdict. No signature is checked here, so nothing is signed.

import { AsnParser, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, ExtendedKeyUsage, type Name } from '@peculiar/asn1-x509';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  derElements,
  readCertificateProfile,
  readPlainName,
  type CertificateProfile,
  type DistinguishedName,
} from '../../lib/domain/certificate-extensions.ts';
import { bytes, oid, oidContents, sequence, set, tlv } from '../support/der.ts';

// ---- DER, written by hand ----

/** The same element with its length written in the long form on `octets` octets (BER allows it, DER does not). */
const longForm = (octets: number, tag: number, ...contents: Uint8Array[]) => {
  const body = Buffer.concat(contents);
  const length = Buffer.alloc(octets);
  length.writeUIntBE(body.length, 0, octets);
  return Buffer.concat([bytes(tag, 0x80 | octets), length, body]);
};
/** The same element with an indefinite length, closed by end-of-contents (BER only, constructed only). */
const indefinite = (tag: number, ...contents: Uint8Array[]) => Buffer.concat([bytes(tag, 0x80), ...contents, bytes(0, 0)]);
const NULL = bytes(0x05, 0x00);
const TRUE = bytes(0x01, 0x01, 0xff);
const integer = (...octets: number[]) => tlv(0x02, Buffer.from(octets));
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const printable = (text: string) => tlv(0x13, Buffer.from(text, 'latin1'));
const ia5 = (text: string) => tlv(0x16, Buffer.from(text, 'latin1'));
const bmp = (text: string) => tlv(0x1e, Buffer.from(text, 'utf16le').swap16());
const t61 = (text: string) => tlv(0x14, Buffer.from(text, 'latin1'));
const universal = (text: string) => {
  const body = Buffer.alloc(text.length * 4);
  [...text].forEach((character, i) => body.writeUInt32BE(character.codePointAt(0)!, i * 4));
  return tlv(0x1c, body);
};

const COMMON_NAME = '2.5.4.3';
const ORGANIZATION = '2.5.4.10';
const EMAIL_ADDRESS = '1.2.840.113549.1.9.1';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const P256 = '1.2.840.10045.3.1.7';
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const BASIC_CONSTRAINTS = '2.5.29.19';
const EXT_KEY_USAGE = '2.5.29.37';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

const attribute = (type: string | Uint8Array, value: Uint8Array) => sequence(typeof type === 'string' ? oid(type) : type, value);
/** A Name of one attribute per RDN. */
const nameOf = (...attributes: Uint8Array[]) => sequence(...attributes.map((one) => set(one)));
const algorithm = (id: string | Uint8Array, ...parameters: Uint8Array[]) => sequence(typeof id === 'string' ? oid(id) : id, ...parameters);
const extension = (id: string, critical: boolean, value: Uint8Array) => sequence(oid(id), ...(critical ? [TRUE] : []), tlv(0x04, value));

/** The parts of a TBSCertificate and of the certificate around it, each as its encoding. */
interface Parts {
  version: Uint8Array[];
  serial: Uint8Array;
  innerAlgorithm: Uint8Array;
  issuer: Uint8Array;
  validity: Uint8Array;
  subject: Uint8Array;
  subjectPublicKeyInfo: Uint8Array;
  /** After the key: issuerUniqueID, subjectUniqueID, extensions. */
  optional: Uint8Array[];
  outerAlgorithm: Uint8Array;
  signature: Uint8Array;
}

const EC_POINT = Buffer.concat([bytes(0x04), Buffer.alloc(64, 0x11)]);
const plainExtensions = (...extensions: Uint8Array[]) => tlv(0xa3, sequence(...extensions));
const PLAIN_BASIC_CONSTRAINTS = extension(BASIC_CONSTRAINTS, true, sequence(TRUE));
const PLAIN_EXT_KEY_USAGE = extension(EXT_KEY_USAGE, false, sequence(oid(CLIENT_AUTH)));

/** A version 3 EC certificate, every part plainly encoded: critical basicConstraints CA:TRUE and extKeyUsage clientAuth. */
const BASE: Parts = {
  version: [tlv(0xa0, integer(2))],
  serial: integer(0x01, 0x23),
  innerAlgorithm: algorithm(ECDSA_WITH_SHA256),
  issuer: nameOf(attribute(ORGANIZATION, printable('Walk Test')), attribute(COMMON_NAME, utf8('Walk Device CA'))),
  validity: sequence(tlv(0x17, Buffer.from('260101000000Z')), tlv(0x17, Buffer.from('360101000000Z'))),
  subject: nameOf(attribute(COMMON_NAME, utf8('C02WALK00001'))),
  subjectPublicKeyInfo: sequence(algorithm(EC_PUBLIC_KEY, oid(P256)), tlv(0x03, bytes(0), EC_POINT)),
  optional: [plainExtensions(PLAIN_BASIC_CONSTRAINTS, PLAIN_EXT_KEY_USAGE)],
  outerAlgorithm: algorithm(ECDSA_WITH_SHA256),
  signature: tlv(0x03, bytes(0), sequence(integer(0x01), integer(0x02))),
};

const tbsOf = (parts: Parts) =>
  sequence(...parts.version, parts.serial, parts.innerAlgorithm, parts.issuer, parts.validity, parts.subject, parts.subjectPublicKeyInfo, ...parts.optional);
const certificate = (change: Partial<Parts> = {}) => {
  const parts = { ...BASE, ...change };
  return sequence(tbsOf(parts), parts.outerAlgorithm, parts.signature);
};

// ---- the profile as the library alone reads it ----

const fold = (text: string) => text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
const libraryName = (name: Name): DistinguishedName =>
  [...name].map((rdn) =>
    [...rdn].map(({ type, value }) =>
      value.anyValue !== undefined ? { type, value: `#${Buffer.from(value.anyValue).toString('hex')}` } : { type, value: fold(value.toString()), text: value.toString() },
    ),
  );
const parametersOf = (parameters: ArrayBuffer | null | undefined) => (parameters ? Buffer.from(parameters).toString('hex') : String(parameters));
/** ECParameters (RFC 5480) with only its namedCurve choice, declared as the library's own schemas are. */
class NamedCurve {
  namedCurve = '';
}
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(NamedCurve.prototype, 'namedCurve');
AsnType({ type: AsnTypeTypes.Choice })(NamedCurve);
const isNamedCurve = (parameters: ArrayBuffer | null | undefined) => {
  if (!parameters) return false;
  try {
    AsnParser.parse(parameters, NamedCurve);
    return true;
  } catch {
    return false;
  }
};

/**
 * The profile of a certificate holding no extensions but basicConstraints, extKeyUsage and ones no rule decodes, read
 * as before the walk: the whole certificate decoded by @peculiar/asn1-x509.
 */
function libraryProfile(der: Uint8Array): CertificateProfile {
  const { tbsCertificate: tbs, signatureAlgorithm } = AsnParser.parse(der, Certificate);
  const extensions = [...(tbs.extensions ?? [])];
  const subject = libraryName(tbs.subject);
  const profile: CertificateProfile = {
    version: Number(tbs.version) + 1,
    extensions: extensions.map(({ extnID, critical }) => ({ oid: extnID, critical: critical === true })),
    duplicateExtensions: [],
    malformedExtensions: [],
    subject,
    issuer: libraryName(tbs.issuer),
    subjectEmailAddresses: subject.flat().flatMap(({ type, text }) => (type === EMAIL_ADDRESS && text !== undefined ? [text] : [])),
    signatureAlgorithmsMatch:
      tbs.signature.algorithm === signatureAlgorithm.algorithm && parametersOf(tbs.signature.parameters) === parametersOf(signatureAlgorithm.parameters),
    ecCurveIsNamed: tbs.subjectPublicKeyInfo.algorithm.algorithm === EC_PUBLIC_KEY ? isNamedCurve(tbs.subjectPublicKeyInfo.algorithm.parameters) : undefined,
  };
  for (const { extnID, critical, extnValue } of extensions) {
    try {
      if (extnID === BASIC_CONSTRAINTS) {
        const decoded = AsnParser.parse(extnValue.buffer, BasicConstraints);
        const pathLength = decoded.pathLenConstraint;
        if (pathLength !== undefined && !(Number.isSafeInteger(pathLength) && pathLength >= 0)) throw new RangeError('pathLenConstraint');
        profile.basicConstraints = { critical: critical === true, ca: decoded.cA === true, pathLength };
      } else if (extnID === EXT_KEY_USAGE) {
        const purposes = [...AsnParser.parse(extnValue.buffer, ExtendedKeyUsage)];
        if (purposes.length === 0 || !purposes.every((purpose) => /^[0-2](?:\.\d+)+$/.test(purpose))) throw new RangeError('no purpose');
        profile.extendedKeyUsage = { critical: critical === true, purposes };
      }
    } catch {
      profile.malformedExtensions.push(extnID);
    }
  }
  return profile;
}

/** The profile of BASE: what every row below changes one part of. */
const BASE_PROFILE: CertificateProfile = {
  version: 3,
  extensions: [
    { oid: BASIC_CONSTRAINTS, critical: true },
    { oid: EXT_KEY_USAGE, critical: false },
  ],
  duplicateExtensions: [],
  malformedExtensions: [],
  basicConstraints: { critical: true, ca: true, pathLength: undefined },
  extendedKeyUsage: { critical: false, purposes: [CLIENT_AUTH] },
  subject: [[{ type: COMMON_NAME, value: 'c02walk00001', text: 'C02WALK00001' }]],
  issuer: [[{ type: ORGANIZATION, value: 'walk test', text: 'Walk Test' }], [{ type: COMMON_NAME, value: 'walk device ca', text: 'Walk Device CA' }]],
  subjectEmailAddresses: [],
  signatureAlgorithmsMatch: true,
  ecCurveIsNamed: true,
};

/** The profile read, checked equal to the library's reading of the same bytes first. */
const profileOf = (der: Uint8Array) => {
  const profile = readCertificateProfile(der);
  expect(profile).toEqual(libraryProfile(der));
  return profile;
};
const REFUSED = 'refused' as const;
/** Both readings refuse the certificate (it is not one: the path rules never see a profile). */
const expectRefusedByBoth = (der: Uint8Array) => {
  expect(() => libraryProfile(der)).toThrow();
  expect(() => readCertificateProfile(der)).toThrow();
};

describe('the plainly encoded certificate', () => {
  it('reads as the library reads it: version 3, both names, the named curve, CA:TRUE, clientAuth', () => {
    expect(profileOf(certificate())).toEqual(BASE_PROFILE);
  });
});

const cn = (value: string, text: string | undefined = undefined) => [{ type: COMMON_NAME, value, ...(text === undefined ? {} : { text }) }];
const NON_MINIMAL_COMMON_NAME = tlv(0x06, bytes(0x55, 0x80, 0x04, 0x03));
/** 1.3.6.1.4.1.(2^42 − 1), its last arc on 6 octets, and 1.3.6.1.4.1.2^42, on 7. */
const SIX_OCTET_ARC = `1.3.6.1.4.1.${2 ** 42 - 1}`;
const SEVEN_OCTET_ARC = `1.3.6.1.4.1.${2 ** 42}`;
/** 1.3.6.1.4.1.(2^53 + 1), on 8 octets: beyond a double's exact integers. */
const EIGHT_OCTET_ARC = `1.3.6.1.4.1.${2n ** 53n + 1n}`;
/** How the library reads it: the arc as the nearest double, 2^53. The walk leaves such arcs to it, so both agree. */
const EIGHT_OCTET_ARC_AS_READ = `1.3.6.1.4.1.${2n ** 53n}`;

describe('names: the subject in every encoding a certificate may use, read as the library reads it', () => {
  // Columns: what the subject holds, its encoding, the subject read (or refused), the email addresses read from it.
  it.each([
    ['a PrintableString', nameOf(attribute(COMMON_NAME, printable('C02WALK00001'))), [cn('c02walk00001', 'C02WALK00001')], []],
    ['an IA5String', nameOf(attribute(COMMON_NAME, ia5('C02WALK00001'))), [cn('c02walk00001', 'C02WALK00001')], []],
    ['spaces to fold', nameOf(attribute(COMMON_NAME, utf8('  C02   Walk  '))), [cn('c02 walk', '  C02   Walk  ')], []],
    ['no RDN at all', sequence(), [], []],
    ['two attributes in one RDN', sequence(set(attribute(COMMON_NAME, utf8('A')), attribute(ORGANIZATION, utf8('B')))), [[...cn('a', 'A'), { type: ORGANIZATION, value: 'b', text: 'B' }]], []],
    ['a BMPString', nameOf(attribute(COMMON_NAME, bmp('Zürich Mac'))), [cn('zürich mac', 'Zürich Mac')], []],
    ['a BMPString of ASCII only', nameOf(attribute(COMMON_NAME, bmp('C02'))), [cn('c02', 'C02')], []],
    ['a T61String', nameOf(attribute(COMMON_NAME, t61('C02WALK'))), [cn('c02walk', 'C02WALK')], []],
    ['a UniversalString', nameOf(attribute(COMMON_NAME, universal('Gerät'))), [cn('gerät', 'Gerät')], []],
    ['a UTF8String of octets 0x80 and above', nameOf(attribute(COMMON_NAME, utf8('Gerät'))), [cn('gerät', 'Gerät')], []],
    ['a UTF8String of octets 0x80 and above only', nameOf(attribute(COMMON_NAME, utf8('Ää'))), [cn('ää', 'Ää')], []],
    // not UTF-8: the library reads each octet as a character (so the walk could, for 0x80 alone; it does not)
    ['a UTF8String holding the lone octet 0x80', nameOf(attribute(COMMON_NAME, tlv(0x0c, bytes(0x41, 0x80)))), [cn('a\x80', 'A\x80')], []],
    ['a UTF8String holding the lone octet 0x7f', nameOf(attribute(COMMON_NAME, tlv(0x0c, bytes(0x41, 0x7f)))), [cn('a\x7f', 'A\x7f')], []],
    ['a PrintableString holding the octet 0xc4', nameOf(attribute(COMMON_NAME, tlv(0x13, bytes(0x41, 0xc4)))), [cn('aä', 'AÄ')], []],
    ['an INTEGER value', nameOf(attribute(COMMON_NAME, integer(0x05))), [cn('#020105')], []],
    ['an OCTET STRING value', nameOf(attribute(COMMON_NAME, tlv(0x04, bytes(0x41)))), [cn('#040141')], []],
    [
      'an emailAddress as text and one as an OCTET STRING',
      nameOf(attribute(EMAIL_ADDRESS, ia5('Mac@Example.com')), attribute(EMAIL_ADDRESS, tlv(0x04, bytes(0x61)))),
      [[{ type: EMAIL_ADDRESS, value: 'mac@example.com', text: 'Mac@Example.com' }], [{ type: EMAIL_ADDRESS, value: '#040161' }]],
      ['Mac@Example.com'],
    ],
    ['an emailAddress as a UTF8String', nameOf(attribute(EMAIL_ADDRESS, utf8('mac@example.com'))), [[{ type: EMAIL_ADDRESS, value: 'mac@example.com', text: 'mac@example.com' }]], ['mac@example.com']],
    ['an attribute type with a non-minimal arc', nameOf(attribute(NON_MINIMAL_COMMON_NAME, utf8('C02'))), [cn('c02', 'C02')], []],
    ['an attribute type with a 6-octet arc', nameOf(attribute(SIX_OCTET_ARC, utf8('C02'))), [[{ type: SIX_OCTET_ARC, value: 'c02', text: 'C02' }]], []],
    ['an attribute type with a 7-octet arc', nameOf(attribute(SEVEN_OCTET_ARC, utf8('C02'))), [[{ type: SEVEN_OCTET_ARC, value: 'c02', text: 'C02' }]], []],
    ['an attribute type with an 8-octet arc', nameOf(attribute(EIGHT_OCTET_ARC, utf8('C02'))), [[{ type: EIGHT_OCTET_ARC_AS_READ, value: 'c02', text: 'C02' }]], []],
    ['long-form lengths', longForm(1, 0x30, longForm(2, 0x31, longForm(1, 0x30, oid(COMMON_NAME), longForm(2, 0x0c, Buffer.from('C02'))))), [cn('c02', 'C02')], []],
    ['an RDN of indefinite length', sequence(indefinite(0x31, attribute(COMMON_NAME, utf8('C02')))), [cn('c02', 'C02')], []],
    ['an attribute of indefinite length', sequence(set(indefinite(0x30, oid(COMMON_NAME), utf8('C02')))), [cn('c02', 'C02')], []],
    ['a value with a 5-octet length', nameOf(attribute(COMMON_NAME, longForm(5, 0x0c, Buffer.from('C02')))), [cn('c02', 'C02')], []],
    ['a value with a 4-octet length', nameOf(attribute(COMMON_NAME, longForm(4, 0x0c, Buffer.from('C02')))), [cn('c02', 'C02')], []],
    ['an empty RDN', sequence(set()), [[]], []],
    ['an empty RDN after a full one', sequence(set(attribute(COMMON_NAME, utf8('C02'))), set()), [cn('c02', 'C02'), []], []],
    ['an RDN that is a SEQUENCE', sequence(sequence(attribute(COMMON_NAME, utf8('C02')))), REFUSED, []],
    ['an attribute that is a SET', sequence(set(set(oid(COMMON_NAME), utf8('C02')))), REFUSED, []],
    // the library reads the first two parts and leaves the third
    ['an attribute of three parts', nameOf(sequence(oid(COMMON_NAME), utf8('C02'), utf8('C03'))), [cn('c02', 'C02')], []],
    ['an attribute with no value', nameOf(sequence(oid(COMMON_NAME))), REFUSED, []],
    ['an attribute type that is not an OBJECT IDENTIFIER', nameOf(sequence(utf8('CN'), utf8('C02'))), REFUSED, []],
    ['a value whose length runs past its attribute', nameOf(sequence(oid(COMMON_NAME), bytes(0x0c, 0x09, 0x41))), REFUSED, []],
    ['a value with a high tag number', nameOf(attribute(COMMON_NAME, bytes(0x1f, 0x21, 0x01, 0x41))), [cn('#1f210141')], []],
    ['a SET where the Name\'s SEQUENCE belongs', set(set(attribute(COMMON_NAME, utf8('C02')))), REFUSED, []],
  ] as Array<[string, Buffer, DistinguishedName | typeof REFUSED, string[]]>)('a subject of %s', (_name, subject, read, emails) => {
    const der = certificate({ subject });
    if (read === REFUSED) return expectRefusedByBoth(der);
    expect(profileOf(der)).toEqual({ ...BASE_PROFILE, subject: read, subjectEmailAddresses: emails });
  });

  it.each([
    ['a BMPString', nameOf(attribute(COMMON_NAME, bmp('Walk CA'))), [cn('walk ca', 'Walk CA')]],
    ['an OCTET STRING value', nameOf(attribute(COMMON_NAME, tlv(0x04, bytes(0x41)))), [cn('#040141')]],
    ['a UTF8String of octets 0x80 and above', nameOf(attribute(COMMON_NAME, utf8('Société'))), [cn('société', 'Société')]],
  ] as Array<[string, Buffer, DistinguishedName]>)('an issuer of %s', (_name, issuer, read) => {
    expect(profileOf(certificate({ issuer }))).toEqual({ ...BASE_PROFILE, issuer: read });
  });

  it('reads a plain Name by the walk itself, and leaves a SET where its SEQUENCE belongs to the library, which refuses it', () => {
    const first = (der: Buffer) => derElements(der, 0, der.length)[0];
    const plain = nameOf(attribute(COMMON_NAME, utf8('C02WALK00001')));
    expect(readPlainName(plain, first(plain))).toEqual([cn('c02walk00001', 'C02WALK00001')]);
    const tagged = set(set(attribute(COMMON_NAME, utf8('C02WALK00001'))));
    expect(readPlainName(tagged, first(tagged))).toBeUndefined();
    expectRefusedByBoth(certificate({ subject: tagged }));
  });
});

const ECDSA_WITH_SHA256_CONTENTS = oidContents(ECDSA_WITH_SHA256);
/** ecdsa-with-SHA256 with a 0x80 octet leading its second arc (840 written on three octets instead of two). */
const NON_MINIMAL_ECDSA_WITH_SHA256 = tlv(0x06, Buffer.concat([bytes(0x2a, 0x80), ECDSA_WITH_SHA256_CONTENTS.subarray(1)]));
const PSS_PARAMETERS = sequence(tlv(0xa0, algorithm('2.16.840.1.101.3.4.2.1', NULL)));

describe('algorithm identifiers: the signed part\'s signature algorithm against the outer one', () => {
  // Columns: the case, the inner AlgorithmIdentifier, the outer one, whether they match (or the certificate refused).
  it.each([
    ['both without parameters', algorithm(ECDSA_WITH_SHA256), algorithm(ECDSA_WITH_SHA256), true],
    ['both with NULL parameters', algorithm(SHA256_WITH_RSA, NULL), algorithm(SHA256_WITH_RSA, NULL), true],
    ['NULL parameters inside, none outside', algorithm(SHA256_WITH_RSA, NULL), algorithm(SHA256_WITH_RSA), false],
    ['no parameters inside, NULL outside', algorithm(SHA256_WITH_RSA), algorithm(SHA256_WITH_RSA, NULL), false],
    ['another algorithm inside', algorithm('1.2.840.10045.4.3.3'), algorithm(ECDSA_WITH_SHA256), false],
    ['a NULL in the long form outside', algorithm(SHA256_WITH_RSA, NULL), algorithm(SHA256_WITH_RSA, bytes(0x05, 0x81, 0x00)), true],
    // the library reads any NULL as null, contents or not
    ['a NULL holding an octet outside', algorithm(SHA256_WITH_RSA, NULL), algorithm(SHA256_WITH_RSA, bytes(0x05, 0x01, 0x00)), true],
    ['the same OBJECT IDENTIFIER parameters', algorithm(ECDSA_WITH_SHA256, oid(P256)), algorithm(ECDSA_WITH_SHA256, oid(P256)), true],
    ['other OBJECT IDENTIFIER parameters', algorithm(ECDSA_WITH_SHA256, oid(P256)), algorithm(ECDSA_WITH_SHA256, oid('1.3.132.0.34')), false],
    ['OBJECT IDENTIFIER parameters against NULL', algorithm(ECDSA_WITH_SHA256, oid(P256)), algorithm(ECDSA_WITH_SHA256, NULL), false],
    ['the same SEQUENCE parameters (RSASSA-PSS)', algorithm('1.2.840.113549.1.1.10', PSS_PARAMETERS), algorithm('1.2.840.113549.1.1.10', PSS_PARAMETERS), true],
    ['SEQUENCE parameters against none', algorithm('1.2.840.113549.1.1.10', PSS_PARAMETERS), algorithm('1.2.840.113549.1.1.10'), false],
    ['an empty SEQUENCE as parameters against NULL', algorithm(ECDSA_WITH_SHA256, NULL), algorithm(ECDSA_WITH_SHA256, sequence()), false],
    ['an empty SEQUENCE as parameters on both', algorithm(ECDSA_WITH_SHA256, sequence()), algorithm(ECDSA_WITH_SHA256, sequence()), true],
    ['an INTEGER as parameters against none', algorithm(ECDSA_WITH_SHA256, integer(0)), algorithm(ECDSA_WITH_SHA256), false],
    ['the algorithm with a non-minimal arc inside', algorithm(NON_MINIMAL_ECDSA_WITH_SHA256), algorithm(ECDSA_WITH_SHA256), true],
    ['the algorithm with a non-minimal arc outside', algorithm(ECDSA_WITH_SHA256), algorithm(NON_MINIMAL_ECDSA_WITH_SHA256), true],
    ['a 7-octet arc on both', algorithm(SEVEN_OCTET_ARC), algorithm(SEVEN_OCTET_ARC), true],
    ['a 7-octet arc inside, a 6-octet one outside', algorithm(SEVEN_OCTET_ARC), algorithm(SIX_OCTET_ARC), false],
    ['OBJECT IDENTIFIER parameters with a non-minimal arc against minimal ones', algorithm(ECDSA_WITH_SHA256, oid(P256)), algorithm(ECDSA_WITH_SHA256, tlv(0x06, Buffer.concat([bytes(0x2a, 0x80), oidContents(P256).subarray(1)]))), false],
    ['parameters with a long-form length on both', algorithm(ECDSA_WITH_SHA256, longForm(1, 0x06, oidContents(P256))), algorithm(ECDSA_WITH_SHA256, longForm(1, 0x06, oidContents(P256))), true],
    ['a long-form length around the identifier', longForm(2, 0x30, oid(ECDSA_WITH_SHA256)), algorithm(ECDSA_WITH_SHA256), true],
    ['three parts inside', algorithm(SHA256_WITH_RSA, NULL, NULL), algorithm(SHA256_WITH_RSA, NULL), true],
    ['an empty SEQUENCE inside', sequence(), algorithm(ECDSA_WITH_SHA256), REFUSED],
    ['an INTEGER where the algorithm belongs inside', sequence(integer(1)), algorithm(ECDSA_WITH_SHA256), REFUSED],
    ['an empty OBJECT IDENTIFIER outside', algorithm(ECDSA_WITH_SHA256), sequence(bytes(0x06, 0x00)), false],
    ['a SET for the outer identifier', algorithm(ECDSA_WITH_SHA256), set(oid(ECDSA_WITH_SHA256)), REFUSED],
  ] as Array<[string, Buffer, Buffer, boolean | typeof REFUSED]>)('%s', (_name, innerAlgorithm, outerAlgorithm, match) => {
    const der = certificate({ innerAlgorithm, outerAlgorithm });
    if (match === REFUSED) return expectRefusedByBoth(der);
    expect(profileOf(der)).toEqual({ ...BASE_PROFILE, signatureAlgorithmsMatch: match });
  });
});

describe('the subject key\'s algorithm: an EC curve named by OID or given explicitly', () => {
  const keyOf = (keyAlgorithm: Uint8Array) => sequence(keyAlgorithm, tlv(0x03, bytes(0), EC_POINT));
  // Columns: the case, the key's AlgorithmIdentifier, ecCurveIsNamed (undefined: not an EC key; or refused).
  it.each([
    ['P-256 by OID', algorithm(EC_PUBLIC_KEY, oid(P256)), true],
    ['P-384 by OID', algorithm(EC_PUBLIC_KEY, oid('1.3.132.0.34')), true],
    ['explicit parameters', algorithm(EC_PUBLIC_KEY, sequence(integer(1), sequence(oid('1.2.840.10045.1.1'), integer(0x7f)))), false],
    ['no parameters', algorithm(EC_PUBLIC_KEY), false],
    ['NULL parameters', algorithm(EC_PUBLIC_KEY, NULL), false],
    ['an INTEGER as parameters', algorithm(EC_PUBLIC_KEY, integer(7)), false],
    ['explicit parameters of indefinite length', algorithm(EC_PUBLIC_KEY, indefinite(0x30, integer(1))), false],
    ['a curve OID and explicit parameters of indefinite length', algorithm(EC_PUBLIC_KEY, indefinite(0x30, oid(P256))), false],
    // the library reads an empty OBJECT IDENTIFIER as a (nameless) named curve, which the key policy then refuses
    ['an empty OBJECT IDENTIFIER as parameters', algorithm(EC_PUBLIC_KEY, bytes(0x06, 0x00)), true],
    ['the curve OID with a non-minimal arc', algorithm(EC_PUBLIC_KEY, tlv(0x06, Buffer.concat([bytes(0x2a, 0x80), oidContents(P256).subarray(1)]))), true],
    ['the curve OID with a 7-octet arc', algorithm(EC_PUBLIC_KEY, oid(SEVEN_OCTET_ARC)), true],
    ['the curve OID in a long-form length', algorithm(EC_PUBLIC_KEY, longForm(1, 0x06, oidContents(P256))), true],
    ['the key algorithm with a non-minimal arc', algorithm(tlv(0x06, Buffer.concat([bytes(0x2a, 0x80), oidContents(EC_PUBLIC_KEY).subarray(1)])), oid(P256)), true],
    ['an RSA key', algorithm('1.2.840.113549.1.1.1', NULL), undefined],
    ['an RSA key without parameters', algorithm('1.2.840.113549.1.1.1'), undefined],
  ] as Array<[string, Buffer, boolean | undefined | typeof REFUSED]>)('a key algorithm of %s', (_name, keyAlgorithm, named) => {
    const der = certificate({ subjectPublicKeyInfo: keyOf(keyAlgorithm) });
    if (named === REFUSED) return expectRefusedByBoth(der);
    expect(profileOf(der)).toEqual({ ...BASE_PROFILE, ecCurveIsNamed: named });
  });

  it('refuses a key whose SubjectPublicKeyInfo is empty', () => {
    expectRefusedByBoth(certificate({ subjectPublicKeyInfo: sequence() }));
  });

  it('refuses a key whose AlgorithmIdentifier is a SET', () => {
    expectRefusedByBoth(certificate({ subjectPublicKeyInfo: keyOf(set(oid(EC_PUBLIC_KEY), oid(P256))) }));
  });
});

/** The profile of a certificate whose basicConstraints (critical) has this value, beside the plain extKeyUsage. */
const withBasicConstraints = (value: Uint8Array) => certificate({ optional: [plainExtensions(extension(BASIC_CONSTRAINTS, true, value), PLAIN_EXT_KEY_USAGE)] });
const MALFORMED = 'malformed' as const;

describe('basicConstraints in every encoding: read as the library reads it, or listed as malformed', () => {
  // Columns: the case, the extension's value octets, what it says (cA, pathLenConstraint) or that it is malformed.
  it.each([
    ['not a CA (an empty SEQUENCE)', bytes(0x30, 0x00), { ca: false }],
    ['a CA', bytes(0x30, 0x03, 0x01, 0x01, 0xff), { ca: true }],
    ['a CA with pathLenConstraint 0', bytes(0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x00), { ca: true, pathLength: 0 }],
    ['a CA with pathLenConstraint 3', bytes(0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x03), { ca: true, pathLength: 3 }],
    ['a CA with pathLenConstraint 127', bytes(0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x7f), { ca: true, pathLength: 127 }],
    ['a CA with pathLenConstraint 128 (two octets)', bytes(0x30, 0x07, 0x01, 0x01, 0xff, 0x02, 0x02, 0x00, 0x80), { ca: true, pathLength: 128 }],
    ['a CA with pathLenConstraint −128 (the octet 0x80)', bytes(0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x80), MALFORMED],
    ['a CA with pathLenConstraint −1', bytes(0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0xff), MALFORMED],
    ['a CA with pathLenConstraint 2^53', bytes(0x30, 0x0b, 0x01, 0x01, 0xff, 0x02, 0x06, 0x20, 0, 0, 0, 0, 0), MALFORMED],
    ['a pathLenConstraint without cA', bytes(0x30, 0x03, 0x02, 0x01, 0x05), { ca: false, pathLength: 5 }],
    ['cA written FALSE (BER only)', bytes(0x30, 0x03, 0x01, 0x01, 0x00), { ca: false }],
    ['cA written FALSE with a pathLenConstraint', bytes(0x30, 0x06, 0x01, 0x01, 0x00, 0x02, 0x01, 0x03), { ca: false, pathLength: 3 }],
    ['cA written TRUE as 0x01 (BER only)', bytes(0x30, 0x03, 0x01, 0x01, 0x01), { ca: true }],
    ['cA TRUE as 0x01 with a pathLenConstraint', bytes(0x30, 0x06, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03), { ca: true, pathLength: 3 }],
    ['a long-form length', bytes(0x30, 0x81, 0x03, 0x01, 0x01, 0xff), { ca: true }],
    ['a long-form length on the pathLenConstraint', bytes(0x30, 0x07, 0x01, 0x01, 0xff, 0x02, 0x81, 0x01, 0x03), { ca: true, pathLength: 3 }],
    ['an indefinite length', bytes(0x30, 0x80, 0x01, 0x01, 0xff, 0x00, 0x00), { ca: true }],
    ['an empty SEQUENCE in the long form', bytes(0x30, 0x81, 0x00), { ca: false }],
    ['a byte after the empty SEQUENCE', bytes(0x30, 0x00, 0x00), { ca: false }],
    ['a NULL after the CA\'s SEQUENCE', bytes(0x30, 0x03, 0x01, 0x01, 0xff, 0x05, 0x00), { ca: true }],
    ['a byte after the pathLenConstraint\'s SEQUENCE', bytes(0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x03, 0x00), { ca: true, pathLength: 3 }],
    ['a SET instead of the SEQUENCE', bytes(0x31, 0x03, 0x01, 0x01, 0xff), MALFORMED],
    ['an empty SET', bytes(0x31, 0x00), MALFORMED],
    ['a NULL instead of the SEQUENCE', NULL, MALFORMED],
    ['five octets none of which is the CA form\'s', bytes(0x04, 0x01, 0x00, 0x02, 0x00), MALFORMED],
    ['no octets at all', bytes(), MALFORMED],
    ['a SEQUENCE that claims one octet more', bytes(0x30, 0x04, 0x01, 0x01, 0xff), MALFORMED],
    ['an OCTET STRING where pathLenConstraint belongs', bytes(0x30, 0x06, 0x01, 0x01, 0xff, 0x04, 0x01, 0x03), MALFORMED],
    ['a pathLenConstraint that claims two octets of one', bytes(0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x02, 0x03), MALFORMED],
    ['an INTEGER where cA belongs', bytes(0x30, 0x03, 0x02, 0x01, 0xff), MALFORMED],
    ['a cA of two octets', bytes(0x30, 0x04, 0x01, 0x02, 0xff, 0xff), { ca: true }],
    ['a SEQUENCE of 6 octets holding a 3-octet one', bytes(0x30, 0x06, 0x30, 0x03, 0x01, 0x01, 0xff, 0x00), MALFORMED],
  ] as Array<[string, Buffer, { ca: boolean; pathLength?: number } | typeof MALFORMED]>)('%s', (_name, value, read) => {
    const der = withBasicConstraints(value);
    expect(profileOf(der)).toEqual(
      read === MALFORMED
        ? { ...BASE_PROFILE, basicConstraints: undefined, malformedExtensions: [BASIC_CONSTRAINTS] }
        : { ...BASE_PROFILE, basicConstraints: { critical: true, ...read } },
    );
  });
});

/** The profile of a certificate whose extKeyUsage (not critical) has this value, beside the plain basicConstraints. */
const withExtKeyUsage = (value: Uint8Array) => certificate({ optional: [plainExtensions(PLAIN_BASIC_CONSTRAINTS, extension(EXT_KEY_USAGE, false, value))] });

describe('extKeyUsage in every encoding: read as the library reads it, or listed as malformed', () => {
  const purposes = (...ids: Uint8Array[]) => sequence(...ids);
  // Columns: the case, the extension's value octets, the purposes read or that it is malformed.
  it.each([
    ['clientAuth', purposes(oid(CLIENT_AUTH)), [CLIENT_AUTH]],
    ['serverAuth and clientAuth', purposes(oid(SERVER_AUTH), oid(CLIENT_AUTH)), [SERVER_AUTH, CLIENT_AUTH]],
    ['no purpose', purposes(), MALFORMED],
    ['no purpose, in the long form', bytes(0x30, 0x81, 0x00), MALFORMED],
    ['a purpose with a non-minimal arc', purposes(tlv(0x06, Buffer.concat([bytes(0x2b, 0x80), oidContents(CLIENT_AUTH).subarray(1)]))), [CLIENT_AUTH]],
    ['a purpose with a 6-octet arc', purposes(oid(SIX_OCTET_ARC)), [SIX_OCTET_ARC]],
    ['a purpose with an 8-octet arc', purposes(oid(EIGHT_OCTET_ARC)), [EIGHT_OCTET_ARC_AS_READ]],
    ['a purpose with a 7-octet arc', purposes(oid(SEVEN_OCTET_ARC), oid(CLIENT_AUTH)), [SEVEN_OCTET_ARC, CLIENT_AUTH]],
    ['a purpose whose last octet says more follows', purposes(tlv(0x06, bytes(0x2b, 0x06, 0x81))), MALFORMED],
    // the library reads it as the empty text; an OBJECT IDENTIFIER has at least two arcs
    ['an empty OBJECT IDENTIFIER', purposes(bytes(0x06, 0x00)), MALFORMED],
    ['a purpose in the long form', purposes(longForm(1, 0x06, oidContents(CLIENT_AUTH))), [CLIENT_AUTH]],
    ['the SEQUENCE in the long form', longForm(2, 0x30, oid(CLIENT_AUTH)), [CLIENT_AUTH]],
    ['an indefinite length', indefinite(0x30, oid(CLIENT_AUTH)), [CLIENT_AUTH]],
    ['a NULL after the SEQUENCE', Buffer.concat([purposes(oid(CLIENT_AUTH)), NULL]), [CLIENT_AUTH]],
    ['a SET instead of the SEQUENCE', set(oid(CLIENT_AUTH)), MALFORMED],
    // a purpose must be an OBJECT IDENTIFIER: a certificate that lists text beside clientAuth is not read as clientAuth
    ['a UTF8String among the purposes', purposes(oid(CLIENT_AUTH), utf8('clientAuth')), MALFORMED],
    ['a purpose that runs past the SEQUENCE', bytes(0x30, 0x03, 0x06, 0x08, 0x2b), MALFORMED],
    ['a SEQUENCE that runs past the value', bytes(0x30, 0x0b, 0x06, 0x01, 0x2b), MALFORMED],
    ['no octets at all', bytes(), MALFORMED],
  ] as Array<[string, Buffer, string[] | typeof MALFORMED]>)('%s', (_name, value, read) => {
    const der = withExtKeyUsage(value);
    expect(profileOf(der)).toEqual(
      read === MALFORMED
        ? { ...BASE_PROFILE, extendedKeyUsage: undefined, malformedExtensions: [EXT_KEY_USAGE] }
        : { ...BASE_PROFILE, extendedKeyUsage: { critical: false, purposes: read } },
    );
  });
});

describe('the structure around what the profile reads: a certificate, delimited by the walk', () => {
  const extensionsOf = (...extensions: Uint8Array[]) => ({ optional: [plainExtensions(...extensions)] });
  const listed = (...extensions: Array<[string, boolean]>) => extensions.map(([id, critical]) => ({ oid: id, critical }));
  const UNREAD = '1.3.6.1.4.1.55738.666.3';
  const unread = (flag: Uint8Array[]) => sequence(oid(UNREAD), ...flag, tlv(0x04, NULL));
  const withoutExtensions = { extensions: [], basicConstraints: undefined, extendedKeyUsage: undefined };

  // Columns: the case, the certificate's bytes, what its profile says beyond BASE_PROFILE.
  it.each([
    ['no version (version 1) and no extensions', certificate({ version: [], optional: [] }), { version: 1, ...withoutExtensions }],
    ['version 1 written out', certificate({ version: [tlv(0xa0, integer(0))] }), { version: 1 }],
    ['version 2', certificate({ version: [tlv(0xa0, integer(1))] }), { version: 2 }],
    ['version 3 on four octets', certificate({ version: [tlv(0xa0, integer(0, 0, 0, 2))] }), {}],
    ['an issuerUniqueID and a subjectUniqueID', certificate({ optional: [tlv(0x81, bytes(0, 0xaa)), tlv(0x82, bytes(0, 0xbb)), ...BASE.optional] }), {}],
    ['a subjectUniqueID alone', certificate({ optional: [tlv(0x82, bytes(0, 0xbb)), ...BASE.optional] }), {}],
    ['an empty extension list', certificate({ optional: [tlv(0xa3, sequence())] }), withoutExtensions],
    ['an empty extension list in the long form', certificate({ optional: [tlv(0xa3, bytes(0x30, 0x81, 0x00))] }), withoutExtensions],
    ['the outer SEQUENCE\'s length on four octets', Buffer.concat([bytes(0x30, 0x84), Buffer.from(lengthOf(certificate()))]), {}],
    [
      'critical written FALSE, as 0x01, and as two octets',
      certificate(extensionsOf(PLAIN_BASIC_CONSTRAINTS, unread([bytes(0x01, 0x01, 0x00)]), unread([bytes(0x01, 0x01, 0x01)]), unread([bytes(0x01, 0x02, 0x00, 0x01)]), unread([bytes(0x01, 0x02, 0x00, 0x00)]))),
      {
        extensions: listed([BASIC_CONSTRAINTS, true], [UNREAD, false], [UNREAD, true], [UNREAD, true], [UNREAD, false]),
        duplicateExtensions: [UNREAD],
        extendedKeyUsage: undefined,
      },
    ],
    [
      'extension OIDs under each of the three roots',
      certificate(extensionsOf(sequence(oid('0.9.2342.19200300.100.1.1'), tlv(0x04, NULL)), sequence(oid('1.2.3'), tlv(0x04, NULL)), sequence(oid('2.999.7'), tlv(0x04, NULL)), sequence(oid('2.5.4'), tlv(0x04, NULL)))),
      { extensions: listed(['0.9.2342.19200300.100.1.1', false], ['1.2.3', false], ['2.999.7', false], ['2.5.4', false]), basicConstraints: undefined, extendedKeyUsage: undefined },
    ],
    [
      'an extension OID whose first arcs are 0.39, 1.0, 1.39 and 2.0',
      certificate(extensionsOf(...['0.39.1', '1.0.1', '1.39.1', '2.0.1'].map((id) => sequence(oid(id), tlv(0x04, NULL))))),
      { extensions: listed(['0.39.1', false], ['1.0.1', false], ['1.39.1', false], ['2.0.1', false]), basicConstraints: undefined, extendedKeyUsage: undefined },
    ],
    [
      'basicConstraints twice, the second malformed',
      certificate(extensionsOf(PLAIN_BASIC_CONSTRAINTS, extension(BASIC_CONSTRAINTS, true, bytes(0x31, 0x00)))),
      { extensions: listed([BASIC_CONSTRAINTS, true], [BASIC_CONSTRAINTS, true]), duplicateExtensions: [BASIC_CONSTRAINTS], malformedExtensions: [BASIC_CONSTRAINTS], extendedKeyUsage: undefined },
    ],
  ] as Array<[string, Buffer, Partial<CertificateProfile>]>)('reads a certificate with %s', (_name, der, changes) => {
    const profile = readCertificateProfile(der);
    expect(profile).toEqual({ ...BASE_PROFILE, ...changes });
  });

  // Columns: the case, the certificate's bytes (refused: it is not a certificate, whatever a looser reader makes of it).
  it.each([
    ['a byte after the certificate', Buffer.concat([certificate(), bytes(0x00)])],
    ['a second certificate after the first', Buffer.concat([certificate(), certificate()])],
    ['the last byte cut off', certificate().subarray(0, -1)],
    ['only the first byte', bytes(0x30)],
    ['nothing at all', bytes()],
    ['a SET around it', set(tbsOf(BASE), BASE.outerAlgorithm, BASE.signature)],
    ['no signature', sequence(tbsOf(BASE), BASE.outerAlgorithm)],
    ['a fourth part', sequence(tbsOf(BASE), BASE.outerAlgorithm, BASE.signature, NULL)],
    ['an OCTET STRING for the signature', sequence(tbsOf(BASE), BASE.outerAlgorithm, tlv(0x04, bytes(0)))],
    // the last element of the certificate, and of the input, cut inside its header
    ['a signature of its tag alone', sequence(tbsOf(BASE), BASE.outerAlgorithm, bytes(0x03))],
    ['a signature of its tag and the first octet of a long-form length', sequence(tbsOf(BASE), BASE.outerAlgorithm, bytes(0x03, 0x81))],
    ['a signature of its tag and two of three long-form length octets', sequence(tbsOf(BASE), BASE.outerAlgorithm, bytes(0x03, 0x83, 0x00, 0x01))],
    ['a SET for the signed part', sequence(set(tlv(0xa0, integer(2))), BASE.outerAlgorithm, BASE.signature)],
    ['a SET for the signed part, holding every field of one', sequence(Buffer.concat([bytes(0x31), tbsOf(BASE).subarray(1)]), BASE.outerAlgorithm, BASE.signature)],
    ['an indefinite length around it', indefinite(0x30, tbsOf(BASE), BASE.outerAlgorithm, BASE.signature)],
    ['its length on five octets', Buffer.concat([bytes(0x30, 0x85, 0), Buffer.from(lengthOf(certificate()))])],
    ['a length on more octets than there are', bytes(0x30, 0x84, 0x00, 0x00)],
    ['an indefinite length around the subject', certificate({ subject: indefinite(0x30, set(attribute(COMMON_NAME, utf8('C02')))) })],
    ['a high tag number for the signed part', sequence(bytes(0x3f, 0x10, 0x00), BASE.outerAlgorithm, BASE.signature)],
    ['a stray byte at the end of the signed part', certificate({ optional: [...BASE.optional, bytes(0x05)] })],
    ['an OCTET STRING for the version', certificate({ version: [tlv(0xa0, tlv(0x04, bytes(2)))] })],
    ['an empty version INTEGER', certificate({ version: [tlv(0xa0, bytes(0x02, 0x00))] })],
    ['a version on five octets', certificate({ version: [tlv(0xa0, integer(0, 0, 0, 0, 2))] })],
    ['two versions', certificate({ version: [tlv(0xa0, integer(2), integer(2))] })],
    ['an empty version', certificate({ version: [tlv(0xa0)] })],
    ['a serial number that is not an INTEGER', certificate({ serial: tlv(0x04, bytes(1)) })],
    ['an inner signature algorithm that is a SET', certificate({ innerAlgorithm: set(oid(ECDSA_WITH_SHA256)) })],
    ['an issuer that is a SET', certificate({ issuer: set() })],
    ['a validity that is a SET', certificate({ validity: set() })],
    ['a subject that is a SET', certificate({ subject: set() })],
    ['a key that is a SET', certificate({ subjectPublicKeyInfo: set() })],
    ['no key', sequence(...BASE.version, BASE.serial, BASE.innerAlgorithm, BASE.issuer, BASE.validity, BASE.subject)],
    ['the subjectUniqueID before the issuerUniqueID', certificate({ optional: [tlv(0x82, bytes(0)), tlv(0x81, bytes(0))] })],
    ['the issuerUniqueID twice', certificate({ optional: [tlv(0x81, bytes(0)), tlv(0x81, bytes(0))] })],
    ['the extensions before the issuerUniqueID', certificate({ optional: [...BASE.optional, tlv(0x81, bytes(0))] })],
    ['a field tagged [4] after the extensions', certificate({ optional: [...BASE.optional, tlv(0xa4, NULL)] })],
    ['a second version after the key', certificate({ optional: [tlv(0xa0, integer(2)), ...BASE.optional] })],
    ['the extensions as a primitive [3]', certificate({ optional: [tlv(0x83, sequence(PLAIN_BASIC_CONSTRAINTS))] })],
    ['two extension lists in [3]', certificate({ optional: [tlv(0xa3, sequence(PLAIN_BASIC_CONSTRAINTS), sequence(PLAIN_EXT_KEY_USAGE))] })],
    ['a SET of extensions', certificate({ optional: [tlv(0xa3, set(PLAIN_BASIC_CONSTRAINTS))] })],
    ['an empty [3]', certificate({ optional: [tlv(0xa3)] })],
    ['an extension that is a SET', certificate({ optional: [plainExtensions(set(oid(UNREAD), tlv(0x04, NULL)))] })],
    ['an extension of its OID alone', certificate({ optional: [plainExtensions(sequence(oid(UNREAD)))] })],
    ['an extension of four parts', certificate({ optional: [plainExtensions(sequence(oid(UNREAD), TRUE, tlv(0x04, NULL), tlv(0x04, NULL)))] })],
    ['an extension whose id is a UTF8String', certificate({ optional: [plainExtensions(sequence(utf8(UNREAD), tlv(0x04, NULL)))] })],
    ['an extension whose value is a SEQUENCE', certificate({ optional: [plainExtensions(sequence(oid(UNREAD), sequence()))] })],
    ['an extension whose critical flag is an INTEGER', certificate({ optional: [plainExtensions(sequence(oid(UNREAD), integer(1), tlv(0x04, NULL)))] })],
    ['an extension whose critical flag is empty', certificate({ optional: [plainExtensions(unread([bytes(0x01, 0x00)]))] })],
    ['an extension id that is empty', certificate({ optional: [plainExtensions(sequence(bytes(0x06, 0x00), tlv(0x04, NULL)))] })],
    ['an extension id whose last octet says more follows', certificate({ optional: [plainExtensions(sequence(tlv(0x06, bytes(0x2b, 0x86)), tlv(0x04, NULL)))] })],
  ] as Array<[string, Buffer]>)('refuses a certificate with %s', (_name, der) => {
    expect(() => readCertificateProfile(der)).toThrow();
  });
});

/** The content octets and length of `der`'s outer element, written as a 4-octet length then the contents. */
function lengthOf(der: Buffer): Buffer {
  const headerLength = der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2;
  const contents = der.subarray(headerLength);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(contents.length);
  return Buffer.concat([length, contents]);
}

describe('the walk against the library on certificates changed one octet at a time', () => {
  // Certificates whose every part the walk reads, or declines, somewhere: plain names and odd ones, NULL, OID and
  // SEQUENCE parameters, basicConstraints with a pathLenConstraint, two purposes.
  const CORPUS = [
    certificate(),
    certificate({
      version: [tlv(0xa0, integer(2))],
      issuer: nameOf(attribute(COMMON_NAME, bmp('Zürich CA')), attribute(EMAIL_ADDRESS, ia5('ca@example.com'))),
      subject: sequence(set(attribute(COMMON_NAME, utf8('Gerät')), attribute(EMAIL_ADDRESS, ia5('mac@example.com'))), set(attribute(ORGANIZATION, t61('Walk')))),
      innerAlgorithm: algorithm(SHA256_WITH_RSA, NULL),
      outerAlgorithm: algorithm(SHA256_WITH_RSA, NULL),
      subjectPublicKeyInfo: sequence(algorithm('1.2.840.113549.1.1.1', NULL), tlv(0x03, bytes(0), sequence(integer(0x00, 0xc1), integer(1, 0, 1)))),
      optional: [plainExtensions(extension(BASIC_CONSTRAINTS, true, bytes(0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x01)), extension(EXT_KEY_USAGE, true, sequence(oid(SERVER_AUTH), oid(CLIENT_AUTH))))],
    }),
    certificate({
      innerAlgorithm: algorithm('1.2.840.113549.1.1.10', PSS_PARAMETERS),
      outerAlgorithm: algorithm('1.2.840.113549.1.1.10', PSS_PARAMETERS),
      subjectPublicKeyInfo: sequence(algorithm(EC_PUBLIC_KEY, sequence(integer(1))), tlv(0x03, bytes(0), EC_POINT)),
    }),
  ];
  /** Extensions the reference does not decode: a change that makes one of them appears is left out. */
  const UNDECODED_BY_REFERENCE = new Set(['2.5.29.15', '2.5.29.17', '2.5.29.30']);

  it('reads every changed certificate the library reads exactly as the library does (seeded, deterministic)', () => {
    let compared = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: CORPUS.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (which, at, octet) => {
        const der = Buffer.from(CORPUS[which]);
        der[at % der.length] = octet;
        let walked: CertificateProfile;
        let library: CertificateProfile;
        try {
          walked = readCertificateProfile(der);
          library = libraryProfile(der);
        } catch {
          return;
        }
        if (walked.extensions.some(({ oid: id }) => UNDECODED_BY_REFERENCE.has(id))) return;
        compared += 1;
        expect(walked).toEqual(library);
      }),
      { seed: 19, numRuns: 400 },
    );
    // most changes leave a certificate both read: the comparison is not vacuous
    expect(compared).toBeGreaterThan(200);
    // a minute: the mutation run's instrumented code reads each certificate about ten times slower
  }, 60_000);
});

const SUBJECT_ALT_NAME = '2.5.29.17';
const NAME_CONSTRAINTS = '2.5.29.30';
const EDI_PARTY_NAME = tlv(0xa5, tlv(0xa1, utf8('Walk Party')));
const X400_ADDRESS = tlv(0xa3, sequence(sequence(set(printable('US')))));

describe('every form of GeneralName, in a subjectAltName and in name constraints', () => {
  const withSubjectAltName = (...names: Uint8Array[]) =>
    certificate({ optional: [plainExtensions(PLAIN_BASIC_CONSTRAINTS, PLAIN_EXT_KEY_USAGE, extension(SUBJECT_ALT_NAME, false, sequence(...names)))] });
  const sanListed = [...BASE_PROFILE.extensions, { oid: SUBJECT_ALT_NAME, critical: false }];

  // Columns: the form, its encoding (RFC 5280 §4.2.1.6, tagged as the library reads it), the name as the profile has it.
  it.each([
    ['otherName', tlv(0xa0, oid('1.3.6.1.4.1.311.20.2.3'), tlv(0xa0, utf8('mac@example.com'))), { form: 'otherName' }],
    ['rfc822Name', tlv(0x81, Buffer.from('mac@example.com')), { form: 'rfc822Name', value: 'mac@example.com' }],
    ['dNSName', tlv(0x82, Buffer.from('mac.example.com')), { form: 'dNSName', value: 'mac.example.com' }],
    ['directoryName', tlv(0xa4, nameOf(attribute(COMMON_NAME, bmp('Zürich')))), { form: 'directoryName', name: [cn('zürich', 'Zürich')] }],
    ['uniformResourceIdentifier', tlv(0x86, Buffer.from('https://mac.example.com/')), { form: 'uniformResourceIdentifier' }],
    ['iPAddress', tlv(0x87, bytes(192, 0, 2, 1)), { form: 'iPAddress', bytes: bytes(192, 0, 2, 1) }],
    ['registeredID', tlv(0x88, oidContents('1.3.6.1.4.1.55738.1')), { form: 'registeredID' }],
  ] as Array<[string, Buffer, unknown]>)('a subjectAltName of one %s', (_form, name, read) => {
    expect(readCertificateProfile(withSubjectAltName(name))).toEqual({ ...BASE_PROFILE, extensions: sanListed, subjectAltNames: { critical: false, names: [read] } });
  });

  // Columns: the case, the subjectAltName's value (each listed as malformed). The library reads no encoding of an
  // x400Address or an ediPartyName (the ORAddress and the implicitly tagged DirectoryString are beyond it): a
  // certificate naming itself by one is refused as unreadable, never judged by a guess at the name.
  it.each([
    ['no name at all', sequence()],
    ['a GeneralName tagged [9], which is no form', sequence(tlv(0x89, bytes(1)))],
    ['an x400Address', sequence(X400_ADDRESS)],
    ['an x400Address after a dNSName', sequence(tlv(0x82, Buffer.from('mac.example.com')), X400_ADDRESS)],
    ['an ediPartyName', sequence(EDI_PARTY_NAME)],
    ['an ediPartyName after a dNSName', sequence(tlv(0x82, Buffer.from('mac.example.com')), EDI_PARTY_NAME)],
  ])('lists as malformed a subjectAltName of %s', (_name, value) => {
    const der = certificate({ optional: [plainExtensions(PLAIN_BASIC_CONSTRAINTS, PLAIN_EXT_KEY_USAGE, extension(SUBJECT_ALT_NAME, false, value))] });
    expect(readCertificateProfile(der)).toEqual({ ...BASE_PROFILE, extensions: sanListed, malformedExtensions: [SUBJECT_ALT_NAME] });
  });

  const subtree = (base: Uint8Array, ...bounds: Uint8Array[]) => sequence(base, ...bounds);
  const withNameConstraints = (value: Uint8Array) =>
    certificate({ optional: [plainExtensions(PLAIN_BASIC_CONSTRAINTS, PLAIN_EXT_KEY_USAGE, extension(NAME_CONSTRAINTS, true, value))] });
  const DNS_SUBTREE = tlv(0x82, Buffer.from('example.com'));
  const NEITHER = 'it names neither permitted nor excluded subtrees';
  const BOUNDED = 'a subtree has a minimum other than 0 or a maximum, which RFC 5280 forbids';
  // Columns: the case, the nameConstraints value, the permitted and excluded names read, the structure problem.
  it.each([
    ['a dNSName permitted with minimum 0 written out', sequence(tlv(0xa0, subtree(DNS_SUBTREE, tlv(0x80, bytes(0))))), [{ form: 'dNSName', value: 'example.com' }], [], undefined],
    ['a dNSName permitted with minimum 1', sequence(tlv(0xa0, subtree(DNS_SUBTREE, tlv(0x80, bytes(1))))), [{ form: 'dNSName', value: 'example.com' }], [], BOUNDED],
    ['a dNSName excluded with maximum 0', sequence(tlv(0xa1, subtree(DNS_SUBTREE, tlv(0x81, bytes(0))))), [], [{ form: 'dNSName', value: 'example.com' }], BOUNDED],
    // an address and its mask as written, a mask with holes too (which the rules refuse; read as text it would be lost)
    [
      'an iPAddress permitted and one excluded',
      sequence(
        tlv(0xa0, subtree(tlv(0x87, bytes(192, 0, 2, 0, 255, 255, 255, 0)))),
        tlv(0xa1, subtree(tlv(0x87, bytes(192, 0, 2, 8, 255, 0, 255, 0)))),
      ),
      [{ form: 'iPAddress', bytes: bytes(192, 0, 2, 0, 255, 255, 255, 0) }],
      [{ form: 'iPAddress', bytes: bytes(192, 0, 2, 8, 255, 0, 255, 0) }],
      undefined,
    ],
    ['a second, bounded, excluded subtree', sequence(tlv(0xa1, subtree(DNS_SUBTREE), subtree(DNS_SUBTREE, tlv(0x81, bytes(2))))), [], [{ form: 'dNSName', value: 'example.com' }, { form: 'dNSName', value: 'example.com' }], BOUNDED],
    ['no subtrees', sequence(), [], [], NEITHER],
    ['an empty permitted list', sequence(tlv(0xa0)), [], [], NEITHER],
    ['an empty permitted and an empty excluded list', sequence(tlv(0xa0), tlv(0xa1)), [], [], NEITHER],
  ] as Array<[string, Buffer, unknown[], unknown[], string | undefined]>)('name constraints with %s', (_name, value, permitted, excluded, structureProblem) => {
    expect(readCertificateProfile(withNameConstraints(value))).toEqual({
      ...BASE_PROFILE,
      extensions: [...BASE_PROFILE.extensions, { oid: NAME_CONSTRAINTS, critical: true }],
      nameConstraints: { critical: true, permitted, excluded, structureProblem },
    });
  });

  // Columns: the case, the nameConstraints value (each listed as malformed: the rules refuse such a CA).
  it.each([
    ['an x400Address permitted', sequence(tlv(0xa0, subtree(X400_ADDRESS)))],
    ['an ediPartyName excluded', sequence(tlv(0xa1, subtree(EDI_PARTY_NAME)))],
    ['a subtree with no base', sequence(tlv(0xa0, sequence()))],
  ])('lists as malformed name constraints with %s', (_name, value) => {
    expect(readCertificateProfile(withNameConstraints(value))).toEqual({
      ...BASE_PROFILE,
      extensions: [...BASE_PROFILE.extensions, { oid: NAME_CONSTRAINTS, critical: true }],
      malformedExtensions: [NAME_CONSTRAINTS],
    });
  });
});
