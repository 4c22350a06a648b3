import { randomBytes } from 'node:crypto';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulateChannel } from '../../src/adapters/channel-client/channel-simulator.js';
import { systemClock } from '../../src/adapters/clock/system-clock.js';
import { openDatabase } from '../../src/db/database.js';
import { addChannel } from '../../src/app/add-channel.js';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import { listCustomers } from '../../src/app/queries/list-customers.js';
import { verifyLedger } from '../../src/app/queries/verify-ledger.js';
import type { LocalDate, Period } from '../../src/domain/local-date.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import {
  type TestDatabase,
  createTestDatabase,
  describeEachDatabase,
  testedDatabaseKinds,
} from '../support/databases.js';
import { loggedInEnv } from '../support/cli-login.js';
import { createSmallDemo } from '../support/demo.js';
import { TEST_CIPHER, buildTestServer } from '../support/server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin/gridcollect.js');
const SECRET = 'simulated-bank-secret-01';
/**
 * 10,000 payments on PostgreSQL (the figure); 2,000 on the embedded database, which
 * serves one statement at a time. GRIDCOLLECT_SIMULATION_PAYMENTS sets both.
 */
const paymentsFor = (kind: string) =>
  Number(process.env.GRIDCOLLECT_SIMULATION_PAYMENTS ?? (kind === 'postgres' ? 10_000 : 2_000));

describeEachDatabase('channel simulator against a listening server', (kind) => {
  const PAYMENTS = paymentsFor(kind);
  let database: TestDatabase;
  let app: FastifyInstance;
  let baseUrl: string;
  let customerNos: string[];

  beforeAll(async () => {
    database = await createTestDatabase(kind, 16);
    await createSmallDemo(database.db);
    await runBilling(database.db, { period: '2026-10' as Period, concurrency: 1, worker: 'test' });
    await releaseBills(database.db, {
      period: '2026-10' as Period,
      releasedOn: '2026-11-03' as LocalDate,
      actor: CLI_PRINCIPAL,
    });
    await addChannel(
      database.db,
      CLI_PRINCIPAL,
      TEST_CIPHER.encrypt,
      { channelCode: 'SIM', secret: SECRET },
      new Date(),
    );
    app = await buildTestServer(database, { clock: systemClock('Asia/Shanghai') });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    customerNos = (await listCustomers(database.db, CLI_PRINCIPAL, { owing: true, limit: 900 })).map(
      (c) => c.customerNo,
    );
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it(`posts ${PAYMENTS} payments exactly once with 30% sent twice (half concurrently) and reconciles clean`, async () => {
    const report = await simulateChannel({
      baseUrl,
      channelId: 'SIM',
      secret: SECRET,
      customerNos,
      payments: PAYMENTS,
      duplicates: 0.3,
      reversals: 0.02,
      concurrency: kind === 'postgres' ? 32 : 8,
      seed: 7,
      query: false,
      reconcile: true,
      txnPrefix: 'EX',
    });
    expect(report.duplicateReceiptMismatches).toBe(0);
    expect(report.duplicatesSent).toBeGreaterThan(PAYMENTS * 0.25);
    expect(report.acknowledged).toBe(PAYMENTS);
    expect(report.clean, JSON.stringify(report.reconciliations)).toBe(true);
    const stored = await sql<{ n: number; distinct_txn: number }>`
      select count(*)::int as n, count(distinct channel_txn_id)::int as distinct_txn from payment where channel_code = 'SIM'`.execute(
      database.db,
    );
    expect(stored.rows[0]).toEqual({ n: PAYMENTS, distinct_txn: PAYMENTS });
    expect((await verifyLedger(database.db)).problems).toEqual([]);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--lang', 'en', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      out += chunk;
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited ${code}: ${out}`)),
    );
  });
}

function startServer(port: number, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [BIN, '--lang', 'en', 'serve', '--port', String(port), '--host', '127.0.0.1'],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 60_000);
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (/running: http/.test(output)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
}

// The server is killed (SIGKILL) in the middle of a load and started again; the simulator retries
// what got no answer. Run against PostgreSQL (the embedded database is one process's files).
describe.skipIf(!testedDatabaseKinds().includes('postgres'))(
  'channel simulator across a server crash',
  () => {
    let dir: string;
    let database: TestDatabase;
    let env: NodeJS.ProcessEnv;
    beforeAll(async () => {
      if (!existsSync(path.join(ROOT, 'dist/main/cli.js'))) throw new Error('run `npm run build` first');
      dir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-crash-'));
      database = await createTestDatabase('postgres');
      env = {
        ...process.env,
        DATABASE_URL: database.url!,
        GRIDCOLLECT_DATA_DIR: path.join(dir, 'data'),
        GRIDCOLLECT_LOG_LEVEL: 'silent',
        GRIDCOLLECT_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      };
      await runCli(['demo', '--customers', '400', '--months', '2', '--seed', '11'], env);
      // Adding a channel is an administrator's act: the demo's admin signs in first.
      const admin = await loggedInEnv(env as Record<string, string>, dir, 'admin');
      await runCli(['channel', 'add', '--id', 'CRASH', '--secret', SECRET], admin);
    });
    afterAll(async () => {
      await database?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('loses no acknowledged payment and doubles none when the server is killed mid-load', async () => {
      const port = await freePort();
      let server = await startServer(port, env);
      const observer = await openDatabase({ kind: 'postgres', url: database.url!, poolSize: 1 });
      const customerNos = (await listCustomers(observer.db, CLI_PRINCIPAL, { owing: true, limit: 400 })).map(
        (c) => c.customerNo,
      );
      let killed = false;
      let restarted: Promise<void> = Promise.resolve();
      const report = await simulateChannel({
        baseUrl: `http://127.0.0.1:${port}`,
        channelId: 'CRASH',
        secret: SECRET,
        customerNos,
        payments: 2000,
        duplicates: 0.3,
        reversals: 0.02,
        concurrency: 16,
        seed: 3,
        query: true,
        reconcile: true,
        txnPrefix: 'KILL',
        giveUpMs: 90_000,
        onProgress: (done) => {
          if (!killed && done >= 500) {
            killed = true;
            server.kill('SIGKILL');
            restarted = (async () => {
              await new Promise((resolve) => server.once('exit', resolve));
              server = await startServer(port, env);
            })();
          }
        },
      });
      await restarted;
      try {
        expect(killed).toBe(true);
        expect(report.retries).toBeGreaterThan(0);
        expect(report.duplicateReceiptMismatches).toBe(0);
        expect(report.acknowledged).toBe(2000);
        expect(report.clean, JSON.stringify(report.reconciliations)).toBe(true);
        const stored = await sql<{ n: number; distinct_txn: number }>`
        select count(*)::int as n, count(distinct channel_txn_id)::int as distinct_txn from payment where channel_code = 'CRASH'`.execute(
          observer.db,
        );
        expect(stored.rows[0]).toEqual({ n: 2000, distinct_txn: 2000 });
        expect((await verifyLedger(observer.db)).problems).toEqual([]);
      } finally {
        await observer.close();
        const exit = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGTERM');
        await exit;
      }
    });
  },
);
