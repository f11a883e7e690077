import { type EncodedValue, encodeCanonical } from '../cache/codec.js';
import { tableKind, tableRows } from '../cache/formats/tables.js';
import { type CacheEntry, itemEntry } from '../cache/entry.js';
import type { ResultStore } from '../cache/store.js';
import { InvalidOptionError } from '../errors.js';
import type { DefinitionFingerprint } from '../fingerprint/definition.js';
import { hashResult } from '../fingerprint/hash.js';
import { describeValue } from '../names.js';
import type { AnyTask } from '../task.js';
import { staleness } from '../plan/freshness.js';

/** What a mapped task's run did with its items. */
export interface MappedRun {
  /** The item results, in the order of the items. */
  results: unknown[];
  /** Each item's content hash, in order: kept in the task's entry. */
  items: string[];
  ran: number;
  cached: number;
}

/** The items a mapped task runs over: its `map.over` result, followed down `map.path`; an array (a table's rows, as objects), or a clear error. */
export function itemsOf(task: AnyTask, upstreamValue: unknown): unknown[] {
  const { over, path } = task.map!;
  let value = upstreamValue;
  for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  if (tableKind(value)) return tableRows(value as Parameters<typeof tableRows>[0]);
  if (!Array.isArray(value)) {
    const where = [over, ...path].join('.');
    throw new InvalidOptionError('map', `${task.name} maps over ${where}, which is ${describeValue(value)}, not an array. Return an array there, or point map.over at one (e.g. '${over}.files').`);
  }
  return value;
}

/**
 * Runs a mapped task over its items: each item is cached on its own, under its content hash,
 * so an item whose result is fresh (same code, params and expiry rules) is served, a changed or
 * added one runs, and the items no longer there are dropped. Up to `map.concurrency` at once.
 */
export async function runMapped(
  parts: { task: AnyTask; store: ResultStore; previous: CacheEntry | undefined; definition: DefinitionFingerprint; runId: string; signal: AbortSignal; forced: boolean },
  list: readonly unknown[],
  runItem: (item: unknown, index: number) => unknown,
): Promise<MappedRun> {
  const { task, store, previous, definition, runId, signal, forced } = parts;
  // Items from a provider read back from the cache must hash as they did when it ran live.
  const encodings = list.map((item) => encodeCanonical(item, task.name));
  const items = (encodings.some((bytes) => bytes instanceof Promise) ? await Promise.all(encodings) : (encodings as Buffer[])).map((bytes) => hashResult(bytes));
  const nameOf = (hash: string) => `${task.name}/${hash}`;
  const unique = [...new Set(items)];
  const existing = await store.readEntries(unique.map(nameOf));
  const now = Date.now();
  const outcomes = new Map<string, Promise<unknown>>();
  const toRun: number[] = [];
  let cached = 0;
  list.forEach((_, index) => {
    const hash = items[index]!;
    if (outcomes.has(hash) || toRun.some((other) => items[other] === hash)) return;
    const entry = existing.get(nameOf(hash));
    // Forcing the task forces its items: `force` means run again, whatever is cached.
    if (!forced && entry && entry.value && !staleness(task, entry, { now, runId, codec: store.codec })) {
      cached++;
      outcomes.set(hash, store.loadValue(nameOf(hash), entry.value, entry.resultHash));
    } else toRun.push(index);
  });

  let next = 0;
  const worker = async () => {
    while (next < toRun.length) {
      if (signal.aborted) throw signal.reason;
      const index = toRun[next++]!;
      const hash = items[index]!;
      const started = performance.now();
      const running = Promise.resolve().then(() => runItem(list[index], index));
      outcomes.set(hash, running);
      const result = await running;
      const encoding = store.codec.encode(result, task.name, `result[item ${index}]`);
      const encoded: EncodedValue = encoding instanceof Promise ? await encoding : encoding;
      const storing = store.storeValue(nameOf(hash), encoded);
      const stored = storing instanceof Promise ? await storing : storing;
      const saved = { resultHash: stored.hash, value: stored.value, formats: encoded.formats };
      store.put(nameOf(hash), itemEntry({ definition, expire: task.expire, saved, durationMs: performance.now() - started }), existing.get(nameOf(hash)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(task.map!.concurrency, Math.max(1, toRun.length)) }, worker));
  const results = await Promise.all(items.map((hash) => outcomes.get(hash)!));

  // Items no longer in the list are dropped, with their files.
  const gone = (previous?.items ?? []).filter((hash) => !unique.includes(hash));
  if (gone.length > 0) store.remove(await store.readEntries([...new Set(gone)].map(nameOf)));
  return { results, items, ran: toRun.length, cached };
}
