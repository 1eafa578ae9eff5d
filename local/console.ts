// Builds the admin console (console/) into its static files with esbuild, in memory: the page, one script bundle
// (Preact included) and one style sheet. Used by the console function run from source and by packaging.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { ConsoleAsset } from '../lib/http/console-handler.ts';
import { PROJECT_ROOT } from './serverless-config.ts';

const CONSOLE_DIR = join(PROJECT_ROOT, 'console');

export async function buildConsole(options: { minify?: boolean } = {}): Promise<ConsoleAsset[]> {
  const result = await build({
    entryPoints: [join(CONSOLE_DIR, 'src', 'main.tsx')],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: options.minify ?? true,
    legalComments: 'none',
    logLevel: 'silent',
    outfile: 'app.js',
  });
  const script = result.outputFiles.find((file) => file.path.endsWith('app.js'));
  if (!script) throw new Error('esbuild wrote no app.js for the console');
  return [
    { name: 'index.html', contentType: 'text/html; charset=utf-8', body: readFileSync(join(CONSOLE_DIR, 'index.html'), 'utf8') },
    { name: 'app.js', contentType: 'text/javascript; charset=utf-8', body: script.text },
    { name: 'app.css', contentType: 'text/css; charset=utf-8', body: readFileSync(join(CONSOLE_DIR, 'app.css'), 'utf8') },
  ];
}

// `node --import tsx local/console.ts` prints the built files as JSON (what packaging puts into the bundle).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(JSON.stringify(await buildConsole()));
}
