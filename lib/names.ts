import { InvalidOptionError, UnknownTaskError } from './errors.js';

/**
 * Names of tasks and pipelines become file names (logs, cached blobs), so they must not be able
 * to escape their folder or break a JSON log line: no path separators, quotes, backslashes or
 * control characters, and not "." or "..".
 */
const FORBIDDEN = /[/\\"\u0000-\u001f\u007f]/;

/** Returns why `name` is not usable as a task or pipeline name, or undefined when it is. */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `expected a string, got ${describeValue(name)}`;
  if (name.trim().length === 0) return 'the name is empty';
  if (name === '.' || name === '..') return `"${name}" is not allowed`;
  if (FORBIDDEN.test(name)) return `"${name}" contains a path separator, quote, backslash or control character`;
  if (name.length > 200) return `the name is ${name.length} characters long; the limit is 200`;
  return undefined;
}

/**
 * The closest candidate to `name`, when it is close enough to be a likely typo: one slip (a letter
 * added, dropped or changed, or two neighbours swapped) for every three letters of the longer of
 * the two names, and at least one, but for one-letter names. Case does not count.
 */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = name.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    const longer = Math.max(name.length, candidate.length);
    if (distance < bestDistance && distance <= (longer < 2 ? 0 : Math.max(1, Math.floor(longer / 3)))) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * The edits from `a` to `b`, a swap of neighbouring letters counting as one (the optimal string
 * alignment distance): a typed swap, Kepe for Keep, is one slip, where Levenshtein counts two.
 */
export function editDistance(a: string, b: string): number {
  // Three rows of the table: the one before the previous (for swaps), the previous, the current.
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) current[j] = Math.min(current[j]!, before[j - 2]! + 1);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/** A short description of a value for error messages: `0 (number)`, `"x" (string)`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `${JSON.stringify(value)} (string)`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return `${String(value)} (${typeof value})`;
}

/** Throws InvalidOptionError for keys of `options` that are not in `known`, suggesting the closest. */
export function rejectUnknownOptions(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const guess = suggest(key, known);
    throw new InvalidOptionError(
      key,
      `${where}: unknown option "${key}".` +
        (guess ? ` Did you mean "${guess}"?` : ` Valid options are: ${known.join(', ')}.`),
    );
  }
}

/**
 * Checks that `value` is an array of strings (`items` says of what, for the message; `nonEmpty`
 * refuses empty ones, for names); returns it with duplicates removed.
 */
export function stringList(where: string, option: string, value: unknown, items = 'task names', nonEmpty = false): string[] {
  if (!Array.isArray(value)) {
    throw new InvalidOptionError(option, `${where}: \`${option}\` must be an array of ${items}, got ${describeValue(value)}.`);
  }
  const index = value.findIndex((item) => typeof item !== 'string' || (nonEmpty && item.trim() === ''));
  if (index >= 0) {
    throw new InvalidOptionError(option, `${where}: \`${option}\` must be an array of ${items}, but item ${index} is ${describeValue(value[index])}.`);
  }
  return [...new Set(value as string[])];
}

/** The task of this name, or an UnknownTaskError that names `where` and the closest name there is. */
export function knownTask<T>(tasks: ReadonlyMap<string, T>, name: string, where: string): T {
  const task = tasks.get(name);
  if (!task) throw new UnknownTaskError(String(name), where, typeof name === 'string' ? suggest(name, tasks.keys()) : undefined);
  return task;
}
