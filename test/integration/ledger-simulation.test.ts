import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decideLedgerRequest, payOutRefund, requestLedgerAction } from '../../src/app/ledger-requests.js';
import { principalForLogin } from '../../src/app/log-in.js';
import { approvePolicyHold, requestPolicyHold } from '../../src/app/policy-holds.js';
import { postPayment } from '../../src/app/post-payment.js';
import { loadCustomerStates } from '../../src/app/ledger/customer-state.js';
import { openBillsOf } from '../../src/domain/ledger/customer-state.js';
import { postPaymentsInBulk } from '../../src/app/post-payments-in-bulk.js';
import { CLI_PRINCIPAL, type Principal } from '../../src/app/principal.js';
import { verifyLedger } from '../../src/app/queries/verify-ledger.js';
import { reversePayment } from '../../src/app/reverse-payment.js';
import { type LocalDate, type Period, addDays, addMonths } from '../../src/domain/local-date.js';
import { fen } from '../../src/domain/money.js';
import { SeededRandom } from '../../src/domain/seeded-random.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import { type TestDatabase, createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';
import * as model from '../support/ledger-model.js';

/**
 * A seeded simulation of a county's receivables through the real application layer: every month
 * is billed and released by the real run; customers pay by habit (in bulk, or one by one with
 * duplicates), payments are reversed, late fees waived, bad debts written off, prepaid balances
 * refunded, policy holds approved. After each simulated day an independent auditor
 * (support/ledger-model.ts) checks every payment's allocations and the journal balances of every
 * customer touched that day; after each release it checks every customer, and the ledger verify.
 * GRIDCOLLECT_SIM_SEEDS="1,2,3" runs more seeds; GRIDCOLLECT_SIM_CUSTOMERS / _MONTHS resize it
 * (2,000 customers × 24 months on PostgreSQL, 500 × 24 on PGlite by default).
 */
const SEEDS = (process.env.GRIDCOLLECT_SIM_SEEDS ?? '20261127')
  .split(',')
  .map((seed) => Number(seed.trim()))
  .filter((seed) => Number.isInteger(seed));
/** 2,000 customers on PostgreSQL; PGlite (one connection, wasm) runs the same months with 500. */
const customersFor = (kind: string) =>
  Number(process.env.GRIDCOLLECT_SIM_CUSTOMERS ?? (kind === 'postgres' ? 2000 : 500));
const MONTHS = Number(process.env.GRIDCOLLECT_SIM_MONTHS ?? 24);
const LAST_PERIOD = '2026-10' as Period;

type Habit = 'on_time' | 'late' | 'partial' | 'overpay' | 'never' | 'single';

describeEachDatabase('24-month ledger simulation with an independent auditor', (kind) => {
  const CUSTOMERS = customersFor(kind);
  let database: TestDatabase;
  let marketing: Principal;
  let finance: Principal;
  let cashierId: number;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db, {
      seed: 11,
      customers: CUSTOMERS,
      months: MONTHS,
      untilPeriod: LAST_PERIOD,
    });
    marketing = await principalForLogin(database.db, 'marketing');
    finance = await principalForLogin(database.db, 'finance');
    const cashier = await database.db
      .selectFrom('staff')
      .select('staff_id')
      .where('login', '=', 's01.cashier1')
      .executeTakeFirstOrThrow();
    cashierId = Number(cashier.staff_id);
  }, 300_000);
  afterAll(() => database.close());

  for (const seed of SEEDS) {
    it(`keeps the journal equal to the auditor's model every day (seed ${seed})`, async () => {
      try {
        await simulate(seed);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(
          `ledger simulation failed with seed ${seed} (rerun: GRIDCOLLECT_SIM_SEEDS=${seed}): ${message}`,
        );
      }
    }, 900_000);
  }

  async function simulate(seed: number) {
    // A database serves one seed: the county is billed from its first period.
    if (SEEDS.indexOf(seed) > 0) return simulateOnFresh(seed);
    await run(seed, database);
  }

  async function simulateOnFresh(seed: number) {
    const fresh = await createTestDatabase(kind);
    try {
      await createSmallDemo(fresh.db, {
        seed: 11,
        customers: CUSTOMERS,
        months: MONTHS,
        untilPeriod: LAST_PERIOD,
      });
      await run(seed, fresh);
    } finally {
      await fresh.close();
    }
  }

  async function run(seed: number, db: TestDatabase) {
    const random = new SeededRandom(seed, 7);
    const customers = new Map<number, model.ModelCustomer>();
    const habits = new Map<number, Habit>();
    const rows = await sql<{
      customer_id: number;
      customer_no: string;
      category: string;
      station_id: number;
    }>`
      select customer_id, customer_no, category, station_id from customer order by customer_id`.execute(
      db.db,
    );
    const habitsList: [Habit, number][] = [
      ['on_time', 0.55],
      ['late', 0.15],
      ['partial', 0.1],
      ['overpay', 0.07],
      ['never', 0.05],
      ['single', 0.08],
    ];
    for (const row of rows.rows) {
      customers.set(Number(row.customer_id), {
        customerId: Number(row.customer_id),
        customerNo: row.customer_no,
        category: row.category === 'residential' ? 'residential' : 'other',
        stationId: Number(row.station_id),
        bills: [],
        payments: [],
        holds: [],
      });
      let roll = random.next();
      let habit: Habit = 'on_time';
      for (const [name, share] of habitsList) {
        if (roll < share) {
          habit = name;
          break;
        }
        roll -= share;
      }
      habits.set(Number(row.customer_id), habit);
    }

    const firstPeriod = addMonths(LAST_PERIOD, -(MONTHS - 1));
    // Policy holds: a county-wide Spring Festival period and one station's flood month, approved
    // by a second person; the model charges no late fee on their days.
    const year = Number(firstPeriod.slice(0, 4)) + 1;
    const holds = [
      { scope: { kind: 'all' as const }, from: `${year}-01-25`, to: `${year}-02-10`, match: () => true },
      {
        scope: { kind: 'station' as const, stationCode: 'QH02' },
        from: `${year}-07-01`,
        to: `${year}-07-31`,
        match: (c: model.ModelCustomer) => c.stationId === 12,
      },
    ];
    for (const hold of holds) {
      const requested = await requestPolicyHold(db.db, marketing, {
        scope: hold.scope,
        startsOn: hold.from as LocalDate,
        endsOn: hold.to as LocalDate,
        noLateFee: true,
        noDisconnection: true,
        reason: '政策性缓缴',
      });
      await approvePolicyHold(db.db, finance, requested.holdId);
      for (const customer of customers.values())
        if (hold.match(customer)) customer.holds.push({ from: hold.from, to: hold.to });
    }

    const events = new Map<string, (() => Promise<void>)[]>();
    const at = (date: string, event: () => Promise<void>) => {
      const list = events.get(date) ?? [];
      list.push(event);
      events.set(date, list);
    };
    let nextPaymentNo = 0;
    let touched = new Set<number>();
    const predicted = new Map<string, model.ModelAllocation[]>();
    let paymentsPosted = 0;
    let reversals = 0;
    let waivers = 0;
    let writeOffs = 0;
    let refunds = 0;
    let checks = 0;

    /** Posts the day's bulk payments in one call, predicting each with the model first. */
    const bulkToday: { customer: model.ModelCustomer; kind: 'full' | 'partial' | 'overpay' }[] = [];
    const postBulk = async (today: string) => {
      if (bulkToday.length === 0) return;
      const inputs = [];
      for (const { customer, kind: amountKind } of bulkToday.splice(0)) {
        const due = model.totalDue(customer, today);
        const amount =
          amountKind === 'overpay'
            ? due + random.int(100, 20_000)
            : amountKind === 'partial'
              ? Math.max(1, Math.floor((due * random.int(20, 90)) / 100))
              : due;
        if (amount <= 0) continue;
        const key = `sim:${seed}:${++nextPaymentNo}`;
        inputs.push({
          idempotencyKey: key,
          customerNo: customer.customerNo,
          amountFen: fen(amount),
          paidAt: new Date(`${today}T10:00:00+08:00`),
          businessDate: today as LocalDate,
          source: { kind: 'counter' as const, staffId: cashierId },
          customer,
        });
      }
      // Predict in posting order (a customer paying twice in a day sees its first payment).
      for (const input of inputs) {
        predicted.set(
          input.idempotencyKey,
          model.pay(input.customer, {
            key: input.idempotencyKey,
            paymentId: 0,
            amount: input.amountFen,
            date: today,
          }),
        );
        touched.add(input.customer.customerId);
      }
      await postPaymentsInBulk(
        db.db,
        CLI_PRINCIPAL,
        inputs.map(({ customer: _customer, ...input }) => input),
        { chunkSize: 500 },
      );
      const ids = await sql<{ key: string; payment_id: number }>`
        select idempotency_key as key, payment_id from payment_key
        where idempotency_key = any(${inputs.map((input) => input.idempotencyKey)}::text[])`.execute(db.db);
      const idOf = new Map(ids.rows.map((row) => [row.key, Number(row.payment_id)]));
      for (const input of inputs)
        recordOf(input.customer, input.idempotencyKey).paymentId = idOf.get(input.idempotencyKey)!;
      paymentsPosted += inputs.length;
    };

    const singlePay = async (customer: model.ModelCustomer, today: string) => {
      const due = model.totalDue(customer, today);
      const amount = random.chance(0.2) ? due + random.int(1, 5000) : due;
      if (amount <= 0) return;
      const key = `sim:${seed}:${++nextPaymentNo}`;
      const input = {
        idempotencyKey: key,
        customerNo: customer.customerNo,
        amountFen: fen(amount),
        paidAt: new Date(`${today}T15:00:00+08:00`),
        businessDate: today as LocalDate,
        source: { kind: 'counter' as const, staffId: cashierId },
      };
      const expected = model.pay(customer, { key, paymentId: 0, amount, date: today });
      predicted.set(key, expected);
      touched.add(customer.customerId);
      const posted = await postPayment(db.db, CLI_PRINCIPAL, input);
      recordOf(customer, key).paymentId = posted.paymentId;
      paymentsPosted += 1;
      if (random.chance(0.3)) {
        // The counter's retry: the same key again returns the first result.
        const again = await postPayment(db.db, CLI_PRINCIPAL, input);
        expect(again.replayed).toBe(true);
        expect(again.receiptNo).toBe(posted.receiptNo);
      }
      if (random.chance(0.1)) {
        const tomorrow = addDays(today as LocalDate, 1);
        at(tomorrow, async () => {
          const accepted = model.reverse(customer, key);
          const outcome = await reversePayment(db.db, CLI_PRINCIPAL, {
            idempotencyKey: key,
            reason: '收费员录入错误',
            businessDate: tomorrow,
          }).then(
            () => 'reversed',
            (error: { code?: string }) => error.code ?? String(error),
          );
          expect(outcome).toBe(accepted ? 'reversed' : 'payment_refunded');
          if (accepted) reversals += 1;
          touched.add(customer.customerId);
        });
      }
    };

    const audit = async (today: string, all: boolean) => {
      checks += 1;
      const ids = all ? [...customers.keys()] : [...touched];
      touched = new Set();
      if (ids.length === 0) return;
      // 1. Every payment of the day got exactly the allocations the model predicted.
      const allocated = await sql<{ key: string; bill_id: number | null; kind: string; amount: number }>`
        select y.idempotency_key as key, a.bill_id, a.kind, sum(a.amount_fen)::int8 as amount
        from payment_key k
        join payment y on y.customer_id = k.customer_id and y.payment_id = k.payment_id
        join allocation a on a.customer_id = y.customer_id and a.payment_id = y.payment_id
          and a.journal_entry_id = y.journal_entry_id
        where k.idempotency_key = any(${[...predicted.keys()]}::text[])
        group by 1, 2, 3 order by 1, 2 nulls last, 3`.execute(db.db);
      const actual = new Map<string, string[]>();
      for (const row of allocated.rows) {
        const list = actual.get(row.key) ?? [];
        list.push(`${row.bill_id ?? '-'}:${row.kind}:${Number(row.amount)}`);
        actual.set(row.key, list);
      }
      for (const [key, expected] of predicted) {
        const merged = new Map<string, number>();
        for (const a of expected) {
          const id = `${a.billId ?? '-'}:${a.kind}`;
          merged.set(id, (merged.get(id) ?? 0) + a.amount);
        }
        const want = [...merged].map(([id, amount]) => `${id}:${amount}`).sort();
        expect(
          [...(actual.get(key) ?? [])].sort(),
          `allocations of ${key} on ${today}: app ${[...(actual.get(key) ?? [])].sort().join(' ')}, model ${want.join(' ')}`,
        ).toEqual(want);
      }
      predicted.clear();
      // 2. Each customer's journal balances equal the model's.
      const balances = await sql<{ customer_id: number; account: string; amount: number }>`
        select customer_id, ledger_account_code as account, sum(amount_fen)::int8 as amount from posting
        where customer_id = any(${ids}::bigint[])
          and ledger_account_code in ('customer_receivable', 'customer_prepaid', 'late_fee_revenue', 'write_off_expense')
        group by 1, 2`.execute(db.db);
      const journal = new Map<number, Record<string, number>>();
      for (const row of balances.rows) {
        const entry = journal.get(Number(row.customer_id)) ?? {};
        entry[row.account] = Number(row.amount);
        journal.set(Number(row.customer_id), entry);
      }
      for (const id of ids) {
        const want = model.expectedBalances(customers.get(id)!);
        const got = journal.get(id) ?? {};
        const have = {
          customer_receivable: got.customer_receivable ?? 0,
          customer_prepaid: got.customer_prepaid ?? 0,
          late_fee_revenue: got.late_fee_revenue ?? 0,
          write_off_expense: got.write_off_expense ?? 0,
        };
        expect(
          have,
          `customer ${id} on ${today}: journal ${JSON.stringify(have)}, model ${JSON.stringify(want)}`,
        ).toEqual(want);
      }
      // 3. What the application says is open (principal and late fee per bill) is the model's.
      const sample = all ? ids.filter((_, k) => k % 7 === checks % 7) : ids;
      const states = await loadCustomerStates(db.db, sample);
      for (const id of sample) {
        const customer = customers.get(id)!;
        const app = openBillsOf(states.get(id)!, customer.category, today as LocalDate).map(
          (bill) => `${bill.billId}:${bill.openPrincipalFen}:${bill.lateFeeFen}`,
        );
        const mine = customer.bills
          .map((bill) => ({
            bill,
            open: model.principalOpen(bill),
            fee: model.chargeableLateFee(customer, bill, today),
          }))
          .filter((row) => row.open > 0 || row.fee > 0)
          .map((row) => `${row.bill.billId}:${row.open}:${row.fee}`);
        expect(
          app,
          `open bills of customer ${id} on ${today}: app ${app.join(' ')}, model ${mine.join(' ')}`,
        ).toEqual(mine);
      }
      // 4. Every entry balances (and, at releases, everything ledger verify checks).
      if (all) expect((await verifyLedger(db.db)).problems).toEqual([]);
    };

    const runDay = async (today: string) => {
      for (const event of events.get(today) ?? []) await event();
      events.delete(today);
      await postBulk(today);
      await audit(today, false);
    };

    let day = `${addMonths(firstPeriod, 1)}-01` as LocalDate;
    for (let m = 0; m < MONTHS; m++) {
      const period = addMonths(firstPeriod, m);
      const releaseDay = `${addMonths(period, 1)}-03` as LocalDate;
      while (day < releaseDay) {
        await runDay(day);
        day = addDays(day, 1);
      }
      await runBilling(db.db, { period, concurrency: 1, worker: `sim-${seed}` });
      await releaseBills(db.db, { period, releasedOn: releaseDay, actor: CLI_PRINCIPAL });
      const released = await sql<{
        customer_id: number;
        bill_id: number;
        due_on: string;
        amount_fen: number;
      }>`
        select b.customer_id, b.bill_id, r.due_on, b.amount_fen from bill b
        join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
        where b.period = ${period} order by b.customer_id`.execute(db.db);
      for (const row of released.rows) {
        const customer = customers.get(Number(row.customer_id))!;
        customer.bills.push({
          billId: Number(row.bill_id),
          period,
          dueOn: row.due_on,
          amount: Number(row.amount_fen),
          pieces: [],
          lateFeePaid: 0,
          waived: 0,
          writtenOff: 0,
        });
      }
      for (const customer of customers.values()) model.applyPrepaid(customer, releaseDay);
      await audit(releaseDay, true);

      for (const row of released.rows) {
        const customer = customers.get(Number(row.customer_id))!;
        const due = row.due_on as LocalDate;
        const habit = habits.get(customer.customerId)!;
        const offset = (from: LocalDate, min: number, max: number) => addDays(from, random.int(min, max));
        if (habit === 'on_time')
          at(offset(releaseDay, 1, 12), async () => void bulkToday.push({ customer, kind: 'full' }));
        else if (habit === 'late')
          at(offset(due, 1, 40), async () => void bulkToday.push({ customer, kind: 'full' }));
        else if (habit === 'partial')
          at(offset(releaseDay, 1, 25), async () => void bulkToday.push({ customer, kind: 'partial' }));
        else if (habit === 'overpay' && random.chance(0.5))
          at(offset(releaseDay, 1, 12), async () => void bulkToday.push({ customer, kind: 'overpay' }));
        else if (habit === 'single') {
          const payDay = offset(releaseDay, 1, 30);
          at(payDay, () => singlePay(customer, payDay));
        }
      }
      // Mid-month staff work: a few waivers, refunds of prepaid money and write-offs of old debts.
      const workDay = `${addMonths(period, 1)}-20` as LocalDate;
      at(workDay, async () => {
        const list = [...customers.values()];
        for (let k = 0; k < 3; k++) {
          const customer = random.pick(list);
          const bill = customer.bills.find((b) => model.chargeableLateFee(customer, b, workDay) > 0);
          if (!bill) continue;
          const billNo = await billNoOf(db, customer.customerId, bill.billId);
          const request = await requestLedgerAction(db.db, marketing, {
            kind: 'late_fee_waiver',
            customerNo: customer.customerNo,
            billNo,
            reason: '模拟减免',
            asOf: workDay,
          });
          model.waive(customer, bill, workDay);
          await decideLedgerRequest(db.db, finance, {
            customerNo: customer.customerNo,
            requestId: request.requestId,
            decision: 'approve',
            asOf: workDay,
          });
          waivers += 1;
          touched.add(customer.customerId);
        }
        const holders = list.filter((c) => model.prepaidBalance(c) > 0);
        for (let k = 0; k < Math.min(2, holders.length); k++) {
          const customer = random.pick(holders);
          const amount = model.prepaidBalance(customer);
          if (amount === 0) continue;
          const request = await requestLedgerAction(db.db, marketing, {
            kind: 'refund',
            customerNo: customer.customerNo,
            amountFen: fen(amount),
            refundFrom: 'prepaid',
            reason: '模拟退费',
            asOf: workDay,
          });
          await decideLedgerRequest(db.db, finance, {
            customerNo: customer.customerNo,
            requestId: request.requestId,
            decision: 'approve',
            asOf: workDay,
          });
          await payOutRefund(db.db, finance, {
            customerNo: customer.customerNo,
            requestId: request.requestId,
            method: 'bank_transfer',
            bankAccount: '6222-SIM',
            paidOn: workDay,
          });
          expect(model.refundAll(customer)).toBe(amount);
          refunds += 1;
          touched.add(customer.customerId);
        }
        if (m % 6 === 5) {
          const cutoff = addDays(workDay, -180);
          for (const customer of list.filter((c) => habits.get(c.customerId) === 'never').slice(0, 10)) {
            for (const bill of customer.bills.filter((b) => b.dueOn < cutoff && model.principalOpen(b) > 0)) {
              const billNo = await billNoOf(db, customer.customerId, bill.billId);
              const request = await requestLedgerAction(db.db, marketing, {
                kind: 'write_off',
                customerNo: customer.customerNo,
                billNo,
                reason: '模拟核销',
                asOf: workDay,
              });
              model.writeOff(customer, bill, workDay);
              await decideLedgerRequest(db.db, finance, {
                customerNo: customer.customerNo,
                requestId: request.requestId,
                decision: 'approve',
                asOf: workDay,
              });
              writeOffs += 1;
              touched.add(customer.customerId);
            }
          }
        }
      });
    }
    const end = addDays(day, 45);
    while (day <= end) {
      await runDay(day);
      day = addDays(day, 1);
    }
    await audit(day, true);
    // The run did what it says: enough of everything to have been tested.
    const counts = { paymentsPosted, reversals, waivers, refunds, writeOffs, audits: checks };
    expect(paymentsPosted, JSON.stringify(counts)).toBeGreaterThan(CUSTOMERS * MONTHS * 0.6);
    expect(Math.min(reversals, waivers, refunds), JSON.stringify(counts)).toBeGreaterThan(0);
    // Debts become old enough to write off after half a year of the simulation.
    if (MONTHS >= 12) expect(writeOffs, JSON.stringify(counts)).toBeGreaterThan(0);
  }
});

function recordOf(customer: model.ModelCustomer, key: string): model.ModelPayment {
  return customer.payments.find((payment) => payment.key === key)!;
}

async function billNoOf(db: TestDatabase, customerId: number, billId: number): Promise<string> {
  const row = await db.db
    .selectFrom('bill_release')
    .select('bill_no')
    .where('customer_id', '=', customerId)
    .where('bill_id', '=', billId)
    .executeTakeFirstOrThrow();
  return row.bill_no;
}
