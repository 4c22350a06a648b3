import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import { type Fen, fen, formatYuan } from '../../domain/money.js';
import { type Principal, requirePermission } from '../principal.js';
import { RECEIVABLE_ACCOUNTS } from '../ledger/customer-state.js';
import { inScopeSql } from '../ledger/scope.js';

export interface CustomerSummary {
  readonly customerId: number;
  readonly customerNo: string;
  readonly name: string;
  readonly category: string;
  readonly stationId: number;
  readonly stationName: string;
  readonly transformerAreaId: number;
  readonly transformerAreaName: string;
  readonly address: string;
  readonly billingMode: string;
  readonly status: string;
  readonly protected: boolean;
  /** Receivable balance (bills and late fees not yet paid), derived from the journal; yuan string. */
  readonly totalDue: string;
  readonly totalDueFen: Fen;
}

export interface ListCustomersFilter {
  readonly search?: string;
  readonly stationId?: number;
  readonly transformerAreaId?: number;
  readonly category?: string;
  readonly owing?: boolean;
  readonly limit: number;
  /** Keyset pagination: customers after this customer id. */
  readonly afterCustomerId?: number;
}

/** Customers in the principal's scope, with what each owes according to the journal. Errors: forbidden. */
export async function listCustomers(
  db: Kysely<DB>,
  principal: Principal,
  filter: ListCustomersFilter,
): Promise<CustomerSummary[]> {
  requirePermission(principal, 'customer.read');
  let query = db
    .selectFrom('customer')
    .innerJoin('org_unit as station', 'station.org_unit_id', 'customer.station_id')
    .innerJoin('area', 'area.area_id', 'customer.transformer_area_id')
    // Each customer's balance from their own postings (an index range per customer), so a page
    // of 50 customers reads 50 balances, not the whole journal.
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('posting')
          .select((inner) => inner.fn.sum<number>('posting.amount_fen').as('due_fen'))
          .whereRef('posting.customer_id', '=', 'customer.customer_id')
          .where('posting.ledger_account_code', 'in', RECEIVABLE_ACCOUNTS)
          .as('due'),
      (join) => join.onTrue(),
    )
    .select([
      'customer.customer_id',
      'customer.customer_no',
      'customer.name',
      'customer.category',
      'customer.station_id',
      'station.name as station_name',
      'customer.transformer_area_id',
      'area.name as area_name',
      'customer.address',
      'customer.billing_mode',
      'customer.status',
      'customer.protected',
      sql<number>`coalesce(due.due_fen, 0)`.as('due_fen'),
    ])
    .where(inScopeSql(principal, 'station.path'))
    .orderBy('customer.customer_id')
    .limit(filter.limit);
  if (filter.afterCustomerId !== undefined)
    query = query.where('customer.customer_id', '>', filter.afterCustomerId);
  if (filter.stationId !== undefined) query = query.where('customer.station_id', '=', filter.stationId);
  if (filter.transformerAreaId !== undefined)
    query = query.where('customer.transformer_area_id', '=', filter.transformerAreaId);
  if (filter.category !== undefined) query = query.where('customer.category', '=', filter.category as never);
  if (filter.owing) query = query.where(sql<boolean>`coalesce(due.due_fen, 0) > 0`);
  if (filter.search) {
    const pattern = `%${filter.search.replaceAll('\\', '\\\\').replaceAll('%', '\\%').replaceAll('_', '\\_')}%`;
    query = query.where((eb) =>
      eb.or([
        eb('customer.customer_no', 'like', pattern),
        eb('customer.name', 'like', pattern),
        eb('customer.address', 'like', pattern),
      ]),
    );
  }
  const rows = await query.execute();
  return rows.map((row) => ({
    customerId: row.customer_id,
    customerNo: row.customer_no,
    name: row.name,
    category: row.category,
    stationId: row.station_id,
    stationName: row.station_name,
    transformerAreaId: row.transformer_area_id,
    transformerAreaName: row.area_name,
    address: row.address,
    billingMode: row.billing_mode,
    status: row.status,
    protected: row.protected,
    totalDue: formatYuan(fen(Number(row.due_fen))),
    totalDueFen: fen(Number(row.due_fen)),
  }));
}
