import type { Logger } from 'pino';
import { ResourceError, UndeclaredDependencyError } from '../errors.js';
import type { ProcessTiming } from './outcome.js';
import type { AnyTask, PipelineView, TaskContextBase } from '../task.js';
import type { RunResources } from './resources.js';

/** What a task's context needs from the run. */
export interface ContextInputs {
  pipeline: PipelineView;
  /** The task's logger, asked for (with its name) on the first use of `t.log`: most tasks never log, and a logger costs microseconds to make. */
  logger: (task: string) => Logger;
  signal: AbortSignal;
  /** The files the task's inputs name for this run. */
  inputs: readonly string[];
  /** The results of the task's dependencies, by name. */
  upstream: ReadonlyMap<string, unknown>;
  /** Which attempt this is, from 1. */
  attempt: number;
  /** The run's resources. */
  resources: RunResources;
  /** Receives the time of every process call, in the order processes are first called. */
  timings: Map<string, ProcessTiming>;
}

/**
 * The `t` of a task's processes: its name, logger, signal and pipeline, `t.result(name)` for its
 * dependencies, and each process as a method, so `t.extract()` calls the task's `extract` with
 * `t` first. Every call is timed.
 */
export function createContext(task: AnyTask, inputs: ContextInputs): TaskContextBase & Record<string, unknown> {
  const context = new RunContext(task, inputs) as unknown as TaskContextBase & Record<string, unknown>;
  for (const [name, fn] of task.processes) {
    context[name] = (...args: unknown[]) => timed(inputs.timings, name, fn, context, args);
  }
  return context;
}

/**
 * A class, so that what every task's context has lives once on its prototype: a run of thousands
 * of tasks makes a context for each. `has`, `use` and `result` are made bound on first use, so
 * that `const { result } = t` works as it did when they were the context's own functions.
 */
class RunContext {
  readonly name: string;
  readonly signal: AbortSignal;
  readonly params: AnyTask['params'];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly pipeline: PipelineView;
  readonly attempt: number;
  readonly #task: AnyTask;
  readonly #given: ContextInputs;
  #has: ((given: string | { readonly name: string }) => boolean) | undefined;
  #use: (<T>(name: string) => T) | undefined;
  #result: ((given: string | { readonly name: string }) => unknown) | undefined;

  constructor(task: AnyTask, given: ContextInputs) {
    this.name = task.name;
    this.signal = given.signal;
    this.params = task.params;
    this.inputs = given.inputs;
    this.outputs = task.outputs;
    this.pipeline = given.pipeline;
    this.attempt = given.attempt;
    this.#task = task;
    this.#given = given;
  }

  get log(): Logger {
    return this.#given.logger(this.name);
  }

  get use(): <T>(name: string) => T {
    const task = this.#task;
    const resources = this.#given.resources;
    return (this.#use ??= <T>(name: string): T => {
      if (!task.uses.includes(name)) {
        throw new ResourceError(name, `${task.name} uses the resource "${name}" without declaring it. Add it to the task's options: uses: ['${name}'].`);
      }
      return resources.get(name) as T;
    });
  }

  get has(): (given: string | { readonly name: string }) => boolean {
    const task = this.#task;
    const { upstream, pipeline } = this.#given;
    return (this.#has ??= (given) => {
      const name = nameOf(given);
      if (task.dependencies.includes(name)) return upstream.has(name);
      // A required task passes no result, but which member of a requires gate ran (which index was
      // built) is what the task needs to know. Every task in the running task's requires is in the
      // run; the declared task tells a prerequisite it asked for from one a profile routed in.
      if (!task.requires.includes(name)) return false;
      const declared = pipeline.getTask(task.name);
      return declared.requires.includes(name) || declared.gates.some((gate) => !gate.passesResults && gate.anyOf.includes(name));
    });
  }

  get result(): (given: string | { readonly name: string }) => unknown {
    const task = this.#task;
    const { upstream } = this.#given;
    return (this.#result ??= (given) => {
      const name = nameOf(given);
      if (!task.dependencies.includes(name)) throw new UndeclaredDependencyError(task.name, name);
      return upstream.get(name);
    });
  }
}

/** A dependency as `t.result` and `t.has` are given it: its name, or the Task, which stands for its name. */
function nameOf(given: string | { readonly name: string }): string {
  return typeof given === 'object' && given !== null ? given.name : given;
}

/** Calls the process `fn` with the context and `args`, adding its duration to `name`'s timing; a promise is timed until it settles. */
function timed(timings: Map<string, ProcessTiming>, name: string, fn: (...args: any[]) => unknown, context: unknown, args: unknown[]): unknown {
  let timing = timings.get(name);
  if (!timing) {
    timing = { name, calls: 0, ms: 0 };
    timings.set(name, timing);
  }
  timing.calls++;
  const start = performance.now();
  let returned: unknown;
  try {
    returned = fn(context, ...args);
  } catch (error) {
    timing.ms += performance.now() - start;
    throw error;
  }
  if (returned instanceof Promise) {
    const record = timing;
    return returned.then(
      (value) => {
        record.ms += performance.now() - start;
        return value;
      },
      (error: unknown) => {
        record.ms += performance.now() - start;
        throw error;
      },
    );
  }
  timing.ms += performance.now() - start;
  return returned;
}
