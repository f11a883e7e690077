import v8 from 'node:v8';

/**
 * Results are stored with V8's own serializer (the structured clone format): it round-trips Date,
 * Map, Set, BigInt, RegExp, typed arrays, Buffer, undefined and circular references exactly, and is
 * several times faster than JSON-based codecs on large values. It silently turns class instances
 * into plain objects, though, so `findUncacheable` checks a value before it is stored. Like
 * `structuredClone`, it leaves out properties keyed by symbols; checking every object for them
 * would double the cost of the check, so they are left out here too (and documented).
 */
export function encodeValue(value: unknown): Buffer {
  return v8.serialize(value);
}

export function decodeValue(bytes: Uint8Array): unknown {
  return v8.deserialize(bytes);
}

/**
 * V8's serializer is not canonical: it writes an equal value in different bytes depending on how
 * V8 holds it. An array read back from the cache is "holey" and is written in the sparse form,
 * one built by a task in the dense form; a whole number in an array of doubles is written as a
 * double, elsewhere as an integer. So a task that re-runs to the same value can hash differently.
 * A value read back and written again always comes out in the same form (what reading makes of
 * it), keeping the order of keys, Map and Set entries: the one form to compare or hash by.
 */
export function canonicalBytes(bytes: Uint8Array): Buffer {
  return v8.serialize(v8.deserialize(bytes));
}

/** The value's bytes in canonical form (see canonicalBytes): for hashes that must not depend on how V8 holds it. */
export function encodeCanonical(value: unknown): Buffer {
  return canonicalBytes(v8.serialize(value));
}

/** Prototypes whose instances survive the round trip with their type intact. */
const CLONEABLE_PROTOTYPES = new Set<object | null>([
  null,
  Object.prototype,
  Array.prototype,
  Date.prototype,
  RegExp.prototype,
  Map.prototype,
  Set.prototype,
  ArrayBuffer.prototype,
  DataView.prototype,
  Buffer.prototype,
  Error.prototype,
  EvalError.prototype,
  RangeError.prototype,
  ReferenceError.prototype,
  SyntaxError.prototype,
  TypeError.prototype,
  URIError.prototype,
  Number.prototype,
  String.prototype,
  Boolean.prototype,
  ...[
    Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    Float32Array, Float64Array, BigInt64Array, BigUint64Array,
  ].map((type) => type.prototype),
]);

/** Where a value sits inside the result, built only when a problem is reported. */
interface PathStep {
  parent: PathStep | undefined;
  key: string;
}

function render(step: PathStep | undefined): string {
  const keys: string[] = [];
  for (let at = step; at; at = at.parent) keys.push(at.key);
  return keys.reverse().join('');
}

function propertyKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function keyLabel(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : String(key);
}

/** What is wrong with a primitive or object, or undefined when it round-trips. */
function problemOf(value: unknown): string | undefined {
  if (typeof value === 'function') return 'is a function';
  if (typeof value === 'symbol') return 'is a symbol';
  if (typeof value !== 'object' || value === null) return undefined;
  const prototype = Object.getPrototypeOf(value);
  if (CLONEABLE_PROTOTYPES.has(prototype)) return undefined;
  const className = prototype?.constructor?.name ?? 'an unknown class';
  if (value instanceof Promise) return 'is a Promise (await it before returning)';
  if (value instanceof WeakMap || value instanceof WeakSet) return `is a ${className}, which cannot be stored`;
  return `is an instance of ${className}, which would come back as a plain object`;
}

/**
 * The first part of a value that would not survive the cache, as a path from `root`
 * (`result.model.predict`) and what is wrong with it; undefined when all of it is fine.
 * Most results are fine, so a quick walk that builds no paths runs first, and the walk that
 * names the path runs only when the quick one found something.
 */
export function findUncacheable(value: unknown, root = 'result'): { path: string; problem: string } | undefined {
  return hasUncacheable(value) ? locateUncacheable(value, root) : undefined;
}

/**
 * Whether anything in `value` would not survive the cache. Iterative, so deep structures cannot
 * overflow the stack. The checks are inlined, since a large result has millions of members, and
 * only objects that hold objects are remembered (to stop at cycles and shared parts): looking up
 * and remembering the many leaf records of a large result would cost more than the rest.
 */
function hasUncacheable(value: unknown): boolean {
  if (typeof value === 'function' || typeof value === 'symbol') return true;
  if (typeof value !== 'object' || value === null) return false;
  const stack: object[] = [value];
  const expanded = new Set<object>();
  while (stack.length > 0) {
    const current = stack.pop()!;
    const base = stack.length;
    const prototype = Object.getPrototypeOf(current);
    if (prototype === Array.prototype) {
      const array = current as unknown[];
      for (let index = 0; index < array.length; index++) {
        const item = array[index];
        if (typeof item === 'object') {
          if (item !== null) stack.push(item);
        } else if (typeof item === 'function' || typeof item === 'symbol') return true;
      }
    } else if (prototype === Object.prototype || prototype === null) {
      for (const key in current) {
        const item = (current as Record<string, unknown>)[key];
        if (typeof item === 'object') {
          if (item !== null) stack.push(item);
        } else if (typeof item === 'function' || typeof item === 'symbol') return true;
      }
    } else if (prototype === Map.prototype || prototype === Set.prototype) {
      const members = prototype === Map.prototype ? [...(current as Map<unknown, unknown>)].flat() : [...(current as Set<unknown>)];
      for (const item of members) {
        if (typeof item === 'object') {
          if (item !== null) stack.push(item);
        } else if (typeof item === 'function' || typeof item === 'symbol') return true;
      }
    } else if (!CLONEABLE_PROTOTYPES.has(prototype)) {
      return true;
    }
    if (stack.length > base) {
      // It holds objects: look into them only the first time it is met.
      if (expanded.has(current)) stack.length = base;
      else expanded.add(current);
    }
  }
  return false;
}

/** The detailed walk: each object once, with the path to it, to name what is wrong. */
function locateUncacheable(value: unknown, root: string): { path: string; problem: string } | undefined {
  const rootProblem = problemOf(value);
  if (rootProblem) return { path: root, problem: rootProblem };
  if (typeof value !== 'object' || value === null) return undefined;

  const seen = new Set<object>([value]);
  const stack: { value: object; path: PathStep }[] = [{ value, path: { parent: undefined, key: root } }];
  const visit = (child: unknown, parent: PathStep, key: () => string) => {
    if (typeof child !== 'object' && typeof child !== 'function' && typeof child !== 'symbol') return undefined;
    if (child === null) return undefined;
    const path = { parent, key: key() };
    const problem = problemOf(child);
    if (problem) return { path: render(path), problem };
    if (!seen.has(child as object)) {
      seen.add(child as object);
      stack.push({ value: child as object, path });
    }
    return undefined;
  };

  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (ArrayBuffer.isView(current) || current instanceof ArrayBuffer) continue;
    let found: { path: string; problem: string } | undefined;
    if (Array.isArray(current)) {
      for (let index = 0; index < current.length && !found; index++) {
        const item: unknown = current[index];
        // Most large arrays hold numbers or strings: skip the closure for them.
        if (typeof item === 'object' || typeof item === 'function' || typeof item === 'symbol') {
          found = visit(item, path, () => `[${index}]`);
        }
      }
    } else if (current instanceof Map) {
      for (const [key, item] of current) {
        found = visit(key, path, () => `<key ${keyLabel(key)}>`) ?? visit(item, path, () => `.get(${keyLabel(key)})`);
        if (found) break;
      }
    } else if (current instanceof Set) {
      for (const item of current) if ((found = visit(item, path, () => '<set member>'))) break;
    } else {
      for (const key of Object.keys(current)) {
        if ((found = visit((current as Record<string, unknown>)[key], path, () => propertyKey(key)))) break;
      }
    }
    if (found) return found;
  }
  return undefined;
}
