import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import { type LocalDate, addDays, dayNumber } from '../domain/local-date.js';
import { type Fen, fen, formatYuan } from '../domain/money.js';
import { AppError } from './errors.js';
import { inTransaction } from './in-transaction.js';
import { type Principal, requirePermission } from './principal.js';
import { PAYMENT_ENTRY_RANGE, nextCashDepositEntryIds } from './ledger/ids.js';
import { writeJournalEntries } from './ledger/journal-writer.js';
import { recordAudit } from './record-audit.js';
import { inScopeSql, isInScope } from './ledger/scope.js';

export interface DepositInput {
  readonly staffLogin: string;
  /** The bank slip number (解款单号): the same slip twice is recorded once. */
  readonly slipNo: string;
  readonly bankAccount: string;
  readonly amountFen: Fen;
  readonly depositedOn: LocalDate;
}

export interface DepositResult {
  readonly depositId: number;
  readonly staffLogin: string;
  readonly amount: string;
  readonly payments: number;
  /** Cash the staff member still holds after this slip. */
  readonly cashOnHand: string;
  readonly replayed: boolean;
}

/**
 * Undeposited cash per payment of one collector or cashier, in recording order (reversed
 * payments hold none). Deposits clear payments in that order, so everything recorded before the
 * last payment a slip touched is deposited: only the payments from there on are read.
 */
async function undeposited(trx: Kysely<DB>, staffId: number, kind: 'collector' | 'counter') {
  const rows = await sql<{
    customer_id: number;
    payment_id: number;
    business_date: string;
    amount_fen: number;
    deposited_fen: number;
  }>`
    with frontier as (
      select coalesce(max(i.payment_id), 0) as payment_id from cash_deposit_item i
      where i.deposit_id = (select max(d.deposit_id) from cash_deposit d where d.staff_id = ${staffId})
    )
    select p.customer_id, p.payment_id, p.business_date::text as business_date, p.amount_fen,
      coalesce((select sum(i.amount_fen) from cash_deposit_item i
                where i.customer_id = p.customer_id and i.payment_id = p.payment_id), 0)::bigint as deposited_fen
    from journal_entry j
    join payment p on p.customer_id = j.customer_id and p.journal_entry_id = j.journal_entry_id
    where j.source_type = ${sql.lit(kind)} and j.source_id = ${String(staffId)}
      and j.journal_entry_id >= ${PAYMENT_ENTRY_RANGE.from} + (select payment_id from frontier)
      and j.journal_entry_id < ${PAYMENT_ENTRY_RANGE.to}
      and not exists (select 1 from payment_reversal r where r.customer_id = p.customer_id and r.payment_id = p.payment_id)
    order by p.payment_id`.execute(trx);
  return rows.rows
    .map((row) => ({ ...row, open: Number(row.amount_fen) - Number(row.deposited_fen) }))
    .filter((row) => row.open > 0);
}

/**
 * A collector or cashier deposits cash at the bank (解款): the slip's amount clears their
 * undeposited payments in the order they were recorded, each by a journal entry moving its cash to the bank (the
 * last one possibly in part). A slip larger than the cash held is refused; the same slip number
 * again returns the first result. Errors: forbidden, not_found, validation_failed.
 */
export async function recordCashDeposit(
  db: Kysely<DB>,
  principal: Principal,
  input: DepositInput,
): Promise<DepositResult> {
  requirePermission(principal, 'cash.deposit');
  if (!Number.isSafeInteger(input.amountFen) || input.amountFen <= 0)
    throw new AppError('validation_failed', 'amount: must be more than 0.00');
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(input.slipNo))
    throw new AppError('validation_failed', 'slipNo: 1–40 letters, digits, "_" or "-"');
  return inTransaction(db, async (trx) => {
    const staff = await trx
      .selectFrom('staff')
      .innerJoin('org_unit', 'org_unit.org_unit_id', 'staff.org_unit_id')
      .select(['staff.staff_id', 'staff.login', 'staff.roles', 'org_unit.path'])
      .where('staff.login', '=', input.staffLogin)
      .executeTakeFirst();
    if (!staff || !isInScope(principal, staff.path))
      throw new AppError('not_found', `no staff ${input.staffLogin}`);
    // Cashiers and collectors deposit their own cash; heads and finance record for their scope.
    if (principal.kind === 'staff' && principal.staffId !== staff.staff_id)
      requirePermission(principal, 'cash.supervise');
    const kind = staff.roles.includes('collector') ? 'collector' : 'counter';
    await sql`select pg_advisory_xact_lock(hashtext('cash-deposit'), ${staff.staff_id}::int)`.execute(trx);
    const earlier = await trx
      .selectFrom('cash_deposit')
      .selectAll()
      .where('staff_id', '=', staff.staff_id)
      .where('slip_no', '=', input.slipNo)
      .executeTakeFirst();
    if (earlier) {
      if (Number(earlier.amount_fen) !== input.amountFen || earlier.deposited_on !== input.depositedOn)
        throw new AppError(
          'validation_failed',
          `slipNo: ${input.slipNo} was recorded with another amount or date`,
        );
      const left = (await undeposited(trx, staff.staff_id, kind)).reduce((sum, row) => sum + row.open, 0);
      const items = await trx
        .selectFrom('cash_deposit_item')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('deposit_id', '=', earlier.deposit_id)
        .executeTakeFirstOrThrow();
      return {
        depositId: Number(earlier.deposit_id),
        staffLogin: staff.login,
        amount: formatYuan(fen(Number(earlier.amount_fen))),
        payments: Number(items.n),
        cashOnHand: formatYuan(fen(left)),
        replayed: true,
      };
    }
    const open = await undeposited(trx, staff.staff_id, kind);
    const held = open.reduce((sum, row) => sum + row.open, 0);
    if (input.amountFen > held)
      throw new AppError(
        'validation_failed',
        `amount: ${formatYuan(input.amountFen)} is more than the ${formatYuan(fen(held))} cash ${staff.login} holds`,
      );
    const deposit = await trx
      .insertInto('cash_deposit')
      .values({
        staff_id: staff.staff_id,
        source_kind: kind,
        slip_no: input.slipNo,
        bank_account: input.bankAccount,
        amount_fen: input.amountFen,
        deposited_on: input.depositedOn,
        recorded_by: principal.staffId,
      })
      .returning('deposit_id')
      .executeTakeFirstOrThrow();
    const depositId = Number(deposit.deposit_id);
    let left = input.amountFen as number;
    const items: { customerId: number; paymentId: number; amount: number }[] = [];
    for (const row of open) {
      if (left === 0) break;
      const take = Math.min(left, row.open);
      items.push({ customerId: Number(row.customer_id), paymentId: Number(row.payment_id), amount: take });
      left -= take;
    }
    const entryIds = await nextCashDepositEntryIds(trx, items.length);
    const source = kind === 'collector' ? 'collector_cash' : 'counter_cash';
    await writeJournalEntries(
      trx,
      items.map((item, k) => ({
        customerId: item.customerId,
        journalEntryId: entryIds[k]!,
        kind: 'cash_deposit',
        effectiveOn: input.depositedOn,
        idempotencyKey: `cash-deposit:${depositId}:${item.paymentId}`,
        sourceType: 'cash_deposit',
        sourceId: String(depositId),
        memo: input.slipNo,
        createdBy: principal.staffId,
        postings: [
          { account: 'bank', subKey: input.bankAccount, amountFen: item.amount },
          { account: source, subKey: String(staff.staff_id), amountFen: -item.amount },
        ],
      })),
    );
    await trx
      .insertInto('cash_deposit_item')
      .values(
        items.map((item, k) => ({
          customer_id: item.customerId,
          payment_id: item.paymentId,
          deposit_id: depositId,
          amount_fen: item.amount,
          journal_entry_id: entryIds[k]!,
        })),
      )
      .execute();
    await recordAudit(trx, principal, {
      action: 'cash.deposit',
      objectType: 'cash_deposit',
      objectId: `${staff.login}:${input.slipNo}`,
      details: { amountFen: input.amountFen, payments: items.length, depositedOn: input.depositedOn },
    });
    return {
      depositId,
      staffLogin: staff.login,
      amount: formatYuan(input.amountFen),
      payments: items.length,
      cashOnHand: formatYuan(fen(held - input.amountFen)),
      replayed: false,
    };
  });
}

/** The day by which cash taken on `day` must be at the bank: the next working day (Mon–Fri). */
export function depositDeadline(day: LocalDate): LocalDate {
  let next = addDays(day, 1);
  // dayNumber(1970-01-01) = 0 was a Thursday.
  while ([2, 3].includes(((dayNumber(next) % 7) + 7) % 7)) next = addDays(next, 1);
  return next;
}

export interface CashHolder {
  readonly staffLogin: string;
  readonly name: string;
  readonly kind: 'collector' | 'counter';
  readonly stationId: number;
  /** The journal balance of the staff member's cash account. */
  readonly cashOnHand: string;
  readonly undepositedPayments: number;
  readonly oldestUndeposited: string | null;
  /** Cash past its deposit deadline (the next working day): an alert for the station head. */
  readonly overdue: string;
  readonly alert: boolean;
}

/**
 * Who holds how much cash and since when (for the station head): each collector's and cashier's
 * cash account balance from the journal, the age of the oldest undeposited payment and the cash
 * past its deadline. Errors: forbidden.
 */
export async function cashOnHand(
  db: Kysely<DB>,
  principal: Principal,
  today: LocalDate,
): Promise<CashHolder[]> {
  requirePermission(principal, 'cash.supervise');
  const rows = await sql<{
    staff_id: number;
    login: string;
    name: string;
    station_id: number;
    kind: 'collector' | 'counter';
    balance: number;
  }>`
    select s.staff_id, s.login, s.name, coalesce(team.parent_id, team.org_unit_id) as station_id,
      case when 'collector' = any(s.roles) then 'collector' else 'counter' end as kind,
      coalesce((select sum(po.amount_fen) from posting po
                where po.ledger_account_code in ('collector_cash', 'counter_cash') and po.sub_key = s.staff_id::text), 0)::bigint as balance
    from staff s
    join org_unit team on team.org_unit_id = s.org_unit_id
    where (('collector' = any(s.roles)) or ('cashier' = any(s.roles)))
      and ${inScopeSql(principal, 'team.path')}
    order by s.staff_id`.execute(db);
  const result: CashHolder[] = [];
  for (const row of rows.rows) {
    if (Number(row.balance) === 0) {
      result.push({
        staffLogin: row.login,
        name: row.name,
        kind: row.kind,
        stationId: Number(row.station_id),
        cashOnHand: '0.00',
        undepositedPayments: 0,
        oldestUndeposited: null,
        overdue: '0.00',
        alert: false,
      });
      continue;
    }
    const open = await undeposited(db, Number(row.staff_id), row.kind);
    const overdue = open
      .filter((item) => depositDeadline(item.business_date as LocalDate) < today)
      .reduce((sum, item) => sum + item.open, 0);
    result.push({
      staffLogin: row.login,
      name: row.name,
      kind: row.kind,
      stationId: Number(row.station_id),
      cashOnHand: formatYuan(fen(Number(row.balance))),
      undepositedPayments: open.length,
      oldestUndeposited: open[0]?.business_date ?? null,
      overdue: formatYuan(fen(overdue)),
      alert: overdue > 0,
    });
  }
  return result;
}

export interface ShiftClose {
  readonly staffLogin: string;
  readonly businessDate: string;
  readonly payments: number;
  readonly systemTotal: string;
  readonly counted: string;
  /** Counted minus the system total: negative is a shortage (短款), positive an overage (长款). */
  readonly difference: string;
  readonly balanced: boolean;
  readonly replayed: boolean;
}

/**
 * A cashier closes the day (日清日结): the day's counter payments taken by them (reversals
 * deducted) are totalled and compared with the cash counted; the difference is recorded, audited,
 * and a day is closed once (closing again with the same count returns the first result).
 * Errors: forbidden, not_found, validation_failed.
 */
export async function closeCounterShift(
  db: Kysely<DB>,
  principal: Principal,
  input: {
    readonly staffLogin: string;
    readonly businessDate: LocalDate;
    readonly countedFen: Fen;
    readonly note?: string | undefined;
  },
): Promise<ShiftClose> {
  requirePermission(principal, 'cash.deposit');
  if (!Number.isSafeInteger(input.countedFen) || input.countedFen < 0)
    throw new AppError('validation_failed', 'counted: 0.00 or more');
  return inTransaction(db, async (trx) => {
    const staff = await trx
      .selectFrom('staff')
      .innerJoin('org_unit', 'org_unit.org_unit_id', 'staff.org_unit_id')
      .select(['staff.staff_id', 'staff.login', 'org_unit.path'])
      .where('staff.login', '=', input.staffLogin)
      .executeTakeFirst();
    if (!staff || !isInScope(principal, staff.path))
      throw new AppError('not_found', `no staff ${input.staffLogin}`);
    if (principal.kind === 'staff' && principal.staffId !== staff.staff_id)
      requirePermission(principal, 'cash.supervise');
    const result = (
      row: {
        payments: number;
        system_total_fen: number;
        counted_fen: number;
        difference_fen: number;
      },
      replayed: boolean,
    ): ShiftClose => ({
      staffLogin: staff.login,
      businessDate: input.businessDate,
      payments: Number(row.payments),
      systemTotal: formatYuan(fen(Number(row.system_total_fen))),
      counted: formatYuan(fen(Number(row.counted_fen))),
      difference: formatYuan(fen(Number(row.difference_fen))),
      balanced: Number(row.difference_fen) === 0,
      replayed,
    });
    const earlier = await trx
      .selectFrom('counter_shift_close')
      .selectAll()
      .where('staff_id', '=', staff.staff_id)
      .where('business_date', '=', input.businessDate)
      .executeTakeFirst();
    if (earlier) {
      if (Number(earlier.counted_fen) !== input.countedFen)
        throw new AppError(
          'validation_failed',
          `counted: ${input.businessDate} was closed with another count`,
        );
      return result(earlier, true);
    }
    const totals = await sql<{ payments: number; total: number }>`
      select count(*)::int as payments, coalesce(sum(p.amount_fen), 0)::bigint as total
      from journal_entry j
      join payment p on p.customer_id = j.customer_id and p.journal_entry_id = j.journal_entry_id
      where j.source_type = 'counter' and j.source_id = ${String(staff.staff_id)}
        and j.journal_entry_id >= ${PAYMENT_ENTRY_RANGE.from} and j.journal_entry_id < ${PAYMENT_ENTRY_RANGE.to}
        and p.business_date = ${input.businessDate}::date
        and not exists (select 1 from payment_reversal r where r.customer_id = p.customer_id and r.payment_id = p.payment_id)`.execute(
      trx,
    );
    const system = Number(totals.rows[0]?.total ?? 0);
    const row = {
      payments: Number(totals.rows[0]?.payments ?? 0),
      system_total_fen: system,
      counted_fen: input.countedFen as number,
      difference_fen: input.countedFen - system,
    };
    await trx
      .insertInto('counter_shift_close')
      .values({
        staff_id: staff.staff_id,
        business_date: input.businessDate,
        ...row,
        note: input.note ?? null,
        closed_by: principal.staffId,
      })
      .execute();
    await recordAudit(trx, principal, {
      action: 'cash.shift_close',
      objectType: 'counter_shift',
      objectId: `${staff.login}:${input.businessDate}`,
      details: { ...row, note: input.note ?? null },
    });
    return result(row, false);
  });
}
