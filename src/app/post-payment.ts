import { createHash } from 'node:crypto';
import { CompiledQuery, type Kysely, type Transaction, sql } from 'kysely';
import { copyRows } from '../db/raw-commands.js';
import type { DB } from '../db/schema.js';
import { type LedgerAccountCode, type Posting, assertBalanced } from '../domain/ledger/accounts.js';
import { allocatePayment } from '../domain/ledger/allocate-payment.js';
import { type CustomerState, openBillsOf, openItemsOf } from '../domain/ledger/customer-state.js';
import type { LocalDate } from '../domain/local-date.js';
import { type Fen, fen } from '../domain/money.js';
import { AppError } from './errors.js';
import { GENERIC_PLANS_SQL, inTransaction } from './in-transaction.js';
import { paymentAllocationId, paymentEntryId } from './ledger/ids.js';
import { loadCustomerStates, prepaidBalance } from './ledger/customer-state.js';
import { JOURNAL_TABLES, type JournalPosting, addJournalRows } from './ledger/journal-writer.js';
import { type Principal, requirePermission } from './principal.js';
import { inScopeSql } from './ledger/scope.js';
import { auditActorColumns } from './record-audit.js';

/** Where the money is until it reaches the bank: the source account of a payment. */
export type PaymentSource =
  | { readonly kind: 'counter'; readonly staffId: number }
  /** A customer's deposit (押金) applied to the arrears: see applyDeposit. */
  | { readonly kind: 'deposit' }
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
  readonly customerId: number;
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
  /** The customer's prepaid balance after this payment (at the time of the first post, on a replay: now). */
  readonly prepaidBalanceFen: Fen;
  /** True when this call returned the result of an earlier post with the same key. */
  readonly replayed: boolean;
}

export const SOURCE_ACCOUNT: Readonly<Record<PaymentSource['kind'], LedgerAccountCode>> = {
  counter: 'counter_cash',
  collector: 'collector_cash',
  channel: 'channel_clearing',
  deposit: 'customer_deposit',
};

/** What makes two posts of one key "the same payment": customer, amount and source. */
export function paymentInputHash(input: PostPaymentInput): string {
  return createHash('sha256')
    .update(JSON.stringify([input.customerNo, input.amountFen, input.source.kind, sourceKey(input.source)]))
    .digest('hex');
}

export function sourceKey(source: PaymentSource): string {
  if (source.kind === 'deposit') return '';
  return source.kind === 'channel' ? source.channelCode : String(source.staffId);
}

/**
 * Posts a payment through the one path every channel uses: late fees and bills are settled in
 * the policy's order, the rest becomes prepaid balance, and one balanced journal entry moves the
 * money from its source (counter or collector cash, a channel's clearing account). The same key
 * with the same input returns the first result; with a different input it is refused.
 *
 * Five round trips for a new payment: the key is claimed (a concurrent post of the same key waits
 * for the first to commit and then replays it) and the customer locked in one statement, the
 * customer's open items read in a second, every row written by a third, between BEGIN and COMMIT.
 * Errors: forbidden, not_found, validation_failed, payment_key_conflict, business_day_closed.
 */
export async function postPayment(
  db: Kysely<DB>,
  principal: Principal,
  input: PostPaymentInput,
  options: {
    /** A channel's business day: refused once its reconciliation is accepted (not on a replay). */
    readonly channelDay?: { readonly channelCode: string; readonly businessDate: string };
    /**
     * A signed request's nonce, recorded in the payment's own transaction (one commit instead of
     * two); refused when it was seen after `windowStart`.
     */
    readonly requestNonce?: { readonly key: string; readonly at: Date; readonly windowStart: Date };
  } = {},
): Promise<PostedPayment> {
  requirePermission(principal, 'payment.post');
  if (!Number.isSafeInteger(input.amountFen) || input.amountFen <= 0)
    throw new AppError('validation_failed', 'amount: must be more than 0.00');
  const feeFen = input.source.kind === 'channel' ? (input.source.feeFen ?? 0) : 0;
  if (!Number.isSafeInteger(feeFen) || feeFen < 0 || feeFen > input.amountFen)
    throw new AppError('validation_failed', 'fee: 0 up to the amount');
  const inputHash = paymentInputHash(input);
  return inTransaction(db, async (trx) => {
    // The lock on the customer depends on the claim's result, so it is always taken after it.
    const head = await sql<{
      customer_id: number;
      customer_no: string;
      category: string;
      in_scope: boolean;
      claimed_payment_id: number | null;
      locked: boolean | null;
      nonce_fresh: boolean;
    }>`
      with nonce as (
        insert into channel_nonce (nonce_key, seen_at)
        select ${options.requestNonce?.key ?? null}::text, ${options.requestNonce?.at ?? null}::timestamptz
        where ${options.requestNonce?.key ?? null}::text is not null
        on conflict (nonce_key) do update set seen_at = excluded.seen_at
          where channel_nonce.seen_at < ${options.requestNonce?.windowStart ?? null}::timestamptz
        returning nonce_key
      ), c as (
        select cu.customer_id, cu.customer_no, cu.category, ${inScopeSql(principal, 'o.path')} as in_scope
        from customer_number n
        join customer cu on cu.customer_id = n.customer_id
        join org_unit o on o.org_unit_id = cu.station_id
        where n.customer_no = ${input.customerNo}
      ), claim as (
        insert into payment_key (idempotency_key, customer_id, payment_id, input_hash)
        select ${input.idempotencyKey}, c.customer_id, nextval('payment_id_seq'), ${inputHash} from c where c.in_scope
        on conflict (idempotency_key) do nothing
        returning customer_id, payment_id
      )
      select c.customer_id, c.customer_no, c.category, c.in_scope,
        (select payment_id from claim) as claimed_payment_id,
        (select pg_advisory_xact_lock(customer_id) is not null from claim) as locked,
        (${options.requestNonce?.key ?? null}::text is null or exists (select 1 from nonce)) as nonce_fresh,
        ${sql.raw(GENERIC_PLANS_SQL)} as plan_mode
      from c`.execute(trx);
    const found = head.rows[0];
    if (found && !found.nonce_fresh)
      throw new AppError('channel_nonce_reused', 'X-Nonce was used within the last 600 s');
    if (!found?.in_scope) throw new AppError('not_found', `customer ${input.customerNo} not found`);
    if (found.claimed_payment_id === null) {
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
    const paymentId = Number(found.claimed_payment_id);
    const customerId = Number(found.customer_id);
    const state = await loadCustomerState(trx, customerId, options.channelDay);
    if (state.dayClosed)
      throw new AppError(
        'business_day_closed',
        `business day ${options.channelDay?.businessDate} is reconciled and closed`,
      );
    const plan = planPayment(input, {
      paymentId,
      customerId,
      category: found.category,
      state,
      inputHash,
    });
    const rows = emptyPaymentRows();
    addPaymentRows(rows, principal, { input, customerId, paymentId, inputHash }, plan);
    await writePaymentRows(trx, rows);
    const { receiptNo, allocations, prepaidFen } = plan;
    return {
      paymentId,
      customerId,
      receiptNo,
      customerNo: found.customer_no,
      amountFen: input.amountFen,
      allocations,
      prepaidFen,
      prepaidBalanceFen: fen(state.prepaidFen + prepaidFen),
      replayed: false,
    };
  });
}

/** Everything a payment writes, computed from the customer's state without I/O. */
export interface PaymentPlan {
  readonly entryId: number;
  readonly receiptNo: string;
  readonly allocations: PostedPayment['allocations'];
  readonly prepaidFen: Fen;
  /** The payment's journal postings (written through the journal writer). */
  readonly postings: readonly JournalPosting[];
  readonly allocationRows: readonly {
    allocation_id: number;
    bill_id: number | null;
    kind: string;
    amount_fen: number;
  }[];
  readonly audit: Record<string, unknown>;
  /** The payment notice queued for the customer (notification id = payment id). */
  readonly notice: Record<string, unknown>;
}

/**
 * The one allocation and journal rule of every posting path (single or bulk): late fees and bills
 * in the policy's order, the rest prepaid, one balanced entry from the payment's source.
 */
export function planPayment(
  input: PostPaymentInput,
  context: {
    readonly paymentId: number;
    readonly customerId: number;
    readonly category: string;
    readonly state: CustomerState;
    readonly inputHash: string;
  },
): PaymentPlan {
  const feeFen = input.source.kind === 'channel' ? (input.source.feeFen ?? 0) : 0;
  const bills = openBillsOf(context.state, context.category, input.businessDate);
  const { allocations, prepaidFen } = allocatePayment(openItemsOf(bills), input.amountFen);
  // A payment cannot settle a bill before the bill existed (a backdated paidAt would also compute
  // the late fee from a day the bill was not yet owed).
  const releasedOn = new Map(context.state.bills.map((bill) => [Number(bill.bill_id), bill.released_on]));
  for (const allocation of allocations) {
    const released = releasedOn.get(allocation.billId);
    if (released !== undefined && input.businessDate < released)
      throw new AppError(
        'paid_at_out_of_window',
        `paidAt: business day ${input.businessDate} is before bill ${
          bills.find((bill) => bill.billId === allocation.billId)?.billNo
        } was released on ${released}`,
      );
  }
  const principalFen = allocations
    .filter((a) => a.kind === 'principal')
    .reduce((sum, a) => sum + a.amountFen, 0);
  const lateFeeFen = allocations
    .filter((a) => a.kind === 'late_fee')
    .reduce((sum, a) => sum + a.amountFen, 0);
  const postings: Posting[] = [
    { account: SOURCE_ACCOUNT[input.source.kind], amountFen: fen(input.amountFen - feeFen) },
  ];
  if (feeFen > 0) postings.push({ account: 'channel_fee_expense', amountFen: fen(feeFen) });
  if (principalFen > 0) postings.push({ account: 'customer_receivable', amountFen: fen(-principalFen) });
  if (lateFeeFen > 0) postings.push({ account: 'late_fee_revenue', amountFen: fen(-lateFeeFen) });
  if (prepaidFen > 0) postings.push({ account: 'customer_prepaid', amountFen: fen(-prepaidFen) });
  assertBalanced(postings);
  const key = sourceKey(input.source);
  const billOf = new Map(bills.map((bill) => [bill.billId, bill]));
  const receiptNo = `R${input.businessDate.replaceAll('-', '')}${String(context.paymentId).padStart(9, '0')}`;
  return {
    entryId: paymentEntryId(context.paymentId),
    receiptNo,
    allocations: allocations.map((allocation) => ({
      ...allocation,
      period: billOf.get(allocation.billId)!.period,
      billNo: billOf.get(allocation.billId)!.billNo,
    })),
    prepaidFen,
    postings: postings.map((posting) => ({
      ...posting,
      subKey:
        posting.account === SOURCE_ACCOUNT[input.source.kind] || posting.account === 'channel_fee_expense'
          ? key
          : '',
    })),
    allocationRows: [
      ...allocations.map((allocation) => ({
        bill_id: allocation.billId as number | null,
        kind: allocation.kind as string,
        amount_fen: allocation.amountFen as number,
      })),
      ...(prepaidFen > 0 ? [{ bill_id: null, kind: 'prepaid', amount_fen: prepaidFen as number }] : []),
    ].map((row, k) => ({ ...row, allocation_id: paymentAllocationId(context.paymentId, k + 1) })),
    audit: { amountFen: input.amountFen, source: input.source, principalFen, lateFeeFen, prepaidFen },
    notice: {
      receiptNo,
      amountFen: input.amountFen,
      businessDate: input.businessDate,
      channel: input.source.kind === 'channel' ? input.source.channelCode : input.source.kind,
      bills: allocations.filter((a) => a.kind === 'principal').map((a) => billOf.get(a.billId)!.billNo),
      lateFeeFen,
      prepaidFen,
    },
  };
}

/** The columns a payment writes, per table, with their types (in COPY order). */
const PAYMENT_TABLES = {
  ...JOURNAL_TABLES,
  payment: {
    customer_id: 'bigint',
    payment_id: 'bigint',
    idempotency_key: 'text',
    input_hash: 'text',
    channel_code: 'text',
    channel_txn_id: 'text',
    amount_fen: 'bigint',
    paid_at: 'timestamptz',
    business_date: 'date',
    operator_staff_id: 'bigint',
    receipt_no: 'text',
    journal_entry_id: 'bigint',
  },
  allocation: {
    customer_id: 'bigint',
    allocation_id: 'bigint',
    payment_id: 'bigint',
    bill_id: 'bigint',
    kind: 'text',
    amount_fen: 'bigint',
    journal_entry_id: 'bigint',
  },
  notification_outbox: {
    customer_id: 'bigint',
    notification_id: 'bigint',
    kind: 'text',
    object_id: 'text',
    payload: 'jsonb',
  },
  audit_log: {
    actor_kind: 'text',
    actor_id: 'text',
    action: 'text',
    object_type: 'text',
    object_id: 'text',
    customer_id: 'bigint',
    org_unit_id: 'bigint',
    details: 'jsonb',
    channel: 'text',
    os_user: 'text',
  },
} as const;
type PaymentTable = keyof typeof PAYMENT_TABLES;
const TABLE_NAMES = Object.keys(PAYMENT_TABLES) as PaymentTable[];

/** The rows some payments write, per table: column → value, JSON columns as objects. */
export type PaymentRows = Record<PaymentTable, Record<string, unknown>[]>;

export function emptyPaymentRows(): PaymentRows {
  return {
    journal_entry: [],
    posting: [],
    payment: [],
    allocation: [],
    notification_outbox: [],
    audit_log: [],
  };
}

/** Adds the rows of one planned payment: its entry and postings, the payment, allocations, notice and audit. */
export function addPaymentRows(
  rows: PaymentRows,
  principal: Principal,
  payment: {
    readonly input: PostPaymentInput;
    readonly customerId: number;
    readonly paymentId: number;
    readonly inputHash: string;
  },
  plan: PaymentPlan,
): void {
  const { input, customerId, paymentId } = payment;
  const source = input.source;
  addJournalRows(rows, {
    customerId,
    journalEntryId: plan.entryId,
    kind: 'payment',
    effectiveOn: input.businessDate,
    idempotencyKey: `payment:${input.idempotencyKey}`,
    sourceType: source.kind,
    sourceId: sourceKey(source),
    memo: plan.receiptNo,
    createdBy: principal.staffId,
    postings: plan.postings,
  });
  rows.payment.push({
    customer_id: customerId,
    payment_id: paymentId,
    idempotency_key: input.idempotencyKey,
    input_hash: payment.inputHash,
    channel_code: source.kind === 'channel' ? source.channelCode : source.kind,
    channel_txn_id: source.kind === 'channel' ? source.txnId : null,
    amount_fen: input.amountFen,
    paid_at: input.paidAt.toISOString(),
    business_date: input.businessDate,
    operator_staff_id: principal.staffId,
    receipt_no: plan.receiptNo,
    journal_entry_id: plan.entryId,
  });
  for (const row of plan.allocationRows)
    rows.allocation.push({
      customer_id: customerId,
      payment_id: paymentId,
      journal_entry_id: plan.entryId,
      ...row,
    });
  rows.notification_outbox.push({
    customer_id: customerId,
    notification_id: paymentId,
    kind: 'payment_receipt',
    object_id: plan.receiptNo,
    payload: plan.notice,
  });
  rows.audit_log.push({
    ...auditActorColumns(principal),
    action: 'payment.post',
    object_type: 'payment',
    object_id: plan.receiptNo,
    customer_id: customerId,
    details: plan.audit,
  });
}

/** Above this many rows, payments are written by COPY (a bank file's chunk) rather than one statement. */
const WRITE_STATEMENT_MAX_ROWS = 1000;

/**
 * One statement for every table, each fed one JSON array: a single payment or a batch of
 * concurrent ones costs one round trip and one prepared statement whatever its size.
 */
const WRITE_PAYMENT_ROWS_SQL = (() => {
  const inserts = TABLE_NAMES.map((table, k) => {
    const typed = Object.entries(PAYMENT_TABLES[table]);
    const columns = typed.map(([column]) => column).join(', ');
    const definition = typed.map(([column, type]) => `${column} ${type}`).join(', ');
    return `insert into ${table} (${columns}) select ${columns} from json_to_recordset($${k + 1}::json) as x(${definition})`;
  });
  const last = inserts.pop()!;
  return `with ${inserts.map((insert, k) => `w${k} as (${insert})`).join(', ')} ${last}`;
})();

/** Writes payment rows: by one statement, or by COPY for many. */
export async function writePaymentRows(trx: Kysely<DB>, rows: PaymentRows): Promise<void> {
  const total = TABLE_NAMES.reduce((sum, table) => sum + rows[table].length, 0);
  if (total <= WRITE_STATEMENT_MAX_ROWS) {
    await trx.executeQuery(
      CompiledQuery.raw(
        WRITE_PAYMENT_ROWS_SQL,
        TABLE_NAMES.map((table) => JSON.stringify(rows[table])),
      ),
    );
    return;
  }
  for (const table of TABLE_NAMES) {
    const columns = Object.keys(PAYMENT_TABLES[table]);
    await copyRows(
      trx,
      table,
      columns,
      rows[table].map((row) =>
        columns.map((column) => {
          const value = row[column];
          return value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
        }),
      ),
    );
  }
}

/**
 * The state of one customer (see loadCustomerStates); with a channel day, the day's lock is taken
 * shared and its acceptance read in the same statement.
 */
async function loadCustomerState(
  trx: Kysely<DB>,
  customerId: number,
  channelDay?: { readonly channelCode: string; readonly businessDate: string },
): Promise<CustomerState> {
  const dayClosed = channelDay
    ? channelDayClosedSql(channelDay.channelCode, channelDay.businessDate, 'shared')
    : sql<boolean>`false`;
  const states = await loadCustomerStates(trx, [customerId], dayClosed);
  return states.get(customerId)!;
}

/** The lock of a channel's business day (two-key advisory lock: its own key space). */
function lockChannelDaySql(channelCode: string, businessDate: string, mode: 'shared' | 'exclusive') {
  const key = `${channelCode}:${businessDate}`;
  return mode === 'shared'
    ? sql`pg_advisory_xact_lock_shared(hashtext('channel-day'), hashtext(${key}))`
    : sql`pg_advisory_xact_lock(hashtext('channel-day'), hashtext(${key}))`;
}

/**
 * Takes a channel day's lock, then tells whether the day's reconciliation is accepted. The CASE
 * makes the lock come first and always (an AND could skip it when the day is still open).
 */
export function channelDayClosedSql(channelCode: string, businessDate: string, mode: 'shared' | 'exclusive') {
  return sql<boolean>`(case when ${lockChannelDaySql(channelCode, businessDate, mode)} is null then null
    else exists (select 1 from channel_day_accepted
                 where channel_code = ${channelCode} and business_date = ${businessDate}::date) end)`;
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
    join payment y on y.customer_id = a.customer_id and y.payment_id = a.payment_id
    where a.customer_id = ${customerId} and a.payment_id = ${paymentId} and a.journal_entry_id = y.journal_entry_id
    order by a.allocation_id`.execute(trx);
  return {
    paymentId: payment.payment_id,
    customerId,
    prepaidBalanceFen: await prepaidBalance(trx, customerId),
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
