import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addFen, chineseUppercaseYuan, fen, formatYuan, parseYuan } from './money.js';

describe('money', () => {
  it.each([
    ['0.00', 0],
    ['1', 100],
    ['1.5', 150],
    ['123.45', 12345],
    ['-0.05', -5],
  ])('parses %s yuan as %i fen', (text, expected) => {
    expect(parseYuan(text)).toBe(expected);
  });

  it.each(['1.234', 'abc', '', '1e3', '0x10', '1.', '.5'])('refuses %j', (text) => {
    expect(parseYuan(text)).toBeNull();
  });

  it('formats and parses back every amount exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (amount) => {
        expect(parseYuan(formatYuan(fen(amount)))).toBe(amount);
      }),
    );
  });

  it('adds as integers', () => {
    expect(formatYuan(addFen(fen(10), fen(20), fen(-5)))).toBe('0.25');
    expect(() => fen(0.1)).toThrow(RangeError);
  });
});

describe('amount in Chinese capitals (大写)', () => {
  it.each([
    [13820, '壹佰叁拾捌元贰角整'],
    [100005, '壹仟元零伍分'],
    [0, '零元整'],
    [5, '伍分'],
    [120, '壹元贰角整'],
    [1000000, '壹万元整'],
    [10010000, '壹拾万零壹佰元整'],
    [1234567891, '壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角壹分'],
    [100000100, '壹佰万零壹元整'],
  ])('%i fen is %s', (amount, expected) => {
    expect(chineseUppercaseYuan(fen(amount))).toBe(expected);
  });
});
