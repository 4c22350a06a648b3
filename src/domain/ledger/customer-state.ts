/**
 * A customer's state in the receivables ledger, without I/O: what they owe bill by bill on a date
 * (open principal and the late fee accrued but not yet charged), the items a payment settles,
 * and their prepaid balance. Loaded by src/app/ledger/customer-state.ts, the one place that reads
 * it; every use case and query that needs "what does this customer owe" goes through both.
 */
import { type HoldRange, accruedLateFeeOnBill, lateFeeToCharge } from '../late-fee.js';
import type { LocalDate } from '../local-date.js';
import { type Fen, fen } from '../money.js';
import { lateFeeClass } from './accounts.js';
import type { OpenItem } from './allocate-payment.js';

/** What the ledger holds about a customer (loaded for many customers in one statement). */
export interface CustomerState {
  readonly bills: readonly {
    bill_id: number;
    bill_no: string;
    period: string;
    due_on: string;
    amount_fen: number;
    /** The day the bill's period was first released (a rebill keeps the first revision's day). */
    released_on: string;
  }[];
  readonly paid: readonly { bill_id: number; kind: string; amount_fen: number; business_date: string }[];
  /** Written-off principal and waived late fees (bill_credit). */
  readonly credits: readonly { bill_id: number; kind: string; amount_fen: number; effective_on: string }[];
  /** Approved policy holds with no late fee that cover the customer. */
  readonly holds: readonly HoldRange[];
  readonly prepaidFen: Fen;
  readonly dayClosed: boolean;
}

/** A released bill with what is still open on it on a date. */
export interface OpenBill {
  readonly billId: number;
  readonly billNo: string;
  readonly period: string;
  readonly dueOn: string;
  readonly amountFen: Fen;
  readonly principalPaidFen: Fen;
  /** Late fee accrued up to the date and not yet paid. */
  readonly lateFeeFen: Fen;
  readonly openPrincipalFen: Fen;
}

/**
 * What a customer owes on a date: each released bill (latest revision) with its open principal
 * and the late fee it has accrued but not yet been charged, oldest first. Bills settled in full
 * are left out.
 */
export function openBillsOf(
  state: CustomerState,
  /** The customer's category (its late-fee class is taken from it). */
  category: string,
  asOf: LocalDate,
): OpenBill[] {
  const result: OpenBill[] = [];
  const paidByBill = new Map<number, CustomerState['paid'][number][]>();
  for (const row of state.paid) {
    const list = paidByBill.get(Number(row.bill_id));
    if (list) list.push(row);
    else paidByBill.set(Number(row.bill_id), [row]);
  }
  for (const row of state.credits) {
    const asPaid = {
      bill_id: row.bill_id,
      kind: row.kind === 'write_off' ? 'principal' : 'late_fee',
      amount_fen: row.amount_fen,
      business_date: row.effective_on,
    };
    const list = paidByBill.get(Number(row.bill_id));
    if (list) list.push(asPaid);
    else paidByBill.set(Number(row.bill_id), [asPaid]);
  }
  for (const bill of state.bills) {
    // Payments and credits alike: a written-off principal stops accruing from its date, a waived
    // late fee counts as settled.
    const mine = paidByBill.get(Number(bill.bill_id)) ?? [];
    const principalPaid = mine
      .filter((row) => row.kind === 'principal')
      .reduce((sum, row) => sum + Number(row.amount_fen), 0);
    const lateFeePaid = mine
      .filter((row) => row.kind === 'late_fee')
      .reduce((sum, row) => sum + Number(row.amount_fen), 0);
    const open = Number(bill.amount_fen) - principalPaid;
    let lateFee = 0;
    if (bill.due_on < asOf) {
      const accrued = accruedLateFeeOnBill(
        {
          amountFen: fen(Number(bill.amount_fen)),
          dueDate: bill.due_on as LocalDate,
          principalPayments: mine
            .filter((row) => row.kind === 'principal')
            .map((row) => ({ date: row.business_date as LocalDate, amountFen: fen(Number(row.amount_fen)) })),
        },
        asOf,
        { category: lateFeeClass(category), holds: state.holds, interpretation: 'A' },
      );
      lateFee = lateFeeToCharge(accrued, fen(lateFeePaid), asOf);
    }
    if (open <= 0 && lateFee <= 0) continue;
    result.push({
      billId: Number(bill.bill_id),
      billNo: bill.bill_no,
      period: bill.period,
      dueOn: bill.due_on,
      amountFen: fen(Number(bill.amount_fen)),
      principalPaidFen: fen(principalPaid),
      lateFeeFen: fen(Math.max(0, lateFee)),
      openPrincipalFen: fen(Math.max(0, open)),
    });
  }
  return result;
}

/** The open bills as the items a payment settles: each bill's late fee and its principal. */
export function openItemsOf(bills: readonly OpenBill[]): OpenItem[] {
  const items: OpenItem[] = [];
  for (const bill of bills) {
    const base = { billId: bill.billId, period: bill.period, dueOn: bill.dueOn };
    if (bill.lateFeeFen > 0) items.push({ ...base, kind: 'late_fee', openFen: bill.lateFeeFen });
    if (bill.openPrincipalFen > 0) items.push({ ...base, kind: 'principal', openFen: bill.openPrincipalFen });
  }
  return items;
}

/** What the open bills add up to: open principal plus late fee (a customer's total due). */
export function owedFen(bills: readonly OpenBill[]): Fen {
  return fen(bills.reduce((sum, bill) => sum + bill.openPrincipalFen + bill.lateFeeFen, 0));
}

/** The state as the books stood on a date: later payments and credits are left out. */
export function stateAsOf(state: CustomerState, asOf: LocalDate): CustomerState {
  return {
    ...state,
    paid: state.paid.filter((row) => row.business_date <= asOf),
    credits: state.credits.filter((row) => row.effective_on <= asOf),
  };
}
