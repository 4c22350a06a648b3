import { Decimal as DecimalJs } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, yuanToFenHalfUp } from './decimal.js';

/** The reference: decimal.js with the configuration GridCollect's Decimal reproduces. */
const Reference = DecimalJs.clone({
  precision: 40,
  rounding: DecimalJs.ROUND_HALF_UP,
  toExpNeg: -30,
  toExpPos: 40,
});

/** Decimal strings of every shape the domain meets: kWh, prices, fractions, large and tiny values, zeros. */
const decimalText = fc
  .tuple(
    fc.boolean(),
    fc.oneof(
      fc.bigInt({ min: 0n, max: 10n ** 6n }),
      fc.bigInt({ min: 0n, max: 10n ** 30n }),
      // Coefficients around 2^53, where the representation changes from a double to a BigInt,
      // and of a size whose products and aligned sums cross it.
      fc.bigInt({ min: 2n ** 52n - 1000n, max: 2n ** 53n + 1000n }),
      fc.bigInt({ min: 0n, max: 10n ** 10n }),
    ),
    fc.integer({ min: 0, max: 12 }),
    fc.integer({ min: -3, max: 3 }),
  )
  .map(([negative, digits, scale, exponent]) => {
    const text = digits.toString().padStart(scale + 1, '0');
    const plain =
      scale === 0 ? text : `${text.slice(0, text.length - scale)}.${text.slice(text.length - scale)}`;
    return `${negative ? '-' : ''}${plain}${exponent === 0 ? '' : `e${exponent}`}`;
  });
const rounding = fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8);

const same = (ours: Decimal, reference: InstanceType<typeof Reference>) => {
  expect(ours.toString()).toBe(reference.toString());
  expect(ours.valueOf()).toBe(reference.valueOf());
  expect(ours.isNegative()).toBe(reference.isNegative());
};

describe('Decimal against decimal.js', () => {
  it('parses and prints the same, with the same sign of zero', () => {
    fc.assert(
      fc.property(decimalText, (text) => {
        const ours = new Decimal(text);
        const reference = new Reference(text);
        same(ours, reference);
        expect(ours.toNumber()).toBe(reference.toNumber());
        expect(ours.decimalPlaces()).toBe(reference.decimalPlaces());
        expect(ours.isZero()).toBe(reference.isZero());
      }),
      { numRuns: 2000 },
    );
    for (const text of [
      '-0',
      '0.000',
      '-0.00',
      '1e-30',
      '1e-31',
      '9.9e39',
      '1e40',
      '123e38',
      '.5',
      '5.',
      '+7',
    ])
      same(new Decimal(text), new Reference(text));
    for (const value of [0, -0, 260, -17, 0.9, 1.05, 1e21, 2 ** 60, 1e-7])
      same(new Decimal(value), new Reference(value));
    // Zeros of both signs, which random strings rarely give: the sign a tie keeps.
    for (const [x, y] of [
      ['-0', '0'],
      ['0', '-0'],
      ['-0', '-0.00'],
      ['0.00', '0'],
    ]) {
      same(Decimal.max(x!, y!), Reference.max(x!, y!));
      same(Decimal.min(x!, y!), Reference.min(x!, y!));
      same(new Decimal(x!).plus(y!), new Reference(x!).plus(y!));
      same(new Decimal(x!).minus(y!), new Reference(x!).minus(y!));
      same(new Decimal(x!).times(y!), new Reference(x!).times(y!));
    }
  });

  it('adds, subtracts, multiplies and divides to the same result', () => {
    fc.assert(
      fc.property(decimalText, decimalText, (x, y) => {
        const [a, b] = [new Decimal(x), new Decimal(y)];
        const [ra, rb] = [new Reference(x), new Reference(y)];
        same(a.plus(b), ra.plus(rb));
        same(a.minus(b), ra.minus(rb));
        same(a.times(b), ra.times(rb));
        if (!rb.isZero()) same(a.div(b), ra.div(rb));
        expect(a.comparedTo(b)).toBe(ra.comparedTo(rb));
        expect(a.greaterThan(b)).toBe(ra.greaterThan(rb));
        expect(a.lessThan(b)).toBe(ra.lessThan(rb));
        same(Decimal.max(a, b), Reference.max(ra, rb));
        same(Decimal.min(a, b), Reference.min(ra, rb));
      }),
      { numRuns: 3000 },
    );
  });

  it('chains operations (40-digit quotients multiplied on) to the same result', () => {
    fc.assert(
      fc.property(
        decimalText,
        decimalText,
        decimalText,
        fc.integer({ min: 1, max: 366 }),
        (x, y, z, days) => {
          const share = new Decimal(days % 31 || 1).div(days);
          const referenceShare = new Reference(days % 31 || 1).div(days);
          same(share, referenceShare);
          same(new Decimal(x).times(share).plus(y), new Reference(x).times(referenceShare).plus(y));
          if (!new Reference(z).isZero())
            same(new Decimal(x).div(z).times(y), new Reference(x).div(z).times(y));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('rounds to decimal places and formats fixed the same, in every rounding mode', () => {
    fc.assert(
      fc.property(decimalText, fc.integer({ min: 0, max: 8 }), rounding, (x, places, mode) => {
        same(
          new Decimal(x).toDecimalPlaces(places, mode),
          new Reference(x).toDecimalPlaces(places, mode as never),
        );
        expect(new Decimal(x).toFixedPlaces(places, mode)).toBe(
          new Reference(x).toFixed(places, mode as never),
        );
      }),
      { numRuns: 3000 },
    );
  });

  it('takes square roots and integer powers to the same result', () => {
    fc.assert(
      fc.property(decimalText, fc.integer({ min: 0, max: 4 }), (x, exponent) => {
        const reference = new Reference(x);
        same(new Decimal(x).pow(exponent), reference.pow(exponent));
        same(new Decimal(x).abs().sqrt(), reference.abs().sqrt());
        same(new Decimal(x).abs(), reference.abs());
        same(new Decimal(x).negated(), reference.negated());
      }),
      { numRuns: 2000 },
    );
  });
});

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
