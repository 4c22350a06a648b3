import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Principal } from '../../app/principal.js';
import { resolveReadException } from '../../app/resolve-read-exception.js';
import { periodEnd } from '../../domain/billing/bill-identity.js';
import {
  type LocalDate,
  type Period,
  addDays,
  addMonths,
  localDate,
  periodMonth,
  periodYear,
} from '../../domain/local-date.js';
import type { StaffRole } from '../../domain/staff-role.js';
import type { Clock } from '../../app/ports.js';
import { releaseBills } from '../billing/release-bills.js';
import {
  type DemoCollectionContext,
  collectDemoMonth,
  registerDemoChannels,
} from './collect-demo-payments.js';
import { runBilling } from '../billing/run-billing.js';

export interface BillDemoHistoryOptions {
  readonly concurrency: number;
  readonly worker: string;
  /** When given, each released month is also collected (collectDemoMonth) before the next is billed. */
  readonly collect?: { readonly context: DemoCollectionContext; readonly clock: Clock };
  readonly onProgress?: (periodsDone: number, periodsTotal: number, period: Period) => void;
  /** Asked before each month: true stops the history there (a later call resumes it). */
  readonly shouldStop?: () => boolean;
}

export interface DemoBillingSummary {
  readonly periods: number;
  readonly bills: number;
  readonly resolved: number;
  readonly payments: number;
  readonly withheld: number;
  readonly alreadyDone: boolean;
  /** True when shouldStop ended the history before its last month. */
  readonly stopped?: boolean;
}

/**
 * Gives the demo county its billing history through the real paths: for each month, the billing
 * run; the station's billing checker then resolves the held reads (estimates missing or
 * impossible reads from recent months, confirms jumps, drops and zero months); a second run
 * bills them; the month is released on the 3rd of the next month. Resumable: finished months
 * are skipped, and a completed history is marked so reruns do nothing.
 */
export async function billDemoHistory(
  db: Kysely<DB>,
  options: BillDemoHistoryOptions,
): Promise<DemoBillingSummary> {
  const demo = await db.selectFrom('demo_county').selectAll().executeTakeFirst();
  if (!demo) return { periods: 0, bills: 0, resolved: 0, payments: 0, withheld: 0, alreadyDone: false };
  const marker = `demo-billing:seed=${demo.seed}:until=${demo.last_period}`;
  const done = await db
    .selectFrom('job_run')
    .select('status')
    .where('run_key', '=', marker)
    .executeTakeFirst();
  if (done?.status === 'done')
    return { periods: demo.months, bills: 0, resolved: 0, payments: 0, withheld: 0, alreadyDone: true };
  if (!done) {
    await db
      .insertInto('job_run')
      .values({
        run_key: marker,
        kind: 'demo-billing',
        params: JSON.stringify({ seed: demo.seed }),
        status: 'running',
        partitions: 0,
      })
      .execute();
  }
  const checkers = await stationCheckers(db);
  let bills = 0;
  let resolved = 0;
  let payments = 0;
  let withheld = 0;
  if (options.collect) await registerDemoChannels(db, options.collect.context, options.collect.clock.now());
  const collect = async (period: Period) => {
    if (!options.collect) return;
    const next = addMonths(period, 1);
    const collected = await collectDemoMonth(db, options.collect.context, options.collect.clock, {
      period,
      from: addDaysToFirst(next, 2),
      to: addDays(addDaysToFirst(addMonths(next, 1), 2), -1),
    });
    payments += collected.payments;
    withheld += collected.withheld;
  };
  const first = demo.first_period as Period;
  for (let k = 0; k < demo.months; k++) {
    const period = addMonths(first, k);
    if (options.shouldStop?.())
      return { periods: k, bills, resolved, payments, withheld, alreadyDone: false, stopped: true };
    const released = await sql<{ n: number }>`
      select count(*)::int as n from bill b join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
      where b.period = ${period}`.execute(db);
    if (Number(released.rows[0]?.n ?? 0) > 0) {
      await collect(period);
      options.onProgress?.(k + 1, demo.months, period);
      continue;
    }
    const run = await runBilling(db, { period, concurrency: options.concurrency, worker: options.worker });
    bills += run.billed;
    const held = await sql<{ customer_no: string; code: string; station_id: number }>`
      select c.customer_no, e.code, c.station_id from read_exception e
      join customer c on c.customer_id = e.customer_id
      where e.period = ${period} and e.severity = 'hold'
        and not exists (select 1 from read_exception_resolution r where r.customer_id = e.customer_id and r.period = e.period and r.code = e.code)
        and not exists (select 1 from bill b where b.customer_id = e.customer_id and b.period = e.period)
      order by c.customer_id, e.code`.execute(db);
    const next = addMonths(period, 1);
    const handled = new Set<string>();
    for (const row of held.rows) {
      const checker = checkers.get(row.station_id);
      if (!checker) continue;
      const estimate = row.code === 'missing_read' || row.code === 'read_below_previous';
      // One estimate replaces all of a customer's reads for the month; its other codes are then moot.
      if (handled.has(row.customer_no) && !estimate) continue;
      await resolveReadException(db, checker, {
        customerNo: row.customer_no,
        period,
        code: row.code,
        readOn: periodEnd(period),
        resolution: estimate
          ? { kind: 'estimated', method: 'average_recent', note: '示范: 按近三月均值估抄' }
          : { kind: 'confirmed', note: '示范: 核实无误' },
      });
      if (estimate) handled.add(row.customer_no);
      resolved += 1;
    }
    if (held.rows.length > 0)
      bills += (await runBilling(db, { period, concurrency: options.concurrency, worker: options.worker }))
        .billed;
    // Each station's checker releases the station's bills on the 3rd of the next month.
    for (const [stationId, checker] of checkers) {
      await releaseBills(db, { period, stationId, releasedOn: addDaysToFirst(next, 2), actor: checker });
    }
    await collect(period);
    // Fresh statistics as the tables double: the embedded database has no autovacuum, and plans
    // cached while a table was small (foreign-key checks) would scan it whole.
    if (((k + 1) & k) === 0)
      await sql`analyze bill, bill_release, bill_line, journal_entry, posting, payment, payment_key, allocation, meter_read, read_exception`.execute(
        db,
      );
    options.onProgress?.(k + 1, demo.months, period);
  }
  await db
    .updateTable('job_run')
    .set({
      status: 'done',
      finished_at: new Date(),
      summary: JSON.stringify({ bills, resolved, payments, withheld }),
    })
    .where('run_key', '=', marker)
    .execute();
  return { periods: demo.months, bills, resolved, payments, withheld, alreadyDone: false };
}

function addDaysToFirst(period: Period, days: number): LocalDate {
  return localDate(periodYear(period), periodMonth(period), 1 + days);
}

/** The first billing checker of each station, as the principal who resolves its exceptions. */
async function stationCheckers(db: Kysely<DB>): Promise<Map<number, Principal>> {
  const rows = await db
    .selectFrom('staff')
    .innerJoin('org_unit as team', 'team.org_unit_id', 'staff.org_unit_id')
    .innerJoin('org_unit as station', 'station.org_unit_id', 'team.parent_id')
    .select([
      'staff.staff_id',
      'staff.login',
      'staff.name',
      'staff.roles',
      'staff.org_unit_id',
      'station.org_unit_id as station_id',
      'station.path',
    ])
    .where(sql<boolean>`'billing_checker' = any(staff.roles)`)
    .orderBy('staff.staff_id')
    .execute();
  const checkers = new Map<number, Principal>();
  for (const row of rows) {
    if (checkers.has(row.station_id)) continue;
    checkers.set(row.station_id, {
      kind: 'staff',
      staffId: row.staff_id,
      login: row.login,
      name: row.name,
      roles: row.roles as StaffRole[],
      orgUnitId: row.org_unit_id,
      scopePath: row.path,
    });
  }
  return checkers;
}
