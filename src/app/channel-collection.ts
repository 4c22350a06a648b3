import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import { channelFee } from '../domain/channel/channel-fee.js';
import { owedFen } from '../domain/ledger/customer-state.js';
import { type LocalDate, addDays } from '../domain/local-date.js';
import { type Fen, fen, formatYuan } from '../domain/money.js';
import type { ChannelRecord, RequestNonce } from './channel-directory.js';
import { customerInScope } from './customer-in-scope.js';
import { AppError } from './errors.js';
import type { Clock } from './ports.js';
import {
  type PostPaymentInput,
  type PostedPayment,
  channelDayClosedSql,
  postPayment,
} from './post-payment.js';
import { openBills, prepaidBalance } from './ledger/customer-state.js';
import { type Principal, requirePermission } from './principal.js';
import { reversePayment } from './reverse-payment.js';

/** The idempotency key of a channel transaction: unique per (channel, txnId). */
export function channelPaymentKey(channelCode: string, txnId: string): string {
  return `channel:${channelCode}:${txnId}`;
}

/** "张三丰" → "张*": the first character, then one star (docs/channel-api.md §1). */
export function maskName(name: string): string {
  const first = Array.from(name)[0] ?? '';
  return `${first}*`;
}

/**
 * Serialises a channel's business day: payments and reversals of the day take the lock shared,
 * the day's reconciliation takes it exclusive, so a day is never accepted while a payment on it
 * is being posted. Returns whether the day's reconciliation has been accepted.
 */
export async function lockChannelDay(
  trx: Kysely<DB>,
  channelCode: string,
  businessDate: string,
  mode: 'shared' | 'exclusive',
): Promise<boolean> {
  const result = await sql<{ accepted: boolean }>`
    select ${channelDayClosedSql(channelCode, businessDate, mode)} as accepted`.execute(trx);
  return Boolean(result.rows[0]?.accepted);
}

export interface CustomerDue {
  readonly customerNo: string;
  readonly name: string;
  readonly bills: readonly {
    readonly billId: string;
    readonly period: string;
    readonly amount: string;
    readonly paid: string;
    readonly lateFee: string;
    readonly due: string;
  }[];
  readonly totalDue: string;
  readonly prepaidBalance: string;
}

/**
 * What a customer owes today (docs/channel-api.md §1): open released bills with the late fee as of
 * today, and the prepaid balance. Errors: forbidden, not_found.
 */
export async function queryCustomerDue(
  db: Kysely<DB>,
  principal: Principal,
  clock: Clock,
  customerNo: string,
): Promise<CustomerDue> {
  requirePermission(principal, 'customer.read');
  const found = await customerInScope(db, principal, customerNo);
  const [customer, bills, prepaid] = await Promise.all([
    db
      .selectFrom('customer')
      .select('name')
      .where('customer_id', '=', found.customerId)
      .executeTakeFirstOrThrow(),
    openBills(db, found.customerId, found.category, clock.today()),
    prepaidBalance(db, found.customerId),
  ]);
  const rows = bills.map((bill) => ({
    billId: bill.billNo,
    period: bill.period,
    amount: formatYuan(bill.amountFen),
    paid: formatYuan(bill.principalPaidFen),
    lateFee: formatYuan(bill.lateFeeFen),
    due: formatYuan(owedFen([bill])),
  }));
  return {
    customerNo: found.customerNo,
    name: maskName(customer.name),
    bills: rows,
    totalDue: formatYuan(owedFen(bills)),
    prepaidBalance: formatYuan(prepaid),
  };
}

export interface ChannelPaymentInput {
  readonly txnId: string;
  readonly customerNo: string;
  readonly amountFen: Fen;
  readonly paidAt: Date;
}

export interface ChannelPaymentResult {
  readonly txnId: string;
  readonly receiptNo: string;
  readonly status: 'posted' | 'reversed';
  readonly allocations: readonly { billId: string; principal: string; lateFee: string }[];
  readonly prepaidBalance: string;
  readonly businessDate: string;
  readonly replayed: boolean;
}

/**
 * A channel's bounds on one payment: its business day lies within the channel's open days (today
 * and the days before it, `paidAtWindowDays` in all, in the utility's zone: the clock's business
 * day) and its amount at most the channel's maximum. The bill-release bound is the posting rule's
 * (planPayment).
 */
function outOfBounds(
  channel: Pick<ChannelRecord, 'code' | 'paidAtWindowDays' | 'maxPaymentFen'>,
  clock: Clock,
  businessDate: LocalDate,
  amountFen: Fen,
): AppError | null {
  const firstOpen = addDays(clock.today(), -(channel.paidAtWindowDays - 1));
  if (businessDate < firstOpen)
    return new AppError(
      'paid_at_out_of_window',
      `paidAt: business day ${businessDate} is before ${firstOpen}, the first of the ${channel.paidAtWindowDays} business days open to channel ${channel.code}`,
    );
  if (amountFen > channel.maxPaymentFen)
    return new AppError(
      'amount_above_limit',
      `amount: ${formatYuan(amountFen)} is above channel ${channel.code}'s maximum of ${formatYuan(channel.maxPaymentFen)} per payment`,
    );
  return null;
}

async function paymentKeyTaken(db: Kysely<DB>, idempotencyKey: string): Promise<boolean> {
  const row = await db
    .selectFrom('payment_key')
    .select('idempotency_key')
    .where('idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
  return row !== undefined;
}

/** How far a channel's paidAt may lie ahead of server time (clock skew). */
const PAID_AT_SKEW_MS = 300_000;

/**
 * A channel payment (docs/channel-api.md §2), exactly once per (channel, txnId): through the one
 * posting path, on the business day of paidAt in the utility's zone, with the channel's fee
 * booked as channel fee expense. A day whose reconciliation is accepted takes no more payments.
 * Errors: forbidden, not_found, validation_failed, payment_key_conflict, business_day_closed,
 * paid_at_out_of_window, amount_above_limit.
 */
export async function postChannelPayment(
  db: Kysely<DB>,
  principal: Principal,
  channel: ChannelRecord,
  clock: Clock,
  input: ChannelPaymentInput,
  requestNonce?: RequestNonce,
  /** How the payment is posted: postPayment, or a PaymentBatcher sharing commits between requests. */
  poster: (
    principal: Principal,
    input: PostPaymentInput,
    options: Parameters<typeof postPayment>[3],
  ) => Promise<PostedPayment> = (who, what, options) => postPayment(db, who, what, options),
): Promise<ChannelPaymentResult> {
  if (input.paidAt.getTime() > clock.now().getTime() + PAID_AT_SKEW_MS)
    throw new AppError('validation_failed', 'paidAt: lies in the future');
  const businessDate = clock.dateOf(input.paidAt);
  const refused = outOfBounds(channel, clock, businessDate, input.amountFen);
  // A retry of a payment posted while it was in bounds still gets its receipt (exactly once).
  if (refused && !(await paymentKeyTaken(db, channelPaymentKey(channel.code, input.txnId)))) throw refused;
  const posted = await poster(
    principal,
    {
      idempotencyKey: channelPaymentKey(channel.code, input.txnId),
      customerNo: input.customerNo,
      amountFen: input.amountFen,
      paidAt: input.paidAt,
      businessDate,
      source: {
        kind: 'channel',
        channelCode: channel.code,
        txnId: input.txnId,
        feeFen: channelFee(channel.fee, input.amountFen),
      },
    },
    { channelDay: { channelCode: channel.code, businessDate }, ...(requestNonce ? { requestNonce } : {}) },
  );
  const reversed = posted.replayed
    ? await db
        .selectFrom('payment_reversal')
        .select('payment_id')
        .where('customer_id', '=', posted.customerId)
        .where('payment_id', '=', posted.paymentId)
        .executeTakeFirst()
    : undefined;
  // A retry answers with the day the payment was booked on, whatever paidAt the retry carries
  // (the day is what the channel reconciles it under).
  const bookedOn = posted.replayed
    ? (
        await db
          .selectFrom('payment')
          .select('business_date')
          .where('customer_id', '=', posted.customerId)
          .where('payment_id', '=', posted.paymentId)
          .executeTakeFirstOrThrow()
      ).business_date
    : businessDate;
  const perBill = new Map<string, { principal: number; lateFee: number }>();
  for (const allocation of posted.allocations) {
    const entry = perBill.get(allocation.billNo) ?? { principal: 0, lateFee: 0 };
    if (allocation.kind === 'principal') entry.principal += allocation.amountFen;
    else entry.lateFee += allocation.amountFen;
    perBill.set(allocation.billNo, entry);
  }
  return {
    txnId: input.txnId,
    receiptNo: posted.receiptNo,
    status: reversed ? 'reversed' : 'posted',
    allocations: [...perBill].map(([billId, amounts]) => ({
      billId,
      principal: formatYuan(fen(amounts.principal)),
      lateFee: formatYuan(fen(amounts.lateFee)),
    })),
    prepaidBalance: formatYuan(posted.prepaidBalanceFen),
    businessDate: bookedOn as LocalDate,
    replayed: posted.replayed,
  };
}

/**
 * Reverses (冲正) a channel payment by new entries booked on the payment's business day
 * (docs/channel-api.md §3). Idempotent: a reversed payment answers "reversed" again. Refused once the
 * day's reconciliation has been accepted. Errors: not_found, reversal_closed.
 */
export async function reverseChannelPayment(
  db: Kysely<DB>,
  principal: Principal,
  channel: ChannelRecord,
  input: { readonly txnId: string; readonly reason: string },
): Promise<{ txnId: string; status: 'reversed'; receiptNo: string; replayed: boolean }> {
  try {
    const reversed = await reversePayment(db, principal, {
      idempotencyKey: channelPaymentKey(channel.code, input.txnId),
      reason: input.reason,
      businessDate: 'payment_day',
      guard: async (trx, payment) => {
        if (await lockChannelDay(trx, channel.code, payment.businessDate, 'shared'))
          throw new AppError(
            'reversal_closed',
            `the reconciliation of ${payment.businessDate} is accepted; ask for a refund instead`,
          );
      },
    });
    return { txnId: input.txnId, status: 'reversed', receiptNo: reversed.receiptNo, replayed: false };
  } catch (error) {
    if (error instanceof AppError && error.code === 'payment_already_reversed') {
      const payment = await db
        .selectFrom('payment_key')
        .innerJoin('payment', (join) =>
          join
            .onRef('payment.customer_id', '=', 'payment_key.customer_id')
            .onRef('payment.payment_id', '=', 'payment_key.payment_id'),
        )
        .select('payment.receipt_no')
        .where('payment_key.idempotency_key', '=', channelPaymentKey(channel.code, input.txnId))
        .executeTakeFirstOrThrow();
      return { txnId: input.txnId, status: 'reversed', receiptNo: payment.receipt_no, replayed: true };
    }
    if (error instanceof AppError && error.code === 'not_found')
      throw new AppError('not_found', `no transaction ${input.txnId} of channel ${channel.code}`);
    throw error;
  }
}
