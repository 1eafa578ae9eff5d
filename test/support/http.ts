// Small HTTP(S) client for end-to-end tests: real requests, raw status, headers and parsed body. Every answer is
// checked against openapi.yaml (./openapi-responses.ts): a body that disagrees with the document fails the test.
import { request as httpsRequest } from 'node:https';
import { checkAgainstOpenApi } from './openapi-responses.ts';

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: any;
  text: string;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; json?: unknown } = {}): Promise<HttpResult> {
  const headers = { ...(init.headers ?? {}) };
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body) });
  const text = await response.text();
  const result = { status: response.status, headers: Object.fromEntries(response.headers), body: parse(text), text };
  checkAgainstOpenApi(init.method ?? (body === undefined ? 'GET' : 'POST'), url, result.status, result.headers, text);
  return result;
}

/** An HTTPS request presenting a client certificate (mutual TLS), trusting the given server certificate. */
export function callTls(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; clientKeyPem?: string; clientCertPem?: string; serverCaPem: string },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: options.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
        key: options.clientKeyPem,
        cert: options.clientCertPem,
        ca: options.serverCaPem,
        servername: 'localhost',
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
          try {
            checkAgainstOpenApi(options.method ?? 'POST', url, res.statusCode ?? 0, headers, text);
          } catch (error) {
            reject(error);
            return;
          }
          resolve({ status: res.statusCode ?? 0, headers, body: parse(text), text });
        });
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** POST /checkin of an unsigned check-in whose clock is `skewSeconds` off the real time, as a device's would be. */
export function checkInWithClockOff(baseUrl: string, checkinId: string, deviceId: string, skewSeconds: number): Promise<HttpResult> {
  const json = { checkinId, deviceId, clientTime: new Date(Date.now() + skewSeconds * 1000).toISOString(), serverCertificateVerified: true };
  return call(`${baseUrl}/checkin`, { json });
}
