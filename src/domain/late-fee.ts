import { type LocalDate, dayNumber, fromDayNumber, parseLocalDate } from './local-date.js';
import { type Fen, fen, formatYuan, parseYuan } from './money.js';

/**
 * Late fees (电费违约金), docs/DOMAIN.md §1: a daily rate on the overdue principal from the day after
 * the due date to the payment day inclusive, simple interest, summed day by day, with a minimum
 * charge. Rates and the minimum are dated policy data; the interpretation of "cross-year" arrears
 * is a switch recorded on every result.
 */
export interface LateFeeRuleSet {
  readonly effectiveFrom: LocalDate;
  readonly residentialPermille: number;
  readonly currentYearPermille: number;
  readonly crossYearPermille: number;
  /** A total fee above zero but below this is charged as this. */
  readonly minimumFen: Fen;
  readonly source: string;
}

export const LATE_FEE_RULES: readonly LateFeeRuleSet[] = [
  {
    effectiveFrom: '1996-10-08' as LocalDate,
    residentialPermille: 1,
    currentYearPermille: 2,
    crossYearPermille: 3,
    minimumFen: fen(100),
    source: '《供电营业规则》1996 第九十八条',
  },
  {
    // The 2024 rules' article text was not read (docs/DOMAIN.md §1.4, §8): the 1996 rates and the
    // 1-yuan minimum are kept until a human confirms them; change this row, not the code.
    effectiveFrom: '2024-06-01' as LocalDate,
    residentialPermille: 1,
    currentYearPermille: 2,
    crossYearPermille: 3,
    minimumFen: fen(100),
    source: '《供电营业规则》2024 (1996 values kept pending confirmation)',
  },
];

/** A: split by accrual day (default). B: once a debt crosses a year end, every day at the cross-year rate. */
export type CrossYearInterpretation = 'A' | 'B';

export interface LateFeeItem {
  readonly amountFen: Fen;
  readonly dueDate: LocalDate;
}

export interface HoldRange {
  readonly from: LocalDate;
  readonly to: LocalDate;
}

export interface LateFeeInput {
  readonly category: 'residential' | 'other';
  readonly asOf: LocalDate;
  readonly items: readonly LateFeeItem[];
  readonly holds: readonly HoldRange[];
  readonly interpretation: CrossYearInterpretation;
}

export interface LateFeeResult {
  readonly items: readonly { readonly days: number; readonly feeFen: Fen }[];
  readonly feeFen: Fen;
  readonly minimumApplied: boolean;
  readonly interpretation: CrossYearInterpretation;
  readonly rule: string;
}

/** Overdue spans are bounded so that a typo in a date cannot loop for centuries. */
export const OVERDUE_DAYS_MAX = 366 * 30;

export function ruleSetOn(
  date: LocalDate,
  rules: readonly LateFeeRuleSet[] = LATE_FEE_RULES,
): LateFeeRuleSet {
  let found: LateFeeRuleSet | undefined;
  for (const rule of rules) if (rule.effectiveFrom <= date) found = rule;
  if (!found) throw new RangeError(`no late-fee rule in force on ${date}`);
  return found;
}

export function computeLateFee(
  input: LateFeeInput,
  rules: readonly LateFeeRuleSet[] = LATE_FEE_RULES,
): LateFeeResult {
  const asOfDay = dayNumber(input.asOf);
  const holdDays = new Set<number>();
  for (const hold of input.holds)
    for (let d = dayNumber(hold.from); d <= dayNumber(hold.to); d++) holdDays.add(d);

  const items = input.items.map((item) => {
    const dueDay = dayNumber(item.dueDate);
    const dueYear = Number(item.dueDate.slice(0, 4));
    const crossed = Number(input.asOf.slice(0, 4)) > dueYear;
    let days = 0;
    let permilleSum = 0;
    for (let d = dueDay + 1; d <= asOfDay; d++) {
      if (holdDays.has(d)) continue;
      const date = fromDayNumber(d);
      const rule = ruleSetOn(date, rules);
      days += 1;
      if (input.category === 'residential') permilleSum += rule.residentialPermille;
      else {
        const laterYear = Number(date.slice(0, 4)) > dueYear;
        permilleSum += (input.interpretation === 'B' ? crossed : laterYear)
          ? rule.crossYearPermille
          : rule.currentYearPermille;
      }
    }
    // amount × Σ‰ / 1000, rounded half-up to the fen, in integers.
    const feeFen = fen(Math.floor((item.amountFen * permilleSum + 500) / 1000));
    return { days, feeFen };
  });
  const sum = items.reduce((total, item) => total + item.feeFen, 0);
  const rule = ruleSetOn(input.asOf, rules);
  const minimumApplied = sum > 0 && sum < rule.minimumFen;
  return {
    items,
    feeFen: fen(minimumApplied ? rule.minimumFen : sum),
    minimumApplied,
    interpretation: input.interpretation,
    rule: rule.source,
  };
}

// Input parsing (the docs/calculations.md late-fee JSON) ----------------------------------------------------------

export class LateFeeInputError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

function date(value: unknown, field: string): LocalDate {
  const parsed = typeof value === 'string' ? parseLocalDate(value) : null;
  if (!parsed) throw new LateFeeInputError(field, 'must be a date YYYY-MM-DD');
  return parsed;
}

/** Validates calc late-fee input (docs/calculations.md); the error names the field at fault. */
export function parseLateFeeInput(raw: unknown): LateFeeInput {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new LateFeeInputError('input', 'must be an object');
  const root = raw as Record<string, unknown>;
  if (root.category !== 'residential' && root.category !== 'other')
    throw new LateFeeInputError('category', 'must be residential or other');
  const asOf = date(root.asOf, 'asOf');
  if (!Array.isArray(root.items) || root.items.length === 0)
    throw new LateFeeInputError('items', 'must be a non-empty array');
  const items = root.items.map((entry, k) => {
    if (typeof entry !== 'object' || entry === null)
      throw new LateFeeInputError(`items[${k}]`, 'must be an object');
    const item = entry as Record<string, unknown>;
    const amountFen = typeof item.amount === 'string' ? parseYuan(item.amount) : null;
    if (amountFen === null)
      throw new LateFeeInputError(
        `items[${k}].amount`,
        'must be a yuan amount string with at most 2 decimals, e.g. "100.00"',
      );
    if (amountFen < 0) throw new LateFeeInputError(`items[${k}].amount`, 'must not be negative');
    const dueDate = date(item.dueDate, `items[${k}].dueDate`);
    if (dayNumber(asOf) - dayNumber(dueDate) > OVERDUE_DAYS_MAX)
      throw new LateFeeInputError(`items[${k}].dueDate`, `more than ${OVERDUE_DAYS_MAX} days before asOf`);
    return { amountFen, dueDate };
  });
  const holdsRaw = root.holds ?? [];
  if (!Array.isArray(holdsRaw)) throw new LateFeeInputError('holds', 'must be an array');
  const holds = holdsRaw.map((entry, k) => {
    if (typeof entry !== 'object' || entry === null)
      throw new LateFeeInputError(`holds[${k}]`, 'must be an object');
    const hold = entry as Record<string, unknown>;
    const from = date(hold.from, `holds[${k}].from`);
    const to = date(hold.to, `holds[${k}].to`);
    if (to < from) throw new LateFeeInputError(`holds[${k}].to`, 'must not be before from');
    if (dayNumber(to) - dayNumber(from) > OVERDUE_DAYS_MAX)
      throw new LateFeeInputError(`holds[${k}]`, 'spans too many days');
    return { from, to };
  });
  const interpretation = root.interpretation ?? 'A';
  if (interpretation !== 'A' && interpretation !== 'B')
    throw new LateFeeInputError('interpretation', 'must be "A" or "B"');
  return { category: root.category, asOf, items, holds, interpretation };
}

/** The calc late-fee output document (docs/calculations.md). */
export function lateFeeOutput(result: LateFeeResult) {
  return {
    items: result.items.map((item) => ({ days: item.days, fee: formatYuan(item.feeFen) })),
    fee: formatYuan(result.feeFen),
    minimumApplied: result.minimumApplied,
    interpretation: result.interpretation,
    rule: result.rule,
  };
}

/** A released bill's principal and the principal paid on it, for late-fee accrual. */
export interface BillArrears {
  readonly amountFen: Fen;
  readonly dueDate: LocalDate;
  readonly principalPayments: readonly { readonly date: LocalDate; readonly amountFen: Fen }[];
}

/**
 * The late fee a bill has accrued by asOf when it was paid in parts: principal only, no
 * compounding, and each payment reduces the base from the day after it is paid (the paid part
 * accrues through its payment day, docs/DOMAIN.md §1.2). Each part is rounded to the fen on its own;
 * the minimum charge is left to the caller, who applies it to what is charged at once.
 */
export function accruedLateFeeOnBill(
  bill: BillArrears,
  asOf: LocalDate,
  options: {
    readonly category: 'residential' | 'other';
    readonly holds: readonly HoldRange[];
    readonly interpretation: CrossYearInterpretation;
  },
  rules: readonly LateFeeRuleSet[] = LATE_FEE_RULES,
): Fen {
  let open: number = bill.amountFen;
  let total = 0;
  const pieces = [...bill.principalPayments]
    .filter((payment) => payment.date <= asOf)
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  for (const payment of pieces) {
    const paid = Math.min(open, payment.amountFen);
    if (paid <= 0) continue;
    open -= paid;
    total += computeLateFee(
      { ...options, asOf: payment.date, items: [{ amountFen: fen(paid), dueDate: bill.dueDate }] },
      rules,
    ).items[0]!.feeFen;
  }
  if (open > 0)
    total += computeLateFee(
      { ...options, asOf, items: [{ amountFen: fen(open), dueDate: bill.dueDate }] },
      rules,
    ).items[0]!.feeFen;
  return fen(total);
}

/** What to charge now: accrued late fee less what was already charged or waived, with the minimum applied. */
export function lateFeeToCharge(
  accruedFen: Fen,
  alreadySettledFen: Fen,
  asOf: LocalDate,
  rules: readonly LateFeeRuleSet[] = LATE_FEE_RULES,
): Fen {
  const due = Math.max(0, accruedFen - alreadySettledFen);
  if (due === 0) return fen(0);
  const minimum = ruleSetOn(asOf, rules).minimumFen;
  return fen(alreadySettledFen === 0 && due < minimum ? minimum : due);
}
