// Certificates openssl will not write, as an attacker would make them: an openssl-made certificate whose
// to-be-signed part is changed (an extension twice, explicit EC curve parameters, another signature algorithm in
// it), then signed again with the issuer's key, so that the signature is valid and only the changed rule can refuse it.

import { execFileSync } from 'node:child_process';
import { sign } from 'node:crypto';
import { AsnParser, AsnSerializer } from '@peculiar/asn1-schema';
import { Certificate, SubjectPublicKeyInfo, type TBSCertificate } from '@peculiar/asn1-x509';
import type { KeyMaterial } from './certificates.ts';

/** `der` with its to-be-signed part changed by `edit`, signed again with `signerKey` (SHA-256). */
export function resigned(der: Uint8Array, signerKey: Pick<KeyMaterial, 'keyPem'>, edit: (tbs: TBSCertificate) => void): Buffer {
  const certificate = AsnParser.parse(der, Certificate);
  edit(certificate.tbsCertificate);
  const tbs = Buffer.from(AsnSerializer.serialize(certificate.tbsCertificate));
  certificate.signatureValue = new Uint8Array(sign('sha256', tbs, signerKey.keyPem)).buffer;
  return Buffer.from(AsnSerializer.serialize(certificate));
}

/** The same EC key's SubjectPublicKeyInfo with the curve given by explicit parameters, as `openssl ec -param_enc explicit` writes it. */
export function explicitCurvePublicKey(key: Pick<KeyMaterial, 'keyPath'>): SubjectPublicKeyInfo {
  const der = execFileSync('openssl', ['ec', '-in', key.keyPath, '-pubout', '-param_enc', 'explicit', '-outform', 'DER'], { stdio: 'pipe' });
  return AsnParser.parse(der, SubjectPublicKeyInfo);
}
