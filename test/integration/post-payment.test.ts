import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.js';
import { principalForLogin } from '../../src/app/log-in.js';
import { postPaymentBatch } from '../../src/app/payment-batcher.js';
import { type PostedPayment, postPayment } from '../../src/app/post-payment.js';
import { reversePayment } from '../../src/app/reverse-payment.js';
import { verifyLedger } from '../../src/app/queries/verify-ledger.js';
import { CLI_PRINCIPAL, type Principal, channelPrincipal } from '../../src/app/principal.js';
import type { LocalDate, Period } from '../../src/domain/local-date.js';
import { fen } from '../../src/domain/money.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';

const codeOf = (error: unknown) => (error instanceof AppError ? error.code : String(error));

describeEachDatabase('posting a payment', (kind) => {
  let database: TestDatabase;
  let cashier: Principal;
  let customer: { customer_id: number; customer_no: string; total: number };
  const balance = async (account: string) =>
    Number(
      (
        await sql<{ total: number }>`select coalesce(sum(amount_fen), 0)::int8 as total from posting
          where customer_id = ${customer.customer_id} and ledger_account_code = ${account}`.execute(
          database.db,
        )
      ).rows[0]!.total,
    );
  const pay = (key: string, amount: number, businessDate = '2026-11-05') =>
    postPayment(database.db, cashier, {
      idempotencyKey: key,
      customerNo: customer.customer_no,
      amountFen: fen(amount),
      paidAt: new Date(`${businessDate}T10:00:00+08:00`),
      businessDate: businessDate as LocalDate,
      source: { kind: 'counter', staffId: cashier.staffId! },
    });

  beforeAll(async () => {
    database = await createTestDatabase(kind);
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
    cashier = await principalForLogin(database.db, 's01.cashier1');
    const rows = await sql<typeof customer>`
      select c.customer_id, c.customer_no, sum(b.amount_fen)::int8 as total from customer c
      join bill b on b.customer_id = c.customer_id join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
      where c.station_id = 11 and c.category = 'residential'
      group by c.customer_id, c.customer_no having count(*) = 2 and min(b.amount_fen) > 1000
      order by c.customer_id limit 1`.execute(database.db);
    customer = { ...rows.rows[0]!, total: Number(rows.rows[0]!.total) };
  });
  afterAll(() => database.close());

  it('charges the overdue bill’s late fee first, then its principal, then the next bill, and keeps the rest as prepaid', async () => {
    expect(await balance('customer_receivable')).toBe(customer.total);
    // On 5 November the September bill is overdue: its late fee (at least the 1-yuan minimum) comes first.
    const first = await pay('counter:R-0001', 1000);
    expect(first.replayed).toBe(false);
    const [fee, principal] = first.allocations;
    expect(fee).toMatchObject({ billId: 20260901, period: '2026-09', kind: 'late_fee' });
    expect(fee!.amountFen).toBeGreaterThanOrEqual(100);
    expect(principal).toEqual({
      billId: 20260901,
      billNo: expect.stringMatching(/^\d+/),
      period: '2026-09',
      kind: 'principal',
      amountFen: 1000 - fee!.amountFen,
    });
    expect(first.receiptNo).toMatch(/^R20261105\d{9}$/);
    expect(await balance('late_fee_revenue')).toBe(-fee!.amountFen);

    const owed = await balance('customer_receivable');
    const rest = await pay('counter:R-0002', owed + 500);
    const allocated = rest.allocations.reduce((sum, a) => sum + a.amountFen, 0);
    expect(allocated + rest.prepaidFen).toBe(owed + 500);
    expect(rest.allocations.filter((a) => a.kind === 'principal').map((a) => a.period)).toEqual([
      '2026-09',
      '2026-10',
    ]);
    expect(rest.prepaidFen).toBeGreaterThan(0);
    expect(await balance('customer_receivable')).toBe(0);
    expect(await balance('customer_prepaid')).toBe(-rest.prepaidFen);
    expect(await balance('counter_cash')).toBe(1000 + owed + 500);
  });

  it('returns the first result for the same key and refuses the key with another amount', async () => {
    const again = await pay('counter:R-0001', 1000);
    expect(again.replayed).toBe(true);
    expect(again.receiptNo).toBe(
      (
        await database.db
          .selectFrom('payment')
          .select('receipt_no')
          .where('idempotency_key', '=', 'counter:R-0001')
          .executeTakeFirstOrThrow()
      ).receipt_no,
    );
    expect(codeOf(await pay('counter:R-0001', 1001).catch((e) => e))).toBe('payment_key_conflict');
    const payments = await database.db
      .selectFrom('payment')
      .select('payment_id')
      .where('customer_id', '=', customer.customer_id)
      .execute();
    expect(payments).toHaveLength(2);
  });

  it('keeps every journal entry balanced and the audit trail complete', async () => {
    const unbalanced = await sql<{ n: number }>`
      select count(*)::int as n from (select customer_id, journal_entry_id from posting group by 1, 2 having sum(amount_fen) <> 0) t`.execute(
      database.db,
    );
    expect(unbalanced.rows[0]!.n).toBe(0);
    const audit = await database.db
      .selectFrom('audit_log')
      .select('object_id')
      .where('action', '=', 'payment.post')
      .execute();
    expect(audit).toHaveLength(2);
  });

  it('reverses a payment by new entries, reopening what it settled, and refuses to reverse twice', async () => {
    const before = await balance('customer_receivable');
    const posted = await pay('counter:R-0003', 4321, '2026-11-07');
    const settledPrincipal = posted.allocations
      .filter((a) => a.kind === 'principal')
      .reduce((sum, a) => sum + a.amountFen, 0);
    expect(await balance('customer_receivable')).toBe(before - settledPrincipal);
    const reversed = await reversePayment(database.db, cashier, {
      idempotencyKey: 'counter:R-0003',
      reason: '收错户号',
      businessDate: '2026-11-07' as LocalDate,
    });
    expect(reversed.receiptNo).toBe(posted.receiptNo);
    expect(await balance('customer_receivable')).toBe(before);
    const again = await reversePayment(database.db, cashier, {
      idempotencyKey: 'counter:R-0003',
      reason: 'again',
      businessDate: '2026-11-07' as LocalDate,
    }).catch((e) => e);
    expect(codeOf(again)).toBe('payment_already_reversed');
    const entry = await database.db
      .selectFrom('journal_entry')
      .select(['kind', 'reverses_entry_id'])
      .where('customer_id', '=', customer.customer_id)
      .where('kind', '=', 'payment_reversal')
      .executeTakeFirstOrThrow();
    expect(entry.reverses_entry_id).toBe(2_000_000_000 + posted.paymentId);
    // Both the payment and its reversal stay in the journal.
    const payments = await database.db
      .selectFrom('payment')
      .select('payment_id')
      .where('customer_id', '=', customer.customer_id)
      .execute();
    expect(payments.length).toBe(3);
  });

  it('agrees with itself: every entry balances and matches its bill or payment', async () => {
    expect((await verifyLedger(database.db)).problems).toEqual([]);
    // The database refuses an entry that does not balance when it commits; a posting added later
    // to an entry already committed (written behind the application's back) is what verify finds.
    await database.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('journal_entry')
        .values({
          customer_id: customer.customer_id,
          journal_entry_id: 999,
          kind: 'manual',
          effective_on: '2026-11-05',
        })
        .execute();
      await trx
        .insertInto('posting')
        .values([
          {
            customer_id: customer.customer_id,
            journal_entry_id: 999,
            line_no: 1,
            ledger_account_code: 'bank',
            amount_fen: 5,
          },
          {
            customer_id: customer.customer_id,
            journal_entry_id: 999,
            line_no: 2,
            ledger_account_code: 'counter_cash',
            amount_fen: -5,
          },
        ])
        .execute();
    });
    await database.db
      .insertInto('posting')
      .values({
        customer_id: customer.customer_id,
        journal_entry_id: 999,
        line_no: 3,
        ledger_account_code: 'bank',
        amount_fen: 5,
      })
      .execute();
    const problems = (await verifyLedger(database.db)).problems;
    expect(problems).toEqual([
      {
        check: 'entry_balances',
        customerId: customer.customer_id,
        reference: '999',
        detail: 'postings sum to 5',
      },
    ]);
  });

  it.runIf(kind === 'postgres')(
    'posts once when the same key arrives from 20 connections at the same time',
    async () => {
      const others = await Promise.all(Array.from({ length: 4 }, () => database.openAnother!(5)));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, k) =>
          postPayment(others[k % others.length]!.db, cashier, {
            idempotencyKey: 'channel:BANK01:T-42',
            customerNo: customer.customer_no,
            amountFen: fen(2500),
            paidAt: new Date('2026-11-06T09:00:00+08:00'),
            businessDate: '2026-11-06' as LocalDate,
            source: { kind: 'channel', channelCode: 'BANK01', txnId: 'T-42' },
          }),
        ),
      );
      expect(new Set(results.map((result) => result.receiptNo)).size).toBe(1);
      expect(results.filter((result) => !result.replayed)).toHaveLength(1);
      const posted = await database.db
        .selectFrom('payment')
        .select('payment_id')
        .where('idempotency_key', '=', 'channel:BANK01:T-42')
        .execute();
      expect(posted).toHaveLength(1);
    },
  );

  it.runIf(kind === 'postgres')(
    'settles each bill once when concurrent batches pay the same customers, with shared keys in any order',
    async () => {
      const payers = (
        await sql<{ customer_no: string; customer_id: number; owed: number }>`
          select c.customer_no, c.customer_id, sum(b.amount_fen)::int8 as owed from customer c
          join bill b on b.customer_id = c.customer_id
          join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
          where c.station_id = 11 and c.customer_id <> ${customer.customer_id}
          group by c.customer_no, c.customer_id
          order by c.customer_id limit 3`.execute(database.db)
      ).rows;
      expect(payers).toHaveLength(3);
      const item = (key: string, payer: (typeof payers)[number]) => ({
        principal: cashier,
        input: {
          idempotencyKey: key,
          customerNo: payer.customer_no,
          amountFen: fen(Number(payer.owed)),
          paidAt: new Date('2026-11-07T09:00:00+08:00'),
          businessDate: '2026-11-07' as LocalDate,
          source: { kind: 'channel' as const, channelCode: 'BANK02', txnId: key },
        },
      });
      // Six batches at once, each paying every customer what it owes; batches 0 and 1 also carry
      // the keys S0 and S1, in opposite orders.
      const batches = Array.from({ length: 6 }, (_, b) =>
        payers.map((payer, c) => item(`batch:${b}:${c}`, payer)),
      );
      const shared = [item('batch:S0', payers[0]!), item('batch:S1', payers[1]!)];
      batches[0]!.push(...shared);
      batches[1]!.push(...[...shared].reverse());
      const others = await Promise.all(batches.map(() => database.openAnother!(1)));
      const answers = await Promise.all(batches.map((batch, b) => postPaymentBatch(others[b]!.db, batch)));
      const posted = answers.flat();
      expect(posted.filter((answer) => answer instanceof Error)).toEqual([]);
      const receipts = new Map<string, Set<string>>();
      batches.flat().forEach((entry, k) => {
        const seen = receipts.get(entry.input.idempotencyKey) ?? new Set<string>();
        seen.add((posted[k] as PostedPayment).receiptNo);
        receipts.set(entry.input.idempotencyKey, seen);
      });
      expect([...receipts.values()].every((seen) => seen.size === 1)).toBe(true);
      expect((posted as PostedPayment[]).filter((answer) => !answer.replayed)).toHaveLength(20);
      // Each customer's bills were settled once; the other five payments became prepaid.
      for (const payer of payers) {
        const paid = await sql<{ principal: number }>`
          select coalesce(sum(amount_fen), 0)::int8 as principal from allocation
          where customer_id = ${payer.customer_id} and kind = 'principal'`.execute(database.db);
        expect(Number(paid.rows[0]!.principal)).toBe(Number(payer.owed));
      }
      // (An earlier test leaves an unbalanced entry on another customer on purpose.)
      const ids = new Set(payers.map((payer) => Number(payer.customer_id)));
      const problems = (await verifyLedger(database.db)).problems;
      expect(problems.filter((problem) => ids.has(Number(problem.customerId)))).toEqual([]);
    },
  );

  it('posts each item of a batch as its own poster: permission, scope and audit per item', async () => {
    const [near, far] = (
      await sql<{ customer_no: string; customer_id: number }>`
        (select customer_no, customer_id from customer where station_id = 11 and customer_id <> ${customer.customer_id}
         order by customer_id desc limit 1)
        union all
        (select customer_no, customer_id from customer where station_id <> 11 order by customer_id limit 1)`.execute(
        database.db,
      )
    ).rows;
    const checker = await principalForLogin(database.db, 's01.checker1');
    const bank = channelPrincipal('BANK03', 'Bank 3');
    const item = (principal: Principal, key: string, customerNo: string) => ({
      principal,
      input: {
        idempotencyKey: key,
        customerNo,
        amountFen: fen(1500),
        paidAt: new Date('2026-11-08T09:00:00+08:00'),
        businessDate: '2026-11-08' as LocalDate,
        source:
          principal.kind === 'channel'
            ? { kind: 'channel' as const, channelCode: 'BANK03', txnId: key }
            : { kind: 'counter' as const, staffId: principal.staffId ?? 0 },
      },
    });
    const answers = await postPaymentBatch(database.db, [
      item(cashier, 'mixed:1', near!.customer_no),
      item(cashier, 'mixed:2', far!.customer_no),
      item(checker, 'mixed:3', near!.customer_no),
      item(bank, 'mixed:4', far!.customer_no),
    ]);
    expect(answers.map((answer) => (answer instanceof Error ? codeOf(answer) : 'posted'))).toEqual([
      'posted',
      'not_found',
      'forbidden',
      'posted',
    ]);
    const audit = await sql<{ actor_kind: string; actor_id: string; object_id: string }>`
      select actor_kind, actor_id, object_id from audit_log
      where action = 'payment.post' and object_id = any(${answers.flatMap((answer) => (answer instanceof Error ? [] : [answer.receiptNo]))}::text[])
      order by object_id`.execute(database.db);
    expect(audit.rows.map((row) => [row.actor_kind, row.actor_id])).toEqual([
      ['staff', String(cashier.staffId)],
      ['channel', 'BANK03'],
    ]);
    const operators = await sql<{ idempotency_key: string; operator_staff_id: number | null }>`
      select idempotency_key, operator_staff_id from payment where idempotency_key like 'mixed:%' order by 1`.execute(
      database.db,
    );
    expect(operators.rows.map((row) => [row.idempotency_key, row.operator_staff_id])).toEqual([
      ['mixed:1', cashier.staffId],
      ['mixed:4', null],
    ]);
  });

  it('posts the good items alone when the database refuses a batch as a whole', async () => {
    const payer = (
      await sql<{ customer_no: string }>`
        select customer_no from customer where station_id = 11 and customer_id <> ${customer.customer_id}
        order by customer_id desc offset 1 limit 1`.execute(database.db)
    ).rows[0]!;
    const item = (key: string, businessDate: string) => ({
      principal: cashier,
      input: {
        idempotencyKey: key,
        customerNo: payer.customer_no,
        amountFen: fen(700),
        paidAt: new Date('2026-11-09T09:00:00+08:00'),
        businessDate: businessDate as LocalDate,
        source: { kind: 'counter' as const, staffId: cashier.staffId! },
      },
    });
    // 30 February passes every check in the application; the database refuses the date.
    const answers = await postPaymentBatch(database.db, [
      item('alone:1', '2026-11-09'),
      item('alone:2', '2026-02-30'),
      item('alone:3', '2026-11-09'),
    ]);
    expect(answers.map((answer) => (answer instanceof Error ? 'error' : answer.replayed))).toEqual([
      false,
      'error',
      false,
    ]);
    const posted = await sql<{ idempotency_key: string }>`
      select idempotency_key from payment where idempotency_key like 'alone:%' order by 1`.execute(
      database.db,
    );
    expect(posted.rows.map((row) => row.idempotency_key)).toEqual(['alone:1', 'alone:3']);
  });
});
