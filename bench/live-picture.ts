/**
 * What `littlepipes run --html FILE` costs: a run of 60 tasks of 20 to 80 ms each (sleeps, in six
 * chains, some tasks waiting on two), with a live picture and without, each a fresh process with
 * --force so that every task runs, the two in turn in every round so that the machine's load hits
 * both alike. The headline is the whole process's wall time with --html over the same run's
 * without, per round; beside it, the run's own length and the sum of the tasks' times as the
 * report gives them (a page drawn inside the runner's events counted in the tasks' times), and
 * how many pages were written, counted as renames into FILE (each page is renamed into place).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Figure, fmt, list, median, removeFolder, temporaryFolder } from './util.js';

const BENCH = 'html';
const ROUNDS = 8;
const TASKS = 60;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

const PIPELINE = `
import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, Task } from 'littlepipes';
const name = (index: number) => 'Step' + String(index).padStart(2, '0');
const tasks = Array.from({ length: ${TASKS} }, (_, index) => {
  const dependencies = index < 6 ? [] : [name(index - 6), ...(index % 4 === 0 ? [name(index - 5)] : [])];
  return new Task(name(index), { dependencies }).process('run', async () => {
    await sleep(20 + ((index * 37) % 61));
    return index;
  });
});
export const pipeline = new Pipeline('Sixty').add(...tasks);
`;

interface Sample {
  wallMs: number;
  runMs: number;
  taskMs: number;
  pages: number;
}

/** A project with the 60-task pipeline, importing littlepipes by name as a user's does. */
function makeProject(folder: string): void {
  fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name: 'html-bench', private: true, type: 'module', littlepipes: { pipeline: 'pipeline.ts' } }));
  fs.mkdirSync(path.join(folder, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(folder, 'node_modules', 'littlepipes'), 'dir');
  fs.writeFileSync(path.join(folder, 'pipeline.ts'), PIPELINE);
}

async function measure(project: string, html: boolean): Promise<Sample> {
  const args = [CLI, 'run', '--force', '--json', ...(html ? ['--html', 'run.html'] : [])];
  let pages = 0;
  // Each page is renamed into run.html: one event naming it per page.
  const watcher = html ? fs.watch(project, (_event, name) => void (name === 'run.html' && pages++)) : undefined;
  const start = performance.now();
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, args, { cwd: project, maxBuffer: 1 << 24, env: { ...process.env, NO_COLOR: '1', CI: '1' } }, (error, out, err) => {
        if (error) reject(new Error(`littlepipes ${args.slice(1).join(' ')} failed: ${err}`));
        else resolve(out);
      });
    });
    const wallMs = performance.now() - start;
    // Events the kernel queued before the exit are read on the next turns of the loop.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const report = JSON.parse(stdout) as { ms: number; tasks: { status: string; ms: number }[] };
    const ran = report.tasks.filter((task) => task.status === 'ran');
    if (ran.length !== TASKS) throw new Error(`${ran.length} of ${TASKS} tasks ran`);
    return { wallMs, runMs: report.ms, taskMs: ran.reduce((sum, task) => sum + task.ms, 0), pages };
  } finally {
    watcher?.close();
  }
}

export async function livePictureBench(log: (line: string) => void): Promise<Figure[]> {
  const project = temporaryFolder('littlepipes-bench-html-');
  try {
    makeProject(project);
    log(`html: warm-up (one run of each: the file cache, tsx's transform cache, the cache folder)`);
    await measure(project, false);
    await measure(project, true);
    const plain: Sample[] = [];
    const live: Sample[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Turn about, so that neither always runs first.
      if (round % 2 === 0) plain.push(await measure(project, false)), live.push(await measure(project, true));
      else live.push(await measure(project, true)), plain.push(await measure(project, false));
      log(`html: round ${round + 1}/${ROUNDS}: run ${fmt(plain.at(-1)!.wallMs)} ms, run --html ${fmt(live.at(-1)!.wallMs)} ms (${live.at(-1)!.pages} pages)`);
    }
    const ratios = (figure: keyof Sample) => live.map((sample, round) => sample[figure] / plain[round]![figure]);
    const of = (samples: Sample[], figure: keyof Sample) => samples.map((sample) => sample[figure]);
    log('');
    log(`html: ${TASKS} tasks of 20-80 ms, --force; median of rounds (all rounds after)`);
    log(`  run          ${fmt(median(of(plain, 'wallMs'))).padStart(7)} ms wall, the run ${fmt(median(of(plain, 'runMs')))} ms, its tasks ${fmt(median(of(plain, 'taskMs')))} ms  ${list(of(plain, 'wallMs'))}`);
    log(`  run --html   ${fmt(median(of(live, 'wallMs'))).padStart(7)} ms wall, the run ${fmt(median(of(live, 'runMs')))} ms, its tasks ${fmt(median(of(live, 'taskMs')))} ms  ${list(of(live, 'wallMs'))}`);
    log(`  pages written ${list(of(live, 'pages'))}`);
    log(`  --html / without, per round: wall ${list(ratios('wallMs'))}; the run ${list(ratios('runMs'))}; its tasks ${list(ratios('taskMs'))}`);
    return [
      { bench: BENCH, name: 'run ms (whole process)', value: median(of(plain, 'wallMs')), unit: 'ms' },
      { bench: BENCH, name: 'run --html ms (whole process)', value: median(of(live, 'wallMs')), unit: 'ms' },
      // 2.3x before the page was drawn on a timer, on a layout made once (the run 2.8x, its tasks' times 2.9x, 243 pages).
      { bench: BENCH, name: `run --html / run, ${TASKS} tasks, wall`, value: median(ratios('wallMs')), unit: 'x', max: 1.2 },
      { bench: BENCH, name: 'run --html / run, the run as the report times it', value: median(ratios('runMs')), unit: 'x' },
      { bench: BENCH, name: "run --html / run, the sum of the tasks' times", value: median(ratios('taskMs')), unit: 'x' },
      { bench: BENCH, name: 'pages written by run --html', value: median(of(live, 'pages')), unit: 'pages' },
    ];
  } finally {
    removeFolder(project);
  }
}
