import { describe, expect, it } from 'vitest';
import { Decimal } from '../decimal.js';
import { estimateRead } from './estimate-read.js';

const d = (value: string | number) => new Decimal(value);

describe('estimating a read', () => {
  it('adds the recent average to the opening read and keeps TOU registers summing to the total', () => {
    const estimate = estimateRead({
      method: 'average_recent',
      opening: { total: d('1000'), peak: d('600'), valley: d('400') },
      multiplier: 1,
      digits: 6,
      recentKwh: [d(100), d(120), d(140)],
      sameMonthLastYearKwh: null,
    });
    expect(estimate.kwh.toString()).toBe('120');
    expect(estimate.values.total?.toString()).toBe('1120');
    expect(estimate.values.peak?.plus(estimate.values.valley!).toString()).toBe('1120');
    expect(estimate.basis).toBe('average of 3 recent months');
  });

  it('uses the same month last year when asked and known, through the multiplier', () => {
    const estimate = estimateRead({
      method: 'same_month_last_year',
      opening: { total: d('999990') },
      multiplier: 40,
      digits: 6,
      recentKwh: [d(4000)],
      sameMonthLastYearKwh: d(800),
    });
    // 800 kWh / 40 = 20 register units; the register wraps past 999999.99.
    expect(estimate.values.total?.toString()).toBe('10');
    expect(estimate.basis).toBe('same month last year');
  });
});
