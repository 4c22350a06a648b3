import { type Transaction, sql } from 'kysely';
import type { DB } from '../../adapters/db/schema.js';

/** Everything the billing run reads for one partition of customers, in a few set-based queries. */
export interface BillingFacts {
  readonly customers: readonly CustomerFact[];
  readonly meters: ReadonlyMap<number, MeterFact[]>;
  readonly closingReads: ReadonlyMap<string, ReadFact>;
  readonly openingReads: ReadonlyMap<string, ReadFact>;
  readonly changes: ReadonlyMap<string, { changedOn: string; oldFinal: Record<string, string> }>;
  readonly history: ReadonlyMap<number, { period: string; kwh: string }[]>;
}

export interface CustomerFact {
  customer_id: number;
  customer_no: string;
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
  initial_reads: Record<string, string>;
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

export const meterKey = (customerId: number, meterId: number) => `${customerId}:${meterId}`;

export async function loadBillingFacts(
  trx: Transaction<DB>,
  range: { readonly low: number; readonly high: number },
  period: string,
  periodStart: string,
  periodEnd: string,
  historyFrom: string,
  stationId: number | undefined,
): Promise<BillingFacts> {
  const station = stationId === undefined ? sql`` : sql`and c.station_id = ${stationId}`;
  const customers = await sql<CustomerFact>`
    select c.customer_id, c.customer_no, c.tariff_code, c.household_size, c.opened_on, c.closed_on,
           c.contract_capacity_kva, c.contract_demand_kw, c.metering_side, c.occupancy
    from customer c
    where c.customer_id between ${range.low} and ${range.high}
      and c.opened_on <= ${periodEnd} and (c.closed_on is null or c.closed_on >= ${periodStart})
      ${station}
      and not exists (select 1 from bill b where b.customer_id = c.customer_id and b.period = ${period})
    order by c.customer_id`.execute(trx);
  if (customers.rows.length === 0) {
    return {
      customers: [],
      meters: new Map(),
      closingReads: new Map(),
      openingReads: new Map(),
      changes: new Map(),
      history: new Map(),
    };
  }
  const [meterRows, closingRows, openingRows, changeRows, historyRows] = await Promise.all([
    sql<MeterFact & { customer_id: number }>`
      select customer_id, meter_id, meter_no, multiplier, register_digits, installed_on, removed_on, initial_reads
      from meter where customer_id between ${range.low} and ${range.high}
        and installed_on <= ${periodEnd} and (removed_on is null or removed_on >= ${periodStart})
      order by customer_id, meter_id`.execute(trx),
    // This period's read per meter; a correction supersedes the read it corrects.
    sql<ReadFact & { customer_id: number; meter_id: number }>`
      select distinct on (r.customer_id, r.meter_id) r.customer_id, r.meter_id, r.read_on, r.kind,
             r.total, r.sharp, r.peak, r.flat, r.valley, r.reactive, r.demand
      from meter_read r
      where r.customer_id between ${range.low} and ${range.high} and r.period = ${period}
        and not exists (select 1 from meter_read s where s.customer_id = r.customer_id and s.supersedes_read_id = r.meter_read_id)
      order by r.customer_id, r.meter_id, r.read_on desc, r.meter_read_id desc`.execute(trx),
    sql<ReadFact & { customer_id: number; meter_id: number }>`
      select distinct on (r.customer_id, r.meter_id) r.customer_id, r.meter_id, r.read_on, r.kind,
             r.total, r.sharp, r.peak, r.flat, r.valley, r.reactive, r.demand
      from meter_read r
      where r.customer_id between ${range.low} and ${range.high} and r.period < ${period}
        and not exists (select 1 from meter_read s where s.customer_id = r.customer_id and s.supersedes_read_id = r.meter_read_id)
      order by r.customer_id, r.meter_id, r.period desc, r.read_on desc, r.meter_read_id desc`.execute(trx),
    sql<{ customer_id: number; old_meter_id: number; changed_on: string; old_final: Record<string, string> }>`
      select customer_id, old_meter_id, changed_on, old_final from meter_change
      where customer_id between ${range.low} and ${range.high} and changed_on between ${periodStart}::date - 62 and ${periodEnd}`.execute(
      trx,
    ),
    sql<{ customer_id: number; period: string; kwh_total: string }>`
      select distinct on (customer_id, period) customer_id, period, kwh_total from bill
      where customer_id between ${range.low} and ${range.high} and period >= ${historyFrom} and period < ${period}
      order by customer_id, period desc, revision desc`.execute(trx),
  ]);
  const meters = new Map<number, MeterFact[]>();
  for (const row of meterRows.rows) {
    const list = meters.get(row.customer_id) ?? [];
    list.push(row);
    meters.set(row.customer_id, list);
  }
  const history = new Map<number, { period: string; kwh: string }[]>();
  for (const row of historyRows.rows) {
    const list = history.get(row.customer_id) ?? [];
    list.push({ period: row.period, kwh: row.kwh_total });
    history.set(row.customer_id, list);
  }
  return {
    customers: customers.rows,
    meters,
    closingReads: new Map(closingRows.rows.map((row) => [meterKey(row.customer_id, row.meter_id), row])),
    openingReads: new Map(openingRows.rows.map((row) => [meterKey(row.customer_id, row.meter_id), row])),
    changes: new Map(
      changeRows.rows.map((row) => [
        meterKey(row.customer_id, row.old_meter_id),
        { changedOn: row.changed_on, oldFinal: row.old_final },
      ]),
    ),
    history,
  };
}
