// Runs the benchmarks, each in its own process so that peak RSS is per run.
//   npm run bench            quick set: COPY vs INSERT, billing run of 100,000 customers on both
//                            backends, demo 20k × 24 months on both backends,
//                            payment posting, the channel API under 64 connections, and a bank
//                            result file of ~200,000 lines, month-end late fees for 200,000 customers
//   npm run bench -- --full  adds 1,000,000 customers: the billing run (two worker processes, then
//                            one process), demo × 12 months, and month-end late fees
//                            for 1,000,000 customers, on PostgreSQL
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const full = process.argv.includes('--full');
const runs = [
  ['copy-vs-insert.mjs', '--rows', '200000'],
  ['billing-run.mjs', '--backend', 'pglite', '--customers', '100000'],
  ['billing-run.mjs', '--backend', 'postgres', '--customers', '100000'],
  ['demo-generation.mjs', '--backend', 'pglite', '--customers', '20000', '--months', '24'],
  ['demo-generation.mjs', '--backend', 'postgres', '--customers', '20000', '--months', '24'],
  ['post-payment.mjs', '--payments', '20000', '--concurrency', '16'],
  ['channel-api.mjs', '--payments', '30000', '--connections', '64'],
  ['bank-import.mjs', '--customers', '207000'],
  ['month-end-late-fees.mjs', '--customers', full ? '1000000' : '200000'],
  ...(full
    ? [
        ['billing-run.mjs', '--backend', 'postgres', '--customers', '1000000', '--workers', '2'],
        ['billing-run.mjs', '--backend', 'postgres', '--customers', '1000000'],
        ['demo-generation.mjs', '--backend', 'postgres', '--customers', '1000000', '--months', '12'],
      ]
    : []),
];
let failed = false;
for (const [script, ...args] of runs) {
  // With the young generation the CLI runs with (bin/gridcollect.js), so in-process figures match it.
  const result = spawnSync(
    process.execPath,
    ['--max-semi-space-size=64', fileURLToPath(new URL(script, import.meta.url)), ...args],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
