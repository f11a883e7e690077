import type { RunReport, TaskReport } from './outcome.js';

/**
 * What the runner tells whoever shows progress, in an order that follows the graph: a task is
 * told started only after every task it waits for is told finished.
 */
export interface ProgressListener {
  taskStarted(name: string): void;
  /** A task ran (once its result is committed), failed, was blocked or was cancelled. */
  taskFinished(task: TaskReport): void;
  /**
   * A task was served from the cache or skipped: for a display that counts tasks done. Optional,
   * as a run of thousands of cached tasks calls it thousands of times.
   */
  taskCachedOrSkipped?(task: TaskReport): void;
  runFinished(report: RunReport): void;
}

/** `listener`, and then whichever of `events` are given; an event handler that throws does not stop the run. */
export function alsoTell(listener: ProgressListener, events: Partial<ProgressListener>): ProgressListener {
  const call = <K extends keyof ProgressListener>(name: K, argument: Parameters<NonNullable<ProgressListener[K]>>[0]) => {
    listener[name]?.(argument as never);
    try {
      (events[name] as ((value: unknown) => void) | undefined)?.(argument);
    } catch (error) {
      process.emitWarning(`littlepipes: the ${name} event handler threw: ${(error as Error)?.message ?? String(error)}`);
    }
  };
  return {
    taskStarted: (name) => call('taskStarted', name),
    taskFinished: (task) => call('taskFinished', task),
    runFinished: (report) => call('runFinished', report),
    taskCachedOrSkipped: (task) => call('taskCachedOrSkipped', task),
  };
}

/** Shows nothing: `progress: false`. */
export const silentProgress: ProgressListener = {
  taskStarted() {},
  taskFinished() {},
  runFinished() {},
};
