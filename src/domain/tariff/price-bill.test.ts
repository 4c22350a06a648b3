import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BillInputError, billOutput, parseBillInput, priceBill } from './price-bill.js';

const calc = (input: unknown) => billOutput(priceBill(parseBillInput(input)));

const residential = (kwh: number | string, priorKwh = 0) => ({
  category: 'residential',
  tariff: {
    energy: { flat: '0.5200' },
    tiers: { basis: 'annual', thresholds: [2160, 4200], increments: ['0.05', '0.30'] },
  },
  usage: { kwh: { flat: kwh }, priorKwh },
});

describe('calc bill', () => {
  // The contract's input example (260 kWh after 2,100 kWh of the tier year, thresholds 2160/4200).
  // Its sample output shows 60 kWh in tier 2, which is the part still in tier 1; by the stated
  // rule ("tier split … against the thresholds, after priorKwh") 2100 + 260 = 2360 puts 200 kWh
  // above 2160, and that is what we bill.
  it('prices the contract example by its stated rule: tier 2 starts inside the bill', () => {
    expect(calc(residential(260, 2100))).toMatchObject({
      lines: [
        { code: 'energy.flat', kwh: '260', price: '0.5200', amount: '135.20' },
        { code: 'tier.2', kwh: '200', price: '0.0500', amount: '10.00' },
      ],
      total: '145.20',
    });
  });

  it('adds tier 3 on kWh above the second threshold', () => {
    const out = calc(residential(500, 4000));
    expect(out.lines.map((line) => [line.code, line.kwh, line.amount])).toEqual([
      ['energy.flat', '500', '260.00'],
      ['tier.2', '200', '10.00'],
      ['tier.3', '300', '90.00'],
    ]);
    expect(out.total).toBe('360.00');
  });

  it('applies monthly thresholds to the month alone', () => {
    const out = calc({
      category: 'residential',
      tariff: {
        energy: { flat: '0.5653' },
        tiers: { basis: 'monthly', thresholds: [180, 350], increments: ['0.05', '0.30'] },
      },
      usage: { kwh: { flat: 400 }, priorKwh: 99999 },
    });
    expect(out.lines.map((line) => [line.code, line.kwh, line.amount])).toEqual([
      ['energy.flat', '400', '226.12'],
      ['tier.2', '170', '8.50'],
      ['tier.3', '50', '15.00'],
    ]);
  });

  it('prices time-of-use registers and tiers on their total', () => {
    const out = calc({
      category: 'residential',
      tariff: {
        energy: { peak: '0.568', valley: '0.288' },
        tiers: { basis: 'annual', thresholds: [2760, 4800], increments: ['0.05', '0.30'] },
      },
      usage: { kwh: { peak: 120.5, valley: '80.25' }, priorKwh: 2700 },
    });
    expect(out.lines.map((line) => [line.code, line.kwh, line.price, line.amount])).toEqual([
      ['energy.peak', '120.5', '0.5680', '68.44'],
      ['energy.valley', '80.25', '0.2880', '23.11'],
      ['tier.2', '140.75', '0.0500', '7.04'],
    ]);
    expect(out.total).toBe('98.59');
  });

  it('bills a two-part tariff with capacity charge and a power-factor surcharge on basic + energy without funds', () => {
    const out = calc({
      category: 'large_industry',
      tariff: {
        energy: { peak: '0.9117', flat: '0.5698', valley: '0.2279' },
        basic: { by: 'capacity', rate: '23.33' },
        pfStandard: '0.90',
        funds: '0.0459',
      },
      usage: { kwh: { peak: 40000, flat: 35000, valley: 25000 }, kvarh: 60000, capacityKva: 315 },
    });
    // energy 36468.00 + 19943.00 + 5697.50 = 62108.50; basic 7348.95; funds 4590.00
    // PF = 100000 / sqrt(100000² + 60000²) = 0.857 → 0.86: 4 steps below 0.90 → +2.00%
    // base = 62108.50 + 7348.95 − 4590.00 = 64867.45 → pf 1297.35
    expect(out.pf).toEqual({ actual: '0.86', standard: '0.90', percent: '2.00' });
    expect(out.lines.find((line) => line.code === 'basic')?.amount).toBe('7348.95');
    expect(out.lines.find((line) => line.code === 'pf')?.amount).toBe('1297.35');
    expect(out.funds).toBe('4590.00');
    expect(out.total).toBe('70754.80');
  });

  it('gives a reduction above the standard', () => {
    const out = calc({
      category: 'commercial',
      tariff: { energy: { flat: '0.6620' }, pfStandard: '0.85' },
      usage: { kwh: { flat: 1000 }, kvarh: 200 },
    });
    expect(out.pf).toEqual({ actual: '0.98', standard: '0.85', percent: '-1.10' });
    expect(out.lines.at(-1)).toEqual({ code: 'pf', amount: '-7.28' });
    expect(out.total).toBe('654.72');
  });

  it('bills demand above 105% of the contract demand double, and 90% of the price at 260 kWh/kVA', () => {
    const base = {
      category: 'large_industry',
      tariff: { energy: { flat: '0.5' }, basic: { by: 'demand', rate: '35.00' } },
    };
    expect(calc({ ...base, usage: { kwh: { flat: 1000 }, demandKw: 260 } }).lines[1]).toEqual({
      code: 'basic',
      amount: '9100.00',
    });
    // 120 kW against 100 contracted: 120 billed plus 15 kW above 105 billed again.
    expect(
      calc({ ...base, usage: { kwh: { flat: 1000 }, demandKw: 120, contractDemandKw: 100 } }).lines[1]
        ?.amount,
    ).toBe('4725.00');
    // Below contract: the contract demand is billed.
    expect(
      calc({ ...base, usage: { kwh: { flat: 1000 }, demandKw: 80, contractDemandKw: 100 } }).lines[1]?.amount,
    ).toBe('3500.00');
    expect(
      calc({ ...base, usage: { kwh: { flat: 260000 }, demandKw: 200, capacityKva: 1000 } }).lines[1]?.amount,
    ).toBe('6300.00');
  });

  it.each([
    [{ ...residential(10), category: 'household' }, /^category:/],
    [{ ...residential(10), usage: { kwh: { flat: 1.234 } } }, /^usage\.kwh\.flat:/],
    [{ ...residential(10), usage: { kwh: { peak: 10 } } }, /^usage\.kwh\.peak: has no price/],
    [{ ...residential(10), usage: { kwh: { flat: -1 } } }, /^usage\.kwh\.flat: must not be negative/],
    [{ ...residential(10), tariff: { energy: { flat: '0.123456' } } }, /^tariff\.energy\.flat:/],
    [
      {
        category: 'commercial',
        tariff: { energy: { flat: '1' }, pfStandard: '0.90' },
        usage: { kwh: { flat: 1 } },
      },
      /^usage\.kvarh:/,
    ],
    [
      {
        category: 'commercial',
        tariff: { energy: { flat: '1' }, basic: { by: 'capacity', rate: '1' } },
        usage: { kwh: { flat: 1 } },
      },
      /^usage\.capacityKva:/,
    ],
    [
      {
        ...residential(10),
        tariff: {
          energy: { flat: '1' },
          tiers: { basis: 'annual', thresholds: [10, 5], increments: ['1', '2'] },
        },
      },
      /^tariff\.tiers\.thresholds\[1\]:/,
    ],
    [
      {
        ...residential(10),
        tariff: {
          energy: { flat: '1' },
          tiers: { basis: 'annual', thresholds: [10, 20], increments: ['1'] },
        },
      },
      /^tariff\.tiers\.increments:/,
    ],
  ])('refuses bad input naming the field (%#)', (input, message) => {
    expect(() => calc(input)).toThrow(BillInputError);
    expect(() => calc(input)).toThrow(message);
  });

  const kwhArbitrary = fc
    .integer({ min: 0, max: 2_000_000 })
    .map((hundredths) => (hundredths / 100).toFixed(2));

  it('total equals the sum of the lines', () => {
    fc.assert(
      fc.property(
        kwhArbitrary,
        kwhArbitrary,
        kwhArbitrary,
        fc.integer({ min: 0, max: 10_000 }),
        (peak, flat, valley, kvarh) => {
          const out = calc({
            category: 'large_industry',
            tariff: {
              energy: { peak: '0.9117', flat: '0.5698', valley: '0.2279' },
              basic: { by: 'capacity', rate: '23.33' },
              pfStandard: '0.90',
              funds: '0.0459',
            },
            usage: { kwh: { peak, flat, valley }, kvarh, capacityKva: 400 },
          });
          const sumFen = out.lines.reduce((sum, line) => sum + Math.round(Number(line.amount) * 100), 0);
          expect(Math.round(Number(out.total) * 100)).toBe(sumFen);
        },
      ),
    );
  });

  it('never charges less for more kWh under tiers', () => {
    fc.assert(
      fc.property(kwhArbitrary, kwhArbitrary, fc.integer({ min: 0, max: 6000 }), (a, b, prior) => {
        const [low, high] = Number(a) <= Number(b) ? [a, b] : [b, a];
        const lowTotal = Number(calc(residential(low, prior)).total);
        const highTotal = Number(calc(residential(high, prior)).total);
        expect(highTotal).toBeGreaterThanOrEqual(lowTotal);
      }),
    );
  });

  it('splits a year across bills without losing or doubling tier kWh', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 200_000 }), { minLength: 1, maxLength: 12 }),
        (months) => {
          let prior = 0;
          let tierFen = 0;
          for (const hundredths of months) {
            const out = calc(residential((hundredths / 100).toFixed(2), prior / 100));
            for (const line of out.lines)
              if (line.code.startsWith('tier.')) tierFen += Math.round(Number(line.kwh) * 100);
            prior += hundredths;
          }
          const yearly = calc(residential((prior / 100).toFixed(2), 0));
          const yearlyTier = yearly.lines
            .filter((line) => line.code.startsWith('tier.'))
            .reduce((sum, line) => sum + Math.round(Number(line.kwh) * 100), 0);
          expect(tierFen).toBe(yearlyTier);
        },
      ),
    );
  });
});

describe('time-of-use prices from seasonal ratios', () => {
  const seasonal = {
    energy: { flat: '0.6620' },
    funds: '0.0459',
    touSchedule: [
      { months: [1, 7, 8, 9, 12], ratios: { peak: '1.8', valley: '0.4' } },
      { months: [2, 3, 4, 5, 6, 10, 11], ratios: { peak: '1.6', valley: '0.5' } },
    ],
  };

  it('floats the price without the funds by the month’s season', () => {
    const august = calc({
      category: 'commercial',
      tariff: seasonal,
      usage: { kwh: { peak: 100, flat: 100, valley: 100 }, month: 8 },
    });
    // peak = (0.6620 − 0.0459) × 1.8 + 0.0459 = 1.15488; valley = 0.6161 × 0.4 + 0.0459 = 0.29234
    expect(august.lines.map((line) => [line.code, line.price, line.amount])).toEqual([
      ['energy.peak', '1.15488', '115.49'],
      ['energy.flat', '0.6620', '66.20'],
      ['energy.valley', '0.29234', '29.23'],
    ]);
    const april = calc({
      category: 'commercial',
      tariff: seasonal,
      usage: { kwh: { peak: 100, flat: 100, valley: 100 }, month: 4 },
    });
    expect(april.lines[0]).toMatchObject({ code: 'energy.peak', price: '1.03166' });
  });

  it('refuses a schedule that leaves months out or a bill without its month', () => {
    const gap = { ...seasonal, touSchedule: [seasonal.touSchedule[0]] };
    expect(() =>
      calc({ category: 'commercial', tariff: gap, usage: { kwh: { flat: 1 }, month: 8 } }),
    ).toThrow(/^tariff\.touSchedule: seasons must cover all 12 months/);
    expect(() => calc({ category: 'commercial', tariff: seasonal, usage: { kwh: { flat: 1 } } })).toThrow(
      /^usage\.month:/,
    );
  });
});
