import { fixedDecimal, parseDecimal } from '../decimal.js';
import { type LocalDate, type Period, parseLocalDate, parsePeriod, periodOf } from '../local-date.js';
import { REGISTERS, type Register } from '../billing/consumption.js';

/**
 * Meter read files, as records already split by a CSV parser:
 * - manual / handheld rounds: one row per read,
 *   header `meter_no,period,read_on,total,sharp,peak,flat,valley,reactive[,demand][,kind][,reader]`;
 * - AMI feed from the head-end: one row per register, header `meter_no,date,register,value`,
 *   grouped into one read per meter and date (the billing period is the date's month).
 * Every problem is reported with its line number; a file with any problem is applied not at all.
 */
export interface ParsedRead {
  readonly line: number;
  readonly meterNo: string;
  readonly period: Period;
  readOn: LocalDate;
  readonly kind: 'actual' | 'estimated';
  readonly values: Partial<Record<Register, string>>;
  readonly demand: string | null;
  readonly reader: string | null;
}

export interface ReadFileProblem {
  readonly line: number;
  readonly field: string;
  readonly reason: string;
}

export type ReadFileFormat = 'manual' | 'ami';

const MANUAL_REQUIRED = ['meter_no', 'period', 'read_on'];
const AMI_COLUMNS = ['meter_no', 'date', 'register', 'value'];

export function parseReadRecords(
  format: ReadFileFormat,
  records: readonly (readonly string[])[],
): { reads: ParsedRead[]; problems: ReadFileProblem[] } {
  const problems: ReadFileProblem[] = [];
  const header = (records[0] ?? []).map((cell) => cell.trim().toLowerCase());
  const rows = records.slice(1);
  const required = format === 'manual' ? MANUAL_REQUIRED : AMI_COLUMNS;
  for (const column of required) {
    if (!header.includes(column))
      problems.push({ line: 1, field: column, reason: 'missing column in the header' });
  }
  if (problems.length > 0) return { reads: [], problems };
  const cell = (row: readonly string[], column: string) => {
    const index = header.indexOf(column);
    return index < 0 ? '' : (row[index] ?? '').trim();
  };
  const meterNoOf = (row: readonly string[], line: number) => {
    const meterNo = cell(row, 'meter_no');
    if (!/^[0-9A-Za-z-]{4,32}$/.test(meterNo))
      problems.push({ line, field: 'meter_no', reason: 'missing or not a meter number' });
    return meterNo;
  };
  const reads: ParsedRead[] = [];
  if (format === 'manual') {
    const seen = new Map<string, number>();
    rows.forEach((row, k) => {
      const line = k + 2;
      if (row.every((value) => value.trim() === '')) return;
      const meterNo = meterNoOf(row, line);
      const period = parsePeriod(cell(row, 'period'));
      if (!period) problems.push({ line, field: 'period', reason: 'must be YYYY-MM' });
      const readOn = parseLocalDate(cell(row, 'read_on'));
      if (!readOn) problems.push({ line, field: 'read_on', reason: 'must be a date YYYY-MM-DD' });
      const values: Partial<Record<Register, string>> = {};
      for (const register of REGISTERS) {
        const text = cell(row, register);
        if (text === '') continue;
        const value = parseDecimal(text, 2);
        if (!value || value.isNegative())
          problems.push({
            line,
            field: register,
            reason: 'must be a non-negative number with at most 2 decimals',
          });
        else values[register] = fixedDecimal(value, 2);
      }
      if (Object.keys(values).length === 0)
        problems.push({ line, field: 'total', reason: 'a read needs at least one register value' });
      const demandText = cell(row, 'demand');
      const demand = demandText === '' ? null : parseDecimal(demandText, 3);
      if (demandText !== '' && !demand)
        problems.push({ line, field: 'demand', reason: 'must be a number with at most 3 decimals' });
      const kindText = cell(row, 'kind') || 'actual';
      if (kindText !== 'actual' && kindText !== 'estimated')
        problems.push({ line, field: 'kind', reason: 'must be actual or estimated' });
      const key = `${meterNo}|${period}`;
      if (seen.has(key))
        problems.push({
          line,
          field: 'meter_no',
          reason: `second read of this meter for ${period} (first on line ${seen.get(key)})`,
        });
      seen.set(key, line);
      if (period && readOn && meterNo) {
        reads.push({
          line,
          meterNo,
          period,
          readOn,
          kind: kindText as 'actual' | 'estimated',
          values,
          demand: demand ? fixedDecimal(demand, 3) : null,
          reader: cell(row, 'reader') || null,
        });
      }
    });
    return { reads, problems };
  }
  const grouped = new Map<string, ParsedRead>();
  rows.forEach((row, k) => {
    const line = k + 2;
    if (row.every((value) => value.trim() === '')) return;
    const meterNo = meterNoOf(row, line);
    const date = parseLocalDate(cell(row, 'date'));
    if (!date) problems.push({ line, field: 'date', reason: 'must be a date YYYY-MM-DD' });
    const register = cell(row, 'register').toLowerCase();
    const isDemand = register === 'demand';
    if (!isDemand && !REGISTERS.includes(register as Register))
      problems.push({ line, field: 'register', reason: `must be one of ${REGISTERS.join(', ')}, demand` });
    const value = parseDecimal(cell(row, 'value'), isDemand ? 3 : 2);
    if (!value || value.isNegative())
      problems.push({
        line,
        field: 'value',
        reason: 'must be a non-negative number with at most 2 decimals (3 for demand)',
      });
    if (!date || !meterNo || !value) return;
    const key = `${meterNo}|${date}`;
    const read = grouped.get(key) ?? {
      line,
      meterNo,
      period: periodOf(date),
      readOn: date,
      kind: 'actual' as const,
      values: {},
      demand: null,
      reader: null,
    };
    if (isDemand) (read as { demand: string | null }).demand = fixedDecimal(value, 3);
    else if (read.values[register as Register] !== undefined)
      problems.push({ line, field: 'register', reason: `${register} given twice for this meter and date` });
    else read.values[register as Register] = fixedDecimal(value, 2);
    grouped.set(key, read);
  });
  return { reads: [...grouped.values()], problems };
}
