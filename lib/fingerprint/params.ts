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

/** Where a value given for a param differs in JSON type from the declared one. */
export interface ParamTypeProblem {
  /** The keys and indexes from the param to the value that differs; empty for the param itself. */
  path: (string | number)[];
  /** The declared type there, in words: 'a number', 'an array'. */
  expected: string;
  /** The value given there; undefined for a declared key the given object lacks. */
  given: JsonValue | undefined;
}

/**
 * Whether `given` has the JSON types of `declared`, as the compiler types a param from its
 * declared value: the same kind (string, number, boolean, array, object); an object with at
 * least the declared keys, each of its declared type; an array whose items each have the type of
 * one of the declared items. A declared null, or the items of a declared empty array, may be anything.
 */
export function paramTypeProblem(declared: JsonValue, given: JsonValue | undefined, path: (string | number)[] = []): ParamTypeProblem | undefined {
  if (declared === null) return undefined;
  if (given === undefined || jsonKind(given) !== jsonKind(declared)) return { path, expected: JSON_KIND_WORDS[jsonKind(declared)], given };
  if (Array.isArray(declared)) {
    if (declared.length === 0) return undefined;
    for (const [index, item] of (given as JsonValue[]).entries()) {
      const problems = declared.map((option) => paramTypeProblem(option, item, [...path, index]));
      if (problems.every((problem) => problem !== undefined)) return problems[0];
    }
    return undefined;
  }
  if (typeof declared === 'object') {
    for (const [key, value] of Object.entries(declared)) {
      const problem = paramTypeProblem(value, (given as Record<string, JsonValue>)[key], [...path, key]);
      if (problem) return problem;
    }
  }
  return undefined;
}

type JsonKind = 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean';

const JSON_KIND_WORDS: Record<JsonKind, string> = {
  null: 'null', array: 'an array', object: 'an object', string: 'a string', number: 'a number', boolean: 'true or false',
};

function jsonKind(value: JsonValue): JsonKind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as 'object' | 'string' | 'number' | 'boolean';
}
