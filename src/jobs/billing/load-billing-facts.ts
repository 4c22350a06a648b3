import { type Transaction, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import { type Period, addMonths } from '../../domain/local-date.js';
import { CONFLICTING_READ, type ConflictCode } from '../../domain/reads/conflicting-read.js';

/** Months searched for a meter's opening read before falling back to an unbounded lookup. */
const OPENING_LOOKBACK_MONTHS = 3;

/** Everything the billing run reads for one partition of customers, in a few set-based queries. */
export interface BillingFacts {
  readonly customers: readonly CustomerFact[];
  /** Per customer, the meters in service during the period with their reads. */
  readonly meters: ReadonlyMap<number, MeterFact[]>;
  readonly changes: PerMeter<{ changedOn: string; oldFinal: Record<string, string> }>;
  readonly history: ReadonlyMap<number, { period: string; kwh: string }[]>;
  /** Suspensions, swaps and capacity changes touching the period, per customer. */
  readonly capacityChanges: ReadonlyMap<number, { from: string; to: string | null; capacityKva: string }[]>;
  /** Exception codes a checker confirmed for this period, per customer: those no longer hold. */
  readonly confirmed: ReadonlyMap<number, ReadonlySet<string>>;
  /** Conflicting-read exceptions no checker has decided yet, per customer: those hold. */
  readonly undecidedConflicts: ReadonlyMap<number, readonly ConflictCode[]>;
}

export interface CustomerFact {
  customer_id: number;
  customer_no: string;
  category: string;
  tariff_code: string;
  household_size: number | null;
  opened_on: string;
  closed_on: string | null;
  contract_capacity_kva: string | null;
  contract_demand_kw: string | null;
  metering_side: string;
  occupancy: string;
}

export interface MeterFact {
  meter_id: number;
  meter_no: string;
  multiplier: number;
  register_digits: number;
  installed_on: string;
  removed_on: string | null;
  /** The reads the meter was installed with; null when an opening read was found in the last months. */
  initial_reads: Record<string, string> | null;
  /** This period's read (a correction supersedes the read it corrects), if there is one. */
  closing: ReadFact | null;
  /** The latest earlier read, if there is one. */
  opening: ReadFact | null;
}

export interface ReadFact {
  read_on: string;
  kind: string;
  total: string | null;
  sharp: string | null;
  peak: string | null;
  flat: string | null;
  valley: string | null;
  reactive: string | null;
  demand: string | null;
}

/** A meter with its two reads, as the query returns it (c_: closing read, o_: opening read). */
interface MeterRow extends Omit<MeterFact, 'closing' | 'opening'> {
  customer_id: number;
  c_read_on: string | null;
  c_kind: string | null;
  c_total: string | null;
  c_sharp: string | null;
  c_peak: string | null;
  c_flat: string | null;
  c_valley: string | null;
  c_reactive: string | null;
  c_demand: string | null;
  o_read_on: string | null;
  o_kind: string | null;
  o_total: string | null;
  o_sharp: string | null;
  o_peak: string | null;
  o_flat: string | null;
  o_valley: string | null;
  o_reactive: string | null;
  o_demand: string | null;
}

/**
 * Facts keyed by (customer, meter) (meter changes, meters awaiting an older opening read),
 * looked up with the two numbers: composite string keys cost more than the pricing around them.
 */
export class PerMeter<T> {
  readonly #byCustomer = new Map<number, Map<number, T>>();

  get(customerId: number, meterId: number): T | undefined {
    return this.#byCustomer.get(customerId)?.get(meterId);
  }

  set(customerId: number, meterId: number, value: T): this {
    let meters = this.#byCustomer.get(customerId);
    if (!meters) {
      meters = new Map();
      this.#byCustomer.set(customerId, meters);
    }
    meters.set(meterId, value);
    return this;
  }

  static of<R extends { customer_id: number }, T>(
    rows: readonly R[],
    meterId: (row: R) => number,
    value: (row: R) => T,
  ): PerMeter<T> {
    const map = new PerMeter<T>();
    for (const row of rows) map.set(row.customer_id, meterId(row), value(row));
    return map;
  }
}

export async function loadBillingFacts(
  trx: Transaction<DB>,
  range: { readonly low: number; readonly high: number },
  period: string,
  periodStart: string,
  periodEnd: string,
  historyFrom: string,
  stationId: number | undefined,
  options: { readonly includeBilled?: boolean } = {},
): Promise<BillingFacts> {
  // Opening reads are looked up in the last months first; meters with none there (long-missing
  // reads) are looked up again without the bound below.
  const lookbackFrom = addMonths(period as Period, -OPENING_LOOKBACK_MONTHS);
  const station = stationId === undefined ? sql`` : sql`and c.station_id = ${stationId}`;
  const customers = await sql<CustomerFact>`
    select c.customer_id, c.customer_no, c.category, c.tariff_code, c.household_size, c.opened_on, c.closed_on,
           c.contract_capacity_kva, c.contract_demand_kw, c.metering_side, c.occupancy
    from customer c
    where c.customer_id between ${range.low} and ${range.high}
      and c.opened_on <= ${periodEnd} and (c.closed_on is null or c.closed_on >= ${periodStart})
      ${station}
      ${
        options.includeBilled
          ? sql``
          : // The range is repeated inside: whatever plan the statistics of a filling bill table
            // suggest (a hash anti-join over the period's bills, say), it touches this range only.
            // Without it, a run on a freshly loaded county spent 163 ms per partition here.
            sql`and not exists (select 1 from bill b where b.customer_id = c.customer_id
                  and b.customer_id between ${range.low} and ${range.high} and b.period = ${period})`
      }
    order by c.customer_id`.execute(trx);
  if (customers.rows.length === 0) {
    return {
      customers: [],
      meters: new Map(),
      changes: new PerMeter(),
      history: new Map(),
      confirmed: new Map(),
      undecidedConflicts: new Map(),
      capacityChanges: new Map(),
    };
  }
  // When few customers are left in the range (a second attempt after exceptions were resolved),
  // fetch their facts by id instead of the whole range.
  const ids = customers.rows.map((row) => row.customer_id);
  const sparse = ids.length * 4 < range.high - range.low + 1;
  const within = (column: ReturnType<typeof sql.ref>) =>
    sparse
      ? sql`${column} = any(${sql.val(ids)}::int8[])`
      : sql`${column} between ${range.low} and ${range.high}`;
  // A meter's opening and closing reads come with the meter, in one row: one query and one row
  // per meter instead of three (the run reads a million of these; rows cost more than columns).
  const [meterRows, changeRows, historyRows, confirmedRows, capacityRows, conflictRows] = await Promise.all([
    sql<MeterRow>`
      select m.customer_id, m.meter_id, m.meter_no, m.multiplier, m.register_digits, m.installed_on,
             m.removed_on,
             -- A meter's initial reads open its first period only: sent when no earlier read is.
             case when o.read_on is null then m.initial_reads end as initial_reads,
             cr.read_on as c_read_on, cr.kind as c_kind, cr.total as c_total, cr.sharp as c_sharp,
             cr.peak as c_peak, cr.flat as c_flat, cr.valley as c_valley, cr.reactive as c_reactive,
             cr.demand as c_demand,
             o.read_on as o_read_on, o.kind as o_kind, o.total as o_total, o.sharp as o_sharp,
             o.peak as o_peak, o.flat as o_flat, o.valley as o_valley, o.reactive as o_reactive,
             o.demand as o_demand
      from meter m
      left join (
        -- This period's read per meter; a correction supersedes the read it corrects. The range
        -- repeated on the corrections lets the planner merge them in one pass (0.3 ms a
        -- partition) instead of probing the index once per read (3 ms).
        select distinct on (r.customer_id, r.meter_id) r.customer_id, r.meter_id, r.read_on, r.kind,
               r.total, r.sharp, r.peak, r.flat, r.valley, r.reactive, r.demand
        from meter_read r
        where ${within(sql.ref('r.customer_id'))} and r.period = ${period}
          and not exists (select 1 from meter_read s where s.customer_id = r.customer_id and s.supersedes_read_id = r.meter_read_id
                            and ${within(sql.ref('s.customer_id'))})
        order by r.customer_id, r.meter_id, r.read_on desc, r.meter_read_id desc
      ) cr on cr.customer_id = m.customer_id and cr.meter_id = m.meter_id
      left join (
        select distinct on (r.customer_id, r.meter_id) r.customer_id, r.meter_id, r.read_on, r.kind,
               r.total, r.sharp, r.peak, r.flat, r.valley, r.reactive, r.demand
        from meter_read r
        where ${within(sql.ref('r.customer_id'))} and r.period < ${period} and r.period >= ${lookbackFrom}
          and not exists (select 1 from meter_read s where s.customer_id = r.customer_id and s.supersedes_read_id = r.meter_read_id
                            and ${within(sql.ref('s.customer_id'))})
        order by r.customer_id, r.meter_id, r.period desc, r.read_on desc, r.meter_read_id desc
      ) o on o.customer_id = m.customer_id and o.meter_id = m.meter_id
      where ${within(sql.ref('m.customer_id'))}
        and m.installed_on <= ${periodEnd} and (m.removed_on is null or m.removed_on >= ${periodStart})
      order by m.customer_id, m.meter_id`.execute(trx),
    sql<{
      customer_id: number;
      old_meter_id: number;
      changed_on: string;
      old_final: Record<string, string>;
    }>`
      select customer_id, old_meter_id, changed_on, old_final from meter_change
      where ${within(sql.ref('customer_id'))} and changed_on between ${periodStart}::date - 62 and ${periodEnd}`.execute(
      trx,
    ),
    // One row per customer: the periods and kWh of recent bills (latest revision), newest first.
    sql<{ customer_id: number; periods: string; kwh: string }>`
      select customer_id, string_agg(period, ',' order by period desc) as periods,
             string_agg(kwh_total::text, ',' order by period desc) as kwh
      from (select distinct on (customer_id, period) customer_id, period, kwh_total from bill
            where ${within(sql.ref('customer_id'))} and period >= ${historyFrom} and period < ${period}
            order by customer_id, period, revision desc) latest
      group by customer_id`.execute(trx),
    sql<{ customer_id: number; code: string }>`
      select customer_id, code from read_exception_resolution
      where ${within(sql.ref('customer_id'))} and period = ${period} and resolution = 'confirmed'`.execute(
      trx,
    ),
    sql<{ customer_id: number; from_date: string; to_date: string | null; capacity_kva: string }>`
      select customer_id, from_date, to_date, capacity_kva from capacity_change
      where ${within(sql.ref('customer_id'))} and from_date <= ${periodEnd}
        and (to_date is null or to_date > ${periodStart}::date - 62)
      order by customer_id, from_date`.execute(trx),
    // A read import's pending corrections: the customer waits for the checker's decision.
    sql<{ customer_id: number; code: ConflictCode }>`
      select e.customer_id, e.code from read_exception e
      where ${within(sql.ref('e.customer_id'))} and e.period = ${period}
        and (e.code = ${CONFLICTING_READ} or e.code like ${`${CONFLICTING_READ}-%`})
        and not exists (select 1 from read_exception_resolution x
                        where x.customer_id = e.customer_id and x.period = e.period and x.code = e.code)`.execute(
      trx,
    ),
  ]);
  const meters = new Map<number, MeterFact[]>();
  const unopened: { customerId: number; meter: MeterFact }[] = [];
  let list: MeterFact[] = [];
  let listCustomer = -1;
  for (const row of meterRows.rows) {
    const meter: MeterFact = {
      meter_id: row.meter_id,
      meter_no: row.meter_no,
      multiplier: row.multiplier,
      register_digits: row.register_digits,
      installed_on: row.installed_on,
      removed_on: row.removed_on,
      initial_reads: row.initial_reads,
      closing:
        row.c_read_on === null
          ? null
          : {
              read_on: row.c_read_on,
              kind: row.c_kind!,
              total: row.c_total,
              sharp: row.c_sharp,
              peak: row.c_peak,
              flat: row.c_flat,
              valley: row.c_valley,
              reactive: row.c_reactive,
              demand: row.c_demand,
            },
      opening:
        row.o_read_on === null
          ? null
          : {
              read_on: row.o_read_on,
              kind: row.o_kind!,
              total: row.o_total,
              sharp: row.o_sharp,
              peak: row.o_peak,
              flat: row.o_flat,
              valley: row.o_valley,
              reactive: row.o_reactive,
              demand: row.o_demand,
            },
    };
    if (row.customer_id !== listCustomer) {
      list = [];
      listCustomer = row.customer_id;
      meters.set(listCustomer, list);
    }
    list.push(meter);
    if (meter.opening === null && meter.installed_on < `${lookbackFrom}-01`)
      unopened.push({ customerId: row.customer_id, meter });
  }
  if (unopened.length > 0) {
    const older = await sql<ReadFact & { customer_id: number; meter_id: number }>`
      select distinct on (r.customer_id, r.meter_id) r.customer_id, r.meter_id, r.read_on, r.kind,
             r.total, r.sharp, r.peak, r.flat, r.valley, r.reactive, r.demand
      from meter_read r
      where r.customer_id = any(${sql.val(unopened.map((entry) => entry.customerId))}::int8[])
        and r.meter_id = any(${sql.val(unopened.map((entry) => entry.meter.meter_id))}::int8[]) and r.period < ${lookbackFrom}
        and not exists (select 1 from meter_read s where s.customer_id = r.customer_id and s.supersedes_read_id = r.meter_read_id)
      order by r.customer_id, r.meter_id, r.period desc, r.read_on desc, r.meter_read_id desc`.execute(trx);
    const byMeter = new PerMeter<MeterFact>();
    for (const entry of unopened) byMeter.set(entry.customerId, entry.meter.meter_id, entry.meter);
    for (const { customer_id, meter_id, ...read } of older.rows) {
      const meter = byMeter.get(customer_id, meter_id);
      if (meter) meter.opening = read;
    }
  }
  const capacityChanges = new Map<number, { from: string; to: string | null; capacityKva: string }[]>();
  for (const row of capacityRows.rows) {
    const list = capacityChanges.get(row.customer_id) ?? [];
    list.push({ from: row.from_date, to: row.to_date, capacityKva: row.capacity_kva });
    capacityChanges.set(row.customer_id, list);
  }
  const confirmed = new Map<number, Set<string>>();
  for (const row of confirmedRows.rows) {
    const codes = confirmed.get(row.customer_id) ?? new Set<string>();
    codes.add(row.code);
    confirmed.set(row.customer_id, codes);
  }
  const undecidedConflicts = new Map<number, ConflictCode[]>();
  for (const row of conflictRows.rows) {
    const codes = undecidedConflicts.get(row.customer_id) ?? [];
    codes.push(row.code);
    undecidedConflicts.set(row.customer_id, codes);
  }
  const history = new Map<number, { period: string; kwh: string }[]>();
  for (const row of historyRows.rows) {
    const kwh = row.kwh.split(',');
    history.set(
      row.customer_id,
      row.periods.split(',').map((period, k) => ({ period, kwh: kwh[k]! })),
    );
  }
  return {
    customers: customers.rows,
    meters,
    changes: PerMeter.of(
      changeRows.rows,
      (row) => row.old_meter_id,
      (row) => ({ changedOn: row.changed_on, oldFinal: row.old_final }),
    ),
    history,
    confirmed,
    undecidedConflicts,
    capacityChanges,
  };
}
