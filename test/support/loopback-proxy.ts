// A tiny HTTP proxy on 127.0.0.1 for client tests: it forwards requests to a target, or answers them itself, or
// forwards one and then drops the answer (the connection closes without a response: a lost answer), request by
// request as the test's plan says. It keeps every request it saw, body bytes included.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';

export type ProxyAction =
  /** Pass the request on and its answer back. */
  | { kind: 'forward' }
  /** Pass the request on, wait for the whole answer, then close the client's connection without answering. */
  | { kind: 'forward-drop-answer' }
  /** Answer without asking the target. */
  | { kind: 'answer'; status: number; headers?: Record<string, string>; body?: string };

export interface ProxiedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** When it had fully arrived (Date.now()). */
  at: number;
  /** What was done with it. */
  action: ProxyAction['kind'];
  /** The target's answer, when the request was passed on. */
  upstream?: { status: number; headers: IncomingHttpHeaders; body: Buffer };
}

export interface LoopbackProxy {
  /** Base URL, e.g. http://127.0.0.1:54321 (append the path). */
  url: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

export interface LoopbackProxyOptions {
  /** Base URL of the HTTP server to forward to (http only). Needed for any 'forward' action. */
  target?: string;
  /** The action for the request with this index (0 for the first); default: forward. */
  plan?: (index: number, request: { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer }) => ProxyAction;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function forward(target: string, request: { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer }): Promise<NonNullable<ProxiedRequest['upstream']>> {
  return new Promise((resolve, reject) => {
    const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !HOP_BY_HOP.has(name) && name !== 'host'));
    const upstream = httpRequest(new URL(request.url, target), { method: request.method, headers: { ...headers, 'content-length': String(request.body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    upstream.on('error', reject);
    upstream.end(request.body);
  });
}

export async function startLoopbackProxy(options: LoopbackProxyOptions = {}): Promise<LoopbackProxy> {
  const requests: ProxiedRequest[] = [];
  const plan = options.plan ?? (() => ({ kind: 'forward' }) as const);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const seen = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) };
      const action = plan(requests.length, seen);
      const record: ProxiedRequest = { ...seen, at: Date.now(), action: action.kind };
      requests.push(record);
      try {
        if (action.kind === 'answer') {
          const body = action.body ?? '';
          res.writeHead(action.status, { 'content-length': String(Buffer.byteLength(body)), ...(action.headers ?? {}) });
          res.end(body);
          return;
        }
        if (!options.target) throw new Error('the loopback proxy has no target to forward to');
        record.upstream = await forward(options.target, seen);
        if (action.kind === 'forward-drop-answer') {
          req.socket.destroy();
          return;
        }
        const headers = Object.fromEntries(Object.entries(record.upstream.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
        res.writeHead(record.upstream.status, { ...headers, 'content-length': String(record.upstream.body.length) });
        res.end(record.upstream.body);
      } catch (error) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`loopback proxy: ${(error as Error).message}`);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
