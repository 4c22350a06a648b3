import { type Kysely, sql } from 'kysely';
import type { DB } from '../../adapters/db/schema.js';

export interface LedgerProblem {
  readonly check: string;
  readonly customerId: number;
  readonly reference: string;
  readonly detail: string;
}

export interface LedgerVerification {
  readonly entries: number;
  readonly postings: number;
  readonly problems: readonly LedgerProblem[];
}

/** Problems listed per check; the counts in the summary are always complete. */
const PROBLEMS_LISTED_MAX = 100;

/**
 * Checks the journal against everything that should agree with it: every entry balances; every
 * released bill has a release entry for its amount; every payment's entry takes in its amount and
 * its allocations add up to it; no bill has more principal allocated than it is billed.
 */
export async function verifyLedger(db: Kysely<DB>): Promise<LedgerVerification> {
  const counts = await sql<{ entries: number; postings: number }>`
    select (select count(*)::int from journal_entry) as entries, (select count(*)::int from posting) as postings`.execute(
    db,
  );
  const checks: {
    check: string;
    query: ReturnType<typeof sql<{ customer_id: number; reference: string; detail: string }>>;
  }[] = [
    {
      check: 'entry_balances',
      query: sql`select customer_id, journal_entry_id::text as reference, 'postings sum to ' || sum(amount_fen) as detail
        from posting group by customer_id, journal_entry_id having sum(amount_fen) <> 0`,
    },
    {
      check: 'release_entry_matches_bill',
      query: sql`select b.customer_id, b.bill_id::text as reference,
          'bill ' || b.amount_fen || ' fen, receivable posted ' || coalesce(p.amount, 0) as detail
        from bill b join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
        left join lateral (select sum(amount_fen) as amount from posting p
          where p.customer_id = b.customer_id and p.journal_entry_id = b.bill_id and p.ledger_account_code = 'customer_receivable') p on true
        where coalesce(p.amount, 0) <> b.amount_fen`,
    },
    {
      check: 'payment_entry_matches_payment',
      query: sql`select y.customer_id, y.receipt_no as reference,
          'payment ' || y.amount_fen || ' fen, source posted ' || coalesce(p.amount, 0) || ', allocated ' || coalesce(a.amount, 0) as detail
        from payment y
        left join lateral (select sum(amount_fen) as amount from posting p
          where p.customer_id = y.customer_id and p.journal_entry_id = y.journal_entry_id and p.amount_fen > 0) p on true
        left join lateral (select sum(amount_fen) as amount from allocation a
          where a.customer_id = y.customer_id and a.payment_id = y.payment_id and a.reverses_allocation_id is null) a on true
        where coalesce(p.amount, 0) <> y.amount_fen or coalesce(a.amount, 0) <> y.amount_fen`,
    },
    {
      check: 'deposit_within_payment',
      query: sql`select i.customer_id, y.receipt_no as reference,
          'payment ' || max(y.amount_fen) || ' fen, deposited ' || sum(i.amount_fen) as detail
        from cash_deposit_item i join payment y on y.customer_id = i.customer_id and y.payment_id = i.payment_id
        group by i.customer_id, y.receipt_no having sum(i.amount_fen) > max(y.amount_fen)`,
    },
    {
      check: 'bill_not_overpaid',
      query: sql`select a.customer_id, a.bill_id::text as reference,
          'principal allocated ' || sum(a.amount_fen) || ' fen on a bill of ' || max(b.amount_fen) as detail
        from allocation a join bill b on b.customer_id = a.customer_id and b.bill_id = a.bill_id
        where a.kind = 'principal' group by a.customer_id, a.bill_id having sum(a.amount_fen) > max(b.amount_fen)`,
    },
  ];
  const problems: LedgerProblem[] = [];
  for (const { check, query } of checks) {
    const rows = await sql<{
      customer_id: number;
      reference: string;
      detail: string;
    }>`${query} limit ${PROBLEMS_LISTED_MAX}`.execute(db);
    for (const row of rows.rows)
      problems.push({ check, customerId: row.customer_id, reference: row.reference, detail: row.detail });
  }
  return { entries: counts.rows[0]!.entries, postings: counts.rows[0]!.postings, problems };
}
