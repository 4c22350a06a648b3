/**
 * Both backends hand the code the same JavaScript types:
 * int8 → number (refused when beyond 2^53, which no fen amount or id reaches),
 * numeric → exact decimal string, date → "YYYY-MM-DD" string, timestamptz → Date.
 */
export const PG_OID = { int8: 20, numeric: 1700, date: 1082 } as const;

export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new RangeError(`int8 value ${text} is beyond the safe integer range`);
  return value;
}

export function keepText(text: string): string {
  return text;
}
