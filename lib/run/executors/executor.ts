import type { Logger } from 'pino';
import type { StoredValue } from '../../cache/entry.js';
import type { DefinitionFingerprint } from '../../fingerprint/definition.js';
import type { ProcessTiming } from '../outcome.js';
import type { AnyTask } from '../../task.js';

/** The executors `execute({ executor })` knows: `local` runs tasks in the calling thread. */
export const EXECUTORS = ['local', 'threads', 'bullmq'] as const;
/**
 * Where a run's tasks run (the `executor` option of `execute()`).
 * @example const executor: ExecutorName = process.env.REDIS_URL ? 'bullmq' : 'threads';
 */
export type ExecutorName = (typeof EXECUTORS)[number];

/** One attempt of a task, as the runner hands it to an executor. */
export interface ExecutorCall {
  task: AnyTask;
  /** Which attempt this is, from 1. */
  attempt: number;
  /** Aborts when the run is cancelled or the attempt times out. */
  signal: AbortSignal;
  /** The task's definition fingerprint in the coordinating process. */
  definition: DefinitionFingerprint;
  /** The task's own logger, in the coordinating process. */
  log: Logger;
  /** Receives the time of every process call. */
  timings: Map<string, ProcessTiming>;
  /** The values of its dependencies (loaded from the cache when they are not in memory). */
  upstreamValues(): Map<string, unknown> | Promise<Map<string, unknown>>;
  /** The result hash and stored value of a dependency, without loading the value. */
  upstreamStored(dependency: string): { hash: string; value: StoredValue | undefined };
}

/**
 * Where a task's processes run: the runner decides, caches and reports; an executor only carries
 * out one attempt of a task it `takes`, and resolves with its result, or with a RemoteResult
 * when the result is already in the store.
 */
export interface TaskExecutor {
  readonly name: ExecutorName;
  /** Whether the task runs through this executor; the others run in the calling thread. */
  takes(task: AnyTask): boolean;
  run(call: ExecutorCall): Promise<unknown>;
  /** Lets go of workers and connections once the run is over. */
  close(): Promise<void>;
}

/**
 * What a worker returns for a task it ran elsewhere: the result is in the shared store already,
 * under its own key, so the coordinator writes the entry with this reference and never holds
 * the bytes.
 */
export class RemoteResult {
  constructor(
    /** Where the worker stored the result, and the formats (name → version) that wrote parts of it. */
    readonly stored: { hash: string; value: StoredValue; formats?: Record<string, number> | undefined },
    /** `host:pid` of the worker process that ran it. */
    readonly worker: string,
    /** The task's log file on the worker's host. */
    readonly logFile: string,
  ) {}
}

/**
 * Why a task must run in the coordinating process, or undefined when it can travel: resources
 * (`uses`) are made in the coordinator, files (`inputs`, `outputs`) are fingerprinted and checked
 * there, a mapped task caches its items one by one from there, and `local: true` says so.
 */
export function mustStayLocal(task: AnyTask): string | undefined {
  if (task.local) return 'local: true';
  if (task.uses.length > 0) return `it uses ${task.uses.join(', ')}`;
  if (task.inputs.length > 0 || task.outputs.length > 0) return 'it has input or output files';
  if (task.map) return 'it is a mapped task';
  return undefined;
}

/** What a run makes of a task that a worker must make of it too (a profile may change its params, gates its dependencies). */
export interface TaskShape {
  dependencies: readonly string[];
  requires: readonly string[];
  params: Record<string, unknown>;
}

/** The task a worker runs for a coordinator: its own, or derived from it when the coordinator's run shaped it otherwise. */
export function shapedAs(task: AnyTask, shape: TaskShape): AnyTask {
  const same = sameList(task.dependencies, shape.dependencies) && sameList(task.requires, shape.requires) && JSON.stringify(task.params) === JSON.stringify(shape.params);
  return same ? task : task.derive({ dependencies: shape.dependencies, requires: shape.requires, params: shape.params });
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

/**
 * What to do when a distributed run finds the pipeline's results where workers cannot read
 * them: a team cache given by URL, which every process reaches, and which has leases.
 */
export function sharedStoreAdvice(pipeline: string): string {
  return `Give it a shared store by URL: new Pipeline('${pipeline}', { store: 'redis://...' }), or LITTLEPIPES_STORE=redis://... in the environment of the coordinator and of every worker.`;
}

/** How a worker process reaches a pipeline's store, tasks and logs (a global symbol: the module may import another copy of littlepipes). */
export const PIPELINE_PARTS = Symbol.for('littlepipes.pipelineParts');

/**
 * Set in worker processes and worker threads before they load a pipeline module: there a
 * module defines tasks, and `execute()` runs nothing (a script that runs its pipeline when
 * imported must not start the whole pipeline again inside each worker).
 */
export const LOADED_BY_WORKER = Symbol.for('littlepipes.loadedByWorker');

export function loadedByWorker(): boolean {
  return (globalThis as { [LOADED_BY_WORKER]?: boolean })[LOADED_BY_WORKER] === true;
}
