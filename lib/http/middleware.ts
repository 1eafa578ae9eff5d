// The middy stack every HTTP function uses: header normalisation, body limit, content type, JSON, error mapping.
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
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

/** Wraps an HttpHandler in the middy stack; errors are mapped last, in one place. */
export function httpStack(handler: HttpHandler, options: HttpStackOptions) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(httpHeaderNormalizer())
    .use({
      onError: async (request) => {
        const requestId = request.event?.requestContext?.requestId ?? request.context?.awsRequestId ?? 'unknown';
        request.response = toErrorResponse(request.error, requestId);
      },
    })
    .handler(async (event, context) => handler(readRequest(event, options), context));
}

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
