import { type Fen, fen, formatYuan } from '../money.js';

export type LineStatus = 'posted' | 'reversed';

/** One line of a channel's daily reconciliation file. */
export interface ChannelLine {
  readonly txnId: string;
  readonly customerNo: string;
  readonly amountFen: Fen;
  readonly status: LineStatus;
}

/** What the utility recorded for a channel transaction. */
export interface UtilityRecord extends ChannelLine {
  readonly receiptNo: string;
  readonly businessDate: string;
}

export type DiscrepancyKind =
  | 'missing_at_utility'
  | 'missing_at_channel'
  | 'amount_mismatch'
  | 'status_mismatch';

export interface Discrepancy {
  readonly txnId: string;
  readonly kind: DiscrepancyKind;
  readonly channel: ChannelLine | null;
  readonly utility: UtilityRecord | null;
}

export interface DayReconciliation {
  readonly matched: number;
  /** Net money of the matched lines: posted amounts (a matched reversal nets to zero). */
  readonly matchedTotalFen: Fen;
  readonly discrepancies: readonly Discrepancy[];
}

/**
 * Matches a channel's lines for one business day one-to-one with the utility's records
 * (docs/DOMAIN.md §5.1). `utility` holds the day's records plus any record of a txnId the channel
 * listed, whatever its day. A txnId the utility booked on another day is missing on this day. A
 * different customer or amount is an amount mismatch. A payment the utility reversed and the
 * channel does not list nets to zero on both sides and is not a discrepancy.
 */
export function reconcileDay(
  businessDate: string,
  lines: readonly ChannelLine[],
  utility: readonly UtilityRecord[],
): DayReconciliation {
  const byTxn = new Map(utility.map((record) => [record.txnId, record]));
  const listed = new Set<string>();
  const discrepancies: Discrepancy[] = [];
  let matched = 0;
  let matchedTotal = 0;
  for (const line of lines) {
    listed.add(line.txnId);
    const record = byTxn.get(line.txnId) ?? null;
    if (!record || record.businessDate !== businessDate) {
      discrepancies.push({ txnId: line.txnId, kind: 'missing_at_utility', channel: line, utility: record });
    } else if (record.customerNo !== line.customerNo || record.amountFen !== line.amountFen) {
      discrepancies.push({ txnId: line.txnId, kind: 'amount_mismatch', channel: line, utility: record });
    } else if (record.status !== line.status) {
      discrepancies.push({ txnId: line.txnId, kind: 'status_mismatch', channel: line, utility: record });
    } else {
      matched += 1;
      if (line.status === 'posted') matchedTotal += line.amountFen;
    }
  }
  for (const record of utility) {
    if (record.businessDate !== businessDate || listed.has(record.txnId) || record.status === 'reversed')
      continue;
    discrepancies.push({ txnId: record.txnId, kind: 'missing_at_channel', channel: null, utility: record });
  }
  discrepancies.sort((a, b) => (a.txnId < b.txnId ? -1 : a.txnId > b.txnId ? 1 : 0));
  return { matched, matchedTotalFen: fen(matchedTotal), discrepancies };
}

/** A line as the contract shows it: amount as a yuan string. */
export function lineJson(line: ChannelLine | UtilityRecord | null): Record<string, string> | null {
  if (!line) return null;
  const { amountFen, ...rest } = line;
  return { ...rest, amount: formatYuan(amountFen) };
}
