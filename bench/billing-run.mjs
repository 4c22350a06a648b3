// Billing run throughput: a demo county with one month of reads is billed end to end (reads →
// validation → tariff → bills and lines), then the same bill and line rows are written again
// with plain COPY into scratch tables, to compare the run's write rate with the raw COPY rate
// (runToCopyRatio: tables defined as the run's; runToBareCopyRatio: primary keys only).
//   node bench/billing-run.mjs --backend postgres --customers 1000000
//   node bench/billing-run.mjs --backend pglite --customers 100000
//   node bench/billing-run.mjs --backend postgres --customers 1000000 --workers 2
// With --workers N (PostgreSQL), N `gridcollect bill run` processes share the one run, claiming
// its partitions; the time is from starting them until the last one exits.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { createFieldCipher } from '../dist/adapters/crypto/field-cipher.js';
import { copyRows } from '../dist/db/raw-commands.js';
import { BILL_COLUMNS, LINE_COLUMNS, runBilling } from '../dist/jobs/billing/run-billing.js';
import { createDemoCounty } from '../dist/jobs/demo/create-demo-county.js';
import { ROOT, benchDatabase, machine, parseArgs } from './support.mjs';

const options = parseArgs(process.argv.slice(2), {
  backend: 'postgres',
  customers: 100000,
  concurrency: 0,
  partition: 5000,
  workers: 1,
});
if (options.workers > 1 && options.backend !== 'postgres')
  throw new Error('--workers needs --backend postgres');
const bench = await benchDatabase(options.backend, 'gc_bench_billing');
const { database } = bench;
// One key for the data written here and the CLI processes below (they check it against the database).
const keyHex = randomBytes(32).toString('hex');
const cipher = createFieldCipher(Buffer.from(keyHex, 'hex'));
const concurrency = options.concurrency || (options.backend === 'postgres' ? 2 : 1);
await createDemoCounty(database.db, {
  seed: 1,
  customers: options.customers,
  months: 1,
  untilPeriod: '2026-10',
  passwordHash: 'bench',
  encrypt: cipher.encrypt,
  concurrency,
  worker: 'bench',
});
// Billing day meets reads loaded days before: vacuumed, analyzed, checkpointed and on disk, so
// that neither autovacuum on the fresh tables, nor the setup's checkpoint, nor the kernel writing
// back the setup's gigabyte or so of dirty pages runs inside the measurement (that write-back
// added 1.7 s to a 1,000,000-customer run here).
await sql`vacuum analyze`.execute(database.db);
await settle();

/** Checkpoint (PostgreSQL) and flush the kernel's dirty pages: what was written is on disk. */
async function settle() {
  if (options.backend === 'postgres') await sql`checkpoint`.execute(database.db);
  execFileSync('sync');
}

/** The largest peak RSS of the `bill run` processes (--workers). */
let workerPeakRssMiB = 0;
const rssBefore = process.resourceUsage().maxRSS;
const cpuBefore = process.cpuUsage();
const started = process.hrtime.bigint();
const summary = options.workers > 1 ? await runInProcesses() : await runHere();
const runSeconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuBefore);
const nodeCpuSeconds = (cpu.user + cpu.system) / 1e6;

async function runHere() {
  return runBilling(database.db, {
    period: '2026-10',
    concurrency,
    worker: 'bench',
    partitionSize: options.partition,
  });
}

/** N CLI processes on the one run; the summary is the run's, as the last process reports it. */
async function runInProcesses() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gridcollect-bench-workers-'));
  const env = {
    ...process.env,
    DATABASE_URL: bench.url,
    GRIDCOLLECT_DATA_DIR: dataDir,
    GRIDCOLLECT_ENCRYPTION_KEY: keyHex,
  };
  // Started as an operator starts them: the executable itself, so its #! line's node flags apply.
  // Each process's peak RSS is read from /proc while it runs (VmHWM only grows).
  const run = async () => {
    const running = promisify(execFile)(
      path.join(ROOT, 'bin/gridcollect.js'),
      [
        ...['bill', 'run', '--period', '2026-10', '--json'],
        ...['--concurrency', String(concurrency), '--partition-size', String(options.partition)],
      ],
      { env, maxBuffer: 64 * 2 ** 20 },
    );
    const watch = setInterval(() => {
      try {
        const status = readFileSync(`/proc/${running.child.pid}/status`, 'utf8');
        const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
        workerPeakRssMiB = Math.max(workerPeakRssMiB, Math.round(kib / 1024));
      } catch {
        // exited between two looks
      }
    }, 100);
    try {
      return await running;
    } finally {
      clearInterval(watch);
    }
  };
  const outputs = await Promise.all(Array.from({ length: options.workers }, run));
  rmSync(dataDir, { recursive: true, force: true });
  const summaries = outputs.map((output) => JSON.parse(output.stdout));
  return summaries.reduce((best, next) => (next.billed > best.billed ? next : best));
}

// The same rows, written again with nothing but COPY, read back in chunks (only the COPY is
// timed), one connection. Twice: into tables defined as bill and bill_line are (the same indexes
// and constraints: the rate at which the database takes these rows where the run puts them), and
// into bare tables with a primary key only (the figure this bench printed before).
await sql`create table bench_bill (like bill including all)`.execute(database.db);
await sql`create table bench_bill_line (like bill_line including all)`.execute(database.db);
await sql`create table bench_bare_bill (like bill including defaults)`.execute(database.db);
await sql`create table bench_bare_bill_line (like bill_line including defaults)`.execute(database.db);
await sql`alter table bench_bare_bill add primary key (customer_id, bill_id)`.execute(database.db);
await sql`alter table bench_bare_bill_line add primary key (customer_id, bill_id, line_no)`.execute(
  database.db,
);
// The run's own writes are on disk before the raw COPY starts, as the setup's were before the run.
await settle();
let copyNanos = 0n;
let bareCopyNanos = 0n;
let rowsWritten = 0;
for (let low = 1; low <= options.customers; low += options.partition) {
  const high = low + options.partition - 1;
  const bills =
    await sql`select customer_id, bill_id, period, revision, billing_run_key, tariff_version_id, kwh_total, amount_fen, funds_fen, inputs::text as inputs from bill where customer_id between ${low} and ${high}`.execute(
      database.db,
    );
  const lines =
    await sql`select customer_id, bill_id, line_no, code, kwh, price, amount_fen from bill_line where customer_id between ${low} and ${high}`.execute(
      database.db,
    );
  const billCsv = bills.rows.map((row) => Object.values(row));
  const lineCsv = lines.rows.map((row) => Object.values(row));
  rowsWritten += bills.rows.length + lines.rows.length;
  const targets = [
    ['bench_bill', 'bench_bill_line', false],
    ['bench_bare_bill', 'bench_bare_bill_line', true],
  ];
  // Alternating which goes first, so that neither always meets the other's warm caches.
  if (low % (2 * options.partition) !== 1) targets.reverse();
  for (const [billTable, lineTable, bare] of targets) {
    const copyStarted = process.hrtime.bigint();
    await database.db.transaction().execute(async (trx) => {
      await copyRows(trx, billTable, BILL_COLUMNS, billCsv);
      await copyRows(trx, lineTable, LINE_COLUMNS, lineCsv);
    });
    const nanos = process.hrtime.bigint() - copyStarted;
    if (bare) bareCopyNanos += nanos;
    else copyNanos += nanos;
  }
}
const copySeconds = Number(copyNanos) / 1e9;
const bareCopySeconds = Number(bareCopyNanos) / 1e9;
await bench.close();

console.log(
  JSON.stringify({
    bench: 'billing-run',
    backend: options.backend,
    machine: machine(),
    customers: options.customers,
    workers: options.workers,
    billed: summary.billed,
    held: summary.held,
    failed: summary.failed,
    seconds: Number(runSeconds.toFixed(2)),
    billsPerSecond: Math.round(summary.billed / runSeconds),
    nodeCpuSeconds: Number(nodeCpuSeconds.toFixed(2)),
    rowsWritten,
    runRowsPerSecond: Math.round(rowsWritten / runSeconds),
    copyRowsPerSecond: Math.round(rowsWritten / copySeconds),
    runToCopyRatio: Number((copySeconds / runSeconds).toFixed(2)),
    bareCopyRowsPerSecond: Math.round(rowsWritten / bareCopySeconds),
    runToBareCopyRatio: Number((bareCopySeconds / runSeconds).toFixed(2)),
    peakRssMiB: Math.round(Math.max(rssBefore, process.resourceUsage().maxRSS) / 1024),
    ...(options.workers > 1 ? { workerPeakRssMiB } : {}),
  }),
);
