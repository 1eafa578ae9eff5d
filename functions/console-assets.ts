// The admin console's built files. Run from source (npm start, the tests) this builds them with esbuild on first
// use; in the deployed bundle serverless-plugins/console-assets.cjs replaces this module with the files themselves,
// built at packaging time, so the function needs neither esbuild nor the sources.
import type { ConsoleAsset } from '../lib/http/console-handler.ts';

export async function loadConsoleAssets(): Promise<ConsoleAsset[]> {
  const { buildConsole } = await import('../local/console.ts');
  return buildConsole();
}
