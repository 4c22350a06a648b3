import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fen } from '../money.js';
import { type OpenItem, allocatePayment } from './allocate-payment.js';

const bill = (billId: number, period: string, principal: number, lateFee = 0): OpenItem[] => [
  { billId, period, dueOn: `${period}-28`, kind: 'principal', openFen: fen(principal) },
  ...(lateFee
    ? [{ billId, period, dueOn: `${period}-28`, kind: 'late_fee' as const, openFen: fen(lateFee) }]
    : []),
];

describe('allocating a payment', () => {
  it('settles late fees first, then the oldest principal, and keeps the rest as prepaid', () => {
    const items = [...bill(2, '2026-10', 10000), ...bill(1, '2026-09', 5000, 120)];
    expect(allocatePayment(items, fen(20000))).toEqual({
      allocations: [
        { billId: 1, kind: 'late_fee', amountFen: 120 },
        { billId: 1, kind: 'principal', amountFen: 5000 },
        { billId: 2, kind: 'principal', amountFen: 10000 },
      ],
      prepaidFen: 4880,
    });
  });

  it('takes a partial payment as far as it goes', () => {
    const items = [...bill(2, '2026-10', 10000, 50), ...bill(1, '2026-09', 5000, 120)];
    expect(allocatePayment(items, fen(3000)).allocations).toEqual([
      { billId: 1, kind: 'late_fee', amountFen: 120 },
      { billId: 2, kind: 'late_fee', amountFen: 50 },
      { billId: 1, kind: 'principal', amountFen: 2830 },
    ]);
    expect(allocatePayment(items, fen(3000), 'bill_by_bill').allocations).toEqual([
      { billId: 1, kind: 'late_fee', amountFen: 120 },
      { billId: 1, kind: 'principal', amountFen: 2880 },
    ]);
  });

  const itemsArbitrary = fc
    .array(
      fc.record({
        principal: fc.integer({ min: 1, max: 1_000_000 }),
        lateFee: fc.integer({ min: 0, max: 10_000 }),
        month: fc.integer({ min: 1, max: 12 }),
      }),
      { maxLength: 12 },
    )
    .map((bills) =>
      bills.flatMap((b, k) =>
        bill(k + 1, `2026-${String(b.month).padStart(2, '0')}`, b.principal, b.lateFee),
      ),
    );

  it('sums to the payment, never exceeds an open item, and does not depend on load order', () => {
    fc.assert(
      fc.property(
        itemsArbitrary,
        fc.integer({ min: 1, max: 20_000_000 }),
        fc.constantFrom('late_fees_first' as const, 'bill_by_bill' as const),
        (items, payment, order) => {
          const result = allocatePayment(items, fen(payment), order);
          const allocated = result.allocations.reduce((sum, a) => sum + a.amountFen, 0);
          expect(allocated + result.prepaidFen).toBe(payment);
          expect(result.prepaidFen).toBeGreaterThanOrEqual(0);
          for (const allocation of result.allocations) {
            const item = items.find((i) => i.billId === allocation.billId && i.kind === allocation.kind)!;
            expect(allocation.amountFen).toBeLessThanOrEqual(item.openFen);
            expect(allocation.amountFen).toBeGreaterThan(0);
          }
          const reversed = allocatePayment([...items].reverse(), fen(payment), order);
          expect(reversed).toEqual(result);
        },
      ),
    );
  });

  it('refuses a payment that is not a positive number of fen', () => {
    expect(() => allocatePayment([], fen(0))).toThrow(RangeError);
  });
});
