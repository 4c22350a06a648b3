/**
 * Resident identity card numbers (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check
 * character. Stored encrypted; shown masked.
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = '10X98765432';

export function nationalIdCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError('national id body must be 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

export function isValidNationalId(value: string): boolean {
  return /^\d{17}[\dX]$/.test(value) && nationalIdCheckChar(value.slice(0, 17)) === value[17];
}

/** Keeps the first 4 and last 4 characters: "3715**********123X". */
export function maskNationalId(value: string): string {
  return `${value.slice(0, 4)}${'*'.repeat(Math.max(0, value.length - 8))}${value.slice(-4)}`;
}
