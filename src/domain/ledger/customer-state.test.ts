import { describe, expect, it } from 'vitest';
import type { LocalDate } from '../local-date.js';
import { fen } from '../money.js';
import { type CustomerState, openBillsOf, openItemsOf, owedFen, stateAsOf } from './customer-state.js';

const day = (text: string) => text as LocalDate;

const bill = (billId: number, period: string, amountFen: number, dueOn: string) => ({
  bill_id: billId,
  bill_no: `${period}-0100000001-01`,
  period,
  due_on: dueOn,
  amount_fen: amountFen,
  released_on: `${period}-05`,
});

const state: CustomerState = {
  bills: [bill(100, '2026-01', 10000, '2026-01-20'), bill(200, '2026-02', 5000, '2026-02-20')],
  paid: [
    { bill_id: 100, kind: 'principal', amount_fen: 4000, business_date: '2026-01-10' },
    { bill_id: 200, kind: 'principal', amount_fen: 5000, business_date: '2026-02-15' },
  ],
  credits: [],
  holds: [],
  prepaidFen: fen(0),
  dayClosed: false,
};

describe('customer state', () => {
  it('owes the open principal of each bill, leaves bills paid in time out, and adds no late fee before the due date', () => {
    const bills = openBillsOf(state, 'residential', day('2026-02-18'));
    expect(bills.map((b) => [b.billId, b.openPrincipalFen, b.principalPaidFen])).toEqual([[100, 6000, 4000]]);
    expect(openBillsOf(state, 'residential', day('2026-01-15'))[0]!.lateFeeFen).toBe(0);
  });

  it('accrues a late fee after the due date, settled first, and none over an approved hold', () => {
    const [late] = openBillsOf(state, 'residential', day('2026-03-01'));
    expect(late!.lateFeeFen).toBeGreaterThan(0);
    expect(owedFen([late!])).toBe(6000 + late!.lateFeeFen);
    expect(openItemsOf([late!]).map((item) => item.kind)).toEqual(['late_fee', 'principal']);
    const held = { ...state, holds: [{ from: day('2026-01-01'), to: day('2026-12-31') }] };
    expect(openBillsOf(held, 'residential', day('2026-03-01'))[0]!.lateFeeFen).toBe(0);
  });

  it('reads the books as they stood on a date: later payments and credits are left out', () => {
    const then = stateAsOf(
      {
        ...state,
        credits: [{ bill_id: 100, kind: 'write_off', amount_fen: 6000, effective_on: '2026-03-10' }],
      },
      day('2026-01-31'),
    );
    expect(then.paid.map((row) => row.bill_id)).toEqual([100]);
    expect(then.credits).toEqual([]);
    const bills = openBillsOf(then, 'residential', day('2026-01-31'));
    expect(bills.map((b) => [b.billId, b.openPrincipalFen])).toEqual([
      [100, 6000],
      [200, 5000],
    ]);
  });
});
