import type { Clock } from '../../app/ports.js';
import { type LocalDate, parseLocalDate } from '../../domain/local-date.js';

/** The real clock; "today" is computed in the utility's configured zone by Intl, not by hand. */
export function systemClock(timeZone: string): Clock {
  const format = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  return {
    now: () => new Date(),
    today: () => localDateIn(format, new Date()),
    dateOf: (at) => localDateIn(format, at),
  };
}

/** A clock standing at one instant (tests, replays). */
export function fixedClock(at: Date, timeZone: string): Clock {
  const format = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  return {
    now: () => new Date(at),
    today: () => localDateIn(format, at),
    dateOf: (when) => localDateIn(format, when),
  };
}

function localDateIn(format: Intl.DateTimeFormat, at: Date): LocalDate {
  const text = format.format(at);
  const date = parseLocalDate(text);
  if (!date) throw new Error(`unexpected date format from Intl: ${text}`);
  return date;
}
