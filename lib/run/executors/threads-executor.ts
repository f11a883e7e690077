import fs from 'node:fs';
import path from 'node:path';
import { Codec, needsFrame } from '../../cache/codec.js';
import { definedFormats } from '../../cache/formats/format.js';
import { definitionFingerprint } from '../../fingerprint/definition.js';
import { type StatKey, sameStat, statKey } from '../../fingerprint/stat.js';
import type { TaskLogs } from '../../logs/task-logs.js';
import type { AnyTask } from '../../task.js';
import { type ExecutorCall, type TaskExecutor, mustStayLocal } from './executor.js';
import { arrivedError } from './job.js';
import { OWN_ROOT, ownModule } from '../../own-package.js';
import type { ThreadCall, ThreadOutcome } from './thread-worker.js';

export interface ThreadsExecutorOptions {
  /** Threads in the pool. */
  threads: number;
  logs: TaskLogs;
  /** The pipeline's log settings now (they may change between runs). */
  logSettings(): { level: string; redact: readonly string[] };
}

/**
 * A pool kept from one run to the next: starting a thread means loading littlepipes and the
 * task's module again, which costs more than a second on a small machine.
 */
export interface ThreadsExecutor extends TaskExecutor {
  readonly threads: number;
  /**
   * Whether the threads can run these tasks as they are now: false once a module they imported
   * was edited, or a task they ran has other code. A run then starts a new pool.
   */
  current(tasks: Iterable<AnyTask>): boolean;
}

/** The thread's code. */
const THREAD_FILE = ownModule('run/executors/thread-worker');
/** littlepipes' own code: a task registered there (commandTask, rTask, sqlTask) starts programs or queries, and stays in the main thread. */
const OWN_CODE = [path.join(OWN_ROOT, 'lib') + path.sep, path.join(OWN_ROOT, 'dist') + path.sep];

/**
 * Runs tasks in a pool of worker threads (piscina), so that synchronous, CPU-heavy tasks run in
 * parallel and leave the main thread (the runner, the progress display) free. A thread imports
 * the module where the task's `run` process was registered (functions cannot be posted to a
 * thread); upstream values go to it and results come back by structured clone. A cancelled or
 * timed-out attempt ends its thread, since synchronous code cannot be interrupted otherwise.
 * The pool is kept for the pipeline's next runs until its code changes (see `current`).
 */
export async function openThreadsExecutor(options: ThreadsExecutorOptions): Promise<ThreadsExecutor> {
  const { Piscina } = await import('piscina');
  // Idle threads are unreferenced by piscina: a kept pool does not keep the process alive.
  const pool = new Piscina<ThreadCall, ThreadOutcome>({ filename: THREAD_FILE, minThreads: options.threads, maxThreads: options.threads, idleTimeout: Number.POSITIVE_INFINITY });
  /** The modules the threads imported, with their stat then (see StatKey). */
  const modules = new Map<string, StatKey | undefined>();
  /** The code each task had when the threads ran it. */
  const codes = new Map<string, string>();
  const takes = (task: AnyTask) => mustStayLocal(task) === undefined && moduleOf(task) !== undefined;
  return {
    name: 'threads',
    threads: options.threads,
    takes,
    current(tasks: Iterable<AnyTask>): boolean {
      for (const [file, known] of modules) if (!unchanged(file, known)) return false;
      for (const task of tasks) {
        const code = codes.get(task.name);
        if (code !== undefined && takes(task) && code !== codeOrNothing(task)) return false;
      }
      return true;
    },
    async run(call: ExecutorCall): Promise<unknown> {
      const { task } = call;
      // The formats defined in this process: the thread has those its modules define.
      const codec = new Codec(definedFormats());
      const site = task.siteOf('run')!;
      if (!modules.has(site.file)) modules.set(site.file, statOf(site.file));
      codes.set(task.name, call.definition.code);
      const { level, redact } = options.logSettings();
      const loading = call.upstreamValues();
      const upstream = loading instanceof Promise ? await loading : loading;
      // Values that structured clone would flatten (tables, formats' classes) travel as their cached bytes.
      const framed: string[] = [];
      const sent: [string, unknown][] = [];
      for (const [name, value] of upstream) {
        if (needsFrame(value)) {
          framed.push(name);
          sent.push([name, (await codec.encode(value, name)).bytes]);
        } else sent.push([name, value]);
      }
      const outcome = await pool.run({
        module: site.file,
        site: { line: site.line, column: site.column },
        task: task.name,
        dependencies: [...task.dependencies],
        requires: [...task.requires],
        params: task.params as ThreadCall['params'],
        attempt: call.attempt,
        upstream: sent,
        framed,
        logLevel: level,
        redact: [...redact],
      }, { signal: call.signal });
      options.logs.append(task.name, outcome.lines);
      for (const timing of outcome.timings) call.timings.set(timing.name, timing);
      if (!outcome.ok) throw arrivedError(outcome.error);
      return outcome.framed ? codec.decode(outcome.value as Uint8Array) : outcome.value;
    },
    async close(): Promise<void> {
      await pool.destroy();
    },
  };
}

function statOf(file: string): StatKey | undefined {
  try {
    return statKey(fs.statSync(file));
  } catch {
    return undefined;
  }
}

/** Whether a file has the stat it had (a file missing then and now is unchanged too). */
function unchanged(file: string, known: StatKey | undefined): boolean {
  const now = statOf(file);
  return now === undefined || known === undefined ? now === known : sameStat(known, now);
}

function codeOrNothing(task: AnyTask): string | undefined {
  try {
    return definitionFingerprint(task).code;
  } catch {
    return undefined;
  }
}

/** The module a thread imports to find the task, or undefined when the task cannot be found that way. */
function moduleOf(task: AnyTask): string | undefined {
  const file = task.siteOf('run')?.file;
  if (!file || OWN_CODE.some((own) => file.startsWith(own))) return undefined;
  return file;
}
