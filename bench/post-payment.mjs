// Payment posting through the use case: 16 concurrent posters on PostgreSQL (fsync on), each
// posting partial payments for random customers with unique keys. Two ways, one after the other
// on the same county: each payment in its own transaction and durable commit (postPayment, the
// counter's path), and concurrent payments sharing commits (PaymentBatcher with the HTTP
// server's settings, the channel API's path). Prints payments/s and latency for each.
//   node bench/post-payment.mjs --payments 20000 --concurrency 16 [--commits one|shared|both]
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { createFieldCipher } from '../dist/adapters/crypto/field-cipher.js';
import { openDatabase } from '../dist/db/database.js';
import { principalForLogin } from '../dist/app/log-in.js';
import { PaymentBatcher } from '../dist/app/payment-batcher.js';
import { postPayment } from '../dist/app/post-payment.js';
import {
  billedCounty,
  concurrentLoad,
  freshDatabase,
  machine,
  parseArgs,
  postgresServer,
  quantileMs,
  withPaymentHistory,
} from './support.mjs';

const options = parseArgs(process.argv.slice(2), {
  payments: 20000,
  concurrency: 16,
  customers: 20000,
  commits: 'both',
});
const server = postgresServer();
const database = await openDatabase({
  kind: 'postgres',
  url: await freshDatabase(server.url, 'gc_bench_payment'),
  poolSize: options.concurrency + 2,
});
await billedCounty(database.db, {
  customers: options.customers,
  encrypt: createFieldCipher(randomBytes(32)).encrypt,
});
const customers = (
  await sql`select c.customer_no from customer c join bill b on b.customer_id = c.customer_id`.execute(
    database.db,
  )
).rows.map((row) => row.customer_no);
const cashier = await principalForLogin(database.db, 'admin');
await withPaymentHistory(database.db, customers);

const modes = options.commits === 'both' ? ['one', 'shared'] : [options.commits];
for (const mode of modes) {
  const batcher = mode === 'shared' ? new PaymentBatcher(database.db) : undefined;
  const cpu0 = process.cpuUsage();
  const { seconds, latencies } = await concurrentLoad(options.concurrency, options.payments, async (k) => {
    const input = {
      idempotencyKey: `bench:${mode}:${k}`,
      customerNo: customers[(k * 7919) % customers.length],
      amountFen: 500 + (k % 5000),
      paidAt: new Date(),
      businessDate: '2026-11-10',
      source: { kind: 'channel', channelCode: 'BENCH', txnId: `bench:${mode}:${k}` },
    };
    if (batcher) await batcher.submit({ principal: cashier, input });
    else await postPayment(database.db, cashier, input);
  });
  const cpu = process.cpuUsage(cpu0);
  console.log(
    JSON.stringify({
      bench: 'post-payment',
      backend: 'postgres',
      commits: mode === 'one' ? 'one per payment (postPayment)' : 'shared (PaymentBatcher)',
      machine: machine(),
      payments: options.payments,
      concurrency: options.concurrency,
      seconds: Number(seconds.toFixed(2)),
      paymentsPerSecond: Math.round(options.payments / seconds),
      p50Ms: quantileMs(latencies, 0.5),
      p99Ms: quantileMs(latencies, 0.99),
      nodeCpuMsPerPayment: Number(((cpu.user + cpu.system) / 1000 / options.payments).toFixed(3)),
    }),
  );
  // The next way starts, like this one, from a vacuumed and checkpointed county.
  await sql`vacuum analyze`.execute(database.db);
  await sql`checkpoint`.execute(database.db);
}
await database.close();
server.stop();
