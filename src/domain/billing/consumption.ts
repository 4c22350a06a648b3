import { Decimal } from '../decimal.js';
import { remember } from '../remember.js';

export const REGISTERS = ['total', 'sharp', 'peak', 'flat', 'valley', 'reactive'] as const;
export type Register = (typeof REGISTERS)[number];
export type RegisterValues = Readonly<Partial<Record<Register, Decimal>>>;

/** One meter's contribution to a period: from its opening to its closing values. */
export interface MeterSpan {
  readonly meterNo: string;
  readonly multiplier: number;
  /** Integer digits of the registers: values wrap at 10^digits. */
  readonly digits: number;
  readonly opening: RegisterValues;
  readonly closing: RegisterValues;
}

export interface Consumption {
  /** kWh (or kvarh for reactive) per register after multipliers. */
  readonly byRegister: Readonly<Partial<Record<Register, Decimal>>>;
  readonly rolledOver: readonly string[];
  /** Registers whose closing value is below the opening one and not explained by a rollover. */
  readonly belowPrevious: readonly string[];
}

/**
 * Register differences × multiplier, summed over the meters of the period (a meter change gives
 * two spans: the old meter to its final read, the new one from its initial read). A closing
 * value below the opening one is a rollover when wrapping past 10^digits gives a plausible
 * advance (below `rolloverMaxFraction` of the register's range); otherwise it is reported.
 */
export function computeConsumption(spans: readonly MeterSpan[], rolloverMaxFraction: Decimal): Consumption {
  const byRegister: Partial<Record<Register, Decimal>> = {};
  const rolledOver: string[] = [];
  const belowPrevious: string[] = [];
  for (const span of spans) {
    const range = registerRange(span.digits);
    for (const register of REGISTERS) {
      const opening = span.opening[register];
      const closing = span.closing[register];
      if (opening === undefined || closing === undefined) continue;
      let delta = closing.minus(opening);
      if (delta.isNegative()) {
        const wrapped = delta.plus(range);
        if (wrapped.lessThan(range.times(rolloverMaxFraction))) {
          delta = wrapped;
          rolledOver.push(`${span.meterNo}.${register}`);
        } else {
          belowPrevious.push(`${span.meterNo}.${register}`);
          continue;
        }
      }
      byRegister[register] = (byRegister[register] ?? new Decimal(0)).plus(delta.times(span.multiplier));
    }
  }
  return { byRegister, rolledOver, belowPrevious };
}

const ranges = new Map<number, Decimal>();

/** 10^digits: the value at which a register of that many integer digits wraps. */
function registerRange(digits: number): Decimal {
  return remember(ranges, digits, () => new Decimal(10).pow(digits));
}
