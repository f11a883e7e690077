import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidOptionError, littlepipesCode } from '../errors.js';
import { inCommandLineWords } from './command-line-words.js';
import type { Pipeline } from '../pipeline.js';
import { type LoadedPipeline, loadPipeline } from './load.js';

/** Where a command writes, and whether it may colour what it writes. */
export interface Output {
  /** The command's result: a table, JSON, a picture. */
  out(text: string): void;
  /** Messages about the command: progress, warnings. */
  err(text: string): void;
  /** Colour is on when stdout is a terminal and NO_COLOR is unset (and --no-color was not given). */
  color: boolean;
}

/** What every command receives: the output, and the pipeline, loaded on first use. */
export interface CommandContext {
  output: Output;
  /** Loads the pipeline module named by the global options; the CLI closes it when the command ends. */
  load(): Promise<LoadedPipeline>;
  /** The global options: --pipeline FILE, --verbose. */
  globals(): GlobalOptions;
  /** Sets the exit code of the command (the highest one set wins). */
  exit(code: number): void;
}

export interface GlobalOptions {
  pipeline?: string;
  verbose?: boolean;
  color?: boolean;
}

/** Exit codes, as scripts and CI read them. */
export const EXIT = {
  ok: 0,
  /** A task failed, or `plan --check` found work to do. */
  failed: 1,
  /** Bad usage or an invalid pipeline. */
  usage: 2,
  /** Interrupted by Ctrl-C (128 + SIGINT), as shells report it. */
  interrupted: 130,
} as const;

/** A command registers itself on the program with what it needs. */
export type CommandModule = (program: Command, context: CommandContext) => void;

/**
 * The message for an `--html FILE` whose folder does not exist, or undefined when it does: checked
 * before any work, since the page is only written once the work is under way.
 */
export function htmlFolderProblem(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  const folder = path.dirname(path.resolve(file));
  return fs.existsSync(folder) ? undefined : `littlepipes: --html ${file}: the folder ${folder} does not exist. Create it, or write the page elsewhere.`;
}

/** Splits names given as `a,b` or as separate arguments, as users type both. */
export function taskNames(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((value) => value.split(',')).map((name) => name.trim()).filter(Boolean);
}

/** The flags that choose what a run (or the plan of one) covers: `--only`, `--skip` and `--no-deps`. */
export interface SelectionFlags {
  only?: string[];
  skip?: string[];
  /** False with `--no-deps`. */
  deps?: boolean;
}

/**
 * The tasks a command is asked to run, as `execute()` options. Tasks named as arguments or with
 * `--only` are targets: they run with what they need, as `only` means in the API. `--no-deps`
 * runs just them: every other task is skipped, so its cached result serves them (as the shell's
 * `execute-one NAME --no-deps` does).
 */
export function selectionOptions(pipeline: Pipeline, command: string, targets: readonly string[], flags: SelectionFlags): { only?: string[]; skip: string[] } {
  const only = [...new Set([...taskNames(targets), ...taskNames(flags.only)])];
  const skip = taskNames(flags.skip);
  if (flags.deps !== false) return { ...(only.length > 0 ? { only } : {}), skip };
  if (only.length === 0) {
    throw new InvalidOptionError('deps', `--no-deps runs just the tasks named, on their cached dependencies: name them, as in \`littlepipes ${command} Report --no-deps\`.`);
  }
  return { only, skip: [...skip, ...pipeline.tasks.map((task) => task.name).filter((name) => !only.includes(name))] };
}

/**
 * A task's cached result for a command that shows or writes it, or undefined when it has no
 * fresh one: then the reason is printed in the command line's words (`littlepipes run TASK`,
 * not `pipeline.execute()`), after `prefix`, and the exit code is set.
 */
export async function cachedResultForCommand(context: CommandContext, pipeline: Pipeline, task: string, profile: string | undefined, prefix: string): Promise<{ value: unknown } | undefined> {
  try {
    return { value: await pipeline.getResult(task, profile ? { profile } : {}) };
  } catch (error) {
    // Checked by code: the pipeline module may use another copy of littlepipes than the command's.
    if (littlepipesCode(error) !== 'ERR_NO_FRESH_RESULT') throw error;
    context.output.err(`${prefix}: ${inCommandLineWords(error, undefined)}`);
    context.exit(EXIT.failed);
    return undefined;
  }
}
