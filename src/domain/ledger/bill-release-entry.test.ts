import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fen } from '../money.js';
import { billReleaseEntry } from './bill-release-entry.js';

describe('bill release entry', () => {
  it('debits receivable and credits revenue and funds', () => {
    expect(billReleaseEntry({ billId: 20261001, amountFen: fen(15849), fundsFen: fen(543) })).toEqual({
      journalEntryId: 20261001,
      postings: [
        { account: 'customer_receivable', amountFen: 15849 },
        { account: 'energy_revenue', amountFen: -15306 },
        { account: 'funds_payable', amountFen: -543 },
      ],
    });
  });

  it('posts nothing for a zero bill', () => {
    expect(billReleaseEntry({ billId: 1, amountFen: fen(0), fundsFen: fen(0) })).toBeNull();
  });

  it('always balances and never posts zero', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1000, max: 10_000_000 }),
        fc.integer({ min: 0, max: 20_000_000 }),
        (amount, funds) => {
          const entry = billReleaseEntry({ billId: 1, amountFen: fen(amount), fundsFen: fen(funds) });
          if (amount === 0) {
            expect(entry).toBeNull();
            return;
          }
          expect(entry!.postings.reduce((sum, posting) => sum + posting.amountFen, 0)).toBe(0);
          expect(entry!.postings.every((posting) => posting.amountFen !== 0)).toBe(true);
        },
      ),
    );
  });
});
