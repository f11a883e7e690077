/**
 * Expiry policies: when a cached task result stops being served.
 *
 * Calendar arithmetic is in local time and goes through Date's local setters, so a calendar
 * "day" is 23 or 25 hours long across a daylight-saving change. `after()` and the
 * hours/minutes/seconds of `fromNow()` / `fromToday()` are elapsed time instead.
 */
import { ExpiryPolicyError } from '../errors.js';

export interface ExpiryPolicy {
  /** 'never' | 'session' | 'onComplete' | 'after' | 'fromNow' | 'fromToday' | 'atMidnight' | 'weekly' | 'monthly' | 'at' | 'custom' */
  readonly kind: string;
  /** Human text for reports and error messages, e.g. "at midnight", "weekly on Monday, Thursday". */
  readonly description: string;
  /** 'session' for session(), 'run' for onComplete(); undefined otherwise. Validity scope is enforced by the caller, not here. */
  readonly scope?: 'session' | 'run';
  /** When a result stored at `storedAt` expires; undefined = never (by time). Evaluated once, when the result is stored. */
  expiresAt(storedAt: Date): Date | undefined;
}

export type ExpiryOption = ExpiryPolicy | ((storedAt: Date) => Date | undefined);

type Unit = 'years' | 'months' | 'weeks' | 'days' | 'hours' | 'minutes' | 'seconds';
type Span = Partial<Record<Unit, number>>;
type Duration = { days?: number; hours?: number; minutes?: number; seconds?: number };
type CalendarSpan = Duration & { years?: number; months?: number; weeks?: number };

const UNIT_MS: Partial<Record<Unit, number>> = { days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1_000 };
const DURATION_UNITS: readonly Unit[] = ['days', 'hours', 'minutes', 'seconds'];
const CALENDAR_UNITS: readonly Unit[] = ['years', 'months', 'weeks', 'days', 'hours', 'minutes', 'seconds'];
const ELAPSED_UNITS: readonly Unit[] = ['hours', 'minutes', 'seconds'];
const WHOLE_UNITS: readonly Unit[] = ['years', 'months', 'weeks', 'days'];
/** Index = Date#getDay(). */
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
/** Monday first, for descriptions. */
const WEEK_ORDER = [1, 2, 3, 4, 5, 6, 0];
/** The largest span a Date can represent; anything longer is a mistake, not "practically never". */
const MAX_MS = 8.64e15;

// ---------------------------------------------------------------- helpers

function fail(message: string): never {
  throw new ExpiryPolicyError(message);
}

/** Shows a bad argument the way it would be written in code: strings quoted, NaN as NaN. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : `Date ${value.toISOString()}`;
  try {
    if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  } catch {} // circular or bigint: fall through to String()
  return String(value);
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/** "1 day", "2 hours": `unit` is the plural name. */
function count(n: number, unit: string): string {
  return `${n} ${n === 1 ? unit.slice(0, -1) : unit}`;
}

function describeSpan(span: Span): string {
  return CALENDAR_UNITS.flatMap((unit) => (span[unit] ? [count(span[unit], unit)] : [])).join(', ');
}

/** 7_200_000 -> "2 hours"; 90_500 -> "1 minute, 30 seconds, 500 milliseconds". */
function describeMs(ms: number): string {
  const parts: string[] = [];
  let rest = ms;
  for (const unit of DURATION_UNITS) {
    const size = UNIT_MS[unit] ?? 1;
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(count(n, unit));
    rest -= n * size;
  }
  rest = Math.round(rest * 1000) / 1000; // hide floating-point noise
  if (rest > 0) parts.push(count(rest, 'milliseconds'));
  return parts.join(', ');
}

/** Validates a `{ days, hours, ... }` object: known keys, finite numbers >= 0, at least one > 0. */
function readSpan(fn: string, value: unknown, units: readonly Unit[], expected: string): Span {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) {
    fail(`${fn}: got ${show(value)}; expected ${expected}`);
  }
  const span: Span = {};
  for (const [key, field] of Object.entries(value)) {
    if (!(units as readonly string[]).includes(key)) fail(`${fn}: unknown field "${key}"; valid fields are ${units.join(', ')}`);
    const unit = key as Unit;
    if (field === undefined) continue;
    if (typeof field !== 'number' || !Number.isFinite(field) || field < 0) {
      fail(`${fn}: ${unit} is ${show(field)}; expected a finite number >= 0`);
    }
    if (WHOLE_UNITS.includes(unit) && !Number.isInteger(field)) fail(`${fn}: ${unit} is ${field}; expected a whole number`);
    span[unit] = field;
  }
  if (!units.some((unit) => (span[unit] ?? 0) > 0)) {
    fail(`${fn}: ${show(value)} is an empty duration; give at least one field > 0, e.g. { ${units[0]}: 1 }`);
  }
  return span;
}

/** Sums the given units as exact milliseconds (fromNow passes only hours/minutes/seconds: its days are calendar days). */
function elapsedMs(span: Span, units: readonly Unit[]): number {
  return units.reduce((sum, unit) => sum + (span[unit] ?? 0) * (UNIT_MS[unit] ?? 0), 0);
}

/** Number of days in a month; a template at noon keeps clear of any DST gap. */
function daysInMonth(year: number, month: number): number {
  const date = new Date(2000, 0, 1, 12);
  date.setFullYear(year, month + 1, 0);
  return date.getDate();
}

/** Local midnight starting year/month/day; day may overflow (day 32 = next month). setFullYear avoids Date's 0-99 => 19xx quirk. */
function midnight(year: number, month: number, day: number): Date {
  const date = new Date(2000, 0, 1, 12);
  date.setFullYear(year, month, day);
  date.setHours(0, 0, 0, 0);
  return date;
}

/** Calendar part first (months with month-end clamping, then days at the same wall-clock time), then elapsed time. */
function addSpan(start: Date, span: Span): Date {
  const result = new Date(start.getTime());
  const months = (span.years ?? 0) * 12 + (span.months ?? 0);
  const days = (span.weeks ?? 0) * 7 + (span.days ?? 0);
  // Only touch the calendar when asked to: re-setting a wall-clock time inside the repeated
  // fall-back hour could otherwise move the instant by an hour.
  if (months > 0 || days > 0) {
    const monthIndex = result.getFullYear() * 12 + result.getMonth() + months;
    const year = Math.floor(monthIndex / 12);
    const month = monthIndex - year * 12;
    const day = Math.min(result.getDate(), daysInMonth(year, month));
    result.setFullYear(year, month, day + days);
  }
  return new Date(result.getTime() + elapsedMs(span, ELAPSED_UNITS));
}

/** Accepts both `f('a', 'b')` and `f(['a', 'b'])`. */
function listArgs(args: readonly unknown[]): readonly unknown[] {
  return args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
}

/** Builds a frozen policy whose expiresAt checks its input and what it computed. */
function policy(kind: string, description: string, compute: (storedAt: Date) => unknown, scope?: 'session' | 'run'): ExpiryPolicy {
  const who = kind === 'custom' ? 'the custom expiry function' : `expire.${kind}`;
  return Object.freeze({
    kind,
    description,
    ...(scope ? { scope } : {}),
    expiresAt(storedAt: Date): Date | undefined {
      if (!isValidDate(storedAt)) fail(`${who}: expiresAt needs a valid Date, got ${show(storedAt)}`);
      const result = compute(new Date(storedAt.getTime())); // a copy: a custom function may mutate it
      if (result === undefined || isValidDate(result)) return result;
      return fail(`${who} returned ${show(result)} for a result stored at ${storedAt.toISOString()}; expected a valid Date or undefined`);
    },
  });
}

// ---------------------------------------------------------------- policies

/**
 * Never expires by time (it may still go out of date when its inputs change).
 * @example new Task('Load', { expire: expire.never() })
 */
function never(): ExpiryPolicy {
  return policy('never', 'never', () => undefined);
}

/**
 * Valid only in the process that stored it: a later process treats it as expired.
 * @example expire.session() // scope 'session'
 */
function session(): ExpiryPolicy {
  return policy('session', 'when the process that stored it ends', () => undefined, 'session');
}

/**
 * Valid only until the run that stored it completes (shared by tasks within one run).
 * @example expire.onComplete() // scope 'run'
 */
function onComplete(): ExpiryPolicy {
  return policy('onComplete', 'when the run completes', () => undefined, 'run');
}

/**
 * Expires after an exact elapsed time; a day is 86,400,000 ms, even across a DST change.
 * @example expire.after(5_000) // 5 seconds
 * @example expire.after({ hours: 2, minutes: 30 })
 */
function after(duration: number | Duration): ExpiryPolicy {
  const fn = 'expire.after';
  let ms: number;
  let text: string;
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration) || duration <= 0) {
      fail(`${fn}: got ${show(duration)}; expected a number of milliseconds > 0 or an object like { hours: 2 }`);
    }
    [ms, text] = [duration, describeMs(duration)];
  } else {
    const span = readSpan(fn, duration, DURATION_UNITS, 'a number of milliseconds > 0 or an object like { hours: 2 }');
    [ms, text] = [elapsedMs(span, DURATION_UNITS), describeSpan(span)];
  }
  if (ms > MAX_MS) fail(`${fn}: ${show(duration)} is longer than a Date can represent; use expire.never() instead`);
  return policy('after', `${text} after it is stored`, (storedAt) => new Date(storedAt.getTime() + ms));
}

/**
 * Expires after a span counted on the local calendar from the moment it is stored: years and
 * months clamp to the month's end (Jan 31 + 1 month = Feb 28/29), weeks and days keep the
 * wall-clock time across DST, then hours/minutes/seconds are added as elapsed time.
 * @example expire.fromNow({ months: 1 }) // stored Jan 31 10:00 -> Feb 28 10:00
 * @example expire.fromNow({ days: 1, hours: 6 })
 */
function fromNow(span: CalendarSpan): ExpiryPolicy {
  const parsed = readSpan('expire.fromNow', span, CALENDAR_UNITS, 'an object like { days: 1 }');
  return policy('fromNow', `${describeSpan(parsed)} after it is stored`, (storedAt) => addSpan(storedAt, parsed));
}

/**
 * Like `fromNow`, but counted from local midnight at the start of the day it is stored.
 * Hours are elapsed time from that midnight, so `{ hours: 9 }` is 10:00 on a spring-forward day,
 * and may already be past when stored late in the day (the result is then expired at once).
 * @example expire.fromToday({ days: 1, hours: 6 }) // 06:00 tomorrow
 */
function fromToday(span: CalendarSpan): ExpiryPolicy {
  const parsed = readSpan('expire.fromToday', span, CALENDAR_UNITS, 'an object like { days: 1 }');
  return policy('fromToday', `${describeSpan(parsed)} after the start of the day it is stored`, (storedAt) =>
    addSpan(midnight(storedAt.getFullYear(), storedAt.getMonth(), storedAt.getDate()), parsed),
  );
}

/**
 * Expires at the next local midnight (the start of the following day).
 * @example expire.atMidnight() // stored 2026-03-07 23:59 -> 2026-03-08 00:00
 */
function atMidnight(): ExpiryPolicy {
  return policy('atMidnight', 'at midnight', (storedAt) =>
    midnight(storedAt.getFullYear(), storedAt.getMonth(), storedAt.getDate() + 1),
  );
}

function parseWeekday(value: unknown): number {
  const prefix = typeof value === 'string' ? value.trim().toLowerCase().slice(0, 2) : '';
  const index = prefix.length === 2 ? WEEKDAYS.findIndex((name) => name.toLowerCase().startsWith(prefix)) : -1;
  if (index < 0) {
    fail(
      `expire.weekly: ${show(value)} is not a weekday; use names like "Mon", "tuesday" ` +
        `(${WEEKDAYS.join(', ')}, matched on their first two letters)`,
    );
  }
  return index;
}

/**
 * Expires at local midnight at the start of the next listed weekday after the day it is stored
 * (stored on a listed day, it lasts until that day next week). Names match on their first two letters.
 * @example expire.weekly('Mon', 'Thu')
 * @example expire.weekly(['monday', 'thursday'])
 */
function weekly(days: readonly string[]): ExpiryPolicy;
function weekly(...days: string[]): ExpiryPolicy;
function weekly(...args: unknown[]): ExpiryPolicy {
  const list = listArgs(args);
  if (list.length === 0) fail('expire.weekly: no weekdays given; expected at least one, e.g. expire.weekly("Mon")');
  const days = new Set(list.map(parseWeekday));
  const names = WEEK_ORDER.filter((day) => days.has(day)).map((day) => WEEKDAYS[day]);
  return policy('weekly', `weekly on ${names.join(', ')}`, (storedAt) => {
    for (let ahead = 1; ; ahead++) {
      const candidate = midnight(storedAt.getFullYear(), storedAt.getMonth(), storedAt.getDate() + ahead);
      if (days.has(candidate.getDay())) return candidate; // found within 7 days: the set is not empty
    }
  });
}

/**
 * Expires at local midnight at the start of the next listed day of the month after the day it is
 * stored, skipping months that lack that day (monthly(31) stored Feb 10 -> Mar 31).
 * @example expire.monthly(1, 15)
 * @example expire.monthly([1])
 */
function monthly(days: readonly number[]): ExpiryPolicy;
function monthly(...days: number[]): ExpiryPolicy;
function monthly(...args: unknown[]): ExpiryPolicy {
  const list = listArgs(args);
  if (list.length === 0) fail('expire.monthly: no days given; expected at least one day of the month, e.g. expire.monthly(1)');
  for (const day of list) {
    if (typeof day !== 'number' || !Number.isInteger(day) || day < 1 || day > 31) {
      fail(`expire.monthly: ${show(day)} is not a day of the month; expected whole numbers from 1 to 31`);
    }
  }
  const days = [...new Set(list as number[])].sort((a, b) => a - b);
  return policy('monthly', `monthly on day ${days.join(', ')}`, (storedAt) => {
    // Every month has days 1-28 and only one month in a row can lack 29-31, so this ends by the second month.
    for (let ahead = 0; ; ahead++) {
      const first = midnight(storedAt.getFullYear(), storedAt.getMonth() + ahead, 1);
      const [year, month] = [first.getFullYear(), first.getMonth()];
      const last = daysInMonth(year, month);
      const day = days.find((d) => d <= last && (ahead > 0 || d > storedAt.getDate()));
      if (day !== undefined) return midnight(year, month, day);
    }
  });
}

/**
 * Expires at a fixed moment. A moment in the past is allowed: results are then expired at once.
 * @example expire.at('2026-12-01T00:00:00Z')
 * @example expire.at(new Date(2026, 11, 1))
 */
function at(date: Date | string | number): ExpiryPolicy {
  const moment = typeof date === 'string' || typeof date === 'number' || date instanceof Date ? new Date(date) : undefined;
  if (!isValidDate(moment)) fail(`expire.at: ${show(date)} is not a valid date; expected a Date, an ISO date string or a timestamp in ms`);
  const time = moment.getTime();
  return policy('at', `at ${moment.toISOString()}`, () => new Date(time));
}

/**
 * Ready-made expiry policies. All calendar rules use local time.
 * @example new Task('Prices', { expire: expire.atMidnight() })
 */
export const expire = Object.freeze({ never, session, onComplete, after, fromNow, fromToday, atMidnight, weekly, monthly, at });

function isPolicy(value: unknown): value is ExpiryPolicy {
  const { kind, description, expiresAt }: Partial<Record<keyof ExpiryPolicy, unknown>> = (typeof value === 'object' && value) || {};
  return typeof kind === 'string' && typeof description === 'string' && typeof expiresAt === 'function';
}

/**
 * Turns what a user passed as the `expire` option into a policy: undefined -> never(), a function ->
 * a 'custom' policy (its return value is checked on every call), a policy -> itself.
 * @example toExpiryPolicy((storedAt) => new Date(storedAt.getTime() + 60_000)).expiresAt(new Date())
 */
let defaultPolicy: ExpiryPolicy | undefined;

export function toExpiryPolicy(option: ExpiryOption | undefined): ExpiryPolicy {
  // One policy for every task that gives none: policies are frozen, so they can be shared.
  if (option === undefined) return (defaultPolicy ??= never());
  if (typeof option === 'function') return policy('custom', 'as computed by a custom function', option);
  if (isPolicy(option)) return option;
  return fail(
    `the expire option: got ${show(option)}; expected a policy such as expire.atMidnight(), ` +
      'a function (storedAt) => Date | undefined, or undefined',
  );
}
