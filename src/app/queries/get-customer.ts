import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { fen, formatYuan } from '../../domain/money.js';
import { hasPermission } from '../../domain/staff-role.js';
import { AppError } from '../errors.js';
import { type Principal, requirePermission } from '../principal.js';
import { isInScope } from '../ledger/scope.js';

export interface CustomerDetail {
  readonly customerNo: string;
  readonly name: string;
  readonly category: string;
  readonly station: { readonly id: number; readonly name: string };
  readonly transformerArea: { readonly id: number; readonly code: string; readonly name: string };
  /** Who answers for the transformer area today (包线包片). */
  readonly responsibleStaff: {
    readonly staffId: number;
    readonly name: string;
    readonly since: string;
  } | null;
  readonly address: string;
  /** Shown in full only to roles with customer.read_sensitive; masked otherwise. */
  readonly phone: string | null;
  readonly nationalIdMasked: string | null;
  readonly billingMode: string;
  readonly protected: boolean;
  readonly protectionReason: string | null;
  readonly householdSize: number | null;
  readonly contractCapacityKva: string | null;
  readonly pfStandard: string | null;
  readonly tariffCode: string;
  readonly meteringSide: string;
  readonly dueRule: string;
  readonly occupancy: string;
  readonly status: string;
  readonly openedOn: string;
  readonly closedOn: string | null;
  readonly withholding: {
    readonly bankCode: string;
    readonly accountNoMasked: string | null;
    readonly recentDebits: readonly {
      readonly batchNo: string;
      readonly date: string;
      readonly amount: string;
      readonly debited: boolean;
      readonly code: string;
      readonly message: string;
      readonly receiptNo: string | null;
    }[];
  } | null;
  readonly meters: readonly {
    readonly meterNo: string;
    readonly multiplier: number;
    readonly registers: readonly string[];
    readonly installedOn: string;
    readonly removedOn: string | null;
  }[];
  readonly recentReads: readonly {
    readonly period: string;
    readonly readOn: string;
    readonly meterNo: string;
    readonly kind: string;
    readonly source: string;
    readonly total: string | null;
  }[];
}

/** One customer by customer number, if it lies in the principal's scope. Errors: forbidden, not_found. */
export async function getCustomer(
  db: Kysely<DB>,
  principal: Principal,
  customerNo: string,
  asOf: string,
): Promise<CustomerDetail> {
  requirePermission(principal, 'customer.read');
  const lookup = await db
    .selectFrom('customer_number')
    .select('customer_id')
    .where('customer_no', '=', customerNo)
    .executeTakeFirst();
  const row = lookup
    ? await db
        .selectFrom('customer')
        .innerJoin('org_unit as station', 'station.org_unit_id', 'customer.station_id')
        .innerJoin('area', 'area.area_id', 'customer.transformer_area_id')
        .selectAll('customer')
        .select([
          'station.name as station_name',
          'station.path as station_path',
          'area.code as area_code',
          'area.name as area_name',
        ])
        .where('customer.customer_id', '=', lookup.customer_id)
        .executeTakeFirst()
    : undefined;
  // Outside the scope looks the same as absent, so scope cannot be probed for customer numbers.
  if (!row || !isInScope(principal, row.station_path)) {
    throw new AppError('not_found', `customer ${customerNo} not found`);
  }
  const customerId = row.customer_id;
  const [responsible, account, meters, reads, debits] = await Promise.all([
    db
      .selectFrom('area_assignment')
      .innerJoin('staff', 'staff.staff_id', 'area_assignment.staff_id')
      .select(['staff.staff_id', 'staff.name', 'area_assignment.valid_from'])
      .where('area_assignment.area_id', '=', row.transformer_area_id)
      .where('area_assignment.valid_from', '<=', asOf)
      .orderBy('area_assignment.valid_from', 'desc')
      .limit(1)
      .executeTakeFirst(),
    db
      .selectFrom('customer_account')
      .selectAll()
      .where('customer_id', '=', customerId)
      .orderBy('customer_account_id')
      .executeTakeFirst(),
    db.selectFrom('meter').selectAll().where('customer_id', '=', customerId).orderBy('meter_id').execute(),
    db
      .selectFrom('meter_read')
      .innerJoin('meter', (join) =>
        join
          .onRef('meter.customer_id', '=', 'meter_read.customer_id')
          .onRef('meter.meter_id', '=', 'meter_read.meter_id'),
      )
      .select([
        'meter_read.period',
        'meter_read.read_on',
        'meter.meter_no',
        'meter_read.kind',
        'meter_read.source',
        'meter_read.total',
      ])
      .where('meter_read.customer_id', '=', customerId)
      .orderBy('meter_read.read_on', 'desc')
      .limit(13)
      .execute(),
    db
      .selectFrom('withholding_result')
      .innerJoin('withholding_batch', (join) =>
        join
          .onRef('withholding_batch.bank_code', '=', 'withholding_result.bank_code')
          .onRef('withholding_batch.batch_no', '=', 'withholding_result.batch_no'),
      )
      .select([
        'withholding_result.bank_code',
        'withholding_result.batch_no',
        'withholding_batch.batch_date',
        'withholding_result.amount_fen',
        'withholding_result.result_code',
        'withholding_result.message',
        'withholding_result.receipt_no',
      ])
      .where('withholding_result.customer_id', '=', customerId)
      .orderBy('withholding_batch.batch_date', 'desc')
      .limit(6)
      .execute(),
  ]);
  const sensitive = hasPermission(principal.roles, 'customer.read_sensitive');
  return {
    customerNo: row.customer_no,
    name: row.name,
    category: row.category,
    station: { id: row.station_id, name: row.station_name },
    transformerArea: { id: row.transformer_area_id, code: row.area_code, name: row.area_name },
    responsibleStaff: responsible
      ? { staffId: responsible.staff_id, name: responsible.name, since: responsible.valid_from }
      : null,
    address: row.address,
    phone: row.phone && !sensitive ? `${row.phone.slice(0, 3)}****${row.phone.slice(-4)}` : row.phone,
    nationalIdMasked: row.national_id_masked,
    billingMode: row.billing_mode,
    protected: row.protected,
    protectionReason: row.protection_reason,
    householdSize: row.household_size,
    contractCapacityKva: row.contract_capacity_kva,
    pfStandard: row.pf_standard,
    tariffCode: row.tariff_code,
    meteringSide: row.metering_side,
    dueRule: row.due_rule,
    occupancy: row.occupancy,
    status: row.status,
    openedOn: row.opened_on,
    closedOn: row.closed_on,
    withholding: account?.withholding_bank_code
      ? {
          bankCode: account.withholding_bank_code,
          accountNoMasked: account.withholding_account_no_masked,
          // The latest debits (代扣回盘): a refused one keeps the bill in arrears with the bank's reason.
          recentDebits: debits.map((debit) => ({
            batchNo: debit.batch_no,
            date: debit.batch_date,
            amount: formatYuan(fen(Number(debit.amount_fen))),
            debited: debit.result_code === '0000',
            code: debit.result_code,
            message: debit.message,
            receiptNo: debit.receipt_no,
          })),
        }
      : null,
    meters: meters.map((meter) => ({
      meterNo: meter.meter_no,
      multiplier: meter.multiplier,
      registers: meter.registers,
      installedOn: meter.installed_on,
      removedOn: meter.removed_on,
    })),
    recentReads: reads.map((read) => ({
      period: read.period,
      readOn: read.read_on,
      meterNo: read.meter_no,
      kind: read.kind,
      source: read.source,
      total: read.total,
    })),
  };
}
