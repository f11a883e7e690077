import type { Command } from 'commander';
import { EXIT, type CommandContext, type SelectionFlags, selectionOptions } from '../context.js';

interface PlanFlags extends SelectionFlags {
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
    .argument('[tasks...]', 'plan for these tasks and what they need, as run TASK... would run them')
    .option('--only <tasks...>', 'the same as naming the tasks, as for run')
    .option('--skip <tasks...>', 'as run --skip would skip them')
    .option('--no-deps', 'as run --no-deps would run just the tasks named')
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
      const options = { ...selectionOptions(pipeline, 'plan', targets, flags), ...(flags.profile ? { profile: flags.profile } : {}) };
      const plan = await pipeline.plan(options);
      const pending = plan.tasks.filter((task) => task.action === 'run' || task.action === 'wait' || task.action === 'blocked');
      if (flags.json) {
        context.output.out(JSON.stringify(plan, null, 2));
      } else if (flags.explain !== undefined) {
        const names = typeof flags.explain === 'string' ? [flags.explain] : pending.map((task) => task.name);
        for (const name of names) context.output.out(await pipeline.explain(name, options));
        if (names.length === 0) context.output.out(plan.summary());
      } else {
        const { planTable } = await import('../plan-table.js');
        context.output.out(planTable(plan, flags.all ?? false, context.output.color));
      }
      if (flags.check && plan.tasks.some((task) => task.action !== 'cached' && task.action !== 'skipped')) {
        if (!flags.json) context.output.err(`littlepipes: not up to date: ${plan.summary()}`);
        context.exit(EXIT.failed);
      }
    });
}
