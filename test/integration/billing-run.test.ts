import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import { listCustomers } from '../../src/app/queries/list-customers.js';
import { verifyLedger } from '../../src/app/queries/verify-ledger.js';
import { type BillInputsRecord, repriceFromInputs } from '../../src/domain/billing/build-bill.js';
import type { LocalDate, Period } from '../../src/domain/local-date.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';

const FIRST = '2025-10' as Period;
const billOptions = (period: Period, extra: Partial<Parameters<typeof runBilling>[1]> = {}) => ({
  period,
  concurrency: 2,
  worker: 'test',
  partitionSize: 200,
  ...extra,
});

async function billDigest(database: TestDatabase, period: Period): Promise<string> {
  const result = await sql<{ digest: string }>`
    select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from (
      select b.customer_id, b.bill_id, b.kwh_total, b.amount_fen, b.funds_fen, b.inputs::text,
             (select string_agg(l.code || ':' || coalesce(l.kwh::text, '') || ':' || l.amount_fen, ',' order by l.line_no)
                from bill_line l where l.customer_id = b.customer_id and l.bill_id = b.bill_id) as lines
      from bill b where b.period = ${period}) t`.execute(database.db);
  return result.rows[0]!.digest;
}

describeEachDatabase('billing run and release', (kind) => {
  let database: TestDatabase;
  let first: Awaited<ReturnType<typeof runBilling>>;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db);
    first = await runBilling(database.db, billOptions(FIRST));
  });
  afterAll(() => database.close());

  it('bills every customer due in the period or holds them with a reason', async () => {
    const due = await sql<{ n: number }>`
      select count(*)::int as n from customer
      where opened_on <= '2025-10-31' and (closed_on is null or closed_on >= '2025-10-01')`.execute(
      database.db,
    );
    expect(first.billed).toBeGreaterThan(800);
    expect(first.billed + first.held + first.failed).toBe(due.rows[0]!.n);
    expect(first.failed).toBe(0);
    const heldWithoutReason = await sql<{ n: number }>`
      select count(*)::int as n from customer c
      where c.opened_on <= '2025-10-31' and (c.closed_on is null or c.closed_on >= '2025-10-01')
        and not exists (select 1 from bill b where b.customer_id = c.customer_id and b.period = ${FIRST})
        and not exists (select 1 from read_exception e where e.customer_id = c.customer_id and e.period = ${FIRST} and e.severity = 'hold')`.execute(
      database.db,
    );
    expect(heldWithoutReason.rows[0]!.n).toBe(0);
  });

  it('holds the faults the demo put into the reads', async () => {
    const missing = await sql<{ n: number }>`
      select count(*)::int as n from demo_read_fault f
      where f.period = ${FIRST} and f.fault = 'missing'
        and not exists (select 1 from read_exception e where e.customer_id = f.customer_id and e.period = f.period and e.code = 'missing_read')`.execute(
      database.db,
    );
    expect(missing.rows[0]!.n).toBe(0);
  });

  it('writes bills whose total is the sum of their lines and that reprice from their stored inputs', async () => {
    const mismatched = await sql<{ n: number }>`
      select count(*)::int as n from bill b
      where b.period = ${FIRST} and b.amount_fen <> (select coalesce(sum(l.amount_fen), 0) from bill_line l where l.customer_id = b.customer_id and l.bill_id = b.bill_id)`.execute(
      database.db,
    );
    expect(mismatched.rows[0]!.n).toBe(0);
    const sample = await database.db
      .selectFrom('bill')
      .select(['customer_id', 'amount_fen', 'inputs'])
      .where('period', '=', FIRST)
      .limit(60)
      .execute();
    const versions = await database.db
      .selectFrom('tariff_version')
      .select(['tariff_version_id', 'definition'])
      .execute();
    const definitions = new Map(versions.map((version) => [version.tariff_version_id, version.definition]));
    for (const bill of sample) {
      expect(repriceFromInputs(bill.inputs as BillInputsRecord, definitions).totalFen).toBe(bill.amount_fen);
    }
  });

  it('does nothing new when run again, and a dry run writes nothing', async () => {
    const before = await billDigest(database, FIRST);
    const again = await runBilling(database.db, billOptions(FIRST));
    expect(again.billed).toBe(0);
    expect(again.held).toBe(first.held);
    expect(await billDigest(database, FIRST)).toBe(before);
    const dry = await runBilling(database.db, billOptions('2025-11' as Period, { dryRun: true }));
    expect(dry.billed).toBeGreaterThan(800);
    const written = await database.db
      .selectFrom('bill')
      .select('bill_id')
      .where('period', '=', '2025-11')
      .execute();
    expect(written).toEqual([]);
  });

  it('gives the same bills after being killed part-way and rerun', async () => {
    const killed = await createTestDatabase(kind);
    try {
      await createSmallDemo(killed.db);
      const crash = new Error('killed');
      let calls = 0;
      await expect(
        runBilling(
          killed.db,
          billOptions(FIRST, {
            concurrency: 1,
            onProgress: () => {
              if (++calls === 3) throw crash;
            },
          }),
        ),
      ).rejects.toBe(crash);
      const partial = await killed.db
        .selectFrom('bill')
        .select('bill_id')
        .where('period', '=', FIRST)
        .execute();
      expect(partial.length).toBeGreaterThan(0);
      expect(partial.length).toBeLessThan(first.billed);
      // The process that picks the run up asks for other partitions: it keeps the run's own.
      const resumed = await runBilling(killed.db, billOptions(FIRST, { partitionSize: 77 }));
      expect(resumed.runKey).toBe(first.runKey);
      expect(resumed.partitions).toBe(first.partitions);
      expect(resumed.billed).toBe(first.billed);
      expect(await billDigest(killed, FIRST)).toBe(await billDigest(database, FIRST));
    } finally {
      await killed.close();
    }
  });

  it('releases bills into balanced journal entries, once', async () => {
    const summary = await releaseBills(database.db, {
      period: FIRST,
      releasedOn: '2025-11-03' as LocalDate,
      actor: CLI_PRINCIPAL,
      batchSize: 300,
    });
    expect(summary.released).toBe(first.billed);
    expect(summary.amountFen).toBe(first.amountFen);
    const unbalanced = await sql<{ n: number }>`
      select count(*)::int as n from (select customer_id, journal_entry_id from posting group by 1, 2 having sum(amount_fen) <> 0) t`.execute(
      database.db,
    );
    expect(unbalanced.rows[0]!.n).toBe(0);
    const receivable = await sql<{ total: number }>`
      select coalesce(sum(amount_fen), 0)::int8 as total from posting where ledger_account_code = 'customer_receivable'`.execute(
      database.db,
    );
    expect(Number(receivable.rows[0]!.total)).toBe(first.amountFen);
    const early = await sql<{
      n: number;
    }>`select count(*)::int as n from bill_release where due_on < released_on + 7`.execute(database.db);
    expect(early.rows[0]!.n).toBe(0);
    const again = await releaseBills(database.db, {
      period: FIRST,
      releasedOn: '2025-11-04' as LocalDate,
      actor: CLI_PRINCIPAL,
    });
    expect(again.released).toBe(0);
    const audit = await database.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'bill.release')
      .execute();
    expect(audit.reduce((sum, row) => sum + (row.details as { bills: number }).bills, 0)).toBe(first.billed);
  });

  it('shows released bills as what customers owe', async () => {
    const owing = await listCustomers(database.db, CLI_PRINCIPAL, { owing: true, limit: 2000 });
    expect(owing.length).toBeGreaterThan(0);
    const totalFen = owing.reduce((sum, customer) => sum + customer.totalDueFen, 0);
    expect(totalFen).toBe(first.amountFen);
  });

  it('bills one station alone, and carries tier-year consumption into later bills', async () => {
    const station = await runBilling(database.db, billOptions('2025-11' as Period, { stationId: 11 }));
    expect(station.billed).toBeGreaterThan(0);
    const stations = await sql<{ station_id: number }>`
      select distinct c.station_id from bill b join customer c on c.customer_id = b.customer_id where b.period = '2025-11'`.execute(
      database.db,
    );
    expect(stations.rows.map((row) => row.station_id)).toEqual([11]);
    const rest = await runBilling(database.db, billOptions('2025-11' as Period));
    expect(rest.billed).toBeGreaterThan(0);
    // A residential customer billed in both months: November's tier-year prior is October's kWh.
    const pair = await sql<{ prior: string; october: string }>`
      select (n.inputs -> 'parts' -> 0 -> 'usage' ->> 'priorKwh') as prior, o.kwh_total as october
      from bill n join bill o on o.customer_id = n.customer_id and o.period = '2025-10'
      join customer c on c.customer_id = n.customer_id
      where n.period = '2025-11' and c.tariff_code = 'RES-TIER' limit 1`.execute(database.db);
    expect(Number(pair.rows[0]!.prior)).toBe(Number(pair.rows[0]!.october));
  });

  it('charges no basic charge while a two-part customer’s transformer is sealed (暂停)', async () => {
    const customer = await sql<{ customer_id: number; amount_fen: number }>`
      select b.customer_id, l.amount_fen from bill b join bill_line l on l.customer_id = b.customer_id and l.bill_id = b.bill_id
      join customer c on c.customer_id = b.customer_id
      where b.period = '2025-11' and l.code = 'basic' and c.tariff_code = 'LI-2P-CAP' and l.amount_fen > 0
      order by b.customer_id limit 1`.execute(database.db);
    const target = customer.rows[0]!;
    await database.db
      .insertInto('capacity_change')
      .values({
        customer_id: target.customer_id,
        capacity_change_id: 99,
        kind: 'suspension',
        from_date: '2025-11-15',
        to_date: null,
        capacity_kva: '0',
        note: 'test',
      })
      .execute();
    await runBilling(database.db, billOptions('2025-12' as Period));
    const december = await sql<{ amount_fen: number }>`
      select l.amount_fen from bill_line l where l.customer_id = ${target.customer_id} and l.bill_id = 20251201 and l.code = 'basic'`.execute(
      database.db,
    );
    expect(december.rows).toHaveLength(1);
    expect(Number(december.rows[0]!.amount_fen)).toBe(0);
  });

  it('bills a meter read again after months without reads from its last read', async () => {
    // The October 2026 read is the meter's latest; the next comes in March 2027, beyond the
    // months searched first for an opening read.
    const meter = await sql<{ customer_id: number; meter_id: number; total: string; read_on: string }>`
      select r.customer_id, r.meter_id, r.total, r.read_on::text as read_on
      from meter_read r join meter m on m.customer_id = r.customer_id and m.meter_id = r.meter_id
      join customer c on c.customer_id = r.customer_id
      where r.period = '2026-10' and r.kind = 'actual' and r.total is not null and m.multiplier = 1
        and c.tariff_code = 'RES-TIER' and c.closed_on is null
        and (select count(*) from meter n where n.customer_id = r.customer_id) = 1
      order by r.customer_id limit 1`.execute(database.db);
    const last = meter.rows[0]!;
    await sql`insert into meter_read (customer_id, meter_read_id, meter_id, period, read_on, kind, source, total)
      values (${last.customer_id}, 999001, ${last.meter_id}, '2027-03', '2027-03-20', 'actual', 'manual',
              ${last.total}::numeric + 123.45)`.execute(database.db);
    const run = await runBilling(database.db, billOptions('2027-03' as Period));
    expect(run.billed).toBe(1);
    const bill = await sql<{ kwh_total: string; inputs: BillInputsRecord }>`
      select kwh_total::text as kwh_total, inputs from bill
      where customer_id = ${last.customer_id} and period = '2027-03'`.execute(database.db);
    expect(bill.rows).toHaveLength(1);
    expect(bill.rows[0]!.kwh_total).toBe('123.45');
    expect(bill.rows[0]!.inputs.spanFrom).toBe(last.read_on);
  });

  it('bills a corrected read instead of the read it corrects, even when dated earlier', async () => {
    const meter = await sql<{ customer_id: number; meter_id: number; total: string }>`
      select r.customer_id, r.meter_id, r.total
      from meter_read r join meter m on m.customer_id = r.customer_id and m.meter_id = r.meter_id
      join customer c on c.customer_id = r.customer_id
      where r.period = '2026-10' and r.kind = 'actual' and r.total is not null and m.multiplier = 1
        and c.tariff_code = 'RES-TIER' and c.closed_on is null
        and (select count(*) from meter n where n.customer_id = r.customer_id) = 1
      order by r.customer_id desc limit 1`.execute(database.db);
    const last = meter.rows[0]!;
    await sql`insert into meter_read (customer_id, meter_read_id, meter_id, period, read_on, kind, source, total)
      values (${last.customer_id}, 999101, ${last.meter_id}, '2027-04', '2027-04-25', 'actual', 'manual',
              ${last.total}::numeric + 500)`.execute(database.db);
    await sql`insert into meter_read (customer_id, meter_read_id, meter_id, period, read_on, kind, source, total, supersedes_read_id)
      values (${last.customer_id}, 999102, ${last.meter_id}, '2027-04', '2027-04-20', 'actual', 'correction',
              ${last.total}::numeric + 50, 999101)`.execute(database.db);
    const run = await runBilling(database.db, billOptions('2027-04' as Period));
    expect(run.billed).toBe(1);
    const bill = await sql<{ kwh_total: string; inputs: BillInputsRecord }>`
      select kwh_total::text as kwh_total, inputs from bill
      where customer_id = ${last.customer_id} and period = '2027-04'`.execute(database.db);
    expect(bill.rows[0]!.kwh_total).toBe('50.00');
    expect(bill.rows[0]!.inputs.spanTo).toBe('2027-04-20');
  });

  it('keeps bills, customers and tariff versions, and finds any bill that is not the sum of its lines', async () => {
    expect((await verifyLedger(database.db)).problems).toEqual([]);
    const bill = await sql<{ customer_id: number }>`
      select customer_id from bill order by customer_id limit 1`.execute(database.db);
    const { customer_id } = bill.rows[0]!;
    await expect(
      sql`update bill set amount_fen = 0 where customer_id = ${customer_id}`.execute(database.db),
    ).rejects.toThrow(/append-only/);
    await expect(
      sql`delete from customer where customer_id = ${customer_id}`.execute(database.db),
    ).rejects.toThrow(/never deleted/);
    await expect(sql`delete from tariff_version`.execute(database.db)).rejects.toThrow(/never deleted/);
    // One bill per customer, period and revision: the bill id is made of the period and revision.
    await expect(
      sql`insert into bill (customer_id, bill_id, period, revision, kwh_total, amount_fen, inputs)
        values (${customer_id}, 20251099, '2025-10', 1, 0, 0, '{}')`.execute(database.db),
    ).rejects.toThrow(/bill_id_is_period_and_revision/);

    // Rows written around the run's path: a bill without lines, a line without its bill, a bill
    // of no customer. The database takes them (no row triggers); verification names each.
    await sql`insert into bill (customer_id, bill_id, period, kwh_total, amount_fen, inputs)
      values (${customer_id}, 20990101, '2099-01', 0, 500, '{}')`.execute(database.db);
    await sql`insert into bill_line (customer_id, bill_id, line_no, code, amount_fen)
      values (${customer_id}, 20990201, 1, 'energy.flat', 700)`.execute(database.db);
    await sql`insert into bill (customer_id, bill_id, period, kwh_total, amount_fen, inputs, tariff_version_id)
      values (987654321, 20990101, '2099-01', 0, 0, '{}', 424242)`.execute(database.db);
    const problems = (await verifyLedger(database.db)).problems.map(
      (problem) => `${problem.check} ${problem.customerId} ${problem.reference} ${problem.detail}`,
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        `bill_matches_lines ${customer_id} 20990101 bill 500 fen, lines sum to 0`,
        `bill_matches_lines ${customer_id} 20990201 lines without their bill`,
        'bill_references_exist 987654321 20990101 no such customer',
      ]),
    );
  });
});
