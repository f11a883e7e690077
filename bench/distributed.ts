/**
 * Distributed and threaded execution.
 *
 * (a) BullMQ overhead: 1,000 independent no-op tasks sent to three `littlepipes worker`
 * processes through a private redis-server, results in the shared Redis store; wall time of
 * `execute({ executor: 'bullmq' })` per task. The baseline is the same pipeline on the same store
 * run locally (`executor: 'local'`), in the same rounds. Every run is forced, so every task runs.
 *
 * (b) Threads speed-up: 32 independent synchronous CPU-bound tasks of about 200 ms each, on the
 * default executor (one thread: they run one after another) and on the threads executor (a pool
 * of one thread per core); speed-up = default wall time / threads wall time, pool start included.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, type RunReport } from '../dist/index.js';
import { startRedis } from '../test/servers.js';
import { CPU_TASKS, cpuTasks, spin } from './cpu-tasks.js';
import { type Figure, fmt, list, median, removeFolder, temporaryFolder, timeMs } from './util.js';

const BENCH = 'distributed';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const NOOP_PIPELINE = path.join(ROOT, 'bench', 'noop-pipeline.mjs');
const WORKERS = 3;
/** Jobs each worker runs at once, and tasks the coordinator keeps in flight: no-op jobs are all latency. */
const WORKER_CONCURRENCY = 32;
const COORDINATOR_CONCURRENCY = 96;
const ROUNDS = 3;
const CPU_TASK_MS = 200;

function expectAll(report: RunReport, n: number, what: string): void {
  if (report.counts.ran !== n) throw new Error(`${what}: expected ${n} tasks ran, got ${JSON.stringify(report.counts)}`);
}

async function startWorker(url: string, env: NodeJS.ProcessEnv, folder: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--pipeline', NOOP_PIPELINE, '--connection', url, '--concurrency', String(WORKER_CONCURRENCY)], {
    cwd: ROOT,
    env: { ...env, LITTLEPIPES_DIR: folder },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 30_000;
  while (!output.includes(': ready on queue')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`a bench worker did not start:\n${output}`);
    await sleep(50);
  }
  return child;
}

async function bullmqOverhead(log: (line: string) => void): Promise<Figure[]> {
  const redis = await startRedis();
  const folder = temporaryFolder('littlepipes-bench-distributed-');
  const workers: ChildProcess[] = [];
  try {
    process.env.LITTLEPIPES_BENCH_REDIS = redis.url;
    process.env.LITTLEPIPES_DIR = folder;
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    for (let i = 0; i < WORKERS; i++) workers.push(await startWorker(redis.url, env, path.join(folder, `worker${i}`)));
    const { pipeline, TASKS } = (await import(NOOP_PIPELINE)) as { pipeline: Pipeline; TASKS: number };
    const local = () => pipeline.execute({ force: true, progress: false });
    const distributed = () => pipeline.execute({ executor: 'bullmq', connection: redis.url, concurrency: COORDINATOR_CONCURRENCY, force: true, progress: false });
    log(`distributed: warm-up (${TASKS} no-op tasks, ${WORKERS} workers × ${WORKER_CONCURRENCY}, coordinator concurrency ${COORDINATOR_CONCURRENCY})`);
    expectAll(await local(), TASKS, 'local warm-up');
    expectAll(await distributed(), TASKS, 'bullmq warm-up');
    const localMs: number[] = [];
    const bullmqMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const first = round % 2 === 0 ? 'local' : 'bullmq';
      for (const kind of first === 'local' ? ['local', 'bullmq'] : ['bullmq', 'local']) {
        const { ms, value } = await timeMs(kind === 'local' ? local : distributed);
        expectAll(value, TASKS, `${kind} round ${round + 1}`);
        (kind === 'local' ? localMs : bullmqMs).push(ms / TASKS);
        log(`distributed: round ${round + 1}/${ROUNDS} ${kind.padEnd(6)}: ${fmt(ms)} ms, ${fmt(ms / TASKS, 3)} ms/task`);
      }
    }
    const last = await pipeline.getResult(`N${TASKS - 1}`);
    if (last !== TASKS - 1) throw new Error(`the result of N${TASKS - 1} is ${String(last)}`);
    await pipeline.close();
    log(`distributed: ms per task, median of rounds: bullmq ${fmt(median(bullmqMs), 3)} (all ${list(bullmqMs)}), local on the same store ${fmt(median(localMs), 3)} (all ${list(localMs)})`);
    return [
      { bench: BENCH, name: `bullmq ms/task, ${TASKS} no-op tasks, ${WORKERS} workers`, value: median(bullmqMs), unit: 'ms', max: 2 },
      { bench: BENCH, name: `local baseline ms/task, same pipeline and store`, value: median(localMs), unit: 'ms' },
      { bench: BENCH, name: 'bullmq minus local, ms/task', value: median(bullmqMs) - median(localMs), unit: 'ms' },
    ];
  } finally {
    for (const worker of workers) worker.kill('SIGTERM');
    await Promise.all(workers.map((worker) => (worker.exitCode === null ? new Promise((resolve) => worker.once('exit', resolve)) : undefined)));
    await redis.stop();
    removeFolder(folder);
    delete process.env.LITTLEPIPES_DIR;
  }
}

/** Rounds of `spin` that take about CPU_TASK_MS on this machine. */
function calibrate(): number {
  const probe = 2_000_000;
  spin(probe, 1);
  const start = performance.now();
  spin(probe, 1);
  const ms = performance.now() - start;
  return Math.round((probe * CPU_TASK_MS) / ms);
}

async function threadsSpeedup(log: (line: string) => void): Promise<Figure[]> {
  const folder = temporaryFolder('littlepipes-bench-threads-');
  try {
    process.env.LITTLEPIPES_BENCH_SPIN = String(calibrate());
    const pipeline = new Pipeline('Cpu', { cacheDir: folder }).add(...cpuTasks);
    const local = () => pipeline.execute({ force: true, progress: false });
    const threads = () => pipeline.execute({ executor: 'threads', force: true, progress: false });
    log(`distributed: threads: ${CPU_TASKS} tasks of about ${CPU_TASK_MS} ms (${process.env.LITTLEPIPES_BENCH_SPIN} rounds), pool of ${os.availableParallelism()} threads`);
    expectAll(await threads(), CPU_TASKS, 'threads warm-up');
    const expected = await pipeline.getResult('Cpu7');
    const localMs: number[] = [];
    const threadsMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of round % 2 === 0 ? ['local', 'threads'] : ['threads', 'local']) {
        const { ms, value } = await timeMs(kind === 'local' ? local : threads);
        expectAll(value, CPU_TASKS, `${kind} round ${round + 1}`);
        if ((await pipeline.getResult('Cpu7')) !== expected) throw new Error(`${kind}: Cpu7's result differs between executors`);
        (kind === 'local' ? localMs : threadsMs).push(ms);
        log(`distributed: round ${round + 1}/${ROUNDS} ${kind.padEnd(7)}: ${fmt(ms)} ms`);
      }
    }
    await pipeline.close();
    const speedup = median(localMs) / median(threadsMs);
    log(`distributed: threads speed-up ${fmt(speedup, 3)}x (default ${fmt(median(localMs))} ms, all ${list(localMs)}; threads ${fmt(median(threadsMs))} ms, all ${list(threadsMs)})`);
    return [
      { bench: BENCH, name: `default executor, ${CPU_TASKS} CPU tasks, ms`, value: median(localMs), unit: 'ms' },
      { bench: BENCH, name: `threads executor, ${CPU_TASKS} CPU tasks, ms`, value: median(threadsMs), unit: 'ms' },
      { bench: BENCH, name: `threads speed-up on ${os.availableParallelism()} cores`, value: speedup, unit: 'x', min: 1.8 },
    ];
  } finally {
    removeFolder(folder);
  }
}

export async function distributedBench(log: (line: string) => void): Promise<Figure[]> {
  return [...(await bullmqOverhead(log)), ...(await threadsSpeedup(log))];
}
