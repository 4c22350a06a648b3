/**
 * Customer state, the ledger's one reading of what a customer owes: open bills with their late-fee
 * bases, what settled each bill's principal, holds, and the prepaid / deposit balances. The pure
 * rules are in src/domain/ledger/customer-state.ts; every use case and query that needs "what
 * does this customer owe / which bills are open / what is prepaid" calls this module
 * (test/tidy.test.ts refuses the computation written elsewhere).
 */
import { type Kysely, type Transaction, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import { type CustomerState, type OpenBill, openBillsOf } from '../../domain/ledger/customer-state.js';
import type { LocalDate } from '../../domain/local-date.js';
import { type Fen, fen } from '../../domain/money.js';

/**
 * Released bills (latest revision) that can still owe something, what was allocated to them, and
 * the prepaid balance, for many customers in one statement. A bill whose principal was paid in
 * full with every principal allocation dated on or before its due date owes neither principal
 * nor late fee, so it is left out (its history is not needed to allocate).
 */
export async function loadCustomerStates(
  trx: Kysely<DB>,
  customerIds: readonly number[],
  dayClosed: ReturnType<typeof sql<boolean>> = sql<boolean>`false`,
): Promise<Map<number, CustomerState>> {
  // Scalar subqueries per customer: each reads that customer's rows by index, for one customer
  // (a payment) as for thousands (a bank file).
  const result = await sql<{
    customer_id: number;
    bills: CustomerState['bills'] | null;
    paid: CustomerState['paid'] | null;
    credits: CustomerState['credits'] | null;
    holds: CustomerState['holds'] | null;
    prepaid: number | null;
    day_closed: boolean;
  }>`
    select ids.id as customer_id,
      (select json_agg(json_build_object('bill_id', b.bill_id, 'bill_no', r.bill_no, 'period', b.period,
                'due_on', r.due_on, 'amount_fen', b.amount_fen,
                -- the period's first release: a rebill (same bill_id / 100) owes since then
                'released_on', (select min(f.released_on) from bill_release f
                                where f.customer_id = b.customer_id and f.bill_id / 100 = b.bill_id / 100))
                order by r.due_on, b.bill_id)
       from bill b
       join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
       left join lateral ${principalSettledSql()} x on true
       where b.customer_id = ids.id
         and ${latestRevisionSql()}
         and ${billCanStillOweSql()}) as bills,
      (select json_agg(json_build_object('bill_id', a.bill_id, 'kind', a.kind, 'amount_fen', a.amount_fen,
                'business_date', coalesce(a.applied_on, p.business_date)))
       from allocation a
       join payment p on p.customer_id = a.customer_id and p.payment_id = a.payment_id
       where a.customer_id = ids.id and a.bill_id is not null
         and not exists (select 1 from payment_reversal v where v.customer_id = a.customer_id and v.payment_id = a.payment_id)) as paid,
      (select json_agg(json_build_object('bill_id', k.bill_id, 'kind', k.kind, 'amount_fen', k.amount_fen,
                'effective_on', k.effective_on))
       from bill_credit k where k.customer_id = ids.id) as credits,
      (select json_agg(json_build_object('from', h.starts_on, 'to', h.ends_on))
       from policy_hold h join policy_hold_approval ha on ha.hold_id = h.hold_id
       where h.no_late_fee and (h.scope_kind = 'all'
         or (h.scope_kind = 'category' and h.scope_value = c.category)
         or (h.scope_kind = 'station' and h.scope_value = c.station_id::text)
         or (h.scope_kind = 'customer' and h.scope_value = c.customer_id::text))) as holds,
      (select -coalesce(sum(amount_fen), 0) from posting
       where customer_id = ids.id and ledger_account_code = 'customer_prepaid')::bigint as prepaid,
      ${dayClosed} as day_closed
    from unnest(${customerIds}::bigint[]) as ids(id)
    join customer c on c.customer_id = ids.id`.execute(trx);
  return new Map(
    result.rows.map((row) => [
      Number(row.customer_id),
      {
        bills: row.bills ?? [],
        paid: row.paid ?? [],
        credits: row.credits ?? [],
        holds: row.holds ?? [],
        prepaidFen: fen(Number(row.prepaid ?? 0)),
        dayClosed: Boolean(row.day_closed),
      },
    ]),
  );
}

/**
 * What settled a bill's principal (b, a bill row in the enclosing query): its principal
 * allocations of payments not reversed, and its written-off amounts — their sum (paid) and the
 * last day (last_on). A bill with paid ≥ amount and last_on ≤ its due date owes nothing more.
 */
export function principalSettledSql() {
  return sql`(
    select sum(y.amount_fen) as paid, max(y.on_date) as last_on from (
      select a.amount_fen, coalesce(a.applied_on, p.business_date) as on_date from allocation a
      join payment p on p.customer_id = a.customer_id and p.payment_id = a.payment_id
      where a.customer_id = b.customer_id and a.bill_id = b.bill_id and a.kind = 'principal'
        and not exists (select 1 from payment_reversal v where v.customer_id = a.customer_id and v.payment_id = a.payment_id)
      union all
      select k.amount_fen, k.effective_on from bill_credit k
      where k.customer_id = b.customer_id and k.bill_id = b.bill_id and k.kind = 'write_off') y)`;
}

/**
 * Whether a bill (b, with its release r and its principalSettledSql x in the enclosing query) can
 * still owe something: not paid in full by its due date (a bill paid in full with every principal
 * allocation on or before its due date owes neither principal nor late fee).
 */
export function billCanStillOweSql() {
  return sql`not (coalesce(x.paid, 0) >= b.amount_fen and coalesce(x.last_on, r.due_on) <= r.due_on)`;
}

/**
 * The released bills of a customer (b, joined to its release r) that are the latest revision: a
 * rebill replaces the bill it corrects.
 */
export function latestRevisionSql() {
  return sql`not exists (select 1 from bill n where n.customer_id = b.customer_id and n.replaces_bill_id = b.bill_id)`;
}

/**
 * What a customer owes on a date: each released bill (latest revision) with its open principal
 * and the late fee it has accrued but not yet been charged, oldest first. Bills settled in full
 * are left out.
 */
export async function openBills(
  trx: Transaction<DB> | Kysely<DB>,
  customerId: number,
  /** The customer's category (its late-fee class is taken from it). */
  category: string,
  asOf: LocalDate,
): Promise<OpenBill[]> {
  const states = await loadCustomerStates(trx, [customerId]);
  return openBillsOf(states.get(customerId)!, category, asOf);
}

/** What a customer's liability account holds for them (its credit): prepaid (预收) or deposit (押金). */
export async function heldBalance(
  trx: Transaction<DB> | Kysely<DB>,
  customerId: number,
  of: 'prepaid' | 'deposit',
): Promise<Fen> {
  const account = of === 'prepaid' ? 'customer_prepaid' : 'customer_deposit';
  const row = await sql<{ balance: number | null }>`
    select -coalesce(sum(amount_fen), 0)::bigint as balance from posting
    where customer_id = ${customerId} and ledger_account_code = ${account}`.execute(trx);
  return fen(Number(row.rows[0]?.balance ?? 0));
}

/** A customer's prepaid balance (预收): the credit on the customer_prepaid account. */
export function prepaidBalance(trx: Transaction<DB> | Kysely<DB>, customerId: number): Promise<Fen> {
  return heldBalance(trx, customerId, 'prepaid');
}

/**
 * The customers among customerIds who hold a prepaid balance, with their category, in id order.
 */
export async function prepaidHolders(
  trx: Kysely<DB>,
  customerIds: readonly number[],
): Promise<{ customer_id: number; category: string }[]> {
  const holders = await sql<{ customer_id: number; category: string }>`
    select p.customer_id, c.category from posting p join customer c on c.customer_id = p.customer_id
    where p.customer_id = any(${customerIds}::bigint[]) and p.ledger_account_code = 'customer_prepaid'
    group by p.customer_id, c.category having sum(p.amount_fen) < 0
    order by p.customer_id`.execute(trx);
  return holders.rows;
}

/** The receivable accounts whose journal balance a customer owes (a list's "total due"). */
export const RECEIVABLE_ACCOUNTS = ['customer_receivable', 'late_fee_receivable'] as const;
