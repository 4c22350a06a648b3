import { Decimal as DecimalJs } from 'decimal.js';

/**
 * Exact decimals for prices, energy and rates. A private Decimal constructor with enough
 * precision for any bill, rounding half-up, so that no module changes the global settings.
 */
export const Decimal = DecimalJs.clone({
  precision: 40,
  rounding: DecimalJs.ROUND_HALF_UP,
  toExpNeg: -30,
  toExpPos: 40,
});
export type Decimal = InstanceType<typeof Decimal>;

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
  // the -0 of a rounded-away negative into 0). Cheaper than × 100 and rounding a Decimal again.
  return Number(yuan.toFixed(2, Decimal.ROUND_HALF_UP).replace('.', '')) + 0;
}

/** "260", "260.5", "0.25": a decimal without trailing zeros (never exponent notation). */
export function plainDecimal(value: Decimal): string {
  return value.toString();
}

/** The value rounded half-up to `places` decimals and written with exactly that many. */
export function fixedDecimal(value: Decimal, places: number): string {
  const text = value.toDecimalPlaces(places, Decimal.ROUND_HALF_UP).toString();
  if (places === 0) return text;
  const [whole, fraction = ''] = text.split('.');
  return `${whole}.${fraction.padEnd(places, '0')}`;
}
