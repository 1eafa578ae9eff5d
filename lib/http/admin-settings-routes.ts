// Admin routes of the settings document (API.md §3 "Settings"): read with its ETag, PUT / PATCH under If-Match, history.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { parseRfc3339 } from '../domain/checkin.ts';
import { HttpError, ValidationError } from '../domain/errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { StoredSettings } from '../ports/config-store.ts';
import type { AdminSettingsService } from '../services/admin/settings-service.ts';
import { INVALID_REQUEST, parseLimit } from './admin-request.ts';
import type { AdminRoutes } from './admin-route.ts';
import { parseIfMatch, settingsETag } from './etag.ts';
import { jsonResponse, pageResponse } from './responses.ts';

/** Content types a merge patch may come with (RFC 7396's own, and plain JSON for tools that only send that). */
const MERGE_PATCH_TYPES = /^application\/(merge-patch\+json|json)\s*(;.*)?$/i;

function settingsResponse({ settings, version, updatedAt, updatedBy }: StoredSettings): APIGatewayProxyStructuredResultV2 {
  return jsonResponse(200, { settings, version, updatedAt, updatedBy }, { ETag: settingsETag(version) });
}

export function settingsRoutes(settings: AdminSettingsService, clock: Clock): AdminRoutes {
  return {
    'GET /admin/settings': async () => settingsResponse(await settings.get()),

    'PUT /admin/settings': async ({ request, actor }) => {
      const precondition = parseIfMatch(request.headers['if-match']);
      if (!precondition) {
        throw new HttpError(
          428,
          'PRECONDITION_REQUIRED',
          'PUT replaces the whole settings document: send If-Match with the ETag of GET /admin/settings (such as "3"), or change single settings with PATCH',
          { field: 'If-Match' },
        );
      }
      return settingsResponse(await settings.replace(request.json, { precondition, actor, clock }));
    },

    'PATCH /admin/settings': async ({ request, actor }) => {
      const contentType = request.headers['content-type'];
      if (request.rawBody.length > 0 && (!contentType || !MERGE_PATCH_TYPES.test(contentType))) {
        throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'A settings patch is a JSON merge patch: send it as application/merge-patch+json or application/json');
      }
      const precondition = parseIfMatch(request.headers['if-match']);
      return settingsResponse(await settings.patch(request.json, { precondition, actor, clock }));
    },

    'GET /admin/settings/history': async ({ request }) => {
      const { query } = request;
      return pageResponse(
        await settings.history({ limit: parseLimit(query), nextToken: query.nextToken, field: parseHistoryField(query.field), since: parseSince(query.since) }),
      );
    },
  };
}

/** A history field name: a setting or a trust-material field (`deviceCa`, `exemption`, …); absent or empty: all. */
function parseHistoryField(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(value)) throw new ValidationError(INVALID_REQUEST, 'field must be the name of a setting or of trust material, such as mode or deviceCa', 'field');
  return value;
}

/** `since` as RFC 3339 with a zone offset; absent or empty: the whole history. */
function parseSince(value: string | undefined): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = parseRfc3339(value);
  if (ms === undefined) throw new ValidationError(INVALID_REQUEST, 'since must be an RFC 3339 timestamp with a zone offset, such as 2026-11-25T00:00:00Z', 'since');
  return new Date(ms);
}
