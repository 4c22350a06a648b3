import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/schema.js';

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
 * its allocations add up to it (to nothing once reversed); no payment's prepaid money is used
 * twice; each customer's prepaid account equals the payments' prepaid allocations and the
 * receivable equals the bills less principal paid and written off; no bill is overpaid; every
 * bill is the sum of its lines and names an existing customer and tariff version.
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
          where a.customer_id = y.customer_id and a.payment_id = y.payment_id) a on true
        left join payment_reversal v on v.customer_id = y.customer_id and v.payment_id = y.payment_id
        where coalesce(p.amount, 0) <> y.amount_fen
          or coalesce(a.amount, 0) <> case when v.payment_id is null then y.amount_fen else 0 end`,
    },
    {
      check: 'payment_prepaid_not_overused',
      query: sql`select a.customer_id, a.payment_id::text as reference,
          'prepaid allocations of the payment sum to ' || sum(a.amount_fen) as detail
        from allocation a where a.kind = 'prepaid' group by a.customer_id, a.payment_id having sum(a.amount_fen) < 0`,
    },
    {
      check: 'prepaid_matches_allocations',
      query: sql`select coalesce(p.customer_id, a.customer_id) as customer_id, 'customer_prepaid' as reference,
          'journal ' || coalesce(p.amount, 0) || ' fen, payments'' prepaid allocations ' || coalesce(a.amount, 0) as detail
        from (select customer_id, -sum(amount_fen) as amount from posting where ledger_account_code = 'customer_prepaid'
              group by customer_id) p
        full join (select customer_id, sum(amount_fen) as amount from allocation where kind = 'prepaid'
              group by customer_id) a on a.customer_id = p.customer_id
        where coalesce(p.amount, 0) <> coalesce(a.amount, 0)`,
    },
    {
      check: 'receivable_matches_bills',
      query: sql`select t.customer_id, 'customer_receivable' as reference,
          'journal ' || sum(t.journal) || ' fen, bills less settled ' || sum(t.derived) as detail
        from (
          select customer_id, amount_fen as journal, 0 as derived from posting where ledger_account_code = 'customer_receivable'
          union all
          select b.customer_id, 0, b.amount_fen from bill b
            join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
            where not exists (select 1 from bill n where n.customer_id = b.customer_id and n.replaces_bill_id = b.bill_id)
          union all
          select customer_id, 0, -amount_fen from allocation where kind = 'principal'
          union all
          select customer_id, 0, -amount_fen from bill_credit where kind = 'write_off'
        ) t group by t.customer_id having sum(t.journal) <> sum(t.derived)`,
    },
    {
      check: 'deposit_within_payment',
      query: sql`select i.customer_id, y.receipt_no as reference,
          'payment ' || max(y.amount_fen) || ' fen, deposited ' || sum(i.amount_fen) as detail
        from cash_deposit_item i join payment y on y.customer_id = i.customer_id and y.payment_id = i.payment_id
        group by i.customer_id, y.receipt_no having sum(i.amount_fen) > max(y.amount_fen)`,
    },
    {
      // The run writes bills and lines without row-by-row foreign keys (ADR 0007): checked here.
      check: 'bill_matches_lines',
      query: sql`select coalesce(b.customer_id, l.customer_id) as customer_id,
          coalesce(b.bill_id, l.bill_id)::text as reference,
          case when b.bill_id is null then 'lines without their bill'
               else 'bill ' || b.amount_fen || ' fen, lines sum to ' || coalesce(l.amount, 0) end as detail
        from bill b
        full join (select customer_id, bill_id, sum(amount_fen) as amount from bill_line group by customer_id, bill_id) l
          on l.customer_id = b.customer_id and l.bill_id = b.bill_id
        where b.bill_id is null or coalesce(l.amount, 0) <> b.amount_fen`,
    },
    {
      check: 'bill_references_exist',
      query: sql`select b.customer_id, b.bill_id::text as reference,
          case when c.customer_id is null then 'no such customer' else 'no tariff version ' || b.tariff_version_id end as detail
        from bill b
        left join customer c on c.customer_id = b.customer_id
        left join tariff_version t on t.tariff_version_id = b.tariff_version_id
        where c.customer_id is null or (b.tariff_version_id is not null and t.tariff_version_id is null)`,
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
