import { type Kysely, sql } from 'kysely';
import { copyRows } from '../../db/raw-commands.js';
import type { DB } from '../../db/schema.js';
import { applyPrepaidBalances } from '../../app/apply-prepaid.js';
import { type JournalEntry, copyJournalEntries } from '../../app/ledger/journal-writer.js';
import type { Principal } from '../../app/principal.js';
import { recordAudit } from '../../app/record-audit.js';
import { billNo, dueDate } from '../../domain/billing/bill-identity.js';
import type { LocalDate, Period } from '../../domain/local-date.js';
import { billReleaseEntry } from '../../domain/ledger/bill-release-entry.js';
import { fen } from '../../domain/money.js';

export interface ReleaseBillsOptions {
  readonly period: Period;
  readonly stationId?: number;
  readonly releasedOn: LocalDate;
  readonly actor: Principal;
  readonly batchSize?: number;
  readonly onProgress?: (released: number) => void;
}

export interface ReleaseSummary {
  readonly period: Period;
  readonly stationId: number | null;
  readonly released: number;
  readonly amountFen: number;
  readonly batches: number;
  /** Customers whose prepaid balance settled their bills on release, and how much. */
  readonly prepaidApplied: { readonly customers: number; readonly amountFen: number };
}

/**
 * Releases (发行) the period's draft bills: each gets its number and due date (the customer's due
 * rule), and its amount becomes receivable through a journal entry — receivable against energy
 * revenue, government funds as their own liability. Batches commit with their audit record;
 * a rerun releases only what is still draft.
 */
export async function releaseBills(db: Kysely<DB>, options: ReleaseBillsOptions): Promise<ReleaseSummary> {
  const batchSize = options.batchSize ?? 5000;
  let released = 0;
  let amountFen = 0;
  let batches = 0;
  let prepaidCustomers = 0;
  let prepaidFen = 0;
  let after = 0;
  for (;;) {
    const batch = await db.transaction().execute(async (trx) => {
      // One releaser per period at a time; a second one waits and then finds nothing left.
      await sql`select pg_advisory_xact_lock(hashtext('bill-release'), hashtext(${options.period}))`.execute(
        trx,
      );
      const drafts = await sql<{
        customer_id: number;
        bill_id: number;
        revision: number;
        customer_no: string;
        due_rule: string;
        amount_fen: number;
        funds_fen: number;
      }>`
        select b.customer_id, b.bill_id, b.revision, c.customer_no, c.due_rule, b.amount_fen, b.funds_fen
        from bill b join customer c on c.customer_id = b.customer_id
        where b.period = ${options.period} and b.customer_id > ${after}
          ${options.stationId === undefined ? sql`` : sql`and c.station_id = ${options.stationId}`}
          and not exists (select 1 from bill_release r where r.customer_id = b.customer_id and r.bill_id = b.bill_id)
        order by b.customer_id, b.bill_id
        limit ${batchSize}`.execute(trx);
      if (drafts.rows.length === 0) return null;
      const releases: unknown[][] = [];
      const entries: JournalEntry[] = [];
      let batchAmount = 0;
      for (const draft of drafts.rows) {
        const due = dueDate(draft.due_rule, options.period, options.releasedOn);
        const number = billNo(options.period, draft.customer_no, draft.revision);
        releases.push([
          draft.customer_id,
          draft.bill_id,
          number,
          options.releasedOn,
          due,
          options.actor.staffId,
        ]);
        batchAmount += draft.amount_fen;
        const entry = billReleaseEntry({
          billId: draft.bill_id,
          amountFen: fen(draft.amount_fen),
          fundsFen: fen(draft.funds_fen),
        });
        if (!entry) continue;
        entries.push({
          customerId: draft.customer_id,
          journalEntryId: entry.journalEntryId,
          kind: 'bill_release',
          effectiveOn: options.releasedOn,
          idempotencyKey: `bill-release:${draft.bill_id}`,
          sourceType: 'bill',
          sourceId: String(draft.bill_id),
          memo: number,
          createdBy: options.actor.staffId,
          postings: entry.postings,
        });
      }
      await copyRows(
        trx,
        'bill_release',
        ['customer_id', 'bill_id', 'bill_no', 'released_on', 'due_on', 'released_by'],
        releases,
      );
      await copyJournalEntries(trx, entries);
      // Prepaid balances settle the new bills at once (and anything else still open).
      const prepaid = await applyPrepaidBalances(
        trx,
        [...new Set(drafts.rows.map((draft) => Number(draft.customer_id)))],
        options.releasedOn,
        options.actor.staffId,
      );
      const last = drafts.rows.at(-1)!;
      await recordAudit(trx, options.actor, {
        action: 'bill.release',
        objectType: 'billing_period',
        objectId: options.period,
        details: {
          stationId: options.stationId ?? null,
          bills: drafts.rows.length,
          amountFen: batchAmount,
          releasedOn: options.releasedOn,
          prepaidApplied: prepaid,
          customerIds: [drafts.rows[0]!.customer_id, last.customer_id],
        },
      });
      return {
        count: drafts.rows.length,
        amount: batchAmount,
        last: last.customer_id,
        prepaidCustomers: prepaid.customers,
        prepaidFen: prepaid.amountFen,
      };
    });
    if (!batch) break;
    released += batch.count;
    prepaidCustomers += batch.prepaidCustomers;
    prepaidFen += batch.prepaidFen;
    amountFen += batch.amount;
    batches += 1;
    after = batch.last;
    options.onProgress?.(released);
  }
  return {
    period: options.period,
    stationId: options.stationId ?? null,
    released,
    amountFen,
    batches,
    prepaidApplied: { customers: prepaidCustomers, amountFen: prepaidFen },
  };
}
