/**
 * Tables as results (the codec's frames, lib/cache/codec.ts), stored and loaded through the
 * public API, against each library's own raw path measured in the same run:
 *
 * - apache-arrow Table, 1,000,000 × 8: `tableToIPC` + `fs.promises.writeFile`, `readFile` + `tableFromIPC`.
 * - nodejs-polars DataFrame, the same table: its own `writeIPC(file)` and `readIPC(file)`.
 * - arquero table, the same table: `toArrowIPC` + writeFile, readFile + `fromArrow`.
 * - 200,000 row objects × 8 fields (strings, numbers, dates): `v8.serialize` + fs and
 *   `JSON.stringify` + fs (load: `JSON.parse`, `v8.deserialize`); the ratio is over the faster.
 * - Peak RSS of a child process storing a 100 MB Arrow table, above bare node, against a child
 *   taking the raw path.
 *
 * The columns: int32, float64, int64 (bigint), bool, utf8, dictionary utf8, date, timestamp
 * (bench/tables-data.mjs). Each value is built once, outside the timed region.
 *
 * Store = `execute()` + `close()` of a new Pipeline (cacheDir in a temporary folder, primed by
 * an untimed run) whose one task returns the prebuilt value, minus the same for a new Pipeline
 * whose one task returns `1`: what is left is the cost of the value. Load = `getResult()` of a
 * new Pipeline on the same folder, minus the same for the task that returned `1`. Whole times
 * (without the subtraction) are logged too. Baseline and littlepipes alternate which goes first,
 * each case starts with untimed rounds, and each figure is the median of the rounds.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import * as arrow from 'apache-arrow';
import * as aq from 'arquero';
import pl from 'nodejs-polars';
import { Pipeline, Task } from '../dist/index.js';
import { MEMORY_ROWS, buildArrowTable } from './tables-data.mjs';
import { type Figure, fmt, list, median, removeFolder, temporaryFolder, timeMs } from './util.js';

const BENCH = 'tables';
const ROWS = 1_000_000;
const OBJECT_ROWS = 200_000;
const HERE = path.dirname(fileURLToPath(import.meta.url));

/** A raw path: writes the value to `file`, reads it back. */
interface Baseline {
  name: string;
  write(file: string): Promise<unknown>;
  read(file: string): Promise<unknown>;
}

interface Case {
  key: string;
  label: string;
  /** Timed rounds, after `warmup` untimed ones. */
  rounds: number;
  warmup: number;
  value: unknown;
  baselines: Baseline[];
  /** Cheap check that a loaded value is the one stored. */
  check(loaded: unknown): boolean;
  storeMax: number;
  loadMax: number;
}

interface Round {
  base: { store: number; load: number }[];
  store: number;
  tinyStore: number;
  load: number;
  tinyLoad: number;
}

const options = (folder: string) => ({ cacheDir: folder, project: 'bench', logLevel: 'silent' as const });

/** A task returning `value`: the same code for every task, so a new pipeline finds the entries of an earlier one fresh. */
function taskOf(name: string, value: unknown): Task {
  return new Task(name).process('run', () => value) as unknown as Task;
}

function pipelineOf(folder: string, tasks: [string, unknown][]): Pipeline {
  const pipeline = new Pipeline('Tables', options(folder));
  for (const [name, value] of tasks) pipeline.add(taskOf(name, value));
  return pipeline;
}

/** execute() + close() of a new pipeline whose one task returns `value`, in ms (the pipeline is made before the clock starts). */
async function timeStore(folder: string, name: string, value: unknown): Promise<number> {
  const pipeline = pipelineOf(folder, [[name, value]]);
  const { ms, value: report } = await timeMs(async () => {
    const run = await pipeline.execute({ progress: false });
    await pipeline.close();
    return run;
  });
  if (report.task(name)?.status !== 'ran') throw new Error(`${name}: the task did not run`);
  return ms;
}

/** getResult() of a new pipeline, in ms; its close() is not timed. */
async function timeLoad(folder: string, name: string, value: unknown, check: (loaded: unknown) => boolean): Promise<number> {
  const pipeline = pipelineOf(folder, [[name, value]]);
  try {
    const { ms, value: loaded } = await timeMs(() => pipeline.getResult(name));
    if (!check(loaded)) throw new Error(`${name}: the loaded result differs from the stored one`);
    return ms;
  } finally {
    await pipeline.close();
  }
}

async function round(item: Case, folder: string, index: number, baseFirst: boolean): Promise<Round> {
  const big = `Big${index}`;
  const tiny = `Tiny${index}`;
  const files = item.baselines.map((_, at) => path.join(folder, `baseline-${at}-${index}.ipc`));
  const both = async <B, L>(base: () => Promise<B>, lp: () => Promise<L>): Promise<[B, L]> => {
    if (baseFirst) {
      const b = await base();
      return [b, await lp()];
    }
    const l = await lp();
    return [await base(), l];
  };
  try {
    const [baseStore, [store, tinyStore]] = await both(
      async () => {
        const times: number[] = [];
        for (const [at, baseline] of item.baselines.entries()) times.push((await timeMs(() => baseline.write(files[at]!))).ms);
        return times;
      },
      async (): Promise<[number, number]> => [await timeStore(folder, big, item.value), await timeStore(folder, tiny, 1)],
    );
    const [baseLoad, [load, tinyLoad]] = await both(
      async () => {
        const times: number[] = [];
        for (const [at, baseline] of item.baselines.entries()) {
          const { ms, value } = await timeMs(() => baseline.read(files[at]!));
          if (!item.check(value) && baseline.name !== 'json') throw new Error(`${item.key}: the ${baseline.name} baseline read back a different value`);
          times.push(ms);
        }
        return times;
      },
      async (): Promise<[number, number]> => [await timeLoad(folder, big, item.value, item.check), await timeLoad(folder, tiny, 1, (loaded) => loaded === 1)],
    );
    return { base: baseStore.map((ms, at) => ({ store: ms, load: baseLoad[at]! })), store, tinyStore, load, tinyLoad };
  } finally {
    // Untimed: the round's entries and files go, so rounds do not pile up tens of MB each.
    const cleaner = pipelineOf(folder, [[big, item.value], [tiny, 1]]);
    await cleaner.clear([big, tiny]);
    await cleaner.close();
    for (const file of files) fs.rmSync(file, { force: true });
  }
}

function summarize(item: Case, rounds: Round[], log: (line: string) => void): Figure[] {
  const figures: Figure[] = [];
  for (const op of ['store', 'load'] as const) {
    const tinyKey = op === 'store' ? 'tinyStore' : 'tinyLoad';
    const whole = rounds.map((r) => r[op]);
    const tiny = rounds.map((r) => r[tinyKey]);
    const net = rounds.map((r) => r[op] - r[tinyKey]);
    const bases = item.baselines.map((baseline, at) => ({ name: baseline.name, times: rounds.map((r) => r.base[at]![op]) }));
    const fastest = bases.reduce((a, b) => (median(b.times) < median(a.times) ? b : a));
    const base = median(fastest.times);
    const ratio = median(net) / base;
    const max = op === 'store' ? item.storeMax : item.loadMax;
    for (const b of bases) log(`  ${item.label} ${op}: baseline ${b.name} ${fmt(median(b.times))} ms ${list(b.times)}`);
    log(`  ${item.label} ${op}: littlepipes ${fmt(median(net))} ms net ${list(net)} (whole ${fmt(median(whole))} ms ${list(whole)}, tiny task ${fmt(median(tiny))} ms ${list(tiny)})`);
    log(`  ${item.label} ${op}: ratio ${fmt(ratio, 3)} over ${fastest.name} (whole, tiny task not subtracted: ${fmt(median(whole) / base, 3)}); target <= ${max}`);
    figures.push({ bench: BENCH, name: `${item.key} ${op} littlepipes ms (net of tiny task)`, value: median(net), unit: 'ms' });
    figures.push({ bench: BENCH, name: `${item.key} ${op} baseline ms (${fastest.name})`, value: base, unit: 'ms' });
    figures.push({ bench: BENCH, name: `${item.key} ${op} ratio`, value: ratio, unit: 'x', max });
  }
  return figures;
}

interface ObjectRow {
  id: number;
  name: string;
  city: string;
  amount: number;
  quantity: number;
  created: Date;
  updated: Date;
  note: string;
}

function buildObjects(rows: number): ObjectRow[] {
  const cities = ['Lisbon', 'Porto', 'Braga', 'Faro', 'Coimbra'];
  const start = Date.UTC(2020, 0, 1);
  return Array.from({ length: rows }, (_, i) => ({
    id: i,
    name: `customer-${i}`,
    city: cities[i % cities.length]!,
    amount: Math.round(Math.sin(i) * 1e6) / 100,
    quantity: i % 97,
    created: new Date(start + i * 60_000),
    updated: new Date(start + i * 90_000),
    note: i % 10 === 0 ? `follow up on order ${i}` : '',
  }));
}

function cases(): Case[] {
  const table = buildArrowTable(ROWS);
  const lastId = ROWS - 1;
  const arrowCheck = (loaded: unknown) => {
    const t = loaded as arrow.Table;
    return t instanceof arrow.Table && t.numRows === ROWS && t.numCols === 8 && t.getChild('id')?.get(lastId) === lastId && t.getChild('name')?.get(lastId) === `customer-${lastId}`;
  };
  // polars and arquero tables of the same data, built from the same Arrow table.
  const frame = pl.readIPC(Buffer.from(arrow.tableToIPC(table, 'file')));
  const arqueroTable = aq.fromArrow(table as unknown as Parameters<typeof aq.fromArrow>[0]);
  const objects = buildObjects(OBJECT_ROWS);
  return [
    {
      key: 'arrow',
      label: 'apache-arrow Table 1e6 x 8',
      rounds: 7,
      warmup: 2,
      value: table,
      baselines: [{
        name: 'tableToIPC+writeFile / readFile+tableFromIPC',
        write: (file) => fs.promises.writeFile(file, arrow.tableToIPC(table, 'stream')),
        read: async (file) => arrow.tableFromIPC(await fs.promises.readFile(file)),
      }],
      check: arrowCheck,
      storeMax: 1.2,
      loadMax: 1.2,
    },
    {
      key: 'polars',
      label: 'nodejs-polars DataFrame 1e6 x 8',
      rounds: 7,
      warmup: 2,
      value: frame,
      baselines: [{
        name: 'writeIPC(file) / readIPC(file)',
        write: async (file) => frame.writeIPC(file),
        read: async (file) => pl.readIPC(file),
      }],
      check: (loaded) => {
        const f = loaded as pl.DataFrame;
        return f.height === ROWS && f.width === 8 && f.getColumn('id').get(lastId) === lastId;
      },
      storeMax: 1.2,
      loadMax: 1.2,
    },
    {
      // arquero writes Arrow from its values, row by row: seconds a store, so fewer rounds.
      key: 'arquero',
      label: 'arquero table 1e6 x 8',
      rounds: 3,
      warmup: 1,
      value: arqueroTable,
      baselines: [{
        name: 'toArrowIPC+writeFile / readFile+fromArrow',
        write: (file) => fs.promises.writeFile(file, arqueroTable.toArrowIPC({ format: 'stream' })),
        read: async (file) => aq.fromArrow(await fs.promises.readFile(file)),
      }],
      check: (loaded) => {
        const t = loaded as ReturnType<typeof aq.fromArrow>;
        return typeof t?.numRows === 'function' && t.numRows() === ROWS && t.numCols() === 8 && t.get('id', lastId) === lastId;
      },
      storeMax: 1.3,
      loadMax: 1.3,
    },
    {
      key: 'objects',
      label: '2e5 row objects x 8',
      rounds: 7,
      warmup: 2,
      value: objects,
      baselines: [
        {
          name: 'v8',
          write: (file) => fs.promises.writeFile(file, v8.serialize(objects)),
          read: async (file) => v8.deserialize(await fs.promises.readFile(file)) as unknown,
        },
        {
          name: 'json',
          write: (file) => fs.promises.writeFile(file, JSON.stringify(objects)),
          read: async (file) => JSON.parse(await fs.promises.readFile(file, 'utf8')) as unknown,
        },
      ],
      check: (loaded) => {
        const rows = loaded as ObjectRow[];
        const last = rows[OBJECT_ROWS - 1];
        return Array.isArray(rows) && rows.length === OBJECT_ROWS && last?.name === objects[OBJECT_ROWS - 1]!.name && last.created instanceof Date && last.created.getTime() === objects[OBJECT_ROWS - 1]!.created.getTime();
      },
      storeMax: 1.3,
      loadMax: 1.2,
    },
  ];
}

/** Runs a memory child and returns its peak RSS (and the peak once its table was built), in MB. */
function child(args: string[], folder: string): { built?: number; peak: number; ipcBytes?: number } {
  fs.rmSync(folder, { recursive: true, force: true });
  fs.mkdirSync(folder, { recursive: true });
  // Through sh, which forks node rather than execing it: Linux carries a process's peak RSS
  // across exec, and a child forked straight from this bench would inherit this process's.
  const result = spawnSync('/bin/sh', ['-c', '"$0" "$@"; exit $?', process.execPath, ...args], { cwd: path.join(HERE, '..'), encoding: 'utf8', maxBuffer: 1 << 20 });
  if (result.status !== 0) throw new Error(`memory child ${args.join(' ')} failed: ${result.stderr}`);
  const out = JSON.parse(result.stdout) as { builtKb?: number; peakKb: number; ipcBytes?: number };
  fs.rmSync(folder, { recursive: true, force: true });
  return { built: out.builtKb === undefined ? undefined : out.builtKb / 1024, peak: out.peakKb / 1024, ipcBytes: out.ipcBytes };
}

async function memoryFigures(root: string, log: (line: string) => void): Promise<Figure[]> {
  const script = path.join(HERE, 'tables-data.mjs');
  const folder = path.join(root, 'memory');
  const bare: number[] = [];
  const raw: number[] = [];
  const rawBuilt: number[] = [];
  const lp: number[] = [];
  const lpBuilt: number[] = [];
  let ipcBytes = 0;
  const ROUNDS = 3;
  for (let index = 0; index < ROUNDS; index++) {
    const order = index % 2 === 0 ? ['bare', 'raw', 'littlepipes'] : ['littlepipes', 'raw', 'bare'];
    for (const which of order) {
      if (which === 'bare') {
        bare.push(child(['-e', 'process.stdout.write(JSON.stringify({ peakKb: process.resourceUsage().maxRSS }))'], folder).peak);
      } else {
        const out = child([script, which, String(MEMORY_ROWS), folder], folder);
        (which === 'raw' ? raw : lp).push(out.peak);
        (which === 'raw' ? rawBuilt : lpBuilt).push(out.built!);
        if (out.ipcBytes) ipcBytes = out.ipcBytes;
      }
    }
    log(`tables:   memory round ${index + 1}/${ROUNDS}: bare ${fmt(bare.at(-1)!)} MB, raw ${fmt(raw.at(-1)!)} MB (table built ${fmt(rawBuilt.at(-1)!)}), littlepipes ${fmt(lp.at(-1)!)} MB (table built ${fmt(lpBuilt.at(-1)!)})`);
  }
  const base = median(bare);
  const rawAbove = median(raw) - base;
  const lpAbove = median(lp) - base;
  const ratio = lpAbove / rawAbove;
  log(`  memory: ${MEMORY_ROWS.toLocaleString('en')} rows x 8, ${fmt(ipcBytes / 1e6)} MB of Arrow IPC; peak RSS above bare node (${fmt(base)} MB): littlepipes ${fmt(lpAbove)} MB, raw ${fmt(rawAbove)} MB, ratio ${fmt(ratio, 3)}; target <= 1.5`);
  log(`  memory: peak once the table was built, above bare node: raw child ${fmt(median(rawBuilt) - base)} MB, littlepipes child ${fmt(median(lpBuilt) - base)} MB (littlepipes not loaded yet)`);
  return [
    { bench: BENCH, name: 'memory 100 MB table littlepipes peak RSS above bare node', value: lpAbove, unit: 'MB' },
    { bench: BENCH, name: 'memory 100 MB table raw peak RSS above bare node', value: rawAbove, unit: 'MB' },
    { bench: BENCH, name: 'memory 100 MB table ratio', value: ratio, unit: 'x', max: 1.5 },
  ];
}

export async function tablesBench(log: (line: string) => void): Promise<Figure[]> {
  const root = temporaryFolder('littlepipes-bench-tables-');
  const figures: Figure[] = [];
  try {
    const all = cases();
    for (const item of all) {
      const folder = path.join(root, item.key);
      // Untimed: the cache's database and blob folder exist, as in any cache used before.
      const primer = pipelineOf(folder, [['Prime', new Float64Array(16_384)]]);
      await primer.execute({ progress: false });
      await primer.close();
      for (let index = -item.warmup; index < 0; index++) await round(item, folder, index, index % 2 === 0);
      const rounds: Round[] = [];
      for (let index = 0; index < item.rounds; index++) {
        const r = await round(item, folder, index, index % 2 === 0);
        rounds.push(r);
        log(`tables:   ${item.key} round ${index + 1}/${item.rounds}: store ${fmt(r.store)} ms (tiny ${fmt(r.tinyStore)}, baseline ${r.base.map((b) => fmt(b.store)).join('/')}), load ${fmt(r.load)} ms (tiny ${fmt(r.tinyLoad)}, baseline ${r.base.map((b) => fmt(b.load)).join('/')})`);
      }
      removeFolder(folder);
      figures.push(...summarize(item, rounds, log));
      item.value = undefined;
    }
    figures.push(...(await memoryFigures(root, log)));
  } finally {
    removeFolder(root);
  }
  return figures;
}
