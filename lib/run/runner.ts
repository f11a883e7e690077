import { cryptoModule } from '../deferred-packages.js';
import { type CacheEntry, failureEntry, resultEntry } from '../cache/entry.js';
import type { Leases } from '../cache/leases.js';
import type { ResultStore } from '../cache/store.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { LittlepipesError, TaskTimeoutError } from '../errors.js';
import { type DefinitionFingerprint, definitionFingerprint } from '../fingerprint/definition.js';
import { recordOutputs } from '../fingerprint/files.js';
import type { PipelineGraph } from '../graph/graph.js';
import type { TaskLogs } from '../logs/task-logs.js';
import { describeValue, suggest } from '../names.js';
import type { ProgressListener } from './events.js';
import { counted } from '../words.js';
import { type ProcessTiming, RunReport, type TaskReport, type TaskStatus } from './outcome.js';
import type { AnyTask, PipelineView, RetryPolicy } from '../task.js';
import type { StoredValue } from '../cache/entry.js';
import { createContext } from './context.js';
import { RemoteResult, type TaskExecutor } from './executors/executor.js';
import { type MappedRun, itemsOf, runMapped } from './map.js';
import type { RunResources } from './resources.js';
import { type CurrentFiles, type Decision, type StaleReason, currentFiles, decide, describeReason, unusableCachedResult } from '../plan/freshness.js';
import { type TaskPlan, makePlan, missingUpstream } from '../plan/plan.js';
import type { RunSettings } from '../plan/settings.js';

/**
 * The plan's decision for a task, when it is final: it ran, was served or was skipped on what the
 * plan knew. Undefined for a task the plan left to the run (waiting, or blocked where the run found
 * it is not): the run decides those with `decide`.
 */
function plannedDecision(planned: TaskPlan): Decision | undefined {
  switch (planned.action) {
    case 'run':
      return { action: 'run', reason: planned.reasons[0]! };
    case 'cached':
      return { action: 'cached' };
    case 'skipped':
      return planned.reasons[0] ? { action: 'skipped', reason: planned.reasons[0] } : { action: 'skipped' };
    default:
      return undefined;
  }
}

/** How often a task waiting on another process's lease looks again. */
const LEASE_POLL_MS = 100;
/** The longest the run loop keeps the thread while tasks complete synchronously (see Run#advance). */
const SLICE_MS = 5;

export type { RunSettings } from '../plan/settings.js';

/** What a run works with. */
export interface RunParts {
  pipeline: PipelineView;
  /** The resources tasks use, made as the first task that uses each starts. */
  resources: RunResources;
  tasks: ReadonlyMap<string, AnyTask>;
  graph: PipelineGraph;
  store: ResultStore;
  logs: TaskLogs;
  progress: ProgressListener;
  /** Runs the tasks it takes elsewhere (worker threads, BullMQ workers); the others run here. */
  executor?: TaskExecutor;
}

/** A task's state during the run. */
interface TaskState {
  readonly task: AnyTask;
  /** What the plan decided for it (see #decide). */
  readonly planned: TaskPlan;
  /** Its cache entry when the run started (or as another process left it, see #takeOrWait). */
  entry: CacheEntry | undefined;
  /** Dependencies not finished yet. */
  waiting: number;
  /** Dependents not finished yet: while any is left, a loaded result stays in memory. */
  holders: number;
  /** The hash of the result its dependents see; undefined when it has none (failed, blocked...). */
  hash: string | undefined;
  /** Its result, once computed (`{ value }`) or being loaded for a dependent (a promise). */
  value: { value: unknown } | Promise<unknown> | undefined;
  /** The entry this run wrote for it. */
  written: CacheEntry | undefined;
  /** Its input and output files as found when it was decided, when it declares any. */
  files: CurrentFiles | undefined;
  /** Attempts made at running it in this run (more than 1 when it was retried). */
  attempts: number;
  /** For a mapped task, what its run did with its items. */
  mapped?: MappedRun;
  report: TaskReport | undefined;
  /** Its outcome has been told to progress (or it has none to tell), after what it waits for (see #announce). */
  told: boolean;
  /** What progress is to be told about it once what it waits for has been told finished. */
  held: Announcement[] | undefined;
  /**
   * The states of its dependencies (in the order it lists them), of what it waits for in the
   * run (its dependencies and the required tasks in the run), and of its dependents in the run:
   * a run of thousands of tasks follows these instead of looking names up.
   */
  dependencies: TaskState[];
  waitsFor: TaskState[];
  dependents: TaskState[];
}

/**
 * One execution of a pipeline. Tasks are decided as soon as all their dependencies have finished,
 * so a dependency that re-ran to the same value leaves its dependents cached (early cutoff).
 * Tasks to run start up to `concurrency` at a time. Cached and blocked tasks are settled in a
 * loop rather than by recursion, so a chain of any length cannot overflow the stack.
 */
export class Run {
  readonly id = cryptoModule().randomUUID();
  readonly #parts: RunParts;
  readonly #settings: RunSettings;
  readonly #states = new Map<string, TaskState>();
  /** A task's logger, made on first use: one function for the run, not a closure per task. */
  readonly #logger = (task: string): Logger => this.#parts.logs.logger(task);
  /** Whether a finished task has a result for its dependents: one function for every task decided, not a closure each. */
  readonly #hasResult = (name: string): boolean => this.#states.get(name)!.hash !== undefined;
  readonly #ready: TaskState[] = [];
  #readyAt = 0;
  readonly #runnable: { state: TaskState; reason: StaleReason }[] = [];
  #runnableAt = 0;
  #running = 0;
  /** Tasks computing now: leased at once if another process turns up (see Leases). */
  readonly #runningNames = new Set<string>();
  #remaining = 0;
  #finished = false;
  #cancelled = false;
  #advancing = false;
  #again = false;
  /** A pass that ran for SLICE_MS has handed the thread back and asked to go on (see #advance). */
  #resuming = false;
  readonly #controller = new AbortController();
  readonly #startedAt = new Date();
  readonly #start = performance.now();
  #resolve!: (report: RunReport) => void;
  #reject!: (error: unknown) => void;

  constructor(parts: RunParts, settings: RunSettings) {
    this.#parts = parts;
    this.#settings = settings;
  }

  /** Whether this run was cancelled through its signal. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Runs the pipeline; resolves to the report once every result is stored. */
  async execute(): Promise<RunReport> {
    const { graph, store, tasks } = this.#parts;
    // A task required (not depended on) by another is not read by it: it need not stay in memory for it.
    const requiring = [...tasks.values()].some((task) => task.requires.length > 0);
    const { leases } = store;
    if (leases) {
      leases.onOthers = () => this.#leaseRunning(leases);
      // Before the plan reads the cache: what others store meanwhile, they store under a lease.
      await leases.join();
    }
    // The plan decides; this run carries it out (see #decide).
    const { plan, names, inRun, entries } = await makePlan({ pipeline: this.#parts.pipeline.name, tasks, graph, store }, this.#settings, this.id);
    // The plan's lines are in the graph's order, as the run's tasks are, less those not in the run.
    for (const planned of plan.tasks) {
      const { name } = planned;
      if (inRun && !inRun.has(name)) continue;
      const task = tasks.get(name)!;
      const dependents = graph.dependents.get(name)!;
      const holders = inRun || requiring
        ? dependents.filter((dependent) => (!inRun || inRun.has(dependent)) && tasks.get(dependent)!.dependencies.includes(name)).length
        : dependents.length;
      const waiting = task.dependencies.length + task.requires.length;
      const state: TaskState = {
        task, planned, entry: entries.get(name), waiting, holders, hash: undefined, value: undefined, written: undefined, files: undefined, attempts: 1,
        report: undefined, told: false, held: undefined, dependencies: NO_STATES, waitsFor: NO_STATES, dependents: NO_STATES,
      };
      this.#states.set(name, state);
      if (waiting === 0) this.#ready.push(state);
    }
    for (const state of this.#states.values()) this.#link(state);
    this.#remaining = names.length;

    const { signal } = this.#settings;
    const finished = new Promise<RunReport>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (signal?.aborted) this.#cancel(signal.reason);
    else {
      const onAbort = () => this.#cancel(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      // A signal may outlive many runs; each run takes its listener away when it ends.
      void finished.then(() => signal?.removeEventListener('abort', onAbort), () => signal?.removeEventListener('abort', onAbort));
      this.#advance();
    }
    return finished;
  }

  /**
   * Decides every ready task, starts what may start, and finishes the run when nothing is left.
   * A task that completes synchronously calls this again from inside it; that nested call only
   * asks the running loop for another pass, so a chain of any length runs without recursion.
   * After SLICE_MS of such passes it goes on in a later turn of the event loop instead: tasks that
   * complete synchronously would otherwise hold the thread for the whole run, so the results
   * they queued could not be written meanwhile (the store writes a batch per turn, on SQLite's
   * own thread) and nothing else (progress, Ctrl-C, a cancel) could happen.
   */
  #advance(): void {
    if (this.#advancing) {
      this.#again = true;
      return;
    }
    this.#advancing = true;
    const sliceEnd = performance.now() + SLICE_MS;
    try {
      do {
        this.#again = false;
        if (this.#finished) return;
        while (this.#readyAt < this.#ready.length) this.#decide(this.#ready[this.#readyAt++]!);
        while (this.#running < this.#settings.concurrency && this.#runnableAt < this.#runnable.length && !this.#cancelled) {
          const { state, reason } = this.#runnable[this.#runnableAt++]!;
          void this.#runTask(state, reason);
        }
        // Emptied once all taken, so that a run does not keep a list of everything it did.
        if (this.#readyAt === this.#ready.length) this.#ready.length = this.#readyAt = 0;
        if (this.#runnableAt === this.#runnable.length) this.#runnable.length = this.#runnableAt = 0;
        if (this.#again && performance.now() > sliceEnd) {
          if (!this.#resuming) {
            this.#resuming = true;
            setImmediate(() => {
              this.#resuming = false;
              this.#advance();
            });
          }
          return;
        }
      } while (this.#again);
    } finally {
      this.#advancing = false;
    }
    if (this.#remaining === 0 && this.#running === 0) void this.#finish();
  }

  /**
   * Carries out the plan for a task whose dependencies have all finished. It decides again only
   * what the plan could not know: a task that waits on an upstream that ran (early cutoff), a
   * task whose files an upstream may have written, and (see #takeOrWait) a task another process
   * leased. The plan's rule and this one are the same function, `decide`.
   */
  #decide(state: TaskState): void {
    const { task } = state;
    const missing = missingUpstream(task, this.#hasResult);
    if (missing !== undefined) {
      this.#settleUnrun(state, 'blocked', blockedReason(missing, this.#states.get(missing)!.report!));
      return;
    }
    if (task.inputs.length > 0 || task.outputs.length > 0) {
      // Its files are looked at now that its upstream has run (it may have written them);
      // the task stays unsettled meanwhile, so the run cannot end under it.
      void this.#decideWithFiles(state);
      return;
    }
    const { planned } = state;
    const known = planned.waitsOn === undefined ? plannedDecision(planned) : undefined;
    this.#apply(state, known ?? this.#decision(state, undefined));
  }

  #decision(state: TaskState, files: CurrentFiles | undefined): Decision {
    const { name } = state.task;
    return decide(state.task, state.entry, {
      forced: this.#settings.force === true || this.#settings.force.has(name),
      skipped: this.#settings.skip.has(name),
      now: Date.now(),
      runId: this.id,
      upstreamHash: (dependency) => this.#states.get(dependency)!.hash,
      files,
      codec: this.#parts.store.codec,
    });
  }

  async #decideWithFiles(state: TaskState): Promise<void> {
    try {
      state.files = await currentFiles(state.task, state.entry, this.#parts.resources);
      if (this.#finished) return;
      this.#apply(state, this.#decision(state, state.files));
    } catch (thrown) {
      if (this.#finished) return;
      // A missing input: the task cannot run, and nothing cached is touched.
      const error = asError(state.task.name, thrown);
      this.#parts.logs.logger(state.task.name).error({ err: error }, 'cannot run');
      this.#settle(state, { name: state.task.name, status: 'failed', reason: `failed: ${error.message}`, ms: 0, processes: NO_PROCESSES, error });
    }
    this.#advance();
  }

  /** Carries out a decision about a task whose dependencies all have a result. */
  #apply(state: TaskState, decision: Decision): void {
    const { name } = state.task;
    const { entry } = state;
    switch (decision.action) {
      case 'skipped':
        if (!decision.reason) state.hash = entry!.resultHash;
        this.#settleUnrun(state, 'skipped', decision.reason
          ? `by request; ${unusableCachedResult([decision.reason])}`
          : 'by request; its cached result is used');
        return;
      case 'cached':
        state.hash = entry!.resultHash;
        this.#parts.logs.note(name, 'served from cache');
        this.#settleUnrun(state, 'cached', 'fresh');
        return;
      case 'run':
        this.#runnable.push({ state, reason: decision.reason });
    }
  }

  async #runTask(state: TaskState, firstReason: StaleReason): Promise<void> {
    const { task } = state;
    const { store, logs } = this.#parts;
    this.#running++;
    let stale: StaleReason | undefined = firstReason;
    if (store.leases?.shared) {
      stale = await this.#takeOrWait(state, firstReason, store.leases);
      if (stale === undefined) {
        this.#running--;
        this.#advance();
        return;
      }
    }
    this.#runningNames.add(task.name);
    const logger = this.#logger;
    const reason = describeReason(stale);
    const timings = new Map<string, ProcessTiming>();
    const startMs = performance.now() - this.#start;
    this.#announce(state, 'started');
    logs.note(task.name, 'started', { reason });
    let status: TaskStatus;
    let error: Error | undefined;
    let remote: RemoteResult | undefined;
    try {
      // Each step is awaited only when it is asynchronous: a run of thousands of small tasks
      // should not pay a promise for every step of every task.
      // Taken first: a task whose code cannot be read (a missing script) must not run.
      const definition = definitionFingerprint(task);
      const executor = this.#parts.executor?.takes(task) ? this.#parts.executor : undefined;
      // What runs elsewhere loads its upstream values there.
      const loading = executor ? NO_UPSTREAM : this.#upstreamValues(state);
      const upstream = loading instanceof Promise ? await loading : loading;
      if (task.uses.length > 0) await this.#parts.resources.prepare(task.name, task.uses);
      const inputs = state.files ? Object.keys(state.files.inputs) : NO_INPUTS;
      // Most tasks are plain: called once, here, with no closures made for them.
      const plain = !executor && !task.map && !task.retry && !task.timeout;
      const context = (number: number, signal: AbortSignal) => this.#context(task, upstream, timings, inputs, number, signal);
      const attempt = plain
        ? undefined
        : executor
        ? (number: number, signal: AbortSignal) => executor.run({
          task, attempt: number, signal, definition, log: logger(task.name), timings,
          upstreamValues: () => this.#upstreamValues(state),
          upstreamStored: (dependency) => this.#storedOf(dependency),
        })
        : task.map
        ? async (number: number, signal: AbortSignal) => {
          // A mapped task runs once per item; each item is cached on its own.
          const mapped = await runMapped(
            { task, store, previous: state.entry, definition, runId: this.id, signal, forced: stale.kind === 'forced' },
            itemsOf(task, upstream.get(task.map!.over)),
            (item, index) => (context(number, signal).run as (item: unknown, index: number) => unknown)(item, index),
          );
          state.mapped = mapped;
          return mapped.results;
        }
        : (number: number, signal: AbortSignal) => (context(number, signal).run as () => unknown)();
      const returned = plain
        ? (this.#context(task, upstream, timings, inputs, 1, this.#controller.signal).run as () => unknown)()
        : task.retry || task.timeout ? this.#attempts(state, logger, attempt!) : attempt!(1, this.#controller.signal);
      const result = returned instanceof Promise ? await returned : returned;
      if (this.#cancelled) throw this.#controller.signal.reason;
      // A result computed elsewhere is in the store already: the entry refers to it.
      if (result instanceof RemoteResult) remote = result;
      const outputs = task.outputs.length > 0 ? await recordOutputs(task.name, task.outputs, state.entry?.outputs, this.#parts.resources) : undefined;
      const saving = store.save(task.name, result, state.entry, remote && { computedElsewhere: remote.stored });
      const saved = saving instanceof Promise ? await saving : saving;
      if (this.#cancelled) throw this.#controller.signal.reason;
      const written = resultEntry({
        definition,
        params: paramsToKeep(task),
        inputs: state.files?.inputs,
        outputs,
        upstream: this.#upstreamHashes(task),
        expire: task.expire,
        runId: this.id,
        saved,
        durationMs: performance.now() - this.#start - startMs,
        items: state.mapped?.items,
      });
      state.written = written;
      store.put(task.name, written, state.entry);
      state.hash = saved.resultHash;
      if (state.holders > 0 && !remote) state.value = { value: result };
      status = 'ran';
    } catch (thrown) {
      if (this.#cancelled) {
        status = 'cancelled';
      } else {
        status = 'failed';
        error = withProcessSuggestion(task, asError(task.name, thrown));
        logger(task.name).error({ err: error }, 'failed');
        // Its older result must not be served any more: the failure replaces it. (Without a
        // definition, its code could not be read; then nothing is served until it can be.)
        const definition = fingerprintOrNothing(task);
        if (definition) {
          const durationMs = performance.now() - this.#start - startMs;
          store.put(task.name, failureEntry({ definition, params: paramsToKeep(task), upstream: this.#upstreamHashes(task), expire: task.expire, durationMs, error }), state.entry);
        }
      }
    }
    this.#running--;
    this.#runningNames.delete(task.name);
    // The lease goes back once the outcome is committed, so a process waiting on it finds it.
    if (store.leases) store.afterCommit(() => void store.leases!.release(task.name));
    if (this.#finished) return;
    const endMs = performance.now() - this.#start;
    if (status === 'ran') {
      const ms = Math.round(endMs - startMs);
      if (remote) logs.note(task.name, `done in ${ms} ms on worker ${remote.worker}`, { ms, worker: remote.worker, logFile: remote.logFile });
      else logs.note(task.name, `done in ${ms} ms`, { ms });
    }
    // Built in place rather than spread: a run of thousands of tasks makes one for each.
    const report: TaskReport = {
      name: task.name,
      status,
      reason: status === 'failed'
        ? `failed${state.attempts > 1 ? ` after ${state.attempts} attempts` : ''}: ${error!.message}`
        : state.attempts > 1 || state.mapped || remote
        ? `${reason}${state.attempts > 1 ? `; ${state.attempts} attempts` : ''}${state.mapped ? `; ${state.mapped.ran} of ${counted(state.mapped.items.length, 'item')} ran, ${state.mapped.cached} cached` : ''}${remote ? `; on worker ${remote.worker}` : ''}`
        : reason,
      ms: endMs - startMs,
      startMs,
      endMs,
      processes: timings.size === 0 ? NO_PROCESSES : [...timings.values()],
      error,
    };
    if (state.attempts > 1) report.attempts = state.attempts;
    if (remote) {
      report.worker = remote.worker;
      report.logFile = remote.logFile;
    }
    this.#settle(state, report);
    this.#advance();
  }

  /** The context `t` of one attempt at a task. */
  #context(task: AnyTask, upstream: ReadonlyMap<string, unknown>, timings: Map<string, ProcessTiming>, inputs: readonly string[], attempt: number, signal: AbortSignal) {
    return createContext(task, { pipeline: this.#parts.pipeline, logger: this.#logger, signal, upstream, timings, inputs, attempt, resources: this.#parts.resources });
  }

  /**
   * With other processes on the pipeline: takes the task's lease, or waits while another process
   * computes it and then decides again with what that one stored. Resolves with why to run it,
   * or undefined when it was settled meanwhile (served from the other's result, or cancelled).
   */
  async #takeOrWait(state: TaskState, reason: StaleReason, leases: Leases): Promise<StaleReason | undefined> {
    const { task } = state;
    for (;;) {
      if (this.#cancelled) {
        this.#settleUnrun(state, 'cancelled', 'the run was cancelled');
        return undefined;
      }
      const leased = await leases.acquire(task.name);
      if (!leased) {
        this.#parts.logs.note(task.name, 'waiting for another process computing it');
        while (!this.#cancelled && (await leases.heldElsewhere(task.name))) {
          await sleep(LEASE_POLL_MS, undefined, { signal: this.#controller.signal }).catch(() => {});
        }
        if (this.#cancelled) continue;
      }
      // Decided on the entry read when the run started: another process may have stored the
      // task since, holding the lease or before this one took it. Look again.
      state.entry = (await this.#parts.store.readEntries([task.name])).get(task.name);
      if (task.inputs.length > 0 || task.outputs.length > 0) state.files = await currentFiles(task, state.entry, this.#parts.resources);
      const decision = this.#decision(state, state.files);
      if (decision.action === 'run') {
        if (leased) return decision.reason;
        reason = decision.reason;
        continue;
      }
      if (leased) await leases.release(task.name);
      state.hash = state.entry?.resultHash;
      this.#parts.logs.note(task.name, 'served from cache: computed by another process');
      this.#settleUnrun(state, 'cached', 'computed by another process');
      return undefined;
    }
  }

  /** Other processes appeared mid-run: lease what this one is running, so they wait for it. */
  #leaseRunning(leases: Leases): void {
    for (const name of this.#runningNames) void leases.acquire(name).catch(() => {});
  }

  /**
   * Calls `attempt` until it succeeds, as the task's `retries` and `timeout` say: each attempt
   * gets a signal that also aborts at its timeout, and failures worth another attempt are
   * logged and retried after a growing wait. Rejects with the last attempt's error.
   */
  async #attempts(state: TaskState, logger: (task: string) => Logger, attempt: (number: number, signal: AbortSignal) => unknown): Promise<unknown> {
    const { task } = state;
    const policy = task.retry;
    const allowed = policy?.attempts ?? 1;
    for (let number = 1; ; number++) {
      state.attempts = number;
      try {
        return await this.#attemptWithTimeout(task, number, attempt);
      } catch (thrown) {
        const error = asError(task.name, thrown);
        if (this.#cancelled || !policy || number >= allowed || !worthRetrying(policy, error)) throw thrown;
        const waitMs = Math.min(policy.maxDelayMs, policy.delayMs * policy.factor ** (number - 1));
        logger(task.name).warn({ err: error, attempt: number, attempts: allowed, waitMs }, `attempt ${number} of ${allowed} failed: ${error.message}; retrying in ${waitMs} ms`);
        await sleep(waitMs, undefined, { signal: this.#controller.signal }).catch(() => {});
        if (this.#cancelled) throw this.#controller.signal.reason;
      }
    }
  }

  /** One attempt; with a timeout, its own signal aborts and it fails when the time is up, finished or not. */
  #attemptWithTimeout(task: AnyTask, number: number, attempt: (number: number, signal: AbortSignal) => unknown): Promise<unknown> {
    if (task.timeout === undefined) return Promise.resolve().then(() => attempt(number, this.#controller.signal));
    const timeout = task.timeout;
    const ownController = new AbortController();
    const signal = AbortSignal.any([this.#controller.signal, ownController.signal]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new TaskTimeoutError(task.name, timeout);
        ownController.abort(error);
        reject(error);
      }, timeout);
      Promise.resolve()
        .then(() => attempt(number, signal))
        .then(resolve, reject)
        .finally(() => clearTimeout(timer));
    });
  }

  /** The result hash of each dependency, as the task ran on them. */
  #upstreamHashes(task: AnyTask): CacheEntry['upstream'] {
    return task.dependencies.map((dependency) => [dependency, this.#states.get(dependency)!.hash!]);
  }

  /**
   * The results of a task's dependencies: from memory when they ran in this run (synchronously),
   * else loaded from the cache, once however many dependents ask.
   */
  #upstreamValues(state: TaskState): Map<string, unknown> | Promise<Map<string, unknown>> {
    const values = new Map<string, unknown>();
    const loads: Promise<void>[] = [];
    for (const dependency of state.task.dependencies) {
      const upstream = this.#states.get(dependency)!;
      // The entry written in this run, when the dependency ran: a result computed elsewhere is not in memory.
      // A value read from the cache is checked against its hash; one this run wrote is in hand.
      upstream.value ??= upstream.written
        ? this.#parts.store.loadValue(dependency, upstream.written.value!)
        : this.#parts.store.loadValue(dependency, upstream.entry!.value!, upstream.entry!.resultHash);
      const held = upstream.value;
      if (held instanceof Promise) loads.push(held.then((value) => void values.set(dependency, value)));
      else values.set(dependency, held.value);
    }
    return loads.length === 0 ? values : Promise.all(loads).then(() => values);
  }

  /** A dependency's result hash and where its value is stored, for a task that loads it elsewhere. */
  #storedOf(dependency: string): { hash: string; value: StoredValue | undefined } {
    const upstream = this.#states.get(dependency)!;
    return { hash: upstream.hash!, value: (upstream.written ?? upstream.entry)?.value };
  }

  /** Records the outcome of a task that did not run, and lets its dependents be decided. */
  #settleUnrun(state: TaskState, status: TaskStatus, reason: string): void {
    this.#settle(state, { name: state.task.name, status, reason, ms: 0, processes: NO_PROCESSES });
  }

  /** Records a task's outcome and lets its dependents be decided. */
  #settle(state: TaskState, report: TaskReport): void {
    state.report = report;
    this.#remaining--;
    // A result is announced once committed: what was announced done survives a crash.
    if (report.status === 'ran') this.#parts.store.afterCommit(() => this.#announce(state, 'finished'));
    else this.#announce(state, 'finished');
    for (const upstream of state.dependencies) if (--upstream.holders === 0) upstream.value = undefined;
    for (const dependent of state.dependents) if (--dependent.waiting === 0) this.#ready.push(dependent);
  }

  /**
   * Tells progress `event` about a task once everything it waits for has been told finished, so
   * what a person reads follows the order things happened in. A result is announced done only
   * once it is committed (see #settle), and its dependents start before that; told at once, their
   * start would come before it. Once its finish is told, what is held for its dependents goes.
   */
  #announce(state: TaskState, announcement: Announcement): void {
    if (state.held || !upstreamTold(state)) {
      (state.held ??= []).push(announcement);
      return;
    }
    this.#tell(state, announcement);
    if (announcement === 'finished') this.#told(state);
  }

  /** Tells progress of a task's start, or of its outcome (a cached or skipped one only to a listener that has the event). */
  #tell(state: TaskState, announcement: Announcement): void {
    const { progress } = this.#parts;
    if (announcement === 'started') progress.taskStarted(state.task.name);
    else if (state.report!.status !== 'cached' && state.report!.status !== 'skipped') progress.taskFinished(state.report!);
    else progress.taskCachedOrSkipped?.(state.report!);
  }

  /** Finds the states a task's state refers to (see TaskState.dependencies), once every state is made. */
  #link(state: TaskState): void {
    const { task } = state;
    state.dependencies = this.#statesOf(task.dependencies);
    const required = this.#statesOf(task.requires);
    state.waitsFor = required.length === 0 ? state.dependencies : [...state.dependencies, ...required];
    state.dependents = this.#statesOf(this.#parts.graph.dependents.get(task.name)!);
  }

  /** The states of the tasks named that are in the run, in a list of its exact size (a run keeps thousands). */
  #statesOf(names: readonly string[]): TaskState[] {
    if (names.length === 0) return NO_STATES;
    const states = names.map((name) => this.#states.get(name));
    return (states.includes(undefined) ? states.filter((state) => state !== undefined) : states) as TaskState[];
  }

  /** Marks a task told, and tells what was held for its dependents; a loop, so a chain of any length cannot overflow the stack. */
  #told(first: TaskState): void {
    first.told = true;
    const told = [first];
    while (told.length > 0) {
      for (const waiting of told.pop()!.dependents) {
        if (!waiting.held || !upstreamTold(waiting)) continue;
        const { held } = waiting;
        waiting.held = undefined;
        for (const announcement of held) {
          this.#tell(waiting, announcement);
          if (announcement === 'finished') {
            waiting.told = true;
            told.push(waiting);
          }
        }
      }
    }
  }

  #cancel(reason: unknown): void {
    if (this.#finished || this.#cancelled) return;
    this.#cancelled = true;
    this.#controller.abort(reason);
    for (const state of this.#states.values()) {
      if (!state.report) state.report = { name: state.task.name, status: 'cancelled', reason: 'the run was cancelled', ms: 0, processes: [] };
    }
    void this.#finish();
  }

  async #finish(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    const { store, logs, progress, graph } = this.#parts;
    // Results that expire with the run are dropped now; their hashes stay for early cutoff next time.
    for (const { task, written } of this.#states.values()) {
      if (task.expire.scope === 'run' && written) store.put(task.name, { ...written, state: 'expired', value: undefined }, written);
    }
    const tasks = graph.order.map(
      (name) => this.#states.get(name)?.report ?? { name, status: 'skipped' as const, reason: this.#settings.excluded?.get(name) ?? 'not selected by `only`', ms: 0, processes: [] },
    );
    const report = new RunReport(this.#parts.pipeline.name, this.#startedAt, performance.now() - this.#start, tasks);
    try {
      await store.flush();
    } catch (error) {
      this.#reject(error);
      return;
    } finally {
      void logs.flush(); // In the background, after the commit it would compete with; close() waits for it.
      await store.leases?.leave();
      await this.#parts.resources.release();
    }
    progress.runFinished(report);
    this.#resolve(report);
  }
}

/** The params an entry keeps, to name changes later; none when the task has none. */
function paramsToKeep(task: AnyTask): CacheEntry['params'] {
  return Object.keys(task.params).length > 0 ? task.params : undefined;
}

/** What progress is told of a task: its start (a task that runs), then its finish (every task). */
type Announcement = 'started' | 'finished';

/** Whether everything a task waits for in this run has been told finished. */
function upstreamTold(state: TaskState): boolean {
  for (const upstream of state.waitsFor) if (!upstream.told) return false;
  return true;
}

/** Shared by tasks with no dependencies, or nothing to wait for, or no dependents. */
const NO_STATES: TaskState[] = [];

/** Shared by every task that did not run: it called no process. */
const NO_PROCESSES: readonly ProcessTiming[] = Object.freeze([]);
/** What a task run elsewhere is given here of its dependencies' values: nothing. */
const NO_UPSTREAM: ReadonlyMap<string, unknown> = new Map();
/** Shared by every task that declares no inputs. */
const NO_INPUTS: readonly string[] = Object.freeze([]);

function blockedReason(dependency: string, upstream: TaskReport): string {
  switch (upstream.status) {
    case 'failed':
      return `upstream ${dependency} failed`;
    case 'skipped':
      return `upstream ${dependency} was skipped and has no fresh cached result`;
    default:
      return `upstream ${dependency} is ${upstream.status}`;
  }
}

/** Tasks may throw anything; reports and logs need an Error. */
function asError(task: string, thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(`${task} threw a value that is not an Error: ${describeValue(thrown)}`);
}

/**
 * A misspelt process (`t.hlper()`) is a TypeError from JavaScript itself; this adds which
 * process was meant, as the rest of littlepipes suggests names.
 */
function withProcessSuggestion(task: AnyTask, error: Error): Error {
  const called = error instanceof TypeError ? /^t\.(\w+) is not a function$/.exec(error.message)?.[1] : undefined;
  if (!called) return error;
  const guess = suggest(called, task.processes.keys());
  error.message = `${error.message}: ${task.name} has no process "${called}"${guess ? `. Did you mean t.${guess}()?` : `; its processes are ${[...task.processes.keys()].join(', ')}.`}`;
  return error;
}

/** Mistakes in the pipeline's definition, which another attempt cannot fix. */
const NOT_RETRIED = new Set(['ERR_UNDECLARED_DEPENDENCY', 'ERR_UNCACHEABLE_RESULT', 'ERR_RESULT_TOO_LARGE', 'ERR_WORKER_MISMATCH']);

/** Whether another attempt may fix `error`: the task's own rule, else anything but a mistake in the pipeline's definition. */
function worthRetrying(policy: RetryPolicy, error: Error): boolean {
  // By code, not class: an error from a worker process comes back as a LittlepipesError with its code.
  if (error instanceof LittlepipesError && NOT_RETRIED.has(error.code)) return false;
  if (!policy.when) return true;
  try {
    return policy.when(error) === true;
  } catch {
    return false;
  }
}

/** The task's definition fingerprint, or undefined when its code cannot be read. */
function fingerprintOrNothing(task: AnyTask): DefinitionFingerprint | undefined {
  try {
    return definitionFingerprint(task);
  } catch {
    return undefined;
  }
}
