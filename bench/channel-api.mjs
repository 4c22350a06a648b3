// POST /channel/v1/payments against a `gridcollect serve` process on PostgreSQL (fsync on), from a
// load generator in this process with N keep-alive connections, all on this machine. Every
// request is signed with a fresh nonce and a unique txnId. Prints payments/s and latency.
//   node bench/channel-api.mjs --payments 20000 --connections 64 --customers 20000
import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { sql } from 'kysely';
import { createFieldCipher } from '../dist/adapters/crypto/field-cipher.js';
import { openDatabase } from '../dist/db/database.js';
import { addChannel } from '../dist/app/add-channel.js';
import { CLI_PRINCIPAL } from '../dist/app/principal.js';
import {
  billedCounty,
  concurrentLoad,
  ROOT,
  freshDatabase,
  machine,
  parseArgs,
  postgresServer,
  quantileMs,
  withPaymentHistory,
} from './support.mjs';

const options = parseArgs(process.argv.slice(2), {
  payments: 20000,
  warmup: 2000,
  connections: 64,
  customers: 20000,
  pool: 24,
  port: 3917,
});
const server = postgresServer();
const url = await freshDatabase(server.url, 'gc_bench_channel');
const keyHex = randomBytes(32).toString('hex');
const cipher = createFieldCipher(Buffer.from(keyHex, 'hex'));
const database = await openDatabase({ kind: 'postgres', url, poolSize: 4 });
await billedCounty(database.db, { customers: options.customers, encrypt: cipher.encrypt });
const secret = 'bench-channel-secret-0001';
await addChannel(
  database.db,
  CLI_PRINCIPAL,
  cipher.encrypt,
  { channelCode: 'BENCH', secret, rateLimitPerSecond: 100000 },
  new Date(Date.now() - 60_000),
);
const customers = (
  await sql`select c.customer_no from customer c join bill b on b.customer_id = c.customer_id`.execute(
    database.db,
  )
).rows.map((row) => row.customer_no);
await withPaymentHistory(database.db, customers);
await database.close();

const child = spawn(
  process.execPath,
  [path.join(ROOT, 'bin/gridcollect.js'), 'serve', '--port', String(options.port)],
  {
    env: {
      ...process.env,
      DATABASE_URL: url,
      GRIDCOLLECT_ENCRYPTION_KEY: keyHex,
      GRIDCOLLECT_DB_POOL_SIZE: String(options.pool),
      GRIDCOLLECT_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
await new Promise((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
    if (/http:\/\//.test(out)) resolve();
  });
  child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
});

const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
function post(pathName, body) {
  const payload = JSON.stringify(body);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(12).toString('hex');
  const bodyHash = createHash('sha256').update(payload).digest('hex');
  const signature = createHmac('sha256', secret)
    .update(`POST\n${pathName}\n${timestamp}\n${nonce}\n${bodyHash}`)
    .digest('hex');
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port: options.port,
        path: pathName,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          'x-channel-id': 'BENCH',
          'x-timestamp': timestamp,
          'x-nonce': nonce,
          'x-signature': signature,
        },
      },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

async function load(count, prefix) {
  const errors = {};
  const { seconds, latencies } = await concurrentLoad(options.connections, count, async (k) => {
    const answer = await post('/channel/v1/payments', {
      txnId: `${prefix}${k}`,
      customerNo: customers[(k * 7919) % customers.length],
      amount: `${5 + (k % 300)}.${String(k % 100).padStart(2, '0')}`,
      paidAt: new Date().toISOString(),
    });
    if (answer.status !== 200) errors[answer.status] = (errors[answer.status] ?? 0) + 1;
  });
  return { seconds, latencies, errors };
}

try {
  await load(options.warmup, 'W');
  const { seconds, latencies, errors } = await load(options.payments, 'P');
  console.log(
    JSON.stringify({
      bench: 'channel-api-payments',
      backend: 'postgres',
      machine: machine(),
      payments: options.payments,
      connections: options.connections,
      serverPool: options.pool,
      seconds: Math.round(seconds * 100) / 100,
      paymentsPerSecond: Math.round(options.payments / seconds),
      p50Ms: quantileMs(latencies, 0.5),
      p99Ms: quantileMs(latencies, 0.99),
      errors,
    }),
  );
} finally {
  agent.destroy();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  server.stop();
}
