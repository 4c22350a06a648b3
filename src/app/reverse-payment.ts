import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { LedgerAccountCode } from '../domain/ledger/accounts.js';
import type { LocalDate } from '../domain/local-date.js';
import { AppError } from './errors.js';
import { inTransaction } from './in-transaction.js';
import { type Principal, requirePermission } from './principal.js';
import { nextAllocationIds, paymentAllocationId, paymentReversalEntryId } from './ledger/ids.js';
import { writeJournalEntries } from './ledger/journal-writer.js';
import { recordAudit } from './record-audit.js';
import { isInScope } from './ledger/scope.js';

/**
 * Reverses (冲正) a payment by new entries: the journal entry is negated line by line, each
 * allocation gets a negative twin that references it, and the payment is marked reversed with
 * the reason. Nothing is deleted or edited; the bills are open again as before the payment.
 * Errors: forbidden, not_found, payment_already_reversed.
 */
export async function reversePayment(
  db: Kysely<DB>,
  principal: Principal,
  input: {
    readonly idempotencyKey: string;
    readonly reason: string;
    /** The reversal's day; 'payment_day' books it on the payment's own business day (channel 冲正). */
    readonly businessDate: LocalDate | 'payment_day';
    /** Checked inside the transaction with the payment locked; throws to refuse the reversal. */
    readonly guard?: (
      trx: Kysely<DB>,
      payment: { readonly businessDate: string; readonly channelCode: string },
    ) => Promise<void>;
  },
): Promise<{ receiptNo: string; reversedAt: Date; businessDate: string }> {
  requirePermission(principal, 'payment.reverse');
  if (input.reason.trim().length < 2)
    throw new AppError('validation_failed', 'reason: say why the payment is reversed');
  return inTransaction(db, async (trx) => {
    const key = await trx
      .selectFrom('payment_key')
      .selectAll()
      .where('idempotency_key', '=', input.idempotencyKey)
      .executeTakeFirst();
    if (!key) throw new AppError('not_found', `no payment ${input.idempotencyKey}`);
    const customerId = key.customer_id;
    const scope = await trx
      .selectFrom('customer')
      .innerJoin('org_unit', 'org_unit.org_unit_id', 'customer.station_id')
      .select('org_unit.path')
      .where('customer.customer_id', '=', customerId)
      .executeTakeFirstOrThrow();
    if (!isInScope(principal, scope.path))
      throw new AppError('not_found', `no payment ${input.idempotencyKey}`);
    // One change at a time per customer, as for posting.
    await sql`select pg_advisory_xact_lock(${customerId}::bigint)`.execute(trx);
    const payment = await trx
      .selectFrom('payment')
      .selectAll()
      .where('customer_id', '=', customerId)
      .where('payment_id', '=', key.payment_id)
      .executeTakeFirstOrThrow();
    const reversed = await trx
      .selectFrom('payment_reversal')
      .select('reversed_at')
      .where('customer_id', '=', customerId)
      .where('payment_id', '=', payment.payment_id)
      .executeTakeFirst();
    if (reversed)
      throw new AppError('payment_already_reversed', `${payment.receipt_no} was reversed already`);
    await input.guard?.(trx, { businessDate: payment.business_date, channelCode: payment.channel_code });
    const effectiveOn = input.businessDate === 'payment_day' ? payment.business_date : input.businessDate;

    // The money leaves its source again (source and fee lines of the payment's entry, negated);
    // what the payment settles now — its allocations, including prepaid applied to later bills —
    // is opened again. Refunded money has left the utility: such a payment is not reversed.
    const sourceLines = await trx
      .selectFrom('posting')
      .select(['ledger_account_code', 'sub_key', 'amount_fen'])
      .where('customer_id', '=', customerId)
      .where('journal_entry_id', '=', payment.journal_entry_id)
      .where('amount_fen', '>', 0)
      .orderBy('line_no')
      .execute();
    const allocations = await trx
      .selectFrom('allocation')
      .selectAll()
      .where('customer_id', '=', customerId)
      .where('payment_id', '=', payment.payment_id)
      .orderBy('allocation_id')
      .execute();
    const net = { principal: 0, late_fee: 0, prepaid: 0, refunded: 0 };
    for (const allocation of allocations) net[allocation.kind as keyof typeof net] += allocation.amount_fen;
    if (net.refunded > 0)
      throw new AppError(
        'payment_refunded',
        `${payment.receipt_no}: ${net.refunded} fen of it was refunded; it cannot be reversed`,
      );
    const postings = [
      ...sourceLines.map((line) => ({
        ledger_account_code: line.ledger_account_code,
        sub_key: line.sub_key,
        amount_fen: -line.amount_fen,
      })),
      ...(
        [
          ['customer_receivable', net.principal],
          ['late_fee_revenue', net.late_fee],
          ['customer_prepaid', net.prepaid],
        ] as const
      )
        .filter(([, amount]) => amount !== 0)
        .map(([account, amount]) => ({ ledger_account_code: account, sub_key: '', amount_fen: amount })),
    ];
    const entryId = paymentReversalEntryId(payment.payment_id);
    await writeJournalEntries(trx, [
      {
        customerId,
        journalEntryId: entryId,
        kind: 'payment_reversal',
        effectiveOn,
        reversesEntryId: payment.journal_entry_id,
        idempotencyKey: `payment-reversal:${input.idempotencyKey}`,
        sourceType: 'payment',
        sourceId: String(payment.payment_id),
        memo: input.reason.trim(),
        createdBy: principal.staffId,
        postings: postings.map((posting) => ({
          account: posting.ledger_account_code as LedgerAccountCode,
          subKey: posting.sub_key,
          amountFen: posting.amount_fen,
        })),
      },
    ]);
    if (allocations.length > 0) {
      // Payment-derived ids while they fit (50 slots after the payment's own), then the sequence.
      const allocationIds =
        allocations.length <= 49
          ? allocations.map((_, k) => paymentAllocationId(payment.payment_id, 50 + k + 1))
          : await nextAllocationIds(trx, allocations.length);
      await trx
        .insertInto('allocation')
        .values(
          allocations.map((allocation, k) => ({
            customer_id: customerId,
            allocation_id: allocationIds[k]!,
            payment_id: payment.payment_id,
            bill_id: allocation.bill_id,
            kind: allocation.kind,
            amount_fen: -allocation.amount_fen,
            reverses_allocation_id: allocation.allocation_id,
            journal_entry_id: entryId,
          })),
        )
        .execute();
    }
    const reversedAt = new Date();
    await trx
      .insertInto('payment_reversal')
      .values({
        customer_id: customerId,
        payment_id: payment.payment_id,
        reason: input.reason.trim(),
        reversed_at: reversedAt,
        reversed_by: principal.staffId,
        journal_entry_id: entryId,
      })
      .execute();
    await recordAudit(trx, principal, {
      action: 'payment.reverse',
      objectType: 'payment',
      objectId: payment.receipt_no,
      customerId,
      details: { reason: input.reason.trim(), amountFen: payment.amount_fen },
    });
    return { receiptNo: payment.receipt_no, reversedAt, businessDate: effectiveOn };
  });
}
