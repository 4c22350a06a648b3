/**
 * Exact decimals for prices, energy and rates: a signed integer coefficient and a scale,
 * value = coefficient × 10^-scale.
 *
 * The semantics are those of decimal.js configured with 40 significant digits, rounding half-up
 * (away from zero) and plain notation between 1e-30 and 1e40, which GridCollect used before:
 * sums, differences and products are exact and rounded only beyond 40 significant digits;
 * quotients and square roots are correctly rounded to 40 significant digits; negative zero
 * exists and prints as "0". A differential property test holds this type to decimal.js
 * operation by operation (decimal.test.ts). It exists because the billing run spent most of its
 * CPU in decimal.js (docs/adr/0007).
 *
 * The coefficient is a JavaScript number while it is a safe integer (|c| ≤ 2^53 − 1), where
 * integer arithmetic on doubles is exact, and a BigInt beyond: kWh, prices and amounts are
 * numbers, so the billing run's arithmetic allocates no BigInt. Each operation on numbers checks
 * that its exact result is still a safe integer (a sum or product beyond 2^53 − 1 comes out of
 * the double unsafe) and otherwise redoes it in BigInt. The representation is canonical: a
 * value has a number coefficient exactly when the coefficient is a safe integer, and zero is
 * the number 0 (never -0; the sign of a negative zero is kept apart).
 */
export type DecimalValue = Decimal | string | number | bigint;

type Coefficient = number | bigint;

const PRECISION = 40;
const EXP_NEG = -30;
const EXP_POS = 40;
/** Coefficients below this in magnitude have at most PRECISION digits. */
const LIMIT = 10n ** BigInt(PRECISION);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Rounding on a number coefficient stays within safe integers up to here (q × 10^k ≤ 2^53). */
const ROUND_ON_NUMBER_MAX = 2 ** 52;
/** Powers of ten as numbers, up to 10^15 (10^15 < 2^50). */
const POW10_NUMBER = Array.from({ length: 16 }, (_, k) => 10 ** k);

const POW10: bigint[] = [1n];
function pow10(n: number): bigint {
  for (let k = POW10.length; k <= n; k++) POW10.push(POW10[k - 1]! * 10n);
  return POW10[n]!;
}

/** The canonical coefficient for an exact integer: a number when safe. */
function canonical(c: bigint): Coefficient {
  return c <= MAX_SAFE && c >= -MAX_SAFE ? Number(c) : c;
}

function big(c: Coefficient): bigint {
  return typeof c === 'bigint' ? c : BigInt(c);
}

function magnitudeOf(c: Coefficient): Coefficient {
  return typeof c === 'number' ? Math.abs(c) : c < 0n ? -c : c;
}

function negate(c: Coefficient): Coefficient {
  return typeof c === 'number' ? (c === 0 ? 0 : -c) : -c;
}

/** c × 10^k (k ≥ 0). */
function scaleUp(c: Coefficient, k: number): Coefficient {
  if (k === 0) return c;
  if (typeof c === 'number' && k < POW10_NUMBER.length) {
    const scaled = c * POW10_NUMBER[k]!;
    if (Number.isSafeInteger(scaled)) return scaled;
  }
  return canonical(big(c) * pow10(k));
}

function add(a: Coefficient, b: Coefficient): Coefficient {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (Number.isSafeInteger(sum)) return sum;
  }
  return canonical(big(a) + big(b));
}

function multiply(a: Coefficient, b: Coefficient): Coefficient {
  if (typeof a === 'number' && typeof b === 'number') {
    // + 0 turns the -0 of 0 × negative into 0.
    const product = a * b + 0;
    if (Number.isSafeInteger(product)) return product;
  }
  return canonical(big(a) * big(b));
}

/** Marks the internal construction from a canonical coefficient (not exported: no caller outside passes it). */
const COEFFICIENT: unique symbol = Symbol('coefficient');
/** As COEFFICIENT, for a negative zero. */
const NEGATIVE_ZERO: unique symbol = Symbol('negative zero');

const PLAIN = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const SIMPLE = /^-?\d+(\.\d+)?$/;

function invalid(value: unknown): Error {
  return new Error(`[DecimalError] Invalid argument: ${String(value)}`);
}

function digitCount(magnitude: Coefficient): number {
  return String(magnitude).length;
}

/**
 * Whether a value cut to q with remainder r is rounded up (away from zero) by `mode`: `half` is
 * the sign of r − half a unit, `odd` says q is odd, `sticky` says the true value lies beyond the
 * digits given (an inexact quotient or root), `negative` is the sign of the value.
 */
function roundsUp(mode: number, half: number, odd: boolean, sticky: boolean, negative: boolean): boolean {
  switch (mode) {
    case Decimal.ROUND_UP:
      return true;
    case Decimal.ROUND_DOWN:
      return false;
    case Decimal.ROUND_CEIL:
      return !negative;
    case Decimal.ROUND_FLOOR:
      return negative;
    case Decimal.ROUND_HALF_UP:
      return half >= 0;
    case Decimal.ROUND_HALF_DOWN:
      return half > 0 || (half === 0 && sticky);
    case Decimal.ROUND_HALF_EVEN:
      return half > 0 || (half === 0 && (sticky || odd));
    case Decimal.ROUND_HALF_CEIL:
      return half > 0 || (half === 0 && (sticky || !negative));
    case Decimal.ROUND_HALF_FLOOR:
      return half > 0 || (half === 0 && (sticky || negative));
    default:
      throw invalid(`rounding mode ${mode}`);
  }
}

/** magnitude / 10^drop rounded by `mode` (see roundsUp). */
function roundMagnitude(
  magnitude: Coefficient,
  drop: number,
  mode: number,
  sticky: boolean,
  negative: boolean,
): Coefficient {
  if (drop <= 0) return magnitude;
  if (typeof magnitude === 'number' && magnitude <= ROUND_ON_NUMBER_MAX && drop < POW10_NUMBER.length) {
    const p = POW10_NUMBER[drop]!;
    // The double quotient can be one off either way; the remainder puts it right.
    let q = Math.floor(magnitude / p);
    let r = magnitude - q * p;
    if (r < 0) {
      q -= 1;
      r += p;
    } else if (r >= p) {
      q += 1;
      r -= p;
    }
    if (r === 0 && !sticky) return q;
    const half = p / 2;
    return roundsUp(mode, Math.sign(r - half), q % 2 === 1, sticky, negative) ? q + 1 : q;
  }
  const p = pow10(drop);
  const m = big(magnitude);
  const q = m / p;
  const r = m % p;
  if (r === 0n && !sticky) return canonical(q);
  const half = p / 2n;
  const up = roundsUp(mode, r > half ? 1 : r === half ? 0 : -1, q % 2n === 1n, sticky, negative);
  return canonical(up ? q + 1n : q);
}

export class Decimal {
  static readonly ROUND_UP = 0;
  static readonly ROUND_DOWN = 1;
  static readonly ROUND_CEIL = 2;
  static readonly ROUND_FLOOR = 3;
  static readonly ROUND_HALF_UP = 4;
  static readonly ROUND_HALF_DOWN = 5;
  static readonly ROUND_HALF_EVEN = 6;
  static readonly ROUND_HALF_CEIL = 7;
  static readonly ROUND_HALF_FLOOR = 8;
  /** The rounding of toDecimalPlaces and toFixedPlaces when none is given, and of precision overflow. */
  static readonly rounding: number = 4; // ROUND_HALF_UP

  /** Canonical: a number exactly when a safe integer, zero as 0. */
  readonly #c: Coefficient;
  readonly #e: number;
  /** Negative zero (only when the coefficient is 0). */
  readonly #nz: boolean;

  /**
   * From a decimal string ("12.50", "-3", "1e-7"), a finite number, another Decimal, or a BigInt
   * coefficient with a scale (`new Decimal(1250n, 2)` is 12.50).
   */
  constructor(value: DecimalValue, scale = 0, internal?: typeof COEFFICIENT | typeof NEGATIVE_ZERO) {
    if (internal !== undefined) {
      this.#c = value as Coefficient;
      this.#e = scale;
      this.#nz = internal === NEGATIVE_ZERO && value === 0;
      return;
    }
    if (typeof value === 'bigint') {
      this.#c = canonical(value);
      this.#e = scale;
      this.#nz = false;
      return;
    }
    if (value instanceof Decimal) {
      this.#c = value.#c;
      this.#e = value.#e;
      this.#nz = value.#nz;
      return;
    }
    if (typeof value === 'number') {
      if (Number.isSafeInteger(value)) {
        this.#c = value + 0;
        this.#e = 0;
        this.#nz = Object.is(value, -0);
        return;
      }
      if (!Number.isFinite(value)) throw invalid(value);
      value = String(value);
    }
    if (typeof value !== 'string') throw invalid(value);
    const dot = value.indexOf('.');
    let c: Coefficient;
    let e: number;
    let negative: boolean;
    // The common shapes first: "123", "-123", "123.45", "-0.5".
    if (SIMPLE.test(value)) {
      negative = value.charCodeAt(0) === 45;
      const digits = dot < 0 ? value : value.slice(0, dot) + value.slice(dot + 1);
      // Up to 15 digits a double holds the integer exactly (+ 0 turns "-0" into 0).
      c = digits.length - (negative ? 1 : 0) <= 15 ? Number(digits) + 0 : canonical(BigInt(digits));
      e = dot < 0 ? 0 : value.length - dot - 1;
    } else {
      const match = PLAIN.exec(value.trim());
      if (!match || (match[2] === '' && (match[3] ?? '') === '')) throw invalid(value);
      negative = match[1] === '-';
      const fraction = match[3] ?? '';
      let b = BigInt(`${match[2] || '0'}${fraction}`);
      if (negative) b = -b;
      c = canonical(b);
      e = fraction.length - (match[4] ? Number(match[4]) : 0);
    }
    if (e < 0) {
      c = scaleUp(c, -e);
      e = 0;
    }
    this.#c = c;
    this.#e = e;
    this.#nz = c === 0 && negative;
  }

  static #of(c: Coefficient, e: number, negativeZero: boolean): Decimal {
    return new Decimal(c, e, negativeZero && c === 0 ? NEGATIVE_ZERO : COEFFICIENT);
  }

  /** Rounds a result to the precision (40 significant digits), half-up. */
  static #precise(c: Coefficient, e: number, negativeZero: boolean, sticky = false): Decimal {
    if (!sticky && (typeof c === 'number' || (c < LIMIT && c > -LIMIT)))
      return Decimal.#of(c, e, negativeZero);
    const negative = c < 0;
    let magnitude = magnitudeOf(c);
    const drop = digitCount(magnitude) - PRECISION;
    if (drop > 0) {
      magnitude = roundMagnitude(magnitude, drop, Decimal.rounding, sticky, negative);
      e -= drop;
      if (magnitude === LIMIT) {
        magnitude = LIMIT / 10n;
        e -= 1;
      }
    }
    return Decimal.#of(negative ? negate(magnitude) : magnitude, e, negativeZero);
  }

  static #from(value: DecimalValue): Decimal {
    return value instanceof Decimal ? value : new Decimal(value);
  }

  get #negative(): boolean {
    return this.#c < 0 || this.#nz;
  }

  plus(value: DecimalValue): Decimal {
    const y = Decimal.#from(value);
    let a = this.#c;
    let b = y.#c;
    let e = this.#e;
    if (e > y.#e) b = scaleUp(b, e - y.#e);
    else if (e < y.#e) {
      a = scaleUp(a, y.#e - e);
      e = y.#e;
    }
    const c = add(a, b);
    return Decimal.#precise(c, e, c === 0 && this.#nz && y.#nz);
  }

  minus(value: DecimalValue): Decimal {
    return this.plus(Decimal.#from(value).negated());
  }

  times(value: DecimalValue): Decimal {
    const y = Decimal.#from(value);
    const c = multiply(this.#c, y.#c);
    return Decimal.#precise(c, this.#e + y.#e, c === 0 && this.#negative !== y.#negative);
  }

  div(value: DecimalValue): Decimal {
    const y = Decimal.#from(value);
    if (y.#c === 0) throw new Error('[DecimalError] Division by zero');
    const negative = this.#negative !== y.#negative;
    if (this.#c === 0) return Decimal.#of(0, 0, negative);
    const a = big(magnitudeOf(this.#c));
    const b = big(magnitudeOf(y.#c));
    const shift = Math.max(0, PRECISION + 2 + digitCount(b) - digitCount(a));
    const scaled = a * pow10(shift);
    const q = scaled / b;
    const sticky = scaled % b !== 0n;
    return Decimal.#precise(negative ? -q : q, shift + this.#e - y.#e, false, sticky).#stripped();
  }

  /** Integer powers (≥ 0), rounded to the precision. */
  pow(exponent: number): Decimal {
    if (!Number.isInteger(exponent) || exponent < 0) throw invalid(`exponent ${exponent}`);
    const base = big(this.#c);
    let c = 1n;
    for (let k = 0; k < exponent; k++) c *= base;
    return Decimal.#precise(canonical(c), this.#e * exponent, c === 0n && this.#nz && exponent % 2 === 1);
  }

  sqrt(): Decimal {
    if (this.#c < 0) throw invalid('square root of a negative number');
    if (this.#c === 0) return this;
    const digits = digitCount(this.#c);
    let shift = Math.max(0, 2 * (PRECISION + 2) - digits);
    if ((this.#e + shift) % 2 !== 0) shift += 1;
    const n = big(this.#c) * pow10(shift);
    const root = isqrt(n);
    return Decimal.#precise(root, (this.#e + shift) / 2, false, root * root !== n).#stripped();
  }

  toDecimalPlaces(places: number, rounding: number = Decimal.rounding): Decimal {
    if (this.#e <= places) return this;
    const negative = this.#negative;
    const magnitude = roundMagnitude(magnitudeOf(this.#c), this.#e - places, rounding, false, negative);
    return Decimal.#of(negative ? negate(magnitude) : magnitude, places, negative);
  }

  /** Plain notation with exactly `places` decimals (rounded); "-" only for a negative non-zero value. */
  toFixedPlaces(places: number, rounding: number = Decimal.rounding): string {
    const rounded = this.toDecimalPlaces(places, rounding);
    let text = String(scaleUp(magnitudeOf(rounded.#c), places - rounded.#e));
    if (places > 0) {
      text = text.padStart(places + 1, '0');
      text = `${text.slice(0, text.length - places)}.${text.slice(text.length - places)}`;
    }
    return this.#negative && this.#c !== 0 ? `-${text}` : text;
  }

  /** The value rounded to `places` decimals as an integer count of 10^-places (12.345 → 1235 for 2). */
  toScaledInteger(places: number, rounding: number = Decimal.rounding): number {
    const rounded = this.toDecimalPlaces(places, rounding);
    const scaled = scaleUp(rounded.#c, places - rounded.#e);
    if (typeof scaled !== 'number')
      throw new RangeError(`${this.toString()} × 10^${places} is beyond the safe integer range`);
    return scaled;
  }

  toString(): string {
    return this.#text(false);
  }

  /** As toString, but negative zero keeps its sign ("-0"), as JSON and Number() see it. */
  valueOf(): string {
    return this.#text(true);
  }

  toJSON(): string {
    return this.valueOf();
  }

  toNumber(): number {
    return Number(this.valueOf());
  }

  /** Decimals after the point, trailing zeros not counted. */
  decimalPlaces(): number {
    return Math.max(0, this.#digits().e);
  }

  isZero(): boolean {
    return this.#c === 0;
  }

  isNegative(): boolean {
    return this.#negative;
  }

  abs(): Decimal {
    return this.#negative ? this.negated() : this;
  }

  negated(): Decimal {
    return Decimal.#of(negate(this.#c), this.#e, this.#c === 0 && !this.#nz);
  }

  comparedTo(value: DecimalValue): number {
    const y = Decimal.#from(value);
    let a = this.#c;
    let b = y.#c;
    if (this.#e > y.#e) b = scaleUp(b, this.#e - y.#e);
    else if (this.#e < y.#e) a = scaleUp(a, y.#e - this.#e);
    // Canonical coefficients: equal values have the same type.
    return a === b ? 0 : a < b ? -1 : 1;
  }

  greaterThan(value: DecimalValue): boolean {
    return this.comparedTo(value) > 0;
  }

  greaterThanOrEqualTo(value: DecimalValue): boolean {
    return this.comparedTo(value) >= 0;
  }

  lessThan(value: DecimalValue): boolean {
    return this.comparedTo(value) < 0;
  }

  static max(...values: DecimalValue[]): Decimal {
    let best = Decimal.#from(values[0]!);
    for (const value of values.slice(1)) {
      const next = Decimal.#from(value);
      // On a tie the later value wins if the best so far is negative: max(-0, 0) is 0, as in decimal.js.
      const order = next.comparedTo(best);
      if (order > 0 || (order === 0 && best.#negative)) best = next;
    }
    return best;
  }

  static min(...values: DecimalValue[]): Decimal {
    let best = Decimal.#from(values[0]!);
    for (const value of values.slice(1)) {
      const next = Decimal.#from(value);
      // On a tie the later value wins if the best so far is not negative: min(0, -0) is -0.
      const order = next.comparedTo(best);
      if (order < 0 || (order === 0 && !best.#negative)) best = next;
    }
    return best;
  }

  /** The same value with trailing zeros of the coefficient removed. */
  #stripped(): Decimal {
    let c = this.#c;
    let e = this.#e;
    if (c === 0) return e === 0 ? this : Decimal.#of(0, 0, this.#nz);
    const start = e;
    if (typeof c === 'bigint') {
      while (c % 10n === 0n) {
        c /= 10n;
        e -= 1;
      }
      c = canonical(c);
    } else {
      while (c % 10 === 0) {
        c /= 10;
        e -= 1;
      }
    }
    return e === start ? this : Decimal.#of(c, e, false);
  }

  #plain(signedZero: boolean, digits: string, e: number): string {
    const sign = this.#c < 0 || (signedZero && this.#nz) ? '-' : '';
    if (e <= 0) return `${sign}${digits}${digits === '0' ? '' : '0'.repeat(-e)}`;
    if (e >= digits.length) return `${sign}0.${'0'.repeat(e - digits.length)}${digits}`;
    return `${sign}${digits.slice(0, digits.length - e)}.${digits.slice(digits.length - e)}`;
  }

  #text(signedZero: boolean): string {
    const { digits, e } = this.#digits();
    const exponent = digits.length - 1 - e;
    if (digits !== '0' && (exponent <= EXP_NEG || exponent >= EXP_POS)) {
      const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
      return `${this.#c < 0 ? '-' : ''}${mantissa}e${exponent < 0 ? '-' : '+'}${Math.abs(exponent)}`;
    }
    return this.#plain(signedZero, digits, e);
  }

  /** The magnitude's digits without trailing zeros, and the scale that goes with them. */
  #digits(): { digits: string; e: number } {
    if (this.#c === 0) return { digits: '0', e: 0 };
    const text = String(magnitudeOf(this.#c));
    let end = text.length;
    while (end > 1 && text.charCodeAt(end - 1) === 48) end--;
    return { digits: end === text.length ? text : text.slice(0, end), e: this.#e - (text.length - end) };
  }
}

/** Floor of the square root of n ≥ 0 (Newton's method from an overestimate). */
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

const DECIMAL_PATTERN = /^-?\d{1,15}(\.\d+)?$/;

/** Parses a plain decimal string or a finite JSON number with at most `maxDecimals` decimals. */
export function parseDecimal(value: unknown, maxDecimals: number): Decimal | null {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    // A JSON number such as 260 or 12.5 arrives as a double; its shortest decimal text is exact
    // for the few decimals allowed here.
    text = String(value);
  } else if (typeof value === 'string') text = value.trim();
  else return null;
  if (!DECIMAL_PATTERN.test(text)) return null;
  const decimals = text.includes('.') ? text.length - text.indexOf('.') - 1 : 0;
  if (decimals > maxDecimals) return null;
  return new Decimal(text);
}

/** Rounds yuan half-up to the fen and returns integer fen. */
export function yuanToFenHalfUp(yuan: Decimal): number {
  return yuan.toScaledInteger(2, Decimal.ROUND_HALF_UP);
}

/** "260", "260.5", "0.25": a decimal without trailing zeros (never exponent notation). */
export function plainDecimal(value: Decimal): string {
  return value.toString();
}

/** The value rounded half-up to `places` decimals and written with exactly that many. */
export function fixedDecimal(value: Decimal, places: number): string {
  return value.toFixedPlaces(places, Decimal.ROUND_HALF_UP);
}
