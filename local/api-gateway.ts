// A local stand-in for API Gateway (HTTP API, payload 2.0): plain HTTP and HTTPS with client certificates, routes
// from serverless.yml, real APIGatewayProxyEventV2 events, so the handlers cannot tell local from AWS.
import { randomUUID, X509Certificate } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type HttpRoute, matchRoutePath } from './serverless-config.ts';
import type { RequestSummary } from './terminal.ts';

export type LambdaHandler = (event: any, context: Context) => Promise<any>;

/** API Gateway's own limit on a request body. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
const TEXT_TYPES = /^(application\/([a-z0-9.+-]*\+)?json|text\/|application\/(xml|x-www-form-urlencoded))/i;

export interface RouteTarget {
  route: HttpRoute;
  invoke: LambdaHandler;
}

/**
 * The request target as a URL. The target is a path ("/a//b?c"): read against a base, "//host/x" would be taken for
 * a URL of another host (and "//.-:" throws), so the path is appended to the origin instead.
 */
export function requestUrl(target: string | undefined): URL {
  return new URL(`http://localhost${target?.startsWith('/') ? target : `/${target ?? ''}`}`);
}

/**
 * A Lambda context as the runtime gives one: getRemainingTimeInMillis counts down from the function's timeout (30 s
 * when none is known), so the invocation's deadline (lib/invocation-deadline.ts) behaves locally as in AWS.
 */
export function lambdaContext(functionName: string, requestId: string = randomUUID(), timeoutSeconds = 30): Context {
  const timesOutAt = Date.now() + timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, timesOutAt - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Picks the route as API Gateway does: exact method and path first, then ANY, then greedy paths, then $default. */
export function findRoute(targets: RouteTarget[], method: string, path: string): { target: RouteTarget; pathParameters: Record<string, string> } | undefined {
  const candidates = targets
    .filter((t) => t.route.path !== '*')
    .map((t) => ({ target: t, pathParameters: matchRoutePath(t.route.path, path) }))
    .filter((c): c is { target: RouteTarget; pathParameters: Record<string, string> } => c.pathParameters !== undefined)
    .filter((c) => c.target.route.method === method || c.target.route.method === 'ANY');
  const specificity = (c: { target: RouteTarget }) =>
    (c.target.route.path.includes('+}') ? 0 : 100) + (c.target.route.method === 'ANY' ? 0 : 10) - (c.target.route.path.match(/\{/g)?.length ?? 0);
  candidates.sort((a, b) => specificity(b) - specificity(a));
  if (candidates[0]) return candidates[0];
  const fallback = targets.find((t) => t.route.path === '*');
  return fallback ? { target: fallback, pathParameters: {} } : undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function toEvent(req: IncomingMessage, body: Buffer, route: HttpRoute, pathParameters: Record<string, string>, clientCertPem?: string): APIGatewayProxyEventV2 {
  const url = requestUrl(req.url);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const cookies = headers.cookie?.split(';').map((c) => c.trim());
  delete headers.cookie;
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  const now = new Date();
  const requestId = randomUUID();
  const contentType = headers['content-type'] ?? '';
  const isText = body.length === 0 || TEXT_TYPES.test(contentType);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    cookies,
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0],
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: route.routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length > 0 ? (isText ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: body.length > 0 && !isText,
  };
  if (clientCertPem) {
    const cert = new X509Certificate(clientCertPem);
    (event.requestContext as any).authentication = {
      clientCert: {
        clientCertPem,
        subjectDN: cert.subject.split('\n').reverse().join(','),
        issuerDN: cert.issuer.split('\n').reverse().join(','),
        serialNumber: cert.serialNumber,
        validity: { notBefore: cert.validFrom, notAfter: cert.validTo },
      },
    };
  }
  return event;
}

/** The `decision` (ACCEPT or BLOCK) of a JSON answer that has one: what a check-in was judged. */
function decisionOf(result: APIGatewayProxyStructuredResultV2 | string | undefined): string | undefined {
  const body = typeof result === 'string' ? result : result?.isBase64Encoded ? undefined : result?.body;
  if (!body || !body.startsWith('{') || !body.includes('"decision"')) return undefined;
  try {
    const decision = (JSON.parse(body) as { decision?: unknown }).decision;
    return typeof decision === 'string' ? decision : undefined;
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2 | string | undefined): void {
  if (typeof result === 'string' || result === undefined) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(result ?? '');
    return;
  }
  const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string | number | string[]> = { ...(result.headers ?? {}), 'content-length': body.length };
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  res.writeHead(result.statusCode ?? 200, headers as any).end(body);
}

function gatewayError(res: ServerResponse, statusCode: number, message: string): void {
  res.writeHead(statusCode, { 'content-type': 'application/json' }).end(JSON.stringify({ message }));
}

export interface ApiGatewayOptions {
  targets: RouteTarget[];
  /** HTTPS: key and certificate PEM; the server asks for (but does not require) a client certificate. */
  tls?: { key: string; cert: string };
  onError?: (error: unknown) => void;
  /** Told of every answered request (npm start prints one line each). */
  onRequest?: (summary: RequestSummary) => void;
}

export function createApiGateway(options: ApiGatewayOptions): Server {
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    let decision: string | undefined;
    res.once('finish', () => {
      const path = requestUrl(req.url).pathname;
      options.onRequest?.({ method: req.method ?? 'GET', path, status: res.statusCode, decision, ms: performance.now() - started });
    });
    try {
      const body = await readBody(req);
      if (body === undefined) return gatewayError(res, 413, 'Request Entity Too Large');
      const url = requestUrl(req.url);
      const match = findRoute(options.targets, req.method ?? 'GET', url.pathname);
      if (!match) return gatewayError(res, 404, 'Not Found');
      let clientCertPem: string | undefined;
      if (options.tls) {
        const peer = (req.socket as TLSSocket).getPeerCertificate?.();
        if (peer?.raw) clientCertPem = `-----BEGIN CERTIFICATE-----\n${peer.raw.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
      }
      const event = toEvent(req, body, match.target.route, match.pathParameters, clientCertPem);
      const result = await match.target.invoke(event, lambdaContext(match.target.route.functionName, event.requestContext.requestId, match.target.route.timeoutSeconds));
      decision = decisionOf(result);
      send(res, result);
    } catch (error) {
      options.onError?.(error);
      // What API Gateway answers when the integration fails.
      if (!res.headersSent) gatewayError(res, 500, 'Internal Server Error');
    }
  };
  if (options.tls) {
    return createHttpsServer({ key: options.tls.key, cert: options.tls.cert, requestCert: true, rejectUnauthorized: false }, listener);
  }
  return createHttpServer(listener);
}
