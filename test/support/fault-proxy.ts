// A loopback HTTP proxy in front of DynamoDB (Local) that can hold its answers back: latency injected at the HTTP
// layer, as a slow or overloaded DynamoDB would show it. The request reaches DynamoDB at once (so a write may land
// although its caller gave up waiting); only the answer is delayed.
import { createServer, request, type Server } from 'node:http';

export interface LatencyProxy {
  url: string;
  /** Milliseconds every answer is held back from now on (0: none). */
  setDelay(ms: number): void;
  /** Requests forwarded so far. */
  readonly forwarded: number;
  stop(): Promise<void>;
}

export async function startLatencyProxy(target: string): Promise<LatencyProxy> {
  const upstream = new URL(target);
  let delay = 0;
  let forwarded = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      forwarded += 1;
      const held = delay;
      const outgoing = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            setTimeout(() => {
              if (res.destroyed) return;
              res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(body));
            }, held);
          });
        },
      );
      outgoing.on('error', () => res.destroy());
      outgoing.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    setDelay: (ms) => {
      delay = ms;
    },
    get forwarded() {
      return forwarded;
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
