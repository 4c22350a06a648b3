// Demo county generation: wall time, rows per second and peak RSS of this process.
//   node bench/demo-generation.mjs --backend postgres --customers 1000000 --months 12
//   node bench/demo-generation.mjs --backend pglite --customers 20000 --months 24
import { randomBytes } from 'node:crypto';
import { createFieldCipher } from '../dist/adapters/crypto/field-cipher.js';
import { createDemoCounty } from '../dist/jobs/demo/create-demo-county.js';
import { benchDatabase, machine, parseArgs } from './support.mjs';

const options = parseArgs(process.argv.slice(2), {
  backend: 'pglite',
  customers: 20000,
  months: 24,
  seed: 1,
  concurrency: 0,
});
const bench = await benchDatabase(options.backend, 'gc_bench_demo');
const { database } = bench;
const cipher = createFieldCipher(randomBytes(32));
const started = process.hrtime.bigint();
const summary = await createDemoCounty(database.db, {
  seed: options.seed,
  customers: options.customers,
  months: options.months,
  untilPeriod: '2026-10',
  passwordHash: 'bench',
  encrypt: cipher.encrypt,
  concurrency: options.concurrency || (options.backend === 'postgres' ? 2 : 1),
  worker: 'bench',
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await bench.close();

const peakRssMiB = process.resourceUsage().maxRSS / 1024;
const result = {
  bench: 'demo-generation',
  backend: options.backend,
  machine: machine(),
  customers: summary.customers,
  months: options.months,
  reads: summary.reads,
  seconds: Number(seconds.toFixed(1)),
  customersPerSecond: Math.round(summary.customers / seconds),
  readsPerSecond: Math.round(summary.reads / seconds),
  peakRssMiB: Math.round(peakRssMiB),
};
console.log(JSON.stringify(result));
