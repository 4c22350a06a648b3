import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import { allocatePayment } from '../domain/ledger/allocate-payment.js';
import type { Posting } from '../domain/ledger/accounts.js';
import { openBillsOf, openItemsOf } from '../domain/ledger/customer-state.js';
import type { LocalDate } from '../domain/local-date.js';
import { fen } from '../domain/money.js';
import { loadCustomerStates, prepaidHolders } from './ledger/customer-state.js';
import { nextAllocationIds, nextEntryIds } from './ledger/ids.js';
import { writeJournalEntries } from './ledger/journal-writer.js';

/**
 * Each payment's prepaid money still unused, per customer, oldest payment first: where prepaid
 * money is taken from when it is applied or refunded.
 */
export async function prepaidSources(
  trx: Kysely<DB>,
  customerIds: readonly number[],
): Promise<Map<number, { paymentId: number; left: number }[]>> {
  const rows = await sql<{ customer_id: number; payment_id: number; left_fen: number }>`
    select customer_id, payment_id, sum(amount_fen)::bigint as left_fen from allocation
    where customer_id = any(${customerIds}::bigint[]) and kind = 'prepaid'
    group by customer_id, payment_id having sum(amount_fen) > 0
    order by customer_id, payment_id`.execute(trx);
  const sourcesOf = new Map<number, { paymentId: number; left: number }[]>();
  for (const row of rows.rows) {
    const list = sourcesOf.get(Number(row.customer_id)) ?? [];
    list.push({ paymentId: Number(row.payment_id), left: Number(row.left_fen) });
    sourcesOf.set(Number(row.customer_id), list);
  }
  return sourcesOf;
}

export interface PrepaidApplied {
  readonly customers: number;
  readonly amountFen: number;
}

/**
 * Applies customers' prepaid balances (预收) to what they owe, as on a release day: late fees and
 * bills in the posting rule's order, one balanced entry per customer (prepaid debited, receivable
 * and late-fee revenue credited). The prepaid money is taken from the customer's payments oldest
 * first, so each allocation still belongs to the payment that brought the money (a reversal of
 * that payment reopens the bill). Runs in the caller's transaction; customers are locked in id
 * order like the bulk posting path.
 */
export async function applyPrepaidBalances(
  trx: Kysely<DB>,
  customerIds: readonly number[],
  appliedOn: LocalDate,
  staffId: number | null,
): Promise<PrepaidApplied> {
  if (customerIds.length === 0) return { customers: 0, amountFen: 0 };
  const holders = await prepaidHolders(trx, customerIds);
  if (holders.length === 0) return { customers: 0, amountFen: 0 };
  const ids = holders.map((row) => Number(row.customer_id));
  await sql`select pg_advisory_xact_lock(id) from unnest(${ids}::bigint[]) as t(id) order by id`.execute(trx);
  const states = await loadCustomerStates(trx, ids);
  const sourcesOf = await prepaidSources(trx, ids);

  const plans: {
    customerId: number;
    postings: Posting[];
    rows: {
      payment_id: number;
      bill_id: number | null;
      kind: 'principal' | 'late_fee' | 'prepaid';
      amount_fen: number;
    }[];
    total: number;
  }[] = [];
  for (const holder of holders) {
    const customerId = Number(holder.customer_id);
    const state = states.get(customerId)!;
    const bills = openBillsOf(state, holder.category, appliedOn);
    const items = openItemsOf(bills);
    if (items.length === 0 || state.prepaidFen <= 0) continue;
    const { allocations, prepaidFen: left } = allocatePayment(items, state.prepaidFen);
    const total = state.prepaidFen - left;
    if (total === 0) continue;
    const rows: (typeof plans)[number]['rows'] = [];
    const payments = sourcesOf.get(customerId) ?? [];
    for (const allocation of allocations) {
      let need: number = allocation.amountFen;
      for (const source of payments) {
        if (need === 0) break;
        const take = Math.min(need, source.left);
        if (take === 0) continue;
        source.left -= take;
        need -= take;
        rows.push({ payment_id: source.paymentId, bill_id: null, kind: 'prepaid', amount_fen: -take });
        rows.push({
          payment_id: source.paymentId,
          bill_id: allocation.billId,
          kind: allocation.kind,
          amount_fen: take,
        });
      }
      // The prepaid account and the payments' prepaid allocations agree (ledger verify checks it).
      if (need !== 0) throw new Error(`customer ${customerId}: prepaid allocations short of the balance`);
    }
    const principal = allocations
      .filter((a) => a.kind === 'principal')
      .reduce((sum, a) => sum + a.amountFen, 0);
    const lateFee = allocations.filter((a) => a.kind === 'late_fee').reduce((sum, a) => sum + a.amountFen, 0);
    const postings: Posting[] = [{ account: 'customer_prepaid', amountFen: fen(total) }];
    if (principal > 0) postings.push({ account: 'customer_receivable', amountFen: fen(-principal) });
    if (lateFee > 0) postings.push({ account: 'late_fee_revenue', amountFen: fen(-lateFee) });
    plans.push({ customerId, postings, rows, total });
  }
  if (plans.length === 0) return { customers: 0, amountFen: 0 };
  const entryIds = await nextEntryIds(trx, plans.length);
  const allocationIds = await nextAllocationIds(
    trx,
    plans.reduce((sum, plan) => sum + plan.rows.length, 0),
  );
  let next = 0;
  await writeJournalEntries(
    trx,
    plans.map((plan, k) => ({
      customerId: plan.customerId,
      journalEntryId: entryIds[k]!,
      kind: 'prepaid_applied',
      effectiveOn: appliedOn,
      idempotencyKey: `prepaid-applied:${entryIds[k]}`,
      sourceType: 'prepaid',
      sourceId: appliedOn,
      createdBy: staffId,
      postings: plan.postings,
    })),
  );
  await trx
    .insertInto('allocation')
    .values(
      plans.flatMap((plan, k) =>
        plan.rows.map((row) => ({
          customer_id: plan.customerId,
          allocation_id: allocationIds[next++]!,
          payment_id: row.payment_id,
          bill_id: row.bill_id,
          kind: row.kind,
          amount_fen: row.amount_fen,
          journal_entry_id: entryIds[k]!,
          applied_on: appliedOn,
        })),
      ),
    )
    .execute();
  return { customers: plans.length, amountFen: plans.reduce((sum, plan) => sum + plan.total, 0) };
}
