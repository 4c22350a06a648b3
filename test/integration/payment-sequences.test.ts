import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';

type Step =
  | { kind: 'pay'; customer: number; amount: number; key: number }
  | { kind: 'repeat'; key: number }
  | { kind: 'reverse'; key: number };

// Random sequences of payments, duplicate posts and reversals against released bills, checked
// after every run: the journal agrees with itself, what a customer owes is what was billed less
// the principal paid (net of reversals), and a key posts at most once.
describeEachDatabase('payment sequences (property)', (kind) => {
  let database: TestDatabase;
  let cashier: Principal;
  let customers: { customer_id: number; customer_no: string; billed: number }[];
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
    const rows = await sql<{ customer_id: number; customer_no: string; billed: number }>`
      select c.customer_id, c.customer_no, sum(b.amount_fen)::int8 as billed from customer c
      join bill b on b.customer_id = c.customer_id where c.station_id = 11 and b.amount_fen > 0
      group by c.customer_id, c.customer_no order by c.customer_id limit 4`.execute(database.db);
    customers = rows.rows.map((row) => ({ ...row, billed: Number(row.billed) }));
  });
  afterAll(() => database.close());

  it('keeps the ledger consistent through payments, duplicates and reversals', async () => {
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('pay' as const),
        customer: fc.integer({ min: 0, max: 3 }),
        amount: fc.integer({ min: 1, max: 50_000 }),
        key: fc.integer({ min: 0, max: 7 }),
      }),
      fc.record({ kind: fc.constant('repeat' as const), key: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('reverse' as const), key: fc.integer({ min: 0, max: 7 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps: Step[]) => {
        run += 1;
        const posted = new Map<number, { customer: number; amount: number }>();
        for (const action of steps) {
          const key = `seq:${run}:${action.key}`;
          // Payments on a business day before the due date, so no late fee is involved here.
          const post = (customer: number, amount: number) =>
            postPayment(database.db, cashier, {
              idempotencyKey: key,
              customerNo: customers[customer]!.customer_no,
              amountFen: fen(amount),
              paidAt: new Date('2026-11-05T10:00:00+08:00'),
              businessDate: '2026-11-05' as LocalDate,
              source: { kind: 'channel', channelCode: 'SEQ', txnId: key },
            });
          if (action.kind === 'pay') {
            const previous = posted.get(action.key);
            const result = await post(action.customer, action.amount).catch((error: unknown) => error);
            if (previous && (previous.customer !== action.customer || previous.amount !== action.amount)) {
              expect(result instanceof AppError && result.code === 'payment_key_conflict').toBe(true);
            } else {
              expect(result).not.toBeInstanceOf(Error);
              posted.set(action.key, { customer: action.customer, amount: action.amount });
            }
          } else if (action.kind === 'repeat') {
            const previous = posted.get(action.key);
            if (previous) expect((await post(previous.customer, previous.amount)).replayed).toBe(true);
          } else if (posted.has(action.key)) {
            await reversePayment(database.db, cashier, {
              idempotencyKey: key,
              reason: 'test',
              businessDate: '2026-11-05' as LocalDate,
            }).catch((error: unknown) => {
              expect(error instanceof AppError && error.code === 'payment_already_reversed').toBe(true);
            });
          }
        }
        expect((await verifyLedger(database.db)).problems).toEqual([]);
        for (const customer of customers) {
          const sums = await sql<{ receivable: number; principal: number }>`
            select (select coalesce(sum(amount_fen), 0)::int8 from posting where customer_id = ${customer.customer_id} and ledger_account_code = 'customer_receivable') as receivable,
                   (select coalesce(sum(amount_fen), 0)::int8 from allocation where customer_id = ${customer.customer_id} and kind = 'principal') as principal`.execute(
            database.db,
          );
          expect(Number(sums.rows[0]!.receivable)).toBe(customer.billed - Number(sums.rows[0]!.principal));
          expect(Number(sums.rows[0]!.principal)).toBeGreaterThanOrEqual(0);
          expect(Number(sums.rows[0]!.principal)).toBeLessThanOrEqual(customer.billed);
        }
        const keys = await sql<{
          n: number;
        }>`select count(*)::int as n from payment where idempotency_key like ${`seq:${run}:%`}`.execute(
          database.db,
        );
        expect(keys.rows[0]!.n).toBe(posted.size);
      }),
      { numRuns: 40, seed: 20261127 },
    );
  });
});
