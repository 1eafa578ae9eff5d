// The HTTP routes of serverless.yml, for the fallback function's 404-or-405 answer. A test keeps this list equal
// to serverless.yml, which remains the source.
export const KNOWN_ROUTES: readonly string[] = [
  'POST /checkin',
  'GET /imaging/prestages',
  'GET /imaging/prestages/{id}',
  'GET /imaging/autorun/{deviceId}',
  'GET /admin/settings',
  'PUT /admin/settings',
  'PATCH /admin/settings',
  'GET /admin/settings/history',
  'POST /admin/settings/preview',
  'GET /admin/device-ca',
  'PUT /admin/device-ca',
  'GET /admin/server-certificate',
  'PUT /admin/server-certificate',
  'GET /admin/push-certificate',
  'PUT /admin/push-certificate',
  'DELETE /admin/push-certificate',
  'GET /admin/packages',
  'GET /admin/packages/{packageId}',
  'PUT /admin/packages/{packageId}',
  'DELETE /admin/packages/{packageId}',
  'GET /admin/revocations',
  'PUT /admin/revocations/{sha256}',
  'DELETE /admin/revocations/{sha256}',
  'GET /admin/exemptions',
  'GET /admin/exemptions/{deviceId}',
  'PUT /admin/exemptions/{deviceId}',
  'DELETE /admin/exemptions/{deviceId}',
  'GET /admin/imaging/accounts',
  'PUT /admin/imaging/accounts/{username}',
  'DELETE /admin/imaging/accounts/{username}',
  'PUT /admin/imaging/prestages/{id}',
  'DELETE /admin/imaging/prestages/{id}',
  'PUT /admin/imaging/autorun/{deviceId}',
  'DELETE /admin/imaging/autorun/{deviceId}',
  'GET /admin/devices',
  'GET /admin/devices/{deviceId}/decisions',
  'GET /admin/unauthenticated-attempts',
  'GET /admin/whoami',
  'GET /console',
  'GET /console/{proxy+}',
  'GET /health',
  'GET /openapi.json',
];

function pathMatches(routePath: string, path: string): boolean {
  const routeParts = routePath.split('/').slice(1);
  const parts = path.split('/').slice(1);
  const greedy = routeParts.length > 0 && routeParts[routeParts.length - 1].endsWith('+}');
  if (greedy) return parts.length >= routeParts.length && routeParts.slice(0, -1).every((part, i) => (part.startsWith('{') ? parts[i] !== '' : part === parts[i]));
  return routeParts.length === parts.length && routeParts.every((part, i) => (part.startsWith('{') ? parts[i] !== '' : part === parts[i]));
}

/** The methods allowed on a path (empty when no route has this path). */
export function allowedMethods(path: string): string[] {
  const methods = KNOWN_ROUTES.map((r) => r.split(' ')).filter(([, routePath]) => pathMatches(routePath, path)).map(([method]) => method);
  return [...new Set(methods)];
}
