import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addFen, fen, formatYuan, parseYuan } from './money.js';

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
