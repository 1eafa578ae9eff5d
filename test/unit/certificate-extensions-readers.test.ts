// Unit tests: which reader reads a certificate's extensions, and the schemas the ASN.1 library reads with.
//
// readCertificateProfile reads basicConstraints, extKeyUsage and the key's named curve with a DER walk when they are
// written in their plain DER forms (nearly every certificate) and leaves anything else to @peculiar/asn1-x509, which
// costs far more on the check-in path. The profile is the same either way (certificate-der-walk.test.ts holds it to
// the library's reading), so what these tests observe is the reader: the library's parser is the very module object
// certificate-extensions.ts loads with `require`, and a spy on it says whether it was asked.
//
// defineExactSchemas declares the schemas the library reads iPAddress names, name constraints, named curves and
// ECDSA signatures with. readCertificateProfile defines them once per process, so they are tested here defined fresh.

import { createRequire } from 'node:module';
import type * as Asn1SchemaModule from '@peculiar/asn1-schema';
import type * as Asn1X509Module from '@peculiar/asn1-x509';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { defineExactSchemas, readCertificateProfile, type CertificateProfile } from '../../lib/domain/certificate-extensions.ts';
import { bytes, oid, sequence, set, tlv } from '../support/der.ts';

const requireModule = createRequire(import.meta.url);
const schema = requireModule('@peculiar/asn1-schema') as typeof Asn1SchemaModule;
const x509 = requireModule('@peculiar/asn1-x509') as typeof Asn1X509Module;

const COMMON_NAME = '2.5.4.3';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const P256 = '1.2.840.10045.3.1.7';
const P384 = '1.3.132.0.34';
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const BASIC_CONSTRAINTS = '2.5.29.19';
const EXT_KEY_USAGE = '2.5.29.37';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

const TRUE = bytes(0x01, 0x01, 0xff);
const integer = (...octets: number[]) => tlv(0x02, Buffer.from(octets));
/** The same element with its length on one long-form octet (BER allows it, DER does not). */
const longForm = (tag: number, ...contents: Uint8Array[]) => {
  const body = Buffer.concat(contents);
  return Buffer.concat([bytes(tag, 0x81, body.length), body]);
};
const extension = (id: string, critical: boolean, value: Uint8Array) => sequence(oid(id), ...(critical ? [TRUE] : []), tlv(0x04, value));
const nameOf = (text: string) => sequence(set(sequence(oid(COMMON_NAME), tlv(0x0c, Buffer.from(text)))));
const EC_POINT = tlv(0x03, bytes(0), bytes(0x04), Buffer.alloc(64, 0x11));

/**
 * A version 3 device certificate written byte by byte, unsigned (nothing here checks a signature): plain names and
 * algorithms, an EC key on `curve` (the parameters as written), and the given extensions.
 */
const certificate = ({ curve = oid(P256), extensions = [] as Uint8Array[], keyInfo = undefined as Uint8Array | undefined } = {}) =>
  sequence(
    sequence(
      tlv(0xa0, integer(2)),
      integer(0x01, 0x23),
      sequence(oid(ECDSA_WITH_SHA256)),
      nameOf('Readers Device CA'),
      sequence(tlv(0x17, Buffer.from('260101000000Z')), tlv(0x17, Buffer.from('360101000000Z'))),
      nameOf('C02READER001'),
      keyInfo ?? sequence(sequence(oid(EC_PUBLIC_KEY), curve), EC_POINT),
      ...(extensions.length > 0 ? [tlv(0xa3, sequence(...extensions))] : []),
    ),
    sequence(oid(ECDSA_WITH_SHA256)),
    tlv(0x03, bytes(0), sequence(integer(0x01), integer(0x02))),
  );

let parse: MockInstance<typeof schema.AsnParser.parse>;
beforeEach(() => {
  parse = vi.spyOn(schema.AsnParser, 'parse');
});
afterEach(() => {
  parse.mockRestore();
});
/** The schemas the ASN.1 library was asked to read with, by name, in order. */
const libraryReads = () => parse.mock.calls.map(([, type]) => (type as { name: string }).name);

describe('a plain certificate’s extensions are read without the ASN.1 library', () => {
  it('the spy sees the library certificate-extensions.ts loads (a certificate the walk declines is read by it)', () => {
    const profile = readCertificateProfile(certificate({ extensions: [extension(BASIC_CONSTRAINTS, true, longForm(0x30, TRUE))] }));
    expect(profile.basicConstraints).toEqual({ critical: true, ca: true, pathLength: undefined });
    expect(libraryReads()).toEqual(['BasicConstraints']);
  });

  // Columns: the case, basicConstraints' value (DER), the basicConstraints read.
  it.each<[string, Uint8Array, CertificateProfile['basicConstraints']]>([
    ['not a CA (an empty SEQUENCE)', sequence(), { critical: true, ca: false, pathLength: undefined }],
    ['CA:TRUE', sequence(TRUE), { critical: true, ca: true, pathLength: undefined }],
    // pathlen from 0 to 127 (one content octet); 128 takes two, which the walk leaves to the library (below).
    ...[0, 1, 2, 126, 127].map((pathLength): [string, Uint8Array, CertificateProfile['basicConstraints']] => [
      `CA:TRUE, pathlen:${pathLength}`,
      sequence(TRUE, integer(pathLength)),
      { critical: true, ca: true, pathLength },
    ]),
  ])('basicConstraints %s is read by the walk', (_case, value, basicConstraints) => {
    const profile = readCertificateProfile(certificate({ extensions: [extension(BASIC_CONSTRAINTS, true, value)] }));
    expect(profile.basicConstraints).toEqual(basicConstraints);
    expect(profile.malformedExtensions).toEqual([]);
    expect(libraryReads()).toEqual([]);
  });

  // Columns: the case, the purposes.
  it.each([
    ['clientAuth', [CLIENT_AUTH]],
    ['serverAuth', [SERVER_AUTH]],
    ['codeSigning', [CODE_SIGNING]],
    ['emailProtection', [EMAIL_PROTECTION]],
    ['OCSPSigning', [OCSP_SIGNING]],
    ['serverAuth and clientAuth', [SERVER_AUTH, CLIENT_AUTH]],
    ['a private purpose', ['1.3.6.1.4.1.311.10.3.4']],
  ])('extKeyUsage %s is read by the walk', (_case, purposes) => {
    const profile = readCertificateProfile(certificate({ extensions: [extension(EXT_KEY_USAGE, false, sequence(...purposes.map(oid)))] }));
    expect(profile.extendedKeyUsage).toEqual({ critical: false, purposes });
    expect(profile.malformedExtensions).toEqual([]);
    expect(libraryReads()).toEqual([]);
  });

  it('an extKeyUsage naming no purpose is refused by the walk alone', () => {
    const profile = readCertificateProfile(certificate({ extensions: [extension(EXT_KEY_USAGE, false, sequence())] }));
    expect(profile.extendedKeyUsage).toBeUndefined();
    expect(profile.malformedExtensions).toEqual([EXT_KEY_USAGE]);
    expect(libraryReads()).toEqual([]);
  });

  it.each([
    ['P-256', P256],
    ['P-384', P384],
  ])('a key on the named curve %s is read by the walk', (_case, curve) => {
    const profile = readCertificateProfile(certificate({ curve: oid(curve) }));
    expect(profile.ecCurveIsNamed).toBe(true);
    expect(libraryReads()).toEqual([]);
  });

  it('a whole plain device certificate (CA:FALSE, clientAuth, P-256) is read without the library', () => {
    const profile = readCertificateProfile(
      certificate({ extensions: [extension(BASIC_CONSTRAINTS, true, sequence()), extension(EXT_KEY_USAGE, false, sequence(oid(CLIENT_AUTH)))] }),
    );
    expect(profile.basicConstraints).toEqual({ critical: true, ca: false, pathLength: undefined });
    expect(profile.extendedKeyUsage).toEqual({ critical: false, purposes: [CLIENT_AUTH] });
    expect(profile.ecCurveIsNamed).toBe(true);
    expect(libraryReads()).toEqual([]);
  });

  it('an identifier is read from its own octets: a key info whose last octets are the curve is still the walk’s', () => {
    // The key's bits left out (OpenSSL refuses such a certificate before any profile is read), so the extensions'
    // [3] tag, 0xa3, is the octet right after the curve's OBJECT IDENTIFIER.
    const profile = readCertificateProfile(
      certificate({ keyInfo: sequence(sequence(oid(EC_PUBLIC_KEY), oid(P256))), extensions: [extension(BASIC_CONSTRAINTS, true, sequence(TRUE))] }),
    );
    expect(profile.ecCurveIsNamed).toBe(true);
    expect(profile.basicConstraints).toEqual({ critical: true, ca: true, pathLength: undefined });
    expect(libraryReads()).toEqual([]);
  });
});

describe('an extension or key written otherwise is read by the ASN.1 library, to the same reading', () => {
  // Columns: the case, basicConstraints' value, the basicConstraints read.
  it.each([
    ['cA FALSE written out (DER leaves the default out)', sequence(bytes(0x01, 0x01, 0x00)), { critical: true, ca: false, pathLength: undefined }],
    ['a long-form length', longForm(0x30, TRUE), { critical: true, ca: true, pathLength: undefined }],
    ['pathlen:128 (two content octets)', sequence(TRUE, integer(0x00, 0x80)), { critical: true, ca: true, pathLength: 128 }],
    ['pathlen:5 with a leading zero octet', sequence(TRUE, integer(0x00, 0x05)), { critical: true, ca: true, pathLength: 5 }],
    ['CA:TRUE as 0x01 (BER: any octet but zero)', sequence(bytes(0x01, 0x01, 0x01)), { critical: true, ca: true, pathLength: undefined }],
    // Octets after the value are not DER; the library ignores them today, and this row holds only that the walk
    // leaves such a value to it. Listing them as malformed instead would be a tightening this row would follow.
    ['a NULL after the empty SEQUENCE (ignored by the library)', Buffer.concat([sequence(), bytes(0x05, 0x00)]), { critical: true, ca: false, pathLength: undefined }],
  ])('basicConstraints with %s', (_case, value, basicConstraints) => {
    const profile = readCertificateProfile(certificate({ extensions: [extension(BASIC_CONSTRAINTS, true, value)] }));
    expect(profile.basicConstraints).toEqual(basicConstraints);
    expect(libraryReads()).toEqual(['BasicConstraints']);
  });

  // Columns: the case, extKeyUsage's value, the extKeyUsage read, the extensions listed as malformed.
  it.each([
    ['a purpose with a non-minimal arc', sequence(tlv(0x06, bytes(0x2b, 0x80, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02))), { critical: false, purposes: [CLIENT_AUTH] }, []],
    ['a purpose with an 8-octet arc', sequence(oid(`1.3.6.1.4.1.${2 ** 49}`)), { critical: false, purposes: [`1.3.6.1.4.1.${2 ** 49}`] }, []],
    // As for basicConstraints above: the library's leniency today, left to it by the walk.
    ['a NULL after the SEQUENCE (ignored by the library)', Buffer.concat([sequence(oid(CLIENT_AUTH)), bytes(0x05, 0x00)]), { critical: false, purposes: [CLIENT_AUTH] }, []],
    ['a purpose that is a UTF8String, not an OBJECT IDENTIFIER', sequence(tlv(0x0c, Buffer.from('clientAuth'))), undefined, [EXT_KEY_USAGE]],
  ])('extKeyUsage with %s', (_case, value, extendedKeyUsage, malformedExtensions) => {
    const profile = readCertificateProfile(certificate({ extensions: [extension(EXT_KEY_USAGE, false, value)] }));
    expect(profile.extendedKeyUsage).toEqual(extendedKeyUsage);
    expect(profile.malformedExtensions).toEqual(malformedExtensions);
    expect(libraryReads()).toEqual(['ExtendedKeyUsage']);
  });

  // Columns: the case, the key's parameters, whether the curve is named.
  it.each([
    ['P-256 with a non-minimal arc', tlv(0x06, bytes(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x80, 0x01, 0x07)), true],
    ['explicit curve parameters', sequence(integer(1), sequence(oid('1.2.840.10045.1.1'), integer(0x00, 0xff))), false],
  ])('a key with %s', (_case, curve, named) => {
    const profile = readCertificateProfile(certificate({ curve }));
    expect(profile.ecCurveIsNamed).toBe(named);
    expect(libraryReads()).toContain('NamedCurve');
  });
});

// ---- the schemas, defined fresh ----

const octetsOf = (value: unknown) => (value instanceof ArrayBuffer ? [...new Uint8Array(value)] : value);
/** A GeneralName read with the exact schemas: its form and its value, an iPAddress as its octets. */
const nameRead = (name: InstanceType<typeof Asn1X509Module.GeneralName>) =>
  name.iPAddress !== undefined ? { iPAddress: octetsOf(name.iPAddress) } : name.dNSName !== undefined ? { dNSName: name.dNSName } : { other: name };
const ipAddress = (...octets: number[]) => tlv(0x87, Buffer.from(octets));
const dnsName = (text: string) => tlv(0x82, Buffer.from(text));
const subtree = (base: Uint8Array) => sequence(base);

describe('the exact schemas: iPAddress as its octets, name constraints, named curves, ECDSA signatures', () => {
  const freshSchemas = () => defineExactSchemas(x509, schema);
  const range = (length: number) => Array.from({ length }, (_, i) => (i * 37 + 1) % 256);

  // Columns: the case, the iPAddress octets (any length: a bad one must stay visible to the rules, not be dropped).
  it.each([
    ['an IPv4 address', [192, 0, 2, 1]],
    ['an IPv6 address', range(16)],
    ['an IPv4 range, address and mask', [192, 0, 2, 0, 255, 255, 255, 0]],
    ['an IPv6 range, address and mask', range(32)],
    ['five octets', [10, 0, 0, 1, 7]],
    ['seventeen octets', range(17)],
    ['no octet', []],
  ])('subjectAltName with %s reads the octets as written', (_case, octets) => {
    const names = schema.AsnParser.parse(sequence(dnsName('mac.example.com'), ipAddress(...octets)), freshSchemas().GeneralNames);
    expect([...names].map(nameRead)).toEqual([{ dNSName: 'mac.example.com' }, { iPAddress: octets }]);
  });

  const constraintsRead = (value: Uint8Array) => {
    const read = schema.AsnParser.parse(value, freshSchemas().NameConstraints);
    return {
      permitted: read.permittedSubtrees && [...read.permittedSubtrees].map((one) => ({ base: nameRead(one.base), minimum: one.minimum, maximum: one.maximum })),
      excluded: read.excludedSubtrees && [...read.excludedSubtrees].map((one) => ({ base: nameRead(one.base), minimum: one.minimum, maximum: one.maximum })),
    };
  };
  const PERMITTED_RANGE = [192, 0, 2, 0, 255, 255, 255, 0];
  const EXCLUDED_RANGE = [192, 0, 2, 8, 255, 0, 255, 0];

  // Columns: the case, the nameConstraints value, the permitted and excluded subtrees read.
  it.each([
    [
      'an iPAddress range permitted and one excluded',
      sequence(tlv(0xa0, subtree(ipAddress(...PERMITTED_RANGE))), tlv(0xa1, subtree(ipAddress(...EXCLUDED_RANGE)))),
      [{ base: { iPAddress: PERMITTED_RANGE }, minimum: 0, maximum: undefined }],
      [{ base: { iPAddress: EXCLUDED_RANGE }, minimum: 0, maximum: undefined }],
    ],
    [
      'permitted subtrees only',
      sequence(tlv(0xa0, subtree(dnsName('example.com')), subtree(ipAddress(...range(32))))),
      [
        { base: { dNSName: 'example.com' }, minimum: 0, maximum: undefined },
        { base: { iPAddress: range(32) }, minimum: 0, maximum: undefined },
      ],
      undefined,
    ],
    [
      'excluded subtrees only, an odd-length iPAddress among them',
      sequence(tlv(0xa1, subtree(ipAddress(10, 0, 0, 0, 255)))),
      undefined,
      [{ base: { iPAddress: [10, 0, 0, 0, 255] }, minimum: 0, maximum: undefined }],
    ],
    [
      'a minimum and a maximum (RFC 5280 forbids them; the rules must see them)',
      sequence(tlv(0xa0, sequence(dnsName('example.com'), tlv(0x80, bytes(1)), tlv(0x81, bytes(2))))),
      [{ base: { dNSName: 'example.com' }, minimum: 1, maximum: 2 }],
      undefined,
    ],
  ])('nameConstraints with %s', (_case, value, permitted, excluded) => {
    expect(constraintsRead(value)).toEqual({ permitted, excluded });
  });

  it('nameConstraints whose subtrees are wrapped in a SEQUENCE inside the [0] tag (an EXPLICIT tag) are refused', () => {
    expect(() => constraintsRead(sequence(tlv(0xa0, sequence(subtree(dnsName('example.com'))))))).toThrow(/does not match to \w+ ASN1 schema/);
  });

  it.each([
    ['P-256', P256],
    ['P-384', P384],
  ])('ECParameters naming %s read as its OID', (_case, curve) => {
    expect(schema.AsnParser.parse(oid(curve), freshSchemas().NamedCurve).namedCurve).toBe(curve);
  });

  it('ECParameters with explicit curve parameters are refused', () => {
    const explicit = sequence(integer(1), sequence(oid('1.2.840.10045.1.1'), integer(0x00, 0xff)));
    expect(() => schema.AsnParser.parse(explicit, freshSchemas().NamedCurve)).toThrow(/does not match to \w+ ASN1 schema/);
  });

  // Columns: the case, r's and s's content octets.
  it.each([
    ['small r and s', [0x01], [0x02]],
    ['r with its leading zero (high bit set), s without', [0x00, 0x80, 0x01], [0x7f, 0xff]],
    ['32-octet r and s', range(32).map((octet) => octet & 0x7f), range(32).map((octet) => (octet + 5) & 0x7f)],
  ])('an ECDSA-Sig-Value with %s reads r and s as their content octets, and writes them back alike', (_case, r, s) => {
    const { EcdsaSignature } = freshSchemas();
    const encoded = sequence(integer(...r), integer(...s));
    const read = schema.AsnParser.parse(encoded, EcdsaSignature);
    expect({ r: octetsOf(read.r), s: octetsOf(read.s) }).toEqual({ r, s });
    expect(Buffer.from(schema.AsnSerializer.serialize(read))).toEqual(encoded);
  });
});
