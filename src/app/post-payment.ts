import { createHash } from 'node:crypto';
import { type Kysely, type Transaction, sql } from 'kysely';
import type { DB } from '../adapters/db/schema.js';
import { type OpenItem, allocatePayment } from '../domain/ledger/allocate-payment.js';
import { type LedgerAccountCode, type Posting, assertBalanced } from '../domain/ledger/bill-release-entry.js';
import { accruedLateFeeOnBill, lateFeeToCharge } from '../domain/late-fee.js';
import type { LocalDate } from '../domain/local-date.js';
import { type Fen, fen } from '../domain/money.js';
import { customerInScope } from './customer-in-scope.js';
import { AppError } from './errors.js';
import { inTransaction } from './in-transaction.js';
import { type Principal, requirePermission } from './principal.js';
import { recordAudit } from './record-audit.js';

/** Where the money is until it reaches the bank: the source account of a payment. */
export type PaymentSource =
  | { readonly kind: 'counter'; readonly staffId: number }
  | { readonly kind: 'collector'; readonly staffId: number }
  | {
      readonly kind: 'channel';
      readonly channelCode: string;
      /** The channel's own transaction id (its serial), kept for reconciliation. */
      readonly txnId: string;
      /** The channel's fee on this payment, booked as channel fee expense (default 0). */
      readonly feeFen?: Fen;
    };

export interface PostPaymentInput {
  /** The channel's transaction id or the cashier's receipt number, made unique by its source. */
  readonly idempotencyKey: string;
  readonly customerNo: string;
  readonly amountFen: Fen;
  readonly paidAt: Date;
  /** The business day in the utility's zone. */
  readonly businessDate: LocalDate;
  readonly source: PaymentSource;
}

export interface PostedPayment {
  readonly paymentId: number;
  readonly receiptNo: string;
  readonly customerNo: string;
  readonly amountFen: Fen;
  readonly allocations: readonly {
    readonly billId: number;
    readonly billNo: string;
    readonly period: string;
    readonly kind: 'principal' | 'late_fee';
    readonly amountFen: Fen;
  }[];
  readonly prepaidFen: Fen;
  /** True when this call returned the result of an earlier post with the same key. */
  readonly replayed: boolean;
}

/** Entry ids of payments live above this offset (bill releases use bill ids, reversals 1e9+). */
export const PAYMENT_ENTRY_OFFSET = 2_000_000_000;

const SOURCE_ACCOUNT: Readonly<Record<PaymentSource['kind'], LedgerAccountCode>> = {
  counter: 'counter_cash',
  collector: 'collector_cash',
  channel: 'channel_clearing',
};

function sourceKey(source: PaymentSource): string {
  return source.kind === 'channel' ? source.channelCode : String(source.staffId);
}

/**
 * Posts a payment through the one path every channel uses: late fees and bills are settled in
 * the policy's order, the rest becomes prepaid balance, and one balanced journal entry moves the
 * money from its source (counter or collector cash, a channel's clearing account). The same key
 * with the same input returns the first result; with a different input it is refused.
 * Errors: forbidden, not_found, validation_failed, payment_key_conflict.
 */
export async function postPayment(
  db: Kysely<DB>,
  principal: Principal,
  input: PostPaymentInput,
  options: {
    /** Checked inside the transaction before a new payment is posted (not on a replay); throws to refuse. */
    readonly guard?: (trx: Kysely<DB>) => Promise<void>;
  } = {},
): Promise<PostedPayment> {
  requirePermission(principal, 'payment.post');
  if (!Number.isSafeInteger(input.amountFen) || input.amountFen <= 0)
    throw new AppError('validation_failed', 'amount: must be more than 0.00');
  const inputHash = createHash('sha256')
    .update(JSON.stringify([input.customerNo, input.amountFen, input.source.kind, sourceKey(input.source)]))
    .digest('hex');
  return inTransaction(db, async (trx) => {
    const found = await customerInScope(trx, principal, input.customerNo);
    const customer = { customer_id: found.customerId, category: found.category };
    const next = await sql<{ id: number }>`select nextval('payment_id_seq') as id`.execute(trx);
    const paymentId = Number(next.rows[0]!.id);
    // The key is claimed first: a concurrent post of the same key waits here for the first one
    // to commit and then finds it.
    const claimed = await trx
      .insertInto('payment_key')
      .values({
        idempotency_key: input.idempotencyKey,
        customer_id: customer.customer_id,
        payment_id: paymentId,
        input_hash: inputHash,
      })
      .onConflict((conflict) => conflict.column('idempotency_key').doNothing())
      .executeTakeFirst();
    if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 0) {
      const existing = await trx
        .selectFrom('payment_key')
        .selectAll()
        .where('idempotency_key', '=', input.idempotencyKey)
        .executeTakeFirstOrThrow();
      if (existing.input_hash !== inputHash) {
        throw new AppError(
          'payment_key_conflict',
          `${input.idempotencyKey} was already used for another customer or amount`,
        );
      }
      return { ...(await loadPayment(trx, existing.customer_id, existing.payment_id)), replayed: true };
    }
    await options.guard?.(trx);
    // One payment at a time per customer, so allocations never race.
    await sql`select customer_id from customer where customer_id = ${customer.customer_id} for update`.execute(
      trx,
    );
    const bills = await openBills(
      trx,
      customer.customer_id,
      customer.category === 'residential' ? 'residential' : 'other',
      input.businessDate,
    );
    const { allocations, prepaidFen } = allocatePayment(openItemsOf(bills), input.amountFen);

    const principalFen = allocations
      .filter((a) => a.kind === 'principal')
      .reduce((sum, a) => sum + a.amountFen, 0);
    const lateFeeFen = allocations
      .filter((a) => a.kind === 'late_fee')
      .reduce((sum, a) => sum + a.amountFen, 0);
    const feeFen = input.source.kind === 'channel' ? (input.source.feeFen ?? 0) : 0;
    if (feeFen < 0 || feeFen > input.amountFen)
      throw new AppError('validation_failed', 'fee: 0 up to the amount');
    const postings: Posting[] = [
      { account: SOURCE_ACCOUNT[input.source.kind], amountFen: fen(input.amountFen - feeFen) },
    ];
    if (feeFen > 0) postings.push({ account: 'channel_fee_expense', amountFen: fen(feeFen) });
    if (principalFen > 0) postings.push({ account: 'customer_receivable', amountFen: fen(-principalFen) });
    if (lateFeeFen > 0) postings.push({ account: 'late_fee_revenue', amountFen: fen(-lateFeeFen) });
    if (prepaidFen > 0) postings.push({ account: 'customer_prepaid', amountFen: fen(-prepaidFen) });
    assertBalanced(postings);

    const entryId = PAYMENT_ENTRY_OFFSET + paymentId;
    const receiptNo = `R${input.businessDate.replaceAll('-', '')}${String(paymentId).padStart(9, '0')}`;
    await trx
      .insertInto('journal_entry')
      .values({
        customer_id: customer.customer_id,
        journal_entry_id: entryId,
        kind: 'payment',
        effective_on: input.businessDate,
        idempotency_key: `payment:${input.idempotencyKey}`,
        source_type: input.source.kind,
        source_id: sourceKey(input.source),
        memo: receiptNo,
        created_by: principal.staffId,
      })
      .execute();
    await trx
      .insertInto('posting')
      .values(
        postings.map((posting, k) => ({
          customer_id: customer.customer_id,
          journal_entry_id: entryId,
          line_no: k + 1,
          ledger_account_code: posting.account,
          sub_key:
            posting.account === SOURCE_ACCOUNT[input.source.kind] || posting.account === 'channel_fee_expense'
              ? sourceKey(input.source)
              : '',
          amount_fen: posting.amountFen,
        })),
      )
      .execute();
    await trx
      .insertInto('payment')
      .values({
        customer_id: customer.customer_id,
        payment_id: paymentId,
        idempotency_key: input.idempotencyKey,
        input_hash: inputHash,
        channel_code: input.source.kind === 'channel' ? input.source.channelCode : input.source.kind,
        channel_txn_id: input.source.kind === 'channel' ? input.source.txnId : null,
        amount_fen: input.amountFen,
        paid_at: input.paidAt,
        business_date: input.businessDate,
        operator_staff_id: principal.staffId,
        receipt_no: receiptNo,
        journal_entry_id: entryId,
      })
      .execute();
    const rows = [
      ...allocations.map((allocation) => ({
        bill_id: allocation.billId,
        kind: allocation.kind,
        amount_fen: allocation.amountFen,
      })),
      ...(prepaidFen > 0 ? [{ bill_id: null, kind: 'prepaid' as const, amount_fen: prepaidFen }] : []),
    ];
    if (rows.length > 0) {
      await trx
        .insertInto('allocation')
        .values(
          rows.map((row, k) => ({
            customer_id: customer.customer_id,
            allocation_id: paymentId * 100 + k + 1,
            payment_id: paymentId,
            ...row,
            journal_entry_id: entryId,
          })),
        )
        .execute();
    }
    await recordAudit(trx, principal, {
      action: 'payment.post',
      objectType: 'payment',
      objectId: receiptNo,
      customerId: customer.customer_id,
      details: { amountFen: input.amountFen, source: input.source, principalFen, lateFeeFen, prepaidFen },
    });
    // The result of a new post is known here; only a replay reads it back.
    const billOf = new Map(bills.map((bill) => [bill.billId, bill]));
    return {
      paymentId,
      receiptNo,
      customerNo: found.customerNo,
      amountFen: input.amountFen,
      allocations: allocations.map((allocation) => ({
        ...allocation,
        period: billOf.get(allocation.billId)!.period,
        billNo: billOf.get(allocation.billId)!.billNo,
      })),
      prepaidFen,
      replayed: false,
    };
  });
}

/** A released bill with what is still open on it on a date. */
export interface OpenBill {
  readonly billId: number;
  readonly billNo: string;
  readonly period: string;
  readonly dueOn: string;
  readonly amountFen: Fen;
  readonly principalPaidFen: Fen;
  /** Late fee accrued up to the date and not yet paid. */
  readonly lateFeeFen: Fen;
  readonly openPrincipalFen: Fen;
}

/**
 * What a customer owes on a date: each released bill (latest revision) with its open principal
 * and the late fee it has accrued but not yet been charged, oldest first. Bills settled in full
 * are left out.
 */
export async function openBills(
  trx: Transaction<DB> | Kysely<DB>,
  customerId: number,
  category: 'residential' | 'other',
  asOf: LocalDate,
): Promise<OpenBill[]> {
  const bills = await sql<{
    bill_id: number;
    bill_no: string;
    period: string;
    due_on: string;
    amount_fen: number;
  }>`
    select b.bill_id, r.bill_no, b.period, r.due_on, b.amount_fen from bill b
    join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
    where b.customer_id = ${customerId}
      and not exists (select 1 from bill n where n.customer_id = b.customer_id and n.replaces_bill_id = b.bill_id)
    order by r.due_on, b.bill_id`.execute(trx);
  if (bills.rows.length === 0) return [];
  const paid = await sql<{ bill_id: number; kind: string; amount_fen: number; business_date: string }>`
    select a.bill_id, a.kind, a.amount_fen, p.business_date from allocation a
    join payment p on p.customer_id = a.customer_id and p.payment_id = a.payment_id
    where a.customer_id = ${customerId} and a.bill_id is not null`.execute(trx);
  const result: OpenBill[] = [];
  for (const bill of bills.rows) {
    const mine = paid.rows.filter((row) => row.bill_id === bill.bill_id);
    const principalPaid = mine
      .filter((row) => row.kind === 'principal')
      .reduce((sum, row) => sum + Number(row.amount_fen), 0);
    const lateFeePaid = mine
      .filter((row) => row.kind === 'late_fee')
      .reduce((sum, row) => sum + Number(row.amount_fen), 0);
    const open = Number(bill.amount_fen) - principalPaid;
    let lateFee = 0;
    if (bill.due_on < asOf) {
      const accrued = accruedLateFeeOnBill(
        {
          amountFen: fen(Number(bill.amount_fen)),
          dueDate: bill.due_on as LocalDate,
          principalPayments: mine
            .filter((row) => row.kind === 'principal')
            .map((row) => ({ date: row.business_date as LocalDate, amountFen: fen(Number(row.amount_fen)) })),
        },
        asOf,
        { category, holds: [], interpretation: 'A' },
      );
      lateFee = lateFeeToCharge(accrued, fen(lateFeePaid), asOf);
    }
    if (open <= 0 && lateFee <= 0) continue;
    result.push({
      billId: bill.bill_id,
      billNo: bill.bill_no,
      period: bill.period,
      dueOn: bill.due_on,
      amountFen: fen(Number(bill.amount_fen)),
      principalPaidFen: fen(principalPaid),
      lateFeeFen: fen(Math.max(0, lateFee)),
      openPrincipalFen: fen(Math.max(0, open)),
    });
  }
  return result;
}

/** The open bills as the items a payment settles: each bill's late fee and its principal. */
export function openItemsOf(bills: readonly OpenBill[]): OpenItem[] {
  const items: OpenItem[] = [];
  for (const bill of bills) {
    const base = { billId: bill.billId, period: bill.period, dueOn: bill.dueOn };
    if (bill.lateFeeFen > 0) items.push({ ...base, kind: 'late_fee', openFen: bill.lateFeeFen });
    if (bill.openPrincipalFen > 0) items.push({ ...base, kind: 'principal', openFen: bill.openPrincipalFen });
  }
  return items;
}

/** A customer's prepaid balance (预收): the credit on the customer_prepaid account. */
export async function prepaidBalance(trx: Transaction<DB> | Kysely<DB>, customerId: number): Promise<Fen> {
  const row = await sql<{ balance: number | null }>`
    select -coalesce(sum(amount_fen), 0)::bigint as balance from posting
    where customer_id = ${customerId} and ledger_account_code = 'customer_prepaid'`.execute(trx);
  return fen(Number(row.rows[0]?.balance ?? 0));
}

async function loadPayment(
  trx: Transaction<DB>,
  customerId: number,
  paymentId: number,
): Promise<Omit<PostedPayment, 'replayed'>> {
  const payment = await trx
    .selectFrom('payment')
    .innerJoin('customer', 'customer.customer_id', 'payment.customer_id')
    .select(['payment.payment_id', 'payment.receipt_no', 'payment.amount_fen', 'customer.customer_no'])
    .where('payment.customer_id', '=', customerId)
    .where('payment.payment_id', '=', paymentId)
    .executeTakeFirstOrThrow();
  const allocations = await sql<{
    bill_id: number | null;
    period: string | null;
    bill_no: string | null;
    kind: string;
    amount_fen: number;
  }>`
    select a.bill_id, b.period, r.bill_no, a.kind, a.amount_fen from allocation a
    left join bill b on b.customer_id = a.customer_id and b.bill_id = a.bill_id
    left join bill_release r on r.customer_id = a.customer_id and r.bill_id = a.bill_id
    where a.customer_id = ${customerId} and a.payment_id = ${paymentId} order by a.allocation_id`.execute(
    trx,
  );
  return {
    paymentId: payment.payment_id,
    receiptNo: payment.receipt_no,
    customerNo: payment.customer_no,
    amountFen: fen(payment.amount_fen),
    allocations: allocations.rows
      .filter((row) => row.kind !== 'prepaid')
      .map((row) => ({
        billId: row.bill_id!,
        billNo: row.bill_no!,
        period: row.period!,
        kind: row.kind as 'principal' | 'late_fee',
        amountFen: fen(Number(row.amount_fen)),
      })),
    prepaidFen: fen(
      allocations.rows
        .filter((row) => row.kind === 'prepaid')
        .reduce((sum, row) => sum + Number(row.amount_fen), 0),
    ),
  };
}
