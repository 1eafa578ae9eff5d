// GET /admin/whoami: the caller's token name and role, so that a client (the admin console) can tell an auditor
// from an admin without trying a write. Any valid token may call it.
import type { AdminRoutes } from './admin-route.ts';
import { jsonResponse } from './responses.ts';

export const whoamiRoutes = (): AdminRoutes => ({
  'GET /admin/whoami': async ({ actor, role }) => jsonResponse(200, { name: actor, role }),
});
