import { type Period, addMonths, localDate, periodMonth, periodYear } from '../../domain/local-date.js';
import { SeededRandom } from '../../domain/seeded-random.js';
import type { StaffRole } from '../../domain/staff-role.js';
import { COUNTY, GIVEN_CHARS, STATIONS, SURNAMES, VILLAGE_SUFFIXES } from './demo-names.js';

export interface DemoParams {
  readonly seed: number;
  readonly customers: number;
  readonly months: number;
  /** The last billing period that gets reads. */
  readonly untilPeriod: Period;
}

export interface PlannedOrgUnit {
  readonly orgUnitId: number;
  readonly parentId: number | null;
  readonly kind: 'county' | 'station' | 'team';
  readonly code: string;
  readonly name: string;
  readonly nameEn: string;
  readonly path: string;
}

export interface PlannedStaff {
  readonly staffId: number;
  readonly orgUnitId: number;
  readonly login: string;
  readonly name: string;
  readonly roles: readonly StaffRole[];
  readonly phone: string;
  readonly depositDelayDays: number;
  readonly lapsCash: boolean;
  readonly estimatesReads: boolean;
}

export interface PlannedArea {
  readonly areaId: number;
  readonly stationId: number;
  readonly parentAreaId: number | null;
  readonly kind: 'feeder_line' | 'transformer_area';
  readonly code: string;
  readonly name: string;
  readonly transformerKva: number | null;
}

export interface PlannedAssignment {
  readonly areaId: number;
  readonly staffId: number;
  readonly validFrom: string;
  readonly note: string | null;
}

/** What the customer generator needs to know about the transformer area a customer sits in. */
export interface TransformerAreaSlot {
  readonly areaId: number;
  readonly stationId: number;
  readonly stationNo: number;
  readonly urban: boolean;
  readonly town: string;
  readonly village: string;
  readonly readDay: number;
  /** The area's collector and, when it changed hands during the demo window, the next one. */
  readonly collectorId: number;
  readonly nextCollectorId: number | null;
  readonly handoverPeriod: Period | null;
  /** Exclusive end of this area's range of customer indexes. */
  readonly customerEnd: number;
}

export interface CountyPlan {
  readonly params: DemoParams;
  readonly firstPeriod: Period;
  readonly orgUnits: readonly PlannedOrgUnit[];
  readonly staff: readonly PlannedStaff[];
  readonly areas: readonly PlannedArea[];
  readonly assignments: readonly PlannedAssignment[];
  readonly slots: readonly TransformerAreaSlot[];
}

const COUNTY_ID = 1;

export function stationCount(customers: number): number {
  return Math.min(10, Math.max(6, Math.round(4 + Math.log2(Math.max(1, customers / 1000)))));
}

/** Plans the registry of a demo county: org tree, staff, feeder lines, transformer areas, 包线包片. */
export function planCounty(params: DemoParams): CountyPlan {
  const random = new SeededRandom(params.seed, 0);
  const firstPeriod = addMonths(params.untilPeriod, -(params.months - 1));
  const orgUnits: PlannedOrgUnit[] = [
    {
      orgUnitId: COUNTY_ID,
      parentId: null,
      kind: 'county',
      code: COUNTY.code,
      name: COUNTY.name,
      nameEn: COUNTY.nameEn,
      path: `/${COUNTY_ID}/`,
    },
  ];
  const staff: PlannedStaff[] = [];
  const areas: PlannedArea[] = [];
  const assignments: PlannedAssignment[] = [];
  const slots: TransformerAreaSlot[] = [];
  const usedNames = new Set<string>();
  let nextStaffId = 1;
  let nextAreaId = 1;

  const personName = (): string => {
    for (;;) {
      const name =
        random.pick(SURNAMES) +
        random.pick(GIVEN_CHARS) +
        (random.chance(0.7) ? random.pick(GIVEN_CHARS) : '');
      if (!usedNames.has(name) || usedNames.size > 50_000) {
        usedNames.add(name);
        return name;
      }
    }
  };
  const phone = (): string =>
    `1${random.pick(['35', '38', '39', '50', '58', '82', '87', '88'])}${String(random.int(0, 99_999_999)).padStart(8, '0')}`;
  const addStaff = (
    orgUnitId: number,
    login: string,
    roles: StaffRole[],
    extra: Partial<PlannedStaff> = {},
  ): PlannedStaff => {
    const member: PlannedStaff = {
      staffId: nextStaffId++,
      orgUnitId,
      login,
      name: personName(),
      roles,
      phone: phone(),
      depositDelayDays: 0,
      lapsCash: false,
      estimatesReads: false,
      ...extra,
    };
    staff.push(member);
    return member;
  };

  addStaff(COUNTY_ID, 'admin', ['admin']);
  addStaff(COUNTY_ID, 'marketing', ['marketing_manager']);
  addStaff(COUNTY_ID, 'finance', ['finance_manager']);

  const stationTotal = stationCount(params.customers);
  const stations = STATIONS.slice(0, stationTotal);
  const weightSum = stations.reduce((sum, station) => sum + station.weight, 0);
  let assigned = 0;
  const handoverDate = addMonths(firstPeriod, Math.floor(params.months / 2));
  const windowStart = localDate(periodYear(firstPeriod) - 2, 1, 1);

  stations.forEach((station, index) => {
    const stationNo = index + 1;
    const stationId = 10 + stationNo;
    const code = `QH${String(stationNo).padStart(2, '0')}`;
    const stationPath = `/${COUNTY_ID}/${stationId}/`;
    orgUnits.push({
      orgUnitId: stationId,
      parentId: COUNTY_ID,
      kind: 'station',
      code,
      name: station.name,
      nameEn: station.nameEn,
      path: stationPath,
    });
    const officeTeamId = 100 + stationNo * 2;
    const fieldTeamId = officeTeamId + 1;
    orgUnits.push({
      orgUnitId: officeTeamId,
      parentId: stationId,
      kind: 'team',
      code: `${code}-YY`,
      name: `${station.name}营业班`,
      nameEn: `${station.nameEn} service team`,
      path: `${stationPath}${officeTeamId}/`,
    });
    orgUnits.push({
      orgUnitId: fieldTeamId,
      parentId: stationId,
      kind: 'team',
      code: `${code}-TQ`,
      name: `${station.name}台区经理班`,
      nameEn: `${station.nameEn} area managers`,
      path: `${stationPath}${fieldTeamId}/`,
    });

    const login = (suffix: string) => `s${String(stationNo).padStart(2, '0')}.${suffix}`;
    addStaff(stationId, login('head'), ['station_head']);
    addStaff(officeTeamId, login('checker1'), ['billing_checker']);
    addStaff(officeTeamId, login('checker2'), ['billing_checker']);
    addStaff(officeTeamId, login('cashier1'), ['cashier']);
    addStaff(officeTeamId, login('cashier2'), ['cashier']);

    const stationCustomers =
      index === stations.length - 1
        ? params.customers - assigned
        : Math.round((params.customers * station.weight) / weightSum);
    // Rural transformer areas serve tens to a few hundred households; town areas more.
    const meanAreaSize = station.urban ? 140 : 90;
    const areaCount = Math.max(1, Math.round(stationCustomers / meanAreaSize));
    const sizes = Array.from({ length: areaCount }, () => 0.5 + random.next());
    const sizeSum = sizes.reduce((sum, size) => sum + size, 0);
    const collectorCount = Math.max(1, Math.ceil(areaCount / (station.urban ? 4 : 3)));
    const collectors = Array.from({ length: collectorCount }, (_, k) => {
      const lateDepositor = random.chance(0.18);
      return addStaff(fieldTeamId, login(`e${String(k + 1).padStart(3, '0')}`), ['collector'], {
        depositDelayDays: lateDepositor ? random.pick([1, 1, 1, 2, 3, 5]) : 0,
        lapsCash: random.chance(0.02),
        estimatesReads: random.chance(0.1),
      });
    });

    const feederCount = Math.max(2, Math.ceil(areaCount / 15));
    const feeders: number[] = [];
    const numerals = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];
    for (let f = 0; f < feederCount; f++) {
      const areaId = nextAreaId++;
      feeders.push(areaId);
      const lineName = `10kV${station.town.slice(0, 2)}${numerals[f % 10]}${f >= 10 ? Math.floor(f / 10) + 1 : ''}线`;
      areas.push({
        areaId,
        stationId,
        parentAreaId: null,
        kind: 'feeder_line',
        code: `${code}-L${String(f + 1).padStart(2, '0')}`,
        name: lineName,
        transformerKva: null,
      });
      assignments.push({
        areaId,
        staffId: collectors[f % collectors.length]!.staffId,
        validFrom: windowStart,
        note: null,
      });
    }

    let cumulative = assigned;
    let areaSizeAssigned = 0;
    for (let a = 0; a < areaCount; a++) {
      const size =
        a === areaCount - 1
          ? stationCustomers - areaSizeAssigned
          : Math.round((stationCustomers * sizes[a]!) / sizeSum);
      areaSizeAssigned += size;
      cumulative += size;
      const areaId = nextAreaId++;
      const village = `${random.pick(SURNAMES)}${random.pick(VILLAGE_SUFFIXES)}`;
      const number = random.int(1, 3);
      const areaCode = `${code}-T${String(a + 1).padStart(4, '0')}`;
      areas.push({
        areaId,
        stationId,
        parentAreaId: feeders[a % feederCount]!,
        kind: 'transformer_area',
        code: areaCode,
        name: station.urban
          ? `${station.town}${village.slice(0, 1)}家${number}号台区`
          : `${village}${number}号台区`,
        transformerKva: random.pick([100, 200, 200, 315, 400, 630]),
      });
      const collector = collectors[a % collectors.length]!;
      assignments.push({ areaId, staffId: collector.staffId, validFrom: windowStart, note: null });
      let nextCollectorId: number | null = null;
      let handoverPeriod: Period | null = null;
      if (collectors.length > 1 && params.months >= 4 && random.chance(0.25)) {
        const next = collectors[(a + 1 + random.int(0, collectors.length - 2)) % collectors.length]!;
        if (next.staffId !== collector.staffId) {
          nextCollectorId = next.staffId;
          handoverPeriod = handoverDate;
          assignments.push({
            areaId,
            staffId: next.staffId,
            validFrom: localDate(periodYear(handoverDate), periodMonth(handoverDate), 1),
            note: '轮岗调整 (rotation)',
          });
        }
      }
      slots.push({
        areaId,
        stationId,
        stationNo,
        urban: station.urban,
        town: station.town,
        village,
        readDay: random.int(20, 26),
        collectorId: collector.staffId,
        nextCollectorId,
        handoverPeriod,
        customerEnd: cumulative,
      });
    }
    assigned += stationCustomers;
  });

  return { params, firstPeriod, orgUnits, staff, areas, assignments, slots };
}

/** The transformer area of customer index i (binary search over the areas' index ranges). */
export function slotOf(plan: CountyPlan, index: number): TransformerAreaSlot {
  let low = 0;
  let high = plan.slots.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (plan.slots[middle]!.customerEnd > index) high = middle;
    else low = middle + 1;
  }
  return plan.slots[low]!;
}
