// Month-end late fees on PostgreSQL (fsync on): a demo county with one month billed and released,
// every customer but a share (default 10%) paying on time through the bulk posting path (some of
// the others pay part late), then the month-end computation of every customer's unpaid late fee.
// Prints the setup and the timed computation (workers claim partitions; --concurrency sets them).
//   node bench/month-end-late-fees.mjs --customers 1000000 --arrears 0.1
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { createFieldCipher } from '../dist/adapters/crypto/field-cipher.js';
import { openDatabase } from '../dist/db/database.js';
import { postPaymentsInBulk } from '../dist/app/post-payments-in-bulk.js';
import { CLI_PRINCIPAL } from '../dist/app/principal.js';
import { computeMonthEndLateFees } from '../dist/jobs/late-fees/month-end-late-fees.js';
import { billedCounty, freshDatabase, machine, parseArgs, postgresServer } from './support.mjs';

const options = parseArgs(process.argv.slice(2), {
  customers: 1_000_000,
  arrears: 0.1,
  concurrency: 2,
  partition: 20000,
});
const server = postgresServer();
const cipher = createFieldCipher(randomBytes(32));
const database = await openDatabase({
  kind: 'postgres',
  url: await freshDatabase(server.url, 'gc_bench_late_fee'),
  poolSize: 6,
});
try {
  let t0 = performance.now();
  await billedCounty(database.db, { customers: options.customers, encrypt: cipher.encrypt });
  const countySeconds = (performance.now() - t0) / 1000;
  const bills = await sql`
    select c.customer_no, b.amount_fen, r.due_on::text as due_on, c.customer_id from bill b
    join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
    join customer c on c.customer_id = b.customer_id
    where b.period = '2026-10' and b.amount_fen > 0 order by b.customer_id`.execute(database.db);
  // Every tenth-ish customer (by a fixed hash) stays in arrears; a third of those paid part, late.
  const inArrears = (id) => ((id * 2654435761) % 1000) / 1000 < options.arrears;
  const inputs = [];
  for (const row of bills.rows) {
    const arrears = inArrears(Number(row.customer_id));
    if (arrears && Number(row.customer_id) % 3 !== 0) continue;
    const amount = arrears ? Math.max(1, Math.floor(Number(row.amount_fen) / 2)) : Number(row.amount_fen);
    const day = arrears ? '2026-11-25' : '2026-11-10';
    inputs.push({
      idempotencyKey: `bench:${row.customer_no}`,
      customerNo: row.customer_no,
      amountFen: amount,
      paidAt: new Date(`${day}T10:00:00+08:00`),
      businessDate: day,
      source: { kind: 'channel', channelCode: 'BENCHPAY', txnId: row.customer_no },
    });
  }
  t0 = performance.now();
  await postPaymentsInBulk(database.db, CLI_PRINCIPAL, inputs, { chunkSize: 5000, concurrency: 2 });
  const paySeconds = (performance.now() - t0) / 1000;
  await sql`analyze`.execute(database.db);

  t0 = performance.now();
  const summary = await computeMonthEndLateFees(database.db, {
    period: '2026-11',
    concurrency: options.concurrency,
    worker: 'bench',
    partitionSize: options.partition,
  });
  const seconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const again = await computeMonthEndLateFees(database.db, {
    period: '2026-11',
    concurrency: options.concurrency,
    worker: 'bench',
  });
  const rerunSeconds = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      bench: 'month-end-late-fees',
      backend: 'postgres',
      machine: machine(),
      customers: options.customers,
      bills: bills.rows.length,
      paymentsPosted: inputs.length,
      countySetupSeconds: Number(countySeconds.toFixed(1)),
      paymentPostingSeconds: Number(paySeconds.toFixed(1)),
      examined: summary.examined,
      inArrears: summary.inArrears,
      lateFeeYuan: (summary.lateFeeFen / 100).toFixed(2),
      overduePrincipalYuan: (summary.overduePrincipalFen / 100).toFixed(2),
      partitions: summary.partitions,
      concurrency: options.concurrency,
      seconds: Number(seconds.toFixed(2)),
      customersPerSecond: Math.round(options.customers / seconds),
      rerunSeconds: Number(rerunSeconds.toFixed(2)),
      rerunDoneHere: again.partitionsDoneHere,
    }),
  );
} finally {
  await database.close();
  server.stop();
}
