/**
 * A calendar date without a time zone ("2026-11-27"). The utility's zone is configuration; the
 * domain only ever sees local dates and billing periods, so no zone arithmetic happens here.
 * Day arithmetic uses the proleptic Gregorian day number, which is zone-free.
 */
export type LocalDate = string & { readonly __brand: 'LocalDate' };
/** A billing period, one calendar month: "2026-10". */
export type Period = string & { readonly __brand: 'Period' };

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const PERIOD_PATTERN = /^(\d{4})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

export function parseLocalDate(text: string): LocalDate | null {
  const match = DATE_PATTERN.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return text as LocalDate;
}

export function localDate(year: number, month: number, day: number): LocalDate {
  const text = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  const parsed = parseLocalDate(text);
  if (!parsed) throw new RangeError(`not a calendar date: ${text}`);
  return parsed;
}

export function parsePeriod(text: string): Period | null {
  const match = PERIOD_PATTERN.exec(text);
  if (!match) return null;
  const month = Number(match[2]);
  return month >= 1 && month <= 12 ? (text as Period) : null;
}

export function period(year: number, month: number): Period {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}` as Period;
}

export function periodYear(value: Period): number {
  return Number(value.slice(0, 4));
}

export function periodMonth(value: Period): number {
  return Number(value.slice(5, 7));
}

export function addMonths(value: Period, months: number): Period {
  const index = periodYear(value) * 12 + (periodMonth(value) - 1) + months;
  return period(Math.floor(index / 12), (index % 12) + 1);
}

export function periodOf(date: LocalDate): Period {
  return date.slice(0, 7) as Period;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Days since 1970-01-01 (negative before). The civil-to-days formula of H. Hinnant's
 * chrono algorithms, on the digits directly: the billing run calls this for every customer.
 */
export function dayNumber(date: LocalDate): number {
  const digit = (k: number) => date.charCodeAt(k) - 48;
  const month = digit(5) * 10 + digit(6);
  const day = digit(8) * 10 + digit(9);
  const year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3) - (month <= 2 ? 1 : 0);
  const era = Math.floor(year / 400);
  const yearOfEra = year - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

export function fromDayNumber(days: number): LocalDate {
  const value = new Date(days * MS_PER_DAY);
  return localDate(value.getUTCFullYear(), value.getUTCMonth() + 1, value.getUTCDate());
}

export function addDays(date: LocalDate, days: number): LocalDate {
  return fromDayNumber(dayNumber(date) + days);
}

export function daysBetween(from: LocalDate, to: LocalDate): number {
  return dayNumber(to) - dayNumber(from);
}
