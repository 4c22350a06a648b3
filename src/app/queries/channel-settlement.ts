import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { LocalDate } from '../../domain/local-date.js';
import { formatYuan } from '../../domain/money.js';
import { type Principal, requirePermission } from '../principal.js';

export interface SettlementDay {
  readonly channelCode: string;
  readonly businessDate: string;
  readonly payments: number;
  readonly paymentsTotal: string;
  readonly reversals: number;
  readonly reversalsTotal: string;
  readonly fees: string;
  /** What the channel owes the utility for the day: payments − reversals − fees. */
  readonly owed: string;
  /** The journal's channel clearing balance for the day; equal to `owed` when the books agree. */
  readonly clearingBalance: string;
  readonly agrees: boolean;
  readonly reconciliation: 'none' | 'open' | 'accepted';
  readonly matchedTotal: string | null;
}

/**
 * The settlement report (docs/DOMAIN.md §5.1): per channel and business day, what the channel owes
 * from its payments and fees, next to the channel clearing balance in the journal.
 */
export async function channelSettlement(
  db: Kysely<DB>,
  principal: Principal,
  filter: { readonly channelCode?: string; readonly from: LocalDate; readonly to: LocalDate },
): Promise<SettlementDay[]> {
  requirePermission(principal, 'reconciliation.read');
  const channel = filter.channelCode ?? null;
  const rows = await sql<{
    channel_code: string;
    business_date: string;
    payments: number;
    payments_total: string;
    reversals: number;
    reversals_total: string;
    fees: string;
    clearing: string;
    accepted: boolean;
    submitted: boolean;
    matched_total: string | null;
  }>`
    with pay as (
      select p.channel_code, p.business_date, count(*)::int as payments, sum(p.amount_fen) as payments_total,
        count(r.payment_id)::int as reversals,
        coalesce(sum(p.amount_fen) filter (where r.payment_id is not null), 0) as reversals_total
      from payment p
      join channel c on c.channel_code = p.channel_code
      left join payment_reversal r on r.customer_id = p.customer_id and r.payment_id = p.payment_id
      where (${channel}::text is null or p.channel_code = ${channel})
        and p.business_date between ${filter.from}::date and ${filter.to}::date
      group by p.channel_code, p.business_date
    ), journal as (
      select po.sub_key as channel_code, j.effective_on as business_date,
        coalesce(sum(po.amount_fen) filter (where po.ledger_account_code = 'channel_clearing'), 0) as clearing,
        coalesce(sum(po.amount_fen) filter (where po.ledger_account_code = 'channel_fee_expense'), 0) as fees
      from posting po
      join journal_entry j on j.customer_id = po.customer_id and j.journal_entry_id = po.journal_entry_id
      where po.ledger_account_code in ('channel_clearing', 'channel_fee_expense')
        and (${channel}::text is null or po.sub_key = ${channel})
        and j.effective_on between ${filter.from}::date and ${filter.to}::date
      group by po.sub_key, j.effective_on
    )
    select coalesce(pay.channel_code, journal.channel_code) as channel_code,
      coalesce(pay.business_date, journal.business_date)::text as business_date,
      coalesce(pay.payments, 0) as payments, coalesce(pay.payments_total, 0)::text as payments_total,
      coalesce(pay.reversals, 0) as reversals, coalesce(pay.reversals_total, 0)::text as reversals_total,
      coalesce(journal.fees, 0)::text as fees, coalesce(journal.clearing, 0)::text as clearing,
      exists (select 1 from channel_day_accepted a where a.channel_code = coalesce(pay.channel_code, journal.channel_code)
              and a.business_date = coalesce(pay.business_date, journal.business_date)) as accepted,
      exists (select 1 from channel_reconciliation s where s.channel_code = coalesce(pay.channel_code, journal.channel_code)
              and s.business_date = coalesce(pay.business_date, journal.business_date)) as submitted,
      (select s.matched_total_fen::text from channel_reconciliation s
        where s.channel_code = coalesce(pay.channel_code, journal.channel_code)
          and s.business_date = coalesce(pay.business_date, journal.business_date)
        order by s.submission_no desc limit 1) as matched_total
    from pay full join journal on journal.channel_code = pay.channel_code and journal.business_date = pay.business_date
    order by 2 desc, 1`.execute(db);
  return rows.rows.map((row) => {
    // Sums are numeric in SQL and bigint here: exact however large a day's totals grow.
    const owed = BigInt(row.payments_total) - BigInt(row.reversals_total) - BigInt(row.fees);
    const clearing = BigInt(row.clearing);
    return {
      channelCode: row.channel_code,
      businessDate: row.business_date,
      payments: row.payments,
      paymentsTotal: formatYuan(BigInt(row.payments_total)),
      reversals: row.reversals,
      reversalsTotal: formatYuan(BigInt(row.reversals_total)),
      fees: formatYuan(BigInt(row.fees)),
      owed: formatYuan(owed),
      clearingBalance: formatYuan(clearing),
      agrees: owed === clearing,
      reconciliation: row.accepted ? 'accepted' : row.submitted ? 'open' : 'none',
      matchedTotal: row.matched_total === null ? null : formatYuan(BigInt(row.matched_total)),
    };
  });
}
