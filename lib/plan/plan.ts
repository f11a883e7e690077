import { recordedUpstream } from '../cache/entry.js';
import type { CacheEntry } from '../cache/entry.js';
import type { ResultStore } from '../cache/store.js';
import type { PipelineGraph } from '../graph/graph.js';
import { codeWarnings } from '../fingerprint/definition.js';
import type { AnyTask } from '../task.js';
import { type CurrentFiles, type FreshnessContext, type StaleReason, currentFiles, decide } from './freshness.js';
import type { RunSettings } from './settings.js';

/** Why a task will run, or why its cached result cannot be used: the runner's own reasons. */
export type PlanReason = StaleReason;

/**
 * What `execute()` will do with a task:
 * - `run`: it runs;
 * - `cached`: its cached result is fresh and is served;
 * - `wait`: its own entry is fresh, but an upstream task will run first; it re-runs only if that
 *   upstream's result changes (early cutoff), which is known only at run time;
 * - `blocked`: it needs the result of a task that will have none;
 * - `skipped`: it is not selected by `only`, or it is named in `skip`.
 */
export type PlanAction = 'run' | 'cached' | 'wait' | 'blocked' | 'skipped';

/** One task's line in a plan. Plain data. */
export interface TaskPlan {
  name: string;
  action: PlanAction;
  /**
   * Why it will run (`run`), or why a skipped task's cached result cannot be used (`skipped`);
   * empty otherwise. The first reason is the one `execute()` reports.
   */
  reasons: PlanReason[];
  /**
   * The dependencies whose results are decided only at run time: those that will run or wait,
   * and skipped ones whose cached result is usable only if their own upstream does not change.
   * Present on `wait` tasks, and on `skipped` tasks in that last situation.
   */
  waitsOn?: string[];
  /**
   * What the user must know of the task's code, whatever the action: a module it loads by a path
   * analysis cannot bound, whose edits do not re-run it (see CodeFingerprint.warnings). Present
   * when there is any, on every plan until the task declares its inputs or sources.
   */
  warnings?: string[];
  /** The resources the task uses (its `uses` option), when it has any. */
  uses?: string[];
  /**
   * Why a skipped task is not in the run at all: a profile's stage chose another branch, its
   * optional group is switched off, it comes after stopAfter, or none of an anyOf gate's tasks is in the run.
   */
  why?: string;
}

/**
 * What `execute()` would do with the same options, decided by the same rules, without running
 * anything or writing to the cache. Plain data: `JSON.stringify(plan)` keeps everything.
 */
export class Plan {
  /** Made when first asked for: a run finds each task's line by its position instead. */
  #byName: Map<string, TaskPlan> | undefined;

  constructor(
    /** The pipeline's name. */
    readonly pipeline: string,
    /** One line per task, every dependency before its dependents. */
    readonly tasks: readonly TaskPlan[],
  ) {}

  /** The plan of one task. */
  task(name: string): TaskPlan | undefined {
    this.#byName ??= new Map(this.tasks.map((task) => [task.name, task]));
    return this.#byName.get(name);
  }

  /** One line: `Example1: 1 will run, 3 cached`. */
  summary(): string {
    const counts: Record<PlanAction, number> = { run: 0, wait: 0, cached: 0, blocked: 0, skipped: 0 };
    for (const task of this.tasks) counts[task.action]++;
    const parts = [
      counts.run > 0 && `${counts.run} will run`,
      counts.wait > 0 && `${counts.wait} ${counts.wait === 1 ? 'waits' : 'wait'}`,
      counts.cached > 0 && `${counts.cached} cached`,
      counts.blocked > 0 && `${counts.blocked} blocked`,
      counts.skipped > 0 && `${counts.skipped} skipped`,
    ].filter(Boolean);
    return `${this.pipeline}: ${parts.join(', ') || 'no tasks'}`;
  }
}

/** What a plan reads. */
export interface PlanParts {
  pipeline: string;
  tasks: ReadonlyMap<string, AnyTask>;
  graph: PipelineGraph;
  store: ResultStore;
}

/** A task has no result for its dependents: they are blocked. */
const NONE = Symbol('no result');
/** A task's result is decided only at run time. */
const PENDING = Symbol('decided at run time');
/** What a dependent will see of a task's result when the runner decides it: its hash, none, or not known yet. */
type Outlook = string | typeof NONE | typeof PENDING;

/** A plan as the runner carries it out: the plan, the tasks in the run in order, and the entries it was decided on. */
export interface RunPlan {
  plan: Plan;
  /** The tasks in the run (selected and not excluded), every dependency before its dependents. */
  names: readonly string[];
  /** The same as a set, when not every task of the graph is in the run. */
  inRun: ReadonlySet<string> | undefined;
  entries: ReadonlyMap<string, CacheEntry>;
}

/**
 * The tasks of the graph in a run, in order: those `only` selects with what they need, less
 * those excluded (a profile's stages, groups, stopAfter, gates). The graph's own order when
 * nothing narrows it.
 */
export function tasksInRun(graph: PipelineGraph, settings: Pick<RunSettings, 'only' | 'excluded'>): { names: readonly string[]; inRun: ReadonlySet<string> | undefined } {
  const { excluded } = settings;
  const selected = settings.only ? graph.closure(settings.only) : undefined;
  if (!selected && !excluded) return { names: graph.order, inRun: undefined };
  const names = graph.order.filter((name) => (!selected || selected.has(name)) && !excluded?.has(name));
  return { names, inRun: new Set(names) };
}

/**
 * The first dependency (or required task) of `task` that will have no result for it, by
 * `hasResult`; undefined when none. The plan asks it of what it expects, the run of what happened.
 */
export function missingUpstream(task: AnyTask, hasResult: (name: string) => boolean): string | undefined {
  for (const dependency of task.dependencies) if (!hasResult(dependency)) return dependency;
  // A required task orders and gates this one; its result is not part of this one's fingerprint.
  for (const required of task.requires) if (!hasResult(required)) return required;
  return undefined;
}

/**
 * What `execute()` would do with these options, without running anything or writing to the
 * cache (see makePlan).
 */
export async function planRun(parts: PlanParts, settings: RunSettings): Promise<Plan> {
  return (await makePlan(parts, settings)).plan;
}

/**
 * Plans a run: in topological order, each task is blocked when a dependency will have no result,
 * else decided by `decide`. A dependency that will run has no hash yet, so its dependents are
 * compared as if it kept its result, and those with nothing else against them wait on it: early
 * cutoff decides them at run time. `execute()` carries out this plan (see Run); `runId` is the
 * run's, whose `onComplete` results are still valid.
 */
export async function makePlan(parts: PlanParts, settings: RunSettings, runId?: string): Promise<RunPlan> {
  const { graph, tasks, store } = parts;
  const { excluded } = settings;
  const { names, inRun } = tasksInRun(graph, settings);
  const entries = await store.readEntries(names);
  const outlooks = new Map<string, Outlook>();
  const plans: TaskPlan[] = [];
  const hasResult = (upstream: string) => outlooks.get(upstream) !== NONE;
  // One context for every decision, pointed at each task in turn: a run of thousands plans in a loop.
  let task!: AnyTask;
  let entry: CacheEntry | undefined;
  const context = {
    files: undefined as CurrentFiles | undefined,
    runId,
    codec: store.codec,
    forced: false,
    skipped: false,
    now: Date.now(),
    upstreamHash: (dependency: string) => {
      const outlook = outlooks.get(dependency)!;
      // Not known until it has run: assume it keeps the result this entry was computed from.
      if (outlook === PENDING) return recordedUpstream(entry!, dependency, task.dependencies.indexOf(dependency));
      return outlook === NONE ? undefined : outlook;
    },
  };

  for (const name of graph.order) {
    const why = excluded?.get(name);
    if (why !== undefined) {
      plans.push({ name, action: 'skipped', reasons: [], why });
      continue;
    }
    if (inRun && !inRun.has(name)) {
      plans.push({ name, action: 'skipped', reasons: [] });
      continue;
    }
    task = tasks.get(name)!;
    entry = entries.get(name);
    let planned: TaskPlan;
    if (missingUpstream(task, hasResult) !== undefined) {
      outlooks.set(name, NONE);
      planned = { name, action: 'blocked', reasons: [] };
    } else {
      // Awaited only for a task with files: an await costs a turn, for each of thousands of tasks.
      const planning = planTask(name, task, entry, context, settings, outlooks);
      planned = planning instanceof Promise ? await planning : planning;
      const warnings = codeWarnings(task);
      if (warnings.length > 0) planned.warnings = warnings;
    }
    // What each task uses, so a plan shows which resources a run will make.
    if (task.uses.length > 0) planned.uses = [...task.uses];
    plans.push(planned);
  }
  return { plan: new Plan(parts.pipeline, plans), names, inRun, entries };
}

/**
 * Decides one task of a plan whose upstream will have results, and records what its dependents
 * will see of its result in `outlooks`: a task that runs, or that would be served but waits on an
 * upstream that runs, is known only at run time; a skipped task whose result cannot be used gives
 * them none. Awaits only for a task that declares files.
 */
function planTask(
  name: string,
  task: AnyTask,
  entry: CacheEntry | undefined,
  context: FreshnessContext & { forced: boolean; skipped: boolean; upstreamHash: (dependency: string) => string | undefined },
  settings: RunSettings,
  outlooks: Map<string, Outlook>,
): TaskPlan | Promise<TaskPlan> {
  if (task.inputs.length > 0 || task.outputs.length > 0) {
    return currentFiles(task, entry).then(
      (files) => decideTask(name, task, entry, { ...context, files }, settings, outlooks),
      (error: Error) => {
        // execute() will try it and fail with this error.
        outlooks.set(name, NONE);
        return { name, action: 'run', reasons: [{ kind: 'input missing', message: error.message }] };
      },
    );
  }
  return decideTask(name, task, entry, context, settings, outlooks);
}

function decideTask(
  name: string,
  task: AnyTask,
  entry: CacheEntry | undefined,
  context: FreshnessContext & { forced: boolean; skipped: boolean; upstreamHash: (dependency: string) => string | undefined },
  settings: RunSettings,
  outlooks: Map<string, Outlook>,
): TaskPlan {
  context.forced = settings.force === true || settings.force.has(name);
  context.skipped = settings.skip.has(name);
  const decision = decide(task, entry, context);
  if (decision.action === 'run') {
    outlooks.set(name, PENDING);
    return { name, action: 'run', reasons: [decision.reason] };
  }
  if (decision.action === 'skipped' && decision.reason) {
    outlooks.set(name, NONE);
    return { name, action: 'skipped', reasons: [decision.reason] };
  }
  const waitsOn = pendingUpstream(task, outlooks);
  outlooks.set(name, waitsOn ? PENDING : entry?.resultHash ?? NONE);
  const action = decision.action === 'cached' ? (waitsOn ? 'wait' : 'cached') : 'skipped';
  return waitsOn ? { name, action, reasons: [], waitsOn } : { name, action, reasons: [] };
}

/** The dependencies whose results are known only at run time; undefined when there are none. */
function pendingUpstream(task: AnyTask, outlooks: ReadonlyMap<string, Outlook>): string[] | undefined {
  let pending: string[] | undefined;
  for (const dependency of task.dependencies) if (outlooks.get(dependency) === PENDING) (pending ??= []).push(dependency);
  return pending;
}
