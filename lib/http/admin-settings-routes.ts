// Admin routes of the settings document (API.md §3 "Settings"): read with its ETag, PUT / PATCH under If-Match, history.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describeInvalidTimestamp, parseRfc3339 } from '../domain/checkin.ts';
import { HttpError, ValidationError } from '../domain/errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { StoredSettings } from '../ports/config-store.ts';
import { type AdminPreviewService, DEFAULT_PREVIEW_SINCE_DAYS, type PreviewResult } from '../services/admin/preview-service.ts';
import type { AdminSettingsService } from '../services/admin/settings-service.ts';
import { logger } from '../observability.ts';
import type { HttpRequest } from './middleware.ts';
import { INVALID_REQUEST, parseLimit } from './admin-request.ts';
import type { AdminRoutes } from './admin-route.ts';
import { parseIfMatch, settingsETag } from './etag.ts';
import { jsonResponse, pageResponse } from './responses.ts';

/** Content types a merge patch may come with (RFC 7396's own, and plain JSON for tools that only send that). */
const MERGE_PATCH_TYPES = /^application\/(merge-patch\+json|json)\s*(;.*)?$/i;

function settingsResponse({ settings, version, updatedAt, updatedBy }: StoredSettings): APIGatewayProxyStructuredResultV2 {
  return jsonResponse(200, { settings, version, updatedAt, updatedBy }, { ETag: settingsETag(version) });
}

export function settingsRoutes(settings: AdminSettingsService, preview: AdminPreviewService, clock: Clock): AdminRoutes {
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
      checkMergePatchType(request);
      const precondition = parseIfMatch(request.headers['if-match']);
      if (parseDryRun(request.query.dryRun)) return previewResponse(await preview.preview({ patch: request.json, sinceDays: parseSinceDays(request.query), precondition }));
      return settingsResponse(await settings.patch(request.json, { precondition, actor, clock }));
    },

    'POST /admin/settings/preview': async ({ request }) => {
      checkMergePatchType(request);
      const precondition = parseIfMatch(request.headers['if-match']);
      return previewResponse(await preview.preview({ patch: request.json, sinceDays: parseSinceDays(request.query), precondition }));
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
  if (ms === undefined) throw new ValidationError(INVALID_REQUEST, describeInvalidTimestamp('since', value, '2026-11-25T00:00:00Z'), 'since');
  return new Date(ms);
}

function checkMergePatchType(request: HttpRequest): void {
  const contentType = request.headers['content-type'];
  if (request.rawBody.length > 0 && (!contentType || !MERGE_PATCH_TYPES.test(contentType))) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'A settings patch is a JSON merge patch: send it as application/merge-patch+json or application/json');
  }
}

/** `dryRun=true` previews the patch instead of saving it; `false` or absent saves. */
function parseDryRun(value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new ValidationError(INVALID_REQUEST, 'dryRun must be true (preview the change, save nothing) or false', 'dryRun');
}

/** The longest look back: a year of check-ins (decisions are kept for less; the status keeps each device's latest). */
const MAX_PREVIEW_SINCE_DAYS = 365;

function parseSinceDays(query: Record<string, string | undefined>): number {
  const value = query.sinceDays;
  if (value === undefined || value === '') return DEFAULT_PREVIEW_SINCE_DAYS;
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > MAX_PREVIEW_SINCE_DAYS) {
    throw new ValidationError(INVALID_REQUEST, `sinceDays must be a whole number of days from 1 to ${MAX_PREVIEW_SINCE_DAYS}`, 'sinceDays');
  }
  return Number(value);
}

function previewResponse({ preview, readUnits }: PreviewResult): APIGatewayProxyStructuredResultV2 {
  logger.info('Impact preview', { devices: preview.devices, newlyBlocked: preview.newlyBlocked.count, newlyAccepted: preview.newlyAccepted.count, readUnits });
  return jsonResponse(200, preview);
}
