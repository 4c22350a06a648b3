import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import { formatYuan } from '../../domain/money.js';
import { type Principal, requirePermission } from '../principal.js';
import { latestRevisionSql } from '../ledger/customer-state.js';
import { inScopeSql } from '../ledger/scope.js';

export interface StationOverview {
  readonly stationId: number;
  readonly code: string;
  readonly name: string;
  readonly nameEn: string;
  readonly transformerAreas: number;
  readonly staff: number;
  readonly customers: number;
  readonly customersByCategory: Readonly<Record<string, number>>;
  readonly protectedCustomers: number;
  readonly prepaidCustomers: number;
  /** The latest period with reads, and its reads: actual, estimated, and customers with none. */
  readonly latestPeriod: string | null;
  readonly actualReads: number;
  readonly estimatedReads: number;
  readonly activeCustomers: number;
}

export interface CountyOverview {
  readonly county: { readonly name: string; readonly nameEn: string } | null;
  /** Bills and billed amount (latest revisions) per period, the last 24 periods, within scope. */
  readonly billing: readonly { readonly period: string; readonly bills: number; readonly amount: string }[];
  readonly demo: { readonly seed: number; readonly firstPeriod: string; readonly lastPeriod: string } | null;
  readonly stations: readonly StationOverview[];
}

/** Per-station registry and read figures within the principal's scope. Errors: forbidden. */
export async function countyOverview(db: Kysely<DB>, principal: Principal): Promise<CountyOverview> {
  requirePermission(principal, 'registry.read');
  const [county, demo, stations, categories, areas, staff, latest] = await Promise.all([
    db.selectFrom('org_unit').select(['name', 'name_en']).where('kind', '=', 'county').executeTakeFirst(),
    db.selectFrom('demo_county').selectAll().executeTakeFirst(),
    db
      .selectFrom('org_unit')
      .select(['org_unit_id', 'code', 'name', 'name_en'])
      .where('kind', '=', 'station')
      .where(inScopeSql(principal, 'path'))
      .orderBy('code')
      .execute(),
    db
      .selectFrom('customer')
      .select([
        'station_id',
        'category',
        (eb) => eb.fn.countAll<number>().as('customers'),
        sql<number>`count(*) filter (where protected)`.as('protected'),
        sql<number>`count(*) filter (where billing_mode <> 'postpaid')`.as('prepaid'),
        sql<number>`count(*) filter (where status = 'active')`.as('active'),
      ])
      .groupBy(['station_id', 'category'])
      .execute(),
    db
      .selectFrom('area')
      .select(['station_id', (eb) => eb.fn.countAll<number>().as('areas')])
      .where('kind', '=', 'transformer_area')
      .groupBy('station_id')
      .execute(),
    db
      .selectFrom('staff')
      .innerJoin('org_unit', 'org_unit.org_unit_id', 'staff.org_unit_id')
      .select([
        sql<string>`split_part(org_unit.path, '/', 3)`.as('station_id'),
        (eb) => eb.fn.countAll<number>().as('staff'),
      ])
      .where(inScopeSql(principal, 'org_unit.path'))
      .groupBy(sql`split_part(org_unit.path, '/', 3)`)
      .execute(),
    db
      .selectFrom('meter_read')
      .select((eb) => eb.fn.max('period').as('period'))
      .executeTakeFirst(),
  ]);
  const latestPeriod = latest?.period ?? null;
  const billing = latestPeriod
    ? await sql<{ period: string; bills: number; amount_fen: string }>`
        select b.period, count(*)::int as bills, sum(b.amount_fen)::text as amount_fen
        from bill b
        join customer c on c.customer_id = b.customer_id
        join org_unit s on s.org_unit_id = c.station_id
        where b.period > to_char(to_date(${latestPeriod}, 'YYYY-MM') - interval '24 months', 'YYYY-MM')
          and ${inScopeSql(principal, 's.path')}
          and ${latestRevisionSql()}
        group by b.period order by b.period`.execute(db)
    : { rows: [] };
  const reads = latestPeriod
    ? await db
        .selectFrom('meter_read')
        .innerJoin('customer', 'customer.customer_id', 'meter_read.customer_id')
        .select([
          'customer.station_id',
          sql<number>`count(*) filter (where meter_read.kind = 'actual')`.as('actual'),
          sql<number>`count(*) filter (where meter_read.kind = 'estimated')`.as('estimated'),
        ])
        .where('meter_read.period', '=', latestPeriod)
        .groupBy('customer.station_id')
        .execute()
    : [];
  return {
    county: county ? { name: county.name, nameEn: county.name_en } : null,
    billing: billing.rows.map((row) => ({
      period: row.period,
      bills: row.bills,
      amount: formatYuan(BigInt(row.amount_fen)),
    })),
    demo: demo
      ? { seed: Number(demo.seed), firstPeriod: demo.first_period, lastPeriod: demo.last_period }
      : null,
    stations: stations.map((station) => {
      const mine = categories.filter((row) => row.station_id === station.org_unit_id);
      const byCategory: Record<string, number> = {};
      for (const row of mine) byCategory[row.category] = Number(row.customers);
      const readRow = reads.find((row) => row.station_id === station.org_unit_id);
      const sum = (pick: (row: (typeof mine)[number]) => number) =>
        mine.reduce((total, row) => total + Number(pick(row)), 0);
      return {
        stationId: station.org_unit_id,
        code: station.code,
        name: station.name,
        nameEn: station.name_en,
        transformerAreas: Number(areas.find((row) => row.station_id === station.org_unit_id)?.areas ?? 0),
        staff: Number(staff.find((row) => Number(row.station_id) === station.org_unit_id)?.staff ?? 0),
        customers: sum((row) => row.customers),
        customersByCategory: byCategory,
        protectedCustomers: sum((row) => row.protected),
        prepaidCustomers: sum((row) => row.prepaid),
        activeCustomers: sum((row) => row.active),
        latestPeriod,
        actualReads: Number(readRow?.actual ?? 0),
        estimatedReads: Number(readRow?.estimated ?? 0),
      };
    }),
  };
}
