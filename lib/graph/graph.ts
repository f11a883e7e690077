import { DepGraph, DepGraphCycleError } from 'dependency-graph';
import { PipelineValidationError, type ValidationProblem } from '../errors.js';
import { suggest } from '../names.js';
import type { AnyTask } from '../task.js';

/**
 * The validated dependency graph of a pipeline. Built with `dependency-graph`, whose
 * topological sort is iterative: graphlib's recursive one overflows the stack past a few
 * thousand chained tasks, and takes three times as long to build.
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
  const graph = new DepGraph<AnyTask>();
  const dependents = new Map<string, string[]>();
  for (const [name, task] of tasks) {
    graph.addNode(name, task);
    dependents.set(name, []);
  }
  for (const [name, task] of tasks) {
    if (!task.processes.has('run')) {
      problems.push({ task: name, kind: 'missing-run', message: `${name} has no "run" process. Add one with .process('run', (t) => ...).` });
    }
    // Requirements and anyOf members order the task like dependencies do; a run resolves the gates.
    // A Set only when there is more than dependencies: most tasks have only those (and no repeats).
    const upstream = task.requires.length === 0 && task.gates.length === 0
      ? task.dependencies
      : new Set([...task.dependencies, ...task.requires, ...task.gates.flatMap((gate) => gate.anyOf)]);
    for (const dependency of upstream) {
      if (dependency === name) {
        problems.push({ task: name, kind: 'self-dependency', message: `${name} depends on itself. Remove "${name}" from its dependencies.` });
      } else if (!tasks.has(dependency)) {
        const guess = suggest(dependency, tasks.keys());
        problems.push({
          task: name,
          kind: 'unknown-dependency',
          message: `${name} depends on "${dependency}", which is not in the pipeline.` +
            (guess ? ` Did you mean "${guess}"?` : ' Add that task, or remove the dependency.'),
        });
      } else {
        graph.addDependency(name, dependency);
        dependents.get(dependency)!.push(name);
      }
    }
  }
  const order = orderOrReportCycles(graph, problems);
  if (problems.length > 0) throw new PipelineValidationError(pipeline, problems);

  return {
    order,
    dependents,
    closure(roots) {
      const names = new Set<string>();
      for (const root of roots) {
        names.add(root);
        for (const dependency of graph.dependenciesOf(root)) names.add(dependency);
      }
      return names;
    },
    downstream(roots) {
      const names = new Set<string>();
      for (const root of roots) for (const dependent of graph.dependantsOf(root)) names.add(dependent);
      return names;
    },
  };
}

/**
 * The topological order; when there are cycles, records each one and returns nothing useful.
 * dependency-graph stops at the first cycle it meets, so each found cycle is cut at its closing
 * edge and the sort is tried again until none is left.
 */
function orderOrReportCycles(graph: DepGraph<AnyTask>, problems: ValidationProblem[]): string[] {
  for (;;) {
    try {
      return graph.overallOrder();
    } catch (error) {
      if (!(error instanceof DepGraphCycleError)) throw error;
      // cyclePath is the search path that ran into the cycle, from a task to what it depends on
      // (A -> B: A depends on B); the cycle is its tail, from the first visit of the repeated task.
      const repeated = error.cyclePath[error.cyclePath.length - 1]!;
      const path = error.cyclePath.slice(error.cyclePath.indexOf(repeated));
      const first = path[0]!;
      problems.push({
        task: first,
        kind: 'cycle',
        message: `Tasks depend on each other in a cycle: ${path.join(' -> ')} (each depends on the next). Remove one of these dependencies.`,
      });
      graph.removeDependency(path[path.length - 2]!, path[path.length - 1]!);
    }
  }
}
