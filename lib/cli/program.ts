import { Command, CommanderError } from 'commander';
import { suggest } from '../names.js';
import { inCommandLineWords } from './command-line-words.js';
import { littlepipesCode } from '../errors.js';
import { OWN_VERSION } from '../own-package.js';
import type { LoadedPipeline } from './load.js';
import { loadPipeline } from './load.js';
import { EXIT, type CommandContext, type GlobalOptions, type Output } from './context.js';
import { clearCommand } from './commands/clear.js';
import { exportCommand } from './commands/export.js';
import { graphCommand } from './commands/graph.js';
import { historyCommand } from './commands/history.js';
import { logsCommand } from './commands/logs.js';
import { planCommand } from './commands/plan.js';
import { runCommand } from './commands/run.js';
import { showCommand } from './commands/show.js';
import { watchCommand } from './commands/watch.js';
import { workerCommand } from './commands/worker.js';

/** Errors that mean the command or the pipeline is wrong, not that a task failed: exit 2. */
const USAGE_ERRORS = new Set(['ERR_PIPELINE_LOAD', 'ERR_PIPELINE_INVALID', 'ERR_UNKNOWN_TASK', 'ERR_INVALID_OPTION', 'ERR_DUPLICATE_TASK', 'ERR_TASK_DEFINITION', 'ERR_EXPIRY_POLICY', 'ERR_CONFIG']);

/**
 * Runs the command line with `argv` (as in `process.argv`) and resolves to the exit code.
 * Errors are one line on stderr; `--verbose` adds the stack.
 */
export async function runCli(argv: readonly string[], output: Output = processOutput()): Promise<number> {
  let exitCode: number = EXIT.ok;
  let loaded: Promise<LoadedPipeline> | undefined;
  /** The command being carried out, whose words the errors speak. */
  let current: Command | undefined;
  const program = new Command('littlepipes');
  const context: CommandContext = {
    output,
    globals: () => program.opts<GlobalOptions>(),
    load: () => (loaded ??= loadPipeline(program.opts<GlobalOptions>().pipeline)),
    exit: (code) => {
      exitCode = Math.max(exitCode, code);
    },
  };
  program
    .description('Cacheable data pipelines: run what is not fresh, say why, show results, runs and logs.')
    .version(OWN_VERSION, '-V, --version', 'print the version of littlepipes')
    .option('-p, --pipeline <file>', 'the pipeline module (default: "littlepipes.pipeline" in package.json, else ./pipeline.ts)')
    .option('-v, --verbose', 'show stacks with errors')
    .option('--no-color', 'no colours')
    .exitOverride()
    .configureOutput({ writeOut: (text) => output.out(text.trimEnd()), writeErr: (text) => output.err(text.trimEnd()), outputError: (text) => output.err(usageLine(text, program)) })
    .addHelpText('after', `
Examples:
  $ littlepipes run                 run what is not fresh
  $ littlepipes plan                what would run, and why
  $ littlepipes graph --html g.html a picture of the pipeline and its last run
  $ littlepipes show Report         a cached result
  $ littlepipes export Clean c.parquet  a cached table as a file (.arrow, .parquet, .csv, .json)
  $ littlepipes shell               an interactive shell
  $ littlepipes worker --connection redis://localhost:6379   run the tasks that run --executor bullmq sends

The pipeline module exports \`pipeline\`: export const pipeline = new Pipeline('Sales').add(...)`);
  program.hook('preAction', (_program, command) => {
    current = command;
    if (program.opts<GlobalOptions>().color === false) output.color = false;
  });
  for (const register of [runCommand, planCommand, graphCommand, showCommand, exportCommand, clearCommand, historyCommand, logsCommand, watchCommand, workerCommand]) {
    register(program, context);
  }
  program
    .command('shell')
    .description('an interactive shell: list tasks, peek at results, run, plan, clear (type help inside)')
    .addHelpText('after', `
Examples:
  $ littlepipes shell                     then: list-tasks, peek Report, execute, help
  $ littlepipes shell --pipeline etl.ts   a shell on another pipeline module
  $ echo execute | littlepipes shell      commands piped in run in order, then it exits`)
    .action(async () => {
      const { pipeline, verbose, color } = program.opts<GlobalOptions>();
      const { runShell } = await import('./commands/shell.js');
      context.exit(await runShell({ pipeline, verbose, ...(color === false ? { color: false } : {}) }));
    });
  for (const command of program.commands) {
    command.exitOverride().configureOutput({ ...program.configureOutput(), outputError: (text) => output.err(usageLine(text, command)) });
  }

  try {
    await program.parseAsync(argv);
  } catch (error) {
    exitCode = Math.max(exitCode, reportError(error, output, program.opts<GlobalOptions>().verbose ?? false, current));
  } finally {
    if (loaded) {
      const pipeline = await loaded.then((result) => result.pipeline, () => undefined);
      await pipeline?.close().catch((error: unknown) => {
        exitCode = Math.max(exitCode, reportError(error, output, false, current));
      });
    }
  }
  return exitCode;
}

/**
 * Commander's usage error as one line like littlepipes' own: it writes "error: unknown command 'rnu'"
 * and its suggestion, "(Did you mean run?)", on lines of their own.
 */
function usageLine(text: string, command: Command): string {
  const [first = '', ...rest] = text.trim().split('\n').map((line) => line.trim().replace(/^\((.*)\)$/, '$1'));
  const sentence = first.replace(/^error: /, '');
  // Commander suggests commands and options, not the choices of an option's value.
  const choice = /argument '([^']*)' is invalid\. Allowed choices are (.+)\.$/.exec(sentence);
  const guess = choice ? suggest(choice[1]!, choice[2]!.split(', ')) : undefined;
  if (guess) rest.unshift(`Did you mean ${guess}?`);
  const name = command.parent ? `littlepipes ${command.name()}` : 'littlepipes';
  return `littlepipes: ${sentence}${/[.?!]$/.test(sentence) ? '' : '.'}${rest.length > 0 ? ` ${rest.join(' ')}` : ''} See ${name} --help.`;
}

/** Prints an error as one line, in the words of `command` (and its stack with --verbose); returns the exit code it means. */
function reportError(error: unknown, output: Output, verbose: boolean, command: Command | undefined): number {
  if (error instanceof CommanderError) {
    // Commander has printed its own message (and help) already.
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  output.err(`littlepipes: ${inCommandLineWords(error, command)}`);
  if (verbose && error instanceof Error && error.stack) output.err(error.stack);
  const code = littlepipesCode(error);
  if (code === undefined) {
    if (!verbose) output.err('(run again with --verbose for the stack)');
    return EXIT.failed;
  }
  if (code === 'ERR_RUN_CANCELLED') return EXIT.interrupted;
  return USAGE_ERRORS.has(code) ? EXIT.usage : EXIT.failed;
}

function processOutput(): Output {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    color: Boolean(process.stdout.isTTY) && !('NO_COLOR' in process.env),
  };
}
