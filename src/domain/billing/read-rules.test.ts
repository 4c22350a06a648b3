import { describe, expect, it } from 'vitest';
import { Decimal } from '../decimal.js';
import { type ReadCheckInput, checkReads } from './read-rules.js';

const clean = { byRegister: {}, rolledOver: [], belowPrevious: [] };
const base: ReadCheckInput = {
  category: 'residential',
  hasClosingRead: true,
  estimated: false,
  occupied: true,
  consumption: clean,
  totalKwh: new Decimal(150),
  history: {
    recentKwh: [new Decimal(140), new Decimal(150), new Decimal(160)],
    sameMonthLastYearKwh: new Decimal(155),
    zeroMonthsBefore: 0,
  },
};
const codes = (input: Partial<ReadCheckInput>) =>
  checkReads({ ...base, ...input }).map((found) => `${found.code}:${found.severity}`);

describe('read validation rules', () => {
  it.each<[string, Partial<ReadCheckInput>, string[]]>([
    ['a normal month', {}, []],
    ['a missing read', { hasClosingRead: false }, ['missing_read:hold']],
    [
      'a read below the previous',
      { consumption: { ...clean, belowPrevious: ['M1.total'] } },
      ['read_below_previous:hold'],
    ],
    ['a rollover', { consumption: { ...clean, rolledOver: ['M1.total'] } }, ['rollover:warn']],
    ['an estimated read', { estimated: true }, ['estimated_read:warn']],
    [
      'a jump against the last three months and last year',
      { totalKwh: new Decimal(1200) },
      ['consumption_jump:hold'],
    ],
    [
      'a summer rise that last year also had',
      { totalKwh: new Decimal(450), history: { ...base.history, sameMonthLastYearKwh: new Decimal(420) } },
      [],
    ],
    [
      'a drop to nearly nothing',
      {
        totalKwh: new Decimal(5),
        history: { ...base.history, recentKwh: [new Decimal(900)], sameMonthLastYearKwh: null },
      },
      ['consumption_drop:hold'],
    ],
    [
      'a small change below the kWh floor',
      { totalKwh: new Decimal(340), history: { ...base.history, sameMonthLastYearKwh: null } },
      [],
    ],
    [
      'the second zero month on an occupied account',
      {
        totalKwh: new Decimal(0),
        history: { ...base.history, recentKwh: [new Decimal(0)], zeroMonthsBefore: 1 },
      },
      ['zero_consumption:hold'],
    ],
    [
      'zero months on a vacant house',
      {
        occupied: false,
        totalKwh: new Decimal(0),
        history: { ...base.history, recentKwh: [new Decimal(0)], zeroMonthsBefore: 5 },
      },
      [],
    ],
  ])('%s', (_name, input, expected) => {
    expect(codes(input)).toEqual(expected);
  });
});
