import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import { periodEnd, periodStart } from '../../domain/billing/bill-identity.js';
import type { Period } from '../../domain/local-date.js';
import { type Principal, requirePermission } from '../principal.js';
import { inScopeSql } from '../ledger/scope.js';

export interface ReadQualityRow {
  /** Station or meter reader (the staff member answering for the area that month). */
  readonly key: string;
  readonly name: string;
  readonly stationName: string;
  /** Customers due to be read (in supply during the period). */
  readonly due: number;
  readonly actual: number;
  readonly estimated: number;
  readonly missing: number;
  /** Reads a checker had to correct or replace by an estimate. */
  readonly errors: number;
  /** 实抄率: actually read ÷ due. Estimated reads count as not read. */
  readonly actualReadRate: number;
  /** 抄表差错率: erroneous reads ÷ actual reads. */
  readonly errorRate: number;
}

/**
 * Actual-read rate (实抄率) and read error rate (抄表差错率) of a period, per station or per meter
 * reader (the staff member answering for the transformer area that month, 包线包片).
 * Errors: forbidden.
 */
export async function readQuality(
  db: Kysely<DB>,
  principal: Principal,
  period: Period,
  by: 'station' | 'reader',
): Promise<ReadQualityRow[]> {
  requirePermission(principal, 'reads.read');
  const start = periodStart(period);
  const end = periodEnd(period);
  const group =
    by === 'station'
      ? sql`s.org_unit_id::text as key, s.name as name, s.name as station_name`
      : sql`coalesce(st.login, '-') as key, coalesce(st.name, '-') as name, s.name as station_name`;
  const groupBy = by === 'station' ? sql`s.org_unit_id, s.name` : sql`st.login, st.name, s.name`;
  const rows = await sql<{
    key: string;
    name: string;
    station_name: string;
    due: number;
    actual: number;
    estimated: number;
    with_read: number;
    errors: number;
  }>`
    with due as (
      select c.customer_id, c.station_id, c.transformer_area_id from customer c
      where c.opened_on <= ${end} and (c.closed_on is null or c.closed_on >= ${start})
    ),
    reads as (
      select r.customer_id,
             bool_or(r.kind = 'actual' and r.source <> 'correction') as actual,
             bool_or(r.kind = 'estimated') as estimated
      from meter_read r join due d on d.customer_id = r.customer_id
      where r.period = ${period}
      group by r.customer_id
    ),
    errors as (
      select distinct x.customer_id from read_exception_resolution x
      where x.period = ${period} and x.resolution in ('corrected', 'estimated')
        and x.code in ('read_below_previous', 'consumption_jump', 'consumption_drop')
    ),
    holders as (
      select distinct on (a.area_id) a.area_id, a.staff_id from area_assignment a
      where a.valid_from <= ${end} order by a.area_id, a.valid_from desc
    )
    select ${group},
           count(*)::int as due,
           count(*) filter (where rd.actual and not coalesce(rd.estimated, false))::int as actual,
           count(*) filter (where rd.estimated)::int as estimated,
           count(rd.customer_id)::int as with_read,
           count(e.customer_id)::int as errors
    from due d
    join org_unit s on s.org_unit_id = d.station_id
    left join holders h on h.area_id = d.transformer_area_id
    left join staff st on st.staff_id = h.staff_id
    left join reads rd on rd.customer_id = d.customer_id
    left join errors e on e.customer_id = d.customer_id
    where ${inScopeSql(principal, 's.path')}
    group by ${groupBy}
    order by 1`.execute(db);
  return rows.rows.map((row) => ({
    key: row.key,
    name: row.name,
    stationName: row.station_name,
    due: row.due,
    actual: row.actual,
    estimated: row.estimated,
    missing: row.due - row.with_read,
    errors: row.errors,
    actualReadRate: row.due === 0 ? 0 : Math.round((row.actual / row.due) * 10_000) / 10_000,
    errorRate: row.actual === 0 ? 0 : Math.round((row.errors / row.actual) * 10_000) / 10_000,
  }));
}
