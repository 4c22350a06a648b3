import {
  type LocalDate,
  type Period,
  addDays,
  addMonths,
  daysInMonth,
  localDate,
  periodMonth,
  periodYear,
} from '../local-date.js';

/**
 * Bill identity is derived, so a rerun writes the same rows: bill_id = yyyymm × 100 + revision
 * (unique within the customer), bill number = yyyymm-customerNo-revision.
 */
export function billId(period: Period, revision: number): number {
  if (!Number.isInteger(revision) || revision < 1 || revision > 99)
    throw new RangeError(`revision ${revision} out of 1..99`);
  return (periodYear(period) * 100 + periodMonth(period)) * 100 + revision;
}

export function billNo(period: Period, customerNo: string, revision: number): string {
  return `${period.replace('-', '')}-${customerNo}-${String(revision).padStart(2, '0')}`;
}

export function periodStart(period: Period): LocalDate {
  return localDate(periodYear(period), periodMonth(period), 1);
}

export function periodEnd(period: Period): LocalDate {
  return localDate(
    periodYear(period),
    periodMonth(period),
    daysInMonth(periodYear(period), periodMonth(period)),
  );
}

/** A due rule is data on the customer: "days_after_release:15" or "day_of_next_month:15". */
export function parseDueRule(
  rule: string,
): { kind: 'days_after_release' | 'day_of_next_month'; value: number } | null {
  const match = /^(days_after_release|day_of_next_month):(\d{1,3})$/.exec(rule);
  if (!match) return null;
  const value = Number(match[2]);
  if (match[1] === 'day_of_next_month' && (value < 1 || value > 28)) return null;
  return { kind: match[1] as 'days_after_release' | 'day_of_next_month', value };
}

/** Notice a customer always gets between release and due date, whatever the rule says. */
export const DUE_NOTICE_DAYS_MIN = 7;

export function dueDate(rule: string, period: Period, releasedOn: LocalDate): LocalDate {
  const parsed = parseDueRule(rule);
  if (!parsed) throw new RangeError(`due rule "${rule}" is not days_after_release:N or day_of_next_month:D`);
  const earliest = addDays(releasedOn, DUE_NOTICE_DAYS_MIN);
  if (parsed.kind === 'days_after_release') {
    const due = addDays(releasedOn, parsed.value);
    return due < earliest ? earliest : due;
  }
  const next = addMonths(period, 1);
  const due = localDate(periodYear(next), periodMonth(next), parsed.value);
  return due < earliest ? earliest : due;
}
