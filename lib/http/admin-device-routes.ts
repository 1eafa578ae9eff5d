// Admin routes reading what check-ins left (API.md §3 "Decisions and devices", §1 "Unauthenticated check-ins").
import type { AdminAttemptsService } from '../services/admin/attempts-service.ts';
import type { AdminDevicesService } from '../services/admin/devices-service.ts';
import { parseDeviceStatus, parseLimit, requireIdentifierParam } from './admin-request.ts';
import type { AdminRoutes } from './admin-route.ts';
import { pageResponse } from './responses.ts';

export function deviceRoutes(devices: AdminDevicesService, attempts: AdminAttemptsService): AdminRoutes {
  return {
    'GET /admin/devices': async ({ request: { query } }) =>
      pageResponse(await devices.listDevices(parseDeviceStatus(query.status), parseLimit(query), query.nextToken)),

    'GET /admin/devices/{deviceId}/decisions': async ({ request: { query, pathParameters } }) => {
      const deviceId = requireIdentifierParam(pathParameters, 'deviceId');
      return pageResponse(await devices.listDecisions(deviceId, parseLimit(query), query.nextToken));
    },

    'GET /admin/unauthenticated-attempts': async ({ request: { query } }) => pageResponse(await attempts.list(parseLimit(query), query.nextToken)),
  };
}
