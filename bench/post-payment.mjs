// Payment posting through the use case: 16 concurrent posters on PostgreSQL (fsync on), each
// posting partial payments for random customers with unique keys. Prints payments/s and latency.
//   node bench/post-payment.mjs --payments 20000 --concurrency 16
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { createFieldCipher } from '../dist/adapters/crypto/field-cipher.js';
import { openDatabase } from '../dist/adapters/db/database.js';
import { principalForLogin } from '../dist/app/log-in.js';
import { postPayment } from '../dist/app/post-payment.js';
import {
  billedCounty,
  freshDatabase,
  machine,
  parseArgs,
  postgresServer,
  withPaymentHistory,
} from './support.mjs';

const options = parseArgs(process.argv.slice(2), { payments: 20000, concurrency: 16, customers: 20000 });
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

const latencies = [];
const cpu0 = process.cpuUsage();
let next = 0;
const started = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: options.concurrency }, async () => {
    for (;;) {
      const k = next++;
      if (k >= options.payments) return;
      const t0 = process.hrtime.bigint();
      await postPayment(database.db, cashier, {
        idempotencyKey: `bench:${k}`,
        customerNo: customers[(k * 7919) % customers.length],
        amountFen: 500 + (k % 5000),
        paidAt: new Date(),
        businessDate: '2026-11-10',
        source: { kind: 'channel', channelCode: 'BENCH', txnId: `bench:${k}` },
      });
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }),
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpu0);
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1);
await database.close();
server.stop();
console.log(
  JSON.stringify({
    bench: 'post-payment',
    backend: 'postgres',
    machine: machine(),
    payments: options.payments,
    concurrency: options.concurrency,
    seconds: Number(seconds.toFixed(2)),
    paymentsPerSecond: Math.round(options.payments / seconds),
    p50Ms: Number(at(0.5)),
    p99Ms: Number(at(0.99)),
    nodeCpuMsPerPayment: Number(((cpu.user + cpu.system) / 1000 / options.payments).toFixed(3)),
  }),
);
