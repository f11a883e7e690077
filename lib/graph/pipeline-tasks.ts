import { DuplicateTaskError, TaskDefinitionError } from '../errors.js';
import { inNotebook } from '../host.js';
import { describeValue, knownTask } from '../names.js';
import { type AnyTask, Task } from '../task.js';
import { type PipelineGraph, buildGraph } from './graph.js';

/** A pipeline's tasks by name, and their graph, built when first asked for after a change. */
export class PipelineTasks {
  /** The pipeline's name. */
  readonly pipeline: string;
  readonly #byName = new Map<string, AnyTask>();
  #graph: PipelineGraph | undefined;

  constructor(pipeline: string) {
    this.pipeline = pipeline;
  }

  /** The tasks by name, in the order they were added. */
  get byName(): ReadonlyMap<string, AnyTask> {
    return this.#byName;
  }

  get names(): string[] {
    return [...this.#byName.keys()];
  }

  /** The task of this name, or an UnknownTaskError that names `where` and suggests one. */
  get(name: string, where: string): AnyTask {
    return knownTask(this.#byName, name, where);
  }

  /**
   * Adds tasks, all or none. A different task under a name already taken is a DuplicateTaskError,
   * except in a notebook (the tslab kernel), where re-running the cell that defines a task makes a
   * new Task object of the same name, which replaces the one before. Two of one name in one call always are.
   * `where` names the call or option the tasks came through, for the message about one that is not a Task.
   */
  add(tasks: readonly unknown[], where = 'pipeline.add()'): void {
    const adding = new Map<string, AnyTask>();
    const redefines = inNotebook();
    for (const task of tasks) {
      if (!(task instanceof Task)) throw new TaskDefinitionError(String(task), `${where} expects Task objects, got ${describeValue(task)}.`);
      const existing = adding.get(task.name) ?? (redefines ? undefined : this.#byName.get(task.name));
      if (existing && existing !== task) throw new DuplicateTaskError(task.name);
      adding.set(task.name, task);
    }
    for (const [name, task] of adding) this.#byName.set(name, task);
    this.#graph = undefined;
  }

  /** Replaces the task of the same name, which must be there. */
  replace(task: unknown): void {
    if (!(task instanceof Task)) throw new TaskDefinitionError(String(task), `pipeline.replace() expects a Task, got ${describeValue(task)}.`);
    this.get(task.name, 'pipeline.replace()');
    this.#byName.set(task.name, task);
    this.#graph = undefined;
  }

  /** The validated graph; a PipelineValidationError lists everything wrong with it. */
  graph(): PipelineGraph {
    this.#graph ??= buildGraph(this.pipeline, this.#byName);
    return this.#graph;
  }

  /** The graph when it is valid, for ordering listings, which must work on an invalid one too. */
  graphIfValid(): PipelineGraph | undefined {
    try {
      return this.graph();
    } catch {
      return undefined;
    }
  }

  /** The tasks, every dependency before its dependents. */
  ordered(): AnyTask[] {
    return this.graph().order.map((name) => this.#byName.get(name)!);
  }
}
