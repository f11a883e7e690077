import { formatMs } from '../words.js';

/** What happened to a task in a run. */
export type TaskStatus = 'ran' | 'cached' | 'failed' | 'blocked' | 'skipped' | 'cancelled';

/** Time spent in one process of a task, over all its calls. */
export interface ProcessTiming {
  name: string;
  calls: number;
  ms: number;
}

/** One task's line in the run report. */
export interface TaskReport {
  name: string;
  status: TaskStatus;
  /** Why it ran, or why it was cached, blocked or skipped. */
  reason: string;
  /** Wall time of the task in this run, in milliseconds (0 when it did not run). */
  ms: number;
  /** When it started and ended, in milliseconds from the start of the run (for timelines). */
  startMs?: number;
  endMs?: number;
  /** Per-process timings, in the order processes were first called. */
  processes: readonly ProcessTiming[];
  /** The error of a failed task. */
  error?: Error;
  /** Attempts it took, when it was retried (see the task's `retries` option). */
  attempts?: number;
  /** `host:pid` of the worker process that ran it, when it ran on one (the bullmq executor). */
  worker?: string;
  /** Its log file on that worker's host; tasks run here log to `pipeline.logFile(name)`. */
  logFile?: string;
}

/** One task of a run as plain data (`RunReport.toJSON()`). */
export interface TaskRecord extends Omit<TaskReport, 'error'> {
  error?: { message: string; stack?: string };
}

/**
 * A run as plain data: what `RunReport.toJSON()` returns, what `--json` prints, and what the
 * run history keeps (see `pipeline.history()`).
 */
export interface RunRecord {
  pipeline: string;
  /** ISO time the run started. */
  startedAt: string;
  ms: number;
  counts: Record<TaskStatus, number>;
  tasks: TaskRecord[];
}

/**
 * The outcome of `pipeline.execute()`: every task's status, reason and timings, and the run's
 * total time. `toTable()` renders it for a terminal; `toJSON()` for machines.
 */
export class RunReport {
  readonly #byName: Map<string, TaskReport>;

  constructor(
    /** The pipeline's name. */
    readonly pipeline: string,
    /** When the run started. */
    readonly startedAt: Date,
    /** Total wall time of the run, in milliseconds. */
    readonly ms: number,
    /** One report per task, in topological order. */
    readonly tasks: readonly TaskReport[],
  ) {
    this.#byName = new Map(tasks.map((task) => [task.name, task]));
  }

  /** The report of one task. */
  task(name: string): TaskReport | undefined {
    return this.#byName.get(name);
  }

  /** The tasks that failed. */
  get failed(): TaskReport[] {
    return this.tasks.filter((task) => task.status === 'failed');
  }

  /** How many tasks ended in each status. */
  get counts(): Record<TaskStatus, number> {
    const counts: Record<TaskStatus, number> = { ran: 0, cached: 0, failed: 0, blocked: 0, skipped: 0, cancelled: 0 };
    for (const task of this.tasks) counts[task.status]++;
    return counts;
  }

  /** How the console and notebooks print a report: its summary, not every field. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `RunReport { ${this.summary()} }`;
  }

  /** One line: `Example1: 2 ran, 2 cached in 1.52 s`. */
  summary(): string {
    return `${this.pipeline}: ${describeCounts(this.counts)} in ${formatMs(this.ms)}`;
  }

  /** Plain data for machines (`--json`) and for the run history: errors as message and stack. */
  toJSON(): RunRecord {
    return {
      pipeline: this.pipeline,
      startedAt: this.startedAt.toISOString(),
      ms: this.ms,
      counts: this.counts,
      tasks: this.tasks.map(({ error, ...task }) => (error ? { ...task, error: { message: error.message, stack: error.stack } } : task)),
    };
  }

  /**
   * The report as one self-contained HTML table (no scripts, no stylesheet), for notebooks and
   * web pages: a row per task with its status, why, its time and its processes, and the summary
   * as the caption. Names and messages are escaped.
   *
   * @example
   * import { display } from 'tslab';
   * display.html(report.toHTML());
   */
  toHTML(): string {
    const cell = (text: string) => `<td style="text-align:left">${escapeHTML(text)}</td>`;
    const rows = this.tasks.map((task) => {
      const why = task.status === 'failed' ? (task.error?.message ?? task.reason) : task.status === 'cached' ? '' : task.reason;
      const time = task.status === 'ran' || task.status === 'failed' ? formatMs(task.ms) : '';
      const processes = task.processes.map((process) => `${process.name} ${formatMs(process.ms)}${process.calls > 1 ? ` ×${process.calls}` : ''}`).join(', ');
      return `<tr>${cell(task.name)}${cell(task.status)}${cell(why)}${cell(time)}${cell(processes)}</tr>`;
    });
    const head = ['task', 'status', 'why', 'time', 'processes'].map((name) => `<th style="text-align:left">${name}</th>`).join('');
    return (
      `<table class="littlepipes-report">` +
      `<caption style="text-align:left">${escapeHTML(this.summary())}</caption>` +
      `<thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`
    );
  }
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHTML(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/** `2 ran, 4 cached`: the statuses a run's tasks ended in, or `no tasks`. */
export function describeCounts(counts: Record<TaskStatus, number>): string {
  return Object.entries(counts).filter(([, count]) => count > 0).map(([status, count]) => `${count} ${status}`).join(', ') || 'no tasks';
}
