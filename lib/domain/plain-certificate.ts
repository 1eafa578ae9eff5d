// A device certificate read by the DER walk alone, when it is written the plain way nearly every device PKI writes
// it: an RSA key, a SHA-2 signature with RSA or ECDSA, names of printable text, times in RFC 5280's two forms, and
// only extensions whose reading is settled. Node's X509Certificate costs ≈ 140 µs per new certificate, nearly all of
// it OpenSSL decoding the public key through its provider layer; the same RSA key read as PKCS#1 costs ≈ 4 µs. A
// certificate read this way is judged with the same rules; only the issuer check is decided here (issuedByPlain),
// and only when everything OpenSSL's own check looks at is plain too: anything else falls back to X509Certificate.

import { verify as verifySignature, type KeyObject } from 'node:crypto';
import { derElements, EXTENSION, readExtensions, readPlainName, type DerElement, type DistinguishedName } from './certificate-extensions.ts';

export interface PlainCertificate {
  /** The TBSCertificate's encoding: what the issuer's signature covers. */
  signedPart: Uint8Array;
  signature: { hash: 'sha256' | 'sha384' | 'sha512'; keyType: 'rsa' | 'ec'; value: Uint8Array };
  /** The Names' encodings, compared byte for byte with an issuer's subject. */
  issuerName: Uint8Array;
  subjectName: Uint8Array;
  /** The issuer name as OpenSSL compares it (canonicalName). */
  issuerCanonical: string;
  /** The names as Node prints them (X509Certificate#subject, one RDN per line) and the subject's common names. */
  subjectText: string;
  issuerText: string;
  commonNames: string[];
  notBefore: Date;
  notAfter: Date;
  /** The RSAPublicKey (PKCS#1) encoding of the key; undefined for any other key. */
  rsaPublicKey?: Uint8Array;
  /** authorityKeyIdentifier's keyIdentifier, when the extension holds that field alone. */
  authorityKeyId?: Uint8Array;
  subjectKeyId?: Uint8Array;
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
 * Over 60 lines on purpose: one pass down the certificate's fields in their order, each a short check.
 */
export function readPlainCertificate(der: Uint8Array): PlainCertificate | undefined {
  try {
    const [certificate, ...afterCertificate] = derElements(der, 0, der.length);
    if (certificate?.tag !== 0x30 || afterCertificate.length > 0) return undefined;
    const [tbs, outerAlgorithm, signatureValue, ...afterSignature] = derElements(der, certificate.contentStart, certificate.end);
    if (tbs?.tag !== 0x30 || signatureValue?.tag !== 0x03 || afterSignature.length > 0) return undefined;
    const [version, serialNumber, innerAlgorithm, issuer, validity, subject, subjectPublicKeyInfo, extensions, ...rest] = derElements(
      der,
      tbs.contentStart,
      tbs.end,
    );
    // Version 3 (the INTEGER 2 in [0]), a serial number of 1 to 20 octets, extensions in [3] and nothing else.
    if (!version || hex(der, version) !== 'a003020102' || rest.length > 0) return undefined;
    if (serialNumber?.tag !== 0x02 || serialNumber.end === serialNumber.contentStart || serialNumber.end - serialNumber.contentStart > 20) return undefined;
    if (!innerAlgorithm || !outerAlgorithm || hex(der, innerAlgorithm) !== hex(der, outerAlgorithm)) return undefined;
    const algorithm = SIGNATURE_ALGORITHMS.get(hex(der, outerAlgorithm));
    if (!algorithm || der[signatureValue.contentStart] !== 0 || signatureValue.end - signatureValue.contentStart < 2) return undefined;
    const names = [issuer, subject].map((name) => (name?.tag === 0x30 && name.end > name.contentStart ? readPlainName(der, name) : undefined));
    const [issuerText, subjectText] = names.map((name) => name && printName(name));
    if (issuerText === undefined || subjectText === undefined) return undefined;
    const times = validity?.tag === 0x30 ? derElements(der, validity.contentStart, validity.end) : [];
    const [notBefore, notAfter] = times.map((time) => readTime(der, time));
    if (times.length !== 2 || !notBefore || !notAfter) return undefined;
    const rsaPublicKey = subjectPublicKeyInfo && readRsaKey(der, subjectPublicKeyInfo);
    if (!rsaPublicKey || extensions?.tag !== 0xa3) return undefined;
    const [extensionSequence, ...afterExtensions] = derElements(der, extensions.contentStart, extensions.end);
    if (extensionSequence?.tag !== 0x30 || afterExtensions.length > 0) return undefined;
    const read = readExtensions(der, extensionSequence);
    const oids = read.map((extension) => extension.extnID);
    if (oids.some((oid, i) => !PLAIN_EXTENSIONS.has(oid) || oids.indexOf(oid) !== i)) return undefined;
    const basic = read.find((extension) => extension.extnID === EXTENSION.basicConstraints);
    if (basic && !isPlainBasicConstraints(basic.value)) return undefined;
    const authority = read.find((extension) => extension.extnID === EXTENSION.authorityKeyIdentifier);
    const authorityKeyId = authority && readKeyIdentifierAlone(authority.value);
    if (authority && !authorityKeyId) return undefined;
    const subjectKey = read.find((extension) => extension.extnID === EXTENSION.subjectKeyIdentifier);
    const subjectKeyId = subjectKey && readOctetString(subjectKey.value);
    if (subjectKey && !subjectKeyId) return undefined;
    return {
      signedPart: der.subarray(tbs.start, tbs.end),
      signature: { ...algorithm, value: der.subarray(signatureValue.contentStart + 1, signatureValue.end) },
      issuerName: der.subarray(issuer.start, issuer.end),
      issuerCanonical: canonicalName(names[0]!),
      subjectName: der.subarray(subject.start, subject.end),
      issuerText,
      subjectText,
      commonNames: names[1]!.flat().filter((attribute) => attribute.type === '2.5.4.3').map((attribute) => attribute.text!),
      notBefore,
      notAfter,
      rsaPublicKey,
      authorityKeyId,
      subjectKeyId,
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
 * certificate whose extensions are the plain ones and nameConstraints, each once, basicConstraints and the key
 * identifiers in the forms read here (OpenSSL refuses every issuer it has marked invalid, for any of these).
 */
export function readPlainIssuer(der: Uint8Array): PlainIssuer | undefined {
  try {
    const [certificate] = derElements(der, 0, der.length);
    const [tbs] = derElements(der, certificate.contentStart, certificate.end);
    const fields = derElements(der, tbs.contentStart, tbs.end);
    if (fields.length !== 8 || hex(der, fields[0]) !== 'a003020102' || fields[7].tag !== 0xa3) return undefined;
    const subject = fields[5];
    const subjectName = subject.tag === 0x30 && subject.end > subject.contentStart ? readPlainName(der, subject) : undefined;
    if (!subjectName) return undefined;
    const [sequence, ...afterSequence] = derElements(der, fields[7].contentStart, fields[7].end);
    if (sequence?.tag !== 0x30 || afterSequence.length > 0) return undefined;
    const extensions = readExtensions(der, sequence);
    const oids = extensions.map((extension) => extension.extnID);
    const allowed = (oid: string) => PLAIN_EXTENSIONS.has(oid) || oid === EXTENSION.nameConstraints;
    if (oids.some((oid, i) => !allowed(oid) || oids.indexOf(oid) !== i)) return undefined;
    const valueOf = (oid: string) => extensions.find((extension) => extension.extnID === oid)?.value;
    const basic = valueOf(EXTENSION.basicConstraints);
    const authority = valueOf(EXTENSION.authorityKeyIdentifier);
    const subjectKey = valueOf(EXTENSION.subjectKeyIdentifier);
    if ((basic && !isPlainBasicConstraints(basic)) || (authority && !readKeyIdentifierAlone(authority))) return undefined;
    const subjectKeyId = subjectKey && readOctetString(subjectKey);
    if (subjectKey && !subjectKeyId) return undefined;
    return { subjectName: der.subarray(subject.start, subject.end), subjectCanonical: canonicalName(subjectName), subjectKeyId };
  } catch {
    return undefined;
  }
}

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
  const [algorithm, key, ...rest] = derElements(der, info.contentStart, info.end);
  if (!algorithm || hex(der, algorithm) !== RSA_ENCRYPTION || key?.tag !== 0x03 || rest.length > 0) return undefined;
  if (key.end - key.contentStart < 2 || der[key.contentStart] !== 0) return undefined;
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
  const [sequence, ...after] = derElements(value, 0, value.length);
  if (sequence?.tag !== 0x30 || after.length > 0) return undefined;
  const [keyIdentifier, ...others] = derElements(value, sequence.contentStart, sequence.end);
  if (keyIdentifier?.tag !== 0x80 || others.length > 0 || keyIdentifier.end === keyIdentifier.contentStart) return undefined;
  return value.subarray(keyIdentifier.contentStart, keyIdentifier.end);
}

/** SubjectKeyIdentifier ::= OCTET STRING, non-empty, or undefined. */
function readOctetString(value: Uint8Array): Uint8Array | undefined {
  const [octets, ...after] = derElements(value, 0, value.length);
  if (octets?.tag !== 0x04 || after.length > 0 || octets.end === octets.contentStart) return undefined;
  return value.subarray(octets.contentStart, octets.end);
}
