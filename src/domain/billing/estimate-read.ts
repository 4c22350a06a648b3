import { Decimal } from '../decimal.js';
import { REGISTERS, type Register, type RegisterValues } from './consumption.js';

export type EstimateMethod = 'average_recent' | 'same_month_last_year';

export interface EstimateInput {
  readonly method: EstimateMethod;
  readonly opening: RegisterValues;
  readonly multiplier: number;
  readonly digits: number;
  /** kWh of recent billed months, most recent first. */
  readonly recentKwh: readonly Decimal[];
  readonly sameMonthLastYearKwh: Decimal | null;
}

export interface Estimate {
  readonly values: RegisterValues;
  readonly kwh: Decimal;
  readonly basis: string;
}

/**
 * Estimates a read (估抄) by a stated method: the average of up to three recent months, or the
 * same month last year (falling back to the average when it is unknown). The estimated kWh is
 * spread over the time-of-use registers in proportion to their opening values, which reflect
 * the meter's long-run split; registers wrap at 10^digits.
 */
export function estimateRead(input: EstimateInput): Estimate {
  const recent = input.recentKwh.slice(0, 3);
  const average = recent.length
    ? recent.reduce((sum, kwh) => sum.plus(kwh), new Decimal(0)).div(recent.length)
    : new Decimal(0);
  const useLastYear = input.method === 'same_month_last_year' && input.sameMonthLastYearKwh !== null;
  const kwh = (useLastYear ? input.sameMonthLastYearKwh! : average).toDecimalPlaces(2);
  const basis = useLastYear ? 'same month last year' : `average of ${recent.length} recent months`;
  const delta = kwh.div(input.multiplier).toDecimalPlaces(2, Decimal.ROUND_DOWN);
  const range = new Decimal(10).pow(input.digits);
  const wrap = (value: Decimal) => (value.greaterThanOrEqualTo(range) ? value.minus(range) : value);
  const values: Partial<Record<Register, Decimal>> = {};
  const parts = (['sharp', 'peak', 'flat', 'valley'] as const).filter(
    (register) => input.opening[register] !== undefined,
  );
  const partSum = parts.reduce((sum, register) => sum.plus(input.opening[register]!), new Decimal(0));
  let left = delta;
  parts.forEach((register, k) => {
    const share =
      k === parts.length - 1 || partSum.isZero()
        ? left
        : delta.times(input.opening[register]!).div(partSum).toDecimalPlaces(2, Decimal.ROUND_DOWN);
    values[register] = wrap(input.opening[register]!.plus(share));
    left = left.minus(share);
  });
  for (const register of REGISTERS) {
    if (register === 'total' && input.opening.total !== undefined)
      values.total = wrap(input.opening.total.plus(delta));
    if (register === 'reactive' && input.opening.reactive !== undefined)
      values.reactive = input.opening.reactive;
  }
  return { values, kwh: delta.times(input.multiplier), basis };
}
