import { tableModule } from '../deferred-packages.js';
import { type RunReport, type TaskReport } from '../run/outcome.js';
import { formatMs } from '../words.js';

/** Past this many rows, cached and skipped tasks are folded into one line so the table stays readable. */
const FOLD_ABOVE = 30;

/** The run report as a terminal table: task, status, time, processes (each with its time and calls). */
export function renderTable(report: RunReport, options: { color?: boolean } = {}): string {
  const color = options.color ?? false;
  const Table = tableModule();
  const table = new Table({
    head: ['task', 'status', 'time', 'processes'],
    style: color ? { head: ['cyan'], compact: true } : { head: [], border: [], compact: true },
  });
  const fold = report.tasks.length > FOLD_ABOVE;
  let folded = 0;
  for (const task of report.tasks) {
    if (fold && (task.status === 'cached' || task.status === 'skipped')) {
      folded++;
      continue;
    }
    table.push([task.name, statusText(task), task.status === 'ran' || task.status === 'failed' ? formatMs(task.ms) : '', processesText(task)]);
  }
  if (folded > 0) table.push([`… ${folded} more`, 'cached or skipped', '', '']);
  return `${table.toString()}\n${report.summary()}`;
}

function statusText(task: TaskReport): string {
  if (task.status === 'failed') return `failed: ${task.error?.message ?? task.reason}`;
  if (task.status === 'ran') return `ran (${task.reason})`;
  if (task.status === 'cached') return 'cached';
  return `${task.status}: ${task.reason}`;
}

function processesText(task: TaskReport): string {
  return task.processes
    .map((process) => `${process.name} ${formatMs(process.ms)}${process.calls > 1 ? ` ×${process.calls}` : ''}`)
    .join(', ');
}
