import type { Command } from 'commander';
import Table from 'cli-table3';
import { describeReason } from '../../run/freshness.js';
import type { Plan, TaskPlan } from '../../run/plan.js';
import { EXIT, type CommandContext, taskNames } from '../context.js';

interface PlanFlags {
  explain?: boolean | string;
  json?: boolean;
  check?: boolean;
  all?: boolean;
  profile?: string;
}

/** `littlepipes plan [tasks...]` (alias `status`): what `run` would do, and why. */
export function planCommand(program: Command, context: CommandContext): void {
  program
    .command('plan')
    .alias('status')
    .description('say what `run` would do and why, without running anything')
    .argument('[tasks...]', 'plan only for these tasks and what they need')
    .option('--explain [task]', 'explain in sentences: one task, or every task that would run')
    .option('--profile <name>', 'plan for a profile from littlepipes.yaml')
    .option('--json', 'print the plan as JSON on stdout')
    .option('--check', 'exit 1 when anything would run (a CI gate)')
    .option('--all', 'list cached and skipped tasks too')
    .addHelpText('after', `
Examples:
  $ littlepipes plan                     what would run, and why
  $ littlepipes plan --explain Report    why Report would run (or not), in a sentence
  $ littlepipes plan --check             fail in CI when results are out of date
  $ littlepipes status --json`)
    .action(async (targets: string[], flags: PlanFlags) => {
      const { pipeline } = await context.load();
      const only = taskNames(targets);
      const options = { ...(only.length > 0 ? { only } : {}), ...(flags.profile ? { profile: flags.profile } : {}) };
      const plan = await pipeline.plan(options);
      const pending = plan.tasks.filter((task) => task.action === 'run' || task.action === 'wait' || task.action === 'blocked');
      if (flags.json) {
        context.output.out(JSON.stringify(plan, null, 2));
      } else if (flags.explain !== undefined) {
        const names = typeof flags.explain === 'string' ? [flags.explain] : pending.map((task) => task.name);
        for (const name of names) context.output.out(await pipeline.explain(name, options));
        if (names.length === 0) context.output.out(plan.summary());
      } else {
        context.output.out(planTable(plan, flags.all ?? false, context.output.color));
      }
      if (flags.check && plan.tasks.some((task) => task.action !== 'cached' && task.action !== 'skipped')) {
        if (!flags.json) context.output.err(`littlepipes: not up to date: ${plan.summary()}`);
        context.exit(EXIT.failed);
      }
    });
}

const ACTION_TEXT: Record<TaskPlan['action'], string> = {
  run: 'will run',
  wait: 'waits',
  cached: 'cached',
  blocked: 'blocked',
  skipped: 'skipped',
};

/** The plan as a table: the tasks that would run, wait or be blocked (all with --all), then the summary. */
function planTable(plan: Plan, all: boolean, color: boolean): string {
  const rows = plan.tasks.filter((task) => all || task.action === 'run' || task.action === 'wait' || task.action === 'blocked');
  if (rows.length === 0) return `${plan.summary()}\nEverything is up to date.`;
  const lines = rows.map((task) => [task.name, ACTION_TEXT[task.action], why(task)]);
  // Wrap the reasons only when they would not fit the terminal; short ones keep the table narrow.
  const room = Math.max(40, (process.stdout.columns ?? 120) - Math.max(...rows.map((task) => task.name.length)) - 20);
  const wrap = lines.some(([, , reason]) => reason!.length > room);
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
