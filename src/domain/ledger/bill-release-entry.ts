import { fen, type Fen } from '../money.js';
import { type Posting, assertBalanced } from './accounts.js';

export interface JournalEntryDraft {
  readonly journalEntryId: number;
  readonly postings: readonly Posting[];
}

/**
 * Releasing a bill makes it receivable: debit the customer's receivable with the total, credit
 * energy revenue with the total less government funds, credit funds payable with the funds.
 * The entry id is the bill id (release entries own that id range). A zero bill posts nothing.
 */
export function billReleaseEntry(bill: {
  readonly billId: number;
  readonly amountFen: Fen;
  readonly fundsFen: Fen;
}): JournalEntryDraft | null {
  if (bill.amountFen === 0) return null;
  const funds = Math.min(Math.max(bill.fundsFen, 0), Math.max(bill.amountFen, 0));
  const postings: Posting[] = [{ account: 'customer_receivable', amountFen: bill.amountFen }];
  if (bill.amountFen - funds !== 0)
    postings.push({ account: 'energy_revenue', amountFen: fen(-(bill.amountFen - funds)) });
  if (funds !== 0) postings.push({ account: 'funds_payable', amountFen: fen(-funds) });
  assertBalanced(postings);
  return { journalEntryId: bill.billId, postings };
}
