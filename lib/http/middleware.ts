// The middy stack every HTTP function uses: header normalisation, body limit, content type, JSON, error mapping.
//
// Why the body is read here and not by @middy/http-json-body-parser, and errors mapped by toErrorResponse rather than
// @middy/http-error-handler (measured with the installed 6.4.5, by running each over API Gateway events):
// - http-json-body-parser answers malformed JSON with 415 "Invalid or malformed JSON was provided" (API.md: 400
//   INVALID_JSON); an empty body with a JSON type with that same 415 (here: no body); a request without body and
//   without Content-Type with 415 (every GET and DELETE would need the parser skipped); and `Application/JSON` or
//   `application/json ; charset=utf-8` with 415 (media types are case-insensitive, RFC 9110 §8.3.1). It replaces
//   event.body with the parsed value, while the check-in verifies X-Device-Signature over the exact bytes, and it
//   has no size limit (413 here, from Content-Length, before anything is decoded). Using it would take a middleware
//   before it (limit, raw bytes, empty bodies) and a translation of its two 415s by their message text: more code
//   than the JSON.parse it would replace.
// - http-error-handler answers an error with statusCode 412 with its message as a text/plain body (no code, no
//   requestId, API.md's error shape lost) and a non-HTTP error with a bare 500 and no body; the contract's shape,
//   Retry-After, the 503 metric and the log line with the request id are toErrorResponse's. The onError below is
//   the one mapping, placed where http-error-handler would be: last.
//   test/unit/http-middleware.test.ts keeps these measurements: an upgrade that changes them fails it.
// - @middy/http-content-negotiation is not needed: nothing here negotiates (Accept is not read, every answer is
//   JSON), and adding it would answer `Accept: text/html` with 406, which the contract does not have.
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { runWithDeadline } from '../invocation-deadline.ts';
import { HttpError } from '../domain/errors.ts';
import { toErrorResponse } from './errors.ts';

/** The API Gateway event once the stack has read it: headers lower-cased, the exact body bytes, the parsed JSON. */
export interface HttpRequest {
  event: APIGatewayProxyEventV2;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  method: string;
  path: string;
  pathParameters: Record<string, string>;
  query: Record<string, string>;
  rawBody: Buffer;
  /** The parsed JSON body; undefined when there is no body. */
  json: unknown;
  requestId: string;
  sourceIp: string;
}

export type HttpHandler = (request: HttpRequest, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export interface HttpStackOptions {
  /** Largest accepted body, in bytes (413 above). */
  maxBodyBytes: number;
  /** False for routes that never read a body: it is then neither limited, typed nor parsed. */
  readBody?: boolean;
}

const JSON_CONTENT_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;.*)?$/i;

function bodyBytes(event: APIGatewayProxyEventV2): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

/** Reads the request the way every Tollgate HTTP function does; the errors it raises follow API.md's table. */
export function readRequest(event: APIGatewayProxyEventV2, options: HttpStackOptions): HttpRequest {
  assertHttpApiEvent(event);
  const headers = (event.headers ?? {}) as Record<string, string | undefined>;
  const requestId = event.requestContext?.requestId ?? 'unknown';
  if (options.readBody === false) return describe(event, headers, Buffer.alloc(0), undefined, requestId);
  // Declared length first, so an oversized body is refused before it is decoded.
  const declaredLength = Number(headers['content-length']);
  if (Number.isFinite(declaredLength) && declaredLength > options.maxBodyBytes) throw tooLarge(options.maxBodyBytes);
  const rawBody = bodyBytes(event);
  if (rawBody.length > options.maxBodyBytes) throw tooLarge(options.maxBodyBytes);

  let json: unknown;
  if (rawBody.length > 0) {
    const contentType = headers['content-type'];
    if (!contentType || !JSON_CONTENT_TYPE.test(contentType)) {
      throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'The body must be JSON, sent with Content-Type: application/json');
    }
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new HttpError(400, 'INVALID_JSON', 'The body is not valid JSON');
    }
  }
  return describe(event, headers, rawBody, json, requestId);
}

/**
 * API Gateway always sends requestContext.http; an event without it (hand-written for `npm run invoke`, or another
 * event source wired to the function) is refused as a bad request before any handler reads it.
 */
function assertHttpApiEvent(event: APIGatewayProxyEventV2): void {
  const http = (event as Partial<APIGatewayProxyEventV2> | null | undefined)?.requestContext?.http;
  if (typeof http?.method !== 'string') {
    throw new HttpError(
      400,
      'INVALID_REQUEST',
      'The event is not an API Gateway HTTP API request (payload format 2.0): it has no requestContext.http; send the request over HTTP instead (npm start serves every route)',
    );
  }
}

function describe(event: APIGatewayProxyEventV2, headers: Record<string, string | undefined>, rawBody: Buffer, json: unknown, requestId: string): HttpRequest {
  return {
    event,
    headers,
    method: event.requestContext?.http?.method ?? 'GET',
    path: event.rawPath ?? event.requestContext?.http?.path ?? '/',
    pathParameters: (event.pathParameters ?? {}) as Record<string, string>,
    query: (event.queryStringParameters ?? {}) as Record<string, string>,
    rawBody,
    json,
    requestId,
    sourceIp: event.requestContext?.http?.sourceIp ?? 'unknown',
  };
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'PAYLOAD_TOO_LARGE', `The body is larger than the ${limit / 1024} KiB allowed`);
}

/**
 * Wraps an HttpHandler in the middy stack; errors are mapped last, in one place. The handler runs under the
 * invocation's deadline (lib/invocation-deadline.ts): every DynamoDB call it makes is aborted ANSWER_MARGIN_MS before
 * the function would time out (an aborted call is a StoreUnavailableError: 503 UNAVAILABLE), when middy's own
 * timeout answers first, or once the handler has answered.
 */
export function httpStack(handler: HttpHandler, options: HttpStackOptions) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(httpHeaderNormalizer())
    .use({
      onError: async (request) => {
        const requestId = request.event?.requestContext?.requestId ?? request.context?.awsRequestId ?? 'unknown';
        request.response = toErrorResponse(request.error, requestId);
      },
    })
    .handler(async (event, context, { signal }) => runWithDeadline(context, () => handler(readRequest(event, options), context), { also: signal }));
}
