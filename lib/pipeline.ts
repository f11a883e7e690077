import path from 'node:path';
import { type CacheListing, listCache } from './cache/listing.js';
import { HISTORY_LENGTH, ResultStore, type ResultStoreOptions } from './cache/store.js';
import type { ProjectConfig } from './config/project-config.js';
import { InvalidOptionError } from './errors.js';
import { refreshCodeAnalysis } from './fingerprint/definition.js';
import { PipelineTasks } from './graph/pipeline-tasks.js';
import { TaskLogs } from './logs/task-logs.js';
import { rejectUnknownOptions, stringList } from './names.js';
import { type CheckedRunSettings, type ExecuteOptions, type PipelineOptions, type RunMethod, checkLogLevel, checkResource, checkResultOptions, historyLimit, pipelineSettings, profileOption, runSettings } from './pipeline-options.js';
import { freshResult } from './plan/fresh-result.js';
import { type Plan, planRun } from './plan/plan.js';
import { type Profile, selectForRun, selectedTask } from './plan/selection.js';
import { explainTask } from './report/explain.js';
import { type ExportOptions, exportFileProblem, writeExport } from './report/export.js';
import { runProgress } from './report/notebook.js';
import { PipelineExecutors, executorDefaults, unsharedStore } from './run/executors/choice.js';
import { PIPELINE_PARTS, loadedByWorker } from './run/executors/executor.js';
import type { WorkerSetup } from './run/executors/remote-task.js';
import { executeRun } from './run/execute.js';
import { RunReport, type RunRecord } from './run/outcome.js';
import { type ResourceFactory, RunResources } from './run/resources.js';
import type { AnyTask, PipelineView, ResultOf } from './task.js';

/** The names `getResult` takes: those of the tasks the pipeline's type knows, or any when it knows none. */
type KnownNames<Tasks extends AnyTask> = [Tasks] extends [never] ? string : Tasks['name'];

/** The result of the task named `N` among a pipeline's tasks: `unknown` when the type knows none, `any` for a task whose type does not say its name. */
type ResultNamed<Tasks extends AnyTask, N extends string> = [Tasks] extends [never] ? unknown : Tasks extends { readonly name: infer Name } ? (N extends Name ? ResultOf<Tasks> : never) : never;

/**
 * Tasks addressed by name, ordered by their dependencies, run with caching. Results persist
 * between runs; a task runs again only when it is not fresh.
 *
 * `Tasks` is the union of the tasks' types the compiler knows of, from the `tasks` option and each
 * `add()` whose pipeline is used: `getResult('Sum')` is then Sum's result type, and a name that
 * is none of theirs is a compile error.
 *
 * @example
 * const pipeline = new Pipeline('Example1', { tasks: [task1, task2, sum] });
 * await pipeline.execute();
 * const total = await pipeline.getResult('Sum'); // typed from Sum's run process
 */
export class Pipeline<in Tasks extends AnyTask = never> implements PipelineView {
  /** The pipeline's name: its namespace in the cache and its folder of logs. */
  readonly name: string;
  /** Folder of the cache and the logs. */
  readonly cacheDir: string;
  readonly #tasks: PipelineTasks;
  readonly #options: PipelineOptions<AnyTask>;
  readonly #config: ProjectConfig | undefined;
  /** Where the cache is (the local SQLite file, a team cache by URL, or a Keyv store given), under which keys, with which formats. */
  readonly #storeOptions: Required<ResultStoreOptions>;
  readonly #executors: PipelineExecutors;
  readonly #resources = new Map<string, ResourceFactory>();
  #store: ResultStore | undefined;
  #logs: TaskLogs | undefined;
  #logLevel: string | undefined;
  /** The run going on, whose own entries getResult() takes as fresh. */
  #runId: string | undefined;
  /** The profile of the last execute(), which getResult() uses by default. */
  #lastProfile: Profile | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(name: string, options: PipelineOptions<Tasks> = {}) {
    ({ config: this.#config, cacheDir: this.cacheDir, store: this.#storeOptions } = pipelineSettings(name, options));
    this.name = name;
    this.#tasks = new PipelineTasks(name);
    if (options.tasks !== undefined) this.#tasks.add(options.tasks, `Pipeline "${name}": the tasks option`);
    this.#options = options;
    this.#logLevel = options.logLevel;
    const logSettings = () => ({ level: this.logLevel, redact: options.redact ?? [] });
    this.#executors = new PipelineExecutors({ ...this.#storeOptions, logSettings, store: () => this.#openStore(), logs: () => this.#taskLogs() });
  }

  /**
   * The least severe level task logs write (see the `logLevel` option); can be changed between runs.
   * @example pipeline.logLevel = 'debug';
   */
  get logLevel(): string {
    return this.#logLevel ?? 'info';
  }

  set logLevel(level: string) {
    checkLogLevel(this.name, level);
    this.#logLevel = level;
    if (this.#logs) this.#logs.level = level;
  }

  /** The file a task's log is written to (it exists once the task has logged something). */
  logFile(task: string): string {
    this.#tasks.get(task, 'pipeline.logFile()');
    return path.join(this.cacheDir, 'logs', this.name, `${task}.log`);
  }

  /**
   * Adds tasks, in any order; the same task object twice is harmless. Another task under a name
   * already taken is a DuplicateTaskError, except in a notebook (the tslab kernel), where
   * re-running the cell that defines a task makes a new Task of that name, which replaces the old.
   * Returns the pipeline, typed with the added tasks too: chain the calls, or keep what it returns
   * (`const sales = pipeline.add(report)`), for `getResult` to know them.
   */
  add<const Added extends readonly AnyTask[]>(...tasks: Added): Pipeline<Tasks | Added[number]> {
    this.#tasks.add(tasks);
    return this as never;
  }

  /**
   * Provides a resource tasks can use (a connection, a client, a pool): made once per run when the
   * first task that `uses` it starts, got with `t.use(name)`, closed (its `close`, `dispose` or
   * `end`) when the run ends. Neither cached nor part of a fingerprint.
   * @example pipeline.provide('db', async () => (await DuckDBInstance.create('sales.duckdb')).connect());
   */
  provide(name: string, factory: ResourceFactory): this {
    checkResource(name, factory);
    this.#resources.set(name, factory);
    return this;
  }

  /** Replaces the task of the same name with a new definition (in a notebook, after editing a cell). */
  replace<T extends AnyTask>(task: T): Pipeline<Exclude<Tasks, { readonly name: T['name'] }> | T> {
    this.#tasks.replace(task);
    return this as never;
  }

  /** The tasks, every dependency before its dependents. Throws PipelineValidationError if the graph is invalid. */
  get tasks(): AnyTask[] {
    return this.#tasks.ordered();
  }

  /** The task with this name. */
  getTask<N extends string>(name: N): AnyTask {
    return this.#tasks.get(name, 'pipeline.getTask()');
  }

  /**
   * Runs every task that is not fresh, in dependency order, caching each result. Resolves to the
   * run report; rejects with PipelineRunError (carrying the report) when a task failed, and with
   * RunCancelledError when cancelled through `signal`.
   */
  execute(options: ExecuteOptions = {}): Promise<RunReport> {
    // A module loaded by a worker defines tasks; it must not run the whole pipeline in each worker.
    if (loadedByWorker()) return Promise.resolve(new RunReport(this.name, new Date(), 0, []));
    return this.#enqueue(() => this.#execute(options));
  }

  /**
   * What `execute()` would do with the same options, task by task, without running anything:
   * `run` (with the reasons), `cached`, `wait` (early cutoff decides), `blocked` or `skipped`.
   * Waits for runs already started, so it sees their results; ignores `concurrency`, `signal` and `progress`.
   *
   * @example
   * const plan = await pipeline.plan({ only: ['Report'] });
   * console.log(plan.summary()); // Sales: 1 will run, 1 waits, 3 cached, 2 skipped
   */
  plan(options: ExecuteOptions = {}): Promise<Plan> {
    return this.#enqueue(() => this.#plan(options, 'plan'));
  }

  /**
   * One task's plan as a sentence: why it will run, that it is cached, what it waits on, what
   * blocks it. Takes the options of `execute()`.
   *
   * @example
   * console.log(await pipeline.explain('Report'));
   * // Report waits on Clean, which will run (code changed); it re-runs only if Clean's result changes
   */
  async explain(name: string, options: ExecuteOptions = {}): Promise<string> {
    this.#tasks.get(name, 'pipeline.explain()');
    const plan = await this.#enqueue(() => this.#plan(options, 'explain'));
    return explainTask(plan, name, { dependencies: (task: string) => this.#tasks.byName.get(task)!.dependencies, skip: new Set(options.skip) });
  }

  /**
   * Whether `execute()` with these options would run nothing, every task being cached or skipped. A gate for CI.
   * @example if (!(await pipeline.verify())) process.exitCode = 1;
   */
  async verify(options: ExecuteOptions = {}): Promise<boolean> {
    const plan = await this.#enqueue(() => this.#plan(options, 'verify'));
    return plan.tasks.every((task) => task.action === 'cached' || task.action === 'skipped');
  }

  /**
   * The cached result of a task. `undefined` and `null` are results like any other; a task with
   * no fresh result (never ran, failed last run, expired, out of date) is a NoFreshResultError
   * that says which. Typed as the task's result when the pipeline's type knows the task; a name
   * it does not know is a compile error, and a `string` (a name from the command line) is `unknown`.
   * @example const total = await pipeline.getResult('Sum');
   */
  getResult<N extends KnownNames<Tasks>>(name: N, options?: { profile?: string | Profile }): Promise<ResultNamed<Tasks, N>>;
  getResult<N extends string>(name: string extends N ? N : KnownNames<Tasks>, options?: { profile?: string | Profile }): Promise<unknown>;
  async getResult(name: string, options: { profile?: string | Profile } = {}): Promise<unknown> {
    this.#tasks.get(name, 'pipeline.getResult()');
    checkResultOptions(options);
    // The task as the run that computed it saw it: with the profile of this pipeline's last run, unless told.
    const profile = options.profile === undefined ? this.#lastProfile : profileOption(options.profile, 'getResult', this.#tasks.byName, this.#config);
    const task = selectedTask(this.#tasks, name, profile);
    await refreshCodeAnalysis();
    return freshResult(task, this.#openStore(), this.#runId);
  }

  /**
   * Writes a task's fresh cached result, a table or an array of rows, to `file` as `.arrow`,
   * `.parquet`, `.csv` or `.json`, chosen by its extension, for other tools to open.
   * @example await pipeline.exportResult('Clean', 'out/clean.parquet');
   */
  async exportResult(name: string, file: string, options: ExportOptions = {}): Promise<void> {
    this.#tasks.get(name, 'pipeline.exportResult()');
    const problem = exportFileProblem(file, 'exportResult()');
    if (problem) throw new InvalidOptionError('file', problem);
    await writeExport(await this.getResult(name, options), file, 'exportResult()', name);
  }

  /** Drops cached results: of the named tasks, or of every task when no names are given. */
  async clear(names?: readonly string[]): Promise<void> {
    const targets = names === undefined ? this.#tasks.names : stringList(`pipeline.clear()`, 'names', names);
    for (const name of targets) this.#tasks.get(name, 'pipeline.clear()');
    const store = this.#openStore();
    store.remove(await store.readEntries(targets));
    await store.flush();
  }

  /**
   * What the cache holds for this pipeline, one line per task, in the pipeline's order; with
   * `all`, also entries of tasks it no longer defines (a renamed or removed task), last.
   * @example for (const line of await pipeline.listCache()) console.log(line.task, line.state, line.bytes);
   */
  async listCache(options: { all?: boolean } = {}): Promise<CacheListing[]> {
    rejectUnknownOptions('listCache()', options, ['all']);
    const store = this.#openStore();
    await this.#queue;
    return listCache(store, this.#tasks.names, this.#tasks.graphIfValid()?.order, options.all === true);
  }

  /**
   * Past runs, the newest first (the last 20 are kept): when each started, how long it took, and
   * every task's status and time, as plain data.
   * @example const [last] = await pipeline.history();
   */
  async history(options: { limit?: number } = {}): Promise<RunRecord[]> {
    const limit = historyLimit(options, HISTORY_LENGTH);
    await this.#queue;
    return this.#openStore().history(limit);
  }

  /**
   * Drops everything this pipeline keeps in the cache: its tasks' results, entries of tasks it no
   * longer defines, large-value files and the run history. Logs stay.
   * @returns how many task entries were removed
   */
  purge(): Promise<number> {
    return this.#enqueue(() => this.#openStore().purge(this.#tasks.names));
  }

  /** Writes what is pending and releases the cache store; the pipeline reopens it if used again. */
  async close(): Promise<void> {
    await this.#queue;
    await this.#executors.close();
    await this.#logs?.flush();
    const store = this.#store;
    this.#store = undefined;
    await store?.close();
  }

  /** What a worker process needs of the pipeline: its tasks, store and logs, and its default queue (see `littlepipes worker`). */
  [PIPELINE_PARTS](file: string): WorkerSetup {
    const { connection } = executorDefaults(this.#config);
    return { pipeline: this, tasks: this.#tasks.byName, store: this.#openStore(), namespace: this.#storeOptions.namespace, logs: this.#taskLogs(), file, unshared: unsharedStore(this.#storeOptions.choice), connection };
  }

  async #execute(options: ExecuteOptions): Promise<RunReport> {
    const requested = runSettings(options, 'execute', this.#tasks.byName, this.#config);
    this.#lastProfile = requested.profile;
    const { tasks, graph, settings } = this.#select(requested);
    await refreshCodeAnalysis(); // See the source files as they are now.
    const progress = () => runProgress(options.progress !== false, options.events, graph.order.length);
    const parts = { pipeline: this, tasks, graph, store: this.#openStore(), logs: this.#taskLogs(), resources: new RunResources(this.#resources), progress };
    return executeRun({ ...parts, executors: this.#executors, executor: requested.executor, running: (run) => (this.#runId = run?.id) }, settings);
  }

  async #plan(options: ExecuteOptions, method: RunMethod): Promise<Plan> {
    // The same selection as execute(): the same profile, gates and groups decide the same tasks.
    const { tasks, graph, settings } = this.#select(runSettings(options, method, this.#tasks.byName, this.#config));
    await refreshCodeAnalysis(); // As execute() does: see the source files as they are now.
    return planRun({ pipeline: this.name, tasks, graph, store: this.#openStore() }, settings);
  }

  /** The tasks, graph and settings a run with these settings works with (see selectForRun). */
  #select({ profile, executor: _executor, ...settings }: CheckedRunSettings) {
    return selectForRun(this.#tasks, profile, settings);
  }

  /** Runs `work` after every run and plan asked for before it, whatever their outcome. */
  #enqueue<T>(work: () => Promise<T>): Promise<T> {
    const done = this.#queue.then(work);
    this.#queue = done.catch(() => {});
    return done;
  }

  #openStore(): ResultStore {
    this.#store ??= new ResultStore(this.#storeOptions);
    return this.#store;
  }

  #taskLogs(): TaskLogs {
    if (!this.#logs) {
      this.#logs = TaskLogs.in(path.join(this.cacheDir, 'logs', this.name));
      if (this.#logLevel) this.#logs.level = this.#logLevel;
      if (this.#options.redact) this.#logs.redact = this.#options.redact;
    }
    return this.#logs;
  }
}
