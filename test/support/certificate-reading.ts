// What the verifier reads of a presented certificate, from either reading (the DER walk or X509Certificate), for tests
// that check the walk reads exactly what X509Certificate does.
import type { ParsedCertificate } from '../../lib/domain/certificate-path.ts';

/** The names, dates, key policy, fingerprint and key of a parsed certificate, or undefined when it was refused. */
export function readingOf(cert: ParsedCertificate | undefined) {
  if (!cert) return undefined;
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    commonNames: cert.commonNames,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    keyProblem: cert.keyProblem,
    fingerprint: cert.fingerprint,
    key: cert.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'),
  };
}
