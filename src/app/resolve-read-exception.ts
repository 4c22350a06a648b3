import { type Kysely, type Transaction, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import { periodEnd, periodStart } from '../domain/billing/bill-identity.js';
import { REGISTERS, type Register } from '../domain/billing/consumption.js';
import { type EstimateMethod, estimateRead } from '../domain/billing/estimate-read.js';
import { Decimal, parseDecimal } from '../domain/decimal.js';
import { type Period, addMonths } from '../domain/local-date.js';
import { isConflictCode } from '../domain/reads/conflicting-read.js';
import { customerInScope } from './customer-in-scope.js';
import { AppError } from './errors.js';
import { type Principal, requirePermission } from './principal.js';
import { recordAudit } from './record-audit.js';

export type Resolution =
  | { readonly kind: 'confirmed'; readonly note?: string }
  /** Only for a conflicting read: the later file's value is discarded, the accepted read stays. */
  | { readonly kind: 'rejected'; readonly note?: string }
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
 * corrects it. A conflicting read (a later file disagreeing with the accepted read) is confirmed
 * (the file's value becomes the read, superseding the accepted one) or rejected (nothing changes). Corrections and estimates are new reads that supersede the old ones, never edits.
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
    const conflict = isConflictCode(input.code);
    if (conflict && input.resolution.kind !== 'confirmed' && input.resolution.kind !== 'rejected')
      throw new AppError(
        'resolution_not_allowed',
        `${input.code}: confirm the file's new value or reject it (the accepted read stays)`,
      );
    if (!conflict && input.resolution.kind === 'rejected')
      throw new AppError('resolution_not_allowed', `${input.code}: only a conflicting read can be rejected`);
    if (input.resolution.kind === 'confirmed' && !conflict && !CONFIRMABLE.has(input.code)) {
      throw new AppError(
        'resolution_not_allowed',
        `${input.code} cannot be confirmed: estimate or correct the read`,
      );
    }

    let readsAdded = 0;
    if (conflict && input.resolution.kind === 'confirmed')
      readsAdded = await confirmCorrections(trx, principal, customerId, input.period, input.code);
    if (input.resolution.kind === 'estimated' || input.resolution.kind === 'corrected') {
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

/**
 * A confirmed conflicting read: each pending correction held by the exception becomes a meter
 * read that supersedes the read its meter's period has now (never an edit of it).
 */
async function confirmCorrections(
  trx: Transaction<DB>,
  principal: Principal,
  customerId: number,
  period: Period,
  code: string,
): Promise<number> {
  const corrections = await trx
    .selectFrom('read_correction')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('period', '=', period)
    .where('exception_code', '=', code)
    .orderBy('read_correction_id')
    .execute();
  const next = await sql<{
    next: number;
  }>`select coalesce(max(meter_read_id), ${customerId * 1000}) + 1 as next from meter_read where customer_id = ${customerId}`.execute(
    trx,
  );
  let readId = Number(next.rows[0]!.next);
  for (const correction of corrections) {
    const current = await sql<{ meter_read_id: number }>`
      select r.meter_read_id from meter_read r
      where r.customer_id = ${customerId} and r.meter_id = ${correction.meter_id} and r.period = ${period}
        and not exists (select 1 from meter_read s where s.customer_id = r.customer_id and s.supersedes_read_id = r.meter_read_id)
      order by r.read_on desc, r.meter_read_id desc limit 1`.execute(trx);
    await trx
      .insertInto('meter_read')
      .values({
        customer_id: customerId,
        meter_read_id: readId++,
        meter_id: correction.meter_id,
        period,
        read_on: correction.read_on,
        kind: correction.kind,
        source: 'correction',
        total: correction.total,
        sharp: correction.sharp,
        peak: correction.peak,
        flat: correction.flat,
        valley: correction.valley,
        reactive: correction.reactive,
        demand: correction.demand,
        read_by: correction.read_by ?? principal.staffId,
        supersedes_read_id: current.rows[0]?.meter_read_id ?? correction.conflicts_with_read_id,
        import_key: correction.import_key,
      })
      .execute();
  }
  return corrections.length;
}
