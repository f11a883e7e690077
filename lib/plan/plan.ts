import { recordedUpstream } from '../cache/entry.js';
import type { CacheEntry } from '../cache/entry.js';
import type { ResultStore } from '../cache/store.js';
import type { PipelineGraph } from '../graph/graph.js';
import { codeWarnings } from '../fingerprint/definition.js';
import type { AnyTask } from '../task.js';
import { type CurrentFiles, type Decision, type StaleReason, currentFiles, decide } from './freshness.js';
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
  readonly #byName: Map<string, TaskPlan>;

  constructor(
    /** The pipeline's name. */
    readonly pipeline: string,
    /** One line per task, every dependency before its dependents. */
    readonly tasks: readonly TaskPlan[],
  ) {
    this.#byName = new Map(tasks.map((task) => [task.name, task]));
  }

  /** The plan of one task. */
  task(name: string): TaskPlan | undefined {
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

/**
 * What a decision means for the plan, and what dependents will see of the task's result: a task
 * that runs, or that would be served but waits on an upstream that runs, is known only at run
 * time; a skipped task whose result cannot be used gives them none.
 */
function planOf(decision: Decision, waitsOn: string[], served: Outlook): [Omit<TaskPlan, 'name'>, Outlook] {
  switch (decision.action) {
    case 'run':
      return [{ action: 'run', reasons: [decision.reason] }, PENDING];
    case 'skipped':
      if (decision.reason) return [{ action: 'skipped', reasons: [decision.reason] }, NONE];
      return waitsOn.length > 0 ? [{ action: 'skipped', reasons: [], waitsOn }, PENDING] : [{ action: 'skipped', reasons: [] }, served];
    case 'cached':
      return waitsOn.length > 0 ? [{ action: 'wait', reasons: [], waitsOn }, PENDING] : [{ action: 'cached', reasons: [] }, served];
  }
}

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
  const now = Date.now();
  const outlooks = new Map<string, Outlook>();
  const plans: TaskPlan[] = [];

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
    const task = tasks.get(name)!;
    const entry = entries.get(name);
    if (missingUpstream(task, (upstream) => outlooks.get(upstream) !== NONE) !== undefined) {
      outlooks.set(name, NONE);
      plans.push({ name, action: 'blocked', reasons: [] });
      continue;
    }
    const waitsOn = task.dependencies.filter((dependency) => outlooks.get(dependency) === PENDING);

    const warnings = codeWarnings(task);
    const warned = warnings.length > 0 ? { warnings } : {};
    let files: CurrentFiles | undefined;
    try {
      // Most tasks declare no files: no promise to wait for.
      if (task.inputs.length > 0 || task.outputs.length > 0) files = await currentFiles(task, entry);
    } catch (error) {
      // execute() will try it and fail with this error.
      outlooks.set(name, NONE);
      plans.push({ name, action: 'run', reasons: [{ kind: 'input missing', message: (error as Error).message }], ...warned });
      continue;
    }
    const decision = decide(task, entry, {
      files,
      runId,
      codec: store.codec,
      forced: settings.force === true || settings.force.has(name),
      skipped: settings.skip.has(name),
      now,
      upstreamHash: (dependency) => {
        const outlook = outlooks.get(dependency)!;
        // Not known until it has run: assume it keeps the result this entry was computed from.
        if (outlook === PENDING) return recordedUpstream(entry!, dependency, task.dependencies.indexOf(dependency));
        return outlook === NONE ? undefined : outlook;
      },
    });
    const [planned, outlook] = planOf(decision, waitsOn, entry?.resultHash ?? NONE);
    outlooks.set(name, outlook);
    plans.push({ name, ...planned, ...warned });
  }
  // What each task uses, so a plan shows which resources a run will make.
  for (const plan of plans) {
    const uses = parts.tasks.get(plan.name)!.uses;
    if (uses.length > 0) plan.uses = [...uses];
  }
  return { plan: new Plan(parts.pipeline, plans), names, inRun, entries };
}
