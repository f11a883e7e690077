import { inspect } from 'node:util';
import type { Command } from 'commander';
import { formatMs } from '../../words.js';
import { type CommandContext, cachedResultForCommand } from '../context.js';

/** `littlepipes show TASK`: a cached result, readably. */
export function showCommand(program: Command, context: CommandContext): void {
  program
    .command('show')
    .description("print a task's cached result (large values summarised)")
    .argument('<task>', 'the task')
    .option('--full', 'print all of it, however large')
    .option('--profile <name>', 'the result as the run with this profile computed it')
    .addHelpText('after', `
Examples:
  $ littlepipes show Clean          the first rows of a table, the start of a long array
  $ littlepipes show Clean --full   every item`)
    .action(async (task: string, flags: { full?: boolean; profile?: string }) => {
      const { bytes, summarizeValue } = await import('../../report/value-summary.js');
      const { pipeline } = await context.load();
      const cached = await cachedResultForCommand(context, pipeline, task, flags.profile, 'littlepipes');
      if (!cached) return;
      const { value } = cached;
      const [listing] = (await pipeline.listCache()).filter((line) => line.task === task);
      if (listing) {
        context.output.err(`${task}: stored ${ago(listing.storedAt)}, ${bytes(listing.bytes)}, took ${formatMs(listing.durationMs)}, expires ${listing.expiresAt ? listing.expiresAt.toLocaleString() : listing.expiry}`);
      }
      const width = process.stdout.columns ?? 100;
      context.output.out(flags.full
        ? inspect(value, { depth: null, maxArrayLength: null, maxStringLength: null, breakLength: width, colors: context.output.color })
        : summarizeValue(value, { color: context.output.color, width }));
    });
}

/** `3 min ago`, `2 days ago`. */
export function ago(date: Date, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - date.getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} days ago`;
}
