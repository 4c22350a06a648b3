import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import { periodEnd, periodStart } from '../domain/billing/bill-identity.js';
import { REGISTERS, type Register } from '../domain/billing/consumption.js';
import { type EstimateMethod, estimateRead } from '../domain/billing/estimate-read.js';
import { Decimal, parseDecimal } from '../domain/decimal.js';
import { type Period, addMonths } from '../domain/local-date.js';
import { customerInScope } from './customer-in-scope.js';
import { AppError } from './errors.js';
import { type Principal, requirePermission } from './principal.js';
import { recordAudit } from './record-audit.js';

export type Resolution =
  | { readonly kind: 'confirmed'; readonly note?: string }
  | { readonly kind: 'estimated'; readonly method: EstimateMethod; readonly note?: string }
  | {
      readonly kind: 'corrected';
      readonly meterNo: string;
      readonly values: Readonly<Partial<Record<Register, string>>>;
      readonly note?: string;
    };

export interface ResolveInput {
  readonly customerNo: string;
  readonly period: Period;
  readonly code: string;
  readonly resolution: Resolution;
  readonly readOn: string;
}

/** Codes a checker may confirm as right: the read stands and the customer is billed on it. */
const CONFIRMABLE = new Set(['consumption_jump', 'consumption_drop', 'zero_consumption', 'estimated_read']);

/**
 * A billing checker resolves a held read: confirms it, estimates it by a stated method, or
 * corrects it. Corrections and estimates are new reads that supersede the old ones, never edits.
 * The next billing run bills the customer. Errors: forbidden, not_found, validation_failed,
 * exception_already_resolved, resolution_not_allowed.
 */
export async function resolveReadException(
  db: Kysely<DB>,
  principal: Principal,
  input: ResolveInput,
): Promise<{ readsAdded: number }> {
  requirePermission(principal, 'reads.resolve');
  return db.transaction().execute(async (trx) => {
    const { customerId } = await customerInScope(trx, principal, input.customerNo);
    const exception = await trx
      .selectFrom('read_exception')
      .select(['severity'])
      .where('customer_id', '=', customerId)
      .where('period', '=', input.period)
      .where('code', '=', input.code)
      .executeTakeFirst();
    if (!exception)
      throw new AppError(
        'not_found',
        `no ${input.code} exception for ${input.customerNo} in ${input.period}`,
      );
    const resolved = await trx
      .selectFrom('read_exception_resolution')
      .select('resolution')
      .where('customer_id', '=', customerId)
      .where('period', '=', input.period)
      .where('code', '=', input.code)
      .executeTakeFirst();
    if (resolved) throw new AppError('exception_already_resolved', `already ${resolved.resolution}`);
    if (input.resolution.kind === 'confirmed' && !CONFIRMABLE.has(input.code)) {
      throw new AppError(
        'resolution_not_allowed',
        `${input.code} cannot be confirmed: estimate or correct the read`,
      );
    }

    let readsAdded = 0;
    if (input.resolution.kind !== 'confirmed') {
      const meters = await trx
        .selectFrom('meter')
        .selectAll()
        .where('customer_id', '=', customerId)
        .where('installed_on', '<=', periodEnd(input.period))
        // In service at some time in the period: a meter removed mid-period (closed account,
        // meter change) still gets its final read estimated or corrected.
        .where((eb) =>
          eb.or([eb('removed_on', 'is', null), eb('removed_on', '>=', periodStart(input.period))]),
        )
        .execute();
      // An estimate goes to the meters in service at the period's end, or, for an account closed
      // in the period, to the meter removed in it.
      const atEnd = meters.filter((m) => m.removed_on === null || m.removed_on > periodEnd(input.period));
      const targets =
        input.resolution.kind === 'corrected'
          ? meters.filter((m) => m.meter_no === (input.resolution as { meterNo: string }).meterNo)
          : atEnd.length > 0
            ? atEnd
            : meters.slice(-1);
      if (targets.length === 0)
        throw new AppError(
          'validation_failed',
          'meterNo: no such meter in service for this customer and period',
        );
      const next = await sql<{
        next: number;
      }>`select coalesce(max(meter_read_id), ${customerId * 1000}) + 1 as next from meter_read where customer_id = ${customerId}`.execute(
        trx,
      );
      let readId = Number(next.rows[0]!.next);
      const history = await trx
        .selectFrom('bill')
        .select(['period', 'kwh_total'])
        .where('customer_id', '=', customerId)
        .where('period', '<', input.period)
        .where('period', '>=', addMonths(input.period, -13))
        .orderBy('period', 'desc')
        .execute();
      for (const meter of targets) {
        const current = await trx
          .selectFrom('meter_read')
          .select(['meter_read_id'])
          .where('customer_id', '=', customerId)
          .where('meter_id', '=', meter.meter_id)
          .where('period', '=', input.period)
          .orderBy('read_on', 'desc')
          .executeTakeFirst();
        let values: Partial<Record<Register, string>>;
        if (input.resolution.kind === 'corrected') {
          values = {};
          for (const [register, value] of Object.entries(input.resolution.values)) {
            if (!meter.registers.includes(register) || parseDecimal(value, 2) === null) {
              throw new AppError(
                'validation_failed',
                `values.${register}: not a register of meter ${meter.meter_no} or not a decimal with 2 places`,
              );
            }
            values[register as Register] = value;
          }
        } else {
          const opening = await trx
            .selectFrom('meter_read')
            .select(['total', 'sharp', 'peak', 'flat', 'valley', 'reactive'])
            .where('customer_id', '=', customerId)
            .where('meter_id', '=', meter.meter_id)
            .where('period', '<', input.period)
            .orderBy('period', 'desc')
            .orderBy('read_on', 'desc')
            .executeTakeFirst();
          const openingValues = (opening ?? meter.initial_reads ?? {}) as Record<string, string | null>;
          const estimate = estimateRead({
            method: input.resolution.method,
            opening: Object.fromEntries(
              REGISTERS.filter((r) => openingValues[r] !== null && openingValues[r] !== undefined).map(
                (r) => [r, new Decimal(openingValues[r]!)],
              ),
            ),
            multiplier: meter.multiplier,
            digits: meter.register_digits,
            recentKwh: history.map((bill) => new Decimal(bill.kwh_total)),
            sameMonthLastYearKwh: history.find((bill) => bill.period === addMonths(input.period, -12))
              ? new Decimal(history.find((bill) => bill.period === addMonths(input.period, -12))!.kwh_total)
              : null,
          });
          values = Object.fromEntries(
            Object.entries(estimate.values).map(([r, v]) => [r, (v as Decimal).toFixedPlaces(2)]),
          );
        }
        await trx
          .insertInto('meter_read')
          .values({
            customer_id: customerId,
            meter_read_id: readId++,
            meter_id: meter.meter_id,
            period: input.period,
            read_on:
              input.readOn < periodStart(input.period)
                ? periodEnd(input.period)
                : input.readOn > periodEnd(input.period)
                  ? periodEnd(input.period)
                  : input.readOn,
            kind: input.resolution.kind === 'estimated' ? 'estimated' : 'actual',
            source: input.resolution.kind === 'estimated' ? 'estimate' : 'correction',
            ...values,
            read_by: principal.staffId,
            supersedes_read_id: current?.meter_read_id ?? null,
          })
          .execute();
        readsAdded += 1;
      }
    }
    await trx
      .insertInto('read_exception_resolution')
      .values({
        customer_id: customerId,
        period: input.period,
        code: input.code,
        resolution: input.resolution.kind,
        method: input.resolution.kind === 'estimated' ? input.resolution.method : null,
        note: input.resolution.note ?? null,
        resolved_by: principal.staffId,
      })
      .execute();
    await recordAudit(trx, principal, {
      action: `read_exception.${input.resolution.kind}`,
      objectType: 'read_exception',
      objectId: `${input.customerNo}:${input.period}:${input.code}`,
      customerId,
      details: {
        readsAdded,
        ...(input.resolution.kind === 'estimated' ? { method: input.resolution.method } : {}),
      },
    });
    return { readsAdded };
  });
}
