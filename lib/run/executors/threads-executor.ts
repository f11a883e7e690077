import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TaskLogs } from '../../logs/task-logs.js';
import type { AnyTask } from '../../task.js';
import { type ExecutorCall, type TaskExecutor, mustStayLocal } from './executor.js';
import { arrivedError } from './job.js';
import type { ThreadCall, ThreadOutcome } from './thread-worker.js';

export interface ThreadsExecutorOptions {
  /** Threads in the pool. */
  threads: number;
  logs: TaskLogs;
  logLevel: string;
  redact: readonly string[];
}

const here = fileURLToPath(import.meta.url);
/** The thread's code beside this file: .ts when littlepipes runs from source (tests), .js when built. */
const THREAD_FILE = path.join(path.dirname(here), `thread-worker${path.extname(here)}`);
/** littlepipes' own code: a task registered there (commandTask, rTask, sqlTask) starts programs or queries, and stays in the main thread. */
const PACKAGE_ROOT = path.resolve(path.dirname(here), '..', '..', '..');
const OWN_CODE = [path.join(PACKAGE_ROOT, 'lib') + path.sep, path.join(PACKAGE_ROOT, 'dist') + path.sep];

/**
 * Runs tasks in a pool of worker threads (piscina), so that synchronous, CPU-heavy tasks run in
 * parallel and leave the main thread (the runner, the progress display) free. A thread imports
 * the module where the task's `run` process was registered (functions cannot be posted to a
 * thread); upstream values go to it and results come back by structured clone. A cancelled or
 * timed-out attempt ends its thread, since synchronous code cannot be interrupted otherwise.
 */
export async function openThreadsExecutor(options: ThreadsExecutorOptions): Promise<TaskExecutor> {
  const { Piscina } = await import('piscina');
  const pool = new Piscina<ThreadCall, ThreadOutcome>({ filename: THREAD_FILE, minThreads: options.threads, maxThreads: options.threads, idleTimeout: 60_000 });
  return {
    name: 'threads',
    takes: (task: AnyTask) => mustStayLocal(task) === undefined && moduleOf(task) !== undefined,
    async run(call: ExecutorCall): Promise<unknown> {
      const { task } = call;
      const site = task.siteOf('run')!;
      const loading = call.upstreamValues();
      const upstream = loading instanceof Promise ? await loading : loading;
      const outcome = await pool.run({
        module: site.file,
        site: { line: site.line, column: site.column },
        task: task.name,
        dependencies: [...task.dependencies],
        requires: [...task.requires],
        params: task.params as ThreadCall['params'],
        attempt: call.attempt,
        upstream: [...upstream],
        logLevel: options.logLevel,
        redact: [...options.redact],
      }, { signal: call.signal });
      options.logs.append(task.name, outcome.lines);
      for (const timing of outcome.timings) call.timings.set(timing.name, timing);
      if (!outcome.ok) throw arrivedError(outcome.error);
      return outcome.value;
    },
    async close(): Promise<void> {
      await pool.destroy();
    },
  };
}

/** The module a thread imports to find the task, or undefined when the task cannot be found that way. */
function moduleOf(task: AnyTask): string | undefined {
  const file = task.siteOf('run')?.file;
  if (!file || OWN_CODE.some((own) => file.startsWith(own))) return undefined;
  return file;
}
