import { Decimal, yuanToFenHalfUp } from '../decimal.js';
import { type Fen, fen } from '../money.js';

/** A channel's fee terms from its collection agreement (代收协议). */
export interface ChannelFeeTerms {
  readonly perTransactionFen: number;
  /** Share of the amount as an exact decimal string, e.g. "0.001". */
  readonly rate: string;
}

/**
 * The fee the channel deducts from one payment: fixed part plus the rate on the amount, rounded
 * half-up to the fen, never more than the payment itself.
 */
export function channelFee(terms: ChannelFeeTerms, amountFen: Fen): Fen {
  const rated = yuanToFenHalfUp(new Decimal(terms.rate).times(amountFen).div(100));
  return fen(Math.min(amountFen, terms.perTransactionFen + rated));
}
