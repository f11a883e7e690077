import { failureSentence } from './words.js';
import type { RunReport } from './run/outcome.js';

/**
 * Every error littlepipes throws on purpose is a `LittlepipesError` with a stable `code`,
 * so callers can branch on `error.code` rather than on message text.
 *
 * @example
 * try { await pipeline.getResult('Sum'); }
 * catch (error) { if (error instanceof NoFreshResultError) console.log(error.reason); }
 */
export class LittlepipesError extends Error {
  /** A stable identifier for the kind of error, e.g. `ERR_UNKNOWN_TASK`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The `code` of an error littlepipes threw on purpose (`ERR_UNKNOWN_TASK`...), or undefined for
 * any other error. A pipeline module may import another copy of littlepipes than the command
 * line's (a global install running a project's own), whose error classes are other classes: so
 * an error is recognised by its class's name along its prototype chain, and told apart by its
 * code, never by `instanceof` one of this copy's classes.
 */
export function littlepipesCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || typeof (error as { code?: unknown }).code !== 'string') return undefined;
  if (error instanceof LittlepipesError) return error.code;
  for (let proto = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === 'LittlepipesError') return (error as LittlepipesError).code;
  }
  return undefined;
}

/** A task was defined wrongly: a bad name, a reserved or repeated process name, a process that is not a function. */
export class TaskDefinitionError extends LittlepipesError {
  constructor(readonly task: string, message: string) {
    super('ERR_TASK_DEFINITION', message);
  }
}

/** An option passed to a Task, a Pipeline or `execute()` has the wrong type or value. */
export class InvalidOptionError extends LittlepipesError {
  constructor(readonly option: string, message: string) {
    super('ERR_INVALID_OPTION', message);
  }
}

/** An expiry policy was created with arguments it cannot use (unknown weekday, NaN...). */
export class ExpiryPolicyError extends LittlepipesError {
  constructor(message: string) {
    super('ERR_EXPIRY_POLICY', message);
  }
}

/** A different task was added under a name the pipeline already has. */
export class DuplicateTaskError extends LittlepipesError {
  constructor(readonly task: string) {
    super(
      'ERR_DUPLICATE_TASK',
      `The pipeline already has a different task named "${task}". ` +
        `Use pipeline.replace(task) to swap it for the new definition, or give the new task another name.`,
    );
  }
}

/** A task name was given (to getResult, force, only, skip...) that the pipeline does not have. */
export class UnknownTaskError extends LittlepipesError {
  constructor(readonly task: string, readonly where: string, readonly suggestion?: string) {
    super(
      'ERR_UNKNOWN_TASK',
      `${where}: there is no task named "${task}".` +
        (suggestion ? ` Did you mean "${suggestion}"?` : ' Check the spelling against pipeline.tasks.'),
    );
  }
}

/** One problem found while validating the graph. */
export interface ValidationProblem {
  /** The task the problem is about. */
  task: string;
  /** `missing-run`, `unknown-dependency`, `self-dependency` or `cycle`. */
  kind: 'missing-run' | 'unknown-dependency' | 'self-dependency' | 'cycle';
  message: string;
}

/** The graph is not runnable; `problems` lists every problem found, not just the first. */
export class PipelineValidationError extends LittlepipesError {
  constructor(readonly pipeline: string, readonly problems: ValidationProblem[]) {
    super(
      'ERR_PIPELINE_INVALID',
      `Pipeline "${pipeline}" cannot run; fix ${problems.length === 1 ? 'this problem' : `these ${problems.length} problems`}:\n` +
        problems.map((problem) => `  - ${problem.message}`).join('\n'),
    );
  }
}

/** A process asked `t.result(name)` for a task that is not among its declared dependencies. */
export class UndeclaredDependencyError extends LittlepipesError {
  constructor(readonly task: string, readonly requested: string) {
    super(
      'ERR_UNDECLARED_DEPENDENCY',
      `${task} asked for the result of "${requested}", which is not one of its dependencies. ` +
        `Add "${requested}" to the dependencies of ${task}, so the cache knows ${task} depends on it.`,
    );
  }
}

/** Why a task has no result that can be served. */
export type NoResultReason = 'never ran' | 'failed last run' | 'expired' | 'out of date';

/** `getResult(name)` found no fresh result; `reason` says why and the message says what to do. */
export class NoFreshResultError extends LittlepipesError {
  constructor(readonly task: string, readonly reason: NoResultReason, detail: string) {
    super('ERR_NO_FRESH_RESULT', `${task} has no fresh result: ${detail}. Run pipeline.execute() to compute it.`);
  }
}

/** A task returned a value the cache cannot store without changing it (a function, a symbol, a class instance no format handles). */
export class UncacheableResultError extends LittlepipesError {
  constructor(readonly task: string, readonly path: string, readonly problem: string, readonly formats: readonly string[] = []) {
    super(
      'ERR_UNCACHEABLE_RESULT',
      `${task}: ${path} ${problem}. Results must survive a round trip through the cache: ` +
        `return plain data (objects, arrays, Map, Set, Date, typed arrays...), a table (apache-arrow, arquero, nodejs-polars), ` +
        `or a class that a format handles: define one with defineFormat({ name, version, handles, encode, decode }) and pass it as new Pipeline(name, { formats: [...] }).` +
        (formats.length > 0 ? ` Formats registered: ${formats.join(', ')}.` : ''),
    );
  }
}

/** A cached result holds a value of a package that the project no longer has installed. The entry is kept. */
export class PeerPackageError extends LittlepipesError {
  constructor(readonly packageName: string, readonly purpose: string) {
    super(
      'ERR_PEER_PACKAGE',
      `${purpose} needs the package ${packageName}, which this project does not have installed. Install it (npm install ${packageName}) and try again; the cached result is kept.`,
    );
  }
}

/**
 * A cached result could not be read back: its bytes are damaged, or its format's decode threw.
 * The entry is set aside, so the next run computes the task again; never a wrong value.
 */
export class DamagedResultError extends LittlepipesError {
  constructor(readonly task: string, readonly detail: string) {
    super('ERR_DAMAGED_RESULT', `The cached result of ${task} cannot be read back: ${detail}. It was set aside; run the pipeline again to compute ${task} anew.`);
  }
}

/**
 * Change detection could not analyse a source file a task's code reaches: it cannot be read, does
 * not parse, or imports a file that is not there. Nothing cached is touched.
 */
export class CodeAnalysisError extends LittlepipesError {
  constructor(readonly file: string, readonly detail: string, readonly task?: string) {
    super(
      'ERR_CODE_ANALYSIS',
      `${task ? `${task}: ` : ''}cannot analyse ${file}: ${detail}. ` +
        'littlepipes reads the source of a task and the helpers it calls to know when they change; fix the file and run again.',
    );
  }
}

/** A task's inputs cannot be read: a file or folder is missing, or a glob matches nothing. Nothing runs, nothing cached is touched. */
export class InputFileError extends LittlepipesError {
  constructor(readonly task: string, readonly path: string, detail: string) {
    super('ERR_INPUT', `${task}: input ${path} ${detail}.`);
  }
}

/** A task ran but did not write an output it declares. Its result is not cached. */
export class OutputFileError extends LittlepipesError {
  constructor(readonly task: string, readonly path: string, detail: string) {
    super('ERR_OUTPUT', `${task}: output ${path} ${detail}.`);
  }
}

/** An attempt of a task took longer than its `timeout`; its signal was aborted. */
export class TaskTimeoutError extends LittlepipesError {
  constructor(readonly task: string, readonly timeout: number) {
    super('ERR_TASK_TIMEOUT', `${task} timed out after ${timeout} ms (its timeout option). Raise the timeout, or make the task faster.`);
  }
}

/** The command line could not find or load the pipeline module, or it exports no pipeline. */
export class PipelineLoadError extends LittlepipesError {
  constructor(readonly file: string | undefined, message: string, options?: { cause?: unknown }) {
    super('ERR_PIPELINE_LOAD', message, options);
  }
}

/** The cache store could not be opened, read or written. */
export class CacheStoreError extends LittlepipesError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CACHE_STORE', message, options);
  }
}

/** At least one task failed. The run went on with the tasks that did not depend on it; `report` has them all. */
export class PipelineRunError extends LittlepipesError {
  constructor(readonly report: RunReport) {
    const names = report.failed.map((task) => task.name);
    const first = report.failed[0];
    super(
      'ERR_RUN_FAILED',
      `${names.length} task${names.length === 1 ? '' : 's'} failed: ${names.join(', ')}.` +
        (first?.error ? ` ${failureSentence(first.name, first.error.message)}` : '') +
        ' See error.report for every task, and the task logs for stacks.',
      { cause: first?.error },
    );
  }
}

/** The run was cancelled through its AbortSignal; nothing half-done was cached. */
export class RunCancelledError extends LittlepipesError {
  constructor(readonly report: RunReport, reason?: unknown) {
    super('ERR_RUN_CANCELLED', 'The run was cancelled; tasks that had finished are cached, nothing half-done is.', {
      cause: reason,
    });
  }
}

/** A result is larger than the configured store takes (stores other than the local one keep results inside their entries). */
export class ResultTooLargeError extends LittlepipesError {
  constructor(readonly task: string, readonly bytes: number, readonly limit: number) {
    super(
      'ERR_RESULT_TOO_LARGE',
      `${task}'s result is ${megabytes(bytes)} serialized; the configured store takes results up to ${megabytes(limit)}. ` +
        'Return something smaller (write the data to a file, list it in outputs and return its path), or use the local cache, which keeps large results as files.',
    );
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A resource a task uses is not provided, could not be made, or is used without being declared in `uses`. */
export class ResourceError extends LittlepipesError {
  constructor(readonly resource: string, message: string, options?: { cause?: unknown }) {
    super('ERR_RESOURCE', message, options);
  }
}

/**
 * An executor cannot run the pipeline's tasks (see the `executor` option of `execute()`): the
 * package it needs is not installed, its Redis cannot be reached, or the pipeline's store is one
 * that other processes cannot read. Raised before any task runs; nothing cached is touched.
 */
export class ExecutorError extends LittlepipesError {
  constructor(readonly executor: string, message: string, options?: { cause?: unknown }) {
    super('ERR_EXECUTOR', message, options);
  }
}

/**
 * A worker of a distributed run cannot run a task as the coordinator defined it: its pipeline
 * module lacks the task, defines it differently (another version of the code), or keeps results
 * elsewhere. The task fails with this error and is not retried.
 */
export class WorkerMismatchError extends LittlepipesError {
  constructor(readonly task: string, message: string) {
    super('ERR_WORKER_MISMATCH', message);
  }
}

/** littlepipes.yaml is not valid: the message names the file, the line and the key, with a suggestion for a typo. */
export class ConfigError extends LittlepipesError {
  constructor(readonly file: string, message: string) {
    super('ERR_CONFIG', message);
  }
}

/**
 * A command task's program (see `commandTask`, `rTask`) exited with a code other than 0, or was
 * killed by a signal littlepipes did not send (the kernel's out-of-memory killer, say). Its result
 * is not cached. The message ends with the last lines of its stderr; its log has every line.
 */
export class CommandFailedError extends LittlepipesError {
  constructor(
    readonly task: string,
    readonly command: readonly string[],
    /** The exit code, or null when a signal ended the program. */
    readonly exitCode: number | null,
    /** The signal that ended the program, or null when it exited. */
    readonly signal: NodeJS.Signals | null,
    /** The last lines the program wrote to stderr (up to 20). */
    readonly stderrTail: string,
  ) {
    super(
      'ERR_COMMAND_FAILED',
      `${task}: ${commandLine(command)} ${exitCode === null ? `was killed by ${signal}` : `exited with code ${exitCode}`}. ` +
        (stderrTail === '' ? 'It wrote nothing to stderr; its stdout is in the task\'s log.' : `The last lines of its stderr:\n${stderrTail}`),
    );
  }
}

/** A command task's program could not be started: it is not installed, not executable, or its working directory is missing. */
export class CommandStartError extends LittlepipesError {
  constructor(readonly task: string, readonly program: string, detail: string, options?: { cause?: unknown }) {
    super('ERR_COMMAND_START', `${task}: cannot start ${program}: ${detail}`, options);
  }
}

/** A command task whose `result` is `'json'` printed something on stdout that is not JSON. Its result is not cached. */
export class CommandOutputError extends LittlepipesError {
  constructor(readonly task: string, readonly command: readonly string[], readonly stdoutStart: string, options?: { cause?: unknown }) {
    super(
      'ERR_COMMAND_OUTPUT',
      `${task}: ${commandLine(command)} ${stdoutStart.trim() === '' ? 'printed nothing on stdout' : 'printed stdout that is not JSON'}, and its result option is 'json'. ` +
        'Print only the JSON on stdout (messages go to stderr), or use result: \'stdout\'.' +
        (stdoutStart.trim() === '' ? '' : ` Its stdout starts:\n${stdoutStart}`),
      options,
    );
  }
}

/** A command as a shell would show it: arguments with spaces or quotes are quoted. */
export function commandLine(command: readonly string[]): string {
  return command.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`)).join(' ');
}

/**
 * A statement of a SQL task's file failed (see `sqlTask`). The message names the file, the
 * statement's number and line, how it starts, and DuckDB's own message, whose `LINE` is counted
 * in the file. The statements before it ran; nothing of the task is cached.
 */
export class SqlStatementError extends LittlepipesError {
  constructor(
    readonly task: string,
    readonly file: string,
    /** Which statement of the file failed, from 1. */
    readonly statement: number,
    /** The line of the file where the statement starts, from 1. */
    readonly line: number,
    /** The statement's text. */
    readonly sql: string,
    /** DuckDB's message. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    const start = sql.replace(/\s+/g, ' ').trim();
    super(
      'ERR_SQL_STATEMENT',
      `${task}: statement ${statement} of ${file} (line ${line}), ${start.length > 60 ? `${start.slice(0, 60)}…` : start}, failed: ${detail}`,
      options,
    );
  }
}
