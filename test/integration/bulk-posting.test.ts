import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AppError } from '../../src/app/errors.js';
import { type PostPaymentInput, postPayment } from '../../src/app/post-payment.js';
import { postPaymentsInBulk } from '../../src/app/post-payments-in-bulk.js';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import { verifyLedger } from '../../src/app/queries/verify-ledger.js';
import type { LocalDate, Period } from '../../src/domain/local-date.js';
import { fen } from '../../src/domain/money.js';
import { SeededRandom } from '../../src/domain/seeded-random.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import { type TestDatabase, createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';

async function billedCounty(kind: 'pglite' | 'postgres'): Promise<TestDatabase> {
  const database = await createTestDatabase(kind);
  await createSmallDemo(database.db);
  for (const [period, released] of [
    ['2026-09', '2026-10-03'],
    ['2026-10', '2026-11-03'],
  ] as const) {
    await runBilling(database.db, { period: period as Period, concurrency: 1, worker: 'test' });
    await releaseBills(database.db, {
      period: period as Period,
      releasedOn: released as LocalDate,
      actor: CLI_PRINCIPAL,
    });
  }
  return database;
}

const allocationsByKey = async (database: TestDatabase) =>
  (
    await sql<{ idempotency_key: string; rows: string }>`
      select p.idempotency_key, string_agg(coalesce(a.bill_id::text, '-') || ':' || a.kind || ':' || a.amount_fen, ',' order by a.allocation_id) as rows
      from payment p join allocation a on a.customer_id = p.customer_id and a.payment_id = p.payment_id
      group by p.idempotency_key order by 1`.execute(database.db)
  ).rows;

describeEachDatabase('posting in bulk', (kind) => {
  let one: TestDatabase;
  let bulk: TestDatabase;
  let inputs: PostPaymentInput[];
  beforeAll(async () => {
    [one, bulk] = [await billedCounty(kind), await billedCounty(kind)];
    const customers = (
      await sql<{
        customer_no: string;
      }>`select customer_no from customer order by customer_id limit 150`.execute(one.db)
    ).rows;
    const random = new SeededRandom(5);
    inputs = [];
    // Several payments per customer, over days before and after the due dates: partial, exact-ish
    // and overpayments, so late fees, many bills per payment and prepaid all occur.
    for (let k = 0; k < 400; k += 1) {
      const day = `2026-11-${String(random.int(4, 26)).padStart(2, '0')}` as LocalDate;
      inputs.push({
        idempotencyKey: `bulk:${k}`,
        customerNo: customers[random.int(0, customers.length - 1)]!.customer_no,
        amountFen: fen(random.int(100, 40000)),
        paidAt: new Date(`${day}T10:00:00+08:00`),
        businessDate: day,
        source: { kind: 'channel', channelCode: 'BULK', txnId: `T${k}` },
      });
    }
    inputs.sort((a, b) => (a.businessDate < b.businessDate ? -1 : a.businessDate > b.businessDate ? 1 : 0));
  });
  afterAll(async () => {
    await one?.close();
    await bulk?.close();
  });

  it('allocates exactly as posting one by one, and a rerun posts nothing new', async () => {
    for (const input of inputs) await postPayment(one.db, CLI_PRINCIPAL, input);
    // Chunks of 50 payments (at most 550 rows) are written by one statement, chunks of 200 (at
    // least 1,400 rows) by COPY: both must allocate as posting one by one.
    const byStatement = await postPaymentsInBulk(bulk.db, CLI_PRINCIPAL, inputs.slice(0, 200), {
      chunkSize: 50,
    });
    const byCopy = await postPaymentsInBulk(bulk.db, CLI_PRINCIPAL, inputs.slice(200), { chunkSize: 200 });
    const first = {
      posted: byStatement.posted + byCopy.posted,
      replayed: byStatement.replayed + byCopy.replayed,
      receipts: new Map([...byStatement.receipts, ...byCopy.receipts]),
    };
    expect(first).toMatchObject({ posted: inputs.length, replayed: 0 });
    expect(await allocationsByKey(bulk)).toEqual(await allocationsByKey(one));
    const again = await postPaymentsInBulk(bulk.db, CLI_PRINCIPAL, inputs, { chunkSize: 1000 });
    expect(again).toMatchObject({ posted: 0, replayed: inputs.length });
    expect(again.receipts).toEqual(first.receipts);
    expect((await verifyLedger(bulk.db)).problems).toEqual([]);
    const changed = { ...inputs[0]!, amountFen: fen(inputs[0]!.amountFen + 1) };
    const conflict = await postPaymentsInBulk(bulk.db, CLI_PRINCIPAL, [changed]).catch(
      (error: AppError) => error.code,
    );
    expect(conflict).toBe('payment_key_conflict');
  });
});
