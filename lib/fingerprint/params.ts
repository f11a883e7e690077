import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../names.js';

/** A plain JSON value: what params may hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Checks that params are plain JSON (objects, arrays, strings, finite numbers, booleans, null),
 * so that they hash the same way every time and survive the cache; returns a frozen deep copy,
 * so changing the object passed in cannot change the task behind the cache's back.
 */
export function plainParams(task: string, params: unknown): Readonly<Record<string, JsonValue>> {
  if (typeof params !== 'object' || params === null || Array.isArray(params) || Object.getPrototypeOf(params) !== Object.prototype) {
    throw new InvalidOptionError('params', `Task "${task}": params must be a plain object of JSON values, got ${describeValue(params)}.`);
  }
  return copy(task, params, 'params') as Record<string, JsonValue>;
}

function copy(task: string, value: unknown, path: string): JsonValue {
  const wrong = (what: string) =>
    new InvalidOptionError('params', `Task "${task}": ${path} is ${what}; params must be plain JSON (objects, arrays, strings, finite numbers, true, false, null).`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw wrong(String(value));
    return value;
  }
  if (Array.isArray(value)) return Object.freeze(value.map((item, index) => copy(task, item, `${path}[${index}]`))) as JsonValue[];
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const result: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) result[key] = copy(task, item, `${path}.${key}`);
    return Object.freeze(result);
  }
  throw wrong(describeValue(value));
}

/** One param that differs between two runs. */
export interface ParamChange {
  key: string;
  before?: JsonValue;
  after?: JsonValue;
}

/** The top-level keys whose values differ, with the old and new value (absent when added or removed). */
export function paramChanges(before: Record<string, JsonValue> = {}, after: Record<string, JsonValue> = {}): ParamChange[] {
  const changes: ParamChange[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (stableJson(before[key]) === stableJson(after[key])) continue;
    const change: ParamChange = { key };
    if (key in before) change.before = before[key]!;
    if (key in after) change.after = after[key]!;
    changes.push(change);
  }
  return changes;
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` are the same params. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  ) ?? 'undefined';
}
