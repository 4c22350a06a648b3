// Runs the benchmarks, each in its own process so that peak RSS is per run.
//   npm run bench            quick set (20k customers × 24 months on both backends, COPY vs INSERT)
//   npm run bench -- --full  adds 1,000,000 customers × 12 months on PostgreSQL (~3 minutes on 2 cores)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const full = process.argv.includes('--full');
const runs = [
  ['copy-vs-insert.mjs', '--rows', '200000'],
  ['demo-generation.mjs', '--backend', 'pglite', '--customers', '20000', '--months', '24'],
  ['demo-generation.mjs', '--backend', 'postgres', '--customers', '20000', '--months', '24'],
  ...(full
    ? [['demo-generation.mjs', '--backend', 'postgres', '--customers', '1000000', '--months', '12']]
    : []),
];
let failed = false;
for (const [script, ...args] of runs) {
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args], {
    stdio: 'inherit',
  });
  if (result.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
