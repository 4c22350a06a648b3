import { Decimal, fixedDecimal, parseDecimal, plainDecimal, yuanToFenHalfUp } from '../decimal.js';
import { type Fen, fen, formatYuan } from '../money.js';
import {
  type PfStandard,
  formatPercentHundredths,
  pfAdjustmentHundredths,
  powerFactor,
} from './power-factor.js';

/** Time-of-use registers in bill order. */
export const TOU_REGISTERS = ['sharp', 'peak', 'flat', 'valley'] as const;
export type TouRegister = (typeof TOU_REGISTERS)[number];
export const BILL_CATEGORIES = ['residential', 'commercial', 'large_industry', 'agriculture'] as const;
export type BillCategory = (typeof BILL_CATEGORIES)[number];

export interface TierRule {
  readonly basis: 'annual' | 'monthly';
  /** kWh upper bounds of tier 1 and tier 2 (…), ascending. */
  readonly thresholdsKwh: readonly Decimal[];
  /** yuan/kWh added in tier 2, tier 3 (…). */
  readonly increments: readonly Decimal[];
}

export interface BillTariff {
  readonly energy: Readonly<Partial<Record<TouRegister, Decimal>>>;
  readonly tiers?: TierRule;
  readonly basic?: { readonly by: 'capacity' | 'demand'; readonly rate: Decimal };
  readonly pfStandard?: PfStandard;
  /** yuan/kWh of government funds and surcharges inside each energy price. */
  readonly funds?: Decimal;
  /**
   * Time-of-use prices as ratios to the flat price, by season (分时电价浮动): each entry covers
   * some calendar months. Funds do not float: price = (flat − funds) × ratio + funds.
   */
  readonly touSchedule?: readonly {
    readonly months: readonly number[];
    readonly ratios: Readonly<Partial<Record<TouRegister, Decimal>>>;
  }[];
}

/** Resolves a seasonal ratio schedule into the energy prices of one calendar month (1–12). */
export function tariffForMonth(tariff: BillTariff, month: number): BillTariff {
  if (!tariff.touSchedule) return tariff;
  const season = tariff.touSchedule.find((entry) => entry.months.includes(month));
  if (!season) throw new BillInputError('tariff.touSchedule', `no season covers month ${month}`);
  const flat = tariff.energy.flat!;
  const funds = tariff.funds ?? new Decimal(0);
  const energy: Partial<Record<TouRegister, Decimal>> = { flat };
  for (const [register, ratio] of Object.entries(season.ratios) as [TouRegister, Decimal][]) {
    energy[register] = flat.minus(funds).times(ratio).toDecimalPlaces(5, Decimal.ROUND_HALF_UP).plus(funds);
  }
  const { touSchedule: _seasons, ...rest } = tariff;
  return { ...rest, energy };
}

export interface BillUsage {
  readonly kwh: Readonly<Partial<Record<TouRegister, Decimal>>>;
  readonly kvarh?: Decimal;
  readonly capacityKva?: Decimal;
  readonly demandKw?: Decimal;
  /** Contract demand: demand above 105% of it is billed at double the rate. */
  readonly contractDemandKw?: Decimal;
  /** kWh already billed in the tier year before this bill (annual basis). */
  readonly priorKwh: Decimal;
  /** Share of the period with supply (new or closed connections, suspensions): pro-rates the basic charge. */
  readonly basicFraction?: Decimal;
}

export interface BillInput {
  readonly category: BillCategory;
  readonly tariff: BillTariff;
  readonly usage: BillUsage;
}

export interface BillLine {
  readonly code: string;
  readonly kwh?: Decimal;
  readonly price?: Decimal;
  readonly amountFen: Fen;
}

export interface PricedBill {
  readonly lines: readonly BillLine[];
  readonly pf: {
    readonly actual: Decimal;
    readonly standard: PfStandard;
    readonly percentHundredths: number;
  } | null;
  /** Government funds inside the energy charge (informational: already in the energy lines). */
  readonly fundsFen: Fen | null;
  readonly totalKwh: Decimal;
  readonly totalFen: Fen;
}

const ZERO = new Decimal(0);

/**
 * Prices one bill: energy per time-of-use register, tier increments on the bill's total kWh,
 * basic charge, and the power-factor adjustment on basic + energy excluding funds. Every line is
 * rounded half-up to the fen; the total is the sum of the lines.
 */
export function priceBill(input: BillInput): PricedBill {
  const { tariff, usage } = input;
  const lines: BillLine[] = [];
  let totalKwh = ZERO;
  for (const register of TOU_REGISTERS) {
    const kwh = usage.kwh[register];
    if (kwh === undefined) continue;
    const price = tariff.energy[register]!;
    totalKwh = totalKwh.plus(kwh);
    lines.push({ code: `energy.${register}`, kwh, price, amountFen: fen(yuanToFenHalfUp(kwh.times(price))) });
  }

  if (tariff.tiers) {
    const prior = tariff.tiers.basis === 'annual' ? usage.priorKwh : ZERO;
    tierSplit(tariff.tiers, prior, totalKwh).forEach((kwh, k) => {
      if (k === 0 || kwh.isZero()) return;
      const price = tariff.tiers!.increments[k - 1]!;
      lines.push({ code: `tier.${k + 1}`, kwh, price, amountFen: fen(yuanToFenHalfUp(kwh.times(price))) });
    });
  }

  if (tariff.basic) {
    lines.push({
      code: 'basic',
      amountFen: fen(yuanToFenHalfUp(basicCharge(tariff.basic, usage, totalKwh))),
    });
  }

  const fundsFen = tariff.funds ? fen(yuanToFenHalfUp(tariff.funds.times(totalKwh))) : null;
  let pf: PricedBill['pf'] = null;
  if (tariff.pfStandard) {
    const actual = powerFactor(totalKwh, usage.kvarh ?? ZERO);
    const percentHundredths = pfAdjustmentHundredths(actual, tariff.pfStandard);
    const baseFen = lines.reduce((sum, line) => sum + line.amountFen, 0) - (fundsFen ?? 0);
    // base × percent / 100, with percent in hundredths: base × p / 10000, rounded half-up (away from zero).
    const amount = new Decimal(baseFen)
      .times(percentHundredths)
      .div(10_000)
      .toDecimalPlaces(0, Decimal.ROUND_HALF_UP);
    lines.push({ code: 'pf', amountFen: fen(amount.toNumber()) });
    pf = { actual, standard: tariff.pfStandard, percentHundredths };
  }

  const totalFen = fen(lines.reduce((sum, line) => sum + line.amountFen, 0));
  return { lines, pf, fundsFen, totalKwh, totalFen };
}

/** kWh of this bill that fall in each tier, given the tier year's prior consumption. */
export function tierSplit(tiers: TierRule, priorKwh: Decimal, billKwh: Decimal): Decimal[] {
  const start = priorKwh;
  const end = priorKwh.plus(billKwh);
  const bounds = [ZERO, ...tiers.thresholdsKwh];
  return bounds.map((lower, k) => {
    const upper = tiers.thresholdsKwh[k];
    const from = Decimal.max(start, lower);
    const to = upper === undefined ? end : Decimal.min(end, upper);
    return to.greaterThan(from) ? to.minus(from) : ZERO;
  });
}

/**
 * Basic charge: capacity × rate, or demand × rate where demand above 105% of the contract
 * demand is billed double, and a month at ≥ 260 kWh per kVA pays 90% of the demand price.
 */
function basicCharge(basic: NonNullable<BillTariff['basic']>, usage: BillUsage, totalKwh: Decimal): Decimal {
  const fraction = usage.basicFraction ?? new Decimal(1);
  return fullBasicCharge(basic, usage, totalKwh).times(fraction);
}

function fullBasicCharge(
  basic: NonNullable<BillTariff['basic']>,
  usage: BillUsage,
  totalKwh: Decimal,
): Decimal {
  if (basic.by === 'capacity') return basic.rate.times(usage.capacityKva!);
  let rate = basic.rate;
  if (
    usage.capacityKva &&
    !usage.capacityKva.isZero() &&
    totalKwh.div(usage.capacityKva).greaterThanOrEqualTo(260)
  ) {
    rate = rate.times('0.9');
  }
  const demand = usage.demandKw!;
  if (!usage.contractDemandKw) return rate.times(demand);
  const allowance = usage.contractDemandKw.times('1.05');
  const billed = Decimal.max(demand, usage.contractDemandKw);
  const excess = demand.greaterThan(allowance) ? demand.minus(allowance) : ZERO;
  return rate.times(billed).plus(rate.times(excess));
}

// Input parsing (the docs/calculations.md calc bill JSON) -----------------------------------------------------------

export class BillInputError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

type Json = Record<string, unknown>;

function object(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new BillInputError(field, 'must be an object');
  return value as Json;
}

function decimalField(
  value: unknown,
  field: string,
  maxDecimals: number,
  options: { positive?: boolean } = {},
): Decimal {
  const parsed = parseDecimal(value, maxDecimals);
  if (!parsed)
    throw new BillInputError(field, `must be a decimal number with at most ${maxDecimals} decimals`);
  if (parsed.isNegative()) throw new BillInputError(field, 'must not be negative');
  if (options.positive && parsed.isZero()) throw new BillInputError(field, 'must be greater than 0');
  return parsed;
}

/** Validates calc bill input (docs/calculations.md); the error names the field at fault. */
export function parseBillInput(raw: unknown): BillInput {
  const root = object(raw, 'input');
  const category = root.category;
  if (!BILL_CATEGORIES.includes(category as BillCategory)) {
    throw new BillInputError('category', `must be one of ${BILL_CATEGORIES.join(', ')}`);
  }
  let tariff = parseBillTariff(root.tariff, 'tariff');
  if (tariff.touSchedule) {
    const month = (root.usage as Record<string, unknown> | undefined)?.month;
    if (!Number.isInteger(month) || (month as number) < 1 || (month as number) > 12) {
      throw new BillInputError('usage.month', 'is required (1–12) when the tariff has a touSchedule');
    }
    tariff = tariffForMonth(tariff, month as number);
  }
  return { category: category as BillCategory, tariff, usage: parseBillUsage(root.usage, tariff, 'usage') };
}

/** Validates a tariff in the calc bill shape (docs/calculations.md) (also the shape of stored tariff versions). */
export function parseBillTariff(raw: unknown, field: string): BillTariff {
  const tariffJson = object(raw, field);
  const energyJson = object(tariffJson.energy, `${field}.energy`);
  const energy: Partial<Record<TouRegister, Decimal>> = {};
  for (const [key, value] of Object.entries(energyJson)) {
    if (!TOU_REGISTERS.includes(key as TouRegister)) {
      throw new BillInputError(`${field}.energy.${key}`, `unknown register; use ${TOU_REGISTERS.join(', ')}`);
    }
    energy[key as TouRegister] = decimalField(value, `${field}.energy.${key}`, 5);
  }
  if (Object.keys(energy).length === 0)
    throw new BillInputError(`${field}.energy`, 'needs at least one register price');

  let tiers: TierRule | undefined;
  if (tariffJson.tiers !== undefined) {
    const tiersJson = object(tariffJson.tiers, `${field}.tiers`);
    if (tiersJson.basis !== 'annual' && tiersJson.basis !== 'monthly') {
      throw new BillInputError(`${field}.tiers.basis`, 'must be annual or monthly');
    }
    if (!Array.isArray(tiersJson.thresholds) || tiersJson.thresholds.length === 0) {
      throw new BillInputError(`${field}.tiers.thresholds`, 'must be a non-empty array of kWh bounds');
    }
    const thresholdsKwh = tiersJson.thresholds.map((value, k) =>
      decimalField(value, `${field}.tiers.thresholds[${k}]`, 2, { positive: true }),
    );
    thresholdsKwh.forEach((value, k) => {
      if (k > 0 && !value.greaterThan(thresholdsKwh[k - 1]!)) {
        throw new BillInputError(
          `${field}.tiers.thresholds[${k}]`,
          'must be greater than the previous threshold',
        );
      }
    });
    if (!Array.isArray(tiersJson.increments) || tiersJson.increments.length !== thresholdsKwh.length) {
      throw new BillInputError(
        `${field}.tiers.increments`,
        `must have one price per threshold (${thresholdsKwh.length})`,
      );
    }
    const increments = tiersJson.increments.map((value, k) =>
      decimalField(value, `${field}.tiers.increments[${k}]`, 5),
    );
    tiers = { basis: tiersJson.basis, thresholdsKwh, increments };
  }

  let basic: BillTariff['basic'];
  if (tariffJson.basic !== undefined) {
    const basicJson = object(tariffJson.basic, `${field}.basic`);
    if (basicJson.by !== 'capacity' && basicJson.by !== 'demand') {
      throw new BillInputError(`${field}.basic.by`, 'must be capacity or demand');
    }
    basic = { by: basicJson.by, rate: decimalField(basicJson.rate, `${field}.basic.rate`, 5) };
  }

  let pfStandard: PfStandard | undefined;
  if (tariffJson.pfStandard !== undefined) {
    if (!['0.90', '0.85', '0.80'].includes(String(tariffJson.pfStandard))) {
      throw new BillInputError(`${field}.pfStandard`, 'must be "0.90", "0.85" or "0.80"');
    }
    pfStandard = String(tariffJson.pfStandard) as PfStandard;
  }
  const funds =
    tariffJson.funds === undefined ? undefined : decimalField(tariffJson.funds, `${field}.funds`, 5);
  const touSchedule =
    tariffJson.touSchedule === undefined
      ? undefined
      : parseTouSchedule(tariffJson.touSchedule, energy, field);
  return {
    energy,
    ...(tiers ? { tiers } : {}),
    ...(basic ? { basic } : {}),
    ...(pfStandard ? { pfStandard } : {}),
    ...(funds ? { funds } : {}),
    ...(touSchedule ? { touSchedule } : {}),
  };
}

/** Validates usage against its tariff: every priced register needs kWh, and PF or basic charge their inputs. */
export function parseBillUsage(raw: unknown, tariff: BillTariff, field: string): BillUsage {
  const usageJson = object(raw, field);
  const kwhJson = object(usageJson.kwh, `${field}.kwh`);
  const kwh: Partial<Record<TouRegister, Decimal>> = {};
  for (const [key, value] of Object.entries(kwhJson)) {
    if (!TOU_REGISTERS.includes(key as TouRegister)) {
      throw new BillInputError(`${field}.kwh.${key}`, `unknown register; use ${TOU_REGISTERS.join(', ')}`);
    }
    if (tariff.energy[key as TouRegister] === undefined)
      throw new BillInputError(`${field}.kwh.${key}`, 'has no price in tariff.energy');
    kwh[key as TouRegister] = decimalField(value, `${field}.kwh.${key}`, 2);
  }
  for (const key of Object.keys(tariff.energy)) {
    if (kwh[key as TouRegister] === undefined) {
      throw new BillInputError(`${field}.kwh.${key}`, 'is missing: every priced register needs its kWh');
    }
  }
  const optional = (name: string, decimals: number) =>
    usageJson[name] === undefined ? undefined : decimalField(usageJson[name], `${field}.${name}`, decimals);
  const kvarh = optional('kvarh', 2);
  const capacityKva = optional('capacityKva', 2);
  const demandKw = optional('demandKw', 3);
  const contractDemandKw = optional('contractDemandKw', 3);
  const priorKwh = optional('priorKwh', 2) ?? ZERO;
  if (tariff.pfStandard && kvarh === undefined)
    throw new BillInputError(`${field}.kvarh`, 'is required when tariff.pfStandard is set');
  if (tariff.basic?.by === 'capacity' && capacityKva === undefined) {
    throw new BillInputError(`${field}.capacityKva`, 'is required when tariff.basic.by is capacity');
  }
  if (tariff.basic?.by === 'demand' && demandKw === undefined) {
    throw new BillInputError(`${field}.demandKw`, 'is required when tariff.basic.by is demand');
  }
  return {
    kwh,
    priorKwh,
    ...(kvarh ? { kvarh } : {}),
    ...(capacityKva ? { capacityKva } : {}),
    ...(demandKw ? { demandKw } : {}),
    ...(contractDemandKw ? { contractDemandKw } : {}),
  };
}

/** The calc bill output document (docs/calculations.md). */
export function billOutput(bill: PricedBill) {
  return {
    lines: bill.lines.map((line) => ({
      code: line.code,
      ...(line.kwh ? { kwh: plainDecimal(line.kwh) } : {}),
      ...(line.price ? { price: fixedDecimal(line.price, Math.max(4, decimalPlaces(line.price))) } : {}),
      amount: formatYuan(line.amountFen),
    })),
    ...(bill.pf
      ? {
          pf: {
            actual: fixedDecimal(bill.pf.actual, 2),
            standard: bill.pf.standard,
            percent: formatPercentHundredths(bill.pf.percentHundredths),
          },
        }
      : {}),
    ...(bill.fundsFen !== null ? { funds: formatYuan(bill.fundsFen) } : {}),
    totalKwh: plainDecimal(bill.totalKwh),
    total: formatYuan(bill.totalFen),
  };
}

function decimalPlaces(value: Decimal): number {
  return value.decimalPlaces();
}

function parseTouSchedule(
  raw: unknown,
  energy: Partial<Record<TouRegister, Decimal>>,
  field: string,
): NonNullable<BillTariff['touSchedule']> {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new BillInputError(`${field}.touSchedule`, 'must be a non-empty array of seasons');
  if (energy.flat === undefined || Object.keys(energy).length !== 1) {
    throw new BillInputError(
      `${field}.energy`,
      'with a touSchedule, give only the flat price; the others follow from the ratios',
    );
  }
  const seen = new Set<number>();
  const schedule = raw.map((entry, k) => {
    const season = object(entry, `${field}.touSchedule[${k}]`);
    const months = season.months;
    if (
      !Array.isArray(months) ||
      months.length === 0 ||
      months.some((m) => !Number.isInteger(m) || m < 1 || m > 12 || seen.has(m as number))
    ) {
      throw new BillInputError(
        `${field}.touSchedule[${k}].months`,
        'must list months 1–12, each in one season only',
      );
    }
    for (const month of months) seen.add(month as number);
    const ratiosJson = object(season.ratios, `${field}.touSchedule[${k}].ratios`);
    const ratios: Partial<Record<TouRegister, Decimal>> = {};
    for (const [register, value] of Object.entries(ratiosJson)) {
      if (!TOU_REGISTERS.includes(register as TouRegister) || register === 'flat') {
        throw new BillInputError(
          `${field}.touSchedule[${k}].ratios.${register}`,
          'must be sharp, peak or valley (flat is 1)',
        );
      }
      ratios[register as TouRegister] = decimalField(
        value,
        `${field}.touSchedule[${k}].ratios.${register}`,
        4,
        { positive: true },
      );
    }
    return { months: months as number[], ratios };
  });
  if (seen.size !== 12) throw new BillInputError(`${field}.touSchedule`, 'seasons must cover all 12 months');
  const registers = Object.keys(schedule[0]!.ratios).sort().join(',');
  if (schedule.some((season) => Object.keys(season.ratios).sort().join(',') !== registers)) {
    throw new BillInputError(`${field}.touSchedule`, 'every season must give ratios for the same registers');
  }
  return schedule;
}
