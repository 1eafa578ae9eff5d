// Response helpers: JSON bodies, pages, and the empty 204.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Page } from '../ports/page.ts';

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** `{ items, nextToken? }`: nextToken only when there is a next page. */
export function pageResponse<T>(page: Page<T>): APIGatewayProxyStructuredResultV2 {
  return jsonResponse(200, page.nextToken ? { items: page.items, nextToken: page.nextToken } : { items: page.items });
}

/** A fresh object each time: the admin function may add headers to what a route returns. */
export const noContent = (): APIGatewayProxyStructuredResultV2 => ({ statusCode: 204, headers: {} });

/**
 * PUT status (RFC 9110 §9.3.4): 201 when it created a collection item (a package, a revocation, an imaging account
 * or document), 200 when it replaced one or changed nothing. The singletons (device CA set, server and push
 * certificates, settings) answer 200.
 */
export function putResponse(created: boolean, body: unknown): APIGatewayProxyStructuredResultV2 {
  return jsonResponse(created ? 201 : 200, body);
}
