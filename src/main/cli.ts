import { runCli } from '../adapters/cli/program.js';

/** Entry point of the `gridcollect` command. */
const code = await runCli(process.argv.slice(2));
process.exitCode = code;
