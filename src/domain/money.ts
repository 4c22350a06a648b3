/**
 * Money is an integer number of fen (0.01 yuan) behind one branded type. Binary floats never
 * carry money: amounts enter and leave as decimal strings ("123.45") and are added as integers.
 */
export type Fen = number & { readonly __brand: 'Fen' };

const YUAN_PATTERN = /^(-)?(\d{1,13})(?:\.(\d{1,2}))?$/;

export function fen(value: number): Fen {
  if (!Number.isSafeInteger(value)) throw new RangeError(`fen must be a safe integer, got ${value}`);
  return value as Fen;
}

export const ZERO_FEN = fen(0);

/** Parses a yuan decimal string with at most 2 decimals; returns null when it is not one. */
export function parseYuan(text: string): Fen | null {
  const match = YUAN_PATTERN.exec(text.trim());
  if (!match) return null;
  const whole = Number(match[2]);
  const fraction = Number((match[3] ?? '').padEnd(2, '0'));
  const magnitude = whole * 100 + fraction;
  return fen(match[1] ? -magnitude : magnitude);
}

/** Formats fen as a yuan string with exactly 2 decimals, e.g. 12345 → "123.45", -5 → "-0.05". */
export function formatYuan(amountFen: Fen): string {
  const negative = amountFen < 0;
  const magnitude = Math.abs(amountFen);
  const yuan = Math.trunc(magnitude / 100);
  const cents = String(magnitude % 100).padStart(2, '0');
  return `${negative ? '-' : ''}${yuan}.${cents}`;
}

export function addFen(...amounts: readonly Fen[]): Fen {
  let total = 0;
  for (const amount of amounts) total += amount;
  return fen(total);
}
