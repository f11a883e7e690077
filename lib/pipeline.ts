import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type StoreChoice, chooseStore } from './cache/backends/backend.js';
import { HISTORY_LENGTH, ResultStore } from './cache/store.js';
import { ConfigError, DuplicateTaskError, ExecutorError, InvalidOptionError, NoFreshResultError, PipelineRunError, RunCancelledError, TaskDefinitionError, UnknownTaskError } from './errors.js';
import { type PipelineGraph, buildGraph } from './graph/graph.js';
import { TaskLogs } from './logs/task-logs.js';
import { describeValue, nameProblem, rejectUnknownOptions, stringList, suggest } from './names.js';
import { explainTask } from './report/explain.js';
import { type ExportOptions, exportFileProblem, writeExport } from './report/export.js';
import { inNotebook } from './host.js';
import { notebookProgress } from './report/notebook.js';
import { alsoTell, silentProgress } from './run/events.js';
import { terminalProgress } from './report/progress.js';
import type { RunRecord, RunReport } from './run/outcome.js';
import { refreshCodeAnalysis } from './fingerprint/definition.js';
import { currentFiles, describeReason, staleness } from './plan/freshness.js';
import { type Plan, planRun } from './plan/plan.js';
import { interruptOnCtrlC } from './run/interrupt.js';
import { type ResourceFactory, RunResources } from './run/resources.js';
import { Run, type RunSettings } from './run/runner.js';
import { PIPELINE_PARTS, type TaskExecutor, loadedByWorker, sharedStoreAdvice } from './run/executors/executor.js';
import type { WorkerSetup } from './run/executors/remote-task.js';
import type { ThreadsExecutor } from './run/executors/threads-executor.js';
import { RunReport as Report } from './run/outcome.js';
import { type Profile, needsSelection, selectRun } from './plan/selection.js';
import { CONFIG_FILE, type ProjectConfig, loadProjectConfig, parseProjectConfig, projectRoot, resolveProfile } from './config/project-config.js';
import { type AnyTask, type PipelineView, type ResultOf, Task } from './task.js';
import { Codec } from './cache/codec.js';
import { checkFormats } from './cache/formats/format.js';
import { type CacheListing, DEFAULT_CONCURRENCY, EVENT_NAMES, EXECUTE_OPTIONS, type ExecuteOptions, LOG_LEVELS, PIPELINE_OPTIONS, type PipelineOptions } from './pipeline-options.js';
import { type ExecutorChoice, type ExecutorDefaults, executorChoice } from './run/executors/choice.js';

/** The results a pipeline's tasks produce, by task name, accumulated by chained `add()` calls. */
type ResultsOf<Tasks extends readonly AnyTask[]> = { [T in Tasks[number] as T['name']]: ResultOf<T> };

/**
 * Tasks addressed by name, ordered by their dependencies, run with caching. Results persist
 * between runs; a task runs again only when it is not fresh.
 *
 * @example
 * const pipeline = new Pipeline('Example1').add(task1, task2, sum);
 * await pipeline.execute();
 * const total = await pipeline.getResult('Sum'); // typed from Sum's run process
 */
export class Pipeline<Results extends Record<string, unknown> = {}> implements PipelineView {
  /** The pipeline's name: its namespace in the cache and its folder of logs. */
  readonly name: string;
  /** Folder of the cache and the logs. */
  readonly cacheDir: string;
  readonly #tasks = new Map<string, AnyTask>();
  readonly #options: PipelineOptions;
  /** Results to bytes and back, with the pipeline's formats. */
  readonly #codec: Codec;
  #graph: PipelineGraph | undefined;
  #store: ResultStore | undefined;
  /** Where results are kept: the store option, LITTLEPIPES_STORE or settings.store; undefined for the local SQLite file. */
  /** Where the cache is: the local SQLite file, a team cache by URL, or a Keyv store given. */
  readonly #storeChoice: StoreChoice;
  #logs: TaskLogs | undefined;
  #currentRun: Run | undefined;
  /** The profile of the last execute(), which getResult() uses by default. */
  #lastProfile: Profile | undefined;
  /** littlepipes.yaml, once read (null: not read yet). */
  #config: ProjectConfig | undefined | null = null;
  readonly #resources = new Map<string, ResourceFactory>();
  #logLevel: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** The threads executor's pool, kept between runs (closed by close()). */
  #threadPool: ThreadsExecutor | undefined;

  constructor(name: string, options: PipelineOptions = {}) {
    const problem = nameProblem(name);
    if (problem) throw new InvalidOptionError('name', `Pipeline name: ${problem}. Use a short name such as "Sales".`);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidOptionError('options', `Pipeline "${name}": options must be an object, got ${describeValue(options)}.`);
    rejectUnknownOptions(`Pipeline "${name}"`, options, PIPELINE_OPTIONS);
    if (options.cacheDir !== undefined && (typeof options.cacheDir !== 'string' || options.cacheDir === '')) {
      throw new InvalidOptionError('cacheDir', `Pipeline "${name}": cacheDir must be a folder path, got ${describeValue(options.cacheDir)}.`);
    }
    if (options.logLevel !== undefined && !LOG_LEVELS.includes(options.logLevel)) {
      throw new InvalidOptionError('logLevel', `Pipeline "${name}": logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${describeValue(options.logLevel)}.`);
    }
    if (options.redact !== undefined) stringList(`Pipeline "${name}"`, 'redact', options.redact, 'field paths', true);
    if (options.project !== undefined && (typeof options.project !== 'string' || options.project.trim() === '')) {
      throw new InvalidOptionError('project', `Pipeline "${name}": project must be a non-empty name, got ${describeValue(options.project)}.`);
    }
    if (options.config !== undefined && (typeof options.config !== 'string' || options.config === '')) {
      throw new InvalidOptionError('config', `Pipeline "${name}": config must be the path of a littlepipes.yaml, got ${describeValue(options.config)}.`);
    }
    this.name = name;
    this.#options = options;
    this.#codec = new Codec(checkFormats(options.formats, `Pipeline "${name}"`));
    const settings = this.#projectConfig()?.settings;
    this.cacheDir = path.resolve(options.cacheDir ?? process.env.LITTLEPIPES_DIR ?? settings?.cacheDir ?? '.littlepipes');
    // The store is decided here, once: the option, else LITTLEPIPES_STORE, else littlepipes.yaml (checked when it was read).
    const url = process.env.LITTLEPIPES_STORE || undefined;
    const where = options.store !== undefined ? `Pipeline "${name}"` : url !== undefined ? `Pipeline "${name}": LITTLEPIPES_STORE` : `Pipeline "${name}": settings.store`;
    this.#storeChoice = chooseStore(options.store ?? url ?? settings?.store, this.cacheDir, where);
    this.#logLevel = options.logLevel;
  }

  /**
   * The least severe level task logs write (see the `logLevel` option); can be changed between runs.
   * @example pipeline.logLevel = 'debug';
   */
  get logLevel(): string {
    return this.#logLevel ?? 'info';
  }

  set logLevel(level: string) {
    if (!LOG_LEVELS.includes(level)) throw new InvalidOptionError('logLevel', `Pipeline "${this.name}": logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${describeValue(level)}.`);
    this.#logLevel = level;
    if (this.#logs) this.#logs.level = level;
  }

  /** The file a task's log is written to (it exists once the task has logged something). */
  logFile(task: string): string {
    this.#knownTask(task, 'pipeline.logFile()');
    return path.join(this.cacheDir, 'logs', this.name, `${task}.log`);
  }

  /**
   * Adds tasks, in any order. Adding the same task object twice is harmless. A different task
   * under a name already taken is a DuplicateTaskError in a script; in a notebook (the tslab
   * kernel) it replaces the task added before, because re-running the cell that defines a task
   * makes a new Task object of the same name. Two tasks of one name in one add() are always an error.
   */
  add<const Tasks extends readonly AnyTask[]>(...tasks: Tasks): Pipeline<Results & ResultsOf<Tasks>> {
    // Check them all first, so an add() that throws adds none of its tasks.
    const adding = new Map<string, AnyTask>();
    const redefines = inNotebook();
    for (const task of tasks) {
      if (!(task instanceof Task)) throw new TaskDefinitionError(String(task), `pipeline.add() expects Task objects, got ${describeValue(task)}.`);
      const existing = adding.get(task.name) ?? (redefines ? undefined : this.#tasks.get(task.name));
      if (existing && existing !== task) throw new DuplicateTaskError(task.name);
      adding.set(task.name, task);
    }
    for (const [name, task] of adding) this.#tasks.set(name, task);
    this.#graph = undefined;
    return this as unknown as Pipeline<Results & ResultsOf<Tasks>>;
  }

  /**
   * Provides a resource tasks can use: a database connection, a client, a pool. It is made once
   * per run, when the first task that uses it starts, and closed when the run ends (its `close`,
   * `dispose` or `end`, whichever it has). Tasks name what they use in their `uses` option and get
   * it with `t.use(name)`. Resources are neither cached nor part of a task's fingerprint.
   *
   * @example
   * pipeline.provide('db', async () => (await DuckDBInstance.create('sales.duckdb')).connect());
   * new Task('Totals', { uses: ['db'] }).process('run', async (t) => (await t.use<DuckDBConnection>('db').runAndReadAll('SELECT 1')).getRows());
   */
  provide(name: string, factory: ResourceFactory): this {
    const problem = nameProblem(name);
    if (problem) throw new InvalidOptionError('name', `pipeline.provide(): resource name: ${problem}.`);
    if (typeof factory !== 'function') throw new InvalidOptionError('factory', `pipeline.provide('${name}'): the second argument must be a function that makes the resource, got ${describeValue(factory)}.`);
    this.#resources.set(name, factory);
    return this;
  }

  /** Replaces the task of the same name with a new definition (in a notebook, after editing a cell). */
  replace<T extends AnyTask>(task: T): Pipeline<Omit<Results, T['name']> & ResultsOf<[T]>> {
    if (!(task instanceof Task)) throw new TaskDefinitionError(String(task), `pipeline.replace() expects a Task, got ${describeValue(task)}.`);
    this.#knownTask(task.name, 'pipeline.replace()');
    this.#tasks.set(task.name, task);
    this.#graph = undefined;
    return this as never;
  }

  /** The tasks, every dependency before its dependents. Throws PipelineValidationError if the graph is invalid. */
  get tasks(): AnyTask[] {
    return this.#validGraph().order.map((name) => this.#tasks.get(name)!);
  }

  /** The task with this name. */
  getTask<N extends string>(name: N): AnyTask {
    return this.#knownTask(name, 'pipeline.getTask()');
  }

  /**
   * Runs every task that is not fresh, in dependency order, caching each result. Resolves to the
   * run report; rejects with PipelineRunError (carrying the report) when a task failed, and with
   * RunCancelledError when cancelled through `signal`.
   */
  execute(options: ExecuteOptions = {}): Promise<RunReport> {
    // A module loaded by a worker defines tasks; it must not run the whole pipeline in each worker.
    if (loadedByWorker()) return Promise.resolve(new Report(this.name, new Date(), 0, []));
    return this.#enqueue(() => this.#execute(options));
  }

  /**
   * What `execute()` would do with the same options, task by task, without running anything or
   * writing to the cache: `run` (with the reasons), `cached`, `wait` (an upstream runs first, and
   * early cutoff decides), `blocked` or `skipped`. `concurrency`, `signal` and `progress` are
   * accepted and ignored. Waits for runs already started, so it sees their results.
   *
   * @example
   * const plan = await pipeline.plan({ only: ['Report'] });
   * console.log(plan.summary()); // Sales: 1 will run, 1 waits, 3 cached, 2 skipped
   * for (const task of plan.tasks) if (task.action === 'run') console.log(task.name, task.reasons);
   */
  plan(options: ExecuteOptions = {}): Promise<Plan> {
    return this.#enqueue(() => this.#plan(options, 'plan'));
  }

  async #plan(options: ExecuteOptions, method: 'plan' | 'explain' | 'verify'): Promise<Plan> {
    // The same selection as execute(): the same profile, gates and groups decide the same tasks.
    const { tasks, graph, settings } = this.#select(this.#runSettings(options, method));
    await refreshCodeAnalysis(); // As execute() does: see the source files as they are now.
    return planRun({ pipeline: this.name, tasks, graph, store: this.#openStore() }, settings);
  }

  /**
   * The tasks and graph a run works with: the pipeline's own, or, when it uses anyOf gates,
   * stages or optional groups, or a profile is given, those the selection derives (see selectRun).
   */
  #select(settings: RunSettings & { profile?: Profile }): { tasks: ReadonlyMap<string, AnyTask>; graph: PipelineGraph; settings: RunSettings } {
    const graph = this.#validGraph();
    const { profile, ...rest } = settings;
    if (!needsSelection(this.#tasks, profile)) return { tasks: this.#tasks, graph, settings: rest };
    const selection = selectRun(this.#tasks, graph, profile, settings.only);
    return {
      tasks: selection.tasks,
      graph: buildGraph(this.name, selection.tasks),
      settings: {
        ...rest,
        only: undefined,
        excluded: selection.excluded,
        force: rest.force === true ? true : new Set([...rest.force, ...selection.forced]),
      },
    };
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
    this.#knownTask(name, 'pipeline.explain()');
    const plan = await this.#enqueue(() => this.#plan(options, 'explain'));
    return explainTask(plan, name, {
      dependencies: (task: string) => this.#tasks.get(task)!.dependencies,
      skip: new Set(options.skip),
    });
  }

  /**
   * Whether everything is up to date: true when `execute()` with these options would run
   * nothing, every task being cached or skipped (by `only` or `skip`). A gate for CI.
   *
   * @example
   * if (!(await pipeline.verify())) {
   *   console.error((await pipeline.plan()).summary());
   *   process.exitCode = 1;
   * }
   */
  async verify(options: ExecuteOptions = {}): Promise<boolean> {
    const plan = await this.#enqueue(() => this.#plan(options, 'verify'));
    return plan.tasks.every((task) => task.action === 'cached' || task.action === 'skipped');
  }

  async #execute(options: ExecuteOptions): Promise<RunReport> {
    const requested = this.#runSettings(options);
    this.#lastProfile = requested.profile;
    const { tasks, graph, settings } = this.#select(requested);
    await refreshCodeAnalysis(); // See the source files as they are now.
    const interrupt = settings.signal === undefined ? interruptOnCtrlC() : undefined;
    if (interrupt) settings.signal = interrupt.signal;
    let executor: TaskExecutor | undefined;
    try {
      executor = await this.#openExecutor(requested.executor, tasks.values());
    } catch (error) {
      interrupt?.dispose();
      throw error;
    }
    const display = options.progress === false ? silentProgress : ((await notebookProgress(graph.order.length)) ?? (await terminalProgress(graph.order.length)));
    const progress = options.events ? alsoTell(display, options.events) : display;
    const run = new Run(
      { pipeline: this, tasks, graph, store: this.#openStore(), logs: this.#taskLogs(), progress, resources: new RunResources(this.#resources), executor },
      settings,
    );
    this.#currentRun = run;
    try {
      const report = await run.execute();
      this.#openStore().recordRun(report.toJSON());
      if (interrupt?.interrupted()) {
        // Once the run has stopped cleanly, its results are committed (the run's end waits for
        // that) and its report is shown, the process ends as that Ctrl-C would have ended it.
        await this.#store?.flush().catch(() => {});
        await this.#logs?.flush();
        interrupt.passOn();
      }
      if (run.cancelled) throw new RunCancelledError(report, options.signal?.reason);
      if (report.failed.length > 0) throw new PipelineRunError(report);
      return report;
    } finally {
      this.#currentRun = undefined;
      interrupt?.dispose();
      if (executor !== this.#threadPool) await executor?.close();
    }
  }

  /** The executor a run asked for, ready to take tasks; undefined for the local one. */
  async #openExecutor(choice: ExecutorChoice, tasks: Iterable<AnyTask>): Promise<TaskExecutor | undefined> {
    if (choice.name === 'threads') {
      if (this.#threadPool && (this.#threadPool.threads !== choice.threads || !this.#threadPool.current(tasks))) {
        await this.#threadPool.close();
        this.#threadPool = undefined;
      }
      const { openThreadsExecutor } = await import('./run/executors/threads-executor.js');
      this.#threadPool ??= await openThreadsExecutor({
        threads: choice.threads,
        logs: this.#taskLogs(),
        logSettings: () => ({ level: this.logLevel, redact: this.#options.redact ?? [] }),
      });
      return this.#threadPool;
    }
    if (choice.name !== 'bullmq') return undefined;
    const unshared = this.#unsharedStore();
    if (unshared) {
      throw new ExecutorError('bullmq', `Pipeline "${this.name}": the bullmq executor needs a store the workers share, and this pipeline's results live in ${unshared}. ${sharedStoreAdvice(this.name)}`);
    }
    const { openBullmqExecutor } = await import('./run/executors/bullmq-executor.js');
    return openBullmqExecutor({ connection: choice.connection, namespace: this.#namespace(), pipeline: this.name, store: this.#openStore() });
  }

  /** Where results live when other processes cannot reach them (the local SQLite file, an in-memory Map), else undefined. */
  #unsharedStore(): string | undefined {
    return this.#storeChoice.shared ? undefined : this.#storeChoice.description;
  }

  /** What a worker process needs of the pipeline: its tasks, store and logs, and its default queue (see `littlepipes worker`). */
  [PIPELINE_PARTS](file: string): WorkerSetup {
    return { pipeline: this, tasks: this.#tasks, store: this.#openStore(), namespace: this.#namespace(), logs: this.#taskLogs(), file, unshared: this.#unsharedStore(), connection: this.#executorDefaults().connection };
  }

  /**
   * The cached result of a task. `undefined` and `null` are results like any other; a task with
   * no fresh result (never ran, failed last run, expired, out of date) is a NoFreshResultError
   * that says which.
   */
  async getResult<N extends string>(name: N, options: { profile?: string | Profile } = {}): Promise<N extends keyof Results ? Results[N] : unknown> {
    this.#knownTask(name, 'pipeline.getResult()');
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', `getResult(): options must be an object, got ${describeValue(options)}.`);
    rejectUnknownOptions('getResult()', options, ['profile']);
    // The task as the run that computed it saw it: with the profile of this pipeline's last run, unless told.
    const profile = options.profile === undefined ? this.#lastProfile : this.#profile(options.profile, 'getResult');
    // Reading a result needs no valid graph, unless gates, groups or a profile shape the task.
    const task = needsSelection(this.#tasks, profile)
      ? this.#select({ force: new Set(), only: undefined, skip: new Set(), concurrency: 1, signal: undefined, profile }).tasks.get(name)!
      : this.#tasks.get(name)!;
    await refreshCodeAnalysis();
    const store = this.#openStore();
    const entries = await store.readEntries([name, ...task.dependencies]);
    const entry = entries.get(name);
    const judged = { now: Date.now(), runId: this.#currentRun?.id, codec: store.codec };
    // Its files are looked at only when its own entry can be served: a missing input of a stale task is not the news.
    const stale = staleness(task, entry, judged) ?? staleness(task, entry, {
      ...judged,
      files: await currentFiles(task, entry),
      // As the cache holds them: getResult runs nothing.
      upstreamHash: (dependency) => {
        const upstream = entries.get(dependency);
        return upstream?.state === 'failed' ? undefined : upstream?.resultHash;
      },
    });
    if (stale) {
      switch (stale.kind) {
        case 'never ran':
          throw new NoFreshResultError(name, 'never ran', 'it has never run');
        case 'failed last run':
          throw new NoFreshResultError(name, 'failed last run', `its last run failed (${stale.message})`);
        case 'expired':
          throw new NoFreshResultError(name, 'expired', `its result expired (${stale.detail})`);
        case 'upstream changed':
          throw new NoFreshResultError(name, 'out of date', `the result of its dependency ${stale.task} changed since it ran`);
        default:
          throw new NoFreshResultError(name, 'out of date', `its ${describeReason(stale)} since it ran`);
      }
    }
    return (await store.loadValue(name, entry!.value!, entry!.resultHash)) as never;
  }

  /**
   * Writes a task's cached result, a table (apache-arrow, arquero, nodejs-polars) or an array of
   * row objects, to `file` as `.arrow` (Arrow IPC file), `.parquet`, `.csv` or `.json`, chosen by
   * its extension, for other tools to open. The result must be fresh, as for getResult().
   *
   * @example
   * await pipeline.exportResult('Clean', 'out/clean.parquet');
   */
  async exportResult(name: string, file: string, options: ExportOptions = {}): Promise<void> {
    this.#knownTask(name, 'pipeline.exportResult()');
    const problem = exportFileProblem(file, 'exportResult()');
    if (problem) throw new InvalidOptionError('file', problem);
    await writeExport(await this.getResult(name, options), file, 'exportResult()', name);
  }

  /** Drops cached results: of the named tasks, or of every task when no names are given. */
  async clear(names?: readonly string[]): Promise<void> {
    const targets = names === undefined ? [...this.#tasks.keys()] : stringList(`pipeline.clear()`, 'names', names);
    for (const name of targets) this.#knownTask(name, 'pipeline.clear()');
    const store = this.#openStore();
    store.remove(await store.readEntries(targets));
    await store.flush();
  }

  /**
   * What the cache holds for this pipeline, one line per task, in the pipeline's order; with
   * `all`, also entries of tasks it no longer defines (left by a renamed or removed task), last.
   *
   * @example
   * for (const line of await pipeline.listCache()) console.log(line.task, line.state, line.bytes);
   */
  async listCache(options: { all?: boolean } = {}): Promise<CacheListing[]> {
    rejectUnknownOptions('listCache()', options, ['all']);
    const names = [...this.#tasks.keys()];
    const store = this.#openStore();
    await this.#queue;
    const entries = options.all ? await store.listEntries(names) : await store.readEntries(names);
    const order = new Map(this.#graphOrNothing()?.order.map((name, index) => [name, index]));
    return [...entries]
      .map(([task, entry]): CacheListing => ({
        task,
        defined: this.#tasks.has(task),
        state: entry.state,
        storedAt: new Date(entry.storedAt),
        expiresAt: entry.expiresAt === undefined ? undefined : new Date(entry.expiresAt),
        expiry: entry.expiry,
        bytes: entry.value === undefined ? 0 : 'inline' in entry.value ? Math.floor((entry.value.inline.length * 3) / 4) : entry.value.bytes,
        durationMs: entry.durationMs,
        error: entry.error?.message,
      }))
      .sort((a, b) => (order.get(a.task) ?? Infinity) - (order.get(b.task) ?? Infinity) || a.task.localeCompare(b.task));
  }

  /**
   * Past runs, the newest first (the last 20 are kept): when each started, how long it took,
   * and every task's status and time, as plain data.
   *
   * @example
   * const [last] = await pipeline.history();
   * console.log(last?.startedAt, last?.tasks.filter((task) => task.status === 'ran').map((task) => task.name));
   */
  async history(options: { limit?: number } = {}): Promise<RunRecord[]> {
    rejectUnknownOptions('history()', options, ['limit']);
    const { limit = HISTORY_LENGTH } = options;
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidOptionError('limit', `history(): limit must be a whole number from 1 up, got ${describeValue(limit)}.`);
    await this.#queue;
    return this.#openStore().history(limit);
  }

  /**
   * Drops everything this pipeline keeps in the cache: the results of all its tasks, entries
   * left by tasks it no longer defines, large-value files and the run history. Logs stay.
   * @returns how many task entries were removed
   */
  purge(): Promise<number> {
    return this.#enqueue(() => this.#openStore().purge([...this.#tasks.keys()]));
  }

  /** Writes what is pending and releases the cache store; the pipeline reopens it if used again. */
  async close(): Promise<void> {
    await this.#queue;
    const pool = this.#threadPool;
    this.#threadPool = undefined;
    await pool?.close();
    await this.#logs?.flush();
    const store = this.#store;
    this.#store = undefined;
    await store?.close();
  }

  /** Runs `work` after every run and plan asked for before it, whatever their outcome. */
  #enqueue<T>(work: () => Promise<T>): Promise<T> {
    const done = this.#queue.then(work);
    this.#queue = done.catch(() => {});
    return done;
  }

  #knownTask(name: string, where: string): AnyTask {
    const task = this.#tasks.get(name);
    if (!task) throw new UnknownTaskError(String(name), where, typeof name === 'string' ? suggest(name, this.#tasks.keys()) : undefined);
    return task;
  }

  /** The graph when it is valid, for ordering listings; listings must work on an invalid one too. */
  #graphOrNothing(): PipelineGraph | undefined {
    try {
      return this.#validGraph();
    } catch {
      return undefined;
    }
  }

  #validGraph(): PipelineGraph {
    this.#graph ??= buildGraph(this.name, this.#tasks);
    return this.#graph;
  }

  #openStore(): ResultStore {
    this.#store ??= new ResultStore({ pipeline: this.name, namespace: this.#namespace(), choice: this.#storeChoice, codec: this.#codec });
    return this.#store;
  }

  /** The pipeline's keys' prefix in its store: a shared store may hold many projects' pipelines, so keys carry the project too. */
  #namespace(): string {
    return this.#storeChoice.kind !== 'sqlite' ? `${this.#options.project ?? projectName()}/${this.name}` : this.name;
  }

  #taskLogs(): TaskLogs {
    if (!this.#logs) {
      this.#logs = TaskLogs.in(path.join(this.cacheDir, 'logs', this.name));
      if (this.#logLevel) this.#logs.level = this.#logLevel;
      if (this.#options.redact) this.#logs.redact = this.#options.redact;
    }
    return this.#logs;
  }

  /** Validates `execute()` options (also taken by `method`), naming the option and the task that is wrong. */
  #runSettings(options: ExecuteOptions, method: 'execute' | 'plan' | 'explain' | 'verify' = 'execute'): RunSettings & { profile?: Profile; executor: ExecutorChoice } {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidOptionError('options', `${method}(): options must be an object, got ${describeValue(options)}.`);
    rejectUnknownOptions(`${method}()`, options, EXECUTE_OPTIONS);
    const names = (option: 'force' | 'only' | 'skip', value: unknown) => {
      const list = stringList(`${method}()`, option, value);
      for (const name of list) this.#knownTask(name, `${method}({ ${option} })`);
      return new Set(list);
    };
    const { force = false, only, skip = [], concurrency = this.#projectConfig()?.settings.concurrency ?? DEFAULT_CONCURRENCY, signal, progress } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new InvalidOptionError('concurrency', `${method}(): concurrency must be a whole number from 1 up, got ${describeValue(concurrency)}. Try ${Math.max(2, os.availableParallelism())}.`);
    }
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidOptionError('signal', `${method}(): signal must be an AbortSignal, got ${describeValue(signal)}.`);
    if (options.events !== undefined && (typeof options.events !== 'object' || options.events === null || Array.isArray(options.events))) {
      throw new InvalidOptionError('events', `${method}(): events must be an object of functions (${EVENT_NAMES.join(', ')}), got ${describeValue(options.events)}.`);
    }
    if (options.events !== undefined) {
      rejectUnknownOptions(`${method}(): events`, options.events, EVENT_NAMES);
      for (const [event, handler] of Object.entries(options.events)) {
        if (handler !== undefined && typeof handler !== 'function') throw new InvalidOptionError('events', `${method}(): events.${event} must be a function, got ${describeValue(handler)}.`);
      }
    }
    if (progress !== undefined && typeof progress !== 'boolean') throw new InvalidOptionError('progress', `${method}(): progress must be true or false, got ${describeValue(progress)}.`);
    if (typeof force !== 'boolean' && !Array.isArray(force)) throw new InvalidOptionError('force', `${method}(): force must be true, false or an array of task names, got ${describeValue(force)}.`);
    return {
      force: force === true ? true : names('force', force === false ? [] : force),
      only: only === undefined ? undefined : names('only', only),
      skip: names('skip', skip),
      concurrency,
      signal,
      profile: this.#profile(options.profile, method),
      // The project's defaults choose where an execute() runs; a plan runs nothing, so they do not concern it.
      executor: executorChoice(options, method, method === 'execute' ? this.#executorDefaults() : {}),
    };
  }

  /** The executor and queue a run takes when execute() names none: settings in littlepipes.yaml, and LITTLEPIPES_CONNECTION over settings.connection. */
  #executorDefaults(): ExecutorDefaults {
    const config = this.#projectConfig();
    // Read at each run, not when the pipeline is made: the queue is the run's business, not the store's.
    const fromEnvironment = process.env.LITTLEPIPES_CONNECTION || undefined;
    if (fromEnvironment !== undefined) return { executor: config?.settings.executor, connection: { url: fromEnvironment, from: 'LITTLEPIPES_CONNECTION' } };
    const written = config?.settings.connection;
    return { executor: config?.settings.executor, ...(written === undefined ? {} : { connection: { url: written, from: `settings.connection in ${config!.file}` } }) };
  }

  /** The profile a run uses: by name from littlepipes.yaml, or as given. */
  #profile(profile: unknown, method: string): Profile | undefined {
    if (profile === undefined) return undefined;
    if (typeof profile === 'string') {
      const config = this.#projectConfig();
      if (!config) throw new InvalidOptionError('profile', `${method}(): profile "${profile}" needs a ${CONFIG_FILE} at the project root (${projectRoot(process.cwd())}), and there is none. Create it with a profiles: section.`);
      return resolveProfile(config, profile, this.#tasks);
    }
    if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) {
      throw new InvalidOptionError('profile', `${method}(): profile must be a profile name or a profile object, got ${describeValue(profile)}.`);
    }
    // A profile given as an object is checked as if it were written in the file.
    const written = profile as Profile;
    const name = typeof written.name === 'string' ? written.name : 'given';
    const { name: _ignored, ...body } = written as Profile & Record<string, unknown>;
    const config = parseProjectConfig(`${method}({ profile })`, JSON.stringify({ profiles: { [name]: body } }));
    return resolveProfile(config, name, this.#tasks);
  }

  #projectConfig(): ProjectConfig | undefined {
    if (this.#config === null) {
      const file = this.#options.config;
      if (file === undefined) this.#config = loadProjectConfig();
      else {
        let text: string;
        try {
          text = fs.readFileSync(file, 'utf8');
        } catch (error) {
          throw new ConfigError(file, `Cannot read the configuration ${file} (the config option): ${(error as Error).message}.`);
        }
        this.#config = parseProjectConfig(path.resolve(file), text);
      }
    }
    return this.#config;
  }
}

/** What Keyv accepts as a store: a Map, or an object with its adapter's four methods (a Keyv instance has them too). */
/** The name in the nearest package.json above the working directory, else the directory's own name. */
function projectName(): string {
  for (let folder = process.cwd(); ; folder = path.dirname(folder)) {
    try {
      const name = (JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8')) as { name?: unknown }).name;
      if (typeof name === 'string' && name !== '') return name;
    } catch {
      // No package.json here, or not one with a name: look further up.
    }
    if (path.dirname(folder) === folder) return path.basename(process.cwd());
  }
}
