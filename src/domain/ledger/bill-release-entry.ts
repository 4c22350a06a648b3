import { type Fen, fen } from '../money.js';

export type LedgerAccountCode =
  | 'customer_receivable'
  | 'late_fee_receivable'
  | 'customer_prepaid'
  | 'customer_deposit'
  | 'energy_revenue'
  | 'funds_payable'
  | 'late_fee_revenue'
  | 'collector_cash'
  | 'counter_cash'
  | 'channel_clearing'
  | 'bank'
  | 'write_off_expense'
  | 'channel_fee_expense'
  | 'refunds_payable';

/** A posting: debits positive, credits negative. */
export interface Posting {
  readonly account: LedgerAccountCode;
  readonly amountFen: Fen;
}

export interface JournalEntryDraft {
  readonly journalEntryId: number;
  readonly postings: readonly Posting[];
}

/** Every journal entry balances: a programmer error otherwise, so it crashes. */
export function assertBalanced(postings: readonly Posting[]): void {
  const sum = postings.reduce((total, posting) => total + posting.amountFen, 0);
  if (sum !== 0) throw new Error(`journal entry does not balance: ${sum} fen`);
  if (postings.some((posting) => posting.amountFen === 0))
    throw new Error('journal entry has a zero posting');
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
