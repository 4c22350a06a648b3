// COPY against batched INSERT for the same rows on both backends (the bulk-write choice).
//   node bench/copy-vs-insert.mjs --rows 200000
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from '../dist/db/database.js';
import { copyRows } from '../dist/db/raw-commands.js';
import { freshDatabase, machine, parseArgs, postgresServer } from './support.mjs';

const options = parseArgs(process.argv.slice(2), { rows: 200000, batch: 1000 });
const rows = Array.from({ length: options.rows }, (_, i) => [
  i + 1,
  i * 7,
  '2026-10',
  '2026-10-25',
  'actual',
  `${(i * 13) % 100000}.25`,
  `${i % 97}.50`,
]);
const columns = ['customer_id', 'meter_read_id', 'period', 'read_on', 'kind', 'total', 'reactive'];
const createTable = sql`create table bench_read (customer_id bigint, meter_read_id bigint, period text, read_on date, kind text, total numeric(14,2), reactive numeric(14,2), primary key (customer_id, meter_read_id))`;

async function measure(database) {
  const results = {};
  for (const method of ['insert', 'copy']) {
    await sql`drop table if exists bench_read`.execute(database.db);
    await createTable.execute(database.db);
    const started = process.hrtime.bigint();
    await database.db.transaction().execute(async (trx) => {
      if (method === 'copy') {
        for (let i = 0; i < rows.length; i += 50000)
          await copyRows(trx, 'bench_read', columns, rows.slice(i, i + 50000));
      } else {
        for (let i = 0; i < rows.length; i += options.batch) {
          const values = rows
            .slice(i, i + options.batch)
            .map((r) => Object.fromEntries(columns.map((c, k) => [c, r[k]])));
          await trx.insertInto('bench_read').values(values).execute();
        }
      }
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    results[method] = Math.round(rows.length / seconds);
  }
  return {
    insertRowsPerSecond: results.insert,
    copyRowsPerSecond: results.copy,
    ratio: Number((results.copy / results.insert).toFixed(1)),
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'gridcollect-bench-'));
const pglite = await openDatabase({ kind: 'pglite', dataDir: path.join(dir, 'data') });
const pgliteResult = await measure(pglite);
await pglite.close();
rmSync(dir, { recursive: true, force: true });

const server = postgresServer();
const postgres = await openDatabase({
  kind: 'postgres',
  url: await freshDatabase(server.url, 'gc_bench_copy'),
  poolSize: 2,
});
const postgresResult = await measure(postgres);
await postgres.close();
server.stop();

console.log(
  JSON.stringify({
    bench: 'copy-vs-insert',
    machine: machine(),
    rows: options.rows,
    pglite: pgliteResult,
    postgres: postgresResult,
  }),
);
