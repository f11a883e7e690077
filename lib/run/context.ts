import type { Logger } from 'pino';
import { ResourceError, UndeclaredDependencyError } from '../errors.js';
import type { ProcessTiming } from './outcome.js';
import type { AnyTask, PipelineView, TaskContextBase } from '../task.js';
import type { RunResources } from './resources.js';

/** What a task's context needs from the run. */
export interface ContextInputs {
  pipeline: PipelineView;
  /** The task's logger, asked for on the first use of `t.log`: most tasks never log, and a logger costs microseconds to make. */
  logger: () => Logger;
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
  const context: TaskContextBase & Record<string, unknown> = {
    name: task.name,
    get log() {
      return inputs.logger();
    },
    signal: inputs.signal,
    params: task.params,
    inputs: inputs.inputs,
    outputs: task.outputs,
    pipeline: inputs.pipeline,
    attempt: inputs.attempt,
    use<T>(name: string): T {
      if (!task.uses.includes(name)) {
        throw new ResourceError(name, `${task.name} uses the resource "${name}" without declaring it. Add it to the task's options: uses: ['${name}'].`);
      }
      return inputs.resources.get(name) as T;
    },
    has(given: string | { readonly name: string }): boolean {
      const name = nameOf(given);
      if (task.dependencies.includes(name)) return inputs.upstream.has(name);
      // A required task passes no result, but which member of a requires gate ran (which index was
      // built) is what the task needs to know. Every task in the running task's requires is in the
      // run; the declared task tells a prerequisite it asked for from one a profile routed in.
      if (!task.requires.includes(name)) return false;
      const declared = inputs.pipeline.getTask(task.name);
      return declared.requires.includes(name) || declared.gates.some((gate) => !gate.passesResults && gate.anyOf.includes(name));
    },
    result(given: string | { readonly name: string }): unknown {
      const name = nameOf(given);
      if (!task.dependencies.includes(name)) throw new UndeclaredDependencyError(task.name, name);
      return inputs.upstream.get(name);
    },
  };
  for (const [name, fn] of task.processes) {
    context[name] = (...args: unknown[]) => timed(inputs.timings, name, () => fn(context, ...args));
  }
  return context;
}

/** A dependency as `t.result` and `t.has` are given it: its name, or the Task, which stands for its name. */
function nameOf(given: string | { readonly name: string }): string {
  return typeof given === 'object' && given !== null ? given.name : given;
}

/** Calls `call`, adding its duration to `name`'s timing; a promise is timed until it settles. */
function timed(timings: Map<string, ProcessTiming>, name: string, call: () => unknown): unknown {
  let timing = timings.get(name);
  if (!timing) {
    timing = { name, calls: 0, ms: 0 };
    timings.set(name, timing);
  }
  const record = timing;
  record.calls++;
  const start = performance.now();
  const stop = () => {
    record.ms += performance.now() - start;
  };
  let returned: unknown;
  try {
    returned = call();
  } catch (error) {
    stop();
    throw error;
  }
  if (returned instanceof Promise) {
    return returned.then(
      (value) => {
        stop();
        return value;
      },
      (error: unknown) => {
        stop();
        throw error;
      },
    );
  }
  stop();
  return returned;
}
