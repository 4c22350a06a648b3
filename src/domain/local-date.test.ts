import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  addMonths,
  dayNumber,
  daysBetween,
  localDate,
  parseLocalDate,
  parsePeriod,
  period,
} from './local-date.js';

describe('local dates and periods', () => {
  it.each(['2026-02-29', '2026-13-01', '2026-1-1', '20261127'])('refuses %s', (text) => {
    expect(parseLocalDate(text)).toBeNull();
  });

  it('numbers days as the calendar does, across leap years and centuries', () => {
    expect(dayNumber(localDate(1970, 1, 1))).toBe(0);
    expect(dayNumber(localDate(2000, 3, 1)) - dayNumber(localDate(2000, 2, 28))).toBe(2);
    expect(dayNumber(localDate(2100, 3, 1)) - dayNumber(localDate(2100, 2, 28))).toBe(1);
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1900-01-01'), max: new Date('2999-12-31'), noInvalidDate: true }),
        (at) => {
          const date = localDate(at.getUTCFullYear(), at.getUTCMonth() + 1, at.getUTCDate());
          expect(dayNumber(date)).toBe(
            Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()) / 86_400_000,
          );
        },
      ),
    );
  });

  it('accepts leap days', () => {
    expect(parseLocalDate('2024-02-29')).toBe('2024-02-29');
  });

  it('adds days across month and year ends', () => {
    expect(addDays(localDate(2025, 12, 31), 1)).toBe('2026-01-01');
    expect(daysBetween(localDate(2026, 1, 15), localDate(2026, 3, 1))).toBe(45);
  });

  it('adds months across years', () => {
    expect(addMonths(period(2026, 11), 2)).toBe('2027-01');
    expect(addMonths(period(2026, 1), -1)).toBe('2025-12');
    expect(parsePeriod('2026-00')).toBeNull();
  });

  it('round-trips day arithmetic', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40_000 }),
        fc.integer({ min: -5000, max: 5000 }),
        (offset, days) => {
          const start = addDays(localDate(1970, 1, 1), offset);
          expect(daysBetween(start, addDays(start, days))).toBe(days);
        },
      ),
    );
  });
});
