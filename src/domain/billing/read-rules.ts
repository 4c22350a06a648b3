import type { ConflictCode } from '../reads/conflicting-read.js';
import { Decimal } from '../decimal.js';
import type { Consumption } from './consumption.js';

/**
 * Read validation before billing (docs/DOMAIN.md §6): each rule has a code, thresholds as data, and a
 * severity. "hold" keeps the customer out of the run until a billing checker resolves it;
 * "warn" is billed and listed for review.
 */
export interface ReadRules {
  /** A rise above (1 + ratio) × the reference consumption is a jump. */
  readonly jumpRatio: Decimal;
  /** A fall below dropRatio × the reference consumption is a drop. */
  readonly dropRatio: Decimal;
  /** Changes smaller than this many kWh are never jumps or drops. */
  readonly changeKwhMin: Decimal;
  /** Zero consumption on an occupied account this many months in a row is held. */
  readonly zeroMonthsMax: number;
  /** A register that went down by wrapping past its top is a rollover only below this share of its range. */
  readonly rolloverMaxFraction: Decimal;
  readonly estimatedSeverity: 'hold' | 'warn';
  /** Thresholds that differ by customer category (e.g. seasonal irrigation). */
  readonly byCategory?: Readonly<
    Record<string, Partial<Pick<ReadRules, 'jumpRatio' | 'dropRatio' | 'changeKwhMin'>>>
  >;
}

export const DEFAULT_READ_RULES: ReadRules = {
  jumpRatio: new Decimal('1.5'),
  dropRatio: new Decimal('0.4'),
  changeKwhMin: new Decimal(200),
  zeroMonthsMax: 2,
  rolloverMaxFraction: new Decimal('0.1'),
  estimatedSeverity: 'warn',
  byCategory: {
    // Irrigation pumps run in season and stand idle out of it: only extreme swings are anomalies.
    agriculture: { jumpRatio: new Decimal(9), dropRatio: new Decimal('0.05') },
    // Construction sites change load with the works.
    temporary: { jumpRatio: new Decimal(3), dropRatio: new Decimal('0.2') },
  },
};

export type ReadExceptionCode =
  | 'missing_read'
  | 'read_below_previous'
  | 'consumption_jump'
  | 'consumption_drop'
  | 'zero_consumption'
  | 'estimated_read'
  | 'rollover';

export interface ReadException {
  readonly code: ReadExceptionCode | ConflictCode;
  readonly severity: 'hold' | 'warn';
  readonly detail: Readonly<Record<string, string | number>>;
}

export interface ReadHistory {
  /** kWh of the previous billed months, most recent first (up to 3 used). */
  readonly recentKwh: readonly Decimal[];
  /** kWh of the same month a year earlier, when billed. */
  readonly sameMonthLastYearKwh: Decimal | null;
  /** Consecutive zero-consumption months just before this one. */
  readonly zeroMonthsBefore: number;
}

export interface ReadCheckInput {
  readonly category: string;
  readonly hasClosingRead: boolean;
  readonly estimated: boolean;
  readonly occupied: boolean;
  readonly consumption: Consumption | null;
  readonly totalKwh: Decimal;
  readonly history: ReadHistory;
}

/** Applies the rules to one customer's period; an empty list means clean. */
export function checkReads(
  input: ReadCheckInput,
  baseRules: ReadRules = DEFAULT_READ_RULES,
): ReadException[] {
  const rules = { ...baseRules, ...(baseRules.byCategory?.[input.category] ?? {}) };
  if (!input.hasClosingRead) return [{ code: 'missing_read', severity: 'hold', detail: {} }];
  const found: ReadException[] = [];
  const consumption = input.consumption!;
  if (consumption.belowPrevious.length > 0) {
    found.push({
      code: 'read_below_previous',
      severity: 'hold',
      detail: { registers: consumption.belowPrevious.join(',') },
    });
  }
  if (consumption.rolledOver.length > 0) {
    found.push({
      code: 'rollover',
      severity: 'warn',
      detail: { registers: consumption.rolledOver.join(',') },
    });
  }
  if (input.estimated) found.push({ code: 'estimated_read', severity: rules.estimatedSeverity, detail: {} });

  const recent = input.history.recentKwh.slice(0, 3);
  if (recent.length > 0 && consumption.belowPrevious.length === 0) {
    const reference = recent.reduce((sum, kwh) => sum.plus(kwh), new Decimal(0)).div(recent.length);
    const lastYear = input.history.sameMonthLastYearKwh;
    const change = input.totalKwh.minus(reference).abs();
    // Seasonal swings are not anomalies: a change must also stand out against the same month last year.
    const outOfLine = (limit: (base: Decimal) => boolean) =>
      limit(reference) && (lastYear === null || limit(lastYear));
    if (change.greaterThanOrEqualTo(rules.changeKwhMin)) {
      if (outOfLine((base) => input.totalKwh.greaterThan(base.times(rules.jumpRatio.plus(1))))) {
        found.push({
          code: 'consumption_jump',
          severity: 'hold',
          detail: { kwh: input.totalKwh.toString(), referenceKwh: reference.toDecimalPlaces(2).toString() },
        });
      } else if (outOfLine((base) => input.totalKwh.lessThan(base.times(rules.dropRatio)))) {
        found.push({
          code: 'consumption_drop',
          severity: 'hold',
          detail: { kwh: input.totalKwh.toString(), referenceKwh: reference.toDecimalPlaces(2).toString() },
        });
      }
    }
  }
  if (
    input.occupied &&
    input.totalKwh.isZero() &&
    input.history.zeroMonthsBefore + 1 >= rules.zeroMonthsMax
  ) {
    found.push({
      code: 'zero_consumption',
      severity: 'hold',
      detail: { months: input.history.zeroMonthsBefore + 1 },
    });
  }
  return found;
}
