import { Decimal } from '../decimal.js';

/** Power-factor standards of the 1983 adjustment rules ((83)水电财字第215号). */
export type PfStandard = '0.90' | '0.85' | '0.80';

/**
 * Monthly power factor from active and reactive energy: kWh / sqrt(kWh² + kvarh²), rounded
 * half-up to two decimals before the table lookup. No reactive energy gives 1.00.
 */
export function powerFactor(kwh: Decimal, kvarh: Decimal): Decimal {
  if (kwh.isZero() && kvarh.isZero()) return new Decimal(1);
  const apparent = kwh.pow(2).plus(kvarh.pow(2)).sqrt();
  return kwh.div(apparent).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
}

// Reductions (hundredths of a percent) at and above the standard, per docs/DOMAIN.md §3.5.
const REDUCTION_HUNDREDTHS: Readonly<Record<PfStandard, (pf: number) => number>> = {
  '0.90': (pf) => (pf >= 95 ? 75 : (pf - 90) * 15),
  '0.85': (pf) => (pf >= 94 ? 110 : pf >= 90 ? 50 + (pf - 90) * 15 : (pf - 85) * 10),
  '0.80': (pf) => (pf >= 92 ? 130 : pf >= 90 ? 100 + (pf - 90) * 15 : (pf - 80) * 10),
};

/**
 * The adjustment in hundredths of a percent of the base: negative is a reduction, positive a
 * surcharge. Below the standard: +0.5% per 0.01 for the first 20 steps (to +10%), +1% per 0.01
 * for the next 5 (to +15%), then +2% per 0.01.
 */
export function pfAdjustmentHundredths(actual: Decimal, standard: PfStandard): number {
  const pf = actual.times(100).toNumber();
  const std = Math.round(Number(standard) * 100);
  if (pf >= std) return -REDUCTION_HUNDREDTHS[standard](pf);
  const steps = std - pf;
  if (steps <= 20) return 50 * steps;
  if (steps <= 25) return 1000 + 100 * (steps - 20);
  return 1500 + 200 * (steps - 25);
}

export function formatPercentHundredths(hundredths: number): string {
  const sign = hundredths < 0 ? '-' : '';
  const magnitude = Math.abs(hundredths);
  return `${sign}${Math.trunc(magnitude / 100)}.${String(magnitude % 100).padStart(2, '0')}`;
}
