// The admin console's static files (API.md §6) over HTTP: the page, its script and its style sheet, each with a
// strict Content-Security-Policy. The files themselves come from the caller (built by esbuild, see local/console.ts).
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { NotFoundError } from '../domain/errors.ts';
import { httpStack } from './middleware.ts';

/** One built file of the console, by its name under /console/ ("index.html", "app.js", "app.css"). */
export interface ConsoleAsset {
  name: string;
  contentType: string;
  body: string;
}

/**
 * Scripts and styles only from the console itself (no inline script or style element, no eval), requests only to
 * this origin (the admin API), no frames, no plugins, no form posts elsewhere, no <base> rewriting.
 */
export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONSOLE_CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  // A new deployment is picked up at once; the files are small.
  'Cache-Control': 'no-cache',
};

/** The file a path names: /console/ is the page; anything but a built file is 404. */
export function consoleFileFor(path: string): string | 'REDIRECT' | undefined {
  if (path === '/console') return 'REDIRECT';
  if (path === '/console/') return 'index.html';
  const match = /^\/console\/([a-z0-9-]+\.(?:js|css|html))$/.exec(path);
  return match ? match[1] : undefined;
}

/** `load` is called once, on the first request (building the files from source takes a moment). */
export function makeConsoleHandler(load: () => Promise<ConsoleAsset[]>) {
  let assets: Promise<Map<string, ConsoleAsset>> | undefined;
  const assetsByName = () => {
    assets ??= load().then((list) => new Map(list.map((asset) => [asset.name, asset])));
    assets.catch(() => {
      assets = undefined;
    });
    return assets;
  };
  return httpStack(
    async (request): Promise<APIGatewayProxyStructuredResultV2> => {
      const file = consoleFileFor(request.path);
      if (file === 'REDIRECT') return { statusCode: 301, headers: { ...SECURITY_HEADERS, Location: '/console/' }, body: '' };
      const asset = file === undefined ? undefined : (await assetsByName()).get(file);
      if (!asset) throw new NotFoundError(`No console file ${request.path}`);
      return { statusCode: 200, headers: { ...SECURITY_HEADERS, 'content-type': asset.contentType }, body: asset.body };
    },
    { maxBodyBytes: 0, readBody: false },
  );
}
