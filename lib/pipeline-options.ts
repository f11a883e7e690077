import type { ResultFormat } from './cache/formats/format.js';
/**
 * The options of a pipeline and of its runs, each with its default, apart from the Pipeline class
 * that takes them (as p-queue keeps its options.ts).
 */
import type Keyv from 'keyv';
import type { KeyvStoreAdapter } from 'keyv';
import type { ProgressListener } from './run/events.js';
import type { ExecutorName } from './run/executors/executor.js';
import type { Profile } from './plan/selection.js';

/** Options of a pipeline. */
export interface PipelineOptions {
  /**
   * Folder of the cache (`cache.sqlite`, large results) and of the task logs (`logs/<pipeline>/`).
   * Missing folders are created.
   * @default process.env.LITTLEPIPES_DIR ?? '<working directory>/.littlepipes'
   */
  cacheDir?: string;
  /**
   * Where to keep results instead of the local SQLite file, so that a team shares them: a URL
   * (`redis://`, `rediss://`, `postgres://`, `postgresql://`; install `@keyv/redis` or
   * `@keyv/postgres`), which also gives leases across machines and large values as bytes; or a
   * Keyv store adapter, a Keyv instance or a Map, which give neither (see "Team cache" in the README).
   * @default process.env.LITTLEPIPES_STORE ?? settings.store in littlepipes.yaml ?? the local SQLite file
   * @example new Pipeline('Sales', { store: 'redis://cache.internal:6379' })
   */
  store?: string | KeyvStoreAdapter | Keyv | Map<unknown, unknown>;
  /**
   * The least severe level written to task logs: `trace`, `debug`, `info`, `warn`, `error`, `fatal` or `silent`.
   * @default 'info'
   */
  logLevel?: string;
  /**
   * Fields written as `[redacted]` in task logs: pino's redact paths.
   * @example new Pipeline('Billing', { redact: ['password', 'headers.authorization', 'customers[*].email'] })
   */
  redact?: readonly string[];
  /**
   * The project's configuration file (profiles and settings).
   * @default littlepipes.yaml at the project root (the folder of the nearest package.json)
   */
  config?: string;
  /**
   * The project's name, which namespaces the pipeline's keys in a shared `store`, so that two
   * projects with a pipeline of the same name never see each other's results.
   * @default the name in the nearest package.json, else the working directory's name
   */
  project?: string;
  /**
   * How to cache values of your own classes, made with defineFormat(). Tables of apache-arrow,
   * arquero and nodejs-polars, DuckDB values and errors have formats built in.
   * @example new Pipeline('Sales', { formats: [money] })
   */
  formats?: readonly ResultFormat[];
}

/** Options of `execute()`. */
export interface ExecuteOptions {
  /**
   * Re-run tasks even when their cached results are fresh: `true` for all, or their names.
   * Their dependents re-run only if a result changes.
   * @default false
   */
  force?: boolean | readonly string[];
  /**
   * Run only these tasks and what they need; the others are left as they are.
   * @example pipeline.execute({ only: ['Report'] })
   */
  only?: readonly string[];
  /**
   * Do not execute these tasks. A skipped task's fresh cached result still serves its dependents;
   * without one, they are blocked.
   */
  skip?: readonly string[];
  /**
   * How many tasks may run at once. Tasks are usually I/O-bound (queries, requests, files), so
   * the default lets several overlap; set 1 to run one at a time.
   * @default 4
   */
  concurrency?: number;
  /**
   * A profile: which branch of each stage runs, which optional groups are on, params for tasks,
   * and where the run starts and stops. A name looks it up in littlepipes.yaml; an object is used as it is.
   * @example pipeline.execute({ profile: 'sample' })
   */
  profile?: string | Profile;
  /** Cancels the run: no new task starts, running tasks see `t.signal` abort, nothing half-done is cached. */
  signal?: AbortSignal;
  /**
   * Called as tasks start and finish and when the run ends, besides the progress display: for
   * a live picture, a notebook widget or your own logging. Cached and skipped tasks are not
   * announced by `taskFinished` but by `taskCachedOrSkipped`, for a display that counts them;
   * the final report has them all. Events follow the graph: a task's `taskStarted` comes after
   * the `taskFinished` (or `taskCachedOrSkipped`) of every task it depends on; `taskFinished` of
   * a task that ran is called once its result is committed to the cache.
   * @example pipeline.execute({ events: { taskFinished: (task) => console.log(task.name, task.status) } })
   */
  events?: Partial<ProgressListener>;
  /**
   * Show progress and the report table on stderr (a spinner on a terminal, plain lines elsewhere).
   * @default true
   */
  progress?: boolean;
  /**
   * Where tasks run. `'local'`: in this thread. `'threads'`: in a pool of worker threads, so that
   * synchronous CPU-heavy tasks run in parallel without blocking each other or the progress
   * display. `'bullmq'`: as BullMQ jobs on Redis (`connection`), run by `littlepipes worker`
   * processes on any machine, with results in the pipeline's shared `store`. Either way, tasks
   * that `uses` a resource, have input or output files, `map`, or say `local: true` run here.
   * The plan, the cache entries, the report and the progress stay in this process.
   * @default settings.executor in littlepipes.yaml ?? 'local'
   * @example pipeline.execute({ executor: 'bullmq', connection: 'redis://localhost:6379', concurrency: 32 })
   */
  executor?: ExecutorName;
  /**
   * The Redis URL of the BullMQ queue, for `executor: 'bullmq'` (refused with another executor).
   * @default process.env.LITTLEPIPES_CONNECTION ?? settings.connection in littlepipes.yaml
   * @example pipeline.execute({ executor: 'bullmq', connection: 'redis://queue.internal:6379' })
   */
  connection?: string;
  /**
   * Worker threads in the pool, for `executor: 'threads'`.
   * @default os.availableParallelism()
   */
  threads?: number;
}

/** One cached entry, as `listCache()` lists it. */
export interface CacheListing {
  task: string;
  /** Whether the pipeline still defines the task (false for entries left by a renamed or removed task). */
  defined: boolean;
  /** `ok` holds a result; `failed` remembers the last run's failure; `expired` kept only the result's hash. */
  state: 'ok' | 'failed' | 'expired';
  storedAt: Date;
  /** When the result expires by time, if it does. */
  expiresAt?: Date;
  /** The expiry policy, as text. */
  expiry: string;
  /** Size of the stored result (serialized), in bytes. */
  bytes: number;
  /** How long the run that stored it took. */
  durationMs: number;
  /** The error message of a failed run. */
  error?: string;
}

/** The default number of tasks run at once. */
export const DEFAULT_CONCURRENCY = 4;
/** The option names each takes: anything else is refused, with a suggestion. */
export const PIPELINE_OPTIONS = ['cacheDir', 'store', 'logLevel', 'redact', 'project', 'config', 'formats'] as const;
export const EXECUTE_OPTIONS = ['force', 'only', 'skip', 'concurrency', 'signal', 'progress', 'events', 'profile', 'executor', 'connection', 'threads'] as const;
export const EVENT_NAMES = ['taskStarted', 'taskFinished', 'taskCachedOrSkipped', 'runFinished'] as const;
/** pino's levels, least severe first, and `silent`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
