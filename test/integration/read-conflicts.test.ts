import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.js';
import { importReads } from '../../src/app/import-reads.js';
import { principalForLogin } from '../../src/app/log-in.js';
import { CLI_PRINCIPAL, type Principal } from '../../src/app/principal.js';
import { resolveReadException } from '../../src/app/resolve-read-exception.js';
import type { Period } from '../../src/domain/local-date.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';

const PERIOD = '2026-10' as Period;
const HEADER = ['meter_no', 'period', 'read_on', 'total'];
const codeOf = (error: unknown) => (error instanceof AppError ? error.code : String(error));

describeEachDatabase('conflicting reads (a second file for the same meter and period)', (kind) => {
  let database: TestDatabase;
  let checker: Principal;
  type Customer = {
    customer_id: number;
    customer_no: string;
    meter_id: number;
    meter_no: string;
    total: string;
  };
  let held: Customer;
  let agreeing: Customer;
  let billedLater: Customer;

  /** The read billing uses for the meter's period: the latest one no correction supersedes. */
  const effectiveRead = async (customer: Customer) =>
    (
      await sql<{ total: string; source: string }>`
        select r.total, r.source from meter_read r
        where r.customer_id = ${customer.customer_id} and r.meter_id = ${customer.meter_id} and r.period = ${PERIOD}
          and not exists (select 1 from meter_read s where s.customer_id = r.customer_id and s.supersedes_read_id = r.meter_read_id)
        order by r.read_on desc, r.meter_read_id desc limit 1`.execute(database.db)
    ).rows[0]!;
  const billOf = (customer: Customer) =>
    database.db
      .selectFrom('bill')
      .select(['kwh_total', 'amount_fen', 'revision'])
      .where('customer_id', '=', customer.customer_id)
      .where('period', '=', PERIOD)
      .orderBy('revision')
      .execute();
  const openingTotal = async (customer: Customer) =>
    Number(
      (
        await sql<{ total: string }>`
          select r.total from meter_read r
          where r.customer_id = ${customer.customer_id} and r.meter_id = ${customer.meter_id} and r.period < ${PERIOD}
          order by r.period desc, r.read_on desc, r.meter_read_id desc limit 1`.execute(database.db)
      ).rows[0]!.total,
    );

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db);
    checker = await principalForLogin(database.db, 's01.checker1');
    // Customers with one single-register meter whose October read is in and of a normal size.
    const rows = await sql<Customer>`
      select c.customer_id, c.customer_no, m.meter_id, m.meter_no, r.total from customer c
      join meter m on m.customer_id = c.customer_id and m.removed_on is null
        and m.registers = array['total']::text[] and m.multiplier = 1
      join meter_read r on r.customer_id = c.customer_id and r.meter_id = m.meter_id and r.period = ${PERIOD}
      where c.station_id = 11 and c.tariff_code = 'RES-TIER'
        and (select count(*) from meter x where x.customer_id = c.customer_id) = 1
        and (select count(*) from meter_read y where y.customer_id = c.customer_id and y.period = ${PERIOD}) = 1
      order by c.customer_id limit 40`.execute(database.db);
    expect(rows.rows.length).toBeGreaterThanOrEqual(3);
    [held, agreeing, billedLater] = rows.rows as [Customer, Customer, Customer];
  });
  afterAll(() => database.close());

  it('holds a disagreeing line as a correction for a checker, names it, and leaves the billed read alone', async () => {
    const corrected = (Number(held.total) - 30).toFixed(2);
    const records = [
      HEADER,
      [held.meter_no, PERIOD, '2026-10-31', corrected],
      [agreeing.meter_no, PERIOD, '2026-10-31', agreeing.total],
    ];
    const result = await importReads(database.db, CLI_PRINCIPAL, {
      format: 'manual',
      records,
      fileName: 'second.csv',
    });
    expect(result).toEqual({
      rows: 2,
      imported: 1,
      alreadyImported: 0,
      corrections: [
        {
          fileName: 'second.csv',
          line: 2,
          meterNo: held.meter_no,
          customerNo: held.customer_no,
          period: PERIOD,
          code: 'conflicting_read',
          oldValues: { total: held.total },
          newValues: { total: corrected },
          billed: false,
        },
      ],
    });
    // Billing inputs unchanged: the accepted read is still the one billed.
    expect((await effectiveRead(held)).total).toBe(held.total);
    const exception = await database.db
      .selectFrom('read_exception')
      .select(['code', 'severity'])
      .where('customer_id', '=', held.customer_id)
      .where('period', '=', PERIOD)
      .execute();
    expect(exception).toEqual([{ code: 'conflicting_read', severity: 'hold' }]);

    // The same file again is a no-op.
    const again = await importReads(database.db, CLI_PRINCIPAL, {
      format: 'manual',
      records,
      fileName: 'second.csv',
    });
    expect(again).toEqual({ rows: 2, imported: 0, alreadyImported: 2, corrections: [] });
    const pending = await database.db
      .selectFrom('read_correction')
      .select('read_correction_id')
      .where('customer_id', '=', held.customer_id)
      .execute();
    expect(pending).toHaveLength(1);

    // Another different value while the first waits: the file is refused whole.
    const third = await importReads(database.db, CLI_PRINCIPAL, {
      format: 'manual',
      records: [
        HEADER,
        [agreeing.meter_no, PERIOD, '2026-10-30', agreeing.total],
        [held.meter_no, PERIOD, '2026-10-30', (Number(held.total) - 40).toFixed(2)],
      ],
      fileName: 'third.csv',
    }).catch((error) => error);
    expect(codeOf(third)).toBe('validation_failed');
    expect((third as AppError).message).toMatch(/line 3, meter_no: .*awaits a checker/);
    expect(
      await database.db
        .selectFrom('meter_read')
        .select('meter_read_id')
        .where('read_on', '=', '2026-10-30')
        .execute(),
    ).toEqual([]);
  });

  it('holds the customer out of the billing run until the checker decides', async () => {
    const summary = await runBilling(database.db, {
      period: PERIOD,
      stationId: 11,
      concurrency: 1,
      worker: 'test',
    });
    expect(summary.exceptions.conflicting_read).toBe(1);
    expect(await billOf(held)).toEqual([]);
    expect(await billOf(agreeing)).toHaveLength(1);
  });

  it('only confirms or rejects a conflicting read', async () => {
    const estimate = await resolveReadException(database.db, checker, {
      customerNo: held.customer_no,
      period: PERIOD,
      code: 'conflicting_read',
      readOn: '2026-11-01',
      resolution: { kind: 'estimated', method: 'average_recent' },
    }).catch((error) => error);
    expect(codeOf(estimate)).toBe('resolution_not_allowed');
  });

  it('confirmed, the new value supersedes the accepted read and is billed', async () => {
    const result = await resolveReadException(database.db, checker, {
      customerNo: held.customer_no,
      period: PERIOD,
      code: 'conflicting_read',
      readOn: '2026-11-01',
      resolution: { kind: 'confirmed', note: '复核: 第二次抄表正确' },
    });
    expect(result).toEqual({ readsAdded: 1 });
    const read = await effectiveRead(held);
    expect(read).toEqual({ total: (Number(held.total) - 30).toFixed(2), source: 'correction' });
    await runBilling(database.db, { period: PERIOD, stationId: 11, concurrency: 1, worker: 'test' });
    const [bill] = await billOf(held);
    expect(Number(bill!.kwh_total)).toBeCloseTo(Number(held.total) - 30 - (await openingTotal(held)), 2);
  });

  it('rejected, the accepted read stays; a billed period keeps its bill and is reported as billed', async () => {
    const before = await billOf(billedLater);
    expect(before).toHaveLength(1);
    const result = await importReads(database.db, CLI_PRINCIPAL, {
      format: 'manual',
      records: [
        HEADER,
        [billedLater.meter_no, PERIOD, '2026-10-31', (Number(billedLater.total) + 500).toFixed(2)],
      ],
      fileName: 'late.csv',
    });
    expect(result.corrections).toMatchObject([{ line: 2, meterNo: billedLater.meter_no, billed: true }]);
    const notConflict = await resolveReadException(database.db, checker, {
      customerNo: held.customer_no,
      period: PERIOD,
      code: 'missing_read',
      readOn: '2026-11-01',
      resolution: { kind: 'rejected' },
    }).catch((error) => error);
    expect(['not_found', 'resolution_not_allowed']).toContain(codeOf(notConflict));
    await resolveReadException(database.db, checker, {
      customerNo: billedLater.customer_no,
      period: PERIOD,
      code: 'conflicting_read',
      readOn: '2026-11-01',
      resolution: { kind: 'rejected', note: '抄错表' },
    });
    expect((await effectiveRead(billedLater)).total).toBe(billedLater.total);
    expect(await billOf(billedLater)).toEqual(before);
    const again = await resolveReadException(database.db, checker, {
      customerNo: billedLater.customer_no,
      period: PERIOD,
      code: 'conflicting_read',
      readOn: '2026-11-01',
      resolution: { kind: 'confirmed' },
    }).catch((error) => error);
    expect(codeOf(again)).toBe('exception_already_resolved');
    // A later disagreeing file opens the next conflict for the period.
    const next = await importReads(database.db, CLI_PRINCIPAL, {
      format: 'manual',
      records: [
        HEADER,
        [billedLater.meter_no, PERIOD, '2026-10-31', (Number(billedLater.total) + 5).toFixed(2)],
      ],
      fileName: 'later.csv',
    });
    expect(next.corrections).toMatchObject([
      { code: 'conflicting_read-2', oldValues: { total: billedLater.total } },
    ]);
  });
});
