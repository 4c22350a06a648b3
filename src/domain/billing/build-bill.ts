import { Decimal } from '../decimal.js';
import { type LocalDate, dayNumber } from '../local-date.js';
import { remember } from '../remember.js';
import type { Fen } from '../money.js';
import { fen } from '../money.js';
import {
  type BillLine,
  type BillTariff,
  type BillUsage,
  type TierRule,
  TOU_REGISTERS,
  type TouRegister,
  parseBillTariff,
  priceBill,
  tariffForMonth,
} from '../tariff/price-bill.js';
import type { Register } from './consumption.js';

/** The facts about a customer that pricing needs. */
export interface BillingCustomer {
  readonly householdSize: number | null;
  readonly openedOn: LocalDate;
  readonly closedOn: LocalDate | null;
  readonly capacityKva: Decimal | null;
  readonly contractDemandKw: Decimal | null;
  readonly lowSideMetered: boolean;
  /**
   * Capacity in force over date ranges that differ from the contract capacity (暂停 suspension at
   * 0 kVA, 暂换 temporary swap, increases): from inclusive, to exclusive (null: still in force).
   */
  readonly capacityChanges?: readonly {
    readonly from: LocalDate;
    readonly to: LocalDate | null;
    readonly capacityKva: Decimal;
  }[];
}

export interface TariffVersionDef {
  readonly tariffVersionId: number;
  readonly effectiveFrom: LocalDate;
  readonly effectiveTo: LocalDate | null;
  readonly definition: unknown;
}

export interface BuildBillInput {
  readonly customer: BillingCustomer;
  /** Versions of the customer's tariff, any order. */
  readonly versions: readonly TariffVersionDef[];
  /** The previous read's date (exclusive) and this period's read date (inclusive). */
  readonly spanFrom: LocalDate;
  readonly spanTo: LocalDate;
  readonly consumption: Readonly<Partial<Record<Register, Decimal>>>;
  readonly demandKw: Decimal | null;
  /** kWh billed earlier in the same tier year. */
  readonly priorKwh: Decimal;
  /** The calendar month of the tier year this bill belongs to (1–12). */
  readonly tierMonth: number;
  readonly tierYear: number;
}

export interface BuiltBill {
  readonly lines: readonly BillLine[];
  readonly totalFen: Fen;
  readonly totalKwh: Decimal;
  readonly fundsFen: Fen;
  readonly tariffVersionIds: readonly number[];
  readonly lossKwh: Decimal;
  /** Everything needed to price the bill again: tariff definitions and usage per part. */
  readonly inputs: BillInputsRecord;
}

export interface BillInputsRecord {
  readonly spanFrom: string;
  readonly spanTo: string;
  /** The calendar month whose time-of-use season priced the bill. */
  readonly month?: number;
  readonly lossKwh: string;
  readonly parts: readonly {
    readonly tariffVersionId: number;
    readonly effectiveFrom: string;
    readonly days: number;
    /** Tier thresholds as applied to this customer (raised or pro-rated), when the tariff has tiers. */
    readonly tierThresholds?: readonly string[];
    readonly usage: Record<string, unknown>;
  }[];
}

export class BillingError extends Error {
  constructor(
    readonly code: 'no_tariff_in_force' | 'tariff_invalid',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Transformer no-load and load losses (变损) for customers metered on the low side, as policy
 * data: kWh per month of no-load loss by transformer capacity, plus a share of the metered
 * energy. Illustrative values of the order of S11-type transformers; a utility loads its own.
 */
export const TRANSFORMER_LOSS: readonly { readonly kvaMax: number; readonly noLoadKwhPerMonth: number }[] = [
  { kvaMax: 200, noLoadKwhPerMonth: 250 },
  { kvaMax: 315, noLoadKwhPerMonth: 345 },
  { kvaMax: 400, noLoadKwhPerMonth: 410 },
  { kvaMax: 630, noLoadKwhPerMonth: 580 },
  { kvaMax: Number.POSITIVE_INFINITY, noLoadKwhPerMonth: 800 },
];
export const LOAD_LOSS_SHARE = new Decimal('0.01');

const ZERO = new Decimal(0);
const ONE = new Decimal(1);

/**
 * Turns a period's consumption into a priced bill: maps registers to the tariff's time-of-use
 * prices, adds transformer losses to flat kWh, splits the period by tariff version (pro-rated
 * by days), raises or pro-rates tier thresholds, pro-rates the basic charge for part-period
 * supply, and prices every part with the tariff engine.
 */
export function buildBill(input: BuildBillInput): BuiltBill {
  const spanDays = dayNumber(input.spanTo) - dayNumber(input.spanFrom);
  if (spanDays <= 0)
    throw new BillingError('tariff_invalid', `empty billing span ${input.spanFrom}..${input.spanTo}`);
  const parts = versionParts(input.versions, input.spanFrom, input.spanTo);
  if (parts.length === 0)
    throw new BillingError(
      'no_tariff_in_force',
      `no tariff version in force between ${input.spanFrom} and ${input.spanTo}`,
    );

  const firstTariff = monthTariff(parseTariff(parts[0]!.version), input.tierMonth);
  const kwh = registerKwh(firstTariff, input.consumption);
  const meteredKwh = Object.values(kwh).reduce((sum, value) => sum.plus(value ?? ZERO), ZERO);
  let lossKwh = ZERO;
  if (input.customer.lowSideMetered && input.customer.capacityKva) {
    const capacity = input.customer.capacityKva.toNumber();
    const row = TRANSFORMER_LOSS.find((entry) => capacity <= entry.kvaMax)!;
    lossKwh = new Decimal(row.noLoadKwhPerMonth)
      .times(spanDays)
      .div(30)
      .plus(meteredKwh.times(LOAD_LOSS_SHARE))
      .toDecimalPlaces(2);
    const lossRegister: TouRegister = firstTariff.energy.flat
      ? 'flat'
      : (Object.keys(firstTariff.energy)[0] as TouRegister);
    kwh[lossRegister] = (kwh[lossRegister] ?? ZERO).plus(lossKwh);
  }

  const supplyFrom = Math.max(dayNumber(input.spanFrom), dayNumber(input.customer.openedOn) - 1);
  const supplyTo = Math.min(
    dayNumber(input.spanTo),
    input.customer.closedOn ? dayNumber(input.customer.closedOn) : Number.POSITIVE_INFINITY,
  );
  const supplyDays = Math.max(0, supplyTo - supplyFrom);
  const basicFraction = supplyDays === spanDays ? ONE : new Decimal(supplyDays).div(spanDays);
  const capacityKva = effectiveCapacity(input.customer, supplyFrom, supplyTo);

  const lines: BillLine[] = [];
  const records: BillInputsRecord['parts'][number][] = [];
  let prior = input.priorKwh;
  let fundsFen = 0;
  let totalKwh = ZERO;
  const shares = splitByDays(
    kwh,
    parts.map((part) => part.days),
  );
  parts.forEach((part, k) => {
    const tariff = adjustTiers(
      monthTariff(parseTariff(part.version), input.tierMonth),
      part.version.definition,
      input,
    );
    const partKwh = shares[k]!;
    const partShare = part.days === spanDays ? ONE : new Decimal(part.days).div(spanDays);
    const usage: BillUsage = {
      kwh: partKwh,
      priorKwh: prior,
      basicFraction: basicFraction.times(partShare),
      ...(tariff.pfStandard
        ? { kvarh: (input.consumption.reactive ?? ZERO).times(partShare).toDecimalPlaces(2) }
        : {}),
      ...(capacityKva ? { capacityKva } : {}),
      ...(tariff.basic?.by === 'demand'
        ? {
            demandKw: input.demandKw ?? input.customer.contractDemandKw ?? input.customer.capacityKva ?? ZERO,
          }
        : {}),
      ...(input.customer.contractDemandKw ? { contractDemandKw: input.customer.contractDemandKw } : {}),
    };
    const priced = priceBill({ category: 'commercial', tariff, usage });
    if (parts.length > 1) {
      for (const line of priced.lines)
        lines.push({ ...line, code: `${line.code}@${part.version.effectiveFrom}` });
    } else lines.push(...priced.lines);
    fundsFen += priced.fundsFen ?? 0;
    totalKwh = totalKwh.plus(priced.totalKwh);
    prior = prior.plus(priced.totalKwh);
    records.push({
      tariffVersionId: part.version.tariffVersionId,
      effectiveFrom: part.version.effectiveFrom,
      days: part.days,
      ...(tariff.tiers ? { tierThresholds: thresholdTexts(tariff.tiers) } : {}),
      usage: usageRecord(usage),
    });
  });
  const totalFen = fen(lines.reduce((sum, line) => sum + line.amountFen, 0));
  return {
    lines,
    totalFen,
    totalKwh,
    fundsFen: fen(fundsFen),
    tariffVersionIds: parts.map((part) => part.version.tariffVersionId),
    lossKwh,
    inputs: {
      spanFrom: input.spanFrom,
      spanTo: input.spanTo,
      month: input.tierMonth,
      lossKwh: lossKwh.toString(),
      parts: records,
    },
  };
}

/**
 * Prices a bill again from its stored inputs and the (immutable) tariff versions they name: the
 * reproducibility check.
 */
export function repriceFromInputs(
  inputs: BillInputsRecord,
  definitions: ReadonlyMap<number, unknown>,
): { lines: BillLine[]; totalFen: Fen } {
  const lines: BillLine[] = [];
  for (const part of inputs.parts) {
    const parsed = tariffForMonth(
      parseBillTariff(definitions.get(part.tariffVersionId), `tariff_version ${part.tariffVersionId}`),
      inputs.month ?? 1,
    );
    const tariff =
      parsed.tiers && part.tierThresholds
        ? {
            ...parsed,
            tiers: { ...parsed.tiers, thresholdsKwh: part.tierThresholds.map((value) => new Decimal(value)) },
          }
        : parsed;
    const usage = part.usage as { kwh: Record<string, string> } & Record<string, string>;
    const decimal = (name: string) => (usage[name] === undefined ? {} : { [name]: new Decimal(usage[name]) });
    const priced = priceBill({
      category: 'commercial',
      tariff,
      usage: {
        kwh: Object.fromEntries(
          Object.entries(usage.kwh).map(([register, value]) => [register, new Decimal(value)]),
        ),
        priorKwh: new Decimal(usage.priorKwh ?? '0'),
        ...decimal('basicFraction'),
        ...decimal('kvarh'),
        ...decimal('capacityKva'),
        ...decimal('demandKw'),
        ...decimal('contractDemandKw'),
      },
    });
    const suffix = inputs.parts.length > 1 ? `@${part.effectiveFrom}` : '';
    for (const line of priced.lines) lines.push({ ...line, code: `${line.code}${suffix}` });
  }
  return { lines, totalFen: fen(lines.reduce((sum, line) => sum + line.amountFen, 0)) };
}

// Tariff versions are immutable and shared by thousands of bills in a run: each definition
// object is parsed once. Keyed weakly by the definition, so nothing outlives its run.
const parsedTariffs = new WeakMap<object, BillTariff>();

function parseTariff(version: TariffVersionDef): BillTariff {
  const key =
    typeof version.definition === 'object' && version.definition !== null ? version.definition : null;
  const cached = key ? parsedTariffs.get(key) : undefined;
  if (cached) return cached;
  try {
    const parsed = parseBillTariff(version.definition, `tariff_version ${version.tariffVersionId}`);
    if (key) parsedTariffs.set(key, parsed);
    return parsed;
  } catch (error) {
    throw new BillingError('tariff_invalid', (error as Error).message);
  }
}

// A parsed tariff resolved for a calendar month, and then with its tiers adjusted for a kind of
// customer, is the same for every bill of that month and kind: derived once per parsed tariff.
const monthTariffs = new WeakMap<BillTariff, Map<number, BillTariff>>();
const adjustedTariffs = new WeakMap<BillTariff, Map<string, BillTariff>>();

const thresholdTextsByTiers = new WeakMap<TierRule, readonly string[]>();

/** The tier thresholds as stored in a bill's inputs (the same tiers serve many bills). */
function thresholdTexts(tiers: TierRule): readonly string[] {
  return remember(thresholdTextsByTiers, tiers, () => tiers.thresholdsKwh.map((value) => value.toString()));
}

function monthTariff(tariff: BillTariff, month: number): BillTariff {
  if (!tariff.touSchedule) return tariff;
  return remember(
    remember(monthTariffs, tariff, () => new Map()),
    month,
    () => tariffForMonth(tariff, month),
  );
}

// A tariff's versions are the same list for every customer on the tariff: sorted once.
const sortedVersions = new WeakMap<readonly TariffVersionDef[], readonly TariffVersionDef[]>();

function byEffectiveFrom(versions: readonly TariffVersionDef[]): readonly TariffVersionDef[] {
  return remember(sortedVersions, versions, () =>
    [...versions].sort((a, b) => (a.effectiveFrom < b.effectiveFrom ? -1 : 1)),
  );
}

function versionParts(versions: readonly TariffVersionDef[], spanFrom: LocalDate, spanTo: LocalDate) {
  const from = dayNumber(spanFrom);
  const to = dayNumber(spanTo);
  const parts: { version: TariffVersionDef; days: number }[] = [];
  for (const version of byEffectiveFrom(versions)) {
    // A version covers the days d with effectiveFrom ≤ d < effectiveTo; the span covers from < d ≤ to.
    const start = Math.max(from + 1, dayNumber(version.effectiveFrom));
    const end = Math.min(to, version.effectiveTo ? dayNumber(version.effectiveTo) - 1 : to);
    if (end >= start) parts.push({ version, days: end - start + 1 });
  }
  return parts;
}

const pricedByTariff = new WeakMap<BillTariff, readonly TouRegister[]>();

/** The time-of-use registers a tariff has energy prices for, in register order. */
function pricedRegisters(tariff: BillTariff): readonly TouRegister[] {
  return remember(pricedByTariff, tariff, () =>
    TOU_REGISTERS.filter((register) => tariff.energy[register] !== undefined),
  );
}

/** kWh per priced register: the tariff's TOU registers from the meter's, the total on flat otherwise. */
function registerKwh(
  tariff: BillTariff,
  consumption: BuildBillInput['consumption'],
): Partial<Record<TouRegister, Decimal>> {
  const priced = pricedRegisters(tariff);
  const kwh: Partial<Record<TouRegister, Decimal>> = {};
  const metered = priced.filter((register) => consumption[register] !== undefined);
  const total =
    consumption.total ?? metered.reduce((sum, register) => sum.plus(consumption[register]!), ZERO);
  if (metered.length === 0 || priced.length === 1) {
    for (const register of priced) kwh[register] = ZERO;
    kwh[priced.includes('flat') ? 'flat' : priced[0]!] = total;
    return kwh;
  }
  let assigned = ZERO;
  for (const register of priced) {
    kwh[register] = consumption[register] ?? ZERO;
    assigned = assigned.plus(kwh[register]!);
  }
  // A total register above the sum of the TOU registers (meters differ by rounding) goes to flat.
  // A total register above the sum of the time-of-use registers (meters differ by their last
  // digit) is billed on flat, or on the first priced register when the tariff has no flat.
  const rest = total.minus(assigned);
  const restRegister: TouRegister = kwh.flat !== undefined ? 'flat' : priced[0]!;
  if (rest.greaterThan(0)) kwh[restRegister] = kwh[restRegister]!.plus(rest);
  return kwh;
}

/** Splits each register's kWh over the parts in proportion to their days, in hundredths, with the remainder on the last part. */
function splitByDays(
  kwh: Partial<Record<TouRegister, Decimal>>,
  days: readonly number[],
): Partial<Record<TouRegister, Decimal>>[] {
  if (days.length === 1) return [kwh];
  const totalDays = days.reduce((sum, d) => sum + d, 0);
  const parts = days.map(() => ({}) as Partial<Record<TouRegister, Decimal>>);
  for (const [register, value] of Object.entries(kwh) as [TouRegister, Decimal][]) {
    let left = value;
    days.forEach((d, k) => {
      const share =
        k === days.length - 1 ? left : value.times(d).div(totalDays).toDecimalPlaces(2, Decimal.ROUND_DOWN);
      parts[k]![register] = share;
      left = left.minus(share);
    });
  }
  return parts;
}

/**
 * Annual tier thresholds are raised for large households (when the tariff says so) and
 * pro-rated by months for accounts opened during the tier year.
 */
function adjustTiers(tariff: BillTariff, definition: unknown, input: BuildBillInput): BillTariff {
  if (!tariff.tiers) return tariff;
  const raw = (definition ?? {}) as {
    tiers?: { largeHouseholdExtraKwhPerMonth?: number; largeHouseholdMinPersons?: number };
  };
  const extraPerMonth = raw.tiers?.largeHouseholdExtraKwhPerMonth ?? 0;
  const minPersons = raw.tiers?.largeHouseholdMinPersons ?? Number.POSITIVE_INFINITY;
  const large = (input.customer.householdSize ?? 0) >= minPersons;
  const annual = tariff.tiers.basis === 'annual';
  const openedYear = Number(input.customer.openedOn.slice(0, 4));
  const openedMonth = Number(input.customer.openedOn.slice(5, 7));
  const monthsInYear = annual && openedYear === input.tierYear ? 13 - openedMonth : 12;
  const key = `${large ? extraPerMonth : 0}:${monthsInYear}`;
  return remember(
    remember(adjustedTariffs, tariff, () => new Map()),
    key,
    () => {
      const extra = large ? new Decimal(extraPerMonth).times(annual ? 12 : 1) : ZERO;
      const thresholdsKwh = tariff.tiers!.thresholdsKwh.map((threshold) =>
        threshold
          .plus(extra)
          .times(annual ? monthsInYear : 12)
          .div(12)
          .toDecimalPlaces(2),
      );
      const tiers: TierRule = { ...tariff.tiers!, thresholdsKwh };
      return { ...tariff, tiers };
    },
  );
}

const USAGE_DECIMALS = ['basicFraction', 'kvarh', 'capacityKva', 'demandKw', 'contractDemandKw'] as const;

function usageRecord(usage: BillUsage): Record<string, unknown> {
  const kwh: Record<string, string> = {};
  for (const register of TOU_REGISTERS) {
    const value = usage.kwh[register];
    if (value !== undefined) kwh[register] = value.toString();
  }
  const record: Record<string, unknown> = { kwh, priorKwh: usage.priorKwh.toString() };
  for (const name of USAGE_DECIMALS) {
    const value = usage[name];
    if (value !== undefined) record[name] = value.toString();
  }
  return record;
}

/**
 * The contract capacity averaged over the days of supply (day numbers: from exclusive, to
 * inclusive), with suspensions and swaps in force on their days; the basic charge is then
 * rate × this × the share of the span with supply. Null without a contract capacity.
 */
function effectiveCapacity(customer: BillingCustomer, supplyFrom: number, supplyTo: number): Decimal | null {
  if (!customer.capacityKva) return null;
  const changes = customer.capacityChanges ?? [];
  if (changes.length === 0 || supplyTo <= supplyFrom) return customer.capacityKva;
  let kvaDays = new Decimal(0);
  for (let day = supplyFrom + 1; day <= supplyTo; day++) {
    const change = changes.find(
      (entry) => dayNumber(entry.from) <= day && (entry.to === null || day < dayNumber(entry.to)),
    );
    kvaDays = kvaDays.plus(change ? change.capacityKva : customer.capacityKva);
  }
  return kvaDays.div(supplyTo - supplyFrom).toDecimalPlaces(6);
}
