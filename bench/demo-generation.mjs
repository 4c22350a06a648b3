// Demo county generation: wall time, rows per second and peak RSS of this process.
//   node bench/demo-generation.mjs --backend postgres --customers 1000000 --months 12
//   node bench/demo-generation.mjs --backend pglite --customers 20000 --months 24
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFieldCipher } from '../dist/adapters/crypto/field-cipher.js';
import { openDatabase } from '../dist/adapters/db/database.js';
import { migrateToLatest } from '../dist/adapters/db/migrate.js';
import { createDemoCounty } from '../dist/jobs/demo/create-demo-county.js';
import { freshDatabase, machine, parseArgs, postgresServer } from './support.mjs';

const options = parseArgs(process.argv.slice(2), {
  backend: 'pglite',
  customers: 20000,
  months: 24,
  seed: 1,
  concurrency: 0,
});
let server = null;
let dataDir = null;
let target;
if (options.backend === 'postgres') {
  server = postgresServer();
  target = { kind: 'postgres', url: await freshDatabase(server.url, 'gc_bench_demo'), poolSize: 4 };
} else {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'gridcollect-bench-'));
  target = { kind: 'pglite', dataDir: path.join(dataDir, 'data') };
}

const database = await openDatabase(target);
await migrateToLatest(database.db);
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
await database.close();
server?.stop();
if (dataDir) rmSync(dataDir, { recursive: true, force: true });

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
