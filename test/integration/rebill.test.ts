import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.js';
import { importReads } from '../../src/app/import-reads.js';
import { principalForLogin } from '../../src/app/log-in.js';
import { postPayment } from '../../src/app/post-payment.js';
import { openBills, prepaidBalance } from '../../src/app/ledger/customer-state.js';
import { resolveReadException } from '../../src/app/resolve-read-exception.js';
import { verifyLedger } from '../../src/app/queries/verify-ledger.js';
import { fen } from '../../src/domain/money.js';
import { CLI_PRINCIPAL, type Principal } from '../../src/app/principal.js';
import type { LocalDate, Period } from '../../src/domain/local-date.js';
import { approveRebill, requestRebill } from '../../src/jobs/billing/rebill-bill.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';

const PERIOD = '2026-10' as Period;
const codeOf = (error: unknown) => (error instanceof AppError ? error.code : String(error));

describeEachDatabase('rebill (退补)', (kind) => {
  let database: TestDatabase;
  let checker: Principal;
  let head: Principal;
  let customer: {
    customer_id: number;
    customer_no: string;
    meter_no: string;
    total: string;
    amount_fen: number;
  };
  const receivable = async (customerId: number) =>
    Number(
      (
        await sql<{ total: number }>`select coalesce(sum(amount_fen), 0)::int8 as total from posting
          where customer_id = ${customerId} and ledger_account_code = 'customer_receivable'`.execute(
          database.db,
        )
      ).rows[0]!.total,
    );

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db);
    await runBilling(database.db, { period: PERIOD, concurrency: 1, worker: 'test' });
    checker = await principalForLogin(database.db, 's01.checker1');
    head = await principalForLogin(database.db, 's01.head');
    const rows = await sql<typeof customer>`
      select c.customer_id, c.customer_no, m.meter_no, r.total, b.amount_fen
      from customer c join meter m on m.customer_id = c.customer_id and m.removed_on is null
      join meter_read r on r.customer_id = c.customer_id and r.meter_id = m.meter_id and r.period = ${PERIOD}
      join bill b on b.customer_id = c.customer_id and b.period = ${PERIOD}
      where c.station_id = 11 and c.tariff_code = 'RES-TIER' and m.registers = array['total']::text[] and m.multiplier = 1
      order by c.customer_id limit 1`.execute(database.db);
    customer = rows.rows[0]!;
  });
  afterAll(() => database.close());

  it('refuses to rebill a draft', async () => {
    const error = await requestRebill(database.db, checker, {
      customerNo: customer.customer_no,
      period: PERIOD,
      reason: 'wrong read',
    }).catch((e) => e);
    expect(codeOf(error)).toBe('bill_not_released');
  });

  it('reverses the released bill and issues the next revision after a second person approves', async () => {
    await releaseBills(database.db, {
      period: PERIOD,
      stationId: 11,
      releasedOn: '2026-11-03' as LocalDate,
      actor: CLI_PRINCIPAL,
    });
    expect(await receivable(customer.customer_id)).toBe(customer.amount_fen);
    // The meter reader finds the October read was 100 kWh too high and sends a second reads file.
    const corrected = (Number(customer.total) - 100).toFixed(2);
    const imported = await importReads(database.db, CLI_PRINCIPAL, {
      format: 'manual',
      records: [
        ['meter_no', 'period', 'read_on', 'total'],
        [customer.meter_no, PERIOD, '2026-10-31', corrected],
      ],
      fileName: 'correction.csv',
    });
    // The second file disagrees with the billed read: it waits for a checker and changes nothing yet.
    expect(imported.corrections).toMatchObject([{ line: 2, meterNo: customer.meter_no, billed: true }]);
    const request = await requestRebill(database.db, checker, {
      customerNo: customer.customer_no,
      period: PERIOD,
      reason: '抄表错误, 多抄100度',
    });
    const pending = await requestRebill(database.db, checker, {
      customerNo: customer.customer_no,
      period: PERIOD,
      reason: 'again',
    }).catch((e) => e);
    expect(codeOf(pending)).toBe('rebill_pending');
    const selfApproval = await approveRebill(
      database.db,
      { ...checker, roles: ['station_head'] },
      {
        customerNo: customer.customer_no,
        rebillRequestId: request.rebillRequestId,
        releasedOn: '2026-11-20' as LocalDate,
      },
    ).catch((e) => e);
    expect(codeOf(selfApproval)).toBe('same_person_approval');
    // Until a checker confirms the corrected read, the bill cannot be recomputed.
    const held = await approveRebill(database.db, head, {
      customerNo: customer.customer_no,
      rebillRequestId: request.rebillRequestId,
      releasedOn: '2026-11-20' as LocalDate,
    }).catch((e) => e);
    expect(codeOf(held)).toBe('rebill_reads_held');
    expect(await receivable(customer.customer_id)).toBe(customer.amount_fen);
    // The checker confirms the corrected read: it supersedes the billed one.
    await resolveReadException(database.db, checker, {
      customerNo: customer.customer_no,
      period: PERIOD,
      code: imported.corrections[0]!.code,
      readOn: '2026-11-10',
      resolution: { kind: 'confirmed', note: '复核属实' },
    });

    const result = await approveRebill(database.db, head, {
      customerNo: customer.customer_no,
      rebillRequestId: request.rebillRequestId,
      releasedOn: '2026-11-20' as LocalDate,
    });
    expect(result.oldBillNo).toMatch(/-01$/);
    expect(result.newBillNo).toMatch(/-02$/);
    expect(result.newAmountFen).toBeLessThan(result.oldAmountFen);
    // Both bills are kept; the customer now owes the new amount only.
    const bills = await database.db
      .selectFrom('bill')
      .select(['revision', 'replaces_bill_id'])
      .where('customer_id', '=', customer.customer_id)
      .where('period', '=', PERIOD)
      .orderBy('revision')
      .execute();
    expect(bills.map((bill) => bill.revision)).toEqual([1, 2]);
    expect(await receivable(customer.customer_id)).toBe(result.newAmountFen);
    const reversal = await database.db
      .selectFrom('journal_entry')
      .select(['kind', 'reverses_entry_id'])
      .where('customer_id', '=', customer.customer_id)
      .where('kind', '=', 'bill_reversal')
      .executeTakeFirstOrThrow();
    expect(reversal.reverses_entry_id).toBe(20261001);
    const again = await approveRebill(database.db, head, {
      customerNo: customer.customer_no,
      rebillRequestId: request.rebillRequestId,
      releasedOn: '2026-11-20' as LocalDate,
    }).catch((e) => e);
    expect(codeOf(again)).toBe('rebill_already_approved');
    const audit = await database.db
      .selectFrom('audit_log')
      .select('action')
      .where('customer_id', '=', customer.customer_id)
      .execute();
    expect(audit.map((row) => row.action)).toEqual(
      expect.arrayContaining(['bill.rebill_request', 'bill.rebill']),
    );
  });

  it('moves what was paid on the old revision to the new one; money beyond the new amount becomes prepaid', async () => {
    const rows = await sql<typeof customer>`
      select c.customer_id, c.customer_no, m.meter_no, r.total, b.amount_fen
      from customer c join meter m on m.customer_id = c.customer_id and m.removed_on is null
      join meter_read r on r.customer_id = c.customer_id and r.meter_id = m.meter_id and r.period = ${PERIOD}
      join bill b on b.customer_id = c.customer_id and b.period = ${PERIOD}
      where c.station_id = 11 and c.tariff_code = 'RES-TIER' and m.registers = array['total']::text[] and m.multiplier = 1
        and c.customer_id <> ${customer.customer_id} and b.amount_fen > 10000
      order by c.customer_id limit 1`.execute(database.db);
    const payer = rows.rows[0]!;
    const cashier = await principalForLogin(database.db, 's01.cashier1');
    await postPayment(database.db, cashier, {
      idempotencyKey: 'counter:RB-1',
      customerNo: payer.customer_no,
      amountFen: fen(payer.amount_fen),
      paidAt: new Date('2026-11-05T02:00:00Z'),
      businessDate: '2026-11-05' as LocalDate,
      source: { kind: 'counter', staffId: cashier.staffId! },
    });
    expect(await receivable(payer.customer_id)).toBe(0);
    const imported = await importReads(database.db, CLI_PRINCIPAL, {
      format: 'manual',
      records: [
        ['meter_no', 'period', 'read_on', 'total'],
        [payer.meter_no, PERIOD, '2026-10-31', (Number(payer.total) - 50).toFixed(2)],
      ],
      fileName: 'correction-2.csv',
    });
    await resolveReadException(database.db, checker, {
      customerNo: payer.customer_no,
      period: PERIOD,
      code: imported.corrections[0]!.code,
      readOn: '2026-11-10',
      resolution: { kind: 'confirmed' },
    });
    const request = await requestRebill(database.db, checker, {
      customerNo: payer.customer_no,
      period: PERIOD,
      reason: '抄表错误, 多抄50度',
    });
    const result = await approveRebill(database.db, head, {
      customerNo: payer.customer_no,
      rebillRequestId: request.rebillRequestId,
      releasedOn: '2026-11-20' as LocalDate,
    });
    expect(result.newAmountFen).toBeLessThan(payer.amount_fen);
    // Nothing is asked again: the new revision is settled, the difference is the customer's credit.
    expect(await openBills(database.db, payer.customer_id, 'residential', '2026-12-31' as LocalDate)).toEqual(
      [],
    );
    expect(await receivable(payer.customer_id)).toBe(0);
    expect(await prepaidBalance(database.db, payer.customer_id)).toBe(payer.amount_fen - result.newAmountFen);
    expect((await verifyLedger(database.db)).problems).toEqual([]);
  });

  it('keeps every journal entry balanced through the rebill', async () => {
    const unbalanced = await sql<{ n: number }>`
      select count(*)::int as n from (select customer_id, journal_entry_id from posting group by 1, 2 having sum(amount_fen) <> 0) t`.execute(
      database.db,
    );
    expect(unbalanced.rows[0]!.n).toBe(0);
    expect((await verifyLedger(database.db)).problems).toEqual([]);
  });
});
