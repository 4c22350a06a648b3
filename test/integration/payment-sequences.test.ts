import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.js';
import { principalForLogin } from '../../src/app/log-in.js';
import { importReads } from '../../src/app/import-reads.js';
import { decideLedgerRequest, requestLedgerAction } from '../../src/app/ledger-requests.js';
import { type PostedPayment, postPayment } from '../../src/app/post-payment.js';
import { openBills, prepaidBalance } from '../../src/app/ledger/customer-state.js';
import { CLI_PRINCIPAL, type Principal } from '../../src/app/principal.js';
import { verifyLedger } from '../../src/app/queries/verify-ledger.js';
import { resolveReadException } from '../../src/app/resolve-read-exception.js';
import { reversePayment } from '../../src/app/reverse-payment.js';
import type { LocalDate, Period } from '../../src/domain/local-date.js';
import { fen } from '../../src/domain/money.js';
import { approveRebill, requestRebill } from '../../src/jobs/billing/rebill-bill.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';

type Step =
  | { kind: 'pay'; customer: number; amount: number; key: number; late: boolean }
  | { kind: 'repeat'; key: number }
  | { kind: 'reverse'; key: number }
  | { kind: 'waive' | 'write_off' | 'refund'; customer: number }
  | { kind: 'rebill'; customer: number; kwh: number };

// Random sequences of payments, duplicate posts and reversals against released bills, checked
// after every run: the journal agrees with itself, what a customer owes is what was billed less
// the principal paid (net of reversals), and a key posts at most once.
const EARLY = '2026-11-05';
/** Each run works on its own four customers (a written-off bill stays written off). */
const RUNS = 25;
const LATE = '2026-12-10';

describeEachDatabase('payment sequences (property)', (kind) => {
  let database: TestDatabase;
  let cashier: Principal;
  let requester: Principal;
  let approver: Principal;

  /** A waiver, write-off or refund of all that is open, asked by one person and approved by another. */
  const twoPersonAction = async (action: 'waive' | 'write_off' | 'refund', customerNo: string) => {
    const customer = customers.find((c) => c.customer_no === customerNo)!;
    const [bill] = await openBills(
      database.db,
      customer.customer_id,
      customer.category === 'residential' ? 'residential' : 'other',
      LATE as LocalDate,
    );
    const prepaid = await prepaidBalance(database.db, customer.customer_id);
    if (action === 'refund' && prepaid === 0) return;
    if (action !== 'refund' && !bill) return;

    const request = await requestLedgerAction(database.db, requester, {
      kind: action === 'waive' ? 'late_fee_waiver' : action,
      customerNo,
      billNo: action === 'refund' ? undefined : bill!.billNo,
      amountFen: action === 'refund' ? prepaid : undefined,
      refundFrom: action === 'refund' ? 'prepaid' : undefined,
      reason: 'property',
      asOf: LATE as LocalDate,
    });
    await decideLedgerRequest(database.db, approver, {
      customerNo,
      requestId: request.requestId,
      decision: 'approve',
      asOf: LATE as LocalDate,
    });
  };
  let customers: {
    customer_id: number;
    customer_no: string;
    category: string;
    meter_no: string;
    total: string;
  }[];
  let checker: Principal;
  let head: Principal;
  let corrections = 0;

  /** A corrected October read (kWh more or less) and a rebill asked by one person, approved by another. */
  const rebill = async (customer: (typeof customers)[number], kwh: number) => {
    corrections += 1;
    const latest = await sql<{ total: string }>`
      select r.total from meter_read r join meter m on m.customer_id = r.customer_id and m.meter_id = r.meter_id
      where m.meter_no = ${customer.meter_no} and r.period = '2026-10'
      order by r.read_on desc, r.meter_read_id desc limit 1`.execute(database.db);
    const imported = await importReads(database.db, CLI_PRINCIPAL, {
      format: 'manual',
      records: [
        ['meter_no', 'period', 'read_on', 'total'],
        [customer.meter_no, '2026-10', '2026-10-31', (Number(latest.rows[0]!.total) + kwh).toFixed(2)],
      ],
      fileName: `correction-${corrections}.csv`,
    });
    // A read that disagrees with the billed one takes effect once a checker confirms it.
    for (const held of imported.corrections)
      await resolveReadException(database.db, checker, {
        customerNo: customer.customer_no,
        period: '2026-10' as Period,
        code: held.code,
        readOn: LATE as LocalDate,
        resolution: { kind: 'confirmed' },
      });
    const request = await requestRebill(database.db, checker, {
      customerNo: customer.customer_no,
      period: '2026-10' as Period,
      reason: '抄表差错更正',
    });
    await approveRebill(database.db, head, {
      customerNo: customer.customer_no,
      rebillRequestId: request.rebillRequestId,
      releasedOn: LATE as LocalDate,
    });
  };
  let run = 0;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db);
    await runBilling(database.db, { period: '2026-10' as Period, concurrency: 1, worker: 'test' });
    await releaseBills(database.db, {
      period: '2026-10' as Period,
      releasedOn: '2026-11-03' as LocalDate,
      actor: CLI_PRINCIPAL,
    });
    cashier = await principalForLogin(database.db, 'admin');
    requester = await principalForLogin(database.db, 'marketing');
    approver = await principalForLogin(database.db, 'finance');
    checker = await principalForLogin(database.db, 's01.checker1');
    head = await principalForLogin(database.db, 's01.head');
    // Customers with one single-register meter (so a corrected read is one number).
    const rows = await sql<(typeof customers)[number]>`
      select c.customer_id, c.customer_no, c.category, m.meter_no, r.total from customer c
      join bill b on b.customer_id = c.customer_id and b.period = '2026-10' and b.amount_fen > 0
      join meter m on m.customer_id = c.customer_id and m.removed_on is null
        and m.registers = array['total']::text[] and m.multiplier = 1
      join meter_read r on r.customer_id = c.customer_id and r.meter_id = m.meter_id and r.period = '2026-10'
      where c.station_id = 11
        and (select count(*) from meter x where x.customer_id = c.customer_id) = 1
      order by c.customer_id limit ${4 * RUNS}`.execute(database.db);
    customers = rows.rows;
    expect(customers).toHaveLength(4 * RUNS);
  });
  afterAll(() => database.close());

  it('keeps the ledger consistent through payments, duplicates, reversals, waivers, write-offs and refunds', async () => {
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('pay' as const),
        customer: fc.integer({ min: 0, max: 3 }),
        amount: fc.integer({ min: 1, max: 50_000 }),
        key: fc.integer({ min: 0, max: 7 }),
        late: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('repeat' as const), key: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('reverse' as const), key: fc.integer({ min: 0, max: 7 }) }),
      fc.record({
        kind: fc.constantFrom('waive' as const, 'write_off' as const, 'refund' as const),
        customer: fc.integer({ min: 0, max: 3 }),
      }),
      fc.record({
        kind: fc.constant('rebill' as const),
        customer: fc.integer({ min: 0, max: 3 }),
        kwh: fc.integer({ min: -30, max: 60 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps: Step[]) => {
        run += 1;
        const mine = customers.slice(((run - 1) % RUNS) * 4, ((run - 1) % RUNS) * 4 + 4);
        const posted = new Map<number, { customer: number; amount: number; late: boolean }>();
        for (const action of steps) {
          const key = `seq:${run}:${'key' in action ? action.key : '-'}`;
          // Payments before the due date, or after it (late fees first).
          const post = (customer: number, amount: number, late: boolean) =>
            postPayment(database.db, cashier, {
              idempotencyKey: key,
              customerNo: mine[customer]!.customer_no,
              amountFen: fen(amount),
              paidAt: new Date(`${late ? LATE : EARLY}T10:00:00+08:00`),
              businessDate: (late ? LATE : EARLY) as LocalDate,
              source: { kind: 'channel', channelCode: 'SEQ', txnId: key },
            });
          if (action.kind === 'pay') {
            const previous = posted.get(action.key);
            const late = previous ? previous.late : action.late;
            const result = await post(action.customer, action.amount, late).catch((error: unknown) => error);
            if (previous && (previous.customer !== action.customer || previous.amount !== action.amount)) {
              expect(result instanceof AppError && result.code === 'payment_key_conflict').toBe(true);
            } else {
              expect(result).not.toBeInstanceOf(Error);
              const allocated = (result as PostedPayment).allocations.reduce(
                (sum, a) => sum + a.amountFen,
                0,
              );
              expect(allocated + (result as PostedPayment).prepaidFen).toBe(action.amount);
              posted.set(action.key, { customer: action.customer, amount: action.amount, late });
            }
          } else if (action.kind === 'repeat') {
            const previous = posted.get(action.key);
            if (previous)
              expect((await post(previous.customer, previous.amount, previous.late)).replayed).toBe(true);
          } else if (action.kind === 'reverse') {
            if (!posted.has(action.key)) continue;
            await reversePayment(database.db, cashier, {
              idempotencyKey: key,
              reason: 'test',
              businessDate: LATE as LocalDate,
            }).catch((error: unknown) => {
              // Reversing twice is refused; so is reversing money already refunded.
              expect(
                error instanceof AppError &&
                  ['payment_already_reversed', 'payment_refunded'].includes(error.code),
              ).toBe(true);
            });
          } else if (action.kind === 'rebill') {
            await rebill(mine[action.customer]!, action.kwh).catch((error: unknown) => {
              // A read below last month's is held by validation; a written-off bill is not rebilled.
              expect(
                error instanceof AppError && ['rebill_reads_held', 'bill_written_off'].includes(error.code),
                String(error),
              ).toBe(true);
            });
          } else {
            await twoPersonAction(action.kind, mine[action.customer]!.customer_no).catch((error: unknown) => {
              expect(
                error instanceof AppError &&
                  ['nothing_to_settle', 'insufficient_balance'].includes(error.code),
                String(error),
              ).toBe(true);
            });
          }
        }
        expect((await verifyLedger(database.db)).problems).toEqual([]);
        for (const customer of mine) {
          const sums = await sql<{ receivable: number; principal: number; credited: number; billed: number }>`
            select (select coalesce(sum(b.amount_fen), 0)::int8 from bill b join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
                    where b.customer_id = ${customer.customer_id}
                      and not exists (select 1 from bill n where n.customer_id = b.customer_id and n.replaces_bill_id = b.bill_id)) as billed,
                   (select coalesce(sum(amount_fen), 0)::int8 from posting where customer_id = ${customer.customer_id} and ledger_account_code = 'customer_receivable') as receivable,
                   (select coalesce(sum(amount_fen), 0)::int8 from allocation where customer_id = ${customer.customer_id} and kind = 'principal') as principal,
                   (select coalesce(sum(amount_fen), 0)::int8 from bill_credit where customer_id = ${customer.customer_id} and kind = 'write_off') as credited`.execute(
            database.db,
          );
          const { receivable, principal, credited, billed } = sums.rows[0]!;
          // Balance = billed (latest revisions) − paid − credited, never more settled than billed.
          expect(Number(receivable)).toBe(Number(billed) - Number(principal) - Number(credited));
          expect(Number(principal)).toBeGreaterThanOrEqual(0);
          expect(Number(principal) + Number(credited)).toBeLessThanOrEqual(Number(billed));
        }
        const keys = await sql<{
          n: number;
        }>`select count(*)::int as n from payment where idempotency_key like ${`seq:${run}:%`}`.execute(
          database.db,
        );
        expect(keys.rows[0]!.n).toBe(posted.size);
      }),
      { numRuns: RUNS, seed: 20261127 },
    );
    // The sequences did exercise the two-person actions.
    const approved = await sql<{ kind: string }>`
      select distinct q.kind from ledger_request q join ledger_request_step s
        on s.customer_id = q.customer_id and s.request_id = q.request_id and s.step = 'approved'
      order by 1`.execute(database.db);
    expect(approved.rows.map((row) => row.kind)).toEqual(['late_fee_waiver', 'refund', 'write_off']);
    const rebilled = await sql<{ n: number }>`select count(*)::int as n from rebill_approval`.execute(
      database.db,
    );
    expect(rebilled.rows[0]!.n).toBeGreaterThan(0);
  });
});
