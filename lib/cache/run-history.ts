import type { ProcessTiming, RunRecord, TaskRecord, TaskStatus } from '../run/outcome.js';

/** What the history is given of a run: a RunRecord, or a report's fields as they are (see packRun). */
export interface RunToRecord {
  pipeline: string;
  startedAt: string;
  ms: number;
  counts: Record<TaskStatus, number>;
  tasks: readonly (Omit<TaskRecord, 'error'> & { error?: { message: string } })[];
}

/**
 * A run as the history stores it: a column per field instead of an object per task, which for a
 * run of 10,000 tasks was 2 MB of JSON and a few microseconds a task to write (issue 15); this
 * is about a quarter of it. Times are kept to the microsecond. What few tasks have (an error,
 * attempts, a worker) is kept by the task's position.
 */
interface PackedRun {
  layout: 2;
  pipeline: string;
  startedAt: string;
  ms: number;
  counts: Record<TaskStatus, number>;
  names: string[];
  statuses: TaskStatus[];
  reasons: string[];
  taskMs: number[];
  starts: (number | null)[];
  ends: (number | null)[];
  /** Each task's processes as [name, calls, ms]; a number when it is one call of `run` that took that long. */
  processes: (number | [string, number, number][])[];
  more: Record<string, { error?: string; attempts?: number; worker?: string; logFile?: string }>;
}

/** Milliseconds to the microsecond: shorter to write and to read than the doubles measured. */
function microseconds(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** The record of a run as stored. Stacks stay in the task logs; the history keeps what a person reads in a list. */
export function packRun(run: RunToRecord): PackedRun {
  const packed: PackedRun = {
    layout: 2, pipeline: run.pipeline, startedAt: run.startedAt, ms: run.ms, counts: run.counts,
    names: [], statuses: [], reasons: [], taskMs: [], starts: [], ends: [], processes: [], more: {},
  };
  run.tasks.forEach((task, index) => {
    packed.names.push(task.name);
    packed.statuses.push(task.status);
    packed.reasons.push(task.reason);
    packed.taskMs.push(microseconds(task.ms));
    packed.starts.push(task.startMs === undefined ? null : microseconds(task.startMs));
    packed.ends.push(task.endMs === undefined ? null : microseconds(task.endMs));
    const [only] = task.processes;
    packed.processes.push(task.processes.length === 1 && only!.name === 'run' && only!.calls === 1
      ? microseconds(only!.ms)
      : task.processes.map((process) => [process.name, process.calls, microseconds(process.ms)]));
    if (task.error || task.attempts !== undefined || task.worker !== undefined || task.logFile !== undefined) {
      packed.more[index] = {
        ...(task.error ? { error: task.error.message } : {}),
        ...(task.attempts !== undefined ? { attempts: task.attempts } : {}),
        ...(task.worker !== undefined ? { worker: task.worker } : {}),
        ...(task.logFile !== undefined ? { logFile: task.logFile } : {}),
      };
    }
  });
  return packed;
}

/** A stored run as a RunRecord; undefined when it cannot be read. Runs stored before the columns (an object per task) read as they are. */
export function unpackRun(stored: unknown): RunRecord | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  if (Array.isArray((stored as RunRecord).tasks)) return stored as RunRecord;
  const packed = stored as PackedRun;
  if (packed.layout !== 2 || !Array.isArray(packed.names)) return undefined;
  const tasks = packed.names.map((name, index): TaskRecord => {
    const task: TaskRecord = { name, status: packed.statuses[index]!, reason: packed.reasons[index]!, ms: packed.taskMs[index]!, processes: processesOf(packed.processes[index]) };
    const start = packed.starts[index];
    const end = packed.ends[index];
    if (start !== null && start !== undefined) task.startMs = start;
    if (end !== null && end !== undefined) task.endMs = end;
    const more = packed.more?.[index];
    if (more?.error !== undefined) task.error = { message: more.error };
    if (more?.attempts !== undefined) task.attempts = more.attempts;
    if (more?.worker !== undefined) task.worker = more.worker;
    if (more?.logFile !== undefined) task.logFile = more.logFile;
    return task;
  });
  return { pipeline: packed.pipeline, startedAt: packed.startedAt, ms: packed.ms, counts: packed.counts, tasks };
}

function processesOf(stored: PackedRun['processes'][number] | undefined): ProcessTiming[] {
  if (typeof stored === 'number') return [{ name: 'run', calls: 1, ms: stored }];
  return (stored ?? []).map(([name, calls, ms]) => ({ name, calls, ms }));
}
