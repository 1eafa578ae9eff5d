// After `npm run mutation`: Stryker writes its incremental report back indented (about 26 MB); the committed copy is
// kept on one line (about 11 MB), as `npm run mutation:baseline` writes it. Same content, so the next run reads it alike.

import { readFileSync, writeFileSync } from 'node:fs';

const REPORT = 'mutation/stryker-incremental.json';

writeFileSync(REPORT, JSON.stringify(JSON.parse(readFileSync(REPORT, 'utf8'))));
