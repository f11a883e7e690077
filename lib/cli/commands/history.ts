import type { Command } from 'commander';
import { type RunRecord } from '../../run/outcome.js';
import { formatMs } from '../../words.js';
import { EXIT, type CommandContext } from '../context.js';

/** `littlepipes history`: past runs, the newest first, with each task's time. */
export function historyCommand(program: Command, context: CommandContext): void {
  program
    .command('history')
    .description('list past runs, the newest first, with the time of each task that ran')
    .option('--limit <n>', 'how many runs', '10')
    .option('--json', 'print them as JSON')
    .addHelpText('after', `
Examples:
  $ littlepipes history
  $ littlepipes history --limit 1 --json`)
    .action(async (flags: { limit: string; json?: boolean }) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        context.output.err(`littlepipes: --limit must be a whole number from 1 up, got "${flags.limit}".`);
        context.exit(EXIT.usage);
        return;
      }
      const { pipeline } = await context.load();
      const runs = await pipeline.history({ limit });
      if (flags.json) context.output.out(JSON.stringify(runs, null, 2));
      else if (runs.length === 0) context.output.out(`${pipeline.name} has not run yet.`);
      else context.output.out(runs.map(describeRun).join('\n\n'));
    });
}

/** A run as lines: when, the counts and total time, then each task that ran or failed with its time. */
function describeRun(run: RunRecord): string {
  const counts = Object.entries(run.counts).filter(([, count]) => count > 0).map(([status, count]) => `${count} ${status}`).join(', ');
  const when = new Date(run.startedAt).toLocaleString('sv-SE'); // 2026-11-22 10:01:02: sortable, unambiguous.
  const worked = run.tasks.filter((task) => task.status === 'ran' || task.status === 'failed').sort((a, b) => b.ms - a.ms);
  const width = Math.max(0, ...worked.map((task) => task.name.length));
  const lines = worked.map((task) => `  ${task.name.padEnd(width)}  ${task.status === 'failed' ? 'failed' : 'ran   '}  ${formatMs(task.ms).padStart(9)}${task.error ? `  ${task.error.message}` : ''}`);
  return [`${when}  ${counts || 'no tasks'} in ${formatMs(run.ms)}`, ...lines].join('\n');
}
