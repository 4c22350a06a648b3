import { type Fen, fen } from '../money.js';

/** Something a payment can settle: a bill's unpaid principal or its unpaid late fee. */
export interface OpenItem {
  readonly billId: number;
  readonly period: string;
  readonly dueOn: string;
  readonly kind: 'late_fee' | 'principal';
  readonly openFen: Fen;
}

export interface Allocation {
  readonly billId: number;
  readonly kind: 'late_fee' | 'principal';
  readonly amountFen: Fen;
}

/**
 * The order in which open items are settled, as policy data (utilities configure it in SAP and
 * Oracle CC&B): `late_fees_first` settles every late fee, oldest first, then principal oldest
 * first (docs/DOMAIN.md §5.1); `bill_by_bill` settles each bill's late fee then its principal, oldest
 * bill first.
 */
export type AllocationOrder = 'late_fees_first' | 'bill_by_bill';

export interface AllocationResult {
  readonly allocations: readonly Allocation[];
  /** What is left becomes prepaid balance (预收). */
  readonly prepaidFen: Fen;
}

function compareItems(order: AllocationOrder) {
  const kindRank = (item: OpenItem) => (item.kind === 'late_fee' ? 0 : 1);
  return (a: OpenItem, b: OpenItem): number => {
    if (order === 'late_fees_first' && kindRank(a) !== kindRank(b)) return kindRank(a) - kindRank(b);
    if (a.dueOn !== b.dueOn) return a.dueOn < b.dueOn ? -1 : 1;
    if (a.period !== b.period) return a.period < b.period ? -1 : 1;
    if (a.billId !== b.billId) return a.billId - b.billId;
    return kindRank(a) - kindRank(b);
  };
}

/**
 * Allocates a payment over open items in the policy's order: each item gets at most what is
 * open on it, the parts sum to the payment, and the rest is prepaid. The result does not depend
 * on the order in which the items were loaded.
 */
export function allocatePayment(
  items: readonly OpenItem[],
  paymentFen: Fen,
  order: AllocationOrder = 'late_fees_first',
): AllocationResult {
  if (!Number.isSafeInteger(paymentFen) || paymentFen <= 0)
    throw new RangeError(`payment must be a positive number of fen, got ${paymentFen}`);
  let left: number = paymentFen;
  const allocations: Allocation[] = [];
  for (const item of [...items].sort(compareItems(order))) {
    if (left === 0) break;
    if (item.openFen <= 0) continue;
    const amount = Math.min(left, item.openFen);
    allocations.push({ billId: item.billId, kind: item.kind, amountFen: fen(amount) });
    left -= amount;
  }
  return { allocations, prepaidFen: fen(left) };
}
