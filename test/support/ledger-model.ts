/**
 * An independent model of the receivables rules (docs/DOMAIN.md §1, §5.1), written from the rules and
 * not from the application's code: bills, payments with their allocations, late fees accrued day
 * by day, prepaid money applied at release or refunded oldest payment first, waivers, write-offs
 * and reversals. The ledger simulation asks it what every balance should be and compares.
 */

export type Category = 'residential' | 'other';

export interface ModelBill {
  readonly billId: number;
  readonly period: string;
  readonly dueOn: string;
  readonly amount: number;
  /** Principal reductions: one per allocation row or write-off, with its date and owner. */
  readonly pieces: { date: string; amount: number; owner: string }[];
  lateFeePaid: number;
  waived: number;
  writtenOff: number;
}

export interface ModelAllocation {
  readonly billId: number | null;
  readonly kind: 'principal' | 'late_fee' | 'prepaid';
  readonly amount: number;
}

export interface ModelPayment {
  readonly key: string;
  /** The application's payment id (prepaid money is used oldest payment first). */
  paymentId: number;
  readonly amount: number;
  readonly date: string;
  /** Allocations made at posting and later from its prepaid part (bill settlements only). */
  readonly settled: { billId: number; kind: 'principal' | 'late_fee'; amount: number }[];
  prepaidLeft: number;
  refunded: number;
  reversed: boolean;
}

export interface ModelCustomer {
  readonly customerId: number;
  readonly customerNo: string;
  readonly category: Category;
  readonly stationId: number;
  readonly bills: ModelBill[];
  readonly payments: ModelPayment[];
  readonly holds: { from: string; to: string }[];
}

const DAY_MS = 86_400_000;
const dayOf = (date: string) =>
  Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10)) / DAY_MS;
const dateOf = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** 违约金 on one slice of principal from the day after due to `until`, in fen (half-up). */
function sliceFee(customer: ModelCustomer, bill: ModelBill, amount: number, until: string): number {
  let permille = 0;
  const dueYear = +bill.dueOn.slice(0, 4);
  for (let day = dayOf(bill.dueOn) + 1; day <= dayOf(until); day++) {
    const date = dateOf(day);
    if (customer.holds.some((hold) => hold.from <= date && date <= hold.to)) continue;
    if (customer.category === 'residential') permille += 1;
    else permille += +date.slice(0, 4) > dueYear ? 3 : 2;
  }
  return Math.floor((amount * permille + 500) / 1000);
}

export function principalOpen(bill: ModelBill): number {
  return bill.amount - bill.pieces.reduce((sum, piece) => sum + piece.amount, 0);
}

/** The late fee chargeable on a bill on a day: accrued less paid and waived, minimum 1 yuan at first. */
export function chargeableLateFee(customer: ModelCustomer, bill: ModelBill, asOf: string): number {
  if (bill.dueOn >= asOf) return 0;
  let accrued = 0;
  let open = bill.amount;
  for (const piece of bill.pieces.filter((p) => p.date <= asOf)) {
    open -= piece.amount;
    accrued += sliceFee(customer, bill, piece.amount, piece.date);
  }
  if (open > 0) accrued += sliceFee(customer, bill, open, asOf);
  const settled = bill.lateFeePaid + bill.waived;
  const due = Math.max(0, accrued - settled);
  if (due === 0) return 0;
  return settled === 0 && due < 100 ? 100 : due;
}

interface Item {
  bill: ModelBill;
  kind: 'principal' | 'late_fee';
  open: number;
}

/** Open items in settlement order: every late fee (oldest due first), then principal. */
export function openItems(customer: ModelCustomer, asOf: string): Item[] {
  const items: Item[] = [];
  for (const bill of customer.bills) {
    const fee = chargeableLateFee(customer, bill, asOf);
    if (fee > 0) items.push({ bill, kind: 'late_fee', open: fee });
    const open = principalOpen(bill);
    if (open > 0) items.push({ bill, kind: 'principal', open });
  }
  const key = (item: Item) =>
    [item.kind === 'late_fee' ? 0 : 1, item.bill.dueOn, item.bill.period, item.bill.billId] as const;
  return items.sort((x, y) => {
    const a = key(x);
    const b = key(y);
    for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! < b[k]! ? -1 : 1;
    return 0;
  });
}

export function totalDue(customer: ModelCustomer, asOf: string): number {
  return openItems(customer, asOf).reduce((sum, item) => sum + item.open, 0);
}

function settle(customer: ModelCustomer, amount: number, asOf: string) {
  const out: { bill: ModelBill; kind: 'principal' | 'late_fee'; amount: number }[] = [];
  let left = amount;
  for (const item of openItems(customer, asOf)) {
    if (left === 0) break;
    const take = Math.min(left, item.open);
    out.push({ bill: item.bill, kind: item.kind, amount: take });
    left -= take;
  }
  return { out, left };
}

/** Posts a payment in the model; returns the allocations it should get. */
export function pay(
  customer: ModelCustomer,
  payment: { key: string; paymentId: number; amount: number; date: string },
): ModelAllocation[] {
  const { out, left } = settle(customer, payment.amount, payment.date);
  const record: ModelPayment = { ...payment, settled: [], prepaidLeft: left, refunded: 0, reversed: false };
  for (const part of out) {
    if (part.kind === 'principal')
      part.bill.pieces.push({ date: payment.date, amount: part.amount, owner: payment.key });
    else part.bill.lateFeePaid += part.amount;
    record.settled.push({ billId: part.bill.billId, kind: part.kind, amount: part.amount });
  }
  customer.payments.push(record);
  return [
    ...out.map((part) => ({ billId: part.bill.billId, kind: part.kind, amount: part.amount })),
    ...(left > 0 ? [{ billId: null, kind: 'prepaid' as const, amount: left }] : []),
  ];
}

export function prepaidBalance(customer: ModelCustomer): number {
  return customer.payments.reduce((sum, payment) => sum + payment.prepaidLeft, 0);
}

function byPaymentId(customer: ModelCustomer) {
  return [...customer.payments].filter((p) => p.prepaidLeft > 0).sort((a, b) => a.paymentId - b.paymentId);
}

/** Prepaid money applied to what is open on a release day, oldest payment's money first. */
export function applyPrepaid(customer: ModelCustomer, on: string): number {
  const balance = prepaidBalance(customer);
  if (balance === 0) return 0;
  const { out } = settle(customer, balance, on);
  let applied = 0;
  for (const part of out) {
    let need = part.amount;
    for (const source of byPaymentId(customer)) {
      if (need === 0) break;
      const take = Math.min(need, source.prepaidLeft);
      source.prepaidLeft -= take;
      need -= take;
      applied += take;
      if (part.kind === 'principal') part.bill.pieces.push({ date: on, amount: take, owner: source.key });
      else part.bill.lateFeePaid += take;
      source.settled.push({ billId: part.bill.billId, kind: part.kind, amount: take });
    }
  }
  return applied;
}

/** Undoes everything a payment settles now; refused (false) when part of it was refunded. */
export function reverse(customer: ModelCustomer, key: string): boolean {
  const payment = customer.payments.find((p) => p.key === key)!;
  if (payment.reversed || payment.refunded > 0) return false;
  for (const part of payment.settled) {
    const bill = customer.bills.find((b) => b.billId === part.billId)!;
    if (part.kind === 'late_fee') bill.lateFeePaid -= part.amount;
  }
  for (const bill of customer.bills) {
    for (let k = bill.pieces.length - 1; k >= 0; k--)
      if (bill.pieces[k]!.owner === key) bill.pieces.splice(k, 1);
  }
  payment.prepaidLeft = 0;
  payment.reversed = true;
  return true;
}

export function refundAll(customer: ModelCustomer): number {
  let total = 0;
  for (const source of byPaymentId(customer)) {
    total += source.prepaidLeft;
    source.refunded += source.prepaidLeft;
    source.prepaidLeft = 0;
  }
  return total;
}

export function waive(customer: ModelCustomer, bill: ModelBill, asOf: string): number {
  const fee = chargeableLateFee(customer, bill, asOf);
  bill.waived += fee;
  return fee;
}

export function writeOff(customer: ModelCustomer, bill: ModelBill, asOf: string): number {
  const fee = chargeableLateFee(customer, bill, asOf);
  const open = principalOpen(bill);
  bill.waived += fee;
  bill.writtenOff += open;
  bill.pieces.push({ date: asOf, amount: open, owner: `write-off:${bill.billId}` });
  return open;
}

/** What the journal should say for a customer (debits positive, credits negative). */
export function expectedBalances(customer: ModelCustomer) {
  const live = customer.payments.filter((p) => !p.reversed);
  return {
    customer_receivable: customer.bills.reduce((sum, bill) => sum + principalOpen(bill), 0),
    customer_prepaid: 0 - prepaidBalance(customer),
    late_fee_revenue:
      0 -
      live.reduce(
        (sum, p) => sum + p.settled.filter((s) => s.kind === 'late_fee').reduce((t, s) => t + s.amount, 0),
        0,
      ),
    write_off_expense: customer.bills.reduce((sum, bill) => sum + bill.writtenOff, 0),
  };
}
