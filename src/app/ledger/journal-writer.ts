import type { Kysely } from 'kysely';
import { copyRows } from '../../db/raw-commands.js';
import type { DB } from '../../db/schema.js';
import { type LedgerAccountCode, assertBalanced } from '../../domain/ledger/accounts.js';
import type { Fen } from '../../domain/money.js';

/**
 * The one journal writer: every journal entry and its postings reach the database through this
 * module (test/tidy.test.ts refuses an insert into journal_entry or posting anywhere else), and
 * each is checked to balance on the way. Three paths, one row shape:
 * - writeJournalEntries: a few entries by INSERT (the receivables actions, reversals, rebills);
 * - copyJournalEntries: many entries by COPY (bill releases, bulk jobs);
 * - addJournalRows: an entry's rows added to a caller's multi-table statement (the payment path
 *   writes payment, allocations, notice and audit with its entry in one round trip).
 */
export interface JournalPosting {
  readonly account: LedgerAccountCode;
  readonly amountFen: Fen | number;
  /** The sub-ledger key (a channel, a bank account, a staff member); '' when none. */
  readonly subKey?: string;
}

export interface JournalEntry {
  readonly customerId: number;
  /** From ids.ts (or the bill id for a bill release). */
  readonly journalEntryId: number;
  readonly kind: string;
  readonly effectiveOn: string;
  readonly idempotencyKey: string | null;
  readonly sourceType: string | null;
  readonly sourceId: string | null;
  readonly memo?: string | null;
  readonly createdBy: number | null;
  readonly reversesEntryId?: number | null;
  readonly postings: readonly JournalPosting[];
}

/** The columns of journal rows, with their types (COPY and json_to_recordset order). */
export const JOURNAL_TABLES = {
  journal_entry: {
    customer_id: 'bigint',
    journal_entry_id: 'bigint',
    kind: 'text',
    effective_on: 'date',
    idempotency_key: 'text',
    source_type: 'text',
    source_id: 'text',
    memo: 'text',
    created_by: 'bigint',
    reverses_entry_id: 'bigint',
  },
  posting: {
    customer_id: 'bigint',
    journal_entry_id: 'bigint',
    line_no: 'smallint',
    ledger_account_code: 'text',
    sub_key: 'text',
    amount_fen: 'bigint',
  },
} as const;

export type JournalRows = {
  journal_entry: Record<string, unknown>[];
  posting: Record<string, unknown>[];
};

function checked(entry: JournalEntry): JournalEntry {
  assertBalanced(entry.postings as readonly { account: LedgerAccountCode; amountFen: Fen }[]);
  return entry;
}

function entryRow(entry: JournalEntry) {
  return {
    customer_id: entry.customerId,
    journal_entry_id: entry.journalEntryId,
    kind: entry.kind,
    effective_on: entry.effectiveOn,
    idempotency_key: entry.idempotencyKey,
    source_type: entry.sourceType,
    source_id: entry.sourceId,
    memo: entry.memo ?? null,
    created_by: entry.createdBy,
    reverses_entry_id: entry.reversesEntryId ?? null,
  };
}

function postingRows(entry: JournalEntry) {
  return entry.postings.map((posting, k) => ({
    customer_id: entry.customerId,
    journal_entry_id: entry.journalEntryId,
    line_no: k + 1,
    ledger_account_code: posting.account,
    sub_key: posting.subKey ?? '',
    amount_fen: posting.amountFen as number,
  }));
}

/** Adds one balanced entry's rows to a caller's rows (written by the caller's one statement). */
export function addJournalRows(rows: JournalRows, entry: JournalEntry): void {
  checked(entry);
  rows.journal_entry.push(entryRow(entry));
  for (const row of postingRows(entry)) rows.posting.push(row);
}

/** Writes a few balanced entries by INSERT (two statements whatever their number). */
export async function writeJournalEntries(trx: Kysely<DB>, entries: readonly JournalEntry[]): Promise<void> {
  if (entries.length === 0) return;
  for (const entry of entries) checked(entry);
  await trx.insertInto('journal_entry').values(entries.map(entryRow)).execute();
  const postings = entries.flatMap(postingRows);
  if (postings.length > 0) await trx.insertInto('posting').values(postings).execute();
}

const ENTRY_COLUMNS = Object.keys(JOURNAL_TABLES.journal_entry) as (keyof ReturnType<typeof entryRow>)[];
const POSTING_COLUMNS = Object.keys(JOURNAL_TABLES.posting) as (keyof ReturnType<
  typeof postingRows
>[number])[];

/** Writes many balanced entries by COPY (bill releases, bulk jobs). */
export async function copyJournalEntries(trx: Kysely<DB>, entries: readonly JournalEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const entryLines: unknown[][] = [];
  const postingLines: unknown[][] = [];
  for (const entry of entries) {
    checked(entry);
    const row = entryRow(entry);
    entryLines.push(ENTRY_COLUMNS.map((column) => row[column]));
    for (const posting of postingRows(entry))
      postingLines.push(POSTING_COLUMNS.map((column) => posting[column]));
  }
  await copyRows(trx, 'journal_entry', ENTRY_COLUMNS, entryLines);
  await copyRows(trx, 'posting', POSTING_COLUMNS, postingLines);
}
