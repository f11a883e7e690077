/**
 * Per-task overhead of the runner and the cache: N no-op tasks, task i (i >= 1) depending on
 * tasks i-1 and floor(i/2), each returning i. A cold run (fresh cache folder, every task runs)
 * and a fully cached run (a new Pipeline and new Task objects on the same folder, as a new
 * process would have), timed as the wall time of `await pipeline.execute()`.
 */
import { type AnyTask, Pipeline, type RunReport, Task } from '../lib/index.js';
import { type Figure, fmt, list, median, min, removeFolder, temporaryFolder, timeMs } from './util.js';

const SIZES = [1_000, 10_000] as const;
const ROUNDS = 5;
const BENCH = 'overhead';

/** The task definitions; called again for the cached run, so that nothing is shared with the cold one. */
function buildPipeline(n: number, cacheDir: string): Pipeline {
  const tasks: AnyTask[] = [];
  for (let i = 0; i < n; i++) {
    const dependencies = i === 0 ? [] : [...new Set([`T${i - 1}`, `T${Math.floor(i / 2)}`])];
    tasks.push(new Task(`T${i}`, { dependencies }).process('run', () => i));
  }
  return new Pipeline('Overhead', { cacheDir }).add(...tasks);
}

function expectAll(report: RunReport, status: string, n: number, what: string): void {
  const counts = report.counts as Record<string, number>;
  if (report.tasks.length !== n || counts[status] !== n) {
    throw new Error(`${what}: expected ${n} tasks ${status}, got ${JSON.stringify(counts)}`);
  }
}

interface Sample {
  buildColdMs: number;
  coldMs: number;
  buildCachedMs: number;
  cachedMs: number;
}

async function measure(n: number): Promise<Sample> {
  const folder = temporaryFolder('littlepipes-bench-overhead-');
  try {
    const coldBuild = await timeMs(() => buildPipeline(n, folder));
    const cold = await timeMs(() => coldBuild.value.execute({ progress: false }));
    expectAll(cold.value, 'ran', n, `cold run of ${n}`);
    await coldBuild.value.close();

    const cachedBuild = await timeMs(() => buildPipeline(n, folder));
    const cached = await timeMs(() => cachedBuild.value.execute({ progress: false }));
    expectAll(cached.value, 'cached', n, `cached run of ${n}`);
    // The result of the last task proves the cache serves real values.
    const last = await cachedBuild.value.getResult(`T${n - 1}`);
    if (last !== n - 1) throw new Error(`cached result of T${n - 1} is ${String(last)}`);
    await cachedBuild.value.close();

    return { buildColdMs: coldBuild.ms, coldMs: cold.ms, buildCachedMs: cachedBuild.ms, cachedMs: cached.ms };
  } finally {
    removeFolder(folder);
  }
}

export async function overheadBench(log: (line: string) => void): Promise<Figure[]> {
  log(`overhead: warm-up (N = ${SIZES[0]})`);
  await measure(SIZES[0]);

  const samples = new Map<number, Sample[]>(SIZES.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Both sizes in every round, in alternating order, so noise hits both.
    const order = round % 2 === 0 ? [...SIZES] : [...SIZES].reverse();
    for (const n of order) {
      const sample = await measure(n);
      samples.get(n)!.push(sample);
      log(`overhead: round ${round + 1}/${ROUNDS} N=${n}: cold ${fmt(sample.coldMs)} ms, cached ${fmt(sample.cachedMs)} ms (build ${fmt(sample.buildColdMs)} / ${fmt(sample.buildCachedMs)} ms)`);
    }
  }

  const figures: Figure[] = [];
  const perTask = new Map<string, number>();
  log('');
  log('overhead: microseconds per task (median of rounds; min and all rounds after)');
  for (const n of SIZES) {
    const rows = samples.get(n)!;
    for (const kind of ['cold', 'cached'] as const) {
      const us = rows.map((row) => ((kind === 'cold' ? row.coldMs : row.cachedMs) * 1000) / n);
      const build = rows.map((row) => ((kind === 'cold' ? row.buildColdMs : row.buildCachedMs) * 1000) / n);
      perTask.set(`${kind}:${n}`, median(us));
      log(`  N=${String(n).padStart(6)} ${kind.padEnd(6)} execute(): ${fmt(median(us)).padStart(7)} us/task (min ${fmt(min(us))}, all ${list(us)}); build+add(): ${fmt(median(build))} us/task`);
      figures.push({
        bench: BENCH,
        name: `${kind} execute() us/task, N=${n}`,
        value: median(us),
        unit: 'us',
        max: n === 10_000 ? (kind === 'cold' ? 50 : 20) : undefined,
      });
      figures.push({ bench: BENCH, name: `${kind} build+add() us/task, N=${n}`, value: median(build), unit: 'us' });
    }
  }
  for (const kind of ['cold', 'cached'] as const) {
    const ratio = perTask.get(`${kind}:10000`)! / perTask.get(`${kind}:1000`)!;
    // Per-round ratios too: both sizes of a round ran back to back.
    const rounds = samples.get(10_000)!.map((big, index) => {
      const small = samples.get(1_000)![index]!;
      return kind === 'cold' ? big.coldMs / 10 / small.coldMs : big.cachedMs / 10 / small.cachedMs;
    });
    log(`  ${kind} growth (us/task at 10,000) / (us/task at 1,000): ${fmt(ratio, 3)} (per round ${list(rounds)})`);
    figures.push({ bench: BENCH, name: `${kind} growth ratio 10k/1k`, value: ratio, unit: 'x', max: 1.3 });
  }
  return figures;
}
