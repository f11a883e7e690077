/**
 * Storing and loading large results through the cache, against the floor in the same run:
 * `v8.serialize` + `fs.promises.writeFile` (store) and `fs.promises.readFile` + `v8.deserialize`
 * (load), to and from the same temporary folder.
 *
 * Store = an `execute()` of a task that never ran, whose task returns a prebuilt value (a task
 * that never ran, in a cache folder that already holds a cache), so the whole time is the
 * runner's and the cache's. Load = `getResult()` of it, read back from the cache on
 * the same folder. Baseline and littlepipes measurements are interleaved, alternating which
 * goes first, each case starts with three untimed rounds (both sides), and each figure is the
 * median of the rounds.
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { Pipeline, Task } from '../dist/index.js';
import { type Figure, fmt, list, median, removeFolder, temporaryFolder, timeMs } from './util.js';

const BENCH = 'large';
const TASK = 'Big';

export interface Case {
  key: string;
  label: string;
  rounds: number;
  make: () => unknown;
  /** Cheap check that what came back is the value stored. */
  same: (original: unknown, loaded: unknown) => boolean;
  /** Informational only: no target. */
  informational?: boolean;
}

interface Row {
  id: number;
  name: string;
  value: number;
  flag: boolean;
}

export const CASES: Case[] = [
  {
    key: 'tiny',
    label: '(ref) tiny result: the number 1',
    rounds: 9,
    make: () => 1,
    same: (a, b) => a === b,
    informational: true,
  },
  {
    key: 'doubles',
    label: '(a) number[] of 1e6 random doubles',
    rounds: 9,
    make: () => Array.from({ length: 1_000_000 }, () => Math.random()),
    same: (a, b) => {
      const x = a as number[];
      const y = b as number[];
      return Array.isArray(y) && y.length === x.length && y[0] === x[0] && y[x.length - 1] === x[x.length - 1];
    },
  },
  {
    key: 'objects',
    label: '(b) 1e5 objects {id, name, value, flag}',
    rounds: 9,
    make: () =>
      Array.from({ length: 100_000 }, (_, i): Row => ({ id: i, name: `item-${i}`, value: Math.random() * 1000, flag: i % 3 === 0 })),
    same: (a, b) => {
      const x = a as Row[];
      const y = b as Row[];
      const last = x.length - 1;
      return Array.isArray(y) && y.length === x.length && y[last]!.name === x[last]!.name && y[last]!.value === x[last]!.value;
    },
  },
  {
    key: 'float64',
    label: '(c) Float64Array, 100 MB (13,107,200)',
    rounds: 5,
    make: () => {
      const array = new Float64Array(13_107_200);
      for (let i = 0; i < array.length; i++) array[i] = Math.random();
      return array;
    },
    same: (a, b) => {
      const x = a as Float64Array;
      const y = b as Float64Array;
      return y instanceof Float64Array && y.length === x.length && y[0] === x[0] && y[x.length - 1] === x[x.length - 1];
    },
  },
  {
    // The reliability issue's big result: stored as a file beside the cache, as any large one.
    key: 'float64-500',
    label: '(d) Float64Array, 500 MB (65,536,000)',
    rounds: 3,
    make: () => {
      const array = new Float64Array(65_536_000);
      for (let i = 0; i < array.length; i++) array[i] = i % 1000;
      return array;
    },
    same: (a, b) => {
      const x = a as Float64Array;
      const y = b as Float64Array;
      return y instanceof Float64Array && y.length === x.length && y[12_345_678] === x[12_345_678] && y[x.length - 1] === x[x.length - 1];
    },
  },
];

export interface Round {
  baseStore: number;
  lpStore: number;
  baseLoad: number;
  lpLoad: number;
}

/** The floor a round compares with: the serialized value written and read back by the plainest means. */
export interface Baseline {
  write(bytes: Buffer): Promise<unknown>;
  read(): Promise<Buffer>;
  remove(): Promise<unknown>;
}

/** The baseline of the local cache: a file in the case's folder. */
function fileBaseline(folder: string, index: number): Baseline {
  const file = path.join(folder, `baseline-${index}.bin`);
  return {
    write: (bytes) => fs.promises.writeFile(file, bytes),
    read: () => fs.promises.readFile(file),
    remove: async () => fs.rmSync(file, { force: true }),
  };
}

/**
 * One round through `pipeline`, opened once per case as a script or a notebook keeps its
 * pipeline open (opening a store is a cost per process, not per result): the task has a name of
 * its own in each round, so the store is a run of a task that never ran, and the result is
 * cleared afterwards (untimed), so rounds do not pile up 100 MB values.
 */
export async function round(item: Case, value: unknown, baseFirst: boolean, baseline: Baseline, index: number, pipeline: Pipeline): Promise<Round> {
  const name = `${TASK}${index}`;
  const task = new Task(name).process('run', () => value);
  pipeline.add(task);
  /** Runs both sides of one operation, in the order of this round. */
  const both = async (base: () => Promise<number>, lp: () => Promise<number>) => {
    if (baseFirst) {
      const baseMs = await base();
      return { baseMs, lpMs: await lp() };
    }
    const lpMs = await lp();
    return { baseMs: await base(), lpMs };
  };
  try {
    const store = await both(
      async () => (await timeMs(() => baseline.write(v8.serialize(value)))).ms,
      async () => {
        const { ms, value: report } = await timeMs(() => pipeline.execute({ progress: false, only: [name] }));
        if (report.task(name)?.status !== 'ran') throw new Error(`${item.key}: the task did not run`);
        return ms;
      },
    );
    const load = await both(
      async () => {
        const { ms, value: loaded } = await timeMs(async () => v8.deserialize(await baseline.read()) as unknown);
        if (!item.same(value, loaded)) throw new Error(`${item.key}: the baseline read back a different value`);
        return ms;
      },
      async () => {
        const { ms, value: loaded } = await timeMs(() => pipeline.getResult(name));
        if (!item.same(value, loaded)) throw new Error(`${item.key}: the loaded result differs from the stored one`);
        await pipeline.clear([name]);
        return ms;
      },
    );
    return { baseStore: store.baseMs, lpStore: store.lpMs, baseLoad: load.baseMs, lpLoad: load.lpMs };
  } finally {
    await baseline.remove();
  }
}

/**
 * Opens the pipeline of a case in `folder` (on `store` when given) and creates its cache (SQLite
 * database or the store's tables, log and blob folders) with an untimed run, as any cache that has been used before has them: the rounds then
 * measure storing a result, not creating a database. (The "tiny" case shows what one execute()
 * costs besides the result.)
 */
export async function prime(folder: string, store?: string): Promise<Pipeline> {
  const pipeline: Pipeline = new Pipeline('Large', { cacheDir: folder, store, project: 'bench' });
  pipeline.add(new Task('Prime').process('run', () => new Float64Array(16_384)));
  await pipeline.execute({ progress: false });
  return pipeline;
}

/** Logs a case's medians and ratios and returns them as figures; ratios have the target `max`. */
export function summarize(bench: string, item: Case, rounds: readonly Round[], log: (line: string) => void, max: number, label = item.label): Figure[] {
  const figures: Figure[] = [];
  const pick = (key: keyof Round) => rounds.map((r) => r[key]);
  for (const op of ['store', 'load'] as const) {
    const lp = pick(op === 'store' ? 'lpStore' : 'lpLoad');
    const base = pick(op === 'store' ? 'baseStore' : 'baseLoad');
    const ratio = median(lp) / median(base);
    const perRound = lp.map((ms, i) => ms / base[i]!);
    log(`  ${label} ${op.padEnd(5)}: littlepipes ${fmt(median(lp))} ms ${list(lp)}, baseline ${fmt(median(base))} ms ${list(base)}, ratio ${fmt(ratio, 2)} (per round ${list(perRound)})`);
    figures.push({ bench, name: `${item.key} ${op} littlepipes ms`, value: median(lp), unit: 'ms' });
    figures.push({ bench, name: `${item.key} ${op} baseline ms`, value: median(base), unit: 'ms' });
    figures.push({ bench, name: `${item.key} ${op} ratio`, value: ratio, unit: 'x', max: item.informational ? undefined : max });
  }
  return figures;
}

export async function largeResultsBench(log: (line: string) => void): Promise<Figure[]> {
  const root = temporaryFolder('littlepipes-bench-large-');
  const figures: Figure[] = [];
  try {
    // Warm-up: the code paths of both sides, on a mid-sized value.
    {
      const warm = Array.from({ length: 100_000 }, () => Math.random());
      const folder = path.join(root, 'warmup');
      const pipeline = await prime(folder);
      await round({ key: 'warmup', label: 'warm-up', rounds: 1, make: () => warm, same: () => true }, warm, true, fileBaseline(folder, 0), 0, pipeline);
      await pipeline.close();
    }
    for (const item of CASES) {
      const folder = path.join(root, item.key);
      const pipeline = await prime(folder);
      let value: unknown = item.make();
      const bytes = v8.serialize(value).length;
      log(`large: ${item.label}: ${fmt(bytes / 1e6)} MB serialized`);
      // Untimed rounds of this very case first, for both sides alike: the first passes over a
      // value of millions of members run before the JIT has compiled the loops that walk it.
      for (let index = -3; index < 0; index++) await round(item, value, true, fileBaseline(folder, index), index, pipeline);
      const rounds: Round[] = [];
      for (let index = 0; index < item.rounds; index++) {
        const r = await round(item, value, index % 2 === 0, fileBaseline(folder, index), index, pipeline);
        rounds.push(r);
        log(`large:   round ${index + 1}/${item.rounds}: store ${fmt(r.lpStore)} ms (baseline ${fmt(r.baseStore)}), load ${fmt(r.lpLoad)} ms (baseline ${fmt(r.baseLoad)})`);
      }
      value = undefined;
      await pipeline.close();
      removeFolder(folder);
      figures.push(...summarize(BENCH, item, rounds, log, 1.5));
    }
  } finally {
    removeFolder(root);
  }
  return figures;
}
