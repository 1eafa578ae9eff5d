// Rule: whether the device had to verify the server's SSL certificate on this connection.
import type { Finding } from '../errors.ts';
import type { Observations } from '../observations.ts';
import type { SslCertificateVerification } from '../settings.ts';

export function checkServerCertificateVerification(
  policy: SslCertificateVerification,
  observed: Pick<Observations, 'phase' | 'serverCertificateVerified'>,
): Finding[] {
  if (observed.serverCertificateVerified || policy === 'NEVER') return [];
  if (policy === 'ALWAYS_EXCEPT_DURING_ENROLLMENT' && observed.phase === 'ENROLLMENT') return [];
  const when = policy === 'ALWAYS' ? 'on every connection' : 'outside enrollment';
  return [
    {
      code: 'SERVER_CERT_NOT_VERIFIED',
      message: `The device did not verify the server's SSL certificate, which is required ${when}; make the device trust the server certificate's issuer.`,
    },
  ];
}
