import type { JsonValue } from '../fingerprint/params.js';
import { type PipelineGraph, buildGraph } from '../graph/graph.js';
import type { PipelineTasks } from '../graph/pipeline-tasks.js';
import type { RunSettings } from './settings.js';
import type { AnyTask } from '../task.js';

/**
 * A profile, resolved (its `extends` applied): which branch of each stage runs, which optional
 * groups are on, params for tasks, and where the run starts and stops. See littlepipes.yaml.
 */
export interface Profile {
  name: string;
  /** For each stage, the tasks (branches) that run; stages not named run all their branches. */
  stages?: Readonly<Record<string, readonly string[]>>;
  /** Optional groups switched on (true) or off (false); groups not named are on. */
  optional?: Readonly<Record<string, boolean>>;
  /** Params merged into tasks' own, by task name: part of their fingerprints. */
  params?: Readonly<Record<string, Readonly<Record<string, JsonValue>>>>;
  /** This task and what comes after it run; what comes before is served from the cache (or run when it has no fresh result). */
  startFrom?: string;
  /** Nothing after this task runs. */
  stopAfter?: string;
}

/** What a run works with once a profile, `only` and the anyOf gates are applied. */
export interface Selection {
  /** The tasks as the run sees them: derived where a gate, a switched-off group or a profile's params changed them. */
  tasks: ReadonlyMap<string, AnyTask>;
  /** Tasks left out of the run, with why. */
  excluded: ReadonlyMap<string, string>;
  /** Tasks to run even if fresh: startFrom and what comes after it. */
  forced: ReadonlySet<string>;
}

/** Whether a run needs a selection at all: only when the pipeline uses gates, stages or optional groups, or a profile is given. */
export function needsSelection(tasks: ReadonlyMap<string, AnyTask>, profile: Profile | undefined): boolean {
  if (profile) return true;
  for (const task of tasks.values()) if (task.gates.length > 0 || task.stage !== undefined || task.optional !== undefined) return true;
  return false;
}

/**
 * Decides which tasks are in a run and how each sees its upstream, in topological order:
 * - a stage's branches not chosen by the profile, groups switched off, and what comes after
 *   `stopAfter` are left out; so is what `only` does not need (gates pull nothing in);
 * - a task switched off is routed around: its dependents run after its own upstream instead;
 * - an anyOf gate is satisfied by the members in the run, which become dependencies (or
 *   requirements); with none, the task is left out, and so is what needs it.
 */
export function selectRun(tasks: ReadonlyMap<string, AnyTask>, graph: PipelineGraph, profile: Profile | undefined, only: ReadonlySet<string> | undefined): Selection {
  const excluded = new Map<string, string>();
  const off = new Set<string>();
  const by = profile ? ` in profile ${profile.name}` : '';

  for (const [name, task] of tasks) {
    const branches = task.stage === undefined ? undefined : profile?.stages?.[task.stage];
    if (branches && !branches.includes(name)) excluded.set(name, `stage ${task.stage} runs ${branches.join(', ')}${by}`);
    else if (task.optional !== undefined && profile?.optional?.[task.optional] === false) {
      off.add(name);
      excluded.set(name, `optional group ${task.optional} is off${by}`);
    }
  }
  if (profile?.stopAfter) {
    for (const after of graph.downstream([profile.stopAfter])) if (!excluded.has(after)) excluded.set(after, `it comes after ${profile.stopAfter}, where profile ${profile.name} stops`);
  }
  if (only) {
    // What the named tasks need, following dependencies and requirements, not gates.
    const needed = new Set<string>();
    const stack = [...only];
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (needed.has(name)) continue;
      needed.add(name);
      const task = tasks.get(name)!;
      stack.push(...task.dependencies, ...task.requires);
    }
    for (const name of tasks.keys()) if (!needed.has(name) && !excluded.has(name)) excluded.set(name, 'not selected by `only`');
  }

  // The upstream a switched-off task stands for: its own upstream, itself routed around.
  const routed = new Map<string, string[]>();
  const routeAround = (name: string): string[] => {
    let upstream = routed.get(name);
    if (!upstream) {
      const task = tasks.get(name)!;
      upstream = [...task.dependencies, ...task.requires, ...task.gates.flatMap((gate) => gate.anyOf)]
        .flatMap((dependency) => (off.has(dependency) ? routeAround(dependency) : excluded.has(dependency) ? [] : [dependency]));
      routed.set(name, upstream);
    }
    return upstream;
  };

  const effective = new Map(tasks);
  for (const name of graph.order) {
    if (excluded.has(name)) continue;
    const task = tasks.get(name)!;
    const dependencies: string[] = [];
    const requires: string[] = [];
    let missing: string | undefined;
    const take = (dependency: string, list: string[]) => {
      if (off.has(dependency)) requires.push(...routeAround(dependency));
      else if (excluded.has(dependency)) missing ??= `it needs ${dependency}, which is not in this run (${excluded.get(dependency)})`;
      else list.push(dependency);
    };
    for (const dependency of task.dependencies) take(dependency, dependencies);
    for (const required of task.requires) take(required, requires);
    for (const gate of task.gates) {
      const present = gate.anyOf.filter((member) => !excluded.has(member));
      if (present.length === 0) missing ??= `none of ${gate.anyOf.join(', ')} is in this run`;
      for (const member of present) (gate.passesResults ? dependencies : requires).push(member);
    }
    if (missing) {
      excluded.set(name, missing);
      continue;
    }
    const params = profile?.params?.[name];
    const unique = (list: string[]) => [...new Set(list)];
    const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((item, index) => item === b[index]);
    const changed = params !== undefined || task.gates.length > 0 || !same(dependencies, task.dependencies) || !same(requires, task.requires);
    if (changed) {
      effective.set(name, task.derive({
        dependencies: unique(dependencies),
        requires: unique(requires).filter((required) => !dependencies.includes(required)),
        ...(params ? { params: { ...task.params, ...params } } : {}),
      }));
    }
  }

  const forced = new Set<string>();
  if (profile?.startFrom && !excluded.has(profile.startFrom)) {
    forced.add(profile.startFrom);
    for (const after of graph.downstream([profile.startFrom])) if (!excluded.has(after)) forced.add(after);
  }
  return { tasks: effective, excluded, forced };
}

/** What a run is asked to run and to force, as a selection reads and adjusts it. */
type SelectedSettings = Pick<RunSettings, 'force' | 'only' | 'excluded'>;

/**
 * The tasks, graph and settings a run works with: the pipeline's own, or, when it uses anyOf
 * gates, stages or optional groups, or a profile is given, those the selection derives, with
 * `only` applied, what it leaves out, and what it forces (see selectRun).
 */
export function selectForRun<S extends SelectedSettings>(pipeline: PipelineTasks, profile: Profile | undefined, settings: S): { tasks: ReadonlyMap<string, AnyTask>; graph: PipelineGraph; settings: S } {
  const { byName: tasks } = pipeline;
  if (!needsSelection(tasks, profile)) return { tasks, graph: pipeline.graph(), settings };
  const selection = selectRun(tasks, pipeline.graph(), profile, settings.only);
  return {
    tasks: selection.tasks,
    graph: buildGraph(pipeline.pipeline, selection.tasks),
    settings: {
      ...settings,
      only: undefined,
      excluded: selection.excluded,
      force: settings.force === true ? true : new Set([...settings.force, ...selection.forced]),
    },
  };
}

/**
 * A task as a run with `profile` sees it: its params and gates as the selection shapes them. Only
 * then is the graph needed: a task's cached result can be read from a pipeline that is not valid.
 */
export function selectedTask(pipeline: PipelineTasks, name: string, profile: Profile | undefined): AnyTask {
  if (!needsSelection(pipeline.byName, profile)) return pipeline.byName.get(name)!;
  return selectForRun(pipeline, profile, { force: new Set(), only: undefined }).tasks.get(name)!;
}
