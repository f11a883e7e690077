import type { CacheEntry } from './entry.js';
import type { ResultStore } from './store.js';

/** One cached entry, as `listCache()` lists it. */
export interface CacheListing {
  task: string;
  /** Whether the pipeline still defines the task (false for entries left by a renamed or removed task). */
  defined: boolean;
  /** `ok` holds a result; `failed` remembers the last run's failure; `expired` kept only the result's hash. */
  state: 'ok' | 'failed' | 'expired';
  storedAt: Date;
  /** When the result expires by time, if it does. */
  expiresAt?: Date;
  /** The expiry policy, as text. */
  expiry: string;
  /** Size of the stored result (serialized), in bytes. */
  bytes: number;
  /** How long the run that stored it took. */
  durationMs: number;
  /** The error message of a failed run. */
  error?: string;
}

/**
 * What `store` holds for the pipeline's `tasks`, one line each, in `order` (the graph's, when it
 * is valid); with `all`, also entries of tasks it no longer defines, last, by name.
 */
export async function listCache(store: ResultStore, tasks: readonly string[], order: readonly string[] | undefined, all: boolean): Promise<CacheListing[]> {
  const entries = all ? await store.listEntries(tasks) : await store.readEntries(tasks);
  const defined = new Set(tasks);
  const position = new Map(order?.map((name, index) => [name, index]));
  return [...entries]
    .map(([task, entry]) => listing(task, entry, defined.has(task)))
    .sort((a, b) => (position.get(a.task) ?? Infinity) - (position.get(b.task) ?? Infinity) || a.task.localeCompare(b.task));
}

function listing(task: string, entry: CacheEntry, defined: boolean): CacheListing {
  return {
    task,
    defined,
    state: entry.state,
    storedAt: new Date(entry.storedAt),
    expiresAt: entry.expiresAt === undefined ? undefined : new Date(entry.expiresAt),
    expiry: entry.expiry,
    bytes: entry.value === undefined ? 0 : 'inline' in entry.value ? Math.floor((entry.value.inline.length * 3) / 4) : entry.value.bytes,
    durationMs: entry.durationMs,
    error: entry.error?.message,
  };
}
