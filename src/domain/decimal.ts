/**
 * Exact decimals for prices, energy and rates: a signed integer coefficient (BigInt) and a
 * scale, value = coefficient × 10^-scale.
 *
 * The semantics are those of decimal.js configured with 40 significant digits, rounding half-up
 * (away from zero) and plain notation between 1e-30 and 1e40, which GridCollect used before:
 * sums, differences and products are exact and rounded only beyond 40 significant digits;
 * quotients and square roots are correctly rounded to 40 significant digits; negative zero
 * exists and prints as "0". A differential property test holds this type to decimal.js
 * operation by operation (decimal.test.ts). It exists because the billing run spent most of its
 * CPU in decimal.js (docs/adr/0007): the same operations here cost a few BigInt steps.
 */
export type DecimalValue = Decimal | string | number | bigint;

const PRECISION = 40;
const EXP_NEG = -30;
const EXP_POS = 40;
/** Coefficients below this in magnitude have at most PRECISION digits. */
const LIMIT = 10n ** BigInt(PRECISION);

const POW10: bigint[] = [1n];
function pow10(n: number): bigint {
  for (let k = POW10.length; k <= n; k++) POW10.push(POW10[k - 1]! * 10n);
  return POW10[n]!;
}

/** Marks the internal construction of a negative zero (not exported: no caller outside passes it). */
const NEGATIVE_ZERO: unique symbol = Symbol('negative zero');

const PLAIN = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

function invalid(value: unknown): Error {
  return new Error(`[DecimalError] Invalid argument: ${String(value)}`);
}

function digitCount(magnitude: bigint): number {
  return magnitude.toString().length;
}

/**
 * magnitude / 10^drop rounded by `mode`; `sticky` says the true value lies beyond the digits
 * given (an inexact quotient or root), `negative` is the sign of the value being rounded.
 */
function roundMagnitude(
  magnitude: bigint,
  drop: number,
  mode: number,
  sticky: boolean,
  negative: boolean,
): bigint {
  if (drop <= 0) return magnitude;
  const p = pow10(drop);
  const q = magnitude / p;
  const r = magnitude % p;
  const inexact = r !== 0n || sticky;
  if (!inexact) return q;
  const half = p / 2n;
  let up: boolean;
  switch (mode) {
    case Decimal.ROUND_UP:
      up = true;
      break;
    case Decimal.ROUND_DOWN:
      up = false;
      break;
    case Decimal.ROUND_CEIL:
      up = !negative;
      break;
    case Decimal.ROUND_FLOOR:
      up = negative;
      break;
    case Decimal.ROUND_HALF_UP:
      up = r >= half;
      break;
    case Decimal.ROUND_HALF_DOWN:
      up = r > half || (r === half && sticky);
      break;
    case Decimal.ROUND_HALF_EVEN:
      up = r > half || (r === half && (sticky || q % 2n === 1n));
      break;
    case Decimal.ROUND_HALF_CEIL:
      up = r > half || (r === half && (sticky || !negative));
      break;
    case Decimal.ROUND_HALF_FLOOR:
      up = r > half || (r === half && (sticky || negative));
      break;
    default:
      throw invalid(`rounding mode ${mode}`);
  }
  return up ? q + 1n : q;
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

  readonly #c: bigint;
  readonly #e: number;
  /** Negative zero (only when the coefficient is 0). */
  readonly #nz: boolean;

  /**
   * From a decimal string ("12.50", "-3", "1e-7"), a finite number, another Decimal, or a BigInt
   * coefficient with a scale (`new Decimal(1250n, 2)` is 12.50).
   */
  constructor(value: DecimalValue, scale = 0, sign?: typeof NEGATIVE_ZERO) {
    if (typeof value === 'bigint') {
      this.#c = value;
      this.#e = scale;
      this.#nz = sign === NEGATIVE_ZERO && value === 0n;
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
        this.#c = BigInt(value);
        this.#e = 0;
        this.#nz = Object.is(value, -0);
        return;
      }
      if (!Number.isFinite(value)) throw invalid(value);
      value = String(value);
    }
    if (typeof value !== 'string') throw invalid(value);
    const dot = value.indexOf('.');
    let c: bigint;
    let e: number;
    let negative: boolean;
    // The common shapes first: "123", "-123", "123.45", "-0.5".
    if (/^-?\d+(\.\d+)?$/.test(value)) {
      negative = value.charCodeAt(0) === 45;
      c = dot < 0 ? BigInt(value) : BigInt(value.slice(0, dot) + value.slice(dot + 1));
      e = dot < 0 ? 0 : value.length - dot - 1;
    } else {
      const match = PLAIN.exec(value.trim());
      if (!match || (match[2] === '' && (match[3] ?? '') === '')) throw invalid(value);
      negative = match[1] === '-';
      const fraction = match[3] ?? '';
      c = BigInt(`${match[2] || '0'}${fraction}`);
      if (negative) c = -c;
      e = fraction.length - (match[4] ? Number(match[4]) : 0);
    }
    if (e < 0) {
      c *= pow10(-e);
      e = 0;
    }
    this.#c = c;
    this.#e = e;
    this.#nz = c === 0n && negative;
  }

  static #of(c: bigint, e: number, negativeZero: boolean): Decimal {
    return negativeZero && c === 0n ? new Decimal(c, e, NEGATIVE_ZERO) : new Decimal(c, e);
  }

  /** Rounds a result to the precision (40 significant digits), half-up. */
  static #precise(c: bigint, e: number, negativeZero: boolean, sticky = false): Decimal {
    if (c < LIMIT && c > -LIMIT && !sticky) return Decimal.#of(c, e, negativeZero);
    const negative = c < 0n;
    let magnitude = negative ? -c : c;
    const drop = digitCount(magnitude) - PRECISION;
    if (drop > 0) {
      magnitude = roundMagnitude(magnitude, drop, Decimal.rounding, sticky, negative);
      e -= drop;
      if (magnitude === LIMIT) {
        magnitude /= 10n;
        e -= 1;
      }
    }
    return Decimal.#of(negative ? -magnitude : magnitude, e, negativeZero);
  }

  static #from(value: DecimalValue): Decimal {
    return value instanceof Decimal ? value : new Decimal(value);
  }

  get #negative(): boolean {
    return this.#c < 0n || this.#nz;
  }

  plus(value: DecimalValue): Decimal {
    const y = Decimal.#from(value);
    let a = this.#c;
    let b = y.#c;
    let e = this.#e;
    if (e > y.#e) b *= pow10(e - y.#e);
    else if (e < y.#e) {
      a *= pow10(y.#e - e);
      e = y.#e;
    }
    const c = a + b;
    return Decimal.#precise(c, e, c === 0n && this.#nz && y.#nz && a === 0n);
  }

  minus(value: DecimalValue): Decimal {
    return this.plus(Decimal.#from(value).negated());
  }

  times(value: DecimalValue): Decimal {
    const y = Decimal.#from(value);
    const c = this.#c * y.#c;
    return Decimal.#precise(c, this.#e + y.#e, c === 0n && this.#negative !== y.#negative);
  }

  div(value: DecimalValue): Decimal {
    const y = Decimal.#from(value);
    if (y.#c === 0n) throw new Error('[DecimalError] Division by zero');
    const negative = this.#negative !== y.#negative;
    if (this.#c === 0n) return Decimal.#of(0n, 0, negative);
    const a = this.#c < 0n ? -this.#c : this.#c;
    const b = y.#c < 0n ? -y.#c : y.#c;
    const shift = Math.max(0, PRECISION + 2 + digitCount(b) - digitCount(a));
    const scaled = a * pow10(shift);
    const q = scaled / b;
    const sticky = scaled % b !== 0n;
    return Decimal.#precise(negative ? -q : q, shift + this.#e - y.#e, false, sticky).#stripped();
  }

  /** Integer powers (≥ 0), rounded to the precision. */
  pow(exponent: number): Decimal {
    if (!Number.isInteger(exponent) || exponent < 0) throw invalid(`exponent ${exponent}`);
    let c = 1n;
    for (let k = 0; k < exponent; k++) c *= this.#c;
    return Decimal.#precise(c, this.#e * exponent, c === 0n && this.#nz && exponent % 2 === 1);
  }

  sqrt(): Decimal {
    if (this.#c < 0n) throw invalid('square root of a negative number');
    if (this.#c === 0n) return this;
    const digits = digitCount(this.#c);
    let shift = Math.max(0, 2 * (PRECISION + 2) - digits);
    if ((this.#e + shift) % 2 !== 0) shift += 1;
    const n = this.#c * pow10(shift);
    const root = isqrt(n);
    return Decimal.#precise(root, (this.#e + shift) / 2, false, root * root !== n).#stripped();
  }

  toDecimalPlaces(places: number, rounding: number = Decimal.rounding): Decimal {
    if (this.#e <= places) return this;
    const negative = this.#negative;
    const magnitude = roundMagnitude(
      this.#c < 0n ? -this.#c : this.#c,
      this.#e - places,
      rounding,
      false,
      negative,
    );
    return Decimal.#of(negative ? -magnitude : magnitude, places, negative);
  }

  /** Plain notation with exactly `places` decimals (rounded); "-" only for a negative non-zero value. */
  toFixedPlaces(places: number, rounding: number = Decimal.rounding): string {
    const rounded = this.toDecimalPlaces(places, rounding);
    const magnitude = rounded.#c < 0n ? -rounded.#c : rounded.#c;
    const scaled = magnitude * pow10(places - rounded.#e);
    let text = scaled.toString();
    if (places > 0) {
      text = text.padStart(places + 1, '0');
      text = `${text.slice(0, text.length - places)}.${text.slice(text.length - places)}`;
    }
    return this.#negative && this.#c !== 0n ? `-${text}` : text;
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
    return this.#c === 0n;
  }

  isNegative(): boolean {
    return this.#negative;
  }

  abs(): Decimal {
    return this.#negative ? this.negated() : this;
  }

  negated(): Decimal {
    return Decimal.#of(-this.#c, this.#e, this.#c === 0n && !this.#nz);
  }

  comparedTo(value: DecimalValue): number {
    const y = Decimal.#from(value);
    let a = this.#c;
    let b = y.#c;
    if (this.#e > y.#e) b *= pow10(this.#e - y.#e);
    else if (this.#e < y.#e) a *= pow10(y.#e - this.#e);
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
    if (c === 0n) return e === 0 ? this : Decimal.#of(0n, 0, this.#nz);
    const start = e;
    while (c % 10n === 0n) {
      c /= 10n;
      e -= 1;
    }
    return e === start ? this : Decimal.#of(c, e, false);
  }

  #plain(signedZero: boolean): string {
    const { digits, e } = this.#digits();
    const sign = this.#c < 0n || (signedZero && this.#nz) ? '-' : '';
    if (e <= 0) return `${sign}${digits}${digits === '0' ? '' : '0'.repeat(-e)}`;
    if (e >= digits.length) return `${sign}0.${'0'.repeat(e - digits.length)}${digits}`;
    return `${sign}${digits.slice(0, digits.length - e)}.${digits.slice(digits.length - e)}`;
  }

  #text(signedZero: boolean): string {
    const { digits, e } = this.#digits();
    const exponent = digits.length - 1 - e;
    if (digits !== '0' && (exponent <= EXP_NEG || exponent >= EXP_POS)) {
      const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
      return `${this.#c < 0n ? '-' : ''}${mantissa}e${exponent < 0 ? '-' : '+'}${Math.abs(exponent)}`;
    }
    return this.#plain(signedZero);
  }

  /** The magnitude's digits without trailing zeros, and the scale that goes with them. */
  #digits(): { digits: string; e: number } {
    if (this.#c === 0n) return { digits: '0', e: 0 };
    const text = (this.#c < 0n ? -this.#c : this.#c).toString();
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
  // "12.35" → 1235: the exact decimal text rounded to two places, read as whole fen (+ 0 turns
  // the -0 of a rounded-away negative into 0).
  return Number(yuan.toFixedPlaces(2, Decimal.ROUND_HALF_UP).replace('.', '')) + 0;
}

/** "260", "260.5", "0.25": a decimal without trailing zeros (never exponent notation). */
export function plainDecimal(value: Decimal): string {
  return value.toString();
}

/** The value rounded half-up to `places` decimals and written with exactly that many. */
export function fixedDecimal(value: Decimal, places: number): string {
  return value.toFixedPlaces(places, Decimal.ROUND_HALF_UP);
}
