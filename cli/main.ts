// Entry point of `tollgate` (bin/tollgate.mjs, `npm run tollgate`): runs the command line and sets the exit status.
import { runCli } from './run.ts';

process.exitCode = await runCli(process.argv.slice(2));
