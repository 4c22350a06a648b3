import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.js';
import { CLI_PRINCIPAL, type Principal } from '../../src/app/principal.js';
import { resolveReadException } from '../../src/app/resolve-read-exception.js';
import type { Period } from '../../src/domain/local-date.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';

const PERIOD = '2025-12' as Period;

describeEachDatabase('read exception queue', (kind) => {
  let database: TestDatabase;
  const held = async (code: string) => {
    const rows = await sql<{ customer_no: string }>`
      select c.customer_no from read_exception e join customer c on c.customer_id = e.customer_id
      where e.period = ${PERIOD} and e.code = ${code} and e.severity = 'hold'
        and not exists (select 1 from read_exception_resolution r where r.customer_id = e.customer_id and r.period = e.period and r.code = e.code)
      order by 1 limit 1`.execute(database.db);
    return rows.rows[0]?.customer_no;
  };
  const billOf = async (customerNo: string) =>
    database.db
      .selectFrom('bill')
      .innerJoin('customer', 'customer.customer_id', 'bill.customer_id')
      .select(['bill.amount_fen', 'bill.kwh_total'])
      .where('customer.customer_no', '=', customerNo)
      .where('bill.period', '=', PERIOD)
      .executeTakeFirst();

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db, { customers: 1500 });
    for (const period of ['2025-10', '2025-11', PERIOD] as Period[]) {
      await runBilling(database.db, { period, concurrency: 2, worker: 'test', partitionSize: 500 });
    }
  });
  afterAll(() => database.close());

  it('estimates a missing read from recent months with a superseding read, and the next run bills it', async () => {
    const customerNo = await held('missing_read');
    expect(customerNo).toBeDefined();
    await expect(
      resolveReadException(database.db, CLI_PRINCIPAL, {
        customerNo: customerNo!,
        period: PERIOD,
        code: 'missing_read',
        readOn: '2025-12-25',
        resolution: { kind: 'confirmed' },
      }),
    ).rejects.toSatisfy(
      (error: unknown) => error instanceof AppError && error.code === 'resolution_not_allowed',
    );
    const result = await resolveReadException(database.db, CLI_PRINCIPAL, {
      customerNo: customerNo!,
      period: PERIOD,
      code: 'missing_read',
      readOn: '2025-12-25',
      resolution: { kind: 'estimated', method: 'average_recent', note: 'meter inaccessible' },
    });
    expect(result.readsAdded).toBeGreaterThan(0);
    const read = await sql<{ kind: string; source: string }>`
      select r.kind, r.source from meter_read r join customer c on c.customer_id = r.customer_id
      where c.customer_no = ${customerNo} and r.period = ${PERIOD}`.execute(database.db);
    expect(read.rows).toContainEqual({ kind: 'estimated', source: 'estimate' });
    expect(await billOf(customerNo!)).toBeUndefined();
    const rerun = await runBilling(database.db, {
      period: PERIOD,
      concurrency: 1,
      worker: 'test',
      partitionSize: 500,
    });
    expect(rerun.billed).toBeGreaterThanOrEqual(1);
    expect(await billOf(customerNo!)).toBeDefined();
  });

  it('bills a confirmed jump on the read as it stands, and refuses a second resolution', async () => {
    const customerNo = (await held('consumption_jump')) ?? (await held('consumption_drop'));
    expect(customerNo).toBeDefined();
    const code = (await held('consumption_jump')) === customerNo ? 'consumption_jump' : 'consumption_drop';
    await resolveReadException(database.db, CLI_PRINCIPAL, {
      customerNo: customerNo!,
      period: PERIOD,
      code,
      readOn: '2025-12-25',
      resolution: { kind: 'confirmed' },
    });
    await expect(
      resolveReadException(database.db, CLI_PRINCIPAL, {
        customerNo: customerNo!,
        period: PERIOD,
        code,
        readOn: '2025-12-25',
        resolution: { kind: 'confirmed' },
      }),
    ).rejects.toSatisfy(
      (error: unknown) => error instanceof AppError && error.code === 'exception_already_resolved',
    );
    await runBilling(database.db, { period: PERIOD, concurrency: 1, worker: 'test', partitionSize: 500 });
    const bill = await billOf(customerNo!);
    expect(bill).toBeDefined();
    const audit = await database.db
      .selectFrom('audit_log')
      .select('action')
      .where('object_id', 'like', `${customerNo}:%`)
      .execute();
    expect(audit.map((row) => row.action)).toContain('read_exception.confirmed');
  });

  it('lets only checkers resolve, within their scope', async () => {
    const customerNo = await held('missing_read');
    expect(customerNo).toBeDefined();
    const collector: Principal = { ...CLI_PRINCIPAL, kind: 'staff', staffId: 99, roles: ['collector'] };
    await expect(
      resolveReadException(database.db, collector, {
        customerNo: customerNo!,
        period: PERIOD,
        code: 'missing_read',
        readOn: '2025-12-25',
        resolution: { kind: 'estimated', method: 'average_recent' },
      }),
    ).rejects.toSatisfy((error: unknown) => error instanceof AppError && error.code === 'forbidden');
    const otherStation: Principal = {
      ...CLI_PRINCIPAL,
      kind: 'staff',
      staffId: 99,
      roles: ['billing_checker'],
      scopePath: '/1/999/',
    };
    await expect(
      resolveReadException(database.db, otherStation, {
        customerNo: customerNo!,
        period: PERIOD,
        code: 'missing_read',
        readOn: '2025-12-25',
        resolution: { kind: 'estimated', method: 'average_recent' },
      }),
    ).rejects.toSatisfy((error: unknown) => error instanceof AppError && error.code === 'not_found');
  });
});
