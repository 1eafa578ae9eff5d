// Unit tests: certificates openssl will not write, as an attacker makes them (test/support/hand-made-certificates.ts):
// an extension twice, explicit EC curve parameters, two signature algorithm fields that differ. Each is signed
// again by its real issuer, so only the rule under test can refuse it: in an uploaded device CA
// (findDeviceCaNonconformance), as a presented intermediate, as a configured CA, and as a device certificate.

import { OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, type TBSCertificate } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDeviceCaNonconformance } from '../../lib/domain/certificate-path.ts';
import { DeviceCertificateVerifier } from '../../lib/domain/device-certificates.ts';
import { CertificateFactory, derToPem, type MadeCertificate } from '../support/certificates.ts';
import { explicitCurvePublicKey, resigned } from '../support/hand-made-certificates.ts';

const DEVICE = 'C02HANDMADE1';
const NOW = new Date('2026-11-25T18:06:03Z');
const CA_DATES = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2036-01-01T00:00:00Z') };
const LEAF_DATES = { notBefore: new Date('2026-06-01T00:00:00Z'), notAfter: new Date('2027-06-01T00:00:00Z') };
const ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
/** A private, non-critical extension the device CA carries and no rule reads. */
const PRIVATE_EXTENSION = '1.3.6.1.4.1.55738.666.2';

let factory: CertificateFactory;
let root: MadeCertificate;
let ca: MadeCertificate;
let leaf: MadeCertificate;

beforeAll(() => {
  factory = CertificateFactory.create();
  root = factory.makeRootCa({ cn: 'Hand-made Test Root', ...CA_DATES });
  ca = factory.makeIntermediateCa(root, {
    cn: 'Hand-made Device CA',
    keyType: 'ec256',
    ...CA_DATES,
    extraExtensions: [`${PRIVATE_EXTENSION} = ASN1:NULL`],
  });
  leaf = factory.makeDeviceCertificate(ca, { cn: DEVICE, ...LEAF_DATES });
});

afterAll(() => factory?.cleanup());

/** The extension with this OID appended once more, value and criticality unchanged. */
const twice = (oid: string) => (tbs: TBSCertificate) => {
  const extension = tbs.extensions?.find((candidate) => candidate.extnID === oid);
  if (!extension) throw new Error(`no extension ${oid} to repeat`);
  tbs.extensions!.push(extension);
};
const keyUsageTwice = twice('2.5.29.15');
const extKeyUsageTwice = twice('2.5.29.37');
const subjectKeyIdentifierTwice = twice('2.5.29.14');
const privateExtensionTwice = twice(PRIVATE_EXTENSION);
/** extKeyUsage lists clientAuth and, beside it, a text where a purpose's OBJECT IDENTIFIER belongs. */
const textAmongPurposes = (tbs: TBSCertificate) => {
  const extension = tbs.extensions?.find((candidate) => candidate.extnID === '2.5.29.37');
  if (!extension) throw new Error('no extKeyUsage to change');
  const clientAuth = Buffer.from('06082b06010505070302', 'hex');
  const text = Buffer.concat([Buffer.from([0x0c, 10]), Buffer.from('clientAuth')]);
  extension.extnValue = new OctetString(Buffer.concat([Buffer.from([0x30, clientAuth.length + text.length]), clientAuth, text]));
};
const explicitCurve = (owner: MadeCertificate) => (tbs: TBSCertificate) => {
  tbs.subjectPublicKeyInfo = explicitCurvePublicKey(owner);
};
/** The inner signature field says SHA-384 while the outer one (and the signature) is SHA-256. */
const innerAlgorithmSha384 = (tbs: TBSCertificate) => {
  tbs.signature = new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA384 });
};
/** keyUsage holding a NULL where its BIT STRING belongs. */
const undecodableKeyUsage = (tbs: TBSCertificate) => {
  const extension = tbs.extensions?.find((candidate) => candidate.extnID === '2.5.29.15');
  if (!extension) throw new Error('no keyUsage to change');
  extension.extnValue = new OctetString(Buffer.from('0500', 'hex'));
};
/** An X.509 version 1 certificate: no extensions at all, so no basicConstraints CA:TRUE either. */
const version1 = (tbs: TBSCertificate) => {
  tbs.version = 0;
  tbs.extensions = undefined;
};

const verify = (configured: string[], chainDer: Buffer[]) =>
  new DeviceCertificateVerifier(configured, new Set()).verify(
    { way: 'MTLS', chainDer },
    { deviceId: DEVICE, body: Buffer.alloc(0), now: NOW, maxClockSkewSeconds: 300 },
  );
const codes = (result: { violations: Array<{ code: string }> }) => result.violations.map((violation) => violation.code);
const messages = (result: { violations: Array<{ message: string }> }) => result.violations.map((violation) => violation.message);

describe('hand-made device CAs, as an upload reads them', () => {
  it('reads text that holds no certificate block as unreadable', () => {
    expect(findDeviceCaNonconformance('not a certificate')).toEqual([
      { rule: 'certificate-unreadable', message: 'it cannot be read as an X.509 certificate with a supported key' },
    ]);
  });

  it('finds nothing wrong with the CA signed again unchanged (the re-signing itself breaks no rule)', () => {
    expect(findDeviceCaNonconformance(derToPem(resigned(ca.der, root, () => {})))).toEqual([]);
  });

  // Columns: what the CA carries, the change (made once the CA exists), the exact findings.
  it.each([
    ['keyUsage twice', () => keyUsageTwice, [{ rule: 'duplicate-extension', message: 'it holds the keyUsage extension more than once' }]],
    [
      'subjectKeyIdentifier twice',
      () => subjectKeyIdentifierTwice,
      [{ rule: 'duplicate-extension', message: 'it holds the subjectKeyIdentifier extension more than once' }],
    ],
    [
      'an extension no rule reads twice',
      () => privateExtensionTwice,
      [{ rule: 'duplicate-extension', message: `it holds the ${PRIVATE_EXTENSION} extension more than once` }],
    ],
    [
      'its P-256 key with explicit curve parameters',
      () => explicitCurve(ca),
      [{ rule: 'key-policy', message: 'its EC key gives explicit curve parameters instead of naming P-256 or P-384' }],
    ],
    [
      'SHA-384 in the inner signature field',
      () => innerAlgorithmSha384,
      [{ rule: 'signature-algorithm-mismatch', message: 'its two signature algorithm fields differ' }],
    ],
    [
      'version 1, without extensions',
      () => version1,
      [
        { rule: 'certificate-version', message: 'it is an X.509 version 1 certificate, not version 3' },
        { rule: 'basic-constraints-ca', message: 'it is not a CA certificate (it lacks basicConstraints CA:TRUE)' },
      ],
    ],
  ] as Array<[string, () => (tbs: TBSCertificate) => void, unknown]>)('%s', (_name, change, expected) => {
    expect(findDeviceCaNonconformance(derToPem(resigned(ca.der, root, change())))).toEqual(expected);
  });
});

describe('hand-made intermediates presented by a device', () => {
  it('accepts the chain with the intermediate signed again unchanged', () => {
    expect(verify([root.pem], [leaf.der, resigned(ca.der, root, () => {})]).violations).toEqual([]);
  });

  it.each([
    ['holds keyUsage twice', keyUsageTwice, 'it holds the keyUsage extension more than once'],
    ['holds subjectKeyIdentifier twice', subjectKeyIdentifierTwice, 'it holds the subjectKeyIdentifier extension more than once'],
    // tolerated only in a CA configured before the rules (below)
    ['holds an extension no rule reads twice', privateExtensionTwice, `it holds the ${PRIVATE_EXTENSION} extension more than once`],
    ['names its curve by explicit parameters', undefined, 'its EC key gives explicit curve parameters instead of naming P-256 or P-384'],
    ['says SHA-384 inside and SHA-256 outside', innerAlgorithmSha384, 'its two signature algorithm fields differ'],
  ] as Array<[string, ((tbs: TBSCertificate) => void) | undefined, string]>)(
    'refuses, untrusted, a presented intermediate that %s',
    (_name, change, reason) => {
      const result = verify([root.pem], [leaf.der, resigned(ca.der, root, change ?? explicitCurve(ca))]);
      expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
      expect(messages(result)[0]).toContain(`cannot be a CA on the path: ${reason})`);
    },
  );
});

describe('hand-made configured device CAs', () => {
  it('tolerates, in a CA stored before the rules, an extension no rule reads given twice', () => {
    const stored = derToPem(resigned(ca.der, root, privateExtensionTwice));
    expect(verify([stored], [leaf.der]).violations).toEqual([]);
  });

  it('does not let a stored CA that holds keyUsage twice anchor a device (which of the two would the rules read?)', () => {
    const stored = derToPem(resigned(ca.der, root, keyUsageTwice));
    expect(codes(verify([stored], [leaf.der]))).toEqual(['CLIENT_CERT_UNTRUSTED']);
  });

  // Columns: the change, the codes in the check-in path (rules added after such CAs could be stored are tolerated).
  it.each([
    ['SHA-384 in the inner signature field', () => innerAlgorithmSha384, []],
    ['its P-256 key with explicit curve parameters', () => explicitCurve(ca), []],
  ] as Array<[string, () => (tbs: TBSCertificate) => void, string[]]>)('a stored CA with %s', (_name, change, expected) => {
    expect(codes(verify([derToPem(resigned(ca.der, root, change()))], [leaf.der]))).toEqual(expected);
  });

  it('names the undecodable keyUsage of a stored CA as why it does not anchor, not its key identifier', () => {
    const stored = derToPem(resigned(ca.der, root, undecodableKeyUsage));
    const result = verify([stored], [leaf.der]);
    expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(messages(result)[0]).toContain('"CN=Hand-made Device CA" cannot be a CA on the path: its keyUsage extension cannot be decoded)');
  });

  it('refuses a stored version 1 CA for lacking CA:TRUE, the rule no stored CA is exempt from, not for its version', () => {
    const stored = derToPem(resigned(ca.der, root, version1));
    const result = verify([stored], [leaf.der]);
    expect(codes(result)).toEqual(['CLIENT_CERT_UNTRUSTED']);
    expect(messages(result)[0]).toContain(
      'the configured device CA "CN=Hand-made Device CA" cannot be a CA on the path: ' +
        'it is not a CA certificate (it lacks basicConstraints CA:TRUE))',
    );
  });
});

describe('hand-made device certificates', () => {
  it('accepts the device certificate signed again unchanged', () => {
    expect(verify([root.pem], [resigned(leaf.der, ca, () => {}), ca.der]).violations).toEqual([]);
  });

  it.each([
    ['holds extKeyUsage twice', extKeyUsageTwice, 'it holds the extKeyUsage extension more than once'],
    ['holds keyUsage twice', keyUsageTwice, 'it holds the keyUsage extension more than once'],
    ['names its curve by explicit parameters', undefined, 'its EC key gives explicit curve parameters instead of naming P-256 or P-384'],
    ['says SHA-384 inside and SHA-256 outside', innerAlgorithmSha384, 'its two signature algorithm fields differ'],
    ['lists a text beside clientAuth among its extended key usage purposes', textAmongPurposes, 'its extKeyUsage extension cannot be decoded'],
  ] as Array<[string, ((tbs: TBSCertificate) => void) | undefined, string]>)('refuses, invalid, a device certificate that %s', (_name, change, reason) => {
    const result = verify([root.pem], [resigned(leaf.der, ca, change ?? explicitCurve(leaf)), ca.der]);
    expect(messages(result)).toEqual([
      `The device certificate cannot be read unambiguously: ${reason}. Issue the device a certificate encoded as RFC 5280 requires.`,
    ]);
    expect(codes(result)).toEqual(['CLIENT_CERT_INVALID']);
  });
});
