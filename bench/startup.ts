/**
 * What a process pays before a pipeline does anything: importing the package, a one-task
 * `littlepipes plan`, a fully cached 20-task `littlepipes run`, and `littlepipes --version`. Each
 * is a fresh `node` process, timed from spawn to exit, against baselines spawned the same number
 * of times, interleaved with them in every round so that noise from the machine hits all alike:
 * - `node -e ''`: the floor of any node process;
 * - `node -e "await import('keyv')"`: the floor of a package that keeps results in Keyv;
 * - node registering littlepipes' TypeScript hooks, as the command line does to load a
 *   pipeline.ts: the floor of a command that loads a TypeScript module (Node 20 starts a thread
 *   for the hooks and waits for it).
 *
 * Wall time is the headline (what a person at a terminal waits for); CPU time (user + system, all
 * threads, as process.cpuUsage() reports at exit) is beside it, because two cores are shared and
 * a loader thread's work shows in CPU before it shows in wall time.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Figure, fmt, list, median, removeFolder, temporaryFolder } from './util.js';

const BENCH = 'startup';
const ROUNDS = 15;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const PACKAGE_ENTRY = pathToFileURL(path.join(ROOT, 'dist', 'index.js')).href;
/** Keyv's entry as littlepipes resolves it: the child processes run in a project of their own. */
const KEYV_ENTRY = import.meta.resolve('keyv');
const TYPESCRIPT_HOOKS = pathToFileURL(path.join(ROOT, 'dist', 'typescript', 'hooks.js')).href;
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Preloaded into every process alike: writes the process's CPU time (microseconds) to $CPU_FILE at exit. */
const CPU_REPORT = `data:text/javascript,${encodeURIComponent("import fs from 'node:fs'; process.on('exit', () => { const { user, system } = process.cpuUsage(); fs.writeFileSync(process.env.CPU_FILE, String(user + system)); });")}`;

interface Subject {
  name: string;
  args: string[];
  /** Throws when the process did not do what it is timed for. */
  check: (stdout: string, stderr: string) => void;
  /** A figure measured, not a floor: its wall time as a multiple of each baseline's is reported. */
  measured?: true;
  /** Targets: at most this many times a baseline's wall time. */
  max?: Partial<Record<Baseline, number>>;
}

const BASELINES = ['bare node', 'node + keyv', 'node + TS hooks'] as const;
type Baseline = (typeof BASELINES)[number];

function subjects(project: string): Subject[] {
  const nothing = () => {};
  return [
    { name: 'bare node', args: ['-e', ''], check: nothing },
    { name: 'node + keyv', args: ['-e', `await import(${JSON.stringify(KEYV_ENTRY)})`], check: nothing },
    { name: 'node + TS hooks', args: ['-e', `(await import('node:module')).register(${JSON.stringify(TYPESCRIPT_HOOKS)})`], check: nothing },
    {
      name: 'import littlepipes',
      args: ['-e', `const { Pipeline } = await import(${JSON.stringify(PACKAGE_ENTRY)}); if (typeof Pipeline !== 'function') process.exit(1);`],
      check: nothing,
      measured: true,
      // Issue 15's target. 1.8-2.0x after the deferred loading, 4.4x before it.
      max: { 'bare node': 1.5 },
    },
    {
      name: 'littlepipes plan (1 task)',
      args: [CLI, 'plan', '--pipeline', path.join(project, 'pipeline.ts')],
      check: (stdout) => {
        if (!/Only\s+│ will run/.test(stdout)) throw new Error(`littlepipes plan printed no plan for the task Only:\n${stdout}`);
      },
      measured: true,
      // The hooks' thread is much of a plan (it starts before the pipeline module can load), so
      // the target is against that floor: 1.6x (against tsx's) after, 2.7x before.
      max: { 'node + TS hooks': 2 },
    },
    {
      name: 'littlepipes run (20 cached)',
      args: [CLI, 'run', '--pipeline', path.join(project, 'twenty.ts')],
      check: (_stdout, stderr) => {
        if (!/Twenty: 20 cached/.test(stderr)) throw new Error(`littlepipes run did not serve the 20 tasks from the cache:\n${stderr}`);
      },
      measured: true,
      // Issue 15's target, the whole process: 5.7x before (tsx's hooks, a hundred modules).
      max: { 'bare node': 3 },
    },
    {
      name: 'littlepipes --version',
      args: [CLI, '--version'],
      check: (stdout) => {
        if (stdout.trim() !== VERSION) throw new Error(`littlepipes --version printed "${stdout.trim()}", not ${VERSION}`);
      },
      measured: true,
      // 1.5x after, 3.8x before (all of the package and its dependencies, for a version string).
      max: { 'bare node': 2 },
    },
  ];
}

/** A project with a one-task pipeline that imports littlepipes by name, as a user's does. */
function makeProject(folder: string): void {
  fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name: 'startup-bench', private: true, type: 'module' }));
  fs.mkdirSync(path.join(folder, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(folder, 'node_modules', 'littlepipes'), 'dir');
  fs.writeFileSync(path.join(folder, 'pipeline.ts'), [
    "import { Pipeline, Task } from 'littlepipes';",
    "export const pipeline = new Pipeline('Startup').add(new Task('Only').process('run', () => 1));",
    '',
  ].join('\n'));
  // A chain of 20 tasks, each adding a row to its upstream's: the warm-up runs it, and then it is cached.
  fs.writeFileSync(path.join(folder, 'twenty.ts'), [
    "import { Pipeline, Task } from 'littlepipes';",
    'interface Row { id: number; value: number }',
    'const tasks: Task[] = [];',
    'for (let i = 0; i < 20; i++) {',
    '  tasks.push(new Task(`T${i}`, { dependencies: i === 0 ? [] : [`T${i - 1}`] })',
    '    .process(\'run\', (t): Row[] => [...(i === 0 ? [] : t.result<Row[]>(`T${i - 1}`)), { id: i, value: i * 2 }]));',
    '}',
    "export const pipeline = new Pipeline('Twenty').add(...tasks);",
    '',
  ].join('\n'));
}

function measure(subject: Subject, project: string): { wallMs: number; cpuMs: number } {
  const cpuFile = path.join(project, 'cpu.txt');
  fs.rmSync(cpuFile, { force: true });
  const start = performance.now();
  const child = spawnSync(process.execPath, ['--import', CPU_REPORT, ...subject.args], {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, CPU_FILE: cpuFile, LITTLEPIPES_DIR: path.join(project, '.littlepipes'), NO_COLOR: '1' },
  });
  const wallMs = performance.now() - start;
  if (child.status !== 0) throw new Error(`${subject.name} exited with ${child.status}:\n${child.stderr}`);
  subject.check(child.stdout, child.stderr);
  return { wallMs, cpuMs: Number(fs.readFileSync(cpuFile, 'utf8')) / 1000 };
}

export async function startupBench(log: (line: string) => void): Promise<Figure[]> {
  const project = temporaryFolder('littlepipes-bench-startup-');
  try {
    makeProject(project);
    const all = subjects(project);
    // The 20 tasks' results, for the cached runs to find.
    measure({ name: 'a first run of twenty.ts', args: all.find((subject) => subject.name === 'littlepipes run (20 cached)')!.args, check: () => {} }, project);
    const wall = new Map<string, number[]>(all.map((subject) => [subject.name, []]));
    const cpu = new Map<string, number[]>(all.map((subject) => [subject.name, []]));
    log(`startup: warm-up (one of each: the file cache, the plan's cache folder)`);
    for (const subject of all) measure(subject, project);
    for (let round = 0; round < ROUNDS; round++) {
      // Every subject in every round, in an order that turns each round, so none always runs first.
      const order = all.map((_, index) => all[(index + round) % all.length]!);
      for (const subject of order) {
        const { wallMs, cpuMs } = measure(subject, project);
        wall.get(subject.name)!.push(wallMs);
        cpu.get(subject.name)!.push(cpuMs);
      }
      log(`startup: round ${round + 1}/${ROUNDS}: ${all.map((subject) => `${subject.name} ${fmt(wall.get(subject.name)!.at(-1)!)} ms`).join(', ')}`);
    }

    const figures: Figure[] = [];
    log('');
    log('startup: wall time of a process from spawn to exit, ms (median of rounds; all rounds after), and its CPU time');
    for (const subject of all) {
      const times = wall.get(subject.name)!;
      log(`  ${subject.name.padEnd(26)} ${fmt(median(times)).padStart(7)} ms wall, ${fmt(median(cpu.get(subject.name)!)).padStart(7)} ms CPU  ${list(times)}`);
      figures.push({ bench: BENCH, name: `${subject.name} ms`, value: median(times), unit: 'ms' });
    }
    log('');
    log('startup: each as a multiple of the baselines in the same rounds (median of the per-round ratios)');
    for (const subject of all) {
      if (!subject.measured) continue;
      // Per-round ratios: a subject and its baseline ran moments apart, so the machine's load cancels.
      const ratios = (times: Map<string, number[]>, against: Baseline) => times.get(subject.name)!.map((ms, round) => ms / times.get(against)![round]!);
      const cpuRatios = ratios(cpu, 'bare node');
      log(`  ${subject.name}: ${fmt(median(cpuRatios), 3)}x bare node's CPU time`);
      for (const against of BASELINES) {
        const wallRatios = ratios(wall, against);
        log(`    ${fmt(median(wallRatios), 3).padStart(6)}x ${against.padEnd(16)} wall  ${list(wallRatios)}`);
        figures.push({ bench: BENCH, name: `${subject.name} / ${against}, wall`, value: median(wallRatios), unit: 'x', max: subject.max?.[against] });
      }
      figures.push({ bench: BENCH, name: `${subject.name} / bare node, CPU`, value: median(cpuRatios), unit: 'x' });
    }
    return figures;
  } finally {
    removeFolder(project);
  }
}
