import type { Command } from 'commander';
import { EXIT, type CommandContext, taskNames } from '../context.js';

/** `littlepipes clear [tasks...] | --all`: drops cached results. */
export function clearCommand(program: Command, context: CommandContext): void {
  program
    .command('clear')
    .description('drop cached results: of the named tasks, or everything with --all')
    .argument('[tasks...]', 'the tasks whose results to drop')
    .option('--all', "drop everything the pipeline keeps: every result (removed tasks' too) and the run history")
    .addHelpText('after', `
Examples:
  $ littlepipes clear Clean Report   these two run again next time
  $ littlepipes clear --all          start from nothing`)
    .action(async (targets: string[], flags: { all?: boolean }) => {
      const { pipeline } = await context.load();
      const names = taskNames(targets);
      if (flags.all && names.length > 0) {
        context.output.err('littlepipes: name tasks or pass --all, not both.');
        context.exit(EXIT.usage);
        return;
      }
      if (flags.all) {
        const removed = await pipeline.purge();
        context.output.out(`Cleared everything of ${pipeline.name}: ${removed} cached result${removed === 1 ? '' : 's'} and the run history.`);
        return;
      }
      if (names.length === 0) {
        context.output.err('littlepipes: name the tasks to clear, or pass --all to clear everything.');
        context.exit(EXIT.usage);
        return;
      }
      await pipeline.clear(names);
      context.output.out(`Cleared ${names.join(', ')}.`);
    });
}
