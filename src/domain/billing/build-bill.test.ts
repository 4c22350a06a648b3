import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../decimal.js';
import type { LocalDate } from '../local-date.js';
import { type BuildBillInput, type TariffVersionDef, buildBill, repriceFromInputs } from './build-bill.js';
import { computeConsumption } from './consumption.js';

const tiers = {
  basis: 'annual',
  thresholds: [2160, 4200],
  increments: ['0.05', '0.30'],
  largeHouseholdExtraKwhPerMonth: 100,
  largeHouseholdMinPersons: 5,
};
const residentialVersions: TariffVersionDef[] = [
  {
    tariffVersionId: 1,
    effectiveFrom: '2023-01-01' as LocalDate,
    effectiveTo: '2025-07-01' as LocalDate,
    definition: { energy: { flat: '0.5200' }, tiers, funds: '0.0181' },
  },
  {
    tariffVersionId: 2,
    effectiveFrom: '2025-07-01' as LocalDate,
    effectiveTo: null,
    definition: { energy: { flat: '0.5283' }, tiers, funds: '0.0181' },
  },
];

function input(overrides: Partial<BuildBillInput> = {}): BuildBillInput {
  return {
    customer: {
      householdSize: 3,
      openedOn: '2010-05-01' as LocalDate,
      closedOn: null,
      capacityKva: new Decimal(8),
      contractDemandKw: null,
      lowSideMetered: false,
    },
    versions: residentialVersions,
    spanFrom: '2026-09-25' as LocalDate,
    spanTo: '2026-10-25' as LocalDate,
    consumption: { total: new Decimal(300) },
    demandKw: null,
    priorKwh: new Decimal(0),
    tierMonth: 10,
    tierYear: 2026,
    ...overrides,
  };
}

const codes = (bill: ReturnType<typeof buildBill>) =>
  bill.lines.map((line) => [line.code, line.kwh?.toString(), line.amountFen]);

describe('building a bill from consumption', () => {
  it('prices a residential month at the version in force', () => {
    const bill = buildBill(input());
    expect(codes(bill)).toEqual([['energy.flat', '300', 15849]]);
    expect(bill.tariffVersionIds).toEqual([2]);
    expect(bill.fundsFen).toBe(543);
  });

  it('raises annual thresholds by 100 kWh a month for households of five or more', () => {
    const small = buildBill(input({ priorKwh: new Decimal(2100) }));
    expect(codes(small)).toEqual([
      ['energy.flat', '300', 15849],
      ['tier.2', '240', 1200],
    ]);
    const large = buildBill(
      input({ priorKwh: new Decimal(2100), customer: { ...input().customer, householdSize: 6 } }),
    );
    expect(codes(large)).toEqual([['energy.flat', '300', 15849]]);
  });

  it('pro-rates annual thresholds by months for an account opened during the tier year', () => {
    // Opened in July: 6 of 12 months → tier 1 ends at 1080 kWh.
    const bill = buildBill(
      input({
        priorKwh: new Decimal(1000),
        customer: { ...input().customer, openedOn: '2026-07-10' as LocalDate },
      }),
    );
    expect(codes(bill)).toEqual([
      ['energy.flat', '300', 15849],
      ['tier.2', '220', 1100],
    ]);
  });

  it('splits a period across a tariff change by days', () => {
    const bill = buildBill(input({ spanFrom: '2025-06-25' as LocalDate, spanTo: '2025-07-25' as LocalDate }));
    // 5 days (26–30 June) at the old price, 25 days at the new one.
    expect(codes(bill)).toEqual([
      ['energy.flat@2023-01-01', '50', 2600],
      ['energy.flat@2025-07-01', '250', 13208],
    ]);
    expect(bill.tariffVersionIds).toEqual([1, 2]);
    expect(bill.totalKwh.toString()).toBe('300');
  });

  it('adds transformer losses to flat kWh for low-side metering', () => {
    const versions: TariffVersionDef[] = [
      {
        tariffVersionId: 9,
        effectiveFrom: '2023-01-01' as LocalDate,
        effectiveTo: null,
        definition: {
          energy: { peak: '0.9117', flat: '0.5698', valley: '0.2279' },
          basic: { by: 'capacity', rate: '23.33' },
          pfStandard: '0.90',
          funds: '0.0459',
        },
      },
    ];
    const bill = buildBill(
      input({
        versions,
        customer: {
          ...input().customer,
          capacityKva: new Decimal(315),
          lowSideMetered: true,
          householdSize: null,
        },
        consumption: {
          total: new Decimal(60000),
          peak: new Decimal(25000),
          flat: new Decimal(20000),
          valley: new Decimal(15000),
          reactive: new Decimal(20000),
        },
      }),
    );
    // Loss = 345 kWh no-load × 30/30 + 1% of 60000 = 945 kWh on flat.
    expect(bill.lossKwh.toString()).toBe('945');
    expect(bill.lines.find((line) => line.code === 'energy.flat')?.kwh?.toString()).toBe('20945');
    expect(bill.lines.map((line) => line.code)).toEqual([
      'energy.peak',
      'energy.flat',
      'energy.valley',
      'basic',
      'pf',
    ]);
  });

  it('pro-rates the basic charge for a connection opened during the period', () => {
    const versions: TariffVersionDef[] = [
      {
        tariffVersionId: 9,
        effectiveFrom: '2023-01-01' as LocalDate,
        effectiveTo: null,
        definition: { energy: { flat: '0.5' }, basic: { by: 'capacity', rate: '30' } },
      },
    ];
    const bill = buildBill(
      input({
        versions,
        customer: {
          ...input().customer,
          capacityKva: new Decimal(400),
          openedOn: '2026-10-11' as LocalDate,
          householdSize: null,
        },
      }),
    );
    // Supply from 11 to 25 October: 15 of 30 days → half of 12,000.00.
    expect(bill.lines.find((line) => line.code === 'basic')?.amountFen).toBe(600000);
  });

  it('charges no basic charge for the days a transformer is sealed (暂停), from the sealing day to the day before unsealing', () => {
    const versions: TariffVersionDef[] = [
      {
        tariffVersionId: 9,
        effectiveFrom: '2023-01-01' as LocalDate,
        effectiveTo: null,
        definition: { energy: { flat: '0.5' }, basic: { by: 'capacity', rate: '30' } },
      },
    ];
    const customer = { ...input().customer, capacityKva: new Decimal(400), householdSize: null };
    // Span 26 Sep – 25 Oct (30 days); sealed on 6 Oct, unsealed on 16 Oct: 10 days at 0 kVA.
    const sealed = buildBill(
      input({
        versions,
        customer: {
          ...customer,
          capacityChanges: [
            { from: '2026-10-06' as LocalDate, to: '2026-10-16' as LocalDate, capacityKva: new Decimal(0) },
          ],
        },
      }),
    );
    expect(sealed.lines.find((line) => line.code === 'basic')?.amountFen).toBe(800000);
    // A temporary swap to a 200 kVA transformer for the same days.
    const swapped = buildBill(
      input({
        versions,
        customer: {
          ...customer,
          capacityChanges: [
            { from: '2026-10-06' as LocalDate, to: '2026-10-16' as LocalDate, capacityKva: new Decimal(200) },
          ],
        },
      }),
    );
    expect(swapped.lines.find((line) => line.code === 'basic')?.amountFen).toBe(1000000);
  });

  it('is reproducible from its stored inputs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: 0, max: 500_000 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 0, max: 60 }),
        (hundredths, prior, household, offset) => {
          const spanTo = new Date(Date.UTC(2025, 6, 25 + offset)).toISOString().slice(0, 10) as LocalDate;
          const bill = buildBill(
            input({
              consumption: { total: new Decimal(hundredths).div(100) },
              priorKwh: new Decimal(prior).div(100),
              customer: { ...input().customer, householdSize: household },
              spanFrom: '2025-06-20' as LocalDate,
              spanTo,
            }),
          );
          const definitions = new Map(
            residentialVersions.map((version) => [version.tariffVersionId, version.definition]),
          );
          const again = repriceFromInputs(JSON.parse(JSON.stringify(bill.inputs)), definitions);
          expect(again.totalFen).toBe(bill.totalFen);
          expect(again.lines.map((line) => [line.code, line.amountFen])).toEqual(
            bill.lines.map((line) => [line.code, line.amountFen]),
          );
        },
      ),
    );
  });

  it('charges a split period within one fen per line of the whole when the price does not change', () => {
    const same: TariffVersionDef[] = [
      {
        tariffVersionId: 1,
        effectiveFrom: '2023-01-01' as LocalDate,
        effectiveTo: '2025-07-01' as LocalDate,
        definition: { energy: { flat: '0.6620' } },
      },
      {
        tariffVersionId: 2,
        effectiveFrom: '2025-07-01' as LocalDate,
        effectiveTo: null,
        definition: { energy: { flat: '0.6620' } },
      },
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (hundredths) => {
        const consumption = { total: new Decimal(hundredths).div(100) };
        const split = buildBill(
          input({
            versions: same,
            consumption,
            spanFrom: '2025-06-20' as LocalDate,
            spanTo: '2025-07-20' as LocalDate,
          }),
        );
        const whole = buildBill(
          input({
            versions: same,
            consumption,
            spanFrom: '2025-07-20' as LocalDate,
            spanTo: '2025-08-19' as LocalDate,
          }),
        );
        expect(Math.abs(split.totalFen - whole.totalFen)).toBeLessThanOrEqual(split.lines.length);
      }),
    );
  });
});

describe('consumption from reads', () => {
  const span = (opening: string, closing: string, digits = 6, multiplier = 1) => ({
    meterNo: 'M1',
    multiplier,
    digits,
    opening: { total: new Decimal(opening) },
    closing: { total: new Decimal(closing) },
  });

  it('multiplies register differences and sums the meters of a meter change', () => {
    const result = computeConsumption(
      [span('100', '150', 6, 40), span('0', '12.5', 6, 40)],
      new Decimal('0.1'),
    );
    expect(result.byRegister.total?.toString()).toBe('2500');
  });

  it('treats a small wrap past the top of the register as a rollover', () => {
    const result = computeConsumption([span('999950', '30')], new Decimal('0.1'));
    expect(result.byRegister.total?.toString()).toBe('80');
    expect(result.rolledOver).toEqual(['M1.total']);
  });

  it('reports a read below the previous one that no rollover explains', () => {
    const result = computeConsumption([span('5000', '4000')], new Decimal('0.1'));
    expect(result.belowPrevious).toEqual(['M1.total']);
    expect(result.byRegister.total).toBeUndefined();
  });
});
