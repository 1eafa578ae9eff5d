// Admin routes of imaging (API.md §3): imaging accounts, PreStages and Autorun documents. The admin function
// authenticates the caller and checks the role before dispatching here.
import { assertImagingId, assertUsername, DOCUMENT_ID_FIELD, type ImagingDocumentKind, parseAccountBody, parseImagingDocument } from '../domain/imaging.ts';
import type { ChangeAudit } from '../ports/imaging-store.ts';
import type { AdminImagingService } from '../services/imaging/imaging-admin-service.ts';
import type { AdminRoute, AdminRouteContext, AdminRoutes } from './admin-route.ts';
import { jsonResponse, noContent, putResponse } from './responses.ts';

function audit(context: AdminRouteContext): ChangeAudit {
  return { actor: context.actor, changedAt: context.now.toISOString() };
}

export function imagingAdminRoutes(imaging: AdminImagingService): AdminRoutes {
  const putDocument = (kind: ImagingDocumentKind): AdminRoute => async (context) => {
    const field = DOCUMENT_ID_FIELD[kind];
    const id = assertImagingId(context.request.pathParameters[field], field);
    const { created, document } = await imaging.putDocument(kind, id, parseImagingDocument(context.request.json, kind, id), audit(context));
    const { sha256, sizeBytes, createdAt, updatedAt, updatedBy } = document;
    return putResponse(created, { [field]: document.id, sha256, sizeBytes, createdAt, updatedAt, updatedBy });
  };

  const deleteDocument = (kind: ImagingDocumentKind): AdminRoute => async (context) => {
    const field = DOCUMENT_ID_FIELD[kind];
    await imaging.deleteDocument(kind, assertImagingId(context.request.pathParameters[field], field), audit(context));
    return noContent();
  };

  return {
    'GET /admin/imaging/accounts': async () => jsonResponse(200, { items: await imaging.listAccounts() }),

    'PUT /admin/imaging/accounts/{username}': async (context) => {
      const username = assertUsername(context.request.pathParameters.username);
      const { created, account } = await imaging.putAccount(username, parseAccountBody(context.request.json), audit(context));
      return putResponse(created, account);
    },

    'DELETE /admin/imaging/accounts/{username}': async (context) => {
      await imaging.deleteAccount(assertUsername(context.request.pathParameters.username), audit(context));
      return noContent();
    },

    'PUT /admin/imaging/prestages/{id}': putDocument('PRESTAGE'),
    'DELETE /admin/imaging/prestages/{id}': deleteDocument('PRESTAGE'),
    'PUT /admin/imaging/autorun/{deviceId}': putDocument('AUTORUN'),
    'DELETE /admin/imaging/autorun/{deviceId}': deleteDocument('AUTORUN'),
  };
}
