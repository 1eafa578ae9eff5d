// What Node's X509Certificate does not expose, read from the DER with @peculiar/asn1-x509 (loaded on first use).
//
// Only the extensions path validation acts on are decoded (basicConstraints, keyUsage, extKeyUsage, subjectAltName,
// nameConstraints); every other extension is listed with its OID and criticality and left undecoded. A value that
// does not decode is listed in `malformedExtensions` rather than thrown, so that callers can say which rule failed.

import { createRequire as createModuleRequire } from 'node:module';
import type * as Asn1SchemaModule from '@peculiar/asn1-schema';
import type * as Asn1X509Module from '@peculiar/asn1-x509';

export const EXTENSION = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  policyConstraints: '2.5.29.36',
  authorityKeyIdentifier: '2.5.29.35',
  subjectKeyIdentifier: '2.5.29.14',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
} as const;

const EMAIL_ADDRESS_ATTRIBUTE = '1.2.840.113549.1.9.1';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';

/** One attribute of a relative distinguished name, in the form names are compared in (RFC 5280 §7.1). */
export interface NameAttribute {
  type: string;
  /**
   * String values (the DirectoryString choices, IA5String) with insignificant spaces removed, runs of spaces
   * collapsed and case folded; other values as `#` + hex of their encoding, compared exactly.
   */
  value: string;
  /** The value as written, for email addresses in the subject (emailAddress attribute). */
  text?: string;
}

/** RDNSequence: each RDN a set of attributes, outermost (country, organisation) first. */
export type DistinguishedName = NameAttribute[][];

/** A GeneralName (RFC 5280 §4.2.1.6) by its form; the forms name constraints are not implemented for carry no value. */
export type GeneralNameValue =
  | { form: 'dNSName'; value: string }
  | { form: 'rfc822Name'; value: string }
  | { form: 'iPAddress'; bytes: Buffer }
  | { form: 'directoryName'; name: DistinguishedName }
  | { form: 'uniformResourceIdentifier' | 'otherName' | 'x400Address' | 'ediPartyName' | 'registeredID' };

export type NameForm = GeneralNameValue['form'];

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'crlSign'
  | 'encipherOnly'
  | 'decipherOnly';

export interface CertificateProfile {
  /** 1, 2 or 3 (the encoded value plus one). */
  version: number;
  /** Every extension in certificate order. */
  extensions: Array<{ oid: string; critical: boolean }>;
  /** OIDs that occur more than once (RFC 5280 §4.2 forbids it; which instance counts would be a guess). */
  duplicateExtensions: string[];
  /** OIDs of decoded extensions whose value is not valid for its type. */
  malformedExtensions: string[];
  basicConstraints?: { critical: boolean; ca: boolean; pathLength?: number };
  keyUsage?: { critical: boolean; usages: ReadonlySet<KeyUsageName> };
  extendedKeyUsage?: { critical: boolean; purposes: string[] };
  subjectAltNames?: { critical: boolean; names: GeneralNameValue[] };
  nameConstraints?: {
    critical: boolean;
    permitted: GeneralNameValue[];
    excluded: GeneralNameValue[];
    /** Why the subtrees cannot be applied as written (a minimum other than 0, a maximum, no subtree at all). */
    structureProblem?: string;
  };
  subject: DistinguishedName;
  issuer: DistinguishedName;
  /** Email addresses in the subject's emailAddress attributes (name constraints on rfc822Name apply to them). */
  subjectEmailAddresses: string[];
  /** The signature algorithm inside the signed part equals the one outside it (RFC 5280 §4.1.1.2). */
  signatureAlgorithmsMatch: boolean;
  /**
   * For an EC key, whether its curve is named by OID (RFC 5480); false for explicit curve parameters, which Node
   * reports as the named curve they happen to equal. Undefined for other keys.
   */
  ecCurveIsNamed?: boolean;
}

/**
 * Reads the profile of a DER certificate. Throws when the bytes are not an X.509 certificate at all; a certificate
 * whose extensions are wrong is returned with them listed in `duplicateExtensions` / `malformedExtensions`.
 * Over 60 lines on purpose: one pass over the extensions with one short case per extension the path rules read,
 * so that the certificate is parsed once (the parse is the cost that matters on the check-in path).
 */
export function readCertificateProfile(der: Uint8Array): CertificateProfile {
  const { x509, schema, exact } = loadAsn1();
  const tbs = readCertificateParts(der, x509, schema);
  const extensions = [...(tbs.extensions ?? [])];

  const seen = new Set<string>();
  const duplicateExtensions = new Set<string>();
  const malformedExtensions: string[] = [];
  const profile: CertificateProfile = {
    version: tbs.version + 1,
    extensions: extensions.map((extension) => ({ oid: extension.extnID, critical: extension.critical === true })),
    duplicateExtensions: [],
    malformedExtensions,
    subject: tbs.subject,
    issuer: tbs.issuer,
    subjectEmailAddresses: [],
    signatureAlgorithmsMatch: sameAlgorithm(tbs.signature, tbs.signatureAlgorithm),
    ecCurveIsNamed: isEcKey(tbs.publicKeyAlgorithm) ? hasNamedCurve(tbs.publicKeyAlgorithm, schema, exact) : undefined,
  };
  profile.subjectEmailAddresses = profile.subject
    .flat()
    .filter((attribute) => attribute.type === EMAIL_ADDRESS_ATTRIBUTE && attribute.text !== undefined)
    .map((attribute) => attribute.text as string);

  for (const extension of extensions) {
    const oid = extension.extnID;
    if (seen.has(oid)) duplicateExtensions.add(oid);
    seen.add(oid);
    const critical = extension.critical;
    const value = extension.value;
    try {
      switch (oid) {
        case EXTENSION.basicConstraints: {
          const decoded = readPlainBasicConstraints(value) ?? schema.AsnParser.parse(value, x509.BasicConstraints);
          const pathLength = decoded.pathLenConstraint;
          if (pathLength !== undefined && !(Number.isSafeInteger(pathLength) && pathLength >= 0)) throw new RangeError('pathLenConstraint');
          profile.basicConstraints = { critical, ca: decoded.cA === true, pathLength };
          break;
        }
        case EXTENSION.keyUsage: {
          const decoded = schema.AsnParser.parse(value, x509.KeyUsage);
          profile.keyUsage = { critical, usages: new Set(decoded.toJSON() as KeyUsageName[]) };
          break;
        }
        case EXTENSION.extendedKeyUsage: {
          const purposes = readPlainPurposes(value) ?? [...schema.AsnParser.parse(value, x509.ExtendedKeyUsage)];
          if (purposes.length === 0) throw new RangeError('an extended key usage extension must name a purpose');
          // The library turns a purpose that is not an OBJECT IDENTIFIER into '[object Object]' rather than refusing it.
          if (!purposes.every(isDottedObjectIdentifier)) throw new RangeError('an extended key usage purpose must be an OBJECT IDENTIFIER');
          profile.extendedKeyUsage = { critical, purposes };
          break;
        }
        case EXTENSION.subjectAltName: {
          const names = [...schema.AsnParser.parse(value, exact.GeneralNames)].map(toGeneralNameValue);
          if (names.length === 0) throw new RangeError('a subject alternative name extension must hold a name');
          profile.subjectAltNames = { critical, names };
          break;
        }
        case EXTENSION.nameConstraints: {
          const decoded = schema.AsnParser.parse(value, exact.NameConstraints);
          const permittedSubtrees = [...(decoded.permittedSubtrees ?? [])];
          const excludedSubtrees = [...(decoded.excludedSubtrees ?? [])];
          let structureProblem: string | undefined;
          if (permittedSubtrees.length === 0 && excludedSubtrees.length === 0) {
            structureProblem = 'it names neither permitted nor excluded subtrees';
          } else if ([...permittedSubtrees, ...excludedSubtrees].some((subtree) => Number(subtree.minimum ?? 0) !== 0 || subtree.maximum !== undefined)) {
            structureProblem = 'a subtree has a minimum other than 0 or a maximum, which RFC 5280 forbids';
          }
          profile.nameConstraints = {
            critical,
            permitted: permittedSubtrees.map((subtree) => toGeneralNameValue(subtree.base)),
            excluded: excludedSubtrees.map((subtree) => toGeneralNameValue(subtree.base)),
            structureProblem,
          };
          break;
        }
        default:
          break;
      }
    } catch {
      malformedExtensions.push(oid);
    }
  }
  profile.duplicateExtensions = [...duplicateExtensions];
  return profile;
}

// ---- the parts of a certificate the profile reads ----

/** One DER element: its tag, where its encoding starts, where its contents start, and where it ends. */
export interface DerElement {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

/** The DER elements one after another in der[start, end); throws when a header or a length runs past `end`. */
export function derElements(der: Uint8Array, start: number, end: number): DerElement[] {
  const elements: DerElement[] = [];
  let offset = start;
  while (offset < end) {
    if (offset + 2 > end || (der[offset] & 0x1f) === 0x1f) throw new RangeError('not a DER element');
    let length = der[offset + 1];
    let contentStart = offset + 2;
    if (length & 0x80) {
      const octets = length & 0x7f;
      if (octets === 0 || octets > 4 || contentStart + octets > end) throw new RangeError('not a DER length');
      length = 0;
      for (let i = 0; i < octets; i += 1) length = length * 256 + der[contentStart + i];
      contentStart += octets;
    }
    if (contentStart + length > end) throw new RangeError('a DER length runs past its container');
    elements.push({ tag: der[offset], start: offset, contentStart, end: contentStart + length });
    offset = contentStart + length;
  }
  return elements;
}

const SEQUENCE = 0x30;
const EXPLICIT_0 = 0xa0;
const EXPLICIT_3 = 0xa3;

/**
 * What the profile reads of a certificate, decoded alone: the version, the names, the three algorithm identifiers
 * and the extensions. The serial number, the validity, the key's bits and the signature (which Node has read
 * already) are only delimited: decoding the whole certificate cost more than everything else a new device's
 * check-in does. Throws, like a whole decode, when the structure is not a certificate's.
 */
function readCertificateParts(der: Uint8Array, x509: typeof Asn1X509Module, schema: typeof Asn1SchemaModule) {
  const [certificate, ...afterCertificate] = derElements(der, 0, der.length);
  if (certificate?.tag !== SEQUENCE || afterCertificate.length > 0) throw new RangeError('not a certificate');
  const [tbs, signatureAlgorithm, signatureValue, ...afterSignature] = derElements(der, certificate.contentStart, certificate.end);
  if (tbs?.tag !== SEQUENCE || signatureAlgorithm?.tag !== SEQUENCE || signatureValue?.tag !== 0x03 || afterSignature.length > 0) {
    throw new RangeError('not a certificate');
  }
  const fields = derElements(der, tbs.contentStart, tbs.end);
  const explicitVersion = fields[0]?.tag === EXPLICIT_0 ? fields.shift() : undefined;
  const [serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ...optional] = fields;
  const expected = [[serialNumber, 0x02], [signature, SEQUENCE], [issuer, SEQUENCE], [validity, SEQUENCE], [subject, SEQUENCE], [subjectPublicKeyInfo, SEQUENCE]] as const;
  if (expected.some(([element, tag]) => element?.tag !== tag)) throw new RangeError('not a TBSCertificate');
  // issuerUniqueID [1], subjectUniqueID [2], extensions [3], in this order, each at most once.
  const optionalTags = optional.map((element) => element.tag & 0x1f);
  if (optionalTags.some((tag, i) => tag < 1 || tag > 3 || (i > 0 && tag <= optionalTags[i - 1]))) throw new RangeError('not a TBSCertificate');
  const explicitExtensions = optional.find((element) => element.tag === EXPLICIT_3);
  if (optionalTags.includes(3) && !explicitExtensions) throw new RangeError('not a TBSCertificate');

  const decode = <T>(element: DerElement, type: new () => T): T => schema.AsnParser.parse(der.slice(element.start, element.end), type);
  // Names and algorithm identifiers are read by the walk when they hold only what the library reads the same way
  // (see readPlainName), which is nearly every real certificate; anything else is decoded by the library as before.
  const name = (element: DerElement) => readPlainName(der, element) ?? toDistinguishedName(decode(element, x509.Name));
  const algorithm = (element: DerElement) => readPlainAlgorithm(der, element) ?? decode(element, x509.AlgorithmIdentifier);
  let version = 0;
  if (explicitVersion) {
    const [integer, ...afterInteger] = derElements(der, explicitVersion.contentStart, explicitVersion.end);
    if (integer?.tag !== 0x02 || afterInteger.length > 0 || integer.end - integer.contentStart > 4 || integer.end === integer.contentStart) {
      throw new RangeError('not a version');
    }
    version = Buffer.from(der.subarray(integer.contentStart, integer.end)).readIntBE(0, integer.end - integer.contentStart);
  }
  let extensions: RawExtension[] | undefined;
  if (explicitExtensions) {
    const [sequence, ...afterSequence] = derElements(der, explicitExtensions.contentStart, explicitExtensions.end);
    if (sequence?.tag !== SEQUENCE || afterSequence.length > 0) throw new RangeError('not an Extensions');
    extensions = readExtensions(der, sequence);
  }
  return {
    version,
    signature: algorithm(signature),
    issuer: name(issuer),
    subject: name(subject),
    publicKeyAlgorithm: algorithm(derElements(der, subjectPublicKeyInfo.contentStart, subjectPublicKeyInfo.end)[0] ?? subjectPublicKeyInfo),
    extensions,
    signatureAlgorithm: algorithm(signatureAlgorithm),
  };
}

/** One extension as the certificate holds it: its OID, its criticality, and its value's DER, not yet decoded. */
export interface RawExtension {
  extnID: string;
  critical: boolean;
  value: Uint8Array;
}

const BOOLEAN = 0x01;
const OCTET_STRING = 0x04;
const OBJECT_IDENTIFIER = 0x06;

/**
 * Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }, each
 * delimited rather than decoded: only the values the profile reads are decoded, by the switch above.
 */
export function readExtensions(der: Uint8Array, sequence: DerElement): RawExtension[] {
  return derElements(der, sequence.contentStart, sequence.end).map((extension) => {
    if (extension.tag !== SEQUENCE) throw new RangeError('not an Extension');
    const parts = derElements(der, extension.contentStart, extension.end);
    const [id, flag, value] = parts.length === 2 ? [parts[0], undefined, parts[1]] : parts;
    if (parts.length < 2 || parts.length > 3 || id.tag !== OBJECT_IDENTIFIER || value?.tag !== OCTET_STRING) throw new RangeError('not an Extension');
    if (flag && (flag.tag !== BOOLEAN || flag.end === flag.contentStart)) throw new RangeError('not an Extension');
    return {
      extnID: objectIdentifier(der.subarray(id.contentStart, id.end)),
      // BER's reading, as the library's: true when any octet is set.
      critical: flag !== undefined && der.subarray(flag.contentStart, flag.end).some((octet) => octet !== 0),
      value: der.slice(value.contentStart, value.end),
    };
  });
}

const SET = 0x31;
const NULL = 0x05;
/** UTF8String, PrintableString, IA5String: for octets below 0x80 the library's decoders all give the same text. */
const PLAIN_STRING_TAGS = new Set([0x0c, 0x13, 0x16]);

/**
 * A Name read by the walk, or undefined when it holds anything the library might read differently: only RDNs of one
 * or more attributes, each an OBJECT IDENTIFIER of minimally encoded arcs and a UTF8String, PrintableString or
 * IA5String of octets below 0x80 (the same text under every decoder). The result equals the library's reading.
 */
export function readPlainName(der: Uint8Array, name: DerElement): DistinguishedName | undefined {
  if (name.tag !== SEQUENCE) return undefined;
  try {
    const rdns: DistinguishedName = [];
    for (const rdn of derElements(der, name.contentStart, name.end)) {
      if (rdn.tag !== SET) return undefined;
      const attributes: NameAttribute[] = [];
      for (const attribute of derElements(der, rdn.contentStart, rdn.end)) {
        if (attribute.tag !== SEQUENCE) return undefined;
        const parts = derElements(der, attribute.contentStart, attribute.end);
        if (parts.length !== 2) return undefined;
        const [type, value] = parts;
        const oid = readPlainObjectIdentifier(der, type);
        if (oid === undefined || !PLAIN_STRING_TAGS.has(value.tag)) return undefined;
        let text = '';
        for (let i = value.contentStart; i < value.end; i += 1) {
          if (der[i] >= 0x80) return undefined;
          text += String.fromCharCode(der[i]);
        }
        attributes.push({ type: oid, value: foldForComparison(text), text });
      }
      if (attributes.length === 0) return undefined;
      rdns.push(attributes);
    }
    return rdns;
  } catch {
    return undefined;
  }
}

/** The fields of an AlgorithmIdentifier the profile compares; `parameters` as the library gives them (NULL → null). */
interface AlgorithmFields {
  algorithm: string;
  parameters?: ArrayBuffer | null;
}

/**
 * An AlgorithmIdentifier read by the walk when its parameters are absent, a NULL or an OBJECT IDENTIFIER (RSA, ECDSA
 * and EC keys: nearly every certificate); undefined otherwise, for the library to decode.
 */
function readPlainAlgorithm(der: Uint8Array, identifier: DerElement): AlgorithmFields | undefined {
  if (identifier.tag !== SEQUENCE) return undefined;
  try {
    const parts = derElements(der, identifier.contentStart, identifier.end);
    const algorithm = parts[0] && readPlainObjectIdentifier(der, parts[0]);
    if (algorithm === undefined || parts.length > 2) return undefined;
    const parameters = parts[1];
    if (!parameters) return { algorithm };
    if (parameters.tag === NULL && parameters.end === parameters.start + 2) return { algorithm, parameters: null };
    if (readPlainObjectIdentifier(der, parameters) === undefined) return undefined;
    return { algorithm, parameters: toArrayBuffer(der.subarray(parameters.start, parameters.end)) };
  } catch {
    return undefined;
  }
}

/**
 * The dotted form of an OBJECT IDENTIFIER element whose every arc is minimally encoded in at most 7 octets (exact
 * under any decoder), or undefined.
 */
function readPlainObjectIdentifier(der: Uint8Array, element: DerElement): string | undefined {
  if (element.tag !== OBJECT_IDENTIFIER || element.end === element.contentStart) return undefined;
  let arcOctets = 0;
  for (let i = element.contentStart; i < element.end; i += 1) {
    if (arcOctets === 0 && der[i] === 0x80) return undefined;
    arcOctets = der[i] & 0x80 ? arcOctets + 1 : 0;
    if (arcOctets >= 7) return undefined;
  }
  if (arcOctets !== 0) return undefined;
  return objectIdentifier(der.subarray(element.contentStart, element.end));
}

/**
 * basicConstraints in one of its three DER forms (not a CA; a CA; a CA with a pathLenConstraint below 128), or
 * undefined for the library to decode.
 */
function readPlainBasicConstraints(value: Uint8Array): { cA: boolean; pathLenConstraint?: number } | undefined {
  const is = (...octets: number[]) => value.length === octets.length && octets.every((octet, i) => value[i] === octet);
  if (is(SEQUENCE, 0)) return { cA: false };
  if (is(SEQUENCE, 3, BOOLEAN, 1, 0xff)) return { cA: true };
  if (value.length === 8 && value[7] < 0x80 && is(SEQUENCE, 6, BOOLEAN, 1, 0xff, 0x02, 1, value[7])) return { cA: true, pathLenConstraint: value[7] };
  return undefined;
}

function isDottedObjectIdentifier(purpose: string): boolean {
  return /^[0-2](?:\.\d+)+$/.test(purpose);
}

/** extKeyUsage as a SEQUENCE of OBJECT IDENTIFIERs that the walk reads exactly, or undefined for the library. */
function readPlainPurposes(value: Uint8Array): string[] | undefined {
  try {
    const [sequence, ...after] = derElements(value, 0, value.length);
    if (sequence?.tag !== SEQUENCE || after.length > 0) return undefined;
    const purposes: string[] = [];
    for (const element of derElements(value, sequence.contentStart, sequence.end)) {
      const oid = readPlainObjectIdentifier(value, element);
      if (oid === undefined) return undefined;
      purposes.push(oid);
    }
    return purposes;
  } catch {
    return undefined;
  }
}

/** The bytes are one OBJECT IDENTIFIER that readPlainObjectIdentifier reads (the library's NamedCurve reads it too). */
function isPlainObjectIdentifier(bytes: Uint8Array): boolean {
  try {
    const elements = derElements(bytes, 0, bytes.length);
    return elements.length === 1 && readPlainObjectIdentifier(bytes, elements[0]) !== undefined;
  } catch {
    return false;
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
}

/** The dotted form of an OBJECT IDENTIFIER's contents (X.690 §8.19: base-128 arcs, the first two joined). */
function objectIdentifier(contents: Uint8Array): string {
  if (contents.length === 0 || (contents[contents.length - 1] & 0x80) !== 0) throw new RangeError('not an OBJECT IDENTIFIER');
  const arcs: bigint[] = [];
  let arc = 0n;
  for (const octet of contents) {
    arc = (arc << 7n) | BigInt(octet & 0x7f);
    if ((octet & 0x80) === 0) {
      arcs.push(arc);
      arc = 0n;
    }
  }
  const [first, ...rest] = arcs;
  const head = first < 40n ? `0.${first}` : first < 80n ? `1.${first - 40n}` : `2.${first - 80n}`;
  return [head, ...rest].join('.');
}

// ---- conversions ----

type Asn1Name = InstanceType<typeof Asn1X509Module.Name>;
type Asn1GeneralName = InstanceType<typeof Asn1X509Module.GeneralName>;

function toDistinguishedName(name: Asn1Name): DistinguishedName {
  return [...name].map((rdn) =>
    [...rdn].map((attribute) => {
      const value = attribute.value;
      if (value.anyValue !== undefined) {
        return { type: attribute.type, value: `#${Buffer.from(value.anyValue).toString('hex')}` };
      }
      const text = value.toString();
      return { type: attribute.type, value: foldForComparison(text), text };
    }),
  );
}

/**
 * RFC 4518 string preparation, reduced to what distinguishes names in practice: compatibility normalisation, case
 * folding, no leading or trailing space, and runs of spaces counted as one.
 */
function foldForComparison(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

function toGeneralNameValue(name: Asn1GeneralName): GeneralNameValue {
  if (name.dNSName !== undefined) return { form: 'dNSName', value: name.dNSName };
  if (name.rfc822Name !== undefined) return { form: 'rfc822Name', value: name.rfc822Name };
  if (name.iPAddress !== undefined) return { form: 'iPAddress', bytes: Buffer.from(name.iPAddress as unknown as ArrayBuffer) };
  if (name.directoryName !== undefined) return { form: 'directoryName', name: toDistinguishedName(name.directoryName) };
  if (name.uniformResourceIdentifier !== undefined) return { form: 'uniformResourceIdentifier' };
  if (name.otherName !== undefined) return { form: 'otherName' };
  if (name.x400Address !== undefined) return { form: 'x400Address' };
  if (name.ediPartyName !== undefined) return { form: 'ediPartyName' };
  if (name.registeredID !== undefined) return { form: 'registeredID' };
  throw new RangeError('a GeneralName of no known form');
}

function isEcKey(algorithm: AlgorithmFields): boolean {
  return algorithm.algorithm === EC_PUBLIC_KEY;
}

function hasNamedCurve(algorithm: AlgorithmFields, schema: typeof Asn1SchemaModule, exact: Asn1['exact']): boolean {
  if (!algorithm.parameters) return false;
  if (isPlainObjectIdentifier(new Uint8Array(algorithm.parameters))) return true;
  try {
    schema.AsnParser.parse(algorithm.parameters, exact.NamedCurve);
    return true;
  } catch {
    return false;
  }
}

function sameAlgorithm(a: AlgorithmFields, b: AlgorithmFields): boolean {
  if (a.algorithm !== b.algorithm) return false;
  const parameters = (x: AlgorithmFields) => (x.parameters ? Buffer.from(x.parameters).toString('hex') : String(x.parameters));
  return parameters(a) === parameters(b);
}

// ---- loading ----

interface Asn1 {
  x509: typeof Asn1X509Module;
  schema: typeof Asn1SchemaModule;
  /** Schemas that keep iPAddress as its octets (the library's own turns them into text and loses a bad mask). */
  exact: {
    GeneralNames: new () => Asn1GeneralName[];
    NameConstraints: new () => ExactNameConstraints;
    /** ECParameters (RFC 5480) with only its namedCurve choice: explicit parameters do not parse. */
    NamedCurve: new () => { namedCurve: string };
    /** Ecdsa-Sig-Value (RFC 5480 / X9.62): the two INTEGERs as their content octets. */
    EcdsaSignature: new () => { r: ArrayBuffer; s: ArrayBuffer };
  };
}

interface ExactNameConstraints {
  permittedSubtrees?: Array<{ base: Asn1GeneralName; minimum?: number; maximum?: number }>;
  excludedSubtrees?: Array<{ base: Asn1GeneralName; minimum?: number; maximum?: number }>;
}

let asn1: Asn1 | undefined;

/**
 * The ASN.1 library costs tens of milliseconds to load and is needed only when a certificate is judged, so it is
 * loaded on first use. `require` with a literal lets esbuild bundle it as a module that runs when first required;
 * where `require` does not exist (ESM under tsx or vitest), Node's own loader reads it from node_modules.
 */
/** ECDSA signature algorithms (RFC 5758 and ecdsa-with-SHA1): their signatures have two valid encodings each. */
const ECDSA_SIGNATURE_ALGORITHMS = new Set(['1.2.840.10045.4.1', '1.2.840.10045.4.3.1', '1.2.840.10045.4.3.2', '1.2.840.10045.4.3.3', '1.2.840.10045.4.3.4']);

/**
 * Group orders of the curves an ECDSA signature may be made on: P-256 and P-384 (the key policy), and every other
 * named curve OpenSSL signs certificates with (P-224, P-521, secp256k1, brainpool 256/384/512), as a configured CA
 * stored before the key policy keeps anchoring on any of them. The issuer's curve is not in the certificate; a twin
 * computed for a curve the CA is not on is no signature any CA made, so it can only ever match a revocation of itself.
 */
const CA_CURVE_ORDERS = [
  'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551',
  'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
  'ffffffffffffffffffffffffffff16a2e0b8f03e13dd29455c5c2a3d',
  '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
  'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141',
  'a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7',
  '8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b31f166e6cac0425a7cf3ab6af6b7fc3103b883202e9046565',
  'aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca70330870553e5c414ca92619418661197fac10471db1d381085ddaddb58796829ca90069',
].map((hex) => BigInt(`0x${hex}`));

/**
 * The other encodings of the same signed certificate: an ECDSA signature (r, s) is equally valid as (r, n − s), so
 * anyone can turn a certificate into a byte-different twin with the same contents and a different SHA-256. Returns
 * the twins for the curve orders a CA may use (the issuer's curve is not in the certificate), or nothing when the
 * certificate is not ECDSA-signed or does not re-encode to the same bytes. Revocation by fingerprint checks them too.
 */
export function signatureEncodingTwins(der: Uint8Array): Buffer[] {
  // The outer signature algorithm read by the walk: a certificate not ECDSA-signed has no twins, and is not decoded.
  const parts = outerParts(der);
  const walked = parts && readPlainAlgorithm(der, parts.signatureAlgorithm);
  if (walked && !ECDSA_SIGNATURE_ALGORITHMS.has(walked.algorithm)) return [];
  const { x509, schema, exact } = loadAsn1();
  const certificate = schema.AsnParser.parse(der, x509.Certificate);
  if (!ECDSA_SIGNATURE_ALGORITHMS.has(certificate.signatureAlgorithm.algorithm)) return [];
  if (!Buffer.from(schema.AsnSerializer.serialize(certificate)).equals(Buffer.from(der))) return [];
  const signature = schema.AsnParser.parse(certificate.signatureValue, exact.EcdsaSignature);
  const s = BigInt(`0x${Buffer.from(signature.s).toString('hex') || '0'}`);
  const twins: Buffer[] = [];
  for (const order of CA_CURVE_ORDERS) {
    if (s <= 0n || s >= order) continue;
    const twin = new exact.EcdsaSignature();
    twin.r = signature.r;
    twin.s = unsignedIntegerBytes(order - s);
    const twinSignature = Buffer.from(schema.AsnSerializer.serialize(twin));
    // The certificate re-encodes to its own bytes (checked above), so its re-encoding with another signature is its
    // signed part and algorithm as they are, then the new signature's BIT STRING (no unused bits), in a SEQUENCE.
    const signedPart = parts ? Buffer.from(der.subarray(parts.tbs.start, parts.signatureAlgorithm.end)) : undefined;
    if (signedPart) {
      twins.push(derEncode(SEQUENCE, Buffer.concat([signedPart, derEncode(0x03, Buffer.concat([Buffer.from([0]), twinSignature]))])));
    } else {
      certificate.signatureValue = toArrayBuffer(twinSignature);
      twins.push(Buffer.from(schema.AsnSerializer.serialize(certificate)));
    }
  }
  return twins;
}

/**
 * A superset of signatureEncodingTwins(der), found by the walk without decoding the certificate: the same twins when
 * the certificate re-encodes to its own bytes, and some that signatureEncodingTwins would not give otherwise (so a
 * match must be confirmed with it). Undefined when the walk cannot read the signature the way the library does.
 */
export function candidateSignatureEncodingTwins(der: Uint8Array): Buffer[] | undefined {
  const parts = outerParts(der);
  if (!parts) return undefined;
  const algorithm = readPlainAlgorithm(der, parts.signatureAlgorithm);
  if (!algorithm) return undefined;
  if (!ECDSA_SIGNATURE_ALGORITHMS.has(algorithm.algorithm)) return [];
  const { signature } = parts;
  // BIT STRING: no unused bits, then Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } and nothing else.
  if (signature.tag !== 0x03 || signature.end === signature.contentStart || der[signature.contentStart] !== 0) return undefined;
  try {
    const [value, ...afterValue] = derElements(der, signature.contentStart + 1, signature.end);
    if (value?.tag !== SEQUENCE || afterValue.length > 0) return undefined;
    const [r, sElement, ...afterS] = derElements(der, value.contentStart, value.end);
    if (r?.tag !== 0x02 || sElement?.tag !== 0x02 || afterS.length > 0) return undefined;
    const { schema, exact } = loadAsn1();
    const s = BigInt(`0x${Buffer.from(der.subarray(sElement.contentStart, sElement.end)).toString('hex') || '0'}`);
    const signedPart = Buffer.from(der.subarray(parts.tbs.start, parts.signatureAlgorithm.end));
    const twins: Buffer[] = [];
    for (const order of CA_CURVE_ORDERS) {
      if (s <= 0n || s >= order) continue;
      const twin = new exact.EcdsaSignature();
      twin.r = toArrayBuffer(der.subarray(r.contentStart, r.end));
      twin.s = unsignedIntegerBytes(order - s);
      const twinSignature = Buffer.from(schema.AsnSerializer.serialize(twin));
      twins.push(derEncode(SEQUENCE, Buffer.concat([signedPart, derEncode(0x03, Buffer.concat([Buffer.from([0]), twinSignature]))])));
    }
    return twins;
  } catch {
    return undefined;
  }
}

/** The three parts of a certificate by the walk (TBSCertificate, signature algorithm, signature), or undefined. */
function outerParts(der: Uint8Array): { tbs: DerElement; signatureAlgorithm: DerElement; signature: DerElement } | undefined {
  try {
    const [certificate, ...afterCertificate] = derElements(der, 0, der.length);
    if (certificate?.tag !== SEQUENCE || afterCertificate.length > 0) return undefined;
    const [tbs, signatureAlgorithm, signature, ...rest] = derElements(der, certificate.contentStart, certificate.end);
    if (!tbs || !signatureAlgorithm || !signature || rest.length > 0) return undefined;
    return { tbs, signatureAlgorithm, signature };
  } catch {
    return undefined;
  }
}

/** A DER element of `tag` around `contents`, its length in the shortest form. */
function derEncode(tag: number, contents: Buffer): Buffer {
  const length = contents.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else {
    const octets: number[] = [];
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
    header = [tag, 0x80 | octets.length, ...octets];
  }
  return Buffer.concat([Buffer.from(header), contents]);
}

/** A positive INTEGER's content octets: big-endian, with a leading zero when the high bit is set. */
function unsignedIntegerBytes(value: bigint): ArrayBuffer {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
}

function loadAsn1(): Asn1 {
  if (asn1) return asn1;
  const load = (id: string): unknown => (typeof require === 'function' ? loadBundled(id) : createModuleRequire(import.meta.url)(id));
  const schema = load('@peculiar/asn1-schema') as typeof Asn1SchemaModule;
  const x509 = load('@peculiar/asn1-x509') as typeof Asn1X509Module;
  asn1 = { x509, schema, exact: defineExactSchemas(x509, schema) };
  return asn1;
}

function loadBundled(id: string): unknown {
  // Literal ids, so that the bundler sees (and bundles) both modules.
  return id === '@peculiar/asn1-schema' ? require('@peculiar/asn1-schema') : require('@peculiar/asn1-x509');
}

/**
 * GeneralName as the library declares it, except that iPAddress stays an OCTET STRING, and the two containers that
 * hold GeneralNames for path validation (subjectAltName, nameConstraints) built on it; and the namedCurve choice of
 * ECParameters, which the library does not declare. Declared through the library's decorator functions, called
 * directly. Exported so that its declarations are tested on their own: loadAsn1 calls it once per process, so a test
 * that reads certificates runs it only the first time.
 */
export function defineExactSchemas(x509: typeof Asn1X509Module, schema: typeof Asn1SchemaModule): Asn1['exact'] {
  const { AsnProp, AsnType, AsnTypeTypes, AsnPropTypes, AsnArray } = schema;
  class ExactGeneralName extends x509.GeneralName {}
  AsnProp({ type: AsnPropTypes.OctetString, context: 7, implicit: true })(ExactGeneralName.prototype, 'iPAddress');

  class ExactGeneralNames extends AsnArray<ExactGeneralName> {}
  AsnType({ type: AsnTypeTypes.Sequence, itemType: ExactGeneralName })(ExactGeneralNames);

  class ExactGeneralSubtree extends x509.GeneralSubtree {}
  AsnProp({ type: ExactGeneralName })(ExactGeneralSubtree.prototype, 'base');

  class ExactGeneralSubtrees extends AsnArray<ExactGeneralSubtree> {}
  AsnType({ type: AsnTypeTypes.Sequence, itemType: ExactGeneralSubtree })(ExactGeneralSubtrees);

  class ExactNameConstraintsSchema extends x509.NameConstraints {}
  AsnProp({ type: ExactGeneralSubtrees, context: 0, optional: true, implicit: true })(ExactNameConstraintsSchema.prototype, 'permittedSubtrees');
  AsnProp({ type: ExactGeneralSubtrees, context: 1, optional: true, implicit: true })(ExactNameConstraintsSchema.prototype, 'excludedSubtrees');

  class NamedCurve {
    namedCurve = '';
  }
  AsnProp({ type: AsnPropTypes.ObjectIdentifier })(NamedCurve.prototype, 'namedCurve');
  AsnType({ type: AsnTypeTypes.Choice })(NamedCurve);

  class EcdsaSignature {
    r = new ArrayBuffer(0);
    s = new ArrayBuffer(0);
  }
  AsnProp({ type: AsnPropTypes.Integer, converter: schema.AsnIntegerArrayBufferConverter })(EcdsaSignature.prototype, 'r');
  AsnProp({ type: AsnPropTypes.Integer, converter: schema.AsnIntegerArrayBufferConverter })(EcdsaSignature.prototype, 's');

  return {
    NamedCurve,
    EcdsaSignature,
    GeneralNames: ExactGeneralNames as unknown as Asn1['exact']['GeneralNames'],
    NameConstraints: ExactNameConstraintsSchema as unknown as Asn1['exact']['NameConstraints'],
  };
}
