import { runCli } from '../adapters/cli/program.js';
import { createAppContext } from './app-context.js';

/** Entry point of the `gridcollect` command: the composition root hands the CLI its streams and context. */
const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  openContext: createAppContext,
});
process.exitCode = code;
