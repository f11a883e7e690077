import path from 'node:path';
import { InvalidOptionError } from '../errors.js';
import { describeValue, rejectUnknownOptions } from '../names.js';
import type { AnyTask, Task } from '../task.js';
import { type CommandResult, type CommandTaskOptions, type CommandTaskResult, KNOWN_COMMAND_TASK_OPTIONS, commandTask } from './command-task.js';

/** Options of `rTask`: those of `commandTask` (the script is its second argument), and R's own. */
export interface RTaskOptions extends Omit<CommandTaskOptions, 'script'> {
  /**
   * Arguments after the script, which it reads with `commandArgs(trailingOnly = TRUE)`. Part of
   * the task's fingerprint.
   * @default []
   * @example rTask('Fit', 'r/fit.R', { args: ['--model', 'glm'] })
   */
  args?: readonly string[];
  /**
   * Run R with `--vanilla`: without the user's and the site's `.Rprofile` and `.Renviron`, so a
   * cached result does not depend on a profile littlepipes cannot see. `false` reads them, as an
   * renv project needs (it activates itself from `.Rprofile`); list `.Rprofile` in `sources` then,
   * so a change to it re-runs the task.
   * @default true
   */
  vanilla?: boolean;
}

/**
 * A task that runs an R script with `Rscript` (Debian's `r-base-core`). It is `commandTask` with
 * the script as the file fingerprinted: editing the script re-runs the task. The script reads its
 * params as JSON from the environment variable LITTLEPIPES_PARAMS, and prints its result on stdout.
 *
 * @example
 * // r/fit.R:
 * //   params <- jsonlite::fromJSON(Sys.getenv("LITTLEPIPES_PARAMS"))
 * //   data <- read.csv(jsonlite::fromJSON(Sys.getenv("LITTLEPIPES_INPUTS"))[1])
 * //   model <- lm(y ~ x, data = data[data$year >= params$since, ])
 * //   cat(jsonlite::toJSON(as.list(coef(model)), auto_unbox = TRUE))
 * const fit = rTask('Fit', 'r/fit.R', { inputs: 'data/sales.csv', params: { since: 2020 }, result: 'json' });
 * @example
 * // The JSON typed, for the tasks that read it, as commandTask<Result>() does:
 * const fit = rTask<{ x: number }>()('Fit', 'r/fit.R', { inputs: 'data/sales.csv', result: 'json' });
 */
export function rTask<Result>(): RTaskOfJson<Result>;
export function rTask<Name extends string, R extends CommandResult = 'stdout'>(name: Name, script: string, options?: RTaskOptions & { result?: R }): Task<Name, {}, CommandTaskResult<R>>;
export function rTask(...args: [] | [name: string, script: string, options?: RTaskOptions]): RTaskOfJson<unknown> | AnyTask {
  if (args.length === 0) return (name, script, options) => rTask(name, script, options) as never;
  return rScriptTask(...args);
}

/** `rTask` for a script whose JSON output the compiler is told, as `rTask<Result>()` returns it (see CommandTaskOfJson). */
export type RTaskOfJson<Result> = <Name extends string>(name: Name, script: string, options: RTaskOptions & { result: 'json' }) => Task<Name, {}, Result>;

function rScriptTask(name: string, script: string, options: RTaskOptions = {}): AnyTask {
  const where = `Task "${String(name)}"`;
  if (typeof script !== 'string' || script.trim() === '') {
    throw new InvalidOptionError('script', `${where}: rTask needs the path of an R script, such as 'r/fit.R', got ${describeValue(script)}.`);
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError('options', `${where}: options must be an object, got ${describeValue(options)}.`);
  }
  rejectUnknownOptions(where, options, [...KNOWN_COMMAND_TASK_OPTIONS.filter((option) => option !== 'script'), 'args', 'vanilla']);
  const { args = [], vanilla = true, ...rest } = options;
  if (!Array.isArray(args) || args.some((arg) => typeof arg !== 'string')) {
    throw new InvalidOptionError('args', `${where}: args must be an array of strings, got ${describeValue(args)}.`);
  }
  if (typeof vanilla !== 'boolean') throw new InvalidOptionError('vanilla', `${where}: vanilla must be true or false, got ${describeValue(vanilla)}.`);
  // The script is named relative to the working directory, as every path option is; Rscript finds
  // it from the program's own working directory.
  const forRscript = rest.cwd === undefined ? script : path.relative(path.resolve(rest.cwd), path.resolve(script));
  return commandTask(name, ['Rscript', ...(vanilla ? ['--vanilla'] : []), forRscript, ...args], { ...rest, script });
}
