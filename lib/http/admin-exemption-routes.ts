// Admin routes of device exemptions (API.md §3 "Exemptions"). Auditors may read; the admin handler keeps writes to
// admins by method.
import type { AdminExemptionsService } from '../services/admin/exemptions-service.ts';
import { parseExemptionBody, requireIdentifierParam } from './admin-request.ts';
import type { AdminRoutes } from './admin-route.ts';
import { jsonResponse, noContent, putResponse } from './responses.ts';

export function exemptionRoutes(exemptions: AdminExemptionsService): AdminRoutes {
  const deviceId = (params: Record<string, string>) => requireIdentifierParam(params, 'deviceId');
  return {
    'GET /admin/exemptions': async () => jsonResponse(200, { items: await exemptions.list() }),

    'GET /admin/exemptions/{deviceId}': async ({ request }) => jsonResponse(200, await exemptions.get(deviceId(request.pathParameters))),

    'PUT /admin/exemptions/{deviceId}': async ({ request, actor }) => {
      const id = deviceId(request.pathParameters);
      const { exemption, created } = await exemptions.put(id, parseExemptionBody(request.json), actor);
      return putResponse(created, exemption);
    },

    'DELETE /admin/exemptions/{deviceId}': async ({ request, actor }) => {
      await exemptions.delete(deviceId(request.pathParameters), actor);
      return noContent();
    },
  };
}
