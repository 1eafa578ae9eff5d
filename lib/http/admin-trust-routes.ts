// Admin routes of the certificates (API.md §3 "Trust material"): device CA set, server and push certificates.
import type { Clock } from '../ports/clock.ts';
import type { AdminTrustService } from '../services/admin/trust-service.ts';
import { parseDeviceCaBody, parsePushCertificateBody, parseServerCertificateBody } from './admin-request.ts';
import type { AdminRoutes } from './admin-route.ts';
import { jsonResponse, noContent } from './responses.ts';

export function trustRoutes(trust: AdminTrustService, clock: Clock): AdminRoutes {
  return {
    'GET /admin/device-ca': async () => jsonResponse(200, await trust.getDeviceCas()),

    'PUT /admin/device-ca': async ({ request, actor }) => {
      return jsonResponse(200, await trust.replaceDeviceCas(parseDeviceCaBody(request.json), { actor, clock }));
    },

    'GET /admin/server-certificate': async () => jsonResponse(200, await trust.getServerCertificate()),

    'PUT /admin/server-certificate': async ({ request, actor }) => {
      return jsonResponse(200, await trust.replaceServerCertificate(parseServerCertificateBody(request.json), { actor, clock }));
    },

    'GET /admin/push-certificate': async ({ now }) => jsonResponse(200, await trust.getPushCertificate(now)),

    'PUT /admin/push-certificate': async ({ request, actor }) => {
      const { p12, password } = parsePushCertificateBody(request.json);
      return jsonResponse(200, await trust.replacePushCertificate(p12, password, { actor, clock }));
    },

    'DELETE /admin/push-certificate': async ({ actor }) => {
      await trust.deletePushCertificate({ actor, clock });
      return noContent();
    },
  };
}
