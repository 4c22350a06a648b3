import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import { owedFen } from '../domain/ledger/customer-state.js';
import type { LocalDate } from '../domain/local-date.js';
import { type Fen, fen } from '../domain/money.js';
import { customerInScope } from './customer-in-scope.js';
import { AppError } from './errors.js';
import { inTransaction } from './in-transaction.js';
import { heldBalance, openBills } from './ledger/customer-state.js';
import { nextEntryIds } from './ledger/ids.js';
import { writeEntry } from './ledger-requests.js';
import { type PostedPayment, postPayment } from './post-payment.js';
import { type Principal, requirePermission } from './principal.js';
import { recordAudit } from './record-audit.js';

export interface DepositReceived {
  readonly receiptNo: string;
  readonly customerNo: string;
  readonly amountFen: Fen;
  readonly depositBalanceFen: Fen;
  readonly replayed: boolean;
}

/**
 * Receives a deposit (押金) from a temporary or high-risk customer: cash into the cashier's drawer
 * or a bank transfer, held as a liability until applied to arrears or returned (a refund from the
 * deposit). The receipt number is the idempotency key: the same receipt again returns the first
 * result, another amount under it is refused.
 * Errors: forbidden, not_found, validation_failed, payment_key_conflict.
 */
export async function receiveDeposit(
  db: Kysely<DB>,
  principal: Principal,
  input: {
    readonly customerNo: string;
    readonly receiptKey: string;
    readonly amountFen: Fen;
    readonly method: 'cash' | 'bank_transfer';
    readonly bankAccount?: string;
    readonly receivedOn: LocalDate;
  },
): Promise<DepositReceived> {
  requirePermission(principal, 'payment.post');
  if (!Number.isSafeInteger(input.amountFen) || input.amountFen <= 0)
    throw new AppError('validation_failed', 'amount: must be more than 0.00');
  if (input.method === 'bank_transfer' && !input.bankAccount)
    throw new AppError('validation_failed', 'bankAccount: required for a bank transfer');
  if (input.method === 'cash' && principal.staffId === null)
    throw new AppError('validation_failed', 'method: cash is taken by a logged-in cashier');
  return inTransaction(db, async (trx) => {
    const customer = await customerInScope(trx, principal, input.customerNo);
    await sql`select pg_advisory_xact_lock(${customer.customerId}::bigint)`.execute(trx);
    const key = `deposit:${input.receiptKey}`;
    const existing = await trx
      .selectFrom('customer_deposit_receipt')
      .selectAll()
      .where('customer_id', '=', customer.customerId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    if (existing) {
      if (existing.amount_fen !== input.amountFen || existing.method !== input.method)
        throw new AppError('payment_key_conflict', `${input.receiptKey} was used for another deposit`);
      return {
        receiptNo: existing.receipt_no,
        customerNo: customer.customerNo,
        amountFen: fen(existing.amount_fen),
        depositBalanceFen: await heldBalance(trx, customer.customerId, 'deposit'),
        replayed: true,
      };
    }
    const [entryId] = (await nextEntryIds(trx, 1)) as [number];
    const receiptNo = `D${input.receivedOn.replaceAll('-', '')}${String(entryId).slice(-9)}`;
    await writeEntry(
      trx,
      customer.customerId,
      entryId,
      'deposit_received',
      input.receivedOn,
      key,
      principal,
      [
        input.method === 'cash'
          ? { account: 'counter_cash', amountFen: input.amountFen, subKey: String(principal.staffId) }
          : { account: 'bank', amountFen: input.amountFen, subKey: input.bankAccount! },
        { account: 'customer_deposit', amountFen: fen(-input.amountFen), subKey: '' },
      ],
    );
    await trx
      .insertInto('customer_deposit_receipt')
      .values({
        customer_id: customer.customerId,
        deposit_receipt_id: entryId,
        idempotency_key: key,
        amount_fen: input.amountFen,
        method: input.method,
        received_on: input.receivedOn,
        received_by: principal.staffId,
        receipt_no: receiptNo,
        journal_entry_id: entryId,
      })
      .execute();
    await recordAudit(trx, principal, {
      action: 'deposit.receive',
      objectType: 'customer_deposit',
      objectId: receiptNo,
      customerId: customer.customerId,
      details: { amountFen: input.amountFen, method: input.method, bankAccount: input.bankAccount ?? null },
    });
    return {
      receiptNo,
      customerNo: customer.customerNo,
      amountFen: input.amountFen,
      depositBalanceFen: await heldBalance(trx, customer.customerId, 'deposit'),
      replayed: false,
    };
  });
}

/**
 * Applies a customer's deposit to what is due (e.g. when a temporary connection ends): through
 * the one posting path, with the deposit as the payment's source. Without an amount it applies
 * as much as is due and held. Errors: as postPayment, and insufficient_balance, nothing_to_settle.
 */
export async function applyDeposit(
  db: Kysely<DB>,
  principal: Principal,
  input: {
    readonly customerNo: string;
    readonly key: string;
    readonly amountFen?: Fen;
    readonly businessDate: LocalDate;
  },
): Promise<PostedPayment> {
  requirePermission(principal, 'payment.post');
  return inTransaction(db, async (trx) => {
    const customer = await customerInScope(trx, principal, input.customerNo);
    await sql`select pg_advisory_xact_lock(${customer.customerId}::bigint)`.execute(trx);
    const prior = await trx
      .selectFrom('payment_key')
      .innerJoin('payment', (join) =>
        join
          .onRef('payment.customer_id', '=', 'payment_key.customer_id')
          .onRef('payment.payment_id', '=', 'payment_key.payment_id'),
      )
      .select('payment.amount_fen')
      .where('payment_key.idempotency_key', '=', `deposit-applied:${input.key}`)
      .executeTakeFirst();
    const held = await heldBalance(trx, customer.customerId, 'deposit');
    // A repeated call returns the first result (postPayment replays the key).
    let amount = prior ? fen(prior.amount_fen) : input.amountFen;
    if (amount === undefined) {
      const due = owedFen(await openBills(trx, customer.customerId, customer.category, input.businessDate));
      amount = fen(Math.min(due, held));
      if (amount <= 0) throw new AppError('nothing_to_settle', 'nothing is due, or no deposit is held');
    }
    if (!prior && amount > held) throw new AppError('insufficient_balance', `deposit held is ${held} fen`);
    return postPayment(trx, principal, {
      idempotencyKey: `deposit-applied:${input.key}`,
      customerNo: input.customerNo,
      amountFen: amount,
      paidAt: new Date(),
      businessDate: input.businessDate,
      source: { kind: 'deposit' },
    });
  });
}
