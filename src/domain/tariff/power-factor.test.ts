import { describe, expect, it } from 'vitest';
import { Decimal } from '../decimal.js';
import { formatPercentHundredths, pfAdjustmentHundredths, powerFactor } from './power-factor.js';

const percent = (pf: string, std: '0.90' | '0.85' | '0.80') =>
  formatPercentHundredths(pfAdjustmentHundredths(new Decimal(pf), std));

describe('power-factor adjustment table', () => {
  // Rows of docs/DOMAIN.md §3.5; the confirmed points are 0.91 → −0.15, 0.80 → +5, 0.71 → +9.5 (std 0.90).
  it.each([
    ['0.99', '0.90', '-0.75'],
    ['0.95', '0.90', '-0.75'],
    ['0.94', '0.90', '-0.60'],
    ['0.93', '0.90', '-0.45'],
    ['0.92', '0.90', '-0.30'],
    ['0.91', '0.90', '-0.15'],
    ['0.90', '0.90', '0.00'],
    ['0.89', '0.90', '0.50'],
    ['0.80', '0.90', '5.00'],
    ['0.71', '0.90', '9.50'],
    ['0.70', '0.90', '10.00'],
    ['0.69', '0.90', '11.00'],
    ['0.65', '0.90', '15.00'],
    ['0.64', '0.90', '17.00'],
    ['0.96', '0.85', '-1.10'],
    ['0.94', '0.85', '-1.10'],
    ['0.93', '0.85', '-0.95'],
    ['0.90', '0.85', '-0.50'],
    ['0.87', '0.85', '-0.20'],
    ['0.85', '0.85', '0.00'],
    ['0.84', '0.85', '0.50'],
    ['0.65', '0.85', '10.00'],
    ['0.60', '0.85', '15.00'],
    ['0.59', '0.85', '17.00'],
    ['0.95', '0.80', '-1.30'],
    ['0.92', '0.80', '-1.30'],
    ['0.91', '0.80', '-1.15'],
    ['0.90', '0.80', '-1.00'],
    ['0.81', '0.80', '-0.10'],
    ['0.80', '0.80', '0.00'],
    ['0.79', '0.80', '0.50'],
    ['0.60', '0.80', '10.00'],
    ['0.55', '0.80', '15.00'],
  ] as const)('PF %s against standard %s adjusts %s%%', (pf, std, expected) => {
    expect(percent(pf, std)).toBe(expected);
  });

  it('never rewards a lower power factor', () => {
    for (const std of ['0.90', '0.85', '0.80'] as const) {
      for (let pf = 40; pf < 100; pf++) {
        const lower = pfAdjustmentHundredths(new Decimal(pf).div(100), std);
        const higher = pfAdjustmentHundredths(new Decimal(pf + 1).div(100), std);
        expect(higher).toBeLessThanOrEqual(lower);
      }
    }
  });

  it('rounds the monthly power factor half-up to two decimals', () => {
    expect(powerFactor(new Decimal(1000), new Decimal(484)).toFixedPlaces(2)).toBe('0.90');
    expect(powerFactor(new Decimal(260), new Decimal(150)).toFixedPlaces(2)).toBe('0.87');
    expect(powerFactor(new Decimal(100), new Decimal(0)).toFixedPlaces(2)).toBe('1.00');
  });
});
