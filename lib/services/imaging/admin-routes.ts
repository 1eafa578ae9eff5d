// The admin side of imaging (API.md §3): imaging accounts, PreStages and Autorun documents. The admin function
// authenticates the caller and checks the role before dispatching here; these handlers only do the work.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DynamoDbImagingStore } from '../../adapters/dynamodb/imaging-store.ts';
import type { DynamoDbConfigStore } from '../../adapters/dynamodb/config-store.ts';
import { ConflictError, NotFoundError } from '../../domain/errors.ts';
import {
  assertImagingId,
  assertUsername,
  DOCUMENT_ID_FIELD,
  type ImagingDocumentKind,
  MAX_PRESTAGES,
  parseAccountBody,
  parseImagingDocument,
} from '../../domain/imaging.ts';
import type { AdminRoute, AdminRouteContext, AdminRoutes } from '../../http/admin-route.ts';
import { jsonResponse } from '../../http/middleware.ts';
import { hashPassword } from './passwords.ts';
import type { ChangeAudit, ImagingStore } from './ports.ts';

export interface ImagingAdminDeps {
  client: DynamoDBClient;
  configTable: string;
  configStore: DynamoDbConfigStore;
}

/** A fresh object each time: the admin function may add headers to what a route returns. */
const noContent = (): APIGatewayProxyStructuredResultV2 => ({ statusCode: 204, headers: {} });

function audit(context: AdminRouteContext): ChangeAudit {
  return { actor: context.actor, changedAt: context.now.toISOString() };
}

/** The routes over any ImagingStore (tests may pass another implementation). */
export function imagingAdminRoutesFor(store: ImagingStore): AdminRoutes {
  const putDocument = (kind: ImagingDocumentKind): AdminRoute => async (context) => {
    const field = DOCUMENT_ID_FIELD[kind];
    const id = assertImagingId(context.request.pathParameters[field], field);
    const document = parseImagingDocument(context.request.json, kind, id);
    if (kind === 'PRESTAGE' && !(await store.getDocument(kind, id)) && (await store.countDocuments(kind)) >= MAX_PRESTAGES) {
      throw new ConflictError('TOO_MANY_PRESTAGES', `At most ${MAX_PRESTAGES} PreStages can be stored; delete one first`);
    }
    const { created, document: stored } = await store.putDocument(kind, id, document, audit(context));
    return jsonResponse(created ? 201 : 200, {
      [field]: stored.id,
      sha256: stored.sha256,
      sizeBytes: stored.sizeBytes,
      createdAt: stored.createdAt,
      updatedAt: stored.updatedAt,
      updatedBy: stored.updatedBy,
    });
  };

  const deleteDocument = (kind: ImagingDocumentKind): AdminRoute => async (context) => {
    const field = DOCUMENT_ID_FIELD[kind];
    const id = assertImagingId(context.request.pathParameters[field], field);
    if (!(await store.deleteDocument(kind, id, audit(context)))) throw new NotFoundError(kind === 'PRESTAGE' ? `No PreStage "${id}"` : `No Autorun information for device "${id}"`);
    return noContent();
  };

  return {
    'GET /admin/imaging/accounts': async () => jsonResponse(200, { items: await store.listAccounts() }),

    'PUT /admin/imaging/accounts/{username}': async (context) => {
      const username = assertUsername(context.request.pathParameters.username);
      const password = parseAccountBody(context.request.json);
      const { created, account } = await store.putAccount(username, await hashPassword(password), audit(context));
      return jsonResponse(created ? 201 : 200, account);
    },

    'DELETE /admin/imaging/accounts/{username}': async (context) => {
      const username = assertUsername(context.request.pathParameters.username);
      if (!(await store.deleteAccount(username, audit(context)))) throw new NotFoundError(`No imaging account "${username}"`);
      return noContent();
    },

    'PUT /admin/imaging/prestages/{id}': putDocument('PRESTAGE'),
    'DELETE /admin/imaging/prestages/{id}': deleteDocument('PRESTAGE'),
    'PUT /admin/imaging/autorun/{deviceId}': putDocument('AUTORUN'),
    'DELETE /admin/imaging/autorun/{deviceId}': deleteDocument('AUTORUN'),
  };
}

/** The imaging admin routes, keyed as in serverless.yml; merged into the admin router after authentication. */
export function makeImagingAdminRoutes(deps: ImagingAdminDeps): AdminRoutes {
  return imagingAdminRoutesFor(new DynamoDbImagingStore(deps.client, deps.configTable, deps.configStore));
}
