import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, yuanToFenHalfUp } from './decimal.js';

describe('yuan to fen', () => {
  it.each([
    ['0.005', 1],
    ['0.0049999', 0],
    ['-0.005', -1],
    ['-0.004', 0],
    ['12.345', 1235],
    ['99999999.995', 10_000_000_000],
  ])('rounds %s yuan half-up (away from zero) to %i fen', (yuan, fen) => {
    expect(Object.is(yuanToFenHalfUp(new Decimal(yuan)), fen)).toBe(true);
  });

  it('is the amount × 100 rounded half-up, for any amount with up to 7 decimals', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }), (units) => {
        const yuan = new Decimal(units.toString()).div(10_000_000);
        const expected = yuan.times(100).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber() + 0;
        expect(Object.is(yuanToFenHalfUp(yuan), expected)).toBe(true);
      }),
    );
  });
});
