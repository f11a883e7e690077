import { PipelineValidationError, type ValidationProblem } from '../errors.js';
import { suggest } from '../names.js';
import type { AnyTask } from '../task.js';

/**
 * The validated dependency graph of a pipeline. Ordered by an iterative depth-first search over
 * task indices: graphlib's recursive sort overflows the stack past a few thousand chained tasks,
 * and dependency-graph, which this replaced, spent 7-12 us a task on string-keyed maps and sets
 * and on searching the graph twice (issue 15). The order is the one dependency-graph gave.
 */
export interface PipelineGraph {
  /** Task names, every dependency before its dependents; ties keep the order tasks were added. */
  readonly order: readonly string[];
  /** For each task, the tasks that depend on it directly (by dependencies, requires or anyOf). */
  readonly dependents: ReadonlyMap<string, readonly string[]>;
  /** The names of `roots` and of every task they need, transitively. */
  closure(roots: Iterable<string>): Set<string>;
  /** The tasks that depend on any of `roots`, transitively (not including them). */
  downstream(roots: Iterable<string>): Set<string>;
}

/**
 * Checks the tasks and orders them. Every problem is collected before anything is thrown, so
 * one error lists them all: tasks without `run`, unknown dependencies (with a suggestion),
 * self-dependencies, and each cycle with its path.
 */
export function buildGraph(pipeline: string, tasks: ReadonlyMap<string, AnyTask>): PipelineGraph {
  const problems: ValidationProblem[] = [];
  const names = [...tasks.keys()];
  const indexOf = new Map<string, number>();
  for (let index = 0; index < names.length; index++) indexOf.set(names[index]!, index);
  /** For each task, the indices of the tasks it needs, in the order it lists them. */
  const upstreamOf: number[][] = [];
  /** For each task, how many tasks need it: the search starts from those no task needs. */
  const neededBy = new Uint32Array(names.length);
  const dependents = new Map<string, string[]>();
  for (const name of names) dependents.set(name, []);
  for (const [name, task] of tasks) {
    if (!task.processes.has('run')) {
      problems.push({ task: name, kind: 'missing-run', message: `${name} has no "run" process. Add one with .process('run', (t) => ...).` });
    }
    // Requirements and anyOf members order the task like dependencies do; a run resolves the gates.
    // A Set only when there is more than dependencies: most tasks have only those (and no repeats).
    const upstream = task.requires.length === 0 && task.gates.length === 0
      ? task.dependencies
      : new Set([...task.dependencies, ...task.requires, ...task.gates.flatMap((gate) => gate.anyOf)]);
    const edges: number[] = [];
    for (const dependency of upstream) {
      const index = indexOf.get(dependency);
      if (dependency === name) {
        problems.push({ task: name, kind: 'self-dependency', message: `${name} depends on itself. Remove "${name}" from its dependencies.` });
      } else if (index === undefined) {
        const guess = suggest(dependency, tasks.keys());
        problems.push({
          task: name,
          kind: 'unknown-dependency',
          message: `${name} depends on "${dependency}", which is not in the pipeline.` +
            (guess ? ` Did you mean "${guess}"?` : ' Add that task, or remove the dependency.'),
        });
      } else {
        edges.push(index);
        neededBy[index]!++;
        dependents.get(dependency)!.push(name);
      }
    }
    // Copies of their exact size: a list grown by push keeps room for 17, a run of thousands keeps these.
    upstreamOf.push(edges.slice());
  }
  for (const [name, list] of dependents) dependents.set(name, list.slice());
  const starts: number[] = [];
  for (let index = 0; index < names.length; index++) if (neededBy[index] === 0) starts.push(index);
  const found = search(upstreamOf, starts);
  // Every task is reached from one that no task needs, unless some depend on each other in a cycle.
  if (found.cycle || found.order.length < names.length) reportCycles(upstreamOf, names, problems);
  if (problems.length > 0) throw new PipelineValidationError(pipeline, problems);
  const order = found.order.map((index) => names[index]!);

  return {
    order,
    dependents,
    closure(roots) {
      const reached = new Set<string>();
      const stack: number[] = [];
      for (const root of roots) {
        reached.add(root);
        const index = indexOf.get(root);
        if (index !== undefined) stack.push(index);
      }
      while (stack.length > 0) {
        for (const upstream of upstreamOf[stack.pop()!]!) {
          const name = names[upstream]!;
          if (!reached.has(name)) {
            reached.add(name);
            stack.push(upstream);
          }
        }
      }
      return reached;
    },
    downstream(roots) {
      const reached = new Set<string>();
      const stack = [...roots];
      while (stack.length > 0) {
        for (const dependent of dependents.get(stack.pop()!) ?? []) {
          if (!reached.has(dependent)) {
            reached.add(dependent);
            stack.push(dependent);
          }
        }
      }
      return reached;
    },
  };
}

const NEW = 0;
const ON_PATH = 1;
const DONE = 2;

/**
 * Depth-first search from `starts` along each task's upstream edges, in the order listed: the
 * tasks in post-order (every dependency before its dependents), or the first cycle met, as the
 * path from its first task round to it again (A, B, A: A depends on B, B on A).
 * A stack of indices instead of recursion, so a chain of any length fits; an entry is stored
 * complemented (~index) once its edges are pushed, to be finished when the search comes back to it.
 */
function search(upstreamOf: readonly number[][], starts: Iterable<number>): { order: number[]; cycle?: number[] } {
  const state = new Uint8Array(upstreamOf.length);
  const order: number[] = [];
  const path: number[] = [];
  const stack: number[] = [];
  for (const start of starts) {
    if (state[start] === DONE) continue;
    stack.push(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top < 0) {
        stack.pop();
        path.pop();
        state[~top] = DONE;
        order.push(~top);
      } else if (state[top] === DONE) {
        stack.pop();
      } else if (state[top] === ON_PATH) {
        return { order, cycle: [...path.slice(path.indexOf(top)), top] };
      } else {
        state[top] = ON_PATH;
        path.push(top);
        stack[stack.length - 1] = ~top;
        const edges = upstreamOf[top]!;
        // Pushed last to first, so they are visited first to last.
        for (let edge = edges.length - 1; edge >= 0; edge--) stack.push(edges[edge]!);
      }
    }
  }
  return { order };
}

/**
 * Records each cycle with its path. Searching from every task in the order they were added,
 * each cycle found is cut at its closing edge and the search is made again until none is left.
 */
function reportCycles(upstreamOf: readonly number[][], names: readonly string[], problems: ValidationProblem[]): void {
  const edges = upstreamOf.map((list) => [...list]);
  const everyTask = names.map((_, index) => index);
  for (;;) {
    const { cycle } = search(edges, everyTask);
    if (!cycle) return;
    const path = cycle.map((index) => names[index]!);
    problems.push({
      task: path[0]!,
      kind: 'cycle',
      message: `Tasks depend on each other in a cycle: ${path.join(' -> ')} (each depends on the next). Remove one of these dependencies.`,
    });
    const from = edges[cycle[cycle.length - 2]!]!;
    from.splice(from.indexOf(cycle[cycle.length - 1]!), 1);
  }
}
