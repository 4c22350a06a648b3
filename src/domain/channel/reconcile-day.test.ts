import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fen } from '../money.js';
import { type ChannelLine, type UtilityRecord, reconcileDay } from './reconcile-day.js';

const DAY = '2026-11-26';
const line = (txnId: string, amount: number, status: 'posted' | 'reversed' = 'posted'): ChannelLine => ({
  txnId,
  customerNo: `C${txnId}`,
  amountFen: fen(amount),
  status,
});
const record = (l: ChannelLine, businessDate = DAY): UtilityRecord => ({
  ...l,
  receiptNo: `R-${l.txnId}`,
  businessDate,
});

describe('reconcileDay', () => {
  it('matches identical lines and totals the posted ones', () => {
    const lines = [line('a', 100), line('b', 250), line('c', 70, 'reversed')];
    const result = reconcileDay(
      DAY,
      lines,
      lines.map((l) => record(l)),
    );
    expect(result).toEqual({ matched: 3, matchedTotalFen: 350, discrepancies: [] });
  });

  it('names each kind of discrepancy once, by txnId', () => {
    const result = reconcileDay(
      DAY,
      [line('only-channel', 100), line('amount', 200), line('status', 300, 'reversed'), line('other-day', 5)],
      [
        record(line('only-utility', 400)),
        record(line('amount', 201)),
        record(line('status', 300)),
        record(line('other-day', 5), '2026-11-25'),
        record(line('reversed-unlisted', 9, 'reversed')),
      ],
    );
    expect(result.matched).toBe(0);
    expect(result.discrepancies.map((d) => [d.txnId, d.kind])).toEqual([
      ['amount', 'amount_mismatch'],
      ['only-channel', 'missing_at_utility'],
      ['only-utility', 'missing_at_channel'],
      ['other-day', 'missing_at_utility'],
      ['status', 'status_mismatch'],
    ]);
  });

  it('treats another customer under the same txnId as a mismatch', () => {
    const result = reconcileDay(DAY, [line('x', 100)], [{ ...record(line('x', 100)), customerNo: 'other' }]);
    expect(result.discrepancies.map((d) => d.kind)).toEqual(['amount_mismatch']);
  });

  it('accounts for every line: matched + discrepancies on the channel side = lines (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            txnId: fc.string({ minLength: 1, maxLength: 4 }),
            amount: fc.integer({ min: 1, max: 999 }),
          }),
          {
            selector: (x) => x.txnId,
            maxLength: 30,
          },
        ),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 30, maxLength: 30 }),
        (txns, fates) => {
          const lines: ChannelLine[] = [];
          const records: UtilityRecord[] = [];
          txns.forEach((txn, k) => {
            const l = line(txn.txnId, txn.amount);
            const fate = fates[k]!;
            if (fate !== 1) lines.push(l);
            if (fate !== 2) records.push(record(fate === 3 ? { ...l, amountFen: fen(l.amountFen + 1) } : l));
          });
          const result = reconcileDay(DAY, lines, records);
          const channelSide = result.discrepancies.filter((d) => d.channel !== null).length;
          expect(result.matched + channelSide).toBe(lines.length);
          const clean = txns.filter((_, k) => fates[k] === 0);
          expect(result.matched).toBe(clean.length);
          expect(result.matchedTotalFen).toBe(clean.reduce((sum, t) => sum + t.amount, 0));
        },
      ),
    );
  });
});
