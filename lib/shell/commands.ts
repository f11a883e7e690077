import path from 'node:path';
import { tableModule } from '../deferred-packages.js';
import { littlepipesCode, LittlepipesError, type PipelineRunError } from '../errors.js';
import { failureSentence } from '../words.js';
import { formatMs } from '../words.js';
import { bytes, summarizeValue } from '../report/value-summary.js';
import { suggest } from '../names.js';
import { LOG_LEVELS } from '../pipeline-options.js';
import { describeReason } from '../plan/freshness.js';
import type { TaskPlan } from '../plan/plan.js';
import type { AnyTask } from '../task.js';
import type { Shell, ShellCommand } from './shell.js';

/**
 * A command typed wrongly: a missing or extra argument, an unknown flag or task. The shell shows
 * its message, which says how to type the command; custom commands may throw it too.
 *
 * @example
 * if (args.length !== 1) throw new ShellUsageError('rows takes one task name: rows NAME');
 */
export class ShellUsageError extends LittlepipesError {
  constructor(message: string) {
    super('ERR_SHELL_USAGE', message);
  }
}


/** The commands every shell starts with, in the order `help` lists them. */
export function builtinCommands(): Record<string, ShellCommand> {
  return {
    'list-tasks': {
      help: 'every task, in the order they run: cached, stale (and why) or not cached',
      run: listTasks,
    },
    peek: {
      help: "a task's cached result, summarised",
      usage: 'NAME',
      complete: 'tasks',
      run: async (args, shell) => {
        const name = oneTask(shell, 'peek', args);
        let value: unknown;
        try {
          value = await shell.pipeline.getResult(name);
        } catch (error) {
          throw inShellWords(error, name);
        }
        shell.print(summarizeValue(value, { color: shell.color, width: shell.width }));
      },
    },
    info: {
      help: 'what a task is: description, dependencies, processes, expiry, cache state, log file',
      usage: 'NAME',
      complete: 'tasks',
      run: info,
    },
    'list-cache': {
      help: 'what the cache holds; --all adds entries of tasks the pipeline no longer defines',
      usage: '[--all]',
      complete: () => ['--all'],
      run: async (args, shell) => {
        const { flags, names } = parseArgs('list-cache', args, { '--all': 'flag' });
        if (names.length > 0) throw new ShellUsageError(`list-cache takes no task names: list-cache [--all]`);
        await listCache(shell, flags['--all'] === true);
      },
    },
    'clear-cache': {
      help: 'drop cached results: of the named tasks, of every task (.), or everything, history included (--hard)',
      usage: 'NAME... | . | --hard',
      complete: (shell) => ['.', '--hard', ...shell.taskNames()],
      run: clearCache,
    },
    execute: {
      help: 'run every task that is not fresh; Ctrl-C cancels',
      usage: '[--force [NAME...]] [--skip NAME...]',
      complete: (shell) => ['--force', '--skip', ...shell.taskNames()],
      run: async (args, shell) => {
        const { flags, names } = parseArgs('execute', args, { '--force': 'names', '--skip': 'names' });
        if (names.length > 0) {
          throw new ShellUsageError(`execute runs every task that is not fresh and takes no task names; to run ${names[0]} and what it needs, type execute-one ${quoted(names[0]!)}.`);
        }
        const force = flags['--force'];
        const skip = flags['--skip'];
        if (skip === true) throw new ShellUsageError('--skip needs task names: execute --skip NAME...');
        for (const name of [...(Array.isArray(force) ? force : []), ...(skip ?? [])]) knownTask(shell, name);
        await runInShell(shell, { force: force ?? false, skip: skip ?? [] });
      },
    },
    'execute-one': {
      help: 'run one task, and what it needs that is not fresh; --no-deps runs just it, on cached dependencies',
      usage: 'NAME [--no-deps] [--force]',
      complete: (shell) => ['--no-deps', '--force', ...shell.taskNames()],
      run: async (args, shell) => {
        const { flags, names } = parseArgs('execute-one', args, { '--no-deps': 'flag', '--force': 'flag' });
        const name = oneTask(shell, 'execute-one', names);
        // Skipping every other task is what "just it" means: a skipped task's fresh cached result
        // still serves it, and without one it is blocked rather than run.
        const skip = flags['--no-deps'] ? shell.taskNames().filter((other) => other !== name) : [];
        await runInShell(shell, { only: [name], skip, force: flags['--force'] ? [name] : false });
      },
    },
    plan: {
      help: 'what execute would run, and why; with a task name, that task in a sentence',
      usage: '[NAME]',
      complete: 'tasks',
      run: async (args, shell) => {
        if (args.length > 1) throw new ShellUsageError('plan takes at most one task name: plan [NAME]');
        if (args.length === 1) {
          shell.print(await shell.pipeline.explain(knownTask(shell, args[0]!)));
          return;
        }
        const plan = await shell.pipeline.plan();
        shell.print(plan.summary());
        for (const task of plan.tasks) {
          const line = planLine(task);
          if (line) shell.print(`  ${task.name}: ${line}`);
        }
      },
    },
    validate: {
      help: 'check the graph: every dependency defined, no cycles, every task has a run process',
      run: (args, shell) => {
        if (args.length > 0) throw new ShellUsageError('validate takes no arguments');
        // Reading `tasks` builds the graph, and throws PipelineValidationError listing every problem.
        const count = shell.pipeline.tasks.length;
        shell.print(shell.paint('green', `Valid: ${count} task${count === 1 ? '' : 's'}, every dependency defined, no cycles.`));
      },
    },
    log: {
      help: 'the least severe level task logs write (trace, debug, info, warn, error, fatal, silent)',
      usage: '[LEVEL]',
      complete: () => LOG_LEVELS,
      run: (args, shell) => {
        if (args.length > 1) throw new ShellUsageError(`log takes one level: log ${LOG_LEVELS.join('|')}`);
        if (args.length === 1) shell.pipeline.logLevel = args[0]!.toLowerCase();
        const [first] = shell.taskNames();
        const folder = first === undefined ? '' : `, to ${path.dirname(shell.pipeline.logFile(first))}${path.sep}`;
        shell.print(`Task logs write ${shell.pipeline.logLevel} and above${folder}`);
      },
    },
    quiet: {
      help: 'switch the progress and report table of execute off (one summary line) or back on',
      usage: '[on|off]',
      complete: () => ['on', 'off'],
      run: (args, shell) => {
        const [value] = args;
        if (args.length > 1 || (value !== undefined && value !== 'on' && value !== 'off')) throw new ShellUsageError('quiet takes on, off or nothing (to switch): quiet [on|off]');
        shell.quiet = value === undefined ? !shell.quiet : value === 'on';
        shell.print(shell.quiet ? 'Quiet: execute prints one summary line.' : 'Not quiet: execute shows progress and the report table.');
      },
    },
    help: {
      help: 'the commands, or one command',
      usage: '[COMMAND]',
      complete: (shell) => shell.commands.keys(),
      run: help,
    },
    exit: {
      help: 'leave the shell (so does Ctrl-D)',
      aliases: ['quit', 'q'],
      run: (args, shell) => shell.exit(),
    },
  };
}

/** What `list-tasks` says of a task's plan: its state, and why. */
function stateOf(task: TaskPlan): ['cached' | 'stale' | 'not cached' | string, string] {
  switch (task.action) {
    case 'cached':
      return ['cached', ''];
    case 'run':
      // A task that never ran has nothing cached to be stale; any other reason means a result is there but out of date.
      return task.reasons[0]?.kind === 'never ran' ? ['not cached', ''] : ['stale', task.reasons.map(describeReason).join('; ')];
    case 'wait':
      return ['stale', `waits on ${task.waitsOn!.join(', ')}, which will run`];
    default:
      return [task.action, task.reasons.map(describeReason).join('; ')];
  }
}

async function listTasks(args: string[], shell: Shell): Promise<void> {
  if (args.length > 0) throw new ShellUsageError('list-tasks takes no arguments; for one task, type info NAME or plan NAME.');
  const plan = await shell.pipeline.plan();
  const descriptions = new Map(shell.pipeline.tasks.map((task) => [task.name, task.description ?? '']));
  const colours = { cached: 'green', stale: 'yellow', 'not cached': 'red' } as const;
  const rows = plan.tasks.map((task) => {
    const [state, why] = stateOf(task);
    const colour = colours[state as keyof typeof colours];
    return [task.name, colour ? shell.paint(colour, state) : state, why, descriptions.get(task.name) ?? ''];
  });
  // Columns with nothing in them only take room (no task stale, none described).
  const head = ['task', 'state', 'why', 'description'];
  const shown = head.map((_, column) => column < 2 || rows.some((row) => row[column] !== ''));
  shell.print(table(shell, head.filter((_, column) => shown[column]), rows.map((row) => row.filter((_, column) => shown[column]))));
}

async function info(args: string[], shell: Shell): Promise<void> {
  const name = oneTask(shell, 'info', args);
  const { pipeline } = shell;
  const task: AnyTask = pipeline.getTask(name);
  const dependents = pipeline.tasks.filter((other) => other.dependencies.includes(name)).map((other) => other.name);
  const [cached] = (await pipeline.listCache()).filter((listing) => listing.task === name);
  const list = (items: readonly string[]) => (items.length > 0 ? items.join(', ') : '–');
  const lines: [string, string][] = [
    ['depends on', list(task.dependencies)],
    ['needed by', list(dependents)],
    ['processes', list([...task.processes.keys()])],
    ['expires', task.expire.description],
    ['params', Object.keys(task.params).length > 0 ? JSON.stringify(task.params) : '–'],
    ['inputs', list(task.inputs)],
    ['outputs', list(task.outputs)],
    ['cache', cached ? `${cached.state}, stored ${when(cached.storedAt)}, ${bytes(cached.bytes)}, took ${formatMs(cached.durationMs)}` : 'nothing stored'],
    ['plan', await pipeline.explain(name)],
    ['log', pipeline.logFile(name)],
  ];
  shell.print(shell.paint('bold', name));
  shell.print(`  ${task.description ?? shell.paint('dim', '(no description: add one with new Task(name, { description }))')}`);
  for (const [label, text] of lines) shell.print(`  ${label.padEnd(12)}${text}`);
}

async function listCache(shell: Shell, all: boolean): Promise<void> {
  const listings = await shell.pipeline.listCache({ all });
  if (listings.length === 0) {
    shell.print(`The cache holds nothing for ${shell.pipeline.name}.`);
    return;
  }
  const rows = listings.map((listing) => [
    listing.defined ? listing.task : `${listing.task} ${shell.paint('dim', '(removed)')}`,
    listing.state === 'failed' ? `failed: ${listing.error ?? ''}` : listing.state,
    when(listing.storedAt),
    bytes(listing.bytes),
    formatMs(listing.durationMs),
    listing.expiresAt ? when(listing.expiresAt) : listing.expiry,
  ]);
  shell.print(table(shell, ['task', 'state', 'stored at', 'size', 'took', 'expires'], rows));
}

async function clearCache(args: string[], shell: Shell): Promise<void> {
  const { pipeline } = shell;
  const { flags, names } = parseArgs('clear-cache', args, { '--hard': 'flag' });
  if (flags['--hard']) {
    if (names.length > 0) throw new ShellUsageError('clear-cache --hard clears everything; name tasks or pass --hard, not both.');
    const removed = await pipeline.purge();
    shell.print(`Cleared everything of ${pipeline.name}: ${removed} cached result${removed === 1 ? '' : 's'} (removed tasks' too) and the run history.`);
    return;
  }
  if (names.length === 0) throw new ShellUsageError('Name the tasks to clear: clear-cache NAME..., or clear-cache . for every task, or clear-cache --hard for everything.');
  if (names.includes('.')) {
    if (names.length > 1) throw new ShellUsageError('clear-cache . clears every task; name tasks or type ., not both.');
    await pipeline.clear();
    const count = shell.taskNames().length;
    shell.print(`Cleared the cached results of all ${count} task${count === 1 ? '' : 's'}.`);
    return;
  }
  for (const name of names) knownTask(shell, name);
  await pipeline.clear(names);
  shell.print(`Cleared ${names.join(', ')}.`);
}

function help(args: string[], shell: Shell): void {
  if (args.length > 1) throw new ShellUsageError('help takes one command name: help [COMMAND]');
  if (args.length === 1) {
    const found = shell.findCommand(args[0]!);
    if (!found) throw new ShellUsageError(`There is no command "${args[0]}". Type help for the list.`);
    const { name, command } = found;
    shell.print(`${shell.paint('bold', [name, command.usage].filter(Boolean).join(' '))}\n  ${command.help}`);
    if (command.aliases?.length) shell.print(`  also: ${command.aliases.join(', ')}`);
    return;
  }
  const entries = [...shell.commands].map(([name, command]) => [[name, ...(command.aliases ?? [])].join(', ') + (command.usage ? ` ${command.usage}` : ''), command.help] as const);
  const usageWidth = Math.max(...entries.map(([usage]) => usage.length));
  // Descriptions wrap under themselves, or start on the next line when the usages leave them little room.
  const indent = usageWidth + 4 <= shell.width / 2 ? usageWidth + 4 : 6;
  for (const [usage, text] of entries) {
    const lines = wrap(text, Math.max(20, shell.width - indent - 1));
    const first = indent === 6 ? [`  ${shell.paint('cyan', usage)}`, ...lines.map((line) => ' '.repeat(indent) + line)] :
      [`  ${shell.paint('cyan', usage.padEnd(usageWidth))}  ${lines[0]}`, ...lines.slice(1).map((line) => ' '.repeat(indent) + line)];
    shell.print(first.join('\n'));
  }
  shell.print(shell.paint('dim', 'Dashes or underscores: list_tasks is list-tasks. Tab completes commands and task names; Up recalls earlier commands.'));
}

/** Runs the pipeline; a failed task is one line naming it and its log, as the table above has the rest. */
async function runInShell(shell: Shell, options: { force?: boolean | string[]; skip?: string[]; only?: string[] }): Promise<void> {
  try {
    await shell.execute(options);
  } catch (error) {
    if (littlepipesCode(error) !== 'ERR_RUN_FAILED') throw error;
    const { report } = error as PipelineRunError;
    const [first] = report.failed;
    const names = report.failed.map((task) => task.name);
    throw new LittlepipesError('ERR_RUN_FAILED', `${names.length} task${names.length === 1 ? '' : 's'} failed: ${names.join(', ')}.` +
      (first ? ` ${failureSentence(first.name, first.error?.message ?? first.reason)} Its log, with the stack: ${shell.pipeline.logFile(first.name)}` : ''));
  }
}

/** A run-state line of `plan` for a task that will not simply be served; undefined for cached ones. */
function planLine(task: TaskPlan): string | undefined {
  switch (task.action) {
    case 'run':
      return `will run (${task.reasons.map(describeReason).join('; ')})`;
    case 'wait':
      return `waits on ${task.waitsOn!.join(', ')}; re-runs only if a result changes`;
    case 'blocked':
      return 'blocked';
    default:
      return undefined;
  }
}

/**
 * Flags and the other words of a command's arguments. A `names` flag takes the words after it,
 * up to the next flag; given alone (`--force`) it is `true`.
 */
function parseArgs(command: string, args: string[], spec: Record<string, 'flag' | 'names'>): { flags: Record<string, true | string[]>; names: string[] } {
  const collected: Record<string, string[]> = {};
  const names: string[] = [];
  let collecting: string[] | undefined;
  for (const arg of args) {
    if (!arg.startsWith('--')) {
      (collecting ?? names).push(arg);
      continue;
    }
    const kind = spec[arg];
    if (!kind) {
      const known = Object.keys(spec);
      const guess = suggest(arg, known);
      throw new ShellUsageError(`${command} has no option ${arg}.${guess ? ` Did you mean ${guess}?` : known.length > 0 ? ` Its options: ${known.join(', ')}.` : ''}`);
    }
    collected[arg] ??= [];
    collecting = kind === 'names' ? collected[arg] : undefined;
  }
  const flags = Object.fromEntries(Object.entries(collected).map(([flag, words]) => [flag, words.length > 0 ? words : true] as const));
  return { flags, names };
}

/** The one task name a command takes, checked. */
function oneTask(shell: Shell, command: string, args: string[]): string {
  if (args.length !== 1) {
    const usage = shell.findCommand(command)?.command.usage ?? 'NAME';
    throw new ShellUsageError(args.length === 0 ? `${command} needs a task name: ${command} ${usage}` : `${command} takes one task name, got ${args.length} (a name with spaces goes in quotes): ${command} ${usage}`);
  }
  return knownTask(shell, args[0]!);
}

/** The name, if the pipeline has such a task; otherwise an error with the closest name. */
function knownTask(shell: Shell, name: string): string {
  try {
    shell.pipeline.getTask(name);
    return name;
  } catch (error) {
    const suggestion = (error as { suggestion?: unknown }).suggestion;
    if ((error as { code?: unknown }).code !== 'ERR_UNKNOWN_TASK') throw error;
    throw new ShellUsageError(`There is no task named "${name}".${typeof suggestion === 'string' ? ` Did you mean "${suggestion}"?` : ' Type list-tasks to see them.'}`);
  }
}

/** NoFreshResultError tells a script to call execute(); in the shell that is a command. */
function inShellWords(error: unknown, name: string): unknown {
  if ((error as { code?: unknown })?.code !== 'ERR_NO_FRESH_RESULT') return error;
  const message = (error as Error).message.replace(/Run pipeline\.execute\(\) to compute it\.$/, `Type execute-one ${quoted(name)} to compute it.`);
  return new LittlepipesError('ERR_NO_FRESH_RESULT', message);
}

function quoted(name: string): string {
  return /\s/.test(name) ? `"${name}"` : name;
}

function table(shell: Shell, head: string[], rows: string[][]): string {
  const Table = tableModule();
  const output = new Table({
    head,
    style: shell.color ? { head: ['cyan'], compact: true } : { head: [], border: [], compact: true },
  });
  output.push(...rows);
  return output.toString();
}

/** Words into lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line];
}

/** `2024-05-01 14:03`, local time: what a person compares with the clock. */
function when(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
