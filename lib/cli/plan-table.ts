import { tableModule } from '../deferred-packages.js';
import { describeReason } from '../plan/freshness.js';
import type { Plan, TaskPlan } from '../plan/plan.js';

const ACTION_TEXT: Record<TaskPlan['action'], string> = {
  run: 'will run',
  wait: 'waits',
  cached: 'cached',
  blocked: 'blocked',
  skipped: 'skipped',
};

/**
 * The plan as a table: the tasks that would run, wait or be blocked (all with --all), then the
 * summary, then a line for each warning of any task, listed or not.
 */
export function planTable(plan: Plan, all: boolean, color: boolean): string {
  const warnings = plan.tasks.flatMap((task) => (task.warnings ?? []).map((warning) => `\nWarning: ${task.name}: ${warning}`)).join('');
  return `${tableOf(plan, all, color)}${warnings}`;
}

function tableOf(plan: Plan, all: boolean, color: boolean): string {
  const rows = plan.tasks.filter((task) => all || task.action === 'run' || task.action === 'wait' || task.action === 'blocked');
  if (rows.length === 0) return `${plan.summary()}\nEverything is up to date.`;
  const lines = rows.map((task) => [task.name, ACTION_TEXT[task.action], why(task)]);
  // Wrap the reasons only when they would not fit the terminal; short ones keep the table narrow.
  const room = Math.max(40, (process.stdout.columns ?? 120) - Math.max(...rows.map((task) => task.name.length)) - 20);
  const wrap = lines.some(([, , reason]) => reason!.length > room);
  const Table = tableModule();
  const table = new Table({
    head: ['task', 'action', 'why'],
    style: color ? { head: ['cyan'], compact: true } : { head: [], border: [], compact: true },
    ...(wrap ? { wordWrap: true, colWidths: [null, null, room] as never } : {}),
  });
  table.push(...lines);
  const hidden = plan.tasks.length - rows.length;
  return `${table.toString()}\n${plan.summary()}${hidden > 0 ? ` (${hidden} cached or skipped not listed; --all lists them)` : ''}`;
}

function why(task: TaskPlan): string {
  if (task.action === 'run') return task.reasons.map(describeReason).join('; ');
  if (task.action === 'wait') return `re-runs only if ${task.waitsOn?.join(', ')} change${task.waitsOn?.length === 1 ? 's' : ''} its result`;
  if (task.action === 'blocked') return task.waitsOn?.length ? `needs ${task.waitsOn.join(', ')}` : 'a dependency will have no result';
  return '';
}
