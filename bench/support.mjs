// Shared helpers for benchmark scripts: a private PostgreSQL cluster when none is given, and
// a fresh database per run. Benchmarks print numbers; they never assert.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A PostgreSQL server URL: BENCH_DATABASE_URL, or a private cluster started for this run. */
export function postgresServer() {
  if (process.env.BENCH_DATABASE_URL) return { url: process.env.BENCH_DATABASE_URL, stop() {} };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gridcollect-bench-pg-'));
  const url = execFileSync(path.join(ROOT, '.ci/postgres.sh'), ['start', dir], { encoding: 'utf8' }).trim();
  return {
    url,
    stop() {
      execFileSync(path.join(ROOT, '.ci/postgres.sh'), ['stop', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function freshDatabase(serverUrl, name) {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export function parseArgs(argv, defaults) {
  const options = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) options[key] = true;
    else {
      options[key] = Number.isNaN(Number(next)) ? next : Number(next);
      i++;
    }
  }
  return options;
}

/**
 * Runs jobs 0…count-1 on `workers` concurrent loops, each taking the next job when its last one
 * ends. Returns the wall seconds and every job's latency in ms, sorted.
 */
export async function concurrentLoad(workers, count, job) {
  const latencies = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (;;) {
        const k = next++;
        if (k >= count) return;
        const t0 = process.hrtime.bigint();
        await job(k);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return { seconds, latencies };
}

/** The q-quantile (0 to 1) of sorted latencies, in ms to one decimal. */
export function quantileMs(sorted, q) {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 10) / 10;
}

export function machine() {
  return `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
}

/**
 * A fresh, migrated database for a benchmark on either backend; close() also stops the private
 * PostgreSQL cluster or removes the PGlite data directory.
 */
export async function benchDatabase(backend, name, poolSize = 6) {
  const { openDatabase } = await import('../dist/db/database.js');
  const { migrateToLatest } = await import('../dist/db/migrate.js');
  let server = null;
  let dataDir = null;
  let target;
  if (backend === 'postgres') {
    server = postgresServer();
    target = { kind: 'postgres', url: await freshDatabase(server.url, name), poolSize };
  } else {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'gridcollect-bench-'));
    target = { kind: 'pglite', dataDir: path.join(dataDir, 'data') };
  }
  const database = await openDatabase(target);
  await migrateToLatest(database.db);
  return {
    database,
    url: target.url ?? null,
    async close() {
      await database.close();
      server?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Migrates a fresh database and gives it a county with one month (2026-10) billed and released on
 * 2026-11-03: the starting point of the payment benchmarks.
 */
export async function billedCounty(db, { customers, encrypt }) {
  const { migrateToLatest } = await import('../dist/db/migrate.js');
  const { createDemoCounty } = await import('../dist/jobs/demo/create-demo-county.js');
  const { runBilling } = await import('../dist/jobs/billing/run-billing.js');
  const { releaseBills } = await import('../dist/jobs/billing/release-bills.js');
  const { CLI_PRINCIPAL } = await import('../dist/app/principal.js');
  await migrateToLatest(db);
  await createDemoCounty(db, {
    seed: 1,
    customers,
    months: 1,
    untilPeriod: '2026-10',
    passwordHash: 'bench',
    encrypt,
    concurrency: 2,
    worker: 'bench',
  });
  await runBilling(db, { period: '2026-10', concurrency: 2, worker: 'bench' });
  await releaseBills(db, { period: '2026-10', releasedOn: '2026-11-03', actor: CLI_PRINCIPAL });
}

/**
 * A county mid-month has payment history: one earlier payment per customer (bulk path), then the
 * tables vacuumed and analyzed and a checkpoint, so that a measured run sees the statistics and
 * plans of a live system (not of empty payment tables) and neither autovacuum nor the setup's
 * checkpoint runs inside the measurement.
 */
export async function withPaymentHistory(db, customerNos) {
  const { sql } = await import('kysely');
  const { postPaymentsInBulk } = await import('../dist/app/post-payments-in-bulk.js');
  const { CLI_PRINCIPAL } = await import('../dist/app/principal.js');
  await postPaymentsInBulk(
    db,
    CLI_PRINCIPAL,
    customerNos.map((customerNo, k) => ({
      idempotencyKey: `history:${k}`,
      customerNo,
      amountFen: 100,
      paidAt: new Date('2026-11-05T02:00:00Z'),
      businessDate: '2026-11-05',
      source: { kind: 'channel', channelCode: 'HISTORY', txnId: `history:${k}` },
    })),
    { chunkSize: 5000 },
  );
  await sql`vacuum analyze`.execute(db);
  await sql`checkpoint`.execute(db);
}
