// Lambda `console`: the admin console's static files at /console/ (API.md §6), from the same origin as /admin.
import { makeConsoleHandler } from '../lib/http/console-handler.ts';
import { loadConsoleAssets } from './console-assets.ts';

export const handler = makeConsoleHandler(loadConsoleAssets);
