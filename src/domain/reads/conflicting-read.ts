import { REGISTERS, type Register } from '../billing/consumption.js';
import { Decimal } from '../decimal.js';

/**
 * A read that disagrees with the read already accepted for its meter and period waits for a
 * billing checker under a holding exception. Its code is `conflicting_read` for the first such
 * conflict of a customer's period and `conflicting_read-2`, `-3` … for later ones (each decision
 * is kept, append-only).
 */
export const CONFLICTING_READ = 'conflicting_read';

export type ConflictCode = typeof CONFLICTING_READ | `${typeof CONFLICTING_READ}-${number}`;

/** The code of the n-th conflict (1-based) of a customer's period. */
export function conflictCode(round: number): ConflictCode {
  return round <= 1 ? CONFLICTING_READ : `${CONFLICTING_READ}-${round}`;
}

export function isConflictCode(code: string): code is ConflictCode {
  return /^conflicting_read(-[1-9][0-9]*)?$/.test(code);
}

type Values = Readonly<Partial<Record<Register | 'demand', string | null>>>;

/**
 * The registers (and demand) where an incoming read disagrees with the accepted one, compared as
 * numbers ("12.5" equals "12.50"); a register only one of them has is no disagreement.
 */
export function disagreements(
  accepted: Values,
  incoming: Values,
): { readonly old: Record<string, string>; readonly new: Record<string, string> } {
  const old: Record<string, string> = {};
  const next: Record<string, string> = {};
  for (const register of [...REGISTERS, 'demand'] as const) {
    const a = accepted[register];
    const b = incoming[register];
    if (a === null || a === undefined || b === null || b === undefined) continue;
    if (new Decimal(a).comparedTo(new Decimal(b)) !== 0) {
      old[register] = a;
      next[register] = b;
    }
  }
  return { old, new: next };
}
