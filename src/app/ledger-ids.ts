import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';

/**
 * Journal entry ids are chosen by their writer in disjoint ranges: bill releases use the bill id,
 * rebill reversals 1e9+, payments 2e9+, payment reversals 3e9+, cash deposits 5e9+;
 * the receivables actions (prepaid applied, waivers, write-offs, refunds, deposits) use this one.
 */
export const LEDGER_ACTION_ENTRY_OFFSET = 8_000_000_000;

/** Allocation ids not derived from a payment id (payment ids × 100 stay far below this). */
export const ALLOCATION_ACTION_OFFSET = 100_000_000_000_000;

export async function nextEntryIds(db: Kysely<DB>, count: number): Promise<number[]> {
  if (count === 0) return [];
  const rows = await sql<{ id: number }>`
    select nextval('ledger_action_entry_seq') as id from generate_series(1, ${count})`.execute(db);
  return rows.rows.map((row) => LEDGER_ACTION_ENTRY_OFFSET + Number(row.id));
}

export async function nextAllocationIds(db: Kysely<DB>, count: number): Promise<number[]> {
  if (count === 0) return [];
  const rows = await sql<{ id: number }>`
    select nextval('allocation_action_seq') as id from generate_series(1, ${count})`.execute(db);
  return rows.rows.map((row) => ALLOCATION_ACTION_OFFSET + Number(row.id));
}
