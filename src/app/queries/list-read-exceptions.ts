import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import { type Principal, requirePermission } from '../principal.js';
import { inScopeSql } from '../ledger/scope.js';

export interface ReadExceptionView {
  readonly customerNo: string;
  readonly name: string;
  readonly stationName: string;
  readonly transformerAreaName: string;
  readonly period: string;
  readonly code: string;
  readonly severity: 'hold' | 'warn';
  readonly detail: unknown;
  readonly resolution: string | null;
  readonly billed: boolean;
}

/** The exception queue of a period within the principal's scope (open holds first). Errors: forbidden. */
export async function listReadExceptions(
  db: Kysely<DB>,
  principal: Principal,
  filter: {
    readonly period: string;
    readonly stationId?: number;
    readonly openOnly?: boolean;
    readonly limit: number;
  },
): Promise<ReadExceptionView[]> {
  requirePermission(principal, 'reads.read');
  let query = db
    .selectFrom('read_exception as e')
    .innerJoin('customer as c', 'c.customer_id', 'e.customer_id')
    .innerJoin('org_unit as s', 's.org_unit_id', 'c.station_id')
    .innerJoin('area as a', 'a.area_id', 'c.transformer_area_id')
    .leftJoin('read_exception_resolution as r', (join) =>
      join
        .onRef('r.customer_id', '=', 'e.customer_id')
        .onRef('r.period', '=', 'e.period')
        .onRef('r.code', '=', 'e.code'),
    )
    .select([
      'c.customer_no',
      'c.name',
      's.name as station_name',
      'a.name as area_name',
      'e.period',
      'e.code',
      'e.severity',
      'e.detail',
      'r.resolution',
      sql<boolean>`exists (select 1 from bill b where b.customer_id = e.customer_id and b.period = e.period)`.as(
        'billed',
      ),
    ])
    .where('e.period', '=', filter.period)
    .where(inScopeSql(principal, 's.path'))
    .orderBy(sql`case when e.severity = 'hold' and r.resolution is null then 0 else 1 end`)
    .orderBy('c.customer_id')
    .limit(filter.limit);
  if (filter.stationId !== undefined) query = query.where('c.station_id', '=', filter.stationId);
  if (filter.openOnly) query = query.where('e.severity', '=', 'hold').where('r.resolution', 'is', null);
  const rows = await query.execute();
  return rows.map((row) => ({
    customerNo: row.customer_no,
    name: row.name,
    stationName: row.station_name,
    transformerAreaName: row.area_name,
    period: row.period,
    code: row.code,
    severity: row.severity,
    detail: row.detail,
    resolution: row.resolution,
    billed: row.billed,
  }));
}
