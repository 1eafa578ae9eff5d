// Admin routes of registered packages and revocations (API.md §3 "Trust material").
import type { Clock } from '../ports/clock.ts';
import type { AdminPackagesService } from '../services/admin/packages-service.ts';
import type { AdminRevocationsService } from '../services/admin/revocations-service.ts';
import { normaliseFingerprint, parsePackageBody, parseRevocationBody, requireIdentifierParam } from './admin-request.ts';
import type { AdminRoutes } from './admin-route.ts';
import { jsonResponse, noContent, putResponse } from './responses.ts';

export function packageRoutes(packages: AdminPackagesService, clock: Clock): AdminRoutes {
  const packageId = (params: Record<string, string>) => requireIdentifierParam(params, 'packageId');
  return {
    'GET /admin/packages': async () => jsonResponse(200, { items: await packages.list() }),

    'GET /admin/packages/{packageId}': async ({ request }) => jsonResponse(200, await packages.get(packageId(request.pathParameters))),

    'PUT /admin/packages/{packageId}': async ({ request, actor }) => {
      const id = packageId(request.pathParameters);
      const { record, created } = await packages.put(id, parsePackageBody(request.json), { actor, clock });
      return putResponse(created, record);
    },

    'DELETE /admin/packages/{packageId}': async ({ request, actor }) => {
      await packages.delete(packageId(request.pathParameters), { actor, clock });
      return noContent();
    },
  };
}

export function revocationRoutes(revocations: AdminRevocationsService, clock: Clock): AdminRoutes {
  return {
    'GET /admin/revocations': async () => jsonResponse(200, { items: await revocations.list() }),

    'PUT /admin/revocations/{sha256}': async ({ request, actor }) => {
      const sha256 = normaliseFingerprint(request.pathParameters.sha256);
      const { reason } = parseRevocationBody(request.json);
      const { record, created } = await revocations.revoke(sha256, reason, { actor, clock });
      return putResponse(created, record);
    },

    'DELETE /admin/revocations/{sha256}': async ({ request, actor }) => {
      await revocations.unrevoke(normaliseFingerprint(request.pathParameters.sha256), { actor, clock });
      return noContent();
    },
  };
}
