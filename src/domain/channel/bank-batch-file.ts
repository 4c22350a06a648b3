import { type Fen, fen, formatYuan } from '../money.js';

/**
 * The bank batch withholding files of docs/bank-batch.md: `|`-separated lines, header, detail lines,
 * trailer. The format has no quoting, so a field is whatever lies between two bars; text fields
 * that would contain a bar or a line break are refused when the file is written. Decoding (UTF-8
 * or GBK) happens before these functions; they see text.
 */

export interface RequestLine {
  readonly seq: number;
  readonly customerNo: string;
  readonly accountNo: string;
  readonly accountName: string;
  readonly amountFen: Fen;
}

export interface RequestFile {
  readonly bankCode: string;
  readonly batchNo: string;
  /** yyyymmdd */
  readonly date: string;
  readonly lines: readonly RequestLine[];
}

export interface ResultLine {
  /** 1-based line number in the file, for error messages. */
  readonly lineNo: number;
  readonly seq: number;
  readonly customerNo: string;
  readonly amountFen: Fen;
  readonly code: string;
  readonly bankTxnId: string;
  readonly message: string;
}

export interface ResultFile {
  readonly bankCode: string;
  readonly batchNo: string;
  readonly date: string;
  readonly count: number;
  readonly totalFen: Fen;
  readonly lines: readonly ResultLine[];
  readonly successCount: number;
  readonly successTotalFen: Fen;
}

export const SUCCESS_CODE = '0000';

/** A file refused whole: the line number (0 = the file as a whole) and the reason. */
export class BankFileError extends Error {
  override readonly name = 'BankFileError';
  constructor(
    readonly lineNo: number,
    readonly reason: string,
  ) {
    super(lineNo > 0 ? `line ${lineNo}: ${reason}` : reason);
  }
}

export function requestFileName(bankCode: string, date: string, batchNo: string): string {
  return `WH_${bankCode}_${date}_${batchNo}.txt`;
}

export function resultFileName(bankCode: string, date: string, batchNo: string): string {
  return `WR_${bankCode}_${date}_${batchNo}.txt`;
}

function checkField(value: string, what: string): string {
  if (/[|\r\n]/.test(value)) throw new BankFileError(0, `${what} contains "|" or a line break: ${value}`);
  return value;
}

/** Writes a request file (utility → bank). */
export function formatRequestFile(file: RequestFile): string {
  const total = fen(file.lines.reduce((sum, line) => sum + line.amountFen, 0));
  const out = [
    `H|${checkField(file.bankCode, 'bankCode')}|${checkField(file.batchNo, 'batchNo')}|${file.date}|${file.lines.length}|${formatYuan(total)}`,
  ];
  for (const line of file.lines) {
    out.push(
      `D|${line.seq}|${checkField(line.customerNo, 'customerNo')}|${checkField(line.accountNo, 'accountNo')}|${checkField(line.accountName, 'accountName')}|${formatYuan(line.amountFen)}`,
    );
  }
  out.push(`T|${file.lines.length}|${formatYuan(total)}`);
  return `${out.join('\n')}\n`;
}

/** Writes a result file (bank → utility); the simulator and tests act as the bank with it. */
export function formatResultFile(
  file: Omit<ResultFile, 'count' | 'totalFen' | 'successCount' | 'successTotalFen' | 'lines'> & {
    readonly lines: readonly Omit<ResultLine, 'lineNo'>[];
  },
): string {
  const total = file.lines.reduce((sum, line) => sum + line.amountFen, 0);
  const successes = file.lines.filter((line) => line.code === SUCCESS_CODE);
  const successTotal = successes.reduce((sum, line) => sum + line.amountFen, 0);
  const out = [
    `H|${file.bankCode}|${file.batchNo}|${file.date}|${file.lines.length}|${formatYuan(fen(total))}`,
  ];
  for (const line of file.lines) {
    out.push(
      `D|${line.seq}|${line.customerNo}|${formatYuan(line.amountFen)}|${line.code}|${line.bankTxnId}|${checkField(line.message, 'message')}`,
    );
  }
  out.push(`T|${successes.length}|${formatYuan(fen(successTotal))}`);
  return `${out.join('\n')}\n`;
}

const AMOUNT = /^\d{1,13}\.\d{2}$/;
const COUNT = /^\d{1,9}$/;

function amountField(text: string, lineNo: number, what: string): Fen {
  if (!AMOUNT.test(text)) throw new BankFileError(lineNo, `${what} "${text}" is not yuan with 2 decimals`);
  const [yuan, cents] = text.split('.');
  return fen(Number(yuan) * 100 + Number(cents));
}

function countField(text: string, lineNo: number, what: string): number {
  if (!COUNT.test(text)) throw new BankFileError(lineNo, `${what} "${text}" is not a count`);
  return Number(text);
}

function dateField(text: string, lineNo: number): string {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  const valid =
    match &&
    (() => {
      const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
      const at = new Date(Date.UTC(y, m - 1, d));
      return at.getUTCFullYear() === y && at.getUTCMonth() === m - 1 && at.getUTCDate() === d;
    })();
  if (!valid) throw new BankFileError(lineNo, `date "${text}" is not yyyymmdd`);
  return text;
}

/**
 * Parses a result file and checks it against itself: one header first, one trailer last, every
 * detail line well formed, sequence numbers unique, header count and total equal to the detail
 * lines, trailer equal to the successful lines. Throws BankFileError with the line number.
 */
export function parseResultFile(text: string): ResultFile {
  const rawLines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (rawLines.at(-1) === '') rawLines.pop();
  if (rawLines.length === 0) throw new BankFileError(0, 'the file is empty');
  const headerFields = rawLines[0]!.split('|');
  if (headerFields[0] !== 'H' || headerFields.length !== 6)
    throw new BankFileError(1, 'the first line must be the header H|bankCode|batchNo|yyyymmdd|count|total');
  const bankCode = headerFields[1]!;
  const batchNo = headerFields[2]!;
  if (!bankCode || !batchNo) throw new BankFileError(1, 'bankCode and batchNo must not be empty');
  const date = dateField(headerFields[3]!, 1);
  const count = countField(headerFields[4]!, 1, 'count');
  const totalFen = amountField(headerFields[5]!, 1, 'total');

  const lines: ResultLine[] = [];
  const seqs = new Map<number, number>();
  let trailer: { successCount: number; successTotalFen: Fen } | null = null;
  for (let k = 1; k < rawLines.length; k += 1) {
    const lineNo = k + 1;
    const fields = rawLines[k]!.split('|');
    if (trailer) throw new BankFileError(lineNo, 'nothing may follow the trailer');
    if (fields[0] === 'T') {
      if (fields.length !== 3)
        throw new BankFileError(lineNo, 'the trailer must be T|successCount|successTotal');
      trailer = {
        successCount: countField(fields[1]!, lineNo, 'successCount'),
        successTotalFen: amountField(fields[2]!, lineNo, 'successTotal'),
      };
      continue;
    }
    if (fields[0] !== 'D' || fields.length !== 7)
      throw new BankFileError(lineNo, 'a detail line must be D|seq|customerNo|amount|code|bankTxnId|message');
    const seq = countField(fields[1]!, lineNo, 'seq');
    const earlier = seqs.get(seq);
    if (earlier !== undefined) throw new BankFileError(lineNo, `seq ${seq} repeats line ${earlier}`);
    seqs.set(seq, lineNo);
    const customerNo = fields[2]!;
    if (!customerNo) throw new BankFileError(lineNo, 'customerNo is empty');
    const code = fields[4]!;
    if (!/^[0-9A-Za-z]{1,8}$/.test(code))
      throw new BankFileError(lineNo, `code "${code}" is not a result code`);
    const bankTxnId = fields[5]!;
    if (code === SUCCESS_CODE && !bankTxnId)
      throw new BankFileError(lineNo, 'a debited line needs its bankTxnId');
    lines.push({
      lineNo,
      seq,
      customerNo,
      amountFen: amountField(fields[3]!, lineNo, 'amount'),
      code,
      bankTxnId,
      message: fields[6]!,
    });
  }
  if (!trailer) throw new BankFileError(rawLines.length, 'the file has no trailer (T line): truncated?');
  if (count !== lines.length)
    throw new BankFileError(1, `header count ${count} but the file has ${lines.length} detail lines`);
  const sum = fen(lines.reduce((s, line) => s + line.amountFen, 0));
  if (totalFen !== sum)
    throw new BankFileError(
      1,
      `header total ${formatYuan(totalFen)} but the detail lines sum to ${formatYuan(sum)}`,
    );
  const successes = lines.filter((line) => line.code === SUCCESS_CODE);
  const successSum = fen(successes.reduce((s, line) => s + line.amountFen, 0));
  const trailerLine = rawLines.length;
  if (trailer.successCount !== successes.length)
    throw new BankFileError(
      trailerLine,
      `trailer successCount ${trailer.successCount} but ${successes.length} lines have code ${SUCCESS_CODE}`,
    );
  if (trailer.successTotalFen !== successSum)
    throw new BankFileError(
      trailerLine,
      `trailer successTotal ${formatYuan(trailer.successTotalFen)} but the debited lines sum to ${formatYuan(successSum)}`,
    );
  return { bankCode, batchNo, date, count, totalFen, lines, ...trailer };
}
