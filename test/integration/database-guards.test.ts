import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/adapters/cli/program.js';
import { createAppContext } from '../../src/main/app-context.js';
import { principalForLogin } from '../../src/app/log-in.js';
import { postPayment } from '../../src/app/post-payment.js';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import { loadConfig, parseConfig } from '../../src/config/config.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import type { LocalDate, Period } from '../../src/domain/local-date.js';
import { fen } from '../../src/domain/money.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase, testedDatabaseKinds } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';

/** Tables with a trigger that refuses UPDATE or DELETE (append-only, or rows never deleted). */
async function guardedTables(database: Database): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select distinct c.relname as table_name from pg_trigger t
    join pg_class c on c.oid = t.tgrelid join pg_proc p on p.oid = t.tgfoid
    where p.proname in ('refuse_change', 'refuse_delete') and (t.tgtype & (8 | 16)) <> 0
    order by 1`.execute(database.db);
  return rows.map((row) => row.table_name);
}

describeEachDatabase('the database defends itself', (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(() => database.close());

  it('refuses TRUNCATE on every table that refuses UPDATE or DELETE, meter reads included', async () => {
    const tables = await guardedTables(database);
    expect(tables).toEqual(
      expect.arrayContaining(['posting', 'journal_entry', 'meter_read', 'bill', 'customer']),
    );
    for (const table of tables) {
      // CASCADE: without it a table that others reference fails on the foreign keys before any
      // trigger runs. Some table's trigger refuses; that each has its own is checked after.
      const error = await sql`truncate ${sql.table(table)} cascade`
        .execute(database.db)
        .catch((caught) => caught);
      expect(String(error), table).toMatch(/append-only: TRUNCATE refused|never deleted/);
      const own = await sql<{
        n: number;
      }>`select count(*)::int as n from pg_trigger t join pg_class c on c.oid = t.tgrelid
        where c.relname = ${table} and (t.tgtype & 32) <> 0`.execute(database.db);
      expect(own.rows[0]!.n, `${table} has its own BEFORE TRUNCATE trigger`).toBe(1);
    }
  });

  it('refuses to update or delete a meter read: it is superseded, never edited', async () => {
    await createSmallDemo(database.db, { customers: 100, months: 1 });
    const before = await sql<{ n: number }>`select count(*)::int as n from meter_read`.execute(database.db);
    expect(before.rows[0]!.n).toBeGreaterThan(0);
    await expect(sql`update meter_read set total = total + 1`.execute(database.db)).rejects.toThrow(
      /meter_read is append-only: UPDATE refused/,
    );
    await expect(sql`delete from meter_read`.execute(database.db)).rejects.toThrow(
      /meter_read is append-only: DELETE refused/,
    );
    const after = await sql<{ n: number }>`select count(*)::int as n from meter_read`.execute(database.db);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  const entries = async () =>
    Number(
      (
        await sql<{ n: number }>`select count(*)::int as n from journal_entry where customer_id = 0`.execute(
          database.db,
        )
      ).rows[0]!.n,
    );
  const writeEntry = (id: number, amounts: number[]) =>
    database.db.transaction().execute(async (trx) => {
      await sql`insert into journal_entry (customer_id, journal_entry_id, kind, effective_on) values (0, ${id}, 'test', '2026-11-05')`.execute(
        trx,
      );
      // One posting per statement: the check waits for the commit, not the statement.
      for (const [k, amount] of amounts.entries())
        await sql`insert into posting (customer_id, journal_entry_id, line_no, ledger_account_code, amount_fen)
          values (0, ${id}, ${k + 1}, ${k % 2 === 0 ? 'bank' : 'counter_cash'}, ${amount})`.execute(trx);
    });

  it('refuses, at commit, a journal entry whose postings do not sum to zero', async () => {
    const before = await entries();
    await expect(writeEntry(990_001, [1000, -999])).rejects.toThrow(
      /journal entry 990001 \(customer 0\) does not balance: 2 posting\(s\) summing to 1 fen/,
    );
    await expect(writeEntry(990_002, [5])).rejects.toThrow(/does not balance: 1 posting/);
    expect(await entries()).toBe(before);
    await writeEntry(990_003, [1000, -600, -400]);
    expect(await entries()).toBe(before + 1);
  });
});

// Roles exist on a PostgreSQL server only; PGlite has one role, and the triggers above still apply.
describe.runIf(testedDatabaseKinds().includes('postgres'))('PostgreSQL owner and runtime roles', () => {
  const role = `gc_runtime_${randomBytes(4).toString('hex')}`;
  let owner: TestDatabase;
  let runtime: Database;
  let runtimeUrl: string;
  let dataDir: string;

  beforeAll(async () => {
    owner = await createTestDatabase('postgres');
    await sql`create role ${sql.id(role)} login`.execute(owner.db);
    const url = new URL(owner.url!);
    url.username = role;
    url.password = '';
    runtimeUrl = url.toString();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-roles-'));
    // `gridcollect db migrate` with both URLs: migrates as the owner, grants the runtime role.
    let stdout = '';
    const code = await runCli(['db', 'migrate', '--json'], {
      out: (text) => {
        stdout += text;
      },
      err: () => {},
      openContext: createAppContext,
      config: () =>
        parseConfig({
          DATABASE_URL: runtimeUrl,
          DATABASE_OWNER_URL: owner.url!,
          GRIDCOLLECT_DATA_DIR: dataDir,
        }),
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ error: null, runtimeRole: role });
    await createSmallDemo(owner.db, { customers: 200, months: 2 });
    runtime = await openDatabase({ kind: 'postgres', url: runtimeUrl, poolSize: 2 });
  });
  afterAll(async () => {
    await runtime?.close();
    await owner?.close();
    await rm(dataDir, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: loadConfig().testDatabaseUrl });
    await admin.connect();
    await admin.query(`drop role if exists ${role}`);
    await admin.end();
  });

  it('runs as a role that owns nothing', async () => {
    const { rows } = await sql<{ who: string; owned: number }>`select current_user as who,
      (select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and pg_get_userbyid(c.relowner) = current_user) as owned`.execute(
      runtime.db,
    );
    expect(rows[0]).toEqual({ who: role, owned: 0 });
  });

  it.each([
    ['truncate posting', /permission denied for table posting/],
    ['truncate channel_nonce', /permission denied for table channel_nonce/],
    ['alter table posting disable trigger posting_append_only', /must be owner of table posting/],
    ['alter table journal_entry disable trigger all', /must be owner of table journal_entry/],
    ['alter table journal_entry add column note text', /must be owner of table journal_entry/],
    [
      'drop trigger journal_entry_balances on journal_entry',
      /must be owner of (table|relation) journal_entry/,
    ],
    ['update journal_entry set memo = memo', /permission denied for table journal_entry/],
    ['delete from customer_account', /permission denied for table customer_account/],
    ["insert into schema_migration (version, name, checksum) values ('9999', 'x', 'x')", /permission denied/],
    ['create table scratch (x int)', /permission denied for schema public/],
  ])('is refused: %s', async (statement, refusal) => {
    await expect(sql.raw(statement).execute(runtime.db)).rejects.toThrow(refusal);
  });

  it('bills, releases and takes a payment as the runtime role', async () => {
    const run = await runBilling(runtime.db, { period: '2026-10' as Period, concurrency: 1, worker: 'test' });
    expect(run.billed).toBeGreaterThan(0);
    const released = await releaseBills(runtime.db, {
      period: '2026-10' as Period,
      releasedOn: '2026-11-03' as LocalDate,
      actor: CLI_PRINCIPAL,
    });
    expect(released.released).toBe(run.billed);
    const cashier = await principalForLogin(runtime.db, 's01.cashier1');
    const customer = await sql<{ customer_no: string }>`select c.customer_no from customer c
      join bill_release r on r.customer_id = c.customer_id where c.station_id = 11 order by c.customer_id limit 1`.execute(
      runtime.db,
    );
    const payment = await postPayment(runtime.db, cashier, {
      idempotencyKey: 'counter:roles-1',
      customerNo: customer.rows[0]!.customer_no,
      amountFen: fen(1234),
      paidAt: new Date('2026-11-05T10:00:00+08:00'),
      businessDate: '2026-11-05' as LocalDate,
      source: { kind: 'counter', staffId: cashier.staffId! },
    });
    expect(payment.receiptNo).toMatch(/\S/);
    const ledger = await sql<{ unbalanced: number }>`select count(*)::int as unbalanced from (
      select 1 from posting group by customer_id, journal_entry_id having sum(amount_fen) <> 0) x`.execute(
      runtime.db,
    );
    expect(ledger.rows[0]!.unbalanced).toBe(0);
  });
});
