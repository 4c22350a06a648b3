import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, localDate } from './local-date.js';
import {
  LateFeeInputError,
  accruedLateFeeOnBill,
  computeLateFee,
  lateFeeOutput,
  lateFeeToCharge,
  parseLateFeeInput,
} from './late-fee.js';
import { fen } from './money.js';

const calc = (input: unknown) => lateFeeOutput(computeLateFee(parseLateFeeInput(input)));

describe('calc late-fee', () => {
  it('counts days from the day after the due date to asOf inclusive (due 15th, paid 18th → 3 days)', () => {
    expect(
      calc({
        category: 'residential',
        asOf: '2026-03-18',
        items: [{ amount: '1000.00', dueDate: '2026-03-15' }],
      }),
    ).toMatchObject({
      items: [{ days: 3, fee: '3.00' }],
      fee: '3.00',
    });
  });

  it('charges residential 1‰ a day and subtracts hold days', () => {
    expect(
      calc({
        category: 'residential',
        asOf: '2026-03-01',
        items: [{ amount: '100.00', dueDate: '2026-01-15' }],
      }).items,
    ).toEqual([{ days: 45, fee: '4.50' }]);
    const held = calc({
      category: 'residential',
      asOf: '2026-03-01',
      items: [{ amount: '100.00', dueDate: '2026-01-15' }],
      holds: [{ from: '2026-02-01', to: '2026-02-10' }],
    });
    expect(held.items).toEqual([{ days: 35, fee: '3.50' }]);
    expect(held.fee).toBe('3.50');
  });

  it('charges others 2‰ in the year the bill fell due and 3‰ after the year end (interpretation A)', () => {
    // December bill due 2025-12-20 paid 2026-01-10: 11 days at 2‰, 10 days at 3‰.
    const out = calc({
      category: 'other',
      asOf: '2026-01-10',
      items: [{ amount: '10000.00', dueDate: '2025-12-20' }],
    });
    expect(out.items).toEqual([{ days: 21, fee: '520.00' }]);
    expect(out.interpretation).toBe('A');
    const b = calc({
      category: 'other',
      asOf: '2026-01-10',
      items: [{ amount: '10000.00', dueDate: '2025-12-20' }],
      interpretation: 'B',
    });
    expect(b.items).toEqual([{ days: 21, fee: '630.00' }]);
  });

  it('applies the 1-yuan minimum to the total, not to each item', () => {
    const out = calc({
      category: 'residential',
      asOf: '2026-03-05',
      items: [
        { amount: '50.00', dueDate: '2026-03-01' },
        { amount: '30.00', dueDate: '2026-03-03' },
      ],
    });
    expect(out.items).toEqual([
      { days: 4, fee: '0.20' },
      { days: 2, fee: '0.06' },
    ]);
    expect(out.fee).toBe('1.00');
    expect(out.minimumApplied).toBe(true);
  });

  it('charges nothing before or on the due date', () => {
    expect(
      calc({ category: 'other', asOf: '2026-03-15', items: [{ amount: '100.00', dueDate: '2026-03-15' }] }),
    ).toMatchObject({
      items: [{ days: 0, fee: '0.00' }],
      fee: '0.00',
      minimumApplied: false,
    });
  });

  it.each([
    [{ category: 'x', asOf: '2026-01-01', items: [] }, /^category:/],
    [{ category: 'other', asOf: '2026-02-30', items: [{ amount: '1.00', dueDate: '2026-01-01' }] }, /^asOf:/],
    [{ category: 'other', asOf: '2026-02-01', items: [] }, /^items:/],
    [
      { category: 'other', asOf: '2026-02-01', items: [{ amount: '1.001', dueDate: '2026-01-01' }] },
      /^items\[0\]\.amount:/,
    ],
    [
      { category: 'other', asOf: '2026-02-01', items: [{ amount: 100, dueDate: '2026-01-01' }] },
      /^items\[0\]\.amount:/,
    ],
    [
      { category: 'other', asOf: '2026-02-01', items: [{ amount: '1.00', dueDate: '1/1/2026' }] },
      /^items\[0\]\.dueDate:/,
    ],
    [
      {
        category: 'other',
        asOf: '2026-02-01',
        items: [{ amount: '1.00', dueDate: '2026-01-01' }],
        holds: [{ from: '2026-01-05', to: '2026-01-01' }],
      },
      /^holds\[0\]\.to:/,
    ],
  ])('refuses bad input naming the field (%#)', (input, message) => {
    expect(() => calc(input)).toThrow(LateFeeInputError);
    expect(() => calc(input)).toThrow(message);
  });

  it('never decreases when payment comes later, and equals the sum over any split of the principal', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_00 }),
        fc.integer({ min: 1, max: 10_000_00 }),
        fc.integer({ min: 0, max: 800 }),
        fc.integer({ min: 0, max: 60 }),
        fc.constantFrom('residential', 'other'),
        (a, b, overdue, extra, category) => {
          const dueDate = localDate(2025, 11, 20);
          const asOf = addDays(dueDate, overdue);
          const yuan = (fen: number) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
          const whole = computeLateFee(
            parseLateFeeInput({ category, asOf, items: [{ amount: yuan(a + b), dueDate }] }),
          );
          const later = computeLateFee(
            parseLateFeeInput({
              category,
              asOf: addDays(asOf, extra),
              items: [{ amount: yuan(a + b), dueDate }],
            }),
          );
          expect(later.items[0]!.feeFen).toBeGreaterThanOrEqual(whole.items[0]!.feeFen);
          const split = computeLateFee(
            parseLateFeeInput({
              category,
              asOf,
              items: [
                { amount: yuan(a), dueDate },
                { amount: yuan(b), dueDate },
              ],
            }),
          );
          // Each item rounds to the fen, so a split differs from the whole by at most 1 fen per item.
          expect(
            Math.abs(split.items[0]!.feeFen + split.items[1]!.feeFen - whole.items[0]!.feeFen),
          ).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});

describe('late fee on a bill paid in parts', () => {
  const options = { category: 'residential' as const, holds: [], interpretation: 'A' as const };
  const dueDate = localDate(2026, 1, 15);

  it('accrues on the whole principal until a part is paid, then on the rest', () => {
    // 100.00 due 15 Jan; 60.00 paid 25 Jan (10 days); the rest 40.00 to 14 Feb (30 days).
    const accrued = accruedLateFeeOnBill(
      {
        amountFen: fen(10000),
        dueDate,
        principalPayments: [{ date: localDate(2026, 1, 25), amountFen: fen(6000) }],
      },
      localDate(2026, 2, 14),
      options,
    );
    expect(accrued).toBe(60 + 120);
  });

  it('equals the plain computation when nothing was paid', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 0, max: 600 }),
        (amount, days) => {
          const asOf = addDays(dueDate, days);
          const plain = computeLateFee({ ...options, asOf, items: [{ amountFen: fen(amount), dueDate }] })
            .items[0]!.feeFen;
          expect(
            accruedLateFeeOnBill({ amountFen: fen(amount), dueDate, principalPayments: [] }, asOf, options),
          ).toBe(plain);
        },
      ),
    );
  });

  it('never charges more for paying a part earlier', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 1_000_000 }),
        fc.integer({ min: 1, max: 99 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 200 }),
        (amount, percent, earlyDay, delay) => {
          const part = fen(Math.floor((amount * percent) / 100));
          const asOf = addDays(dueDate, 400);
          const early = accruedLateFeeOnBill(
            {
              amountFen: fen(amount),
              dueDate,
              principalPayments: [{ date: addDays(dueDate, earlyDay), amountFen: part }],
            },
            asOf,
            options,
          );
          const late = accruedLateFeeOnBill(
            {
              amountFen: fen(amount),
              dueDate,
              principalPayments: [{ date: addDays(dueDate, earlyDay + delay), amountFen: part }],
            },
            asOf,
            options,
          );
          expect(early).toBeLessThanOrEqual(late + 1);
        },
      ),
    );
  });

  it('charges what has not been charged yet, with the minimum only on a first charge', () => {
    expect(lateFeeToCharge(fen(30), fen(0), localDate(2026, 3, 1))).toBe(100);
    expect(lateFeeToCharge(fen(130), fen(100), localDate(2026, 3, 1))).toBe(30);
    expect(lateFeeToCharge(fen(90), fen(100), localDate(2026, 3, 1))).toBe(0);
  });
});
