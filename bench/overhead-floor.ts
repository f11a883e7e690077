/**
 * The floor of the overhead bench: the least work any run of the same N tasks must do with the
 * parts littlepipes is built on, done directly, in the same process and round as the measured runs.
 * - cold: order the graph (dependency-graph), then for each task encode its result (v8.serialize),
 *   hash it (XXH3-128), make an entry of littlepipes' format and write the entries to SQLite in
 *   one transaction (the same adapter, the same settings, the same JSON envelope);
 * - cached: order the graph, read every entry back in one query and parse it.
 * No fingerprint, no freshness decision, no log, no report: what littlepipes adds is the rest.
 * The measured time over this floor is a figure the machine's speed mostly cancels out of.
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { DepGraph } from 'dependency-graph';
import { BatchingSqliteStore } from '../lib/cache/backends/sqlite-store.js';
import { hashResult, prepareHashing } from '../lib/fingerprint/hash.js';
import { timeMs } from './util.js';

const ROWS_PER_WRITE = 1000;
const CODE_HASH = 'CmILBztTgyydEN7WTRtMEaKOqRPOOeu76zU4qSZf0Qw';
const OPTIONS_HASH = 'vzwYBa688NPHWjIx5Q0ne1JVzMytBvBrlCs40SVBS1g';

/** The bench's graph: task i depends on tasks i-1 and floor(i/2). */
function dependenciesOf(i: number): string[] {
  return i === 0 ? [] : [...new Set([`T${i - 1}`, `T${Math.floor(i / 2)}`])];
}

function order(n: number): string[] {
  const graph = new DepGraph<undefined>();
  for (let i = 0; i < n; i++) graph.addNode(`T${i}`);
  for (let i = 1; i < n; i++) for (const dependency of dependenciesOf(i)) graph.addDependency(`T${i}`, dependency);
  return graph.overallOrder();
}

/** What littlepipes writes for a task, in the same shape and about the same size. */
function entry(i: number, hashes: Map<string, string>, bytes: Buffer, storedAt: number) {
  return {
    format: 2,
    state: 'ok',
    definition: { code: CODE_HASH, options: OPTIONS_HASH },
    upstream: dependenciesOf(i).map((dependency) => [dependency, hashes.get(dependency)!]),
    resultHash: hashes.get(`T${i}`)!,
    storedAt,
    expiry: 'never',
    value: { inline: bytes.toString('base64') },
    durationMs: 0.01,
  };
}

/** A fresh SQLite cache file in `folder`, opened as littlepipes opens one (WAL, synchronous NORMAL). */
async function openStore(folder: string): Promise<BatchingSqliteStore> {
  await prepareHashing();
  const store = new BatchingSqliteStore({ uri: `sqlite://${path.join(folder, 'floor.sqlite')}`, busyTimeout: 15_000 });
  await store.query('PRAGMA journal_mode=WAL');
  await store.query('PRAGMA synchronous=NORMAL');
  return store;
}

async function writeAll(store: BatchingSqliteStore, n: number): Promise<void> {
  const names = order(n);
  const hashes = new Map<string, string>();
  const rows: { key: string; value: string }[] = [];
  const now = Date.now();
  for (const name of names) {
    const i = Number(name.slice(1));
    const bytes = v8.serialize(i);
    hashes.set(name, hashResult(bytes));
    rows.push({ key: `Floor:task:${name}`, value: JSON.stringify({ value: entry(i, hashes, bytes, now) }) });
  }
  // One transaction for them all: the least a store can do (littlepipes commits a batch per turn).
  await store.query('BEGIN IMMEDIATE');
  for (let start = 0; start < rows.length; start += ROWS_PER_WRITE) await store.setMany(rows.slice(start, start + ROWS_PER_WRITE));
  await store.query('COMMIT');
}

async function readAll(store: BatchingSqliteStore, n: number): Promise<number> {
  const names = order(n);
  const rows = await store.getMany<string>(names.map((name) => `Floor:task:${name}`));
  let found = 0;
  for (const row of rows) if ((JSON.parse(row as string) as { value?: { state?: string } }).value?.state === 'ok') found++;
  return found;
}

/** Milliseconds of the cold and the cached floor for N tasks, in a folder of their own. */
export async function floorMs(n: number, folder: string): Promise<{ coldMs: number; cachedMs: number }> {
  fs.mkdirSync(folder, { recursive: true });
  const store = await openStore(folder);
  try {
    const cold = await timeMs(() => writeAll(store, n));
    const cached = await timeMs(() => readAll(store, n));
    if (cached.value !== n) throw new Error(`floor: read back ${cached.value} of ${n} entries`);
    return { coldMs: cold.ms, cachedMs: cached.ms };
  } finally {
    await store.disconnect();
  }
}
