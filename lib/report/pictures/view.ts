import { type RunRecord, type TaskRecord } from '../../run/outcome.js';
import { formatMs } from '../../words.js';
import type { Plan, TaskPlan } from '../../plan/plan.js';
import { describeReason, unusableCachedResult } from '../../plan/freshness.js';
import type { AnyTask } from '../../task.js';

/**
 * What a picture shows of a task:
 * - `fresh`: its result is cached and current (or it just ran);
 * - `will run`, `waits`: what the plan says the next run does with it;
 * - `running`, `failed`, `cancelled`: what is happening or happened to it in a run;
 * - `blocked`, `skipped`: either, when a dependency has (or will have) no result, or by request.
 */
export type NodeState = 'fresh' | 'will run' | 'waits' | 'failed' | 'blocked' | 'running' | 'skipped' | 'cancelled';

/** Every state, in the order legends list them. */
export const NODE_STATES: readonly NodeState[] = ['fresh', 'will run', 'waits', 'running', 'failed', 'blocked', 'skipped', 'cancelled'];

/** One task as a picture draws it. */
export interface GraphNode {
  name: string;
  dependencies: readonly string[];
  state: NodeState;
  /** A short why: the plan's reason, the run's reason, or the error. */
  detail?: string;
  description?: string;
}

/** A pipeline as a picture draws it: plain data, so any renderer can take it. */
export interface GraphView {
  pipeline: string;
  /** Every dependency before its dependents. */
  nodes: readonly GraphNode[];
}

/** How each state looks, shared by every renderer so a state has one colour everywhere. */
export interface StateStyle {
  /** Light fill of a node. */
  fill: string;
  /** Border of a node, and fill of its timeline bar. */
  stroke: string;
  /** Text on the fill. */
  text: string;
  /** Drawn with a dashed border: it is not part of this run. */
  dashed: boolean;
  /** An identifier for the state, safe as a CSS, Mermaid or DOT class name. */
  slug: string;
  /** A one-character marker for terminals, distinct without colour. */
  marker: string;
  /** The ANSI colour code of the marker in a terminal. */
  ansi: number;
}

/**
 * The colours and markers of each state, one palette for every picture.
 *
 * @example
 * STATE_STYLES.failed.fill; // '#fecaca'
 */
export const STATE_STYLES: Readonly<Record<NodeState, StateStyle>> = {
  fresh: { fill: '#bbf7d0', stroke: '#16a34a', text: '#14532d', dashed: false, slug: 'fresh', marker: '✓', ansi: 32 },
  'will run': { fill: '#bfdbfe', stroke: '#2563eb', text: '#1e3a8a', dashed: false, slug: 'will-run', marker: '►', ansi: 34 },
  waits: { fill: '#e0f2fe', stroke: '#38bdf8', text: '#075985', dashed: false, slug: 'waits', marker: '◇', ansi: 36 },
  running: { fill: '#fde68a', stroke: '#d97706', text: '#78350f', dashed: false, slug: 'running', marker: '◔', ansi: 33 },
  failed: { fill: '#fecaca', stroke: '#dc2626', text: '#7f1d1d', dashed: false, slug: 'failed', marker: '✗', ansi: 31 },
  blocked: { fill: '#d1d5db', stroke: '#6b7280', text: '#1f2937', dashed: false, slug: 'blocked', marker: '■', ansi: 90 },
  skipped: { fill: '#f3f4f6', stroke: '#9ca3af', text: '#4b5563', dashed: true, slug: 'skipped', marker: '○', ansi: 37 },
  cancelled: { fill: '#4b5563', stroke: '#1f2937', text: '#f9fafb', dashed: false, slug: 'cancelled', marker: '⊘', ansi: 35 },
};

/**
 * How many nodes are in each state, every state present (zero when none).
 *
 * @example
 * countStates(view).failed; // 1
 */
export function countStates(view: GraphView): Record<NodeState, number> {
  const counts = Object.fromEntries(NODE_STATES.map((state) => [state, 0])) as Record<NodeState, number>;
  for (const node of view.nodes) counts[node.state]++;
  return counts;
}

/**
 * The pipeline as the next run would treat it: each task coloured by its plan.
 *
 * @example
 * const view = graphViewFromPlan(pipeline.tasks, await pipeline.plan());
 * console.log(asciiGraph(view));
 */
export function graphViewFromPlan(tasks: readonly AnyTask[], plan: Plan): GraphView {
  const nodes = tasks.map((task): GraphNode => {
    const planned = plan.task(task.name);
    const [state, detail] = planned ? planState(planned, task, plan) : (['will run', 'not in the plan'] as const);
    return node(task, state, detail);
  });
  return { pipeline: plan.pipeline, nodes };
}

function planState(planned: TaskPlan, task: AnyTask, plan: Plan): [NodeState, string | undefined] {
  const reasons = planned.reasons.map(describeReason).join('; ');
  switch (planned.action) {
    case 'run':
      return ['will run', reasons];
    case 'cached':
      return ['fresh', undefined];
    case 'wait':
      return ['waits', `waits on ${planned.waitsOn!.join(', ')}; re-runs only if a result changes`];
    case 'blocked': {
      // A blocked line does not say which dependency has no result; that dependency's own line does.
      const missing = task.dependencies.filter((dependency) => {
        const upstream = plan.task(dependency);
        return upstream !== undefined && (upstream.action === 'blocked' || (upstream.action === 'skipped' && upstream.reasons.length > 0));
      });
      return ['blocked', missing.length > 0 ? `needs ${missing.join(', ')}, which will have no result` : 'a dependency will have no result'];
    }
    // The state is shown beside the detail: the detail does not say "skipped" again.
    case 'skipped':
      if (reasons) return ['skipped', unusableCachedResult(planned.reasons)];
      if (planned.waitsOn) {
        const upstream = planned.waitsOn;
        return ['skipped', `its cached result serves only if ${upstream.length === 1 ? `${upstream[0]} keeps its own` : `${upstream.join(', ')} keep theirs`}`];
      }
      return ['skipped', undefined];
  }
}

/**
 * The pipeline as a run left it (or as it stands during one): each task coloured by its status.
 * Tasks named in `running` are drawn as running; tasks the record does not have yet, as will run.
 *
 * @example
 * const report = await pipeline.execute({ progress: false });
 * const view = graphViewFromRun(pipeline.tasks, report.toJSON());
 */
export function graphViewFromRun(tasks: readonly AnyTask[], run: RunRecord, running: ReadonlySet<string> = new Set()): GraphView {
  const records = new Map(run.tasks.map((task) => [task.name, task]));
  const nodes = tasks.map((task): GraphNode => {
    if (running.has(task.name)) return node(task, 'running', 'running now');
    const record = records.get(task.name);
    if (!record) return node(task, 'will run', 'not run yet');
    return node(task, ...runState(record));
  });
  return { pipeline: run.pipeline, nodes };
}

function runState(record: TaskRecord): [NodeState, string] {
  switch (record.status) {
    case 'ran':
      return ['fresh', `ran in ${formatMs(record.ms)} (${record.reason})`];
    case 'cached':
      return ['fresh', 'served from the cache'];
    case 'failed':
      return ['failed', record.error?.message ?? record.reason];
    default:
      return [record.status, record.reason];
  }
}

function node(task: AnyTask, state: NodeState, detail: string | undefined): GraphNode {
  const drawn: GraphNode = { name: task.name, dependencies: task.dependencies, state };
  if (detail) drawn.detail = detail;
  if (task.description) drawn.description = task.description;
  return drawn;
}

/**
 * The chain of tasks that set the run's length: the task that finished last, then the dependency
 * of each that finished last among those that ran in this run, back to the first. In the order
 * they ran. Empty when no task ran.
 *
 * @example
 * criticalPath(report.toJSON(), view); // ['Load', 'Clean', 'Report']
 */
export function criticalPath(run: RunRecord, graph: GraphView): string[] {
  const timed = new Map(run.tasks.filter(hasTimes).map((task) => [task.name, task]));
  const dependencies = new Map(graph.nodes.map((node) => [node.name, node.dependencies]));
  let last: (TaskRecord & { endMs: number }) | undefined;
  for (const task of timed.values()) if (!last || task.endMs > last.endMs) last = task;
  const path: string[] = [];
  for (let current = last; current; ) {
    path.push(current.name);
    let previous: (TaskRecord & { endMs: number }) | undefined;
    for (const dependency of dependencies.get(current.name) ?? []) {
      const upstream = timed.get(dependency);
      if (upstream && (!previous || upstream.endMs > previous.endMs)) previous = upstream;
    }
    current = previous;
  }
  return path.reverse();
}

/**
 * A task that has a place on a timeline: it started and ended in this run.
 *
 * @example
 * const bars = run.tasks.filter(hasTimes); // each with startMs and endMs
 */
export function hasTimes(task: TaskRecord): task is TaskRecord & { startMs: number; endMs: number } {
  return task.startMs !== undefined && task.endMs !== undefined;
}
