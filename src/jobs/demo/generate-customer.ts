import {
  type LocalDate,
  type Period,
  addDays,
  addMonths,
  daysBetween,
  daysInMonth,
  localDate,
  periodMonth,
  periodYear,
} from '../../domain/local-date.js';
import { maskNationalId, nationalIdCheckChar } from '../../domain/national-id.js';
import { SeededRandom } from '../../domain/seeded-random.js';
import {
  BANKS,
  COUNTY,
  FACTORY_KINDS,
  FACTORY_WORDS,
  GIVEN_CHARS,
  INDUSTRY_KINDS,
  PROTECTED_KINDS,
  SHOP_KINDS,
  SURNAMES,
} from './demo-names.js';
import { type CountyPlan, slotOf } from './plan-county.js';

export type Category = 'residential' | 'commercial' | 'large_industry' | 'agriculture' | 'temporary';
export type Register = 'total' | 'sharp' | 'peak' | 'flat' | 'valley' | 'reactive';
export type ReadFault = 'estimated' | 'misread' | 'rollover' | 'meter_change' | 'vacant' | 'missing';
type Cell = string | number | boolean | null;

export const CUSTOMER_COLUMNS = [
  'customer_id',
  'customer_no',
  'name',
  'category',
  'station_id',
  'transformer_area_id',
  'address',
  'phone',
  'national_id_encrypted',
  'national_id_masked',
  'billing_mode',
  'protected',
  'protection_reason',
  'household_size',
  'contract_capacity_kva',
  'pf_standard',
  'tariff_code',
  'metering_side',
  'due_rule',
  'occupancy',
  'status',
  'opened_on',
  'closed_on',
  'contract_demand_kw',
] as const;
export const ACCOUNT_COLUMNS = [
  'customer_id',
  'customer_account_id',
  'account_no',
  'opened_on',
  'withholding_bank_code',
  'withholding_account_no_encrypted',
  'withholding_account_no_masked',
  'withholding_account_name',
  'withholding_signed_on',
] as const;
export const METER_COLUMNS = [
  'customer_id',
  'meter_id',
  'meter_no',
  'phase',
  'multiplier',
  'register_digits',
  'registers',
  'installed_on',
  'removed_on',
  'initial_reads',
] as const;
export const METER_CHANGE_COLUMNS = [
  'customer_id',
  'meter_change_id',
  'old_meter_id',
  'new_meter_id',
  'changed_on',
  'reason',
  'old_final',
  'new_initial',
] as const;
export const READ_COLUMNS = [
  'customer_id',
  'meter_read_id',
  'meter_id',
  'period',
  'read_on',
  'kind',
  'source',
  'total',
  'sharp',
  'peak',
  'flat',
  'valley',
  'reactive',
  'read_by',
  'demand',
] as const;
export const FAULT_COLUMNS = ['customer_id', 'meter_id', 'period', 'fault'] as const;
export const CAPACITY_CHANGE_COLUMNS = [
  'customer_id',
  'capacity_change_id',
  'kind',
  'from_date',
  'to_date',
  'capacity_kva',
  'note',
] as const;
export const BEHAVIOUR_COLUMNS = [
  'customer_id',
  'payment_behaviour',
  'preferred_channel',
  'pay_delay_days',
  'disappears_after',
] as const;

export interface GeneratedCustomer {
  /** Row in CUSTOMER_COLUMNS order; national_id_encrypted holds the plain number until the job encrypts it. */
  readonly customer: Cell[];
  readonly nationalId: string | null;
  /** Row in ACCOUNT_COLUMNS order; the encrypted column holds the plain account number until encrypted. */
  readonly account: Cell[];
  readonly meters: Cell[][];
  readonly meterChanges: Cell[][];
  readonly reads: Cell[][];
  readonly faults: Cell[][];
  readonly behaviour: Cell[];
  readonly capacityChanges: Cell[][];
}

const TOU_REGISTERS: Readonly<Record<string, readonly Register[]>> = {
  'RES-TIER': ['total'],
  'RES-TIER-TOU': ['total', 'peak', 'valley'],
  'CI-SINGLE': ['total'],
  'CI-TOU': ['total', 'peak', 'flat', 'valley', 'reactive'],
  'LI-2P-CAP': ['total', 'sharp', 'peak', 'flat', 'valley', 'reactive'],
  'LI-2P-DEM': ['total', 'sharp', 'peak', 'flat', 'valley', 'reactive'],
  AGRI: ['total'],
  'AGRI-PF': ['total', 'reactive'],
  TEMP: ['total'],
};

// Monthly load shape (January first): summer cooling, winter heating, irrigation seasons and the
// Spring Festival dip for industry.
const SEASON: Readonly<Record<Category | 'shop', readonly number[]>> = {
  residential: [1.35, 1.3, 1.0, 0.85, 0.9, 1.15, 1.6, 1.65, 1.1, 0.85, 0.95, 1.25],
  commercial: [1.1, 0.8, 1.0, 1.0, 1.0, 1.1, 1.25, 1.25, 1.05, 1.0, 1.0, 1.1],
  shop: [1.2, 1.1, 0.95, 0.9, 0.95, 1.1, 1.3, 1.3, 1.0, 0.95, 1.0, 1.15],
  large_industry: [1.0, 0.7, 1.0, 1.05, 1.05, 1.05, 1.1, 1.1, 1.05, 1.0, 1.0, 1.0],
  agriculture: [0.05, 0.05, 0.4, 1.3, 1.6, 1.3, 0.6, 0.9, 1.0, 0.3, 0.15, 0.05],
  temporary: [0.9, 0.6, 1.0, 1.05, 1.05, 1.05, 1.05, 1.05, 1.05, 1.05, 1.0, 0.95],
};

const SCALE = 100; // registers are tracked in hundredths, as integers

export function generateCustomer(plan: CountyPlan, index: number): GeneratedCustomer {
  const { seed } = plan.params;
  const random = new SeededRandom(seed, 1, index);
  const demandRandom = new SeededRandom(seed, 3, index);
  const slot = slotOf(plan, index);
  const customerId = index + 1;
  const firstPeriod = plan.firstPeriod;
  const baselinePeriod = addMonths(firstPeriod, -1);
  const untilPeriod = plan.params.untilPeriod;

  const category: Category = random.weighted(
    slot.urban
      ? { residential: 84, commercial: 13, large_industry: 0.6, agriculture: 0.6, temporary: 1.8 }
      : { residential: 89, commercial: 5.5, large_industry: 0.3, agriculture: 4.5, temporary: 0.7 },
  );
  const kind = category === 'commercial' ? random.weighted({ shop: 70, factory: 25, protected: 5 }) : null;

  // Registry attributes -------------------------------------------------------------------
  let name: string;
  let nationalId: string | null = null;
  let capacityKva: number;
  let tariffCode: string;
  let pfStandard: string | null = null;
  let householdSize: number | null = null;
  let isProtected = false;
  let protectionReason: string | null = null;
  let meteringSide: 'high' | 'low' = 'high';
  let billingMode: 'postpaid' | 'remote_prepaid' | 'card_prepaid' = 'postpaid';
  let dueRule = 'days_after_release:15';
  const person = () =>
    random.pick(SURNAMES) + random.pick(GIVEN_CHARS) + (random.chance(0.7) ? random.pick(GIVEN_CHARS) : '');
  const village = slot.village;

  switch (category) {
    case 'residential': {
      name = person();
      householdSize = random.pick([1, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 7]);
      capacityKva = random.pick([4, 6, 8, 8, 10]);
      tariffCode = random.chance(slot.urban ? 0.35 : 0.2) ? 'RES-TIER-TOU' : 'RES-TIER';
      billingMode = random.weighted({ postpaid: 62, remote_prepaid: 30, card_prepaid: 8 });
      nationalId = makeNationalId(random);
      break;
    }
    case 'commercial': {
      if (kind === 'shop') {
        name = `${village}${random.pick(SURNAMES)}记${random.pick(SHOP_KINDS)}`;
        capacityKva = random.pick([10, 15, 20, 30, 50]);
      } else if (kind === 'factory') {
        name = `${COUNTY.place}${random.pick(FACTORY_WORDS)}${random.pick(FACTORY_KINDS)}`;
        capacityKva = random.pick([50, 80, 100, 160, 200, 250]);
      } else {
        const institution = random.pick(PROTECTED_KINDS);
        name = `${COUNTY.place}${slot.town}${institution.name}`;
        capacityKva = random.pick([100, 160, 250, 315]);
        isProtected = true;
        protectionReason = institution.reason;
      }
      tariffCode = capacityKva >= 100 ? 'CI-TOU' : 'CI-SINGLE';
      pfStandard = capacityKva >= 100 ? '0.85' : null;
      billingMode = kind === 'shop' && random.chance(0.25) ? 'remote_prepaid' : 'postpaid';
      dueRule = 'days_after_release:10';
      break;
    }
    case 'large_industry': {
      name = `${COUNTY.place}${random.pick(FACTORY_WORDS)}${random.pick(INDUSTRY_KINDS)}`;
      capacityKva = random.pick([315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500]);
      tariffCode = random.chance(0.35) ? 'LI-2P-DEM' : 'LI-2P-CAP';
      pfStandard = '0.90';
      meteringSide = capacityKva <= 630 ? 'low' : 'high';
      dueRule = 'day_of_next_month:15';
      isProtected = random.chance(0.05);
      protectionReason = isProtected ? 'important_user' : null;
      break;
    }
    case 'agriculture': {
      name = `${village}村${random.pick(['灌溉站', '机井', '提灌站', '养殖场', '大棚'])}${random.int(1, 9)}号`;
      capacityKva = random.pick([30, 50, 80, 100, 125, 160, 200]);
      tariffCode = 'AGRI';
      pfStandard = capacityKva >= 100 ? '0.80' : null;
      break;
    }
    default: {
      name = `${random.pick(FACTORY_WORDS)}建设工程有限公司${village}项目部 (临时用电)`;
      capacityKva = random.pick([80, 100, 160, 200, 315, 400]);
      tariffCode = 'TEMP';
      dueRule = 'days_after_release:7';
      break;
    }
  }

  // Life cycle: most accounts predate the window; some connect during it; temporary supply ends.
  const windowStartDay = localDate(periodYear(firstPeriod), periodMonth(firstPeriod), 1);
  let openedOn: LocalDate;
  if (category === 'temporary' || random.chance(0.06)) {
    const offset = random.int(-3, plan.params.months - 1);
    const openPeriod = addMonths(firstPeriod, offset);
    openedOn = localDate(periodYear(openPeriod), periodMonth(openPeriod), random.int(1, 28));
  } else {
    openedOn = addDays(windowStartDay, -random.int(90, 9000));
  }
  let closedOn: LocalDate | null = null;
  if (category === 'temporary') {
    const closeOffset = random.int(6, 18);
    const openPeriod = openedOn.slice(0, 7) as Period;
    const closePeriod = addMonths(openPeriod, closeOffset);
    if (closePeriod <= untilPeriod)
      closedOn = localDate(periodYear(closePeriod), periodMonth(closePeriod), random.int(1, 28));
  } else if (category === 'commercial' && random.chance(0.01)) {
    // A failed business closes its account during the window, after at least one month of supply.
    const closePeriod = addMonths(firstPeriod, random.int(1, plan.params.months - 1));
    if (closePeriod > (openedOn.slice(0, 7) as Period)) {
      closedOn = localDate(periodYear(closePeriod), periodMonth(closePeriod), random.int(1, 28));
    }
  }
  const vacant = category === 'residential' && random.chance(0.04);
  const suspended = closedOn === null && category === 'large_industry' && random.chance(0.04);
  const status = closedOn ? 'closed' : suspended ? 'suspended' : 'active';

  const customerNo = `${String(slot.stationNo).padStart(2, '0')}${String(index + 1).padStart(8, '0')}`;
  const group = random.int(1, 12);
  const address = slot.urban
    ? `${COUNTY.place}${slot.town}${village.slice(0, 1)}家街${random.int(1, 200)}号${random.int(1, 6)}单元${random.int(1, 6)}0${random.int(1, 4)}`
    : `${COUNTY.place}${slot.town}${village}村${group}组${random.int(1, 80)}号`;
  const phone = `1${random.pick(['30', '33', '35', '38', '39', '50', '52', '58', '77', '86', '87', '89'])}${String(random.int(0, 99_999_999)).padStart(8, '0')}`;

  const customer: Cell[] = [
    customerId,
    customerNo,
    name,
    category,
    slot.stationId,
    slot.areaId,
    address,
    phone,
    nationalId,
    nationalId ? maskNationalId(nationalId) : null,
    billingMode,
    isProtected,
    protectionReason,
    householdSize,
    capacityKva.toFixed(2),
    pfStandard,
    tariffCode,
    meteringSide,
    dueRule,
    vacant ? 'vacant' : 'occupied',
    status,
    openedOn,
    closedOn,
    tariffCode === 'LI-2P-DEM' ? (capacityKva * 0.8).toFixed(2) : null,
  ];

  // Payment behaviour (hidden truth for the payment simulations) ----------------------------------
  const behaviourKind = random.weighted(
    category === 'temporary' || kind === 'factory'
      ? { on_time: 55, late: 25, chronic_arrears: 10, disappears: 10 }
      : { on_time: 72, late: 20, chronic_arrears: 6, disappears: 2 },
  );
  const preferredChannel =
    category === 'large_industry'
      ? random.weighted({ bank_withholding: 60, counter: 40, realtime: 0, collector: 0 })
      : slot.urban
        ? random.weighted({ realtime: 50, bank_withholding: 18, counter: 25, collector: 7 })
        : random.weighted({ realtime: 38, bank_withholding: 14, counter: 13, collector: 35 });
  const payDelayDays =
    behaviourKind === 'on_time'
      ? random.int(0, 10)
      : behaviourKind === 'late'
        ? random.int(15, 60)
        : random.int(60, 400);
  const disappearsAfter =
    behaviourKind === 'disappears'
      ? addMonths(firstPeriod, random.int(0, Math.max(0, plan.params.months - 2)))
      : null;
  const behaviour: Cell[] = [customerId, behaviourKind, preferredChannel, payDelayDays, disappearsAfter];

  const account: Cell[] = [customerId, 1, `${customerNo}01`, openedOn, null, null, null, null, null];
  if (preferredChannel === 'bank_withholding') {
    const bank = random.pick(BANKS);
    const accountNo = `${bank.prefix}${String(random.int(0, 999_999_999)).padStart(9, '0')}${String(random.int(0, 9999)).padStart(4, '0')}`;
    account[4] = bank.code;
    account[5] = accountNo;
    account[6] = `${accountNo.slice(0, 6)}******${accountNo.slice(-4)}`;
    account[7] = name;
    account[8] = openedOn > windowStartDay ? openedOn : addDays(windowStartDay, -random.int(30, 2000));
  }

  // Meters and reads ---------------------------------------------------------------------------
  const registerKey = tariffCode === 'AGRI' && pfStandard ? 'AGRI-PF' : tariffCode;
  const registers = TOU_REGISTERS[registerKey]!;
  const threePhase = capacityKva >= 30;
  const multiplier =
    category === 'large_industry'
      ? meteringSide === 'low'
        ? random.pick([200, 300, 400, 500])
        : random.pick([600, 1000, 1500, 2000])
      : capacityKva >= 100
        ? random.pick([20, 30, 40, 60])
        : 1;
  const digits = 6;
  const modulus = 10 ** digits * SCALE;

  const baseKwh = baseMonthlyKwh(random, category, kind, capacityKva, householdSize);
  const season = SEASON[kind === 'shop' ? 'shop' : category];
  const touShares = touSharesFor(random, registers);
  const pfActual = pfStandard ? Math.min(0.99, Math.max(0.72, 0.93 + random.normal() * 0.04)) : 0.92;
  const tanPhi = Math.tan(Math.acos(pfActual));
  const source =
    category === 'large_industry' || billingMode === 'remote_prepaid' || random.chance(0.65)
      ? 'ami'
      : 'handheld';

  // Opening register values: a meter that has been running for years, and one in a hundred close
  // to the top of its digits so that it rolls over during the window. Time-of-use registers start
  // as a split of the total, so that they always sum to it.
  const startsNearTop = random.chance(0.01);
  const openingTotal = startsNearTop
    ? modulus - random.int(1, Math.max(2, Math.round((baseKwh * 3 * SCALE) / multiplier)))
    : random.int(0, modulus / 20);
  const truth = new Map<Register, number>(registers.map((register) => [register, 0]));
  truth.set('total', 0);
  advance(truth, registers, openingTotal, touShares, 0, modulus);
  if (registers.includes('reactive')) truth.set('reactive', random.int(0, modulus / 50));

  const meters: Cell[][] = [];
  const meterChanges: Cell[][] = [];
  const reads: Cell[][] = [];
  const faults: Cell[][] = [];
  let meterSeq = 0;
  let meterId = customerId * 10 + meterSeq;
  const meterNo = (seq: number) => `${threePhase ? '33' : '31'}${String(customerId).padStart(9, '0')}${seq}`;
  let meterInstalledOn: LocalDate = openedOn;
  let meterInitial = snapshot(truth, registers, modulus);
  let readSeq = 0;
  let recorded = new Map(truth);
  const estimator = random.chance(0.1);
  const collectorFor = (p: Period) =>
    slot.handoverPeriod && slot.nextCollectorId && p >= slot.handoverPeriod
      ? slot.nextCollectorId
      : slot.collectorId;
  const openedPeriod = openedOn.slice(0, 7) as Period;
  const closedPeriod = closedOn ? (closedOn.slice(0, 7) as Period) : null;
  const drawnChange =
    plan.params.months >= 3 && random.chance(0.02)
      ? addMonths(firstPeriod, random.int(1, plan.params.months - 1))
      : null;
  // A meter is changed only in a full month of supply, after the opening month and before closing.
  const changePeriod =
    drawnChange && drawnChange > openedPeriod && (!closedPeriod || drawnChange < closedPeriod)
      ? drawnChange
      : null;
  const readDayFor = (p: Period): LocalDate =>
    category === 'large_industry'
      ? localDate(periodYear(p), periodMonth(p), daysInMonth(periodYear(p), periodMonth(p)))
      : localDate(periodYear(p), periodMonth(p), slot.readDay);
  let pendingMisread = false;

  const pushMeter = (removedOn: LocalDate | null) => {
    meters.push([
      customerId,
      meterId,
      meterNo(meterSeq),
      threePhase ? 'three' : 'single',
      multiplier,
      digits,
      `{${registers.join(',')}}`,
      meterInstalledOn,
      removedOn,
      JSON.stringify(meterInitial),
    ]);
  };

  // Periods are strings ordered like dates; Math.max would turn them into NaN.
  const firstReadPeriod = openedPeriod > baselinePeriod ? openedPeriod : baselinePeriod;
  for (let p = firstReadPeriod; p <= untilPeriod; p = addMonths(p, 1)) {
    const readOn = closedPeriod === p && closedOn ? closedOn : readDayFor(p);
    if (closedPeriod !== null && p > closedPeriod) break;
    if (p === openedPeriod && readOn <= openedOn) continue;
    const month = periodMonth(p);
    // Consumption since the previous read.
    let kwh: number;
    if (p === baselinePeriod) kwh = 0;
    else if (vacant) kwh = random.chance(0.7) ? 0 : random.int(1, 3);
    else if (suspended && p >= addMonths(untilPeriod, -2)) kwh = 0;
    else {
      kwh = baseKwh * season[month - 1]! * (1 + random.normal() * 0.12);
      if (p === openedPeriod) kwh *= Math.max(0.1, Math.max(1, daysBetween(openedOn, readOn)) / 30);
      kwh = Math.max(0, kwh);
    }
    const delta = Math.round((kwh * SCALE) / multiplier);
    const before = new Map(truth);
    advance(truth, registers, delta, touShares, tanPhi, modulus);

    if (p === changePeriod && p !== baselinePeriod) {
      // Meter change part-way through the month: the old meter's final read, a new meter from ~0.
      const changedOn = addDays(readOn, -random.int(3, 12));
      const fraction = 0.6;
      const atChange = new Map(before);
      advance(atChange, registers, Math.round(delta * fraction), touShares, tanPhi, modulus);
      const oldFinal = snapshot(atChange, registers, modulus);
      pushMeter(changedOn);
      meterSeq += 1;
      const oldMeterId = meterId;
      meterId = customerId * 10 + meterSeq;
      meterInstalledOn = changedOn;
      const fresh = new Map<Register, number>(registers.map((r) => [r, 0]));
      meterInitial = snapshot(fresh, registers, modulus);
      advance(fresh, registers, delta - Math.round(delta * fraction), touShares, tanPhi, modulus);
      for (const [register, value] of fresh) truth.set(register, value);
      meterChanges.push([
        customerId,
        meterSeq,
        oldMeterId,
        meterId,
        changedOn,
        random.pick(['故障换表', '轮换', '升级智能表']),
        JSON.stringify(oldFinal),
        JSON.stringify(meterInitial),
      ]);
      faults.push([customerId, meterId, p, 'meter_change']);
      recorded = new Map(truth);
    }

    const rolled = registers.some(
      (register) => truth.get(register)! < before.get(register)! && p !== changePeriod,
    );
    if (rolled) faults.push([customerId, meterId, p, 'rollover']);
    if (vacant && kwh === 0 && p !== baselinePeriod) faults.push([customerId, meterId, p, 'vacant']);

    const missChance = source === 'ami' ? 0.006 : 0.003;
    const estimateChance =
      source === 'ami' ? 0.004 : estimator || slotEstimates(plan, collectorFor(p)) ? 0.08 : 0.012;
    const readBy = collectorFor(p);
    if (p !== baselinePeriod && p !== changePeriod && random.chance(missChance)) {
      faults.push([customerId, meterId, p, 'missing']);
      continue;
    }
    let kindOfRead: 'actual' | 'estimated' = 'actual';
    let readSource: string = source;
    if (p !== baselinePeriod && p !== changePeriod && random.chance(estimateChance)) {
      kindOfRead = 'estimated';
      readSource = 'estimate';
      const estimateDelta = Math.round((baseKwh * SCALE) / multiplier);
      advance(recorded, registers, estimateDelta, touShares, tanPhi, modulus);
      faults.push([customerId, meterId, p, 'estimated']);
    } else {
      recorded = new Map(truth);
      if (pendingMisread) pendingMisread = false;
      else if (source === 'handheld' && p !== baselinePeriod && random.chance(0.004)) {
        // A digit slip on the total register: corrected by the next month's read.
        const slip = random.pick([1000, 10_000, -1000]) * SCALE;
        recorded.set('total', (truth.get('total')! + slip + modulus) % modulus);
        faults.push([customerId, meterId, p, 'misread']);
        pendingMisread = true;
      }
    }
    readSeq += 1;
    reads.push([
      customerId,
      customerId * 1000 + readSeq,
      meterId,
      p,
      readOn,
      kindOfRead,
      readSource,
      registerValue(recorded, 'total'),
      registerValue(recorded, 'sharp'),
      registerValue(recorded, 'peak'),
      registerValue(recorded, 'flat'),
      registerValue(recorded, 'valley'),
      registerValue(recorded, 'reactive'),
      source === 'ami' && kindOfRead === 'actual' ? null : readBy,
      // Monthly maximum demand (kW) for two-part customers, from its own random stream.
      category === 'large_industry' ? (capacityKva * (0.45 + demandRandom.next() * 0.45)).toFixed(3) : null,
    ]);
  }
  pushMeter(closedOn);

  // A suspended plant had its transformer sealed (暂停) two months before the end of the window.
  const suspendedFrom = addMonths(untilPeriod, -2);
  const capacityChanges: Cell[][] = suspended
    ? [
        [
          customerId,
          1,
          'suspension',
          localDate(periodYear(suspendedFrom), periodMonth(suspendedFrom), 1),
          null,
          '0.00',
          '暂停 (示范)',
        ],
      ]
    : [];
  return { customer, nationalId, account, meters, meterChanges, reads, faults, behaviour, capacityChanges };
}

function slotEstimates(plan: CountyPlan, staffId: number): boolean {
  return plan.staff[staffId - 1]?.estimatesReads ?? false;
}

function baseMonthlyKwh(
  random: SeededRandom,
  category: Category,
  kind: string | null,
  capacityKva: number,
  householdSize: number | null,
): number {
  switch (category) {
    case 'residential':
      return random.logNormal(95, 0.55) * (0.55 + 0.18 * (householdSize ?? 3));
    case 'commercial':
      return kind === 'shop' ? random.logNormal(650, 0.6) : capacityKva * random.logNormal(120, 0.5);
    case 'large_industry':
      return capacityKva * random.logNormal(260, 0.35);
    case 'agriculture':
      return capacityKva * random.logNormal(55, 0.5);
    default:
      return capacityKva * random.logNormal(110, 0.4);
  }
}

function touSharesFor(random: SeededRandom, registers: readonly Register[]): Map<Register, number> {
  const shares = new Map<Register, number>();
  const has = (register: Register) => registers.includes(register);
  if (has('sharp')) {
    const sharp = 0.06 + random.next() * 0.04;
    const peak = 0.3 + random.next() * 0.1;
    const valley = 0.22 + random.next() * 0.08;
    shares
      .set('sharp', sharp)
      .set('peak', peak)
      .set('valley', valley)
      .set('flat', 1 - sharp - peak - valley);
  } else if (has('flat') && has('peak')) {
    const peak = 0.4 + random.next() * 0.1;
    const valley = 0.15 + random.next() * 0.1;
    shares
      .set('peak', peak)
      .set('valley', valley)
      .set('flat', 1 - peak - valley);
  } else if (has('peak')) {
    const peak = 0.55 + random.next() * 0.15;
    shares.set('peak', peak).set('valley', 1 - peak);
  }
  return shares;
}

/** Adds a consumption of `delta` hundredths to the registers, splitting it over TOU registers so that they sum to the total. */
function advance(
  values: Map<Register, number>,
  registers: readonly Register[],
  delta: number,
  shares: Map<Register, number>,
  tanPhi: number,
  modulus: number,
): void {
  values.set('total', (values.get('total')! + delta) % modulus);
  const parts = registers.filter((register) => shares.has(register));
  let left = delta;
  parts.forEach((register, k) => {
    const part = k === parts.length - 1 ? left : Math.floor(delta * shares.get(register)!);
    left -= part;
    values.set(register, (values.get(register)! + part) % modulus);
  });
  if (registers.includes('reactive'))
    values.set('reactive', (values.get('reactive')! + Math.round(delta * tanPhi)) % modulus);
}

function snapshot(
  values: Map<Register, number>,
  registers: readonly Register[],
  modulus: number,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const register of registers)
    result[register] = formatHundredths((values.get(register) ?? 0) % modulus);
  return result;
}

function registerValue(values: Map<Register, number>, register: Register): string | null {
  const value = values.get(register);
  return value === undefined ? null : formatHundredths(value);
}

function formatHundredths(value: number): string {
  return `${Math.floor(value / SCALE)}.${String(value % SCALE).padStart(2, '0')}`;
}

function makeNationalId(random: SeededRandom): string {
  const region = random.pick(['371525', '371526', '371502', '130534']);
  const birth = localDate(random.int(1940, 2004), random.int(1, 12), random.int(1, 28)).replaceAll('-', '');
  const body = `${region}${birth}${String(random.int(0, 999)).padStart(3, '0')}`;
  return body + nationalIdCheckChar(body);
}
