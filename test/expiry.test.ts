// Every Date below is local to New York, so daylight-saving changes are exercised:
// 2026-03-08 02:00 springs forward to 03:00, 2026-11-01 02:00 falls back to 01:00.
process.env.TZ = 'America/New_York';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expire, toExpiryPolicy, type ExpiryPolicy } from '../lib/cache/expiry.js';
import { ExpiryPolicyError, LittlepipesError } from '../lib/errors.js';

const HOUR = 3_600_000;

/** A local date; month is 1-based, as it is written. */
function local(year: number, month: number, day: number, hours = 0, minutes = 0): Date {
  return new Date(year, month - 1, day, hours, minutes);
}

/** Asserts the local calendar parts of `actual`; month is 1-based. */
function assertLocal(actual: Date | undefined, year: number, month: number, day: number, hours = 0, minutes = 0): void {
  assert.ok(actual instanceof Date, `expected a Date, got ${String(actual)}`);
  assert.deepEqual(
    [actual.getFullYear(), actual.getMonth() + 1, actual.getDate(), actual.getHours(), actual.getMinutes()],
    [year, month, day, hours, minutes],
  );
}

function expiry(policy: ExpiryPolicy, storedAt: Date): Date {
  const result = policy.expiresAt(storedAt);
  assert.ok(result instanceof Date, `${policy.description}: expected a Date`);
  return result;
}

/** Asserts `create` throws an ExpiryPolicyError whose message contains every fragment. */
function assertPolicyError(create: () => unknown, ...fragments: string[]): void {
  assert.throws(create, (error: unknown) => {
    assert.ok(error instanceof ExpiryPolicyError, `expected ExpiryPolicyError, got ${String(error)}`);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), `"${error.message}" lacks ${fragment}`);
    return true;
  });
}

// ---------------------------------------------------------------- never / session / onComplete

test('never() never expires by time and has no scope', () => {
  const policy = expire.never();
  assert.equal(policy.kind, 'never');
  assert.equal(policy.description, 'never');
  assert.equal(policy.scope, undefined);
  assert.equal(policy.expiresAt(local(2026, 5, 10, 12)), undefined);
});

test('session and onComplete carry their scope and never expire by time', () => {
  const session = expire.session();
  const onComplete = expire.onComplete();
  assert.deepEqual([session.kind, session.scope, session.description], ['session', 'session', 'when the process that stored it ends']);
  assert.deepEqual([onComplete.kind, onComplete.scope, onComplete.description], ['onComplete', 'run', 'when the run completes']);
  assert.equal(session.expiresAt(local(2026, 5, 10)), undefined);
  assert.equal(onComplete.expiresAt(local(2026, 5, 10)), undefined);
});

// ---------------------------------------------------------------- after

test('after(ms) adds exactly that many milliseconds and describes them in words', () => {
  const stored = local(2026, 5, 10, 12);
  const policy = expire.after(2 * HOUR);
  assert.equal(policy.kind, 'after');
  assert.equal(policy.description, '2 hours after it is stored');
  assert.equal(expiry(policy, stored).getTime(), stored.getTime() + 2 * HOUR);
  assert.equal(expire.after(90_500).description, '1 minute, 30 seconds, 500 milliseconds after it is stored');
});

test('after({days: 1}) is exactly 24 hours even across DST', () => {
  // Spring forward: the local day is 23 hours long, so 24 hours later reads 13:00.
  assertLocal(expiry(expire.after({ days: 1 }), local(2026, 3, 7, 12)), 2026, 3, 8, 13);
  // Fall back: the local day is 25 hours long, so 24 hours later reads 11:00.
  assertLocal(expiry(expire.after({ days: 1 }), local(2026, 10, 31, 12)), 2026, 11, 1, 11);
});

test('after({...}) adds all fields together', () => {
  const stored = local(2026, 5, 10, 12);
  const policy = expire.after({ days: 1, hours: 2, minutes: 30, seconds: 15 });
  assert.equal(policy.description, '1 day, 2 hours, 30 minutes, 15 seconds after it is stored');
  assert.equal(expiry(policy, stored).getTime() - stored.getTime(), 86_400_000 + 2 * HOUR + 30 * 60_000 + 15_000);
  assert.equal(expiry(expire.after({ hours: 1.5 }), stored).getTime() - stored.getTime(), 1.5 * HOUR);
});

test('after: NaN / negative / zero / Infinity milliseconds throw at creation naming the value', () => {
  assertPolicyError(() => expire.after(Number.NaN), 'expire.after', 'NaN', 'milliseconds > 0');
  assertPolicyError(() => expire.after(-5), 'expire.after', '-5');
  assertPolicyError(() => expire.after(0), 'expire.after', '0');
  assertPolicyError(() => expire.after(Number.POSITIVE_INFINITY), 'expire.after', 'Infinity');
  assertPolicyError(() => expire.after('1h' as never), 'expire.after', '"1h"');
  assertPolicyError(() => expire.after(1e300), 'expire.after', 'longer than a Date can represent');
});

test('after: an unknown key names the key and lists the valid ones', () => {
  assertPolicyError(() => expire.after({ hour: 1 } as never), 'expire.after', '"hour"', 'days, hours, minutes, seconds');
  assertPolicyError(() => expire.after({ hours: 1, months: 1 } as never), '"months"');
});

test('after: negative, NaN and empty object fields throw', () => {
  assertPolicyError(() => expire.after({ hours: -1 }), 'expire.after', 'hours is -1', '>= 0');
  assertPolicyError(() => expire.after({ minutes: Number.NaN }), 'minutes is NaN');
  assertPolicyError(() => expire.after({}), 'expire.after', 'empty duration');
  assertPolicyError(() => expire.after({ hours: 0, minutes: 0 }), 'empty duration');
});

// ---------------------------------------------------------------- fromNow

test('fromNow({days: 1}) keeps the wall-clock time across the spring-forward change', () => {
  const stored = local(2026, 3, 7, 12);
  const expires = expiry(expire.fromNow({ days: 1 }), stored);
  assertLocal(expires, 2026, 3, 8, 12);
  assert.equal(expires.getTime() - stored.getTime(), 23 * HOUR);
});

test('fromNow({days: 1}) keeps the wall-clock time across the fall-back change', () => {
  const stored = local(2026, 10, 31, 12);
  const expires = expiry(expire.fromNow({ days: 1 }), stored);
  assertLocal(expires, 2026, 11, 1, 12);
  assert.equal(expires.getTime() - stored.getTime(), 25 * HOUR);
});

test('fromNow landing in the skipped spring-forward hour moves to the hour after it', () => {
  assertLocal(expiry(expire.fromNow({ days: 1 }), local(2026, 3, 7, 2, 30)), 2026, 3, 8, 3, 30);
});

test('month-end clamping: Jan 31 + 1 month is Feb 28 (Feb 29 in 2028)', () => {
  assertLocal(expiry(expire.fromNow({ months: 1 }), local(2026, 1, 31, 10)), 2026, 2, 28, 10);
  assertLocal(expiry(expire.fromNow({ months: 1 }), local(2028, 1, 31, 10)), 2028, 2, 29, 10);
  assertLocal(expiry(expire.fromNow({ months: 13 }), local(2026, 1, 31, 10)), 2027, 2, 28, 10);
});

test('Feb 29 2024 + 1 year is Feb 28 2025', () => {
  assertLocal(expiry(expire.fromNow({ years: 1 }), local(2024, 2, 29, 8)), 2025, 2, 28, 8);
});

test('fromNow adds years and months before days, then weeks*7+days as calendar days', () => {
  assertLocal(expiry(expire.fromNow({ months: 1, days: 1 }), local(2026, 1, 31, 10)), 2026, 3, 1, 10);
  assertLocal(expiry(expire.fromNow({ weeks: 1, days: 2 }), local(2026, 3, 5, 9)), 2026, 3, 14, 9);
  assert.equal(expire.fromNow({ years: 1, weeks: 2, hours: 3 }).description, '1 year, 2 weeks, 3 hours after it is stored');
});

test('fromNow hours are elapsed time, not wall-clock time', () => {
  // 00:30 + 2 hours on spring-forward day: 02:00 does not exist, so it reads 03:30.
  assertLocal(expiry(expire.fromNow({ hours: 2 }), local(2026, 3, 8, 0, 30)), 2026, 3, 8, 3, 30);
  // From 01:30 EST, the second 01:30 of fall-back day, one hour later is 02:30 EST.
  const secondOneThirty = new Date('2026-11-01T06:30:00Z');
  assertLocal(secondOneThirty, 2026, 11, 1, 1, 30);
  const expires = expiry(expire.fromNow({ hours: 1 }), secondOneThirty);
  assert.equal(expires.getTime() - secondOneThirty.getTime(), HOUR);
  assertLocal(expires, 2026, 11, 1, 2, 30);
});

test('fromNow requires whole years, months, weeks and days but allows fractional hours', () => {
  assertPolicyError(() => expire.fromNow({ months: 1.5 }), 'expire.fromNow', 'months is 1.5', 'whole number');
  assertPolicyError(() => expire.fromNow({ days: 0.5 }), 'days is 0.5');
  assertPolicyError(() => expire.fromNow({ years: -1 }), 'years is -1');
  const stored = local(2026, 5, 10, 12);
  assert.equal(expiry(expire.fromNow({ hours: 1.5 }), stored).getTime() - stored.getTime(), 1.5 * HOUR);
});

test('fromNow: an unknown key throws and lists the valid fields', () => {
  assertPolicyError(
    () => expire.fromNow({ day: 1 } as never),
    'expire.fromNow',
    '"day"',
    'years, months, weeks, days, hours, minutes, seconds',
  );
  assertPolicyError(() => expire.fromNow(undefined as never), 'expire.fromNow', 'got undefined');
});

// ---------------------------------------------------------------- fromToday

test("fromToday counts from today's midnight", () => {
  const stored = local(2026, 5, 10, 15, 45);
  const policy = expire.fromToday({ days: 1, hours: 6 });
  assert.equal(policy.kind, 'fromToday');
  assert.equal(policy.description, '1 day, 6 hours after the start of the day it is stored');
  assertLocal(expiry(expire.fromToday({ days: 1 }), stored), 2026, 5, 11, 0);
  assertLocal(expiry(policy, stored), 2026, 5, 11, 6);
  assertLocal(expiry(expire.fromToday({ months: 1 }), local(2026, 1, 31, 23)), 2026, 2, 28, 0);
});

test('fromToday hours are elapsed from midnight, so 9 hours reads 10:00 on spring-forward day', () => {
  assertLocal(expiry(expire.fromToday({ hours: 9 }), local(2026, 3, 8, 15)), 2026, 3, 8, 10);
});

// ---------------------------------------------------------------- atMidnight

test('atMidnight is the start of the following local day', () => {
  const policy = expire.atMidnight();
  assert.deepEqual([policy.kind, policy.description], ['atMidnight', 'at midnight']);
  assertLocal(expiry(policy, local(2026, 5, 10, 15, 45)), 2026, 5, 11, 0);
  assertLocal(expiry(policy, local(2026, 5, 10, 0, 0)), 2026, 5, 11, 0);
  assertLocal(expiry(policy, local(2026, 12, 31, 23, 59)), 2027, 1, 1, 0);
});

test('atMidnight across fall-back is the next local midnight', () => {
  const stored = local(2026, 11, 1, 0, 30);
  const expires = expiry(expire.atMidnight(), stored);
  assertLocal(expires, 2026, 11, 2, 0);
  assert.equal(expires.getTime() - stored.getTime(), 24.5 * HOUR);
  assertLocal(expiry(expire.atMidnight(), local(2026, 3, 7, 22)), 2026, 3, 8, 0);
});

// ---------------------------------------------------------------- weekly

test('weekly matches on the first two letters, ignoring case and spaces', () => {
  const policy = expire.weekly('sunday', 'Mon', ' THURSDAY ', 'tu');
  assert.equal(policy.kind, 'weekly');
  assert.equal(policy.description, 'weekly on Monday, Tuesday, Thursday, Sunday');
  assert.equal(expire.weekly('we', 'FRI', 'Sa').description, 'weekly on Wednesday, Friday, Saturday');
});

test('weekly expires at midnight starting the next listed weekday', () => {
  const tuesday = local(2026, 5, 12, 9);
  assert.equal(tuesday.getDay(), 2);
  const expires = expiry(expire.weekly('Mon', 'Thu'), tuesday);
  assertLocal(expires, 2026, 5, 14, 0);
  assert.equal(expires.getDay(), 4);
  assertLocal(expiry(expire.weekly('Mon', 'Thu'), local(2026, 5, 15, 9)), 2026, 5, 18, 0);
});

test('weekly on the same weekday means next week', () => {
  const monday = local(2026, 5, 11, 0, 0);
  assert.equal(monday.getDay(), 1);
  assertLocal(expiry(expire.weekly('Monday'), monday), 2026, 5, 18, 0);
  assertLocal(expiry(expire.weekly('Monday'), local(2026, 5, 11, 23, 59)), 2026, 5, 18, 0);
});

test('weekly accepts a single array and crosses DST at local midnight', () => {
  assertLocal(expiry(expire.weekly(['mon']), local(2026, 3, 7, 12)), 2026, 3, 9, 0);
  assertLocal(expiry(expire.weekly(['sun']), local(2026, 10, 30, 12)), 2026, 11, 1, 0);
});

test('unknown weekday throws ExpiryPolicyError at creation naming the value', () => {
  assertPolicyError(() => expire.weekly('Mnday'), 'expire.weekly', '"Mnday" is not a weekday', '"Mon"', 'Monday, Tuesday');
  assertPolicyError(() => expire.weekly('Mon', 'T'), '"T" is not a weekday');
  assertPolicyError(() => expire.weekly(''), '"" is not a weekday');
  assertPolicyError(() => expire.weekly(3 as never), '3 is not a weekday');
  assertPolicyError(() => expire.weekly(), 'expire.weekly', 'no weekdays');
  assertPolicyError(() => expire.weekly([]), 'no weekdays');
});

// ---------------------------------------------------------------- monthly

test('monthly expires at midnight starting the next listed day of the month', () => {
  const policy = expire.monthly(15, 1, 15);
  assert.deepEqual([policy.kind, policy.description], ['monthly', 'monthly on day 1, 15']);
  assertLocal(expiry(policy, local(2026, 5, 10, 12)), 2026, 5, 15, 0);
  assertLocal(expiry(policy, local(2026, 5, 15, 12)), 2026, 6, 1, 0);
  assertLocal(expiry(policy, local(2026, 12, 20, 12)), 2027, 1, 1, 0);
  assertLocal(expiry(expire.monthly([1]), local(2026, 5, 1, 0)), 2026, 6, 1, 0);
});

test('monthly(31) skips months without a 31st', () => {
  const policy = expire.monthly(31);
  assertLocal(expiry(policy, local(2026, 1, 31, 12)), 2026, 3, 31, 0);
  assertLocal(expiry(policy, local(2026, 2, 10, 12)), 2026, 3, 31, 0);
  assertLocal(expiry(policy, local(2026, 4, 5, 12)), 2026, 5, 31, 0);
});

test('monthly(29) finds Feb 29 only in leap years', () => {
  assertLocal(expiry(expire.monthly(29), local(2028, 2, 10)), 2028, 2, 29, 0);
  assertLocal(expiry(expire.monthly(29), local(2026, 2, 10)), 2026, 3, 29, 0);
});

test('monthly: non-integers, out-of-range days and an empty list throw', () => {
  assertPolicyError(() => expire.monthly(0), 'expire.monthly', '0 is not a day of the month', '1 to 31');
  assertPolicyError(() => expire.monthly(1, 32), '32 is not a day of the month');
  assertPolicyError(() => expire.monthly(1.5), '1.5 is not');
  assertPolicyError(() => expire.monthly(Number.NaN), 'NaN is not');
  assertPolicyError(() => expire.monthly('1' as never), '"1" is not');
  assertPolicyError(() => expire.monthly(), 'expire.monthly', 'no days');
});

// ---------------------------------------------------------------- at

test('at(date) is a fixed moment from a Date, an ISO string or a timestamp', () => {
  const moment = '2026-12-01T00:00:00.000Z';
  for (const input of [new Date(moment), moment, Date.parse(moment)]) {
    const policy = expire.at(input);
    assert.deepEqual([policy.kind, policy.description], ['at', `at ${moment}`]);
    assert.equal(policy.expiresAt(local(2026, 5, 10))?.toISOString(), moment);
  }
});

test('at: a moment in the past is allowed, and the policy is not changed by mutating dates', () => {
  const input = local(2020, 1, 1);
  const policy = expire.at(input);
  input.setFullYear(2030);
  const first = expiry(policy, local(2026, 5, 10));
  first.setFullYear(2040);
  assertLocal(expiry(policy, local(2026, 5, 10)), 2020, 1, 1, 0);
});

test('at: an invalid date throws at creation', () => {
  assertPolicyError(() => expire.at('next tuesday'), 'expire.at', '"next tuesday"', 'not a valid date');
  assertPolicyError(() => expire.at(new Date(Number.NaN)), 'an invalid Date');
  assertPolicyError(() => expire.at(Number.NaN), 'NaN');
});

// ---------------------------------------------------------------- toExpiryPolicy

test('toExpiryPolicy: undefined is never(), a policy is returned as is', () => {
  assert.equal(toExpiryPolicy(undefined).kind, 'never');
  const policy = expire.atMidnight();
  assert.equal(toExpiryPolicy(policy), policy);
});

test('a custom function is used and a non-Date return is reported', () => {
  const stored = local(2026, 5, 10, 12);
  let seen: Date | undefined;
  const policy = toExpiryPolicy((storedAt) => {
    seen = storedAt;
    return new Date(storedAt.getTime() + HOUR);
  });
  assert.equal(policy.kind, 'custom');
  assertLocal(expiry(policy, stored), 2026, 5, 10, 13);
  assert.equal(seen?.getTime(), stored.getTime());
  assert.equal(toExpiryPolicy(() => undefined).expiresAt(stored), undefined);

  assertPolicyError(() => toExpiryPolicy(() => '2026-01-01' as never).expiresAt(stored), 'custom', 'returned "2026-01-01"', 'valid Date');
  assertPolicyError(() => toExpiryPolicy(() => 42 as never).expiresAt(stored), 'returned 42');
  assertPolicyError(() => toExpiryPolicy(() => new Date(Number.NaN)).expiresAt(stored), 'returned an invalid Date');
});

test('toExpiryPolicy rejects anything else, with a code callers can branch on', () => {
  for (const bad of [42, null, {}, 'atMidnight']) {
    assertPolicyError(() => toExpiryPolicy(bad as never), 'expected a policy such as expire.atMidnight()');
  }
  try {
    expire.weekly('xx');
    assert.fail('expected a throw');
  } catch (error) {
    assert.ok(error instanceof LittlepipesError);
    assert.equal((error as LittlepipesError).code, 'ERR_EXPIRY_POLICY');
    assert.equal((error as Error).name, 'ExpiryPolicyError');
  }
});
