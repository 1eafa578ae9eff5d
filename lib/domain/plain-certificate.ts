// A device certificate read by the DER walk alone, when it is written the plain way nearly every device PKI writes
// it: an RSA key, a SHA-2 signature with RSA or ECDSA, names of printable text, times in RFC 5280's two forms, and
// only extensions whose reading is settled. Node's X509Certificate costs ≈ 140 µs per new certificate, nearly all of
// it OpenSSL decoding the public key through its provider layer; the same RSA key read as PKCS#1 costs ≈ 4 µs. A
// certificate read this way is judged with the same rules; only the issuer check is decided here (plainIssuance,
// through ParsedCertificate#plainIssuanceBy), and only where OpenSSL's own check would decide the same: anything
// else falls back to X509Certificate.

import { verify as verifySignature, type KeyObject } from 'node:crypto';
import { derElements, EXTENSION, readExtensions, readPlainName, type DerElement, type DistinguishedName } from './certificate-extensions.ts';

export interface PlainCertificate {
  /** The TBSCertificate's encoding: what the issuer's signature covers. */
  signedPart: Uint8Array;
  signature: { hash: 'sha256' | 'sha384' | 'sha512'; keyType: 'rsa' | 'ec'; value: Uint8Array };
  /** The issuer Name's encoding, compared byte for byte with a CA's subject. */
  issuerName: Uint8Array;
  /** The issuer name as OpenSSL compares it (canonicalName). */
  issuerCanonical: string;
  /** The names as Node prints them (X509Certificate#subject, one RDN per line) and the subject's common names. */
  subjectText: string;
  issuerText: string;
  commonNames: string[];
  notBefore: Date;
  notAfter: Date;
  /** The RSAPublicKey (PKCS#1) encoding of the key (a certificate with any other key is not plain). */
  rsaPublicKey: Uint8Array;
  /** authorityKeyIdentifier's keyIdentifier, when the extension holds that field alone. */
  authorityKeyId?: Uint8Array;
}

/** The signature algorithms read here, by their exact DER (RFC 4055: RSA with a NULL; RFC 5758: ECDSA without). */
const SIGNATURE_ALGORITHMS: ReadonlyMap<string, Omit<PlainCertificate['signature'], 'value'>> = new Map([
  ['300d06092a864886f70d01010b0500', { hash: 'sha256', keyType: 'rsa' }],
  ['300d06092a864886f70d01010c0500', { hash: 'sha384', keyType: 'rsa' }],
  ['300d06092a864886f70d01010d0500', { hash: 'sha512', keyType: 'rsa' }],
  ['300a06082a8648ce3d040302', { hash: 'sha256', keyType: 'ec' }],
  ['300a06082a8648ce3d040303', { hash: 'sha384', keyType: 'ec' }],
  ['300a06082a8648ce3d040304', { hash: 'sha512', keyType: 'ec' }],
]);

/** rsaEncryption with its NULL parameters (RFC 3279). */
const RSA_ENCRYPTION = '300d06092a864886f70d0101010500';

/** Extensions whose values OpenSSL's issuer check needs decodable, and which the profile or this file read. */
const PLAIN_EXTENSIONS: ReadonlySet<string> = new Set([
  EXTENSION.basicConstraints,
  EXTENSION.keyUsage,
  EXTENSION.extendedKeyUsage,
  EXTENSION.subjectAltName,
  EXTENSION.certificatePolicies,
  EXTENSION.authorityKeyIdentifier,
  EXTENSION.subjectKeyIdentifier,
  EXTENSION.authorityInfoAccess,
]);

/** OpenSSL's short names of the attributes printed here; a name with any other attribute is not plain. */
const ATTRIBUTE_SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
};

/** Values printed as written under RFC 2253 escaping: no `,+"\<>;#`, no space first or last, no control character. */
const PLAIN_VALUE = /^[A-Za-z0-9._@:/()'=?*!%&-](?:[A-Za-z0-9 ._@:/()'=?*!%&-]*[A-Za-z0-9._@:/()'=?*!%&-])?$/;

/**
 * The certificate read by the walk, or undefined when any part of it is not plain (then X509Certificate reads it).
 * Every element of the certificate's structure it walks must be DER (lengths in their shortest form): outside the
 * signed part, OpenSSL re-encodes what it reads, and a certificate whose bytes differ from its re-encoding is refused
 * (ParsedCertificate.parse), as another fingerprint for the same signed certificate would pass a revocation. The
 * attributes inside a name are read as written (readPlainName): they are signed, OpenSSL keeps them as written too,
 * and names are compared by their canonical form, where an encoding's length form leaves no trace.
 * Over 60 lines on purpose: one pass down the certificate's fields in their order, each a short check.
 */
export function readPlainCertificate(der: Uint8Array): PlainCertificate | undefined {
  // X509Certificate reads a buffer as PEM first, and OpenSSL's PEM reader skips whatever precedes a BEGIN line: bytes
  // that hold one (in a signature's unsigned bits, say) are another certificate to it. Left to it, it refuses them.
  if (Buffer.from(der.buffer, der.byteOffset, der.byteLength).includes('-----BEGIN')) return undefined;
  try {
    const [certificate, ...afterCertificate] = strictElements(der, 0, der.length);
    if (certificate?.tag !== 0x30 || afterCertificate.length > 0) return undefined;
    const [tbs, outerAlgorithm, signatureValue, ...afterSignature] = strictElements(der, certificate.contentStart, certificate.end);
    if (tbs?.tag !== 0x30 || signatureValue?.tag !== 0x03 || afterSignature.length > 0) return undefined;
    const [version, serialNumber, innerAlgorithm, issuer, validity, subject, subjectPublicKeyInfo, extensions, ...rest] = strictElements(
      der,
      tbs.contentStart,
      tbs.end,
    );
    // Version 3 (the INTEGER 2 in [0]), a serial number of 1 to 20 octets, extensions in [3] and nothing else.
    if (!version || hex(der, version) !== 'a003020102' || rest.length > 0) return undefined;
    if (serialNumber?.tag !== 0x02 || !isMinimalInteger(der, serialNumber) || serialNumber.end - serialNumber.contentStart > 20) return undefined;
    if (!innerAlgorithm || !outerAlgorithm || hex(der, innerAlgorithm) !== hex(der, outerAlgorithm)) return undefined;
    const algorithm = SIGNATURE_ALGORITHMS.get(hex(der, outerAlgorithm));
    if (!algorithm || der[signatureValue.contentStart] !== 0 || signatureValue.end - signatureValue.contentStart < 2) return undefined;
    const names = [issuer, subject].map((name) => (name?.tag === 0x30 && name.end > name.contentStart ? readPlainName(der, name) : undefined));
    const [issuerText, subjectText] = names.map((name) => name && printName(name));
    if (issuerText === undefined || subjectText === undefined) return undefined;
    const times = validity?.tag === 0x30 ? strictElements(der, validity.contentStart, validity.end) : [];
    const [notBefore, notAfter] = times.map((time) => readTime(der, time));
    if (times.length !== 2 || !notBefore || !notAfter) return undefined;
    const rsaPublicKey = subjectPublicKeyInfo && readRsaKey(der, subjectPublicKeyInfo);
    const values = extensions && readPlainExtensions(der, extensions, PLAIN_EXTENSIONS);
    if (!rsaPublicKey || !values) return undefined;
    const authority = values.get(EXTENSION.authorityKeyIdentifier);
    const authorityKeyId = authority && readKeyIdentifierAlone(authority);
    // The device's own key identifier is not compared, but OpenSSL marks a certificate invalid for one it cannot read.
    const subjectKey = values.get(EXTENSION.subjectKeyIdentifier);
    if ((authority && !authorityKeyId) || (subjectKey && !readOctetString(subjectKey))) return undefined;
    return {
      signedPart: der.subarray(tbs.start, tbs.end),
      signature: { ...algorithm, value: der.subarray(signatureValue.contentStart + 1, signatureValue.end) },
      issuerName: der.subarray(issuer.start, issuer.end),
      issuerCanonical: canonicalName(names[0]!),
      issuerText,
      subjectText,
      commonNames: names[1]!.flat().filter((attribute) => attribute.type === '2.5.4.3').map((attribute) => attribute.text!),
      notBefore,
      notAfter,
      rsaPublicKey,
      authorityKeyId,
    };
  } catch {
    return undefined;
  }
}

/** What OpenSSL's issuer check reads of a CA, read by the walk. */
export interface PlainIssuer {
  subjectName: Uint8Array;
  subjectCanonical: string;
  subjectKeyId?: Uint8Array;
}

/**
 * The CA's subject Name encoding and subjectKeyIdentifier, or undefined when the CA is not plain: a version 3
 * certificate with the plain extensions alone, each in a form read here (OpenSSL refuses every issuer it has marked
 * invalid, for an extension it cannot decode).
 */
export function readPlainIssuer(der: Uint8Array): PlainIssuer | undefined {
  try {
    const [certificate] = strictElements(der, 0, der.length);
    const [tbs] = strictElements(der, certificate.contentStart, certificate.end);
    const fields = strictElements(der, tbs.contentStart, tbs.end);
    if (fields.length !== 8 || hex(der, fields[0]) !== 'a003020102') return undefined;
    const subject = fields[5];
    const subjectName = subject.tag === 0x30 && subject.end > subject.contentStart ? readPlainName(der, subject) : undefined;
    const values = readPlainExtensions(der, fields[7], PLAIN_EXTENSIONS);
    if (!subjectName || !values) return undefined;
    const authority = values.get(EXTENSION.authorityKeyIdentifier);
    const subjectKey = values.get(EXTENSION.subjectKeyIdentifier);
    const subjectKeyId = subjectKey && readOctetString(subjectKey);
    if ((authority && !readKeyIdentifierAlone(authority)) || (subjectKey && !subjectKeyId)) return undefined;
    return { subjectName: der.subarray(subject.start, subject.end), subjectCanonical: canonicalName(subjectName), subjectKeyId };
  } catch {
    return undefined;
  }
}

/**
 * The values of the extensions in [3], by OID, when every one is among `allowed`, occurs once, is DER (its OID's
 * arcs minimal, a critical flag only as TRUE), and holds a value OpenSSL decodes the same way the profile does:
 * basicConstraints, keyUsage, extKeyUsage and subjectAltName in the forms checked below (OpenSSL marks a certificate
 * invalid for one it cannot decode, where the profile's reading may be more lenient). Undefined otherwise.
 */
function readPlainExtensions(der: Uint8Array, extensions: DerElement, allowed: ReadonlySet<string>): Map<string, Uint8Array> | undefined {
  if (extensions.tag !== 0xa3) return undefined;
  const [sequence, ...afterSequence] = strictElements(der, extensions.contentStart, extensions.end);
  if (sequence?.tag !== 0x30 || afterSequence.length > 0) return undefined;
  for (const extension of strictElements(der, sequence.contentStart, sequence.end)) {
    const parts = extension.tag === 0x30 ? strictElements(der, extension.contentStart, extension.end) : [];
    if (parts.length === 3 && hex(der, parts[1]) !== '0101ff') return undefined;
    if ((parts.length !== 2 && parts.length !== 3) || !isMinimalObjectIdentifier(der, parts[0])) return undefined;
  }
  const values = new Map<string, Uint8Array>();
  for (const { extnID, value } of readExtensions(der, sequence)) {
    if (!allowed.has(extnID) || values.has(extnID) || !PLAIN_VALUE_FORMS[extnID](value)) return undefined;
    values.set(extnID, value);
  }
  return values;
}

/** Per plain extension, whether its value is in a form OpenSSL and the profile read alike. */
const PLAIN_VALUE_FORMS: Readonly<Record<string, (value: Uint8Array) => boolean>> = {
  [EXTENSION.basicConstraints]: isPlainBasicConstraints,
  [EXTENSION.keyUsage]: isPlainKeyUsage,
  [EXTENSION.extendedKeyUsage]: isPlainPurposes,
  [EXTENSION.subjectAltName]: isPlainAltNames,
  // Neither is decoded by OpenSSL's checks nor read by the profile: any value reads alike.
  [EXTENSION.certificatePolicies]: () => true,
  [EXTENSION.authorityInfoAccess]: () => true,
  // Read by readKeyIdentifierAlone and readOctetString.
  [EXTENSION.authorityKeyIdentifier]: () => true,
  [EXTENSION.subjectKeyIdentifier]: () => true,
};

/**
 * Whether `child` names the CA as its issuer the way X509Certificate#checkIssued requires, decided without it: true
 * only where checkIssued is true too (the issuer name equal to the CA's subject byte for byte, which canonical forms
 * then share; an authorityKeyIdentifier absent or equal to the CA's subjectKeyIdentifier; a CA keyUsage that allows
 * keyCertSign; a signature algorithm for the CA's key type), false only where it is false too (the names' canonical
 * forms differ: OpenSSL compares those first), undefined where OpenSSL must decide. The signature is checked apart.
 */
export function plainIssuance(child: PlainCertificate, issuer: PlainIssuer, issuerKey: KeyObject, issuerAllowsCertSign: boolean): boolean | undefined {
  if (child.issuerCanonical !== issuer.subjectCanonical) return false;
  if (!issuerAllowsCertSign || !Buffer.from(child.issuerName).equals(issuer.subjectName)) return undefined;
  if (child.authorityKeyId && !(issuer.subjectKeyId && Buffer.from(child.authorityKeyId).equals(issuer.subjectKeyId))) return undefined;
  return issuerKey.asymmetricKeyType === child.signature.keyType ? true : undefined;
}

/** The CA's signature over `child`, as X509Certificate#verify checks it (same bytes, algorithm and key). */
export function verifyPlainSignature(child: PlainCertificate, issuerKey: KeyObject): boolean {
  return verifySignature(child.signature.hash, child.signedPart, issuerKey, child.signature.value);
}

/**
 * A Name as OpenSSL compares it (X509_NAME_cmp on its canonical encoding), for names of plain text: each value with
 * spaces at either end removed, inner runs of C's whitespace made one space, ASCII lowercased, its string type
 * dropped; the attributes of an RDN in a fixed order (DER sorts a SET OF).
 */
function canonicalName(name: DistinguishedName): string {
  return JSON.stringify(
    name.map((rdn) =>
      rdn.map((attribute) => `${attribute.type}=${attribute.text!.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '').replace(/[ \t\n\v\f\r]+/g, ' ').toLowerCase()}`).sort(),
    ),
  );
}

function hex(der: Uint8Array, element: DerElement): string {
  return Buffer.from(der.buffer, der.byteOffset + element.start, element.end - element.start).toString('hex');
}

/** A Name as Node's X509Certificate#subject prints it, or undefined when a value or attribute would print otherwise. */
function printName(name: DistinguishedName): string | undefined {
  const lines: string[] = [];
  for (const rdn of name) {
    const printed: string[] = [];
    for (const attribute of rdn) {
      const shortName = ATTRIBUTE_SHORT_NAMES[attribute.type];
      if (shortName === undefined || attribute.text === undefined || !PLAIN_VALUE.test(attribute.text)) return undefined;
      printed.push(`${shortName}=${attribute.text}`);
    }
    lines.push(printed.join(' + '));
  }
  return lines.join('\n');
}

/** UTCTime `YYMMDDHHMMSSZ` (1950–2049) or GeneralizedTime `YYYYMMDDHHMMSSZ` of a real date and time, else undefined. */
function readTime(der: Uint8Array, element: DerElement): Date | undefined {
  const text = Buffer.from(der.subarray(element.contentStart, element.end)).toString('latin1');
  let digits: string;
  if (element.tag === 0x17 && /^\d{12}Z$/.test(text)) digits = `${Number(text.slice(0, 2)) < 50 ? '20' : '19'}${text}`;
  else if (element.tag === 0x18 && /^\d{14}Z$/.test(text)) digits = text;
  else return undefined;
  const [year, month, day, hour, minute, second] = [0, 4, 6, 8, 10, 12].map((at, i) => Number(digits.slice(at, at + (i === 0 ? 4 : 2))));
  if (year < 1950 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? date : undefined;
}

/** SubjectPublicKeyInfo with rsaEncryption: the RSAPublicKey in its BIT STRING, or undefined for any other key. */
function readRsaKey(der: Uint8Array, info: DerElement): Uint8Array | undefined {
  if (info.tag !== 0x30) return undefined;
  const [algorithm, key, ...rest] = strictElements(der, info.contentStart, info.end);
  if (!algorithm || hex(der, algorithm) !== RSA_ENCRYPTION || key?.tag !== 0x03 || rest.length > 0) return undefined;
  if (key.end - key.contentStart < 2 || der[key.contentStart] !== 0) return undefined;
  // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }, in DER: nothing else (Node's PKCS#1 import
  // would also take an RSAPrivateKey here and derive its public key, where OpenSSL refuses the certificate).
  const [sequence, ...afterSequence] = strictElements(der, key.contentStart + 1, key.end);
  if (sequence?.tag !== 0x30 || afterSequence.length > 0) return undefined;
  const integers = strictElements(der, sequence.contentStart, sequence.end);
  if (integers.length !== 2 || integers.some((integer) => integer.tag !== 0x02 || !isMinimalInteger(der, integer) || der[integer.contentStart] >= 0x80)) {
    return undefined;
  }
  return der.subarray(key.contentStart + 1, key.end);
}

/**
 * basicConstraints as not a CA (an empty SEQUENCE) or a CA with or without a pathLenConstraint below 128: OpenSSL
 * marks a certificate invalid for a pathLenConstraint that is negative or without CA, which these forms cannot hold.
 */
function isPlainBasicConstraints(value: Uint8Array): boolean {
  const text = Buffer.from(value).toString('hex');
  return text === '3000' || text === '30030101ff' || /^30060101ff0201[0-7][0-9a-f]$/.test(text);
}

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] … } holding that field alone, or undefined. */
function readKeyIdentifierAlone(value: Uint8Array): Uint8Array | undefined {
  const [sequence, ...after] = strictElements(value, 0, value.length);
  if (sequence?.tag !== 0x30 || after.length > 0) return undefined;
  const [keyIdentifier, ...others] = strictElements(value, sequence.contentStart, sequence.end);
  if (keyIdentifier?.tag !== 0x80 || others.length > 0 || keyIdentifier.end === keyIdentifier.contentStart) return undefined;
  return value.subarray(keyIdentifier.contentStart, keyIdentifier.end);
}

/** SubjectKeyIdentifier ::= OCTET STRING, non-empty, or undefined. */
function readOctetString(value: Uint8Array): Uint8Array | undefined {
  const [octets, ...after] = strictElements(value, 0, value.length);
  if (octets?.tag !== 0x04 || after.length > 0 || octets.end === octets.contentStart) return undefined;
  return value.subarray(octets.contentStart, octets.end);
}

/**
 * keyUsage as DER writes a named bit list: one or two octets after the unused-bit count, the last octet's trailing
 * zero bits exactly the unused ones, a second octet holding decipherOnly alone. OpenSSL reads only these two octets.
 */
function isPlainKeyUsage(value: Uint8Array): boolean {
  if (value.length < 4 || value.length > 5 || value[0] !== 0x03 || value[1] !== value.length - 2) return false;
  const last = value[value.length - 1];
  const trailingZeroBits = 31 - Math.clz32(last & -last);
  return last !== 0 && value[2] === trailingZeroBits && (value.length === 4 || last === 0x80);
}

/** extKeyUsage as a non-empty SEQUENCE of OBJECT IDENTIFIERs of minimal arcs. */
function isPlainPurposes(value: Uint8Array): boolean {
  const [sequence, ...after] = strictElements(value, 0, value.length);
  if (sequence?.tag !== 0x30 || after.length > 0) return false;
  const purposes = strictElements(value, sequence.contentStart, sequence.end);
  return purposes.length > 0 && purposes.every((purpose) => isMinimalObjectIdentifier(value, purpose));
}

/** subjectAltName of rfc822Name, dNSName and URI of printable ASCII, and iPAddress of 4 or 16 octets only. */
function isPlainAltNames(value: Uint8Array): boolean {
  const [sequence, ...after] = strictElements(value, 0, value.length);
  if (sequence?.tag !== 0x30 || after.length > 0) return false;
  const names = strictElements(value, sequence.contentStart, sequence.end);
  return (
    names.length > 0 &&
    names.every((name) => {
      const length = name.end - name.contentStart;
      if (name.tag === 0x87) return length === 4 || length === 16;
      if (name.tag !== 0x81 && name.tag !== 0x82 && name.tag !== 0x86) return false;
      return length > 0 && value.subarray(name.contentStart, name.end).every((octet) => octet > 0x20 && octet < 0x7f);
    })
  );
}

/** derElements, refusing (throwing) a length not written in its shortest form, as DER requires. */
function strictElements(der: Uint8Array, start: number, end: number): DerElement[] {
  const elements = derElements(der, start, end);
  for (const element of elements) {
    const length = element.end - element.contentStart;
    const lengthOctets = length < 0x80 ? 0 : length < 0x100 ? 1 : length < 0x10000 ? 2 : length < 0x1000000 ? 3 : 4;
    if (element.contentStart - element.start !== 2 + lengthOctets) throw new RangeError('a DER length not in its shortest form');
  }
  return elements;
}

/** An INTEGER of at least one octet without a redundant leading octet (OpenSSL refuses one). */
function isMinimalInteger(der: Uint8Array, element: DerElement): boolean {
  const length = element.end - element.contentStart;
  if (length === 0) return false;
  if (length === 1) return true;
  const [first, second] = [der[element.contentStart], der[element.contentStart + 1]];
  return !(first === 0x00 && second < 0x80) && !(first === 0xff && second >= 0x80);
}

/** An OBJECT IDENTIFIER whose every arc is written in its fewest octets (at most six), as DER requires. */
function isMinimalObjectIdentifier(der: Uint8Array, element: DerElement): boolean {
  if (element.tag !== 0x06 || element.end === element.contentStart || der[element.end - 1] >= 0x80) return false;
  let arcOctets = 0;
  for (let i = element.contentStart; i < element.end; i += 1) {
    if (arcOctets === 0 && der[i] === 0x80) return false;
    arcOctets = der[i] & 0x80 ? arcOctets + 1 : 0;
    if (arcOctets >= 6) return false;
  }
  return true;
}
