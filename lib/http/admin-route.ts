// The shape of one admin route handler: the admin function authenticates, then dispatches on the route key.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HttpRequest } from './middleware.ts';

export type AdminRole = 'admin' | 'auditor';

export interface AdminRouteContext {
  request: HttpRequest;
  /** The token's name: the actor recorded in the history. */
  actor: string;
  role: AdminRole;
  now: Date;
}

export type AdminRoute = (context: AdminRouteContext) => Promise<APIGatewayProxyStructuredResultV2>;

/** Route key as API Gateway writes it ("PUT /admin/packages/{packageId}") → its handler. */
export type AdminRoutes = Record<string, AdminRoute>;
