import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/schema.js';

/**
 * Journal entry ids: every writer's range, in this one place. Ids are int8 chosen by the writer
 * (adr/0002), in disjoint ranges per kind so an entry's id alone tells where it came from:
 * bill releases use the bill id (< 1e9, see domain/ledger/bill-release-entry.ts), rebill reversals 1e9 + bill id, payments 2e9 + payment
 * id, payment reversals 3e9 + payment id, cash deposits 5e9 + a sequence, the receivables actions
 * (prepaid applied, waivers, write-offs, refunds, deposits, rebill differences) 8e9 + a sequence.
 */
const RANGE = 1_000_000_000;
const REBILL_REVERSAL_ENTRY_OFFSET = 1_000_000_000;
export const PAYMENT_ENTRY_OFFSET = 2_000_000_000;
const PAYMENT_REVERSAL_ENTRY_OFFSET = 3_000_000_000;
const CASH_DEPOSIT_ENTRY_OFFSET = 5_000_000_000;
const LEDGER_ACTION_ENTRY_OFFSET = 8_000_000_000;

/** Allocation ids not derived from a payment id (payment ids × 100 stay far below this). */
const ALLOCATION_ACTION_OFFSET = 100_000_000_000_000;

export function rebillReversalEntryId(billId: number): number {
  return REBILL_REVERSAL_ENTRY_OFFSET + billId;
}

export function paymentEntryId(paymentId: number): number {
  return PAYMENT_ENTRY_OFFSET + paymentId;
}

export function paymentReversalEntryId(paymentId: number): number {
  return PAYMENT_REVERSAL_ENTRY_OFFSET + paymentId;
}

/** The allocations of a payment: payment id × 100 + line (1-based). */
export function paymentAllocationId(paymentId: number, line: number): number {
  return paymentId * 100 + line;
}

/** Whether an entry id is a payment's entry (cash on hand reads only those). */
export const PAYMENT_ENTRY_RANGE = { from: PAYMENT_ENTRY_OFFSET, to: PAYMENT_ENTRY_OFFSET + RANGE } as const;

async function fromSequence(
  db: Kysely<DB>,
  sequence: 'ledger_action_entry_seq' | 'allocation_action_seq' | 'cash_deposit_entry_seq',
  offset: number,
  count: number,
): Promise<number[]> {
  if (count === 0) return [];
  const rows = await sql<{ id: number }>`
    select nextval(${sql.lit(sequence)}) as id from generate_series(1, ${count})`.execute(db);
  return rows.rows.map((row) => offset + Number(row.id));
}

/** Entry ids of the receivables actions (prepaid applied, waivers, write-offs, refunds, deposits). */
export function nextEntryIds(db: Kysely<DB>, count: number): Promise<number[]> {
  return fromSequence(db, 'ledger_action_entry_seq', LEDGER_ACTION_ENTRY_OFFSET, count);
}

export function nextCashDepositEntryIds(db: Kysely<DB>, count: number): Promise<number[]> {
  return fromSequence(db, 'cash_deposit_entry_seq', CASH_DEPOSIT_ENTRY_OFFSET, count);
}

export function nextAllocationIds(db: Kysely<DB>, count: number): Promise<number[]> {
  return fromSequence(db, 'allocation_action_seq', ALLOCATION_ACTION_OFFSET, count);
}
