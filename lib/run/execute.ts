import { PipelineRunError, RunCancelledError } from '../errors.js';
import type { RunSettings } from '../plan/settings.js';
import type { ProgressListener } from './events.js';
import type { ExecutorChoice, PipelineExecutors } from './executors/choice.js';
import type { TaskExecutor } from './executors/executor.js';
import { interruptOnCtrlC } from './interrupt.js';
import type { RunReport } from './outcome.js';
import { Run, type RunParts } from './runner.js';

/** What one `execute()` works with: the run's parts, the executor it asked for, and its display, made as it starts. */
export interface ExecuteParts extends Omit<RunParts, 'executor' | 'progress'> {
  executors: PipelineExecutors;
  executor: ExecutorChoice;
  progress(): Promise<ProgressListener>;
  /** Told of the run while it goes on, and of its end (undefined). */
  running(run: Run | undefined): void;
}

/**
 * One `execute()` from start to end: Ctrl-C handling when the run has no signal of its own (see
 * interruptOnCtrlC), the executor, the run, its record in the history. Resolves to the report;
 * rejects with RunCancelledError when cancelled, with PipelineRunError when a task failed.
 */
export async function executeRun(parts: ExecuteParts, settings: RunSettings): Promise<RunReport> {
  const { executors, executor: choice, progress, running, ...runParts } = parts;
  const given = settings.signal;
  const interrupt = given === undefined ? interruptOnCtrlC() : undefined;
  if (interrupt) settings.signal = interrupt.signal;
  let executor: TaskExecutor | undefined;
  try {
    executor = await executors.open(choice, runParts.tasks.values());
  } catch (error) {
    interrupt?.dispose();
    throw error;
  }
  const run = new Run({ ...runParts, progress: await progress(), executor }, settings);
  running(run);
  try {
    const report = await run.execute();
    // The report's own lists, not a copy made by toJSON(): the history packs them as it stores them.
    runParts.store.recordRun({ pipeline: report.pipeline, startedAt: report.startedAt.toISOString(), ms: report.ms, counts: report.counts, tasks: report.tasks });
    if (interrupt?.interrupted()) {
      // Once the run has stopped cleanly, its results are committed (the run's end waits for
      // that) and its report is shown, the process ends as that Ctrl-C would have ended it.
      await runParts.store.flush().catch(() => {});
      await runParts.logs.flush();
      interrupt.passOn();
    }
    if (run.cancelled) throw new RunCancelledError(report, given?.reason);
    if (report.failed.length > 0) throw new PipelineRunError(report);
    return report;
  } finally {
    running(undefined);
    interrupt?.dispose();
    await executors.release(executor);
  }
}
