import path from 'node:path';
import type { Logger } from 'pino';
import { ExpiryPolicyError, InvalidOptionError, TaskDefinitionError } from './errors.js';
import { type ExpiryOption, type ExpiryPolicy, toExpiryPolicy } from './cache/expiry.js';
import { type CallSite, RecordedCallSite } from './fingerprint/call-site.js';
import { type JsonValue, plainParams } from './fingerprint/params.js';
import { type TableOutput, isTableOutput, tableOutputKey } from './fingerprint/files.js';
import { describeValue, nameProblem, rejectUnknownOptions, stringList } from './names.js';
import { type Gate, TASK_MARK, splitDependencyList } from './graph/composition.js';
import type { AnyParams, CacheableResult, DependencyItem, NamesTypedAs, Reads, ReadsOf, ResultOf, RunResult, TaskParams, UpstreamOf } from './task-types.js';

/**
 * Options of a task. `Dependencies`, `Params` and `Mapping` are what the `dependencies`, `params`
 * and `map` options were given, from which the compiler types `t.result`, `t.params` and the
 * task's result.
 */
export interface TaskOptions<
  // Not constrained here: Task's constraint checks the list, and a constraint here too made every
  // `new Task` compare whole graphs of task types (the compile time grew with the square of the tasks).
  Dependencies = readonly DependencyItem[],
  Params extends Record<string, unknown> = Record<string, unknown>,
  Mapping extends MapOption | undefined = MapOption | undefined,
> {
  /**
   * The tasks whose results this task reads with `t.result(...)`: the Task objects, or their
   * names. They run first, and a change in one of their results re-runs this task. A Task given
   * here stands for its name, and types its result: `t.result(one)` and `t.result('TaskOne')`
   * are then TaskOne's result type, and a name not in the list is a compile error.
   * @default []
   * @example new Task('Sum', { dependencies: [one, two, 'TaskThree'] })
   */
  dependencies?: Dependencies;
  /**
   * Tasks that must run before this one, whose results it does not read: prerequisites with
   * side effects (an index built, a table loaded). A run that selects this task pulls them in,
   * once however many tasks require them; their results are not part of this task's fingerprint.
   * Tasks or their names; `anyOf(...)` gates work here too.
   * @example new Task('Query', { requires: ['BuildIndex'] })
   */
  requires?: readonly DependencyItem[];
  /**
   * The stage this task is one branch of: a profile chooses which branches of a stage run
   * (all of them when no profile chooses). Pair with `anyOf` in the tasks downstream.
   * @example new Task('LoadSample', { stage: 'datasets' })
   */
  stage?: string;
  /**
   * The optional group this task belongs to: a profile switches the group off or on (on when no
   * profile says). A task switched off is routed around: what depends on it runs after its own
   * dependencies instead.
   * @example new Task('CheckDuplicates', { optional: 'qa_checks' })
   */
  optional?: string;
  /**
   * Run the task once per item of an upstream result (an array, or a path into it such as
   * 'ListFiles.files'), `concurrency` items at once; `run` receives the item and its index.
   * Each item is cached on its own, by its content: a changed or added item runs alone, and a
   * removed one is dropped. The task's result is the array of item results, in order.
   * @example new Task('Parse', { map: { over: 'ListFiles' } }).process('run', (t, file: string) => parse(file))
   */
  map?: Mapping;
  /**
   * When the cached result expires. See `expire` for the policies.
   * @default expire.never()
   * @example new Task('Prices', { expire: expire.atMidnight() })
   */
  expire?: ExpiryOption;
  /**
   * Files, folders and glob patterns the task reads, relative to the working directory. Their
   * contents are part of its fingerprint (hashed, and re-read only when a file's size or mtime
   * changes); a missing one is an error before the task runs. The task reads the files as `t.inputs`.
   * @example new Task('Load', { inputs: ['data/raw/*.csv', 'config.json'] })
   */
  inputs?: string | readonly string[];
  /**
   * Let a glob in `inputs` match no file (by default that is an error).
   * @default false
   */
  allowEmptyInputs?: boolean;
  /**
   * Files or folders the task writes, inside the project, and database tables (see TableOutput).
   * After it runs they must all exist; if one is later deleted or modified, the task runs again.
   * @example new Task('Export', { outputs: ['out/report.csv'] })
   * @example new Task('Clean', { uses: ['db'], outputs: [{ table: 'sales_clean' }] })
   */
  outputs?: string | TableOutput | readonly (string | TableOutput)[];
  /**
   * Plain JSON values the task reads as `t.params`. They are part of its fingerprint: a changed
   * param re-runs the task, and plans name the key with its old and new value. Each is typed as
   * declared (`t.params.minimum` is a number here), and a profile that gives a param another JSON
   * type (a string for a number) is a ConfigError.
   * @example new Task('Filter', { params: { minimum: 10, regions: ['north', 'south'] } })
   */
  params?: Params;
  /**
   * Run the task again when it throws: how many more attempts, or the whole policy. Each attempt
   * is logged and the report says how many it took. Errors of littlepipes' own that another
   * attempt cannot fix (an undeclared dependency, an uncacheable result) are not retried.
   * @default 0
   * @example new Task('Fetch', { retries: 3 }) // up to 4 attempts, waiting 0.5 s, 1 s, 2 s between them
   * @example new Task('Fetch', { retries: { count: 5, delayMs: 200, factor: 3, when: (error) => error.message.includes('ECONNRESET') } })
   */
  retries?: number | RetryOptions;
  /**
   * Files whose content is part of the task's code, as its processes are: the script or SQL file
   * it runs. An edit re-runs the task, and the reason names the file. Relative to the working directory.
   * @example new Task('Fit', { sources: ['r/fit.R'] })
   */
  sources?: string | readonly string[];
  /**
   * The resources the task uses (see `pipeline.provide`), which it gets with `t.use(name)`.
   * Each is made before the task starts, once per run.
   * @example new Task('Totals', { uses: ['db'] })
   */
  uses?: readonly string[];
  /**
   * Milliseconds an attempt may take. Past it, the task's signal (`t.signal`) aborts and the
   * attempt fails with a TaskTimeoutError, whether or not the task stops; a retry may follow.
   * @example new Task('Query', { timeout: 30_000 })
   */
  timeout?: number;
  /**
   * Run the task in the coordinating process even when `execute({ executor })` sends tasks to
   * worker threads or BullMQ workers: for a task that needs something only this process has.
   * Tasks that `uses` a resource, have input or output files, or `map` stay local anyway.
   * @default false
   * @example new Task('Notify', { local: true })
   */
  local?: boolean;
  /**
   * What the task does, in a sentence; shown by the CLI and the shell.
   * @example new Task('Clean', { description: 'Drops rows without a customer id' })
   */
  description?: string;
}

/** The `map` option: the upstream task (or a path into its result) whose items the task runs once each. */
export interface MapOption {
  over: string;
  concurrency?: number;
}

/** The retry policy of a task, in full. */
export interface RetryOptions {
  /** Attempts after the first. */
  count: number;
  /**
   * Milliseconds before the first retry.
   * @default 500
   */
  delayMs?: number;
  /**
   * Each wait is this many times the one before.
   * @default 2
   */
  factor?: number;
  /**
   * The longest wait between attempts, in milliseconds.
   * @default 30000
   */
  maxDelayMs?: number;
  /** Whether an error is worth another attempt. By default every error is, but littlepipes' own definition errors. */
  when?: (error: Error) => boolean;
}

/** A task's retry policy, complete. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  delayMs: number;
  factor: number;
  maxDelayMs: number;
  when: ((error: Error) => boolean) | undefined;
}

const KNOWN_OPTIONS = ['dependencies', 'expire', 'inputs', 'allowEmptyInputs', 'outputs', 'params', 'description', 'retries', 'timeout', 'uses', 'sources', 'requires', 'stage', 'optional', 'map', 'local'] as const;
/**
 * Inside a worker thread of the threads executor, told of every task the loaded module creates,
 * so the thread finds the task to run by name. A global symbol, so that a module importing
 * another copy of littlepipes reports its tasks too.
 */
export const TASK_CREATED = Symbol.for('littlepipes.taskCreated');
const RETRY_OPTIONS = ['count', 'delayMs', 'factor', 'maxDelayMs', 'when'] as const;

/**
 * What a task and the run see of the pipeline running them, as `t.pipeline`: its name, its task
 * definitions and where their logs are. The Pipeline is one; the run and the tasks know it
 * through these members only.
 *
 * @example new Task('Where').process('run', (t) => t.pipeline.logFile(t.name))
 */
export interface PipelineView {
  /** The pipeline's name: its namespace in the cache and its folder of logs. */
  readonly name: string;
  /** The task with this name, as the pipeline defines it (an UnknownTaskError if there is none). */
  getTask(name: string): AnyTask;
  /** The file a task's log is written to. */
  logFile(task: string): string;
}

/**
 * The members of the context `t` that every process receives as its first argument. A process
 * cannot take one of these names, since `t.<process>` would hide it. `Upstream` is the result type
 * of each dependency by name, `Params` the type of `t.params`; by default any name is allowed,
 * typed `unknown`.
 */
export interface TaskContextBase<Upstream extends object = Record<string, unknown>, Params extends object = AnyParams> {
  /** The task's name. */
  readonly name: string;
  /** The task's own pino logger; its lines go to `.littlepipes/logs/<pipeline>/<task>.log`. */
  readonly log: Logger;
  /** Aborted when the run is cancelled; pass it to fetch, child processes and long loops. */
  readonly signal: AbortSignal;
  /** The task's params: plain JSON values, part of its fingerprint, typed as declared. */
  readonly params: Params;
  /** The files the task's `inputs` name, as found for this run (relative to the working directory). */
  readonly inputs: readonly string[];
  /** The outputs the task declares, as given; tables as `db:<table>` (see TableOutput). */
  readonly outputs: readonly string[];
  /** The pipeline running this task. */
  readonly pipeline: PipelineView;
  /** Which attempt this is: 1, then 2 on the first retry (see the `retries` option). */
  readonly attempt: number;
  /**
   * Whether a dependency's result is there to read in this run, or a required task is in the run:
   * false for a member of an `anyOf` gate that is not in the run, or a task switched off by a profile.
   */
  has(task: string | { readonly name: string }): boolean;
  /**
   * A resource the pipeline provides and the task declares in `uses`.
   * @example const db = t.use<DuckDBConnection>('db');
   */
  use<T = unknown>(name: string): T;
  /**
   * The result of a declared dependency, by name or as the Task: typed as that task's result when
   * the dependency was given as a Task, `unknown` when it was given by name. A name the task does
   * not declare is a compile error (and an UndeclaredDependencyError at run time).
   * @example const total = t.result(sum); // Sum's result type
   * @example const rows = t.result('Extract'); // Extract's result type, when Extract is among the dependencies
   */
  result<N extends keyof Upstream & string>(name: N): Upstream[N];
  result<D extends Task<keyof Upstream & string, any, any, any, any, any>>(task: D): ResultOf<D>;
  /**
   * The result of a dependency given by name, whose type the compiler cannot know, as a `T`: the
   * escape hatch. For a dependency given as a Task, `T` must be its result type (or wider).
   * @example const rows = t.result<Row[]>('Extract');
   */
  result<T>(name: NamesTypedAs<Upstream, T>): T;
}

/** Names a process cannot have: the context's own members, and names that would confuse JavaScript. */
export const RESERVED_PROCESS_NAMES: ReadonlySet<string> = new Set([
  'name', 'log', 'signal', 'params', 'pipeline', 'result', 'attempt', 'has',
  // Reserved for inputs, outputs and resources, which later versions add to the context.
  'inputs', 'outputs', 'use',
  // A process named `then` would make the context look like a promise to `await`.
  'then', 'constructor', '__proto__', 'toString', 'valueOf',
]);

type AnyFunction = (...args: any[]) => any;
/** The processes of a task, by name, as the context exposes them (without the leading `t`). */
export type ProcessMap = Record<string, AnyFunction>;

/**
 * The context `t` of a task whose processes are `P`, whose dependencies' results by name are
 * `Upstream` and whose params are `Params`: call a sub-process as `t.extract()`.
 * @example function total(t: TaskContext<{}, { Sales: Sale[] }>) { return t.result('Sales').length; }
 */
export type TaskContext<P extends ProcessMap = {}, Upstream extends object = Record<string, unknown>, Params extends object = AnyParams> = TaskContextBase<Upstream, Params> & P;

/** A process as stored: the user's function, taking the context first. */
export type ProcessFunction = (t: any, ...args: any[]) => unknown;

/** A context for processes registered in the statement form, where earlier processes are not typed. */
export type LooseTaskContext = TaskContextBase & { [process: string]: any };

/**
 * A named unit of work with named sub-processes. `run` is required and its return value is the
 * task's result, cached between runs. The type carries the name, the processes, the result, the
 * dependency list and the params as given, so that dependents and pipelines are typed from it.
 *
 * @example
 * const clean = new Task('Clean', { dependencies: [load] })
 *   .process('dropEmpty', (t, rows: Row[]) => rows.filter((row) => row.id))
 *   .process('run', (t) => t.dropEmpty(t.result(load)));
 */
export class Task<
  Name extends string = string,
  Processes extends ProcessMap = {},
  Result = unknown,
  const Dependencies extends readonly DependencyItem[] | Reads<object> = readonly [],
  Params extends Record<string, unknown> = Record<string, JsonValue>,
  Mapping extends MapOption | undefined = undefined,
> {
  /** The task's name: its address in the pipeline and in the cache. */
  readonly name: Name;
  /** Names of the tasks this one reads results from. */
  readonly dependencies: readonly string[];
  /** When the cached result expires. */
  readonly expire: ExpiryPolicy;
  /** The task's params (frozen): plain JSON values, part of its fingerprint. */
  readonly params: Readonly<Record<string, JsonValue>>;
  /** Files, folders and globs the task reads. */
  readonly inputs: readonly string[];
  /** Whether a glob in `inputs` may match nothing. */
  readonly allowEmptyInputs: boolean;
  /** Files or folders the task writes. */
  readonly outputs: readonly string[];
  /** What the task does. */
  readonly description: string | undefined;
  /** How it is retried when it throws; undefined when it is not. */
  readonly retry: RetryPolicy | undefined;
  /** Milliseconds an attempt may take; undefined for no limit. */
  readonly timeout: number | undefined;
  /** The resources it uses. */
  readonly uses: readonly string[];
  /** Tasks that run before it, whose results it does not read. */
  readonly requires: readonly string[];
  /** Its anyOf gates, among its dependencies and its requires. */
  readonly gates: readonly Gate[];
  /** The stage it is a branch of. */
  readonly stage: string | undefined;
  /** The optional group it belongs to. */
  readonly optional: string | undefined;
  /** What it maps over: the upstream task, and the path into its result. */
  readonly map: MapSpec | undefined;
  /** Whether it always runs in the coordinating process (see the `local` option). */
  readonly local: boolean;
  readonly #options: TaskOptions;
  /** Files whose content is part of its code (scripts, SQL). */
  readonly sources: readonly string[];
  readonly #processes = new Map<string, ProcessFunction>();
  /**
   * Where each process was registered, in the order of #processes, so change detection can find
   * its source. Replaced by a copy one longer for each process: a list grown by push keeps room for 17.
   */
  #sites: readonly RecordedCallSite[] = [];

  constructor(name: Name, options: TaskOptions<Dependencies, Params, Mapping> = {}) {
    const problem = nameProblem(name);
    if (problem) throw new TaskDefinitionError(String(name), `Task name: ${problem}. Use a short name such as "LoadSales".`);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new TaskDefinitionError(name, `Task "${name}": options must be an object, got ${describeValue(options)}.`);
    }
    rejectUnknownOptions(`Task "${name}"`, options, KNOWN_OPTIONS);
    this.name = name;
    // Dependencies is a list whenever a constructor is called; Reads is the form only a type takes.
    this.#options = options as TaskOptions;
    const dependencies = splitDependencyList(name, 'dependencies', options.dependencies);
    const requires = splitDependencyList(name, 'requires', options.requires);
    this.dependencies = frozen(dependencies.names);
    this.requires = frozen(requires.names.filter((required) => !dependencies.names.includes(required)));
    this.gates = frozen([...dependencies.gates, ...requires.gates]);
    this.stage = groupName(name, 'stage', options.stage);
    this.optional = groupName(name, 'optional', options.optional);
    this.map = mapSpec(name, options.map);
    if (this.map && !this.dependencies.includes(this.map.over)) {
      throw new InvalidOptionError('map', `Task "${name}": it maps over ${this.map.over}, so ${this.map.over} must be one of its dependencies. Add it to dependencies.`);
    }
    try {
      this.expire = toExpiryPolicy(options.expire);
    } catch (error) {
      throw error instanceof ExpiryPolicyError ? new ExpiryPolicyError(`Task "${name}": ${error.message}`) : error;
    }
    try {
      this.params = plainParams(name, options.params ?? {});
    } catch (error) {
      // The params are copied recursively: an object that contains itself never ends.
      if (!(error instanceof RangeError)) throw error;
      throw new InvalidOptionError('params', `Task "${name}": params contain a circular reference (an object inside itself), or nest too deeply; params must be plain JSON.`);
    }
    this.inputs = frozen(pathList(name, 'inputs', options.inputs));
    this.outputs = frozen(outputList(name, options.outputs));
    for (const output of this.outputs) {
      if (isTableOutput(output)) continue;
      const inside = path.relative(process.cwd(), path.resolve(output));
      if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
        throw new InvalidOptionError('outputs', `Task "${name}": output ${output} is outside the project (${process.cwd()}); write outputs inside it.`);
      }
    }
    if (options.allowEmptyInputs !== undefined && typeof options.allowEmptyInputs !== 'boolean') {
      throw new InvalidOptionError('allowEmptyInputs', `Task "${name}": allowEmptyInputs must be true or false, got ${describeValue(options.allowEmptyInputs)}.`);
    }
    this.allowEmptyInputs = options.allowEmptyInputs ?? false;
    if (options.description !== undefined && typeof options.description !== 'string') {
      throw new InvalidOptionError('description', `Task "${name}": description must be a string, got ${describeValue(options.description)}.`);
    }
    this.description = options.description;
    this.retry = retryPolicy(name, options.retries);
    if (options.timeout !== undefined && !(typeof options.timeout === 'number' && options.timeout > 0 && Number.isFinite(options.timeout))) {
      throw new InvalidOptionError('timeout', `Task "${name}": timeout must be a number of milliseconds above 0, got ${describeValue(options.timeout)}.`);
    }
    this.timeout = options.timeout;
    this.uses = frozen(stringList(`Task "${name}"`, 'uses', options.uses ?? [], 'resource names', true));
    this.sources = frozen(pathList(name, 'sources', options.sources));
    if (options.local !== undefined && typeof options.local !== 'boolean') {
      throw new InvalidOptionError('local', `Task "${name}": local must be true or false, got ${describeValue(options.local)}.`);
    }
    this.local = options.local ?? false;
    (globalThis as { [TASK_CREATED]?: (task: AnyTask) => void })[TASK_CREATED]?.(this);
  }

  /**
   * Registers a sub-process under `name`. Chain the calls so that later processes see the earlier
   * ones typed on `t`. `run` is the process whose return value is the task's result.
   */
  process<N extends string, Args extends unknown[], Returned>(
    name: N,
    fn: (t: TaskContext<Processes, UpstreamOf<Dependencies>, TaskParams<Params>>, ...args: Args) => Returned & (N extends 'run' ? CacheableResult<Returned> : unknown),
  ): Task<Name, Processes & { [K in N]: (...args: Args) => Returned }, N extends 'run' ? RunResult<Returned, Mapping> : Result, ReadsOf<Dependencies>, Params, Mapping>;
  /**
   * Registers a named function as a sub-process under its own name, like a decorator:
   * `task.process(function extract(t) { ... })`.
   */
  process(fn: (t: LooseTaskContext, ...args: any[]) => unknown): Task<Name, Processes & ProcessMap, any, ReadsOf<Dependencies>, Params, Mapping>;
  process(nameOrFn: string | ProcessFunction, maybeFn?: ProcessFunction): AnyTask {
    const [name, fn] = typeof nameOrFn === 'function' ? [nameOrFn.name, nameOrFn] : [nameOrFn, maybeFn];
    if (typeof fn !== 'function') {
      throw new TaskDefinitionError(this.name, `Task "${this.name}": process "${String(name)}" must be a function, got ${describeValue(fn)}.`);
    }
    if (typeof name !== 'string' || name.length === 0) {
      throw new TaskDefinitionError(
        this.name,
        `Task "${this.name}": a process needs a name. Pass it first, task.process('run', fn), or use a named function.`,
      );
    }
    if (RESERVED_PROCESS_NAMES.has(name)) {
      throw new TaskDefinitionError(
        this.name,
        `Task "${this.name}": a process cannot be named "${name}", because t.${name} is part of the task context. Choose another name.`,
      );
    }
    if (this.#processes.has(name)) {
      throw new TaskDefinitionError(
        this.name,
        `Task "${this.name}" already has a process named "${name}". Create a new Task to redefine it, then pipeline.replace(task).`,
      );
    }
    this.#processes.set(name, fn);
    this.#sites = [...this.#sites, new RecordedCallSite(processMethod)];
    return this;
  }

  /**
   * The same task with some options changed, sharing its processes and where they were
   * registered (so its code fingerprint is the same work): how a run applies a profile's params
   * and resolves anyOf gates and optional groups, without touching the task it was given.
   */
  derive(changes: { dependencies?: readonly string[]; requires?: readonly string[]; params?: Record<string, unknown> }): AnyTask {
    const copy = newTask(this.name, {
      ...this.#options,
      dependencies: changes.dependencies ?? this.#options.dependencies,
      requires: changes.requires ?? this.#options.requires,
      params: changes.params ?? this.#options.params,
    });
    for (const [name, fn] of this.#processes) copy.#processes.set(name, fn);
    copy.#sites = this.#sites;
    return copy;
  }

  /** Marks a Task for dependency lists, which take tasks and names alike. */
  get [TASK_MARK](): true {
    return true;
  }

  /** Where the process `name` was registered (the `.process(...)` call), when that can be known. */
  siteOf(name: string): CallSite | undefined {
    // A list in the processes' order, not a second map: a map costs a few hundred bytes, and pipelines have thousands of tasks.
    let index = 0;
    for (const registered of this.#processes.keys()) {
      if (registered === name) return this.#sites[index]!.read();
      index++;
    }
    return undefined;
  }

  /** The registered processes, in registration order. */
  get processes(): ReadonlyMap<string, ProcessFunction> {
    return this.#processes;
  }
}

// Outside the class, so that its body never names the class: the bundler would then give it
// another name (_Task) for the inside, and Task.name would say so (scripts/bundle.mjs checks).
/** The method whose caller is a process's registration site (see RecordedCallSite). */
const processMethod = Task.prototype.process;

/** Shared by every task that leaves a list option out: thousands of tasks need not each have their own empty lists. */
const NONE: readonly never[] = Object.freeze([]);

/** The list, frozen; the one shared empty list when it is empty. */
function frozen<T>(list: T[]): readonly T[] {
  // A copy of its exact size: a list grown by push keeps room for 17, and a pipeline may have thousands.
  return list.length === 0 ? NONE : Object.freeze(list.slice());
}

/** A new task, for derive(). */
function newTask(name: string, options: TaskOptions<any, any, any>): AnyTask {
  return new Task(name, options);
}

/** What a mapped task maps over. */
export interface MapSpec {
  /** The upstream task whose result holds the items. */
  over: string;
  /** The path into that result, e.g. ['files'] for 'ListFiles.files'. */
  path: readonly string[];
  /** How many items run at once. */
  concurrency: number;
}

function mapSpec(task: string, value: unknown): MapSpec | undefined {
  if (value === undefined) return undefined;
  const spec = value as { over?: unknown; concurrency?: unknown };
  if (typeof spec !== 'object' || spec === null || typeof spec.over !== 'string' || spec.over === '') {
    throw new InvalidOptionError('map', `Task "${task}": map must be { over: 'TaskName' } or { over: 'TaskName.path.to.list', concurrency }, got ${describeValue(value)}.`);
  }
  rejectUnknownOptions(`Task "${task}": map`, spec, ['over', 'concurrency']);
  const concurrency = spec.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || (concurrency as number) < 1) {
    throw new InvalidOptionError('map', `Task "${task}": map.concurrency must be a whole number from 1 up, got ${describeValue(spec.concurrency)}.`);
  }
  const [over, ...path] = spec.over.split('.');
  return { over: over!, path, concurrency: concurrency as number };
}

function groupName(task: string, option: 'stage' | 'optional', value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidOptionError(option, `Task "${task}": ${option} must be a group name, got ${describeValue(value)}.`);
  return value;
}

/** The `retries` option as a complete policy, checked. */
function retryPolicy(task: string, value: unknown): RetryPolicy | undefined {
  if (value === undefined || value === 0) return undefined;
  const options = (typeof value === 'number' ? { count: value } : value) as RetryOptions;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError('retries', `Task "${task}": retries must be a number of retries or { count, delayMs, factor, maxDelayMs, when }, got ${describeValue(value)}.`);
  }
  rejectUnknownOptions(`Task "${task}": retries`, options, RETRY_OPTIONS);
  const { count, delayMs = 500, factor = 2, maxDelayMs = 30_000, when } = options;
  const wholeNumber = (n: unknown) => Number.isInteger(n) && (n as number) >= 0;
  if (!wholeNumber(count)) throw new InvalidOptionError('retries', `Task "${task}": the retry count must be a whole number from 0 up, got ${describeValue(count)}.`);
  for (const [key, n] of [['delayMs', delayMs], ['maxDelayMs', maxDelayMs]] as const) {
    if (!(typeof n === 'number' && n >= 0 && Number.isFinite(n))) throw new InvalidOptionError('retries', `Task "${task}": retries.${key} must be a number of milliseconds from 0 up, got ${describeValue(n)}.`);
  }
  if (!(typeof factor === 'number' && factor >= 1 && Number.isFinite(factor))) throw new InvalidOptionError('retries', `Task "${task}": retries.factor must be a number from 1 up, got ${describeValue(factor)}.`);
  if (when !== undefined && typeof when !== 'function') throw new InvalidOptionError('retries', `Task "${task}": retries.when must be a function of the error, got ${describeValue(when)}.`);
  return count === 0 ? undefined : { attempts: count + 1, delayMs, factor, maxDelayMs, when };
}

/** The outputs option as a list: paths as given, tables named as tableOutputKey says. */
function outputList(task: string, value: unknown): string[] {
  if (value === undefined) return [];
  const list: unknown[] = Array.isArray(value) ? value : [value];
  return [...new Set(list.map((output) => {
    if (typeof output === 'string' && output.trim() !== '') return isTableOutput(output) ? tableOutputKey(task, output) : output;
    if (typeof output === 'object' && output !== null && !Array.isArray(output) && 'table' in output) {
      rejectUnknownOptions(`Task "${task}": an output table`, output, ['table', 'db']);
      return tableOutputKey(task, output as TableOutput);
    }
    throw new InvalidOptionError('outputs', `Task "${task}": outputs must be a path or an array of paths (non-empty strings) and tables such as { table: 'sales_clean' }, got ${describeValue(value)}.`);
  }))];
}

/** A path option as a list: one path, or an array of non-empty strings. */
function pathList(task: string, option: 'inputs' | 'sources', value: unknown): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || item.trim() === '')) {
    throw new InvalidOptionError(option, `Task "${task}": ${option} must be a path or an array of paths (non-empty strings), got ${describeValue(value)}.`);
  }
  return [...new Set(list as string[])];
}

/** Any task, whatever its name, processes, result, dependencies and params. */
export type AnyTask = Task<string, any, any, any, any, any>;

export type { ResultOf } from './task-types.js';

/**
 * The Task instances exported by a module namespace, for `pipeline.add(...tasksIn(module))`.
 * Arrays of tasks among the exports are included too.
 * @example
 * import * as steps from './steps.js';
 * pipeline.add(...tasksIn(steps));
 */
export function tasksIn(namespace: Record<string, unknown>): AnyTask[] {
  const found = new Set<AnyTask>();
  for (const value of Object.values(namespace)) {
    if (value instanceof Task) found.add(value);
    else if (Array.isArray(value)) for (const item of value) if (item instanceof Task) found.add(item);
  }
  return [...found];
}
