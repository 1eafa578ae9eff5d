// Unit tests: findDeviceCaNonconformance, the device CA rules a stored or uploaded CA certificate breaks (what the
// upload refuses and the daily CERTIFICATE_NONCONFORMING alert names), one openssl-made CA per rule.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDeviceCaNonconformance } from '../../lib/domain/certificate-path.ts';
import { CertificateFactory, type CertificateOptions, type MadeCertificate } from '../support/certificates.ts';

let factory: CertificateFactory;
let root: MadeCertificate;

beforeAll(() => {
  factory = CertificateFactory.create();
  root = factory.makeRootCa({ cn: 'Conformance Root' });
});

afterAll(() => factory?.cleanup());

/** An intermediate CA below the root: conforming, except for what `options` changes. */
const caWith = (options: Partial<CertificateOptions>) => factory.makeIntermediateCa(root, { cn: 'Device CA', keyType: 'ec256', ...options });

describe('findDeviceCaNonconformance', () => {
  it('finds nothing wrong with a conforming root or intermediate (the factory default)', () => {
    expect(findDeviceCaNonconformance(root.pem)).toEqual([]);
    expect(findDeviceCaNonconformance(caWith({}).pem)).toEqual([]);
  });

  it('accepts a CA whose critical name constraints and pathLenConstraint are well formed', () => {
    expect(findDeviceCaNonconformance(caWith({ pathLength: 0, nameConstraints: 'critical,permitted;DNS:example.com' }).pem)).toEqual([]);
  });

  // Columns: the rule, how the CA breaks it, the exact message.
  it.each([
    // CA:FALSE (with keyCertSign, so that nothing else is wrong)
    ['basic-constraints-ca', { ca: false, keyUsage: 'critical,keyCertSign,cRLSign' }, 'it is not a CA certificate (it lacks basicConstraints CA:TRUE)'],
    // no basicConstraints at all
    ['basic-constraints-ca', { basicConstraints: 'none' }, 'it is not a CA certificate (it lacks basicConstraints CA:TRUE)'],
    // CA:TRUE, not marked critical
    ['basic-constraints-critical', { basicConstraints: 'CA:TRUE' }, 'its basicConstraints extension is not marked critical, as RFC 5280 requires of a CA'],
    // keyUsage without keyCertSign
    ['key-usage-key-cert-sign', { keyUsage: 'critical,digitalSignature,cRLSign' }, 'its keyUsage does not include keyCertSign'],
    // the device key policy: RSA below 2048 bits
    ['key-policy', { keyType: 'rsa1024' }, 'its RSA key has 1024 bits, fewer than the 2048 required'],
    // the device key policy: P-521
    ['key-policy', { keyType: 'ec521' }, 'its EC key is on the curve secp521r1, and only P-256 and P-384 are supported'],
    // a critical extension nobody processes
    [
      'unrecognised-critical-extension',
      { extraExtensions: ['1.3.6.1.4.1.55738.666.1 = critical,ASN1:NULL'] },
      'it has a critical 1.3.6.1.4.1.55738.666.1 extension, which this verifier does not process',
    ],
    // an empty subject
    ['empty-subject', { cn: '', subject: '/' }, 'its subject is empty, which RFC 5280 forbids for a CA'],
    // name constraints that are not critical
    ['name-constraints-critical', { nameConstraints: 'permitted;DNS:example.com' }, 'its nameConstraints extension is not marked critical, as RFC 5280 requires'],
    // a DNS subtree with a leading period
    [
      'name-constraints-malformed',
      { nameConstraints: 'critical,permitted;DNS:.example.com' },
      'its name constraints cannot be applied: a dNSName subtree is not a host name',
    ],
    // an IP subtree whose mask is not a prefix
    [
      'name-constraints-malformed',
      { nameConstraints: 'critical,permitted;IP:10.0.0.0/255.0.255.0' },
      'its name constraints cannot be applied: an iPAddress subtree has a mask that is not a prefix',
    ],
    // name constraints that name no subtree at all (an empty NameConstraints SEQUENCE)
    [
      'name-constraints-malformed',
      { extraExtensions: ['2.5.29.30 = critical,DER:30:00'] },
      'its name constraints cannot be applied: it names neither permitted nor excluded subtrees',
    ],
    // a permitted subtree with minimum 1 (DNS:a.com), which RFC 5280 forbids
    [
      'name-constraints-malformed',
      { extraExtensions: ['2.5.29.30 = critical,DER:30:0e:a0:0c:30:0a:82:05:61:2e:63:6f:6d:80:01:01'] },
      'its name constraints cannot be applied: a subtree has a minimum other than 0 or a maximum, which RFC 5280 forbids',
    ],
    // a permitted subtree with a maximum (DNS:ex.com, maximum 5) and the default minimum, which RFC 5280 forbids too
    [
      'name-constraints-malformed',
      { extraExtensions: ['2.5.29.30 = critical,DER:30:0f:a0:0d:30:0b:82:06:65:78:2e:63:6f:6d:81:01:05'] },
      'its name constraints cannot be applied: a subtree has a minimum other than 0 or a maximum, which RFC 5280 forbids',
    ],
    // a well-formed subtree (DNS:ex.com) followed by one with a maximum (DNS:a.com, maximum 5): one bad subtree is enough
    [
      'name-constraints-malformed',
      { extraExtensions: ['2.5.29.30 = critical,DER:30:19:a0:17:30:08:82:06:65:78:2e:63:6f:6d:30:0b:82:05:61:2e:63:6f:6d:81:02:00:05'] },
      'its name constraints cannot be applied: a subtree has a minimum other than 0 or a maximum, which RFC 5280 forbids',
    ],
    // an iPAddress subtree of 4 bytes: an address without its mask
    [
      'name-constraints-malformed',
      { extraExtensions: ['2.5.29.30 = critical,DER:30:0a:a0:08:30:06:87:04:0a:00:00:01'] },
      'its name constraints cannot be applied: an iPAddress subtree is not an address with a mask',
    ],
    // policy constraints, not critical
    [
      'policy-constraints-critical',
      { extraExtensions: ['policyConstraints = requireExplicitPolicy:0'] },
      'its policyConstraints extension is not marked critical, as RFC 5280 requires',
    ],
    // an extended key usage extension that names no purpose
    ['malformed-extension', { extraExtensions: ['2.5.29.37 = DER:3000'] }, 'its extKeyUsage extension cannot be decoded'],
    // a subjectAltName extension that holds no name (an empty GeneralNames SEQUENCE)
    ['malformed-extension', { extraExtensions: ['2.5.29.17 = DER:3000'] }, 'its subjectAltName extension cannot be decoded'],
  ] as Array<[string, Partial<CertificateOptions>, string]>)('%s: %j', (rule, options, message) => {
    expect(findDeviceCaNonconformance(caWith(options).pem)).toEqual([{ rule, message }]);
  });

  it('names every rule a CA breaks, in a fixed order', () => {
    const ca = caWith({ basicConstraints: 'CA:TRUE', keyType: 'rsa1024', extraExtensions: ['1.3.6.1.4.1.55738.666.1 = critical,ASN1:NULL'] });
    expect(findDeviceCaNonconformance(ca.pem).map((broken) => broken.rule)).toEqual([
      'basic-constraints-critical',
      'key-policy',
      'unrecognised-critical-extension',
    ]);
  });

  it('refuses basicConstraints CA:TRUE with a negative pathLenConstraint (-1) as undecodable, so not a CA either', () => {
    const ca = caWith({ basicConstraints: 'critical,DER:30:06:01:01:ff:02:01:ff' });
    expect(findDeviceCaNonconformance(ca.pem)).toEqual([
      { rule: 'malformed-extension', message: 'its basicConstraints extension cannot be decoded' },
      { rule: 'basic-constraints-ca', message: 'it is not a CA certificate (it lacks basicConstraints CA:TRUE)' },
    ]);
  });

  it('reads the first certificate of a PEM with text around it', () => {
    const legacy = caWith({ basicConstraints: 'CA:TRUE' });
    expect(findDeviceCaNonconformance(`subject=CN=Device CA\n${legacy.pem}${root.pem}`).map((broken) => broken.rule)).toEqual([
      'basic-constraints-critical',
    ]);
  });

  it('says certificate-unreadable for text that is no certificate', () => {
    expect(findDeviceCaNonconformance('-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n')).toEqual([
      { rule: 'certificate-unreadable', message: 'it cannot be read as an X.509 certificate with a supported key' },
    ]);
  });
});
