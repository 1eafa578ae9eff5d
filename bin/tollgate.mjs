#!/usr/bin/env node
// `npx tollgate …`: the admin command line (cli/main.ts), run from its TypeScript source through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
