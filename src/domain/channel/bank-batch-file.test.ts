import { describe, expect, it } from 'vitest';
import { fen } from '../money.js';
import { BankFileError, formatRequestFile, formatResultFile, parseResultFile } from './bank-batch-file.js';

const result = (lines: { seq: number; amount: number; code: string }[]) =>
  formatResultFile({
    bankCode: 'ICBC',
    batchNo: '0001',
    date: '20261127',
    lines: lines.map((l) => ({
      seq: l.seq,
      customerNo: `01000${l.seq}`,
      amountFen: fen(l.amount),
      code: l.code,
      bankTxnId: l.code === '0000' ? `B${l.seq}` : '',
      message: l.code === '0000' ? '成功' : '余额不足',
    })),
  });

function rejection(text: string): string {
  try {
    parseResultFile(text);
  } catch (error) {
    if (error instanceof BankFileError) return error.message;
    throw error;
  }
  return 'accepted';
}

describe('bank batch files', () => {
  it('writes the request file of the contract', () => {
    expect(
      formatRequestFile({
        bankCode: 'ABC',
        batchNo: '20261127001',
        date: '20261127',
        lines: [
          {
            seq: 1,
            customerNo: '0100000001',
            accountNo: '6228480001',
            accountName: '张三',
            amountFen: fen(12345),
          },
          {
            seq: 2,
            customerNo: '0100000002',
            accountNo: '6228480002',
            accountName: '李四',
            amountFen: fen(5),
          },
        ],
      }),
    ).toBe(
      'H|ABC|20261127001|20261127|2|123.50\nD|1|0100000001|6228480001|张三|123.45\nD|2|0100000002|6228480002|李四|0.05\nT|2|123.50\n',
    );
  });

  it('reads a result file with CRLF line ends and checks it against itself', () => {
    const text = result([
      { seq: 1, amount: 100, code: '0000' },
      { seq: 2, amount: 250, code: '3001' },
    ]).replaceAll('\n', '\r\n');
    const parsed = parseResultFile(text);
    expect(parsed.lines.map((l) => [l.seq, l.code, l.amountFen])).toEqual([
      [1, '0000', 100],
      [2, '3001', 250],
    ]);
    expect([parsed.count, parsed.totalFen, parsed.successCount, parsed.successTotalFen]).toEqual([
      2, 350, 1, 100,
    ]);
  });

  it('rejects wrong totals, counts, truncation and repeated sequence numbers, naming the line', () => {
    const good = result([
      { seq: 1, amount: 100, code: '0000' },
      { seq: 2, amount: 250, code: '3001' },
    ]);
    expect(rejection(good.replace('|2|3.50', '|2|3.51'))).toBe(
      'line 1: header total 3.51 but the detail lines sum to 3.50',
    );
    expect(rejection(good.replace('|2|3.50', '|3|3.50'))).toBe(
      'line 1: header count 3 but the file has 2 detail lines',
    );
    expect(rejection(good.replace('T|1|1.00', 'T|2|1.00'))).toMatch(/^line 4: trailer successCount 2/);
    expect(rejection(good.replace('T|1|1.00', 'T|1|2.00'))).toMatch(/^line 4: trailer successTotal 2.00/);
    expect(rejection(good.split('\n').slice(0, 3).join('\n'))).toBe(
      'line 3: the file has no trailer (T line): truncated?',
    );
    expect(rejection(good.replace('D|2|', 'D|1|'))).toBe('line 3: seq 1 repeats line 2');
    expect(rejection(good.replace('|2.50|', '|2.5|'))).toBe(
      'line 3: amount "2.5" is not yuan with 2 decimals',
    );
    expect(rejection('')).toBe('the file is empty');
    expect(rejection(`${good}D|3|x|1.00|0000|B|ok\n`)).toBe('line 5: nothing may follow the trailer');
  });
});
