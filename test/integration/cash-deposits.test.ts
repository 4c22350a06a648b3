import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cashOnHand,
  closeCounterShift,
  depositDeadline,
  recordCashDeposit,
} from '../../src/app/cash-deposits.js';
import { AppError } from '../../src/app/errors.js';
import { principalForLogin } from '../../src/app/log-in.js';
import { postPayment } from '../../src/app/post-payment.js';
import { CLI_PRINCIPAL, type Principal } from '../../src/app/principal.js';
import { verifyLedger } from '../../src/app/queries/verify-ledger.js';
import { reversePayment } from '../../src/app/reverse-payment.js';
import type { LocalDate, Period } from '../../src/domain/local-date.js';
import { fen } from '../../src/domain/money.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import { type TestDatabase, createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';

const codeOf = (error: unknown) => (error instanceof AppError ? error.code : String(error));

it('gives cash taken on a day until the next working day', () => {
  expect(depositDeadline('2026-11-05' as LocalDate)).toBe('2026-11-06'); // Thursday → Friday
  expect(depositDeadline('2026-11-06' as LocalDate)).toBe('2026-11-09'); // Friday → Monday
  expect(depositDeadline('2026-11-07' as LocalDate)).toBe('2026-11-09'); // Saturday → Monday
});

describeEachDatabase('cash deposits (解款)', (kind) => {
  let database: TestDatabase;
  let collector: Principal;
  let head: Principal;
  const holder = async (today: string) =>
    (await cashOnHand(database.db, head, today as LocalDate)).find((row) => row.staffLogin === 's01.e001')!;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db);
    await runBilling(database.db, { period: '2026-10' as Period, concurrency: 1, worker: 'test' });
    await releaseBills(database.db, {
      period: '2026-10' as Period,
      releasedOn: '2026-11-03' as LocalDate,
      actor: CLI_PRINCIPAL,
    });
    collector = await principalForLogin(database.db, 's01.e001');
    head = await principalForLogin(database.db, 's01.head');
    const customers = (
      await sql<{
        customer_no: string;
      }>`select customer_no from customer where station_id = 11 order by customer_id limit 3`.execute(
        database.db,
      )
    ).rows;
    for (const [k, [day, amount]] of (
      [
        ['2026-11-05', 10000],
        ['2026-11-06', 20000],
        ['2026-11-09', 30000],
      ] as const
    ).entries()) {
      await postPayment(database.db, collector, {
        idempotencyKey: `collector:cash:${k}`,
        customerNo: customers[k]!.customer_no,
        amountFen: fen(amount),
        paidAt: new Date(`${day}T10:00:00+08:00`),
        businessDate: day as LocalDate,
        source: { kind: 'collector', staffId: collector.staffId! },
      });
    }
  });
  afterAll(() => database?.close());

  it('shows who holds cash past the next working day, and a slip clears the oldest first', async () => {
    expect(await holder('2026-11-10')).toMatchObject({
      cashOnHand: '600.00',
      undepositedPayments: 3,
      oldestUndeposited: '2026-11-05',
      overdue: '300.00',
      alert: true,
    });
    const slip = {
      staffLogin: 's01.e001',
      slipNo: 'JK-001',
      bankAccount: 'ABC-001',
      amountFen: fen(15000),
      depositedOn: '2026-11-10' as LocalDate,
    };
    const first = await recordCashDeposit(database.db, collector, slip);
    expect(first).toMatchObject({ payments: 2, amount: '150.00', cashOnHand: '450.00', replayed: false });
    expect(await recordCashDeposit(database.db, collector, slip)).toMatchObject({
      depositId: first.depositId,
      replayed: true,
    });
    expect(
      codeOf(
        await recordCashDeposit(database.db, collector, { ...slip, amountFen: fen(100) }).catch((e) => e),
      ),
    ).toBe('validation_failed');
    const tooMuch = await recordCashDeposit(database.db, collector, {
      ...slip,
      slipNo: 'JK-002',
      amountFen: fen(100000),
    }).catch((e: AppError) => e.message);
    expect(tooMuch).toMatch(/more than the 450.00 cash s01.e001 holds/);
    expect(await holder('2026-11-10')).toMatchObject({
      cashOnHand: '450.00',
      oldestUndeposited: '2026-11-06',
      overdue: '150.00',
    });
    // A cashier cannot record another person's deposit; the station head can.
    const cashier = await principalForLogin(database.db, 's01.cashier1');
    expect(
      codeOf(await recordCashDeposit(database.db, cashier, { ...slip, slipNo: 'JK-003' }).catch((e) => e)),
    ).toBe('forbidden');
    expect(
      (await recordCashDeposit(database.db, head, { ...slip, slipNo: 'JK-004', amountFen: fen(15000) }))
        .cashOnHand,
    ).toBe('300.00');
    expect(await holder('2026-11-10')).toMatchObject({
      overdue: '0.00',
      alert: false,
      oldestUndeposited: '2026-11-09',
    });
    // A reversed payment's cash went back to the customer: it is no longer held.
    await reversePayment(database.db, CLI_PRINCIPAL, {
      idempotencyKey: 'collector:cash:2',
      reason: '错收',
      businessDate: '2026-11-10' as LocalDate,
    });
    expect(await holder('2026-11-11')).toMatchObject({ cashOnHand: '0.00', undepositedPayments: 0 });
    const bank = await sql<{
      total: number;
    }>`select sum(amount_fen)::int8 as total from posting where ledger_account_code = 'bank' and sub_key = 'ABC-001'`.execute(
      database.db,
    );
    expect(Number(bank.rows[0]!.total)).toBe(30000);
    expect((await verifyLedger(database.db)).problems).toEqual([]);
  });

  it('closes a cashier’s day against the counted cash and records the difference once', async () => {
    const cashier = await principalForLogin(database.db, 's01.cashier1');
    const customer = (
      await sql<{
        customer_no: string;
      }>`select customer_no from customer where station_id = 11 order by customer_id desc limit 1`.execute(
        database.db,
      )
    ).rows[0]!.customer_no;
    for (const [k, amount] of [12345, 5000].entries()) {
      await postPayment(database.db, cashier, {
        idempotencyKey: `counter:shift:${k}`,
        customerNo: customer,
        amountFen: fen(amount),
        paidAt: new Date('2026-11-12T10:00:00+08:00'),
        businessDate: '2026-11-12' as LocalDate,
        source: { kind: 'counter', staffId: cashier.staffId! },
      });
    }
    const close = {
      staffLogin: 's01.cashier1',
      businessDate: '2026-11-12' as LocalDate,
      countedFen: fen(17300),
    };
    expect(await closeCounterShift(database.db, cashier, close)).toMatchObject({
      payments: 2,
      systemTotal: '173.45',
      counted: '173.00',
      difference: '-0.45',
      balanced: false,
      replayed: false,
    });
    expect((await closeCounterShift(database.db, cashier, close)).replayed).toBe(true);
    expect(
      codeOf(
        await closeCounterShift(database.db, cashier, { ...close, countedFen: fen(17345) }).catch((e) => e),
      ),
    ).toBe('validation_failed');
    expect(
      codeOf(
        await closeCounterShift(database.db, collector, {
          ...close,
          businessDate: '2026-11-13' as LocalDate,
        }).catch((e) => e),
      ),
    ).toBe('forbidden');
  });
});
