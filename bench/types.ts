/**
 * What the types cost the compiler (issue 16): `tsc --noEmit` on a generated pipeline file of 500
 * tasks, each depending on two others given as Task objects and reading their results typed, made
 * into a Pipeline with the tasks option and asked for the last result, against the same file with
 * every task typed `any`. Both import the built package as a user does. Each round compiles both,
 * in turn; the figure is the median of the rounds' ratios, for wall time (the headline) and for
 * CPU time (the compiler's whole process tree, which a loaded machine disturbs less). Either file
 * failing to compile, an "excessively deep" instantiation above all, fails the bench.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Figure, fmt, list, median, removeFolder, temporaryFolder } from './util.js';

const BENCH = 'types';
const TASKS = 500;
const ROUNDS = 5;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');

/** The pipeline file: task i depends on tasks i-1 and i/2, given as themselves, typed or `any`. */
function pipelineFile(typed: boolean): string {
  const any = typed ? '' : ': any';
  const lines = ["import { Pipeline, Task } from 'littlepipes';", ''];
  for (let i = 0; i < TASKS; i++) {
    if (i < 2) {
      lines.push(`const t${i}${any} = new Task('T${i}').process('run', () => ${i});`);
      continue;
    }
    const [a, b] = [i - 1, Math.floor(i / 2)];
    lines.push(`const t${i}${any} = new Task('T${i}', { dependencies: [t${a}, t${b}] }).process('run', (t${any}) => t.result(t${a}) + t.result(t${b}));`);
  }
  lines.push(`const pipeline${any} = new Pipeline('Big', { tasks: [${Array.from({ length: TASKS }, (_, i) => `t${i}`).join(', ')}] });`);
  lines.push(`export const last: number = await pipeline.getResult('T${TASKS - 1}');`);
  return `${lines.join('\n')}\n`;
}

/** A project of its own, in which 'littlepipes' is this repository, as a user's node_modules would have it. */
function project(): string {
  const folder = temporaryFolder('littlepipes-bench-types-');
  fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  fs.mkdirSync(path.join(folder, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(folder, 'node_modules', 'littlepipes'), 'dir');
  for (const variant of ['typed', 'any']) {
    fs.writeFileSync(path.join(folder, `${variant}.ts`), pipelineFile(variant === 'typed'));
    const compilerOptions = {
      target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2023'], strict: true, noEmit: true, skipLibCheck: true,
      types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    };
    fs.writeFileSync(path.join(folder, `tsconfig.${variant}.json`), JSON.stringify({ compilerOptions, files: [`${variant}.ts`] }));
  }
  return folder;
}

/** The CPU time of this process's waited-for children so far, in ms (Linux: /proc/self/stat); undefined elsewhere. */
function childrenCpuMs(): number | undefined {
  try {
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    // After the command's name: cutime and cstime are the 14th and 15th fields, in clock ticks (100 a second on Linux).
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

function compile(folder: string, variant: string): { ms: number; cpuMs: number | undefined } {
  const cpuBefore = childrenCpuMs();
  const start = performance.now();
  const child = spawnSync(TSC, ['-p', `tsconfig.${variant}.json`], { cwd: folder, encoding: 'utf8' });
  const ms = performance.now() - start;
  const cpuAfter = childrenCpuMs();
  if (child.status !== 0) throw new Error(`bench ${BENCH}: tsc on the ${variant} file failed (${child.status}):\n${child.stdout}${child.stderr}`);
  return { ms, cpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
}

export async function typesBench(log: (line: string) => void): Promise<Figure[]> {
  const folder = project();
  try {
    log(`${BENCH}: tsc --noEmit on ${TASKS} tasks each depending on two others by object, typed against every task typed any, ${ROUNDS} rounds`);
    compile(folder, 'any'); // Warms the file system cache for both.
    const times: Record<'typed' | 'any', { ms: number[]; cpuMs: number[] }> = { typed: { ms: [], cpuMs: [] }, any: { ms: [], cpuMs: [] } };
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of round % 2 === 0 ? (['typed', 'any'] as const) : (['any', 'typed'] as const)) {
        const { ms, cpuMs } = compile(folder, variant);
        times[variant].ms.push(ms);
        if (cpuMs !== undefined) times[variant].cpuMs.push(cpuMs);
      }
    }
    const ratios = (key: 'ms' | 'cpuMs') => times.typed[key].map((value, round) => value / times.any[key][round]!);
    log(`${BENCH}: typed wall ms ${list(times.typed.ms)}, any ${list(times.any.ms)}; ratios ${list(ratios('ms'))}`);
    const figures: Figure[] = [{ bench: BENCH, name: `tsc on ${TASKS} tasks, typed / any (wall)`, value: median(ratios('ms')), unit: 'x', max: 3 }];
    if (times.typed.cpuMs.length === ROUNDS) {
      log(`${BENCH}: typed CPU ms ${list(times.typed.cpuMs)}, any ${list(times.any.cpuMs)}; ratios ${list(ratios('cpuMs'))}`);
      figures.push({ bench: BENCH, name: `tsc on ${TASKS} tasks, typed / any (CPU)`, value: median(ratios('cpuMs')), unit: 'x', max: 3 });
    }
    log(`${BENCH}: median typed ${fmt(median(times.typed.ms))} ms, any ${fmt(median(times.any.ms))} ms`);
    return figures;
  } finally {
    removeFolder(folder);
  }
}
