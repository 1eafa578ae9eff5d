// The admin route table (API.md §3): route key → handler. Authentication and roles are checked before any runs.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { DynamoDbConfigStore } from '../../adapters/dynamodb/config-store.ts';
import { HttpError, ValidationError } from '../../domain/errors.ts';
import type { AdminRouteContext, AdminRoutes } from '../../http/admin-route.ts';
import { jsonResponse } from '../../http/middleware.ts';
import type { Clock, DecisionStore, DeviceStatusStore, Page, StoredSettings, UnauthenticatedAttemptStore } from '../../ports.ts';
import { AdminAttemptsService } from './attempts-service.ts';
import { AdminDevicesService, parseDeviceStatus } from './devices-service.ts';
import { AdminPackagesService, parsePackageBody } from './packages-service.ts';
import {
  INVALID_REQUEST,
  normaliseFingerprint,
  parseIfMatch,
  parseLimit,
  readObjectBody,
  requireIdentifierParam,
} from './request.ts';
import { AdminRevocationsService, parseRevocationBody } from './revocations-service.ts';
import { AdminSettingsService } from './settings-service.ts';
import { AdminTrustService } from './trust-service.ts';

export interface AdminRouteDeps {
  configStore: DynamoDbConfigStore;
  decisionStore: DecisionStore & DeviceStatusStore;
  attemptStore: UnauthenticatedAttemptStore;
  clock: Clock;
}

/** Content types a merge patch may come with (RFC 7396's own, and plain JSON for tools that only send that). */
const MERGE_PATCH_TYPES = /^application\/(merge-patch\+json|json)\s*(;.*)?$/i;

function settingsResponse(stored: StoredSettings): APIGatewayProxyStructuredResultV2 {
  const { settings, version, updatedAt, updatedBy } = stored;
  return jsonResponse(200, { settings, version, updatedAt, updatedBy }, { ETag: `"${version}"` });
}

function pageResponse<T>(page: Page<T>): APIGatewayProxyStructuredResultV2 {
  return jsonResponse(200, page.nextToken ? { items: page.items, nextToken: page.nextToken } : { items: page.items });
}

const noContent = (): APIGatewayProxyStructuredResultV2 => ({ statusCode: 204, headers: {} });

// PUT status (RFC 9110 §9.3.4): 201 when it created a collection item (a package, a revocation; as the imaging
// accounts and documents do), 200 when it replaced one or changed nothing. The singletons (device CA set, server and
// push certificates, settings) answer 200.

function textField(body: Record<string, unknown>, field: string, options: { allowEmpty?: boolean } = {}): string {
  const value = body[field];
  if (value === undefined || value === null) throw new ValidationError(INVALID_REQUEST, `${field} is required`, field);
  if (typeof value !== 'string' || (!options.allowEmpty && value.length === 0)) {
    throw new ValidationError(INVALID_REQUEST, `${field} must be a ${options.allowEmpty ? '' : 'non-empty '}string`, field);
  }
  return value;
}

export function makeAdminRoutes(deps: AdminRouteDeps): AdminRoutes {
  const settings = new AdminSettingsService(deps.configStore);
  const trust = new AdminTrustService(deps.configStore);
  const packages = new AdminPackagesService(deps.configStore);
  const revocations = new AdminRevocationsService(deps.configStore);
  const devices = new AdminDevicesService(deps.decisionStore);
  const attempts = new AdminAttemptsService(deps.attemptStore, deps.clock);
  const change = ({ actor }: AdminRouteContext) => ({ actor, clock: deps.clock });

  return {
    'GET /admin/settings': async () => settingsResponse(await settings.get()),

    'PUT /admin/settings': async (ctx) => {
      const precondition = parseIfMatch(ctx.request.headers['if-match']);
      return settingsResponse(await settings.replace(ctx.request.json, { precondition, ...change(ctx) }));
    },

    'PATCH /admin/settings': async (ctx) => {
      const contentType = ctx.request.headers['content-type'];
      if (ctx.request.rawBody.length > 0 && (!contentType || !MERGE_PATCH_TYPES.test(contentType))) {
        throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'A settings patch is a JSON merge patch: send it as application/merge-patch+json or application/json');
      }
      const precondition = parseIfMatch(ctx.request.headers['if-match']);
      return settingsResponse(await settings.patch(ctx.request.json, { precondition, ...change(ctx) }));
    },

    'GET /admin/settings/history': async (ctx) => {
      const limit = parseLimit(ctx.request.query);
      return jsonResponse(200, { items: await settings.history(limit) });
    },

    'GET /admin/device-ca': async () => jsonResponse(200, await trust.getDeviceCas()),

    'PUT /admin/device-ca': async (ctx) => {
      const body = readObjectBody(ctx.request.json, ['certificates']);
      return jsonResponse(200, await trust.replaceDeviceCas(textField(body, 'certificates'), change(ctx)));
    },

    'GET /admin/server-certificate': async () => jsonResponse(200, await trust.getServerCertificate()),

    'PUT /admin/server-certificate': async (ctx) => {
      const body = readObjectBody(ctx.request.json, ['certificate']);
      return jsonResponse(200, await trust.replaceServerCertificate(textField(body, 'certificate'), change(ctx)));
    },

    'GET /admin/push-certificate': async (ctx) => jsonResponse(200, await trust.getPushCertificate(ctx.now)),

    'PUT /admin/push-certificate': async (ctx) => {
      const body = readObjectBody(ctx.request.json, ['p12', 'password']);
      const p12 = textField(body, 'p12');
      // An empty password is a real PKCS#12 case (openssl -passout pass:); a missing one is a client mistake.
      const password = textField(body, 'password', { allowEmpty: true });
      return jsonResponse(200, await trust.replacePushCertificate(p12, password, change(ctx)));
    },

    'DELETE /admin/push-certificate': async (ctx) => {
      await trust.deletePushCertificate(change(ctx));
      return noContent();
    },

    'GET /admin/packages': async () => jsonResponse(200, { items: await packages.list() }),

    'GET /admin/packages/{packageId}': async (ctx) =>
      jsonResponse(200, await packages.get(requireIdentifierParam(ctx.request.pathParameters, 'packageId'))),

    'PUT /admin/packages/{packageId}': async (ctx) => {
      const packageId = requireIdentifierParam(ctx.request.pathParameters, 'packageId');
      const { record, created } = await packages.put(packageId, parsePackageBody(ctx.request.json), change(ctx));
      return jsonResponse(created ? 201 : 200, record);
    },

    'DELETE /admin/packages/{packageId}': async (ctx) => {
      await packages.delete(requireIdentifierParam(ctx.request.pathParameters, 'packageId'), change(ctx));
      return noContent();
    },

    'GET /admin/revocations': async () => jsonResponse(200, { items: await revocations.list() }),

    'PUT /admin/revocations/{sha256}': async (ctx) => {
      const sha256 = normaliseFingerprint(ctx.request.pathParameters.sha256);
      const { reason } = parseRevocationBody(ctx.request.json);
      const { record, created } = await revocations.revoke(sha256, reason, change(ctx));
      return jsonResponse(created ? 201 : 200, record);
    },

    'DELETE /admin/revocations/{sha256}': async (ctx) => {
      await revocations.unrevoke(normaliseFingerprint(ctx.request.pathParameters.sha256), change(ctx));
      return noContent();
    },

    'GET /admin/devices': async (ctx) => {
      const { query } = ctx.request;
      const status = parseDeviceStatus(query.status);
      return pageResponse(await devices.listDevices(status, parseLimit(query), query.nextToken));
    },

    'GET /admin/devices/{deviceId}/decisions': async (ctx) => {
      const deviceId = requireIdentifierParam(ctx.request.pathParameters, 'deviceId');
      const { query } = ctx.request;
      return pageResponse(await devices.listDecisions(deviceId, parseLimit(query), query.nextToken));
    },

    'GET /admin/unauthenticated-attempts': async (ctx) => {
      const { query } = ctx.request;
      return pageResponse(await attempts.list(parseLimit(query), query.nextToken));
    },
  };
}
