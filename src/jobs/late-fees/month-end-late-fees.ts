import { type Kysely, type Transaction, sql } from 'kysely';
import { copyRows } from '../../db/raw-commands.js';
import type { DB } from '../../db/schema.js';
import {
  billCanStillOweSql,
  latestRevisionSql,
  loadCustomerStates,
  principalSettledSql,
} from '../../app/ledger/customer-state.js';
import { openBillsOf, stateAsOf } from '../../domain/ledger/customer-state.js';
import { type LocalDate, type Period, addDays, addMonths } from '../../domain/local-date.js';
import { createRun, pendingPartitions, runPartitions } from '../partitioned-run.js';

export interface MonthEndLateFeeOptions {
  readonly period: Period;
  readonly concurrency: number;
  readonly worker: string;
  readonly partitionSize?: number;
  readonly onProgress?: (partitionsDone: number, partitionsTotal: number) => void;
}

export interface MonthEndLateFeeSummary {
  readonly runKey: string;
  readonly period: Period;
  readonly asOf: LocalDate;
  /** Customers whose bills were looked at (overdue and not settled on time). */
  readonly examined: number;
  /** Customers with a late fee or overdue principal at the month end (snapshot rows). */
  readonly inArrears: number;
  readonly overduePrincipalFen: number;
  readonly lateFeeFen: number;
  readonly partitions: number;
  readonly partitionsDoneHere: number;
}

interface PartSummary {
  examined: number;
  inArrears: number;
  overduePrincipalFen: number;
  lateFeeFen: number;
}

/**
 * The month-end late-fee computation (docs/DOMAIN.md §1, for reporting): for every customer with an
 * overdue bill, the late fee accrued and not yet paid or waived at the last day of the period,
 * by the same rule the posting path charges (holds, waivers, write-offs and partial payments
 * included). Written to late_fee_snapshot, never posted — late fees are posted when paid, so
 * nothing is counted twice. Partitioned by customer id range and claimable by several workers;
 * a rerun resumes, a finished period is a no-op.
 */
export async function computeMonthEndLateFees(
  db: Kysely<DB>,
  options: MonthEndLateFeeOptions,
): Promise<MonthEndLateFeeSummary> {
  const asOf = addDays(`${addMonths(options.period, 1)}-01` as LocalDate, -1);
  const size = options.partitionSize ?? 20_000;
  const range = await sql<{ low: number | null; high: number | null }>`
    select min(customer_id) as low, max(customer_id) as high from customer`.execute(db);
  const low = Number(range.rows[0]?.low ?? 1);
  const high = Number(range.rows[0]?.high ?? 0);
  const partitions = high >= low ? Math.ceil((high - low + 1) / size) : 0;
  const base = `late-fee-month-end:${options.period}`;
  const runKey = await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('late-fee-month-end'), hashtext(${base}))`.execute(trx);
    const run = await trx
      .selectFrom('job_run')
      .select('run_key')
      .where('run_key', '=', base)
      .executeTakeFirst();
    if (!run)
      await createRun(trx, { runKey: base, kind: 'late_fee_month_end', params: { asOf, size }, partitions });
    return base;
  });
  const total = await db
    .selectFrom('job_partition')
    .select('partition_no')
    .where('run_key', '=', runKey)
    .execute();
  let done = total.length - (await pendingPartitions(db, runKey));
  options.onProgress?.(done, total.length);
  const params = await db
    .selectFrom('job_run')
    .select('params')
    .where('run_key', '=', runKey)
    .executeTakeFirstOrThrow();
  const runSize = Number((params.params as { size: number }).size);
  const partitionsDoneHere = await runPartitions(
    db,
    runKey,
    { concurrency: options.concurrency, worker: options.worker },
    async (trx, partitionNo) => {
      const summary = await snapshotPartition(trx, options.period, asOf, {
        low: low + partitionNo * runSize,
        high: low + (partitionNo + 1) * runSize - 1,
      });
      return { items: summary.inArrears, summary };
    },
    () => options.onProgress?.(++done, total.length),
  );
  const parts = await db
    .selectFrom('job_partition')
    .select('summary')
    .where('run_key', '=', runKey)
    .where('status', '=', 'done')
    .execute();
  const sum: PartSummary = { examined: 0, inArrears: 0, overduePrincipalFen: 0, lateFeeFen: 0 };
  for (const part of parts) {
    const s = part.summary as PartSummary | null;
    if (!s) continue;
    sum.examined += s.examined;
    sum.inArrears += s.inArrears;
    sum.overduePrincipalFen += s.overduePrincipalFen;
    sum.lateFeeFen += s.lateFeeFen;
  }
  if ((await pendingPartitions(db, runKey)) === 0)
    await db
      .updateTable('job_run')
      .set({ status: 'done', finished_at: new Date(), summary: JSON.stringify(sum) })
      .where('run_key', '=', runKey)
      .where('status', '=', 'running')
      .execute();
  return { runKey, period: options.period, asOf, ...sum, partitions: total.length, partitionsDoneHere };
}

async function snapshotPartition(
  trx: Transaction<DB>,
  period: Period,
  asOf: LocalDate,
  range: { low: number; high: number },
): Promise<PartSummary> {
  // Customers with a bill overdue at the month end that was not settled in full by its due date.
  const candidates = await sql<{ customer_id: number; category: string }>`
    select c.customer_id, c.category from customer c
    where c.customer_id between ${range.low} and ${range.high}
      and exists (
        select 1 from bill b
        join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
        left join lateral ${principalSettledSql()} x on true
        where b.customer_id = c.customer_id and r.due_on < ${asOf}::date
          and ${latestRevisionSql()}
          and ${billCanStillOweSql()})
    order by c.customer_id`.execute(trx);
  const summary: PartSummary = {
    examined: candidates.rows.length,
    inArrears: 0,
    overduePrincipalFen: 0,
    lateFeeFen: 0,
  };
  if (candidates.rows.length === 0) return summary;
  const states = await loadCustomerStates(
    trx,
    candidates.rows.map((row) => Number(row.customer_id)),
  );
  const rows: unknown[][] = [];
  for (const candidate of candidates.rows) {
    const customerId = Number(candidate.customer_id);
    // As the books stood at the month end: later payments and credits are left out.
    const atMonthEnd = stateAsOf(states.get(customerId)!, asOf);
    const bills = openBillsOf(atMonthEnd, candidate.category, asOf).filter((bill) => bill.dueOn < asOf);
    const principal = bills.reduce((sum, bill) => sum + bill.openPrincipalFen, 0);
    const fee = bills.reduce((sum, bill) => sum + bill.lateFeeFen, 0);
    if (principal === 0 && fee === 0) continue;
    rows.push([customerId, period, asOf, principal, fee, bills.length]);
    summary.inArrears += 1;
    summary.overduePrincipalFen += principal;
    summary.lateFeeFen += fee;
  }
  await copyRows(
    trx,
    'late_fee_snapshot',
    ['customer_id', 'period', 'as_of', 'overdue_principal_fen', 'late_fee_fen', 'bills'],
    rows,
  );
  return summary;
}
