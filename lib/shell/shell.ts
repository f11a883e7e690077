import fs from 'node:fs';
import path from 'node:path';
import type readline from 'node:readline';
import { readlineModule } from '../deferred-packages.js';
import { InvalidOptionError, littlepipesCode, LittlepipesError } from '../errors.js';
import { describeValue, rejectUnknownOptions, suggest } from '../names.js';
import type { Pipeline } from '../pipeline.js';
import type { ExecuteOptions } from '../pipeline-options.js';
import { terminalProgress } from '../report/progress.js';
import type { RunReport } from '../run/outcome.js';
import { builtinCommands } from './commands.js';
import { completeWord, normalizeName, splitWords, withSpaceIfOne, wordsForCompletion } from './line.js';

export { ShellUsageError } from './commands.js';

/** A command of the shell: what `help` says about it, and what it does. */
export interface ShellCommand {
  /** One line for `help`. */
  help: string;
  /**
   * Its arguments, as `help` shows them.
   * @example 'NAME [--no-deps]'
   */
  usage?: string;
  /** Other names it answers to, such as `quit` and `q` for `exit`. */
  aliases?: readonly string[];
  /**
   * What Tab completes after the command name: `'tasks'` for the pipeline's task names, or a
   * function giving the words (flags, task names, levels...).
   */
  complete?: 'tasks' | ((shell: Shell) => Iterable<string>);
  /**
   * Does the command. `args` are the words typed after its name (quotes group words, so a task
   * named `Monthly sales` is typed `"Monthly sales"`). An error thrown here is shown, and the
   * shell goes on.
   */
  run(args: string[], shell: Shell): unknown;
}

/** Options of a shell. */
export interface ShellOptions {
  /** The pipeline the shell works on. The shell does not close it: whoever made it does. */
  pipeline: Pipeline;
  /**
   * The first line printed.
   * @default 'littlepipes shell · <pipeline name>'
   */
  title?: string;
  /**
   * Printed under the title: what the tool is for, how to get help. `''` prints nothing.
   * @default '<n> tasks. Type help for the commands, Tab to complete. exit or Ctrl-D leaves.'
   */
  header?: string;
  /**
   * @default '<pipeline name>> '
   */
  prompt?: string;
  /** @default process.stdin */
  input?: NodeJS.ReadableStream;
  /** Where everything is written, progress of runs included. @default process.stdout */
  output?: NodeJS.WritableStream;
  /**
   * Show the stack of errors that are not littlepipes' own (a bug in a custom command).
   * @default false
   */
  verbose?: boolean;
  /**
   * Colour the output.
   * @default true when the output is a terminal and NO_COLOR is not set
   */
  color?: boolean;
  /**
   * A file that keeps the command history between sessions (the newest last, as shells keep
   * theirs). Without it, history lasts for the session.
   * @example new Shell({ pipeline, historyFile: path.join(pipeline.cacheDir, 'shell-history') })
   */
  historyFile?: string;
}

const SHELL_OPTIONS: readonly string[] = ['pipeline', 'title', 'header', 'prompt', 'input', 'output', 'verbose', 'color', 'historyFile'];
/** Commands kept in the history, in the session and in the history file. */
const HISTORY_SIZE = 500;
const ANSI = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;

/**
 * An interactive shell on a pipeline: list the tasks and whether each is cached, peek at results,
 * run all or one, plan, clear the cache, change the log level. Command names take dashes or
 * underscores; Tab completes commands and task names; Up recalls earlier commands. An error in a
 * command is shown and the shell goes on.
 *
 * Subclass it to build your own tool: set a title, header and prompt, add commands with
 * `this.command(...)` in the constructor (a built-in's name replaces it), and override
 * `startup()` and `shutdown()`.
 *
 * @example
 * import { Shell } from 'littlepipes';
 * import { pipeline } from './pipeline.js';
 *
 * class SalesShell extends Shell {
 *   constructor() {
 *     super({ pipeline, title: 'Sales tool', prompt: 'sales> ' });
 *     this.command('regions', {
 *       help: 'the regions in the latest totals',
 *       run: async (args, shell) => shell.print(Object.keys(await pipeline.getResult('Totals') as object).join(', ')),
 *     });
 *   }
 *   override async startup() { this.print('Connected to the warehouse.'); }
 * }
 *
 * await new SalesShell().run(); // resolves when the user types exit, quit or q, or presses Ctrl-D
 * await pipeline.close();
 */
export class Shell {
  /** The pipeline the shell works on. */
  readonly pipeline: Pipeline;
  /** The first line printed (see the options). */
  readonly title: string;
  /** Printed under the title. */
  readonly header: string;
  readonly prompt: string;
  /** Whether errors that are not littlepipes' own show their stack. */
  readonly verbose: boolean;
  /** Whether the output is coloured. */
  readonly color: boolean;
  /** When true, `execute` prints one summary line instead of progress and the report table. Toggled by `quiet`. */
  quiet = false;
  readonly #input: NodeJS.ReadableStream;
  readonly #output: NodeJS.WritableStream;
  readonly #historyFile: string | undefined;
  /** Commands by canonical name (lower case, dashes). */
  readonly #commands = new Map<string, ShellCommand>();
  /** Every name a command answers to (canonical or alias, normalised), to its canonical name. */
  readonly #names = new Map<string, string>();
  #readline: readline.Interface | undefined;
  /** The run `execute()` has going, so Ctrl-C can cancel it. */
  #run: AbortController | undefined;
  /** A command is being carried out (Ctrl-C then cancels a run rather than editing the line). */
  #busy = false;
  /** Ctrl-C was pressed on an empty line, and the next one leaves. */
  #interrupted = false;
  /** The user asked to leave: lines still queued are not carried out. */
  #ended = false;
  /** readline has closed (the user left, or the input ended): no more prompts. */
  #closed = false;

  constructor(options: ShellOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', `new Shell(): options must be an object with a pipeline, got ${describeValue(options)}.`);
    rejectUnknownOptions('new Shell()', options, SHELL_OPTIONS);
    const { pipeline } = options;
    if (typeof pipeline !== 'object' || pipeline === null || typeof pipeline.execute !== 'function') {
      throw new InvalidOptionError('pipeline', `new Shell(): pipeline must be a Pipeline, got ${describeValue(pipeline)}.`);
    }
    for (const key of ['title', 'header', 'prompt', 'historyFile'] as const) {
      if (options[key] !== undefined && typeof options[key] !== 'string') throw new InvalidOptionError(key, `new Shell(): ${key} must be a string, got ${describeValue(options[key])}.`);
    }
    this.pipeline = pipeline;
    this.#input = options.input ?? process.stdin;
    this.#output = options.output ?? process.stdout;
    this.title = options.title ?? `littlepipes shell · ${pipeline.name}`;
    this.header = options.header ?? defaultHeader(pipeline);
    this.prompt = options.prompt ?? `${pipeline.name}> `;
    this.verbose = options.verbose ?? false;
    this.color = options.color ?? (isTerminal(this.#output) && !('NO_COLOR' in process.env));
    this.#historyFile = options.historyFile;
    for (const [name, command] of Object.entries(builtinCommands())) this.command(name, command);
  }

  /**
   * Adds a command, or replaces the one of that name. Names are matched ignoring case, and
   * `_` and `-` alike, so `list_tasks` runs `list-tasks`.
   *
   * @example
   * shell.command('rows', {
   *   help: 'how many rows a task returned',
   *   usage: 'NAME',
   *   complete: 'tasks',
   *   run: async ([name], shell) => shell.print(String((await shell.pipeline.getResult(name!) as unknown[]).length)),
   * });
   */
  command(name: string, command: ShellCommand): this {
    if (typeof name !== 'string' || !/^[\w-]+$/.test(name)) throw new InvalidOptionError('name', `shell.command(): a command name is one word of letters, digits, - and _, got ${describeValue(name)}.`);
    if (typeof command !== 'object' || command === null || typeof command.run !== 'function' || typeof command.help !== 'string') {
      throw new InvalidOptionError('command', `shell.command("${name}"): expected { help: string, run(args, shell) }, got ${describeValue(command)}.`);
    }
    const canonical = normalizeName(name);
    const previous = this.#commands.get(canonical);
    // A replaced command's aliases would otherwise keep pointing at the new one, which may not want them.
    for (const alias of previous?.aliases ?? []) this.#names.delete(normalizeName(alias));
    this.#commands.set(canonical, command);
    this.#names.set(canonical, canonical);
    for (const alias of command.aliases ?? []) this.#names.set(normalizeName(alias), canonical);
    return this;
  }

  /** The commands, by name, in the order they were added. */
  get commands(): ReadonlyMap<string, ShellCommand> {
    return this.#commands;
  }

  /** The command a typed name means (any case, dashes or underscores, or an alias). */
  findCommand(name: string): { name: string; command: ShellCommand } | undefined {
    const canonical = this.#names.get(normalizeName(name));
    return canonical === undefined ? undefined : { name: canonical, command: this.#commands.get(canonical)! };
  }

  /** Called after the title and header, before the first prompt. Override it to connect, load or greet. */
  startup(): void | Promise<void> {}

  /** Called when the user leaves, before `run()` resolves. Override it to clean up. */
  shutdown(): void | Promise<void> {}

  /**
   * Runs the shell until the user leaves (exit, quit, q, Ctrl-D, or Ctrl-C twice on an empty
   * line). Rejects only if `startup()` or `shutdown()` throws; errors in commands are shown.
   */
  async run(): Promise<void> {
    if (this.#readline) throw new LittlepipesError('ERR_SHELL_RUNNING', 'shell.run(): this shell is already running; wait for run() to resolve before running it again.');
    this.#ended = false;
    this.#closed = false;
    const history = this.#readHistory();
    const rl = readlineModule().createInterface({
      input: this.#input,
      output: this.#output,
      prompt: this.prompt,
      completer: (line: string) => this.#complete(line),
      history,
      historySize: HISTORY_SIZE,
      removeHistoryDuplicates: true,
      terminal: isTerminal(this.#output) && isTerminal(this.#input),
    });
    this.#readline = rl;
    this.print(this.paint('bold', this.title));
    if (this.header) this.print(this.header);
    try {
      await this.startup();
    } catch (error) {
      rl.close();
      this.#readline = undefined;
      throw error;
    }
    await new Promise<void>((resolve) => {
      // Lines are carried out one at a time, in order: piped input delivers many at once, and
      // readline keeps emitting lines it has buffered even when paused.
      let queue = Promise.resolve();
      let waiting = 0;
      rl.on('line', (line) => {
        this.#interrupted = false;
        waiting++;
        queue = queue.then(async () => {
          await this.#carryOut(line);
          waiting--;
          if (!this.#closed && waiting === 0) rl.prompt();
        });
      });
      rl.on('SIGINT', () => this.#interrupt());
      rl.on('close', () => {
        // Ctrl-D leaves the cursor after the prompt; the shell's goodbye belongs on its own line.
        if (!this.#ended && isTerminal(this.#output)) this.#output.write('\n');
        this.#closed = true;
        // Piped input ends right after its last line: the lines queued before the end still run.
        void queue.then(() => resolve());
      });
      rl.prompt();
    });
    this.#readline = undefined;
    await this.shutdown();
  }

  /** Ends the shell after the current command, as `exit` does. */
  exit(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#readline?.close();
  }

  /** Writes a line (or lines) to the shell's output. */
  print(text: string): void {
    this.#output.write(`${text}\n`);
  }

  /**
   * Shows an error as the shell does for a command that throws: littlepipes' own errors as their
   * message (they say what is wrong and what to do); others with their name, and with the stack
   * when the shell is verbose.
   */
  printError(error: unknown): void {
    if (littlepipesCode(error) !== undefined) {
      this.print(this.paint('red', (error as Error).message));
    } else if (error instanceof Error) {
      this.print(this.paint('red', `${error.name}: ${error.message}`));
      if (this.verbose && error.stack) this.print(this.paint('dim', error.stack.split('\n').slice(1).join('\n')));
    } else {
      this.print(this.paint('red', `The command threw ${describeValue(error)}, not an Error.`));
    }
  }

  /** The output's width in columns (100 when it is not a terminal), for summaries and tables. */
  get width(): number {
    return (this.#output as { columns?: number }).columns || 100;
  }

  /** `text` in a colour (or bold, or dim) when the shell colours its output. */
  paint(style: keyof typeof ANSI, text: string): string {
    return this.color ? `\u001b[${ANSI[style]}m${text}\u001b[0m` : text;
  }

  /** The pipeline's task names in dependency order; none when the graph is invalid (`validate` says why). */
  taskNames(): string[] {
    try {
      return this.pipeline.tasks.map((task) => task.name);
    } catch {
      return [];
    }
  }

  /**
   * `pipeline.execute(options)`, as the shell runs it: progress and the report table on the
   * shell's output (one summary line when quiet), and Ctrl-C cancels the run. Rejects as
   * `execute()` does (PipelineRunError, RunCancelledError...).
   */
  async execute(options: Omit<ExecuteOptions, 'progress' | 'events'> = {}): Promise<RunReport> {
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    // While ora's spinner runs it reads stdin itself and turns Ctrl-C into a SIGINT for the
    // process, which would otherwise end the shell; here it cancels the run instead.
    const onSignal = () => this.#cancelRun();
    process.on('SIGINT', onSignal);
    this.#run = controller;
    try {
      const total = this.taskNames().length;
      const progress = this.quiet ? undefined : await terminalProgress(total, this.#output as NodeJS.WriteStream);
      const report = await this.pipeline.execute({ ...options, signal, progress: false, events: progress });
      if (this.quiet) this.print(report.summary());
      return report;
    } finally {
      this.#run = undefined;
      process.off('SIGINT', onSignal);
    }
  }

  /** Carries out one typed line; whatever goes wrong is shown and the shell goes on. */
  async #carryOut(line: string): Promise<void> {
    if (this.#ended) return;
    const words = splitWords(line);
    const [name, ...args] = words;
    if (name === undefined) return;
    this.#appendHistory(line.trim());
    const found = this.findCommand(name);
    if (!found) {
      const guess = suggest(normalizeName(name), [...this.#names.keys()]);
      const meant = guess === undefined ? undefined : this.#names.get(guess);
      this.print(this.paint('red', `Unknown command "${name}".${meant ? ` Did you mean "${meant}"?` : ''} Type help for the list.`));
      return;
    }
    this.#busy = true;
    try {
      await found.command.run(args, this);
    } catch (error) {
      this.printError(error);
    } finally {
      this.#busy = false;
    }
  }

  /** Ctrl-C: cancels a run; on a line being typed, clears it; on an empty line, a hint, then leaving. */
  #interrupt(): void {
    const rl = this.#readline;
    if (!rl) return;
    if (this.#busy) {
      if (this.#run) this.#cancelRun();
      else this.print(this.paint('dim', '(Ctrl-C cancels runs; this command finishes by itself.)'));
      return;
    }
    if (rl.line.length > 0) {
      // Ctrl-E then Ctrl-U: to the end of the line, then delete back to its start.
      rl.write(null, { ctrl: true, name: 'e' });
      rl.write(null, { ctrl: true, name: 'u' });
      this.#interrupted = false;
      return;
    }
    if (this.#interrupted) {
      this.#output.write('\n');
      this.exit();
      return;
    }
    this.#interrupted = true;
    this.#output.write('\n');
    this.print(this.paint('dim', '(To leave, type exit or press Ctrl-D, or press Ctrl-C again.)'));
    rl.prompt();
  }

  #cancelRun(): void {
    const run = this.#run;
    if (!run || run.signal.aborted) return;
    // On a terminal the spinner's line is cleared first, so the message does not run into it.
    const clearLine = isTerminal(this.#output) ? '\r\u001b[2K' : '';
    this.print(clearLine + this.paint('yellow', 'Cancelling the run: no new task starts; finished tasks stay cached.'));
    run.abort(new Error('cancelled with Ctrl-C in the shell'));
  }

  /** Tab: command names first, then what the command completes (task names, flags). */
  #complete(line: string): [string[], string] {
    const { words, partial } = wordsForCompletion(line);
    if (words.length === 0) {
      // Answer in the user's style: `list_` completes to `list_tasks`.
      const style = (name: string) => (partial.includes('_') ? name.replaceAll('-', '_') : name);
      const names = [...this.#names.keys()].filter((name) => name.startsWith(normalizeName(partial))).map(style);
      return [withSpaceIfOne(names), partial];
    }
    const command = this.findCommand(words[0]!)?.command;
    if (!command?.complete) return [[], partial];
    try {
      return [completeWord(partial, command.complete === 'tasks' ? this.taskNames() : command.complete(this)), partial];
    } catch {
      // A custom completion that fails should not break typing.
      return [[], partial];
    }
  }

  /** The saved history, newest first as readline wants it. A missing or unreadable file is an empty history. */
  #readHistory(): string[] {
    if (!this.#historyFile) return [];
    try {
      return fs.readFileSync(this.#historyFile, 'utf8').split('\n').filter(Boolean).slice(-HISTORY_SIZE).reverse();
    } catch {
      return [];
    }
  }

  #appendHistory(line: string): void {
    if (!this.#historyFile) return;
    try {
      // What is typed can hold secrets: owner only, like the cache folder it usually sits in.
      fs.mkdirSync(path.dirname(this.#historyFile), { recursive: true, mode: 0o700 });
      fs.appendFileSync(this.#historyFile, `${line}\n`, { mode: 0o600 });
    } catch (error) {
      // Losing history is not worth stopping the command the user typed.
      this.print(this.paint('dim', `(history not saved: ${(error as Error).message})`));
    }
  }
}

function defaultHeader(pipeline: Pipeline): string {
  let count: string;
  try {
    count = `${pipeline.tasks.length} tasks.`;
  } catch {
    count = 'The pipeline is not valid: type validate to see why.';
  }
  return `${count} Type help for the commands, Tab to complete. exit or Ctrl-D leaves.`;
}

function isTerminal(stream: NodeJS.ReadableStream | NodeJS.WritableStream): boolean {
  return Boolean((stream as { isTTY?: boolean }).isTTY);
}
