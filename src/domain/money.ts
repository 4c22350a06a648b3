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

/**
 * Formats fen as a yuan string with exactly 2 decimals, e.g. 12345 → "123.45", -5 → "-0.05".
 * Totals beyond the safe integer range (sums of many payments) come as a bigint, exact.
 */
export function formatYuan(amountFen: Fen | bigint): string {
  if (typeof amountFen === 'bigint') {
    const magnitude = amountFen < 0n ? -amountFen : amountFen;
    return `${amountFen < 0n ? '-' : ''}${magnitude / 100n}.${String(magnitude % 100n).padStart(2, '0')}`;
  }
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

const DIGITS = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
const SMALL_UNITS = ['', '拾', '佰', '仟'];
const LARGE_UNITS = ['', '万', '亿', '万亿'];

/**
 * The amount in Chinese capital numerals as printed on bills and receipts (大写金额):
 * 13820 fen → "壹佰叁拾捌元贰角整", 100005 fen → "壹仟元零伍分".
 */
export function chineseUppercaseYuan(amountFen: Fen): string {
  if (amountFen < 0) return `负${chineseUppercaseYuan(fen(-amountFen))}`;
  const yuan = Math.trunc(amountFen / 100);
  const jiao = Math.trunc(amountFen / 10) % 10;
  const fenDigit = amountFen % 10;
  let integer = '';
  if (yuan === 0) integer = '';
  else {
    const groups: number[] = [];
    for (let rest = yuan; rest > 0; rest = Math.trunc(rest / 10000)) groups.push(rest % 10000);
    let needZero = false;
    for (let g = groups.length - 1; g >= 0; g--) {
      const group = groups[g]!;
      if (group === 0) {
        needZero = integer !== '';
        continue;
      }
      if (needZero || (integer !== '' && group < 1000)) integer += '零';
      needZero = false;
      let text = '';
      let zero = false;
      for (let d = 3; d >= 0; d--) {
        const digit = Math.trunc(group / 10 ** d) % 10;
        if (digit === 0) {
          zero = text !== '';
          continue;
        }
        if (zero) text += '零';
        zero = false;
        text += DIGITS[digit]! + SMALL_UNITS[d]!;
      }
      integer += text + LARGE_UNITS[g]!;
    }
    integer += '元';
  }
  if (jiao === 0 && fenDigit === 0) return yuan === 0 ? '零元整' : `${integer}整`;
  let fraction = '';
  if (jiao > 0) fraction += `${DIGITS[jiao]}角`;
  else if (yuan > 0) fraction += '零';
  if (fenDigit > 0) fraction += `${DIGITS[fenDigit]}分`;
  else fraction += '整';
  return integer + fraction;
}
