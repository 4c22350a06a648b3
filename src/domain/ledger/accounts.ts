import type { Fen } from '../money.js';

/** The ledger's account codes (ledger_account rows); every posting names one. */
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

/** Every journal entry balances: a programmer error otherwise, so it crashes. */
export function assertBalanced(postings: readonly Posting[]): void {
  const sum = postings.reduce((total, posting) => total + posting.amountFen, 0);
  if (sum !== 0) throw new Error(`journal entry does not balance: ${sum} fen`);
  if (postings.some((posting) => posting.amountFen === 0))
    throw new Error('journal entry has a zero posting');
}

/**
 * The late-fee class of a customer category: residential customers accrue at the residential
 * rate, every other category at the other one (see late-fee.ts).
 */
export type LateFeeClass = 'residential' | 'other';

export function lateFeeClass(category: string): LateFeeClass {
  return category === 'residential' ? 'residential' : 'other';
}
