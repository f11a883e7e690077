import type { Command } from 'commander';
import { EXIT, type CommandContext, cachedResultForCommand } from '../context.js';

/** `littlepipes export TASK FILE`: a cached table, or rows, written as .arrow, .parquet, .csv or .json. */
export function exportCommand(program: Command, context: CommandContext): void {
  program
    .command('export')
    .description("write a task's cached table (or array of row objects) to a file other tools open: .arrow, .parquet, .csv or .json")
    .argument('<task>', 'the task')
    .argument('<file>', 'the file to write; its extension chooses the format')
    .option('--profile <name>', 'the result as the run with this profile computed it')
    .addHelpText('after', `
Formats, by the file's extension:
  .arrow     Arrow IPC file (Feather v2)
  .parquet   Parquet
  .csv       CSV with a header row; dates as ISO 8601
  .json      a JSON array of row objects; dates as ISO 8601, bigints as exact numbers

Examples:
  $ littlepipes export Clean clean.parquet     then: duckdb -c "select * from 'clean.parquet'"
  $ littlepipes export Totals out/totals.csv`)
    .action(async (task: string, file: string, flags: { profile?: string }) => {
      const { exportFileProblem, writeExport } = await import('../../report/export.js');
      // Before loading the pipeline: a mistyped extension or folder costs nothing.
      const problem = exportFileProblem(file, 'littlepipes export');
      if (problem) {
        context.output.err(problem);
        context.exit(EXIT.usage);
        return;
      }
      const { pipeline } = await context.load();
      const cached = await cachedResultForCommand(context, pipeline, task, flags.profile, 'littlepipes export');
      if (!cached) return;
      const { value } = cached;
      try {
        await writeExport(value, file, 'littlepipes export', task);
      } catch (error) {
        if ((error as { code?: unknown })?.code !== 'ERR_INVALID_OPTION') throw error;
        context.output.err((error as Error).message);
        context.exit(EXIT.usage);
        return;
      }
      context.output.err(`${task}: wrote ${file}`);
    });
}
