import path from 'node:path';
import type { Command } from 'commander';
import { taskLogLines } from '../../logs/task-log-lines.js';
import { EXIT, type CommandContext } from '../context.js';

/** `littlepipes logs TASK`: a task's log, readably: its own lines and the runner's about it, in time order. */
export function logsCommand(program: Command, context: CommandContext): void {
  program
    .command('logs')
    .description("print a task's log, readably: its own lines and the runner's lines about it")
    .argument('<task>', 'the task')
    .option('--lines <n>', 'only the last n lines')
    .option('--raw', "pino's JSON lines, as written")
    .addHelpText('after', `
Examples:
  $ littlepipes logs Clean
  $ littlepipes logs Clean --lines 20
  $ littlepipes logs Clean --raw | jq .msg`)
    .action(async (task: string, flags: { lines?: string; raw?: boolean }) => {
      const count = flags.lines === undefined ? undefined : Number(flags.lines);
      if (count !== undefined && (!Number.isInteger(count) || count < 1)) {
        context.output.err(`littlepipes: --lines must be a whole number from 1 up, got "${flags.lines}".`);
        context.exit(EXIT.usage);
        return;
      }
      const { pipeline } = await context.load();
      const folder = path.dirname(pipeline.logFile(task));
      await pipeline.close(); // Lands log lines still being written.
      let lines = await taskLogLines(folder, task);
      if (lines.length === 0) {
        context.output.err(`littlepipes: ${task} has no log yet (in ${folder}). It is written when a run runs the task or serves it from the cache.`);
        context.exit(EXIT.failed);
        return;
      }
      if (count !== undefined) lines = lines.slice(-count);
      if (flags.raw) {
        context.output.out(lines.join('\n'));
        return;
      }
      const { prettyFactory } = await import('pino-pretty');
      const pretty = prettyFactory({ colorize: context.output.color, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname,task' });
      context.output.out(lines.map((line) => pretty(line).trimEnd()).join('\n'));
    });
}
