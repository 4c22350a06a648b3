import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { findPdfFont } from '../../src/adapters/files/pdf-font.js';
import type { Period } from '../../src/domain/local-date.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import type { TestDatabase } from '../support/databases.js';
import { cliIn, loggedInEnv } from '../support/cli-login.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';

/** Whether the system has a font for Chinese PDFs, found as the CLI finds it. */
function hasPdfFont(): boolean {
  try {
    findPdfFont(undefined);
    return true;
  } catch {
    return false;
  }
}

/** The real CLI in-process (test/support/cli-login.ts). */
const cli = (env: Record<string, string>, ...argv: string[]) => cliIn(env, argv);

describeEachDatabase('CLI', (kind) => {
  let dir: string;
  let database: TestDatabase | undefined;
  let env: Record<string, string>;
  /** The CLI of the demo's administrator, logged in (`gridcollect login admin`). */
  let admin: Record<string, string>;
  const osUser = os.userInfo().username;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-cli-'));
    env = {
      GRIDCOLLECT_DATA_DIR: path.join(dir, 'data'),
      GRIDCOLLECT_LANG: 'en',
      // No session here: each person logs in with their own configuration directory.
      XDG_CONFIG_HOME: path.join(dir, 'config'),
      GRIDCOLLECT_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    };
    if (kind === 'postgres') {
      database = await createTestDatabase(kind);
      env.DATABASE_URL = database.url!;
    }
  });
  afterAll(async () => {
    await database?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints help and exits 0', async () => {
    const result = await cli(env, '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: gridcollect/);
    for (const command of ['demo', 'customer', 'channel', 'serve', 'db'])
      expect(result.stdout).toContain(command);
  });

  it('exits 2 with the reason on standard error for a usage error', async () => {
    const result = await cli(env, 'demo', '--customers', 'many', '--months', '2', '--seed', '1');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--customers/);
    expect(result.stdout).toBe('');
    expect((await cli(env, 'bill', 'nonsense')).code).toBe(2);
  });

  it('exits 2 for a configuration error', async () => {
    const result = await cli({ ...env, GRIDCOLLECT_PORT: 'abc' }, 'db', 'status');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/GRIDCOLLECT_PORT/);
  });

  it('creates the demo county and prints exactly one JSON document with --json', async () => {
    const result = await cli(
      env,
      'demo',
      '--customers',
      '400',
      '--months',
      '3',
      '--seed',
      '5',
      '--until',
      '2026-10',
      '--json',
    );
    expect(result.stderr.split('\n').filter((line) => line.startsWith('gridcollect:'))).toEqual([]);
    expect(result.code).toBe(0);
    // The demo payment platform's secret is drawn at random for this installation and shown once.
    const shown = /Secret of the demo payment platform channel WXPAY [^:]*: ([A-Za-z0-9_-]{32})\n/.exec(
      result.stderr,
    );
    expect(shown).not.toBeNull();
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({
      customers: 400,
      firstPeriod: '2026-08',
      lastPeriod: '2026-10',
      alreadyCreated: false,
    });
    const rerun = await cli(
      env,
      'demo',
      '--customers',
      '400',
      '--months',
      '3',
      '--seed',
      '5',
      '--until',
      '2026-10',
      '--json',
    );
    expect(rerun.stderr).not.toContain(shown![1]);
    const again = JSON.parse(rerun.stdout);
    expect(again.alreadyCreated).toBe(true);
    const other = await cli(
      env,
      'demo',
      '--customers',
      '500',
      '--months',
      '3',
      '--seed',
      '5',
      '--until',
      '2026-10',
    );
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/demo_parameters_differ/);
    admin = await loggedInEnv(env, dir, 'admin');
  });

  it('sends the demo platform’s payments and daily files through the channel API', async () => {
    const settlement = JSON.parse(
      (await cli(env, 'channel', 'settlement', '--channel', 'WXPAY', '--json')).stdout,
    ) as {
      agrees: boolean;
      reconciliation: string;
      payments: number;
    }[];
    expect(settlement.length).toBeGreaterThan(0);
    for (const day of settlement) expect(day).toMatchObject({ agrees: true, reconciliation: 'accepted' });
    expect(JSON.parse((await cli(env, 'channel', 'cases', '--json')).stdout)).toEqual([]);
    const audit = JSON.parse((await cli(env, 'audit', 'list', '--limit', '5000', '--json')).stdout) as {
      actorKind: string;
      actorId: string;
      action: string;
    }[];
    // Signed requests of the platform itself, not the operator's CLI.
    const byPlatform = audit.filter((entry) => entry.actorKind === 'channel' && entry.actorId === 'WXPAY');
    expect(byPlatform.filter((entry) => entry.action === 'payment.post').length).toBeGreaterThan(0);
    expect(byPlatform.filter((entry) => entry.action === 'channel.reconcile').length).toBeGreaterThan(0);
  });

  it('lists customers as JSON with the contract fields', async () => {
    const result = await cli(env, 'customer', 'list', '--limit', '5', '--json');
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as Record<string, unknown>[];
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(row).toMatchObject({
        customerNo: expect.stringMatching(/^\d{10}$/),
        name: expect.any(String),
        category: expect.any(String),
        totalDue: expect.stringMatching(/^-?\d+\.\d{2}$/),
      });
    }
    const all = JSON.parse((await cli(env, 'customer', 'list', '--json')).stdout) as { customerNo: string }[];
    expect(all).toHaveLength(400);
    expect(new Set(all.map((row) => row.customerNo)).size).toBe(400);
    // The demo billed, released and collected its months: most paid, the late and chronic payers owe.
    const owing = JSON.parse((await cli(env, 'customer', 'list', '--owing', '--json')).stdout) as {
      totalDue: string;
    }[];
    expect(owing.length).toBeGreaterThan(20);
    expect(owing.length).toBeLessThan(400);
    expect(owing.every((row) => Number(row.totalDue) > 0)).toBe(true);
    const table = await cli(env, 'customer', 'list', '--limit', '3');
    expect(table.stdout.split('\n').filter(Boolean)).toHaveLength(5);
  });

  it('refuses a command that changes money without a session, and posts nothing', async () => {
    const [customer] = JSON.parse(
      (await cli(env, 'customer', 'list', '--owing', '--limit', '1', '--json')).stdout,
    ) as { customerNo: string; totalDue: string }[];
    const refused = await cli(
      env,
      ...['payment', 'post', '--customer', customer!.customerNo, '--amount', '1.00', '--key', 'NOSESSION-1'],
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not logged in: run gridcollect login/);
    const zh = await cli({ ...env, GRIDCOLLECT_LANG: 'zh-CN' }, 'hold', 'approve', '1');
    expect(zh.stderr).toMatch(/未登录/);
    // --by no longer names an actor.
    const by = await cli(
      admin,
      ...['payment', 'post', '--customer', customer!.customerNo, '--amount', '1.00', '--key', 'BY-1'],
      ...['--by', 's01.cashier1'],
    );
    expect(by.code).toBe(2);
    expect(by.stderr).toMatch(/unknown option '--by'/);
    const after = JSON.parse((await cli(env, 'customer', 'list', '--owing', '--json')).stdout) as {
      customerNo: string;
      totalDue: string;
    }[];
    expect(after.find((row) => row.customerNo === customer!.customerNo)?.totalDue).toBe(customer!.totalDue);
  });

  it('posts a payment as the signed-in cashier, within their station only', async () => {
    const cashier = await loggedInEnv(env, dir, 's01.cashier1');
    const me = JSON.parse((await cli(cashier, 'whoami', '--json')).stdout) as { staffId: number };
    // s01.cashier1 works at the first station (QH01); QH02 is another station.
    const owingAt = async (station: string) =>
      JSON.parse((await cli(env, 'customer', 'list', '--owing', '--station', station, '--json')).stdout) as {
        customerNo: string;
        totalDue: string;
      }[];
    const own = (await owingAt('QH01'))[0]!;
    const other = (await owingAt('QH02'))[0]!;
    const paid = await cli(
      cashier,
      ...[
        'payment',
        'post',
        '--customer',
        own.customerNo,
        '--amount',
        '1.00',
        '--key',
        'SESSION-1',
        '--json',
      ],
    );
    expect(paid.stderr).toBe('');
    expect(paid.code).toBe(0);
    const receipt = JSON.parse(paid.stdout).receiptNo as string;
    const audit = JSON.parse((await cli(env, 'audit', 'list', '--limit', '50', '--json')).stdout) as {
      action: string;
      objectId: string;
    }[];
    expect(audit.find((row) => row.action === 'payment.post' && row.objectId === receipt)).toMatchObject({
      actorKind: 'staff',
      actorId: String(me.staffId),
      channel: 'cli',
      osUser,
    });
    // Another station's customer is outside the cashier's scope, as in the API.
    const outside = await cli(
      cashier,
      ...['payment', 'post', '--customer', other.customerNo, '--amount', '1.00', '--key', 'SESSION-2'],
    );
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/not_found|forbidden/);
    const after = JSON.parse((await cli(env, 'customer', 'list', '--owing', '--json')).stdout) as {
      customerNo: string;
      totalDue: string;
    }[];
    expect(after.find((row) => row.customerNo === other.customerNo)?.totalDue).toBe(other.totalDue);
    // A cashier may not approve anything.
    const approve = await cli(cashier, 'hold', 'approve', '1');
    expect(approve.code).toBe(1);
    expect(approve.stderr).toMatch(/forbidden|not_found/);
  });

  it('needs a second person’s own session to approve a request', async () => {
    const head = await loggedInEnv(env, dir, 's01.head');
    const asked = await cli(
      head,
      ...['hold', 'request', '--scope', 'station:QH01', '--from', '2026-12-01', '--to', '2026-12-31'],
      ...['--no-late-fee', '--reason', '冰冻灾害期间暂缓', '--json'],
    );
    expect(asked.stderr).toBe('');
    expect(asked.code).toBe(0);
    const holdId = String(JSON.parse(asked.stdout).holdId);
    const self = await cli(head, 'hold', 'approve', holdId);
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/same_person_approval/);
    const second = await cli(admin, 'hold', 'approve', holdId, '--json');
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).holdId).toBe(Number(holdId));
  });

  it('registers a channel, re-enables it, and records both in the audit trail', async () => {
    const first = await cli(
      admin,
      'channel',
      'add',
      '--id',
      'BANK01',
      '--secret',
      'a-secret-of-enough-length',
      '--name',
      '测试银行',
      '--json',
    );
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ channelCode: 'BANK01', created: true });
    const second = await cli(
      admin,
      'channel',
      'add',
      '--id',
      'BANK01',
      '--secret',
      'another-secret-of-length',
    );
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/BANK01/);
    const short = await cli(admin, 'channel', 'add', '--id', 'BANK02', '--secret', 'short');
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/secret/);
    const audit = JSON.parse((await cli(env, 'audit', 'list', '--json')).stdout) as {
      action: string;
      objectId: string;
    }[];
    expect(
      audit
        .filter((entry) => entry.objectId === 'BANK01')
        .map((entry) => entry.action)
        .sort(),
    ).toEqual(['channel.add', 'channel.reenable']);
  });

  it('imports a read file whole or not at all, exiting 1 with the line at fault', async () => {
    const bad = path.join(dir, 'bad-reads.csv');
    await writeFile(bad, 'meter_no,period,read_on,total\n999999999999,2026-11,2026-11-25,10\n');
    const refused = await cli(admin, 'reads', 'import', bad);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/line 2, meter_no/);
  });

  it('runs and releases billing with the contract JSON fields', async () => {
    // The demo billed and released its months; November has no reads yet, so everyone is held.
    const run = await cli(env, 'bill', 'run', '--period', '2026-11', '--json');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ period: '2026-11', billed: 0, failed: 0 });
    expect(summary.held).toBeGreaterThan(300);
    expect(summary.exceptions.missing_read).toBe(summary.held);
    const release = await cli(admin, 'bill', 'release', '--period', '2026-10', '--json');
    expect(release.code).toBe(0);
    expect(JSON.parse(release.stdout)).toMatchObject({ period: '2026-10', released: 0 });
    const badPeriod = await cli(env, 'bill', 'run', '--period', '2026-13');
    expect(badPeriod.code).toBe(2);
  });

  // The PDF commands load their renderer when run (not at start-up): this runs one through the CLI.
  it.skipIf(!hasPdfFont() && process.env.GRIDCOLLECT_REQUIRE_SYSTEM_DEPS !== '1')(
    'writes a customer’s bill as a PDF',
    async () => {
      const [customer] = JSON.parse(
        (await cli(env, 'customer', 'list', '--limit', '1', '--json')).stdout,
      ) as {
        customerNo: string;
      }[];
      const out = path.join(dir, 'bill.pdf');
      const result = await cli(
        env,
        'bill',
        'pdf',
        '--customer',
        customer!.customerNo,
        '--period',
        '2026-10',
        '--out',
        out,
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect((await readFile(out)).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    },
  );

  it('lets a worker finish a billing run that was killed part-way', async () => {
    // Interrupt a billing run through the library on the CLI's own database, then run `worker`.
    const database =
      kind === 'postgres'
        ? await openDatabase({ kind: 'postgres', url: env.DATABASE_URL!, poolSize: 2 })
        : await openDatabase({ kind: 'pglite', dataDir: env.GRIDCOLLECT_DATA_DIR });
    const crash = new Error('killed');
    let calls = 0;
    await expect(
      runBilling(database.db, {
        period: '2026-12' as Period,
        concurrency: 1,
        worker: 'test',
        partitionSize: 100,
        onProgress: () => {
          if (++calls === 2) throw crash;
        },
      }),
    ).rejects.toBe(crash);
    await database.close();
    const result = await cli(env, 'worker', '--json');
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output.partitions).toBeGreaterThan(0);
    expect(output.runs).toContain('billing-run:2026-12:all:1');
    const again = JSON.parse((await cli(env, 'worker', '--json')).stdout);
    expect(again).toEqual({ partitions: 0, runs: [] });
  });

  it('reports migration status', async () => {
    const result = await cli(env, 'db', 'status', '--json');
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout);
    expect(status.database).toBe(kind);
    expect(status.migrations.every((migration: { state: string }) => migration.state === 'applied')).toBe(
      true,
    );
  });
});
