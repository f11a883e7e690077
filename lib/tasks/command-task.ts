import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { CommandFailedError, CommandOutputError, CommandStartError, InvalidOptionError, commandLine } from '../errors.js';
import { childProcessModule, readlineModule } from '../deferred-packages.js';
import { describeValue, rejectUnknownOptions } from '../names.js';
import { type AnyTask, Task, type TaskContextBase, type TaskOptions } from '../task.js';

/** What a command task returns: its stdout as text, its stdout parsed as JSON, or only that it succeeded. */
export type CommandResult = 'stdout' | 'json' | 'none';

/** The result type of a command task whose `result` option is `R`; `Json` is what its JSON output is typed as. */
export type CommandTaskResult<R extends CommandResult, Json = unknown> = R extends 'json' ? Json : R extends 'none' ? { exitCode: 0 } : string;

/**
 * `commandTask` for a program whose JSON output the compiler is told, as `commandTask<Result>()`
 * returns it: `result: 'json'` is required, and the task's result is `Result`, and so is
 * `t.result(task)` in the tasks that depend on it. The program decides what it prints; the type is
 * your word for it, checked nowhere else.
 */
export type CommandTaskOfJson<Result> = <Name extends string>(
  name: Name,
  command: readonly string[],
  options: CommandTaskOptions & { result: 'json' },
) => Task<Name, {}, Result>;

/** Options of `commandTask`: every Task option, and how to run the program. */
export interface CommandTaskOptions extends TaskOptions {
  /**
   * The file whose content is the task's code: an edit re-runs the task, and the reason names it
   * (`code changed: file tile.py`). Relative to the working directory, like `inputs`. By default,
   * the first argument that is an existing file (found from `cwd`), else the program itself when
   * it is a file in the project (`./run.sh`). `false`: none. More files (a helper the script
   * loads) go in `sources`.
   * @example commandTask('Tile', ['python3', '-m', 'tiles'], { script: 'tiles/__main__.py' })
   */
  script?: string | false;
  /**
   * The program's working directory, relative to the working directory. The paths in
   * LITTLEPIPES_INPUTS and LITTLEPIPES_OUTPUTS are given relative to it.
   * @default the working directory
   */
  cwd?: string;
  /**
   * Environment variables for the program, over the process's own (`undefined` removes one).
   * Unlike params they are not part of the task's fingerprint, nor kept in the cache: the place
   * for secrets and for settings that do not change the result.
   * @example commandTask('Fetch', ['python3', 'fetch.py'], { env: { API_TOKEN: process.env.API_TOKEN } })
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * What the task returns: `'stdout'`, the program's stdout with surrounding whitespace trimmed
   * (what `$(...)` gives in a shell); `'json'`, its stdout parsed as JSON; `'none'`, `{ exitCode: 0 }`,
   * for a program whose product is its output files (a result that never changes lets the tasks
   * after it stay cached). Part of the task's fingerprint.
   * @default 'stdout'
   */
  result?: CommandResult;
  /**
   * When the task is cancelled or times out, the program gets SIGTERM, and SIGKILL this many
   * milliseconds later if it is still running.
   * @default 5000
   */
  killGraceMs?: number;
}

const COMMAND_OPTIONS = ['script', 'cwd', 'env', 'result', 'killGraceMs'] as const;
/** Every Task option: a Record, so that an option Task gains and this lacks fails to type-check. */
const TASK_OPTIONS: Record<keyof TaskOptions, true> = {
  dependencies: true, requires: true, stage: true, optional: true, map: true, expire: true, inputs: true, allowEmptyInputs: true,
  outputs: true, params: true, retries: true, sources: true, uses: true, timeout: true, description: true, local: true,
};
/** Every option commandTask takes, for its did-you-mean suggestions. */
export const KNOWN_COMMAND_TASK_OPTIONS: readonly string[] = [...Object.keys(TASK_OPTIONS), ...COMMAND_OPTIONS];

/**
 * Params keys that carry the command into the task's fingerprint. The process that runs the
 * program is the same code for every command task, so change detection would not see a new
 * argument; params are the part of the fingerprint a task's options reach, and a change there
 * is named in the plan (`params changed: $command [...] → [...]`). They are not passed to the program.
 */
const COMMAND_KEY = '$command';
const CWD_KEY = '$cwd';
const RESULT_KEY = '$result';
const RESERVED_PARAMS = [COMMAND_KEY, CWD_KEY, RESULT_KEY];

const DEFAULT_KILL_GRACE_MS = 5000;
/** Lines the error of a failed program quotes from the end of its stderr. */
const STDERR_TAIL_LINES = 20;
/** A longer line is cut in the log and in the stderr tail: one huge JSON line should not flood either. */
const LOG_LINE_CHARS = 10_000;
const TAIL_LINE_CHARS = 1_000;
/** How much of a stdout that is not JSON the error shows. */
const STDOUT_START_CHARS = 500;

/** The Debian package that provides a program, for the error when it is missing. */
const DEBIAN_PACKAGES: Readonly<Record<string, string>> = {
  Rscript: 'r-base-core', R: 'r-base-core', python3: 'python3', python: 'python-is-python3', perl: 'perl',
  ruby: 'ruby', julia: 'julia', java: 'default-jre', duckdb: 'duckdb', sqlite3: 'sqlite3', psql: 'postgresql-client',
};

const WINDOWS = process.platform === 'win32';

/** What a command task's process needs to run its program, fixed when the task is made. */
interface CommandSpec {
  argv: readonly string[];
  cwd: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  result: CommandResult;
  killGraceMs: number;
  /** The task's dependencies as defined; in a run, those whose result is there are passed on. */
  dependencies: readonly string[];
}

/**
 * A task that runs a program: Python, R, a shell script, any executable. It is an ordinary Task,
 * so it works wherever tasks do (pipeline.add, plan, the command line), with the same options:
 * `inputs`, `outputs`, `params`, `dependencies`, `retries`, `timeout`, `expire`...
 *
 * - The script file (`tile.py` here) is part of the task's code: editing it re-runs the task.
 * - The program's environment has LITTLEPIPES_TASK (the task's name), LITTLEPIPES_PARAMS (its
 *   params as JSON), LITTLEPIPES_INPUTS and LITTLEPIPES_OUTPUTS (JSON arrays of paths), and, when
 *   the task has dependencies, LITTLEPIPES_UPSTREAM: the path of a JSON file of their results by
 *   task name (a file, because results can be larger than an environment variable may be). A
 *   mapped task's program also gets LITTLEPIPES_ITEM (JSON) and LITTLEPIPES_ITEM_INDEX.
 * - Every line of its stdout and stderr goes to the task's log (stderr at warn level).
 * - A code other than 0 fails the task with a CommandFailedError carrying the code and the last
 *   lines of stderr; a program that is not installed is a CommandStartError saying what to install.
 * - Cancelling the run, or the task's timeout, stops the program and everything it started
 *   (SIGTERM to its process group, SIGKILL `killGraceMs` later).
 *
 * @example
 * const tile = commandTask('Tile', ['python3', 'tile.py'], {
 *   inputs: 'data/map.tif',
 *   outputs: 'out/tiles',
 *   params: { zoom: 12 },
 *   result: 'json', // tile.py prints {"tiles": 140}
 * });
 * pipeline.add(tile);
 * @example
 * // The JSON typed, for the tasks that read it: called with no arguments, commandTask<Result>() is the same function with a Result.
 * const tile = commandTask<{ tiles: number }>()('Tile', ['python3', 'tile.py'], { result: 'json' });
 * new Task('Count', { dependencies: [tile] }).process('run', (t) => t.result(tile).tiles);
 */
export function commandTask<Result>(): CommandTaskOfJson<Result>;
export function commandTask<Name extends string, R extends CommandResult = 'stdout'>(name: Name, command: readonly string[], options?: CommandTaskOptions & { result?: R }): Task<Name, {}, CommandTaskResult<R>>;
export function commandTask(...args: [] | [name: string, command: readonly string[], options?: CommandTaskOptions]): CommandTaskOfJson<unknown> | AnyTask {
  if (args.length === 0) return (name, command, options) => commandTask(name, command, options) as never;
  return programTask(...args);
}

function programTask(name: string, command: readonly string[], options: CommandTaskOptions = {}): AnyTask {
  const where = `Task "${String(name)}"`;
  if (!Array.isArray(command) || command.length === 0 || command.some((word) => typeof word !== 'string' || word.includes('\0')) || command[0] === '') {
    throw new InvalidOptionError('command', `${where}: the command must be an array of strings, the program first, such as ['python3', 'tile.py'], got ${describeValue(command)}.`);
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError('options', `${where}: options must be an object, got ${describeValue(options)}.`);
  }
  rejectUnknownOptions(where, options, KNOWN_COMMAND_TASK_OPTIONS);
  const { script, cwd, env = {}, result = 'stdout', killGraceMs = DEFAULT_KILL_GRACE_MS, ...taskOptions } = options;
  if (cwd !== undefined && (typeof cwd !== 'string' || cwd.trim() === '')) {
    throw new InvalidOptionError('cwd', `${where}: cwd must be a folder path, got ${describeValue(cwd)}.`);
  }
  if (typeof env !== 'object' || env === null || Array.isArray(env) || Object.values(env).some((value) => value !== undefined && typeof value !== 'string')) {
    throw new InvalidOptionError('env', `${where}: env must be an object of strings, such as { LANG: 'C' }, got ${describeValue(env)}.`);
  }
  if (!['stdout', 'json', 'none'].includes(result)) {
    throw new InvalidOptionError('result', `${where}: result must be 'stdout', 'json' or 'none', got ${describeValue(result)}.`);
  }
  if (!(typeof killGraceMs === 'number' && killGraceMs >= 0 && Number.isFinite(killGraceMs))) {
    throw new InvalidOptionError('killGraceMs', `${where}: killGraceMs must be a number of milliseconds from 0 up, got ${describeValue(killGraceMs)}.`);
  }
  const params = taskOptions.params ?? {};
  const reserved = RESERVED_PARAMS.find((key) => typeof params === 'object' && params !== null && key in params);
  if (reserved) throw new InvalidOptionError('params', `${where}: the param name ${reserved} is taken by commandTask, which keeps the command in it. Rename the param.`);
  const scriptFile = scriptOf(where, command, cwd, script);
  const task = new Task(name, {
    ...taskOptions,
    // Spread only when it is an object, so a bad params value reaches Task's own check and message.
    params: typeof params === 'object' && params !== null && !Array.isArray(params)
      ? { ...params, [COMMAND_KEY]: [...command], ...(cwd === undefined ? {} : { [CWD_KEY]: cwd }), [RESULT_KEY]: result }
      : params,
    sources: withScript(scriptFile, taskOptions.sources),
  });
  const spec: CommandSpec = { argv: [...command], cwd, env: { ...env }, result, killGraceMs, dependencies: task.dependencies };
  // The process reads params, inputs and upstream results from `t`, never from this closure: a
  // profile's params, or a run that routes around an optional task, reach the program.
  return task.process('run', (t, ...item: unknown[]) => runCommand(t, spec, item));
}

/** The sources option with the script first; a value that is not a path list goes to Task as given, for its own message. */
function withScript(script: string | undefined, sources: unknown): TaskOptions['sources'] {
  if (script === undefined) return sources as TaskOptions['sources'];
  if (sources === undefined) return [script];
  if (typeof sources === 'string') return [script, sources];
  return Array.isArray(sources) ? [script, ...(sources as string[])] : (sources as TaskOptions['sources']);
}

/** The script a command runs (see the `script` option), relative to the working directory. */
function scriptOf(where: string, command: readonly string[], cwd: string | undefined, script: unknown): string | undefined {
  if (script === false) return undefined;
  if (script !== undefined) {
    if (typeof script !== 'string' || script.trim() === '') throw new InvalidOptionError('script', `${where}: script must be a file path or false, got ${describeValue(script)}.`);
    return script;
  }
  const base = path.resolve(cwd ?? '.');
  const project = (file: string) => {
    const relative = path.relative(process.cwd(), file);
    return relative.startsWith('..') || path.isAbsolute(relative) ? undefined : relative;
  };
  for (const word of command.slice(1)) {
    if (word.startsWith('-') || word === '') continue;
    const file = path.resolve(base, word);
    if (isFile(file)) return project(file) ?? file;
  }
  // The program itself, when it is the project's own script; never an interpreter such as /usr/bin/python3.
  const program = path.resolve(base, command[0]!);
  return command[0]!.includes('/') && isFile(program) ? project(program) : undefined;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

async function runCommand(t: TaskContextBase, spec: CommandSpec, mapped: unknown[]): Promise<unknown> {
  t.signal.throwIfAborted();
  const program = spec.argv[0]!;
  const cwd = path.resolve(spec.cwd ?? '.');
  if (!fs.statSync(cwd, { throwIfNoEntry: false })?.isDirectory()) {
    throw new CommandStartError(t.name, program, `its working directory ${spec.cwd} is not a folder. Create it, or fix the cwd option.`);
  }
  // Paths as the program sees them, from its own working directory.
  const fromCwd = (file: string) => path.relative(cwd, path.resolve(file)) || '.';
  const params = Object.fromEntries(Object.entries(t.params).filter(([key]) => !RESERVED_PARAMS.includes(key)));
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...spec.env })) if (value !== undefined) env[key] = value;
  Object.assign(env, {
    LITTLEPIPES_TASK: t.name,
    LITTLEPIPES_PARAMS: JSON.stringify(params),
    LITTLEPIPES_INPUTS: JSON.stringify(t.inputs.map(fromCwd)),
    LITTLEPIPES_OUTPUTS: JSON.stringify(t.outputs.map(fromCwd)),
  });
  if (mapped.length > 0) {
    env.LITTLEPIPES_ITEM = asJson(t.name, program, 'the item it maps over', mapped[0]);
    env.LITTLEPIPES_ITEM_INDEX = String(mapped[1]);
  }
  const upstream = spec.dependencies.filter((dependency) => t.has(dependency));
  let folder: string | undefined;
  try {
    if (upstream.length > 0) {
      // Readable by the owner only, as the cache is: results may be private.
      folder = fs.mkdtempSync(path.join(os.tmpdir(), 'littlepipes-upstream-'));
      const file = path.join(folder, 'upstream.json');
      const results = Object.fromEntries(upstream.map((dependency) => [dependency, t.result(dependency)]));
      fs.writeFileSync(file, asJson(t.name, program, 'the results of its dependencies', results), { mode: 0o600 });
      env.LITTLEPIPES_UPSTREAM = file;
    }
    const stdout = await runProgram(t, spec, cwd, env);
    if (spec.result === 'none') return { exitCode: 0 };
    if (spec.result === 'stdout') return stdout.trim();
    try {
      return JSON.parse(stdout) as unknown;
    } catch (error) {
      const start = stdout.length > STDOUT_START_CHARS ? `${stdout.slice(0, STDOUT_START_CHARS)}…` : stdout;
      throw new CommandOutputError(t.name, spec.argv, start, { cause: error });
    }
  } finally {
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Runs the program to its end: resolves with its stdout (empty when the result does not need it),
 * or rejects with why it failed, or with the signal's reason once a cancelled program has ended.
 */
function runProgram(t: TaskContextBase, spec: CommandSpec, cwd: string, env: Record<string, string>): Promise<string> {
  const [program, ...args] = spec.argv as [string, ...string[]];
  t.log.info({ command: spec.argv, cwd: path.relative(process.cwd(), cwd) || '.' }, `running ${commandLine(spec.argv)}`);
  return new Promise((resolve, reject) => {
    // Its own process group, so that cancelling stops what the program started too: a shell
    // script killed by SIGTERM leaves the command it was waiting for running, and a pipeline
    // (`sh -c 'a | b'`) is several processes.
    const child = childProcessModule().spawn(program, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: !WINDOWS, windowsHide: true });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      t.signal.removeEventListener('abort', stop);
      outcome();
    };
    const stop = () => terminate(child, spec.killGraceMs);
    if (child.pid !== undefined) {
      track(child);
      t.signal.addEventListener('abort', stop, { once: true });
    }
    const stdout: Buffer[] = [];
    if (spec.result !== 'none') child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    const tail: string[] = [];
    eachLine(child.stdout, (line) => t.log.info({ stream: 'stdout' }, clip(line, LOG_LINE_CHARS)));
    eachLine(child.stderr, (line) => {
      t.log.warn({ stream: 'stderr' }, clip(line, LOG_LINE_CHARS));
      tail.push(clip(line, TAIL_LINE_CHARS));
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
    });
    // Once the program runs, 'close' tells how it ended; an 'error' before that means it never started.
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) settle(() => reject(startError(t.name, program, cwd, error)));
    });
    child.on('close', (code, signal) => {
      settle(() => {
        untrack(child);
        if (t.signal.aborted) reject(t.signal.reason);
        else if (code === 0) {
          t.log.info({ exitCode: 0 }, `${program} exited with code 0`);
          resolve(Buffer.concat(stdout).toString('utf8'));
        } else reject(new CommandFailedError(t.name, spec.argv, code, signal, tail.join('\n')));
      });
    });
  });
}

/** Calls `onLine` for every line of a stream, decoded as UTF-8 (a character split between chunks stays whole). */
function eachLine(stream: Readable, onLine: (line: string) => void): void {
  readlineModule().createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', onLine);
}

function clip(line: string, limit: number): string {
  return line.length > limit ? `${line.slice(0, limit)}… (${line.length - limit} more characters)` : line;
}

/** The error for a program that could not be started, saying what to do. */
function startError(task: string, program: string, cwd: string, error: NodeJS.ErrnoException): CommandStartError {
  const where = path.resolve(cwd, program);
  if (error.code === 'ENOENT' && program.includes('/') && isFile(where)) {
    return new CommandStartError(task, program, 'the file is there, but the interpreter its #! line names is not. Install it, or fix the #! line.', { cause: error });
  }
  if (error.code === 'ENOENT') {
    const debian = DEBIAN_PACKAGES[path.basename(program)];
    return new CommandStartError(
      task,
      program,
      program.includes('/')
        ? `there is no file ${program} (from ${cwd}).`
        : `there is no such program on the PATH. Install it${debian ? ` (on Debian and Ubuntu: apt-get install ${debian})` : ''}, or give its full path in the command.`,
      { cause: error },
    );
  }
  if (error.code === 'EACCES') {
    return new CommandStartError(task, program, `it is not executable. Make it executable (chmod +x ${program}), or run it through its interpreter, such as ['bash', '${program}'].`, { cause: error });
  }
  if (error.code === 'E2BIG') {
    return new CommandStartError(task, program, 'its arguments and environment are too large (an environment variable may hold at most 128 KiB): pass long lists, such as thousands of inputs, as a folder or a file instead.', { cause: error });
  }
  return new CommandStartError(task, program, error.message, { cause: error });
}

/**
 * Process groups of programs that are running, or were told to stop and may not have yet. When
 * Node exits (process.exit, or a Ctrl-C littlepipes passes on), nothing is left to wait for them,
 * so they are killed.
 */
const live = new Set<ChildProcess>();
/** Programs told to stop, whose escalation timer decides when they are no longer tracked. */
const stopping = new WeakSet<ChildProcess>();
let exitHook = false;

function track(child: ChildProcess): void {
  if (!exitHook) {
    exitHook = true;
    process.on('exit', killRunningPrograms);
  }
  live.add(child);
}

/** Kills the process groups of the programs still running, for a process about to end. */
export function killRunningPrograms(): void {
  for (const running of live) signalGroup(running, 'SIGKILL');
}

function untrack(child: ChildProcess): void {
  // A program that was told to stop may have left children that ignore SIGTERM: its escalation timer untracks it.
  if (!stopping.has(child)) live.delete(child);
}

/** SIGTERM to the program and what it started; SIGKILL after the grace period to whatever is still there. */
function terminate(child: ChildProcess, graceMs: number): void {
  signalGroup(child, 'SIGTERM');
  stopping.add(child);
  const timer = setTimeout(() => {
    signalGroup(child, 'SIGKILL');
    live.delete(child);
  }, graceMs);
  // The timer must not keep Node alive on its own; the exit hook covers an exit before it fires.
  timer.unref();
  child.once('close', () => {
    if (!groupAlive(child)) {
      clearTimeout(timer);
      live.delete(child);
    }
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (WINDOWS) child.kill(signal);
    else process.kill(-child.pid!, signal);
  } catch {
    // ESRCH: the group has ended already.
  }
}

function groupAlive(child: ChildProcess): boolean {
  if (WINDOWS) return child.exitCode === null && child.signalCode === null;
  try {
    process.kill(-child.pid!, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A value as JSON for a program: Map as an object (or a list of pairs when a key is not a
 * string), Set and typed arrays as arrays, BigInt as a string. Dates become ISO strings, as
 * JSON.stringify makes them.
 */
function asJson(task: string, program: string, what: string, value: unknown): string {
  try {
    return JSON.stringify(value, (_, item: unknown) => {
      if (item instanceof Map) return [...item.keys()].every((key) => typeof key === 'string') ? Object.fromEntries(item) : [...item];
      if (item instanceof Set) return [...item];
      if (typeof item === 'bigint') return item.toString();
      if (ArrayBuffer.isView(item) && !(item instanceof DataView)) return Array.from(item as unknown as ArrayLike<number>);
      return item;
    }) ?? 'null';
  } catch (error) {
    throw new CommandStartError(task, program, `cannot pass it ${what} as JSON: ${(error as Error).message}.`, { cause: error });
  }
}
