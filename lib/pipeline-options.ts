/**
 * The options of a pipeline and of its runs, each with its default, and their checks, apart from
 * the Pipeline class that takes them (as p-queue keeps its options.ts).
 */
import os from 'node:os';
import path from 'node:path';
import type Keyv from 'keyv';
import type { KeyvStoreAdapter } from 'keyv';
import { chooseStore } from './cache/backends/backend.js';
import { Codec } from './cache/codec.js';
import { type ResultFormat, checkFormats } from './cache/formats/format.js';
import type { ResultStoreOptions } from './cache/store.js';
import { CONFIG_FILE, type ProjectConfig, parseProjectConfig, projectName, projectRoot, readProjectConfig, resolveProfile } from './config/project-config.js';
import { InvalidOptionError } from './errors.js';
import { describeValue, knownTask, nameProblem, rejectUnknownOptions, stringList } from './names.js';
import type { Profile } from './plan/selection.js';
import type { RunSettings } from './plan/settings.js';
import type { ProgressListener } from './run/events.js';
import { type ExecutorChoice, executorChoice, executorDefaults } from './run/executors/choice.js';
import type { ExecutorName } from './run/executors/executor.js';
import type { AnyTask } from './task.js';

/** Options of a pipeline; `Tasks` is the union of the types of the tasks in `tasks`. */
export interface PipelineOptions<Tasks extends AnyTask = never> {
  /**
   * The pipeline's tasks, in any order, as `add()` takes them. Given here, their types are the
   * pipeline's: `getResult('Sum')` is typed, however the tasks were defined.
   * @example new Pipeline('Sales', { tasks: [orders, clean, report] })
   */
  tasks?: readonly Tasks[];
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

/** The default number of tasks run at once. */
export const DEFAULT_CONCURRENCY = 4;
/** The option names each takes: anything else is refused, with a suggestion. */
export const PIPELINE_OPTIONS = ['tasks', 'cacheDir', 'store', 'logLevel', 'redact', 'project', 'config', 'formats'] as const;
export const EXECUTE_OPTIONS = ['force', 'only', 'skip', 'concurrency', 'signal', 'progress', 'events', 'profile', 'executor', 'connection', 'threads'] as const;
export const EVENT_NAMES = ['taskStarted', 'taskFinished', 'taskCachedOrSkipped', 'runFinished'] as const;
/** pino's levels, least severe first, and `silent`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** A pipeline's options, checked, and what they leave to the environment and littlepipes.yaml, decided once. */
export interface PipelineSettings {
  /** littlepipes.yaml, or the file the config option names. */
  config: ProjectConfig | undefined;
  /** The option, else LITTLEPIPES_DIR, else settings.cacheDir, else .littlepipes. */
  cacheDir: string;
  /** The store (the option, else LITTLEPIPES_STORE, else settings.store, else the SQLite file), its keys' prefix and its codec. */
  store: Required<ResultStoreOptions>;
}

/** Checks a pipeline's name and options (naming the option that is wrong), reads its configuration, and decides where its cache is. */
export function pipelineSettings(name: string, options: PipelineOptions<AnyTask>): PipelineSettings {
  checkPipelineOptions(name, options);
  const codec = new Codec(checkFormats(options.formats, `Pipeline "${name}"`));
  const config = readProjectConfig(options.config);
  const cacheDir = path.resolve(options.cacheDir ?? process.env.LITTLEPIPES_DIR ?? config?.settings.cacheDir ?? '.littlepipes');
  const url = process.env.LITTLEPIPES_STORE || undefined;
  const where = options.store !== undefined ? `Pipeline "${name}"` : url !== undefined ? `Pipeline "${name}": LITTLEPIPES_STORE` : `Pipeline "${name}": settings.store`;
  const choice = chooseStore(options.store ?? url ?? config?.settings.store, cacheDir, where);
  // A shared store may hold many projects' pipelines, so its keys carry the project too.
  const namespace = choice.kind !== 'sqlite' ? `${options.project ?? projectName()}/${name}` : name;
  return { config, cacheDir, store: { pipeline: name, namespace, choice, codec } };
}

function checkPipelineOptions(name: string, options: PipelineOptions<AnyTask>): void {
  const problem = nameProblem(name);
  if (problem) throw new InvalidOptionError('name', `Pipeline name: ${problem}. Use a short name such as "Sales".`);
  const where = `Pipeline "${name}"`;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidOptionError('options', `${where}: options must be an object, got ${describeValue(options)}.`);
  rejectUnknownOptions(where, options, PIPELINE_OPTIONS);
  if (options.tasks !== undefined && !Array.isArray(options.tasks)) {
    throw new InvalidOptionError('tasks', `${where}: tasks must be an array of tasks, got ${describeValue(options.tasks)}.`);
  }
  if (options.cacheDir !== undefined && (typeof options.cacheDir !== 'string' || options.cacheDir === '')) {
    throw new InvalidOptionError('cacheDir', `${where}: cacheDir must be a folder path, got ${describeValue(options.cacheDir)}.`);
  }
  if (options.logLevel !== undefined) checkLogLevel(name, options.logLevel);
  if (options.redact !== undefined) stringList(where, 'redact', options.redact, 'field paths', true);
  if (options.project !== undefined && (typeof options.project !== 'string' || options.project.trim() === '')) {
    throw new InvalidOptionError('project', `${where}: project must be a non-empty name, got ${describeValue(options.project)}.`);
  }
  if (options.config !== undefined && (typeof options.config !== 'string' || options.config === '')) {
    throw new InvalidOptionError('config', `${where}: config must be the path of a littlepipes.yaml, got ${describeValue(options.config)}.`);
  }
}

/** Checks what `pipeline.provide()` is given: a resource's name and the function that makes it. */
export function checkResource(name: string, factory: unknown): void {
  const problem = nameProblem(name);
  if (problem) throw new InvalidOptionError('name', `pipeline.provide(): resource name: ${problem}.`);
  if (typeof factory !== 'function') throw new InvalidOptionError('factory', `pipeline.provide('${name}'): the second argument must be a function that makes the resource, got ${describeValue(factory)}.`);
}

/** Checks the options of `getResult()` (and `exportResult()`). */
export function checkResultOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', `getResult(): options must be an object, got ${describeValue(options)}.`);
  rejectUnknownOptions('getResult()', options, ['profile']);
}

/** Refuses a log level pino does not have, for the option and for `pipeline.logLevel`. */
export function checkLogLevel(pipeline: string, level: string): void {
  if (!LOG_LEVELS.includes(level)) throw new InvalidOptionError('logLevel', `Pipeline "${pipeline}": logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${describeValue(level)}.`);
}

/** The calls that take the options of `execute()`. */
export type RunMethod = 'execute' | 'plan' | 'explain' | 'verify';

/** The options of `execute()`, checked: what the run is asked to do, its profile and its executor. */
export type CheckedRunSettings = RunSettings & { profile?: Profile; executor: ExecutorChoice };

/**
 * Checks the options of `execute()` (also taken by `method`) against the pipeline's tasks and its
 * littlepipes.yaml, naming the option and the task that is wrong, and fills in the defaults.
 */
export function runSettings(options: ExecuteOptions, method: RunMethod, tasks: ReadonlyMap<string, AnyTask>, config: ProjectConfig | undefined): CheckedRunSettings {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidOptionError('options', `${method}(): options must be an object, got ${describeValue(options)}.`);
  rejectUnknownOptions(`${method}()`, options, EXECUTE_OPTIONS);
  const names = (option: 'force' | 'only' | 'skip', value: unknown) => {
    const list = stringList(`${method}()`, option, value);
    for (const name of list) knownTask(tasks, name, `${method}({ ${option} })`);
    return new Set(list);
  };
  const { force = false, only, skip = [], concurrency = config?.settings.concurrency ?? DEFAULT_CONCURRENCY, signal, progress, events } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidOptionError('concurrency', `${method}(): concurrency must be a whole number from 1 up, got ${describeValue(concurrency)}. Try ${Math.max(2, os.availableParallelism())}.`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidOptionError('signal', `${method}(): signal must be an AbortSignal, got ${describeValue(signal)}.`);
  if (events !== undefined) checkEvents(events, method);
  if (progress !== undefined && typeof progress !== 'boolean') throw new InvalidOptionError('progress', `${method}(): progress must be true or false, got ${describeValue(progress)}.`);
  if (typeof force !== 'boolean' && !Array.isArray(force)) throw new InvalidOptionError('force', `${method}(): force must be true, false or an array of task names, got ${describeValue(force)}.`);
  return {
    force: force === true ? true : names('force', force === false ? [] : force),
    only: only === undefined ? undefined : names('only', only),
    skip: names('skip', skip),
    concurrency,
    signal,
    profile: profileOption(options.profile, method, tasks, config),
    // The project's defaults choose where an execute() runs; a plan runs nothing, so they do not concern it.
    executor: executorChoice(options, method, method === 'execute' ? executorDefaults(config) : {}),
  };
}

function checkEvents(events: unknown, method: string): void {
  if (typeof events !== 'object' || events === null || Array.isArray(events)) {
    throw new InvalidOptionError('events', `${method}(): events must be an object of functions (${EVENT_NAMES.join(', ')}), got ${describeValue(events)}.`);
  }
  rejectUnknownOptions(`${method}(): events`, events, EVENT_NAMES);
  for (const [event, handler] of Object.entries(events)) {
    if (handler !== undefined && typeof handler !== 'function') throw new InvalidOptionError('events', `${method}(): events.${event} must be a function, got ${describeValue(handler)}.`);
  }
}

/** The profile a run uses: by name from littlepipes.yaml, or as given, checked as if it were written there. */
export function profileOption(profile: unknown, method: string, tasks: ReadonlyMap<string, AnyTask>, config: ProjectConfig | undefined): Profile | undefined {
  if (profile === undefined) return undefined;
  if (typeof profile === 'string') {
    if (!config) throw new InvalidOptionError('profile', `${method}(): profile "${profile}" needs a ${CONFIG_FILE} at the project root (${projectRoot(process.cwd())}), and there is none. Create it with a profiles: section.`);
    return resolveProfile(config, profile, tasks);
  }
  if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) {
    throw new InvalidOptionError('profile', `${method}(): profile must be a profile name or a profile object, got ${describeValue(profile)}.`);
  }
  const written = profile as Profile;
  const name = typeof written.name === 'string' ? written.name : 'given';
  const { name: _ignored, ...body } = written as Profile & Record<string, unknown>;
  return resolveProfile(parseProjectConfig(`${method}({ profile })`, JSON.stringify({ profiles: { [name]: body } })), name, tasks);
}

/** The `limit` of `history()`, checked. */
export function historyLimit(options: { limit?: number }, all: number): number {
  rejectUnknownOptions('history()', options, ['limit']);
  const { limit = all } = options;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidOptionError('limit', `history(): limit must be a whole number from 1 up, got ${describeValue(limit)}.`);
  return limit;
}
