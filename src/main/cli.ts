import { runCli } from '../adapters/cli/program.js';
import { createAppContext } from './app-context.js';

// A reader that goes away (`gridcollect customer list | head`) is not an error: stop quietly, as
// other command-line tools do, instead of an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

// Whatever the process writes (the embedded database, key and session files, bank files and PDF
// bills with personal data) is for its OS user alone.
process.umask(0o077);

/** Entry point of the `gridcollect` command: the composition root hands the CLI its streams and context. */
const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  openContext: createAppContext,
});
process.exitCode = code;
