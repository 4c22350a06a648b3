import { describe, expect, it } from 'vitest';
import type { LocalDate, Period } from '../local-date.js';
import { billId, billNo, dueDate, parseDueRule } from './bill-identity.js';

describe('bill identity and due dates', () => {
  it('derives ids and numbers from period and revision', () => {
    expect(billId('2026-10' as Period, 1)).toBe(20261001);
    expect(billNo('2026-10' as Period, '0100000001', 2)).toBe('202610-0100000001-02');
  });

  it.each([
    ['days_after_release:15', '2026-11-03', '2026-11-18'],
    ['days_after_release:3', '2026-11-03', '2026-11-10'],
    ['day_of_next_month:15', '2026-11-03', '2026-11-15'],
    ['day_of_next_month:5', '2026-11-03', '2026-11-10'],
  ])('%s released %s is due %s', (rule, released, expected) => {
    expect(dueDate(rule, '2026-10' as Period, released as LocalDate)).toBe(expected);
  });

  it('refuses rules it does not know', () => {
    expect(parseDueRule('whenever')).toBeNull();
    expect(parseDueRule('day_of_next_month:31')).toBeNull();
    expect(() => dueDate('x:1', '2026-10' as Period, '2026-11-01' as LocalDate)).toThrow(/due rule/);
  });
});
