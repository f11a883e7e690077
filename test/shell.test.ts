import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI, makeProject } from './cli/project.js';
import { temporaryFolder } from './helpers.js';

/**
 * The shell is tested as a person uses it: in a real terminal (tmux), typing keys and reading
 * the screen. Each test has its own tmux session and project folder, so they run side by side.
 */

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('..', import.meta.url));
// The built package, as a user's launcher imports it (npm test builds it first): compiling lib/
// with tsx in every terminal made eighteen shells starting at once take 15 s on two cores.
const LIB = path.join(REPO, 'dist', 'index.js');
const TSX = fileURLToPath(import.meta.resolve('tsx'));
/** The socket of a tmux server of this test file's own (so the user's sessions are never touched), in a temporary folder. */
let socket: string;
/** How long to wait for text to appear before failing with the screen. */
const TIMEOUT_MS = 15_000;
/** How long a shell may take to start: on a loaded two-core machine, Node with tsx needs seconds. */
const STARTUP_TIMEOUT_MS = 60_000;
/** Terminals open at once: each starting shell takes a core for about a second. */
const TERMINALS_AT_ONCE = 4;
/** A stack trace line: what the shell never shows for littlepipes' own errors. */
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

const SALES = `
import { Pipeline, Task } from '${LIB}';

type Row = { region: string; amount: number };
const load = new Task('Load', { description: 'Reads the raw sales rows.' })
  .process('run', (t) => {
    t.log.debug('debug line from Load');
    return [{ region: 'north', amount: 10 }, { region: 'south', amount: 5 }, { region: 'north', amount: 7 }, { region: 'east', amount: 1 }];
  });
const clean = new Task('Clean', { dependencies: ['Load'], description: 'Drops rows under the minimum.', params: { minimum: 2 } })
  .process('run', (t) => t.result<Row[]>('Load').filter((row) => row.amount >= 2));
const totals = new Task('Totals', { dependencies: ['Clean'] })
  .process('run', (t) => {
    const totals: Record<string, number> = {};
    for (const row of t.result<Row[]>('Clean')) totals[row.region] = (totals[row.region] ?? 0) + row.amount;
    return totals;
  });
const report = new Task('Monthly Report', { dependencies: ['Totals'] })
  .process('run', (t) => Object.entries(t.result<Record<string, number>>('Totals')).map(([region, total]) => region + ': ' + total).join('; '));

export const pipeline = new Pipeline('Sales', { cacheDir: '.cache' }).add(load, clean, totals, report);
if (process.env.WITH_OLD) pipeline.add(new Task('Old').process('run', () => 'left behind'));
`;

const TROUBLES = `
import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, Task } from '${LIB}';

export const pipeline = new Pipeline('Troubles', { cacheDir: '.cache' }).add(
  new Task('Slow').process('run', async (t) => { await sleep(60_000, undefined, { signal: t.signal }); return 1; }),
  new Task('Broken').process('run', () => { throw new Error('no region column'); }),
);
`;

/** Starts the shell on the project's pipeline; says so when it has ended. */
const PLAIN_LAUNCHER = `
import { Shell } from '${LIB}';
import { pipeline } from './pipeline.ts';

await new Shell({ pipeline, historyFile: process.env.HISTORY_FILE }).run();
await pipeline.close();
console.log('[shell ended]');
// Should the process not exit, the failing test's screen says what keeps it alive.
setTimeout(() => console.log('[still running: ' + process.getActiveResourcesInfo().join(', ') + ']'), 3000).unref();
`;

const SUBCLASS_LAUNCHER = `
import { Shell, ShellUsageError } from '${LIB}';
import { pipeline } from './pipeline.ts';

class ToolShell extends Shell {
  constructor() {
    super({ pipeline, title: 'Sales tool', header: 'For the monthly close.', prompt: 'tool$ ', verbose: Boolean(process.env.SHELL_VERBOSE) });
    this.command('count_rows', {
      help: 'how many rows a task returned',
      usage: 'NAME',
      complete: 'tasks',
      run: async (args, shell) => {
        if (args.length !== 1) throw new ShellUsageError('count-rows takes one task name');
        const rows = (await pipeline.getResult(args[0]!)) as unknown[];
        shell.print(args[0] + ' returned ' + rows.length + ' rows');
      },
    });
    this.command('oops', { help: 'a command with a bug', run: () => { throw new TypeError('rows is not iterable'); } });
  }

  override async startup() {
    this.print('Warehouse connected.');
  }

  override async shutdown() {
    this.print('Warehouse disconnected.');
  }
}

await new ToolShell().run();
await pipeline.close();
console.log('[shell ended]');
// Should the process not exit, the failing test's screen says what keeps it alive.
setTimeout(() => console.log('[still running: ' + process.getActiveResourcesInfo().join(', ') + ']'), 3000).unref();
`;

/** A project folder with a pipeline module and a launcher, as a user writes them. */
function project(pipelineSource = SALES, launcher = PLAIN_LAUNCHER): string {
  const folder = temporaryFolder('littlepipes-shell-');
  fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ type: 'module' }));
  fs.writeFileSync(path.join(folder, 'pipeline.ts'), pipelineSource);
  fs.writeFileSync(path.join(folder, 'launch.ts'), launcher);
  return folder;
}

function tmux(...args: string[]): Promise<{ stdout: string }> {
  return run('tmux', ['-S', socket, ...args]);
}

let sessions = 0;

/** A terminal running one command, 160×50, driven by keys and read from its screen. */
class Terminal {
  private constructor(readonly session: string, readonly prompt: string) {}

  /**
   * Runs `command` in `cwd` in a new terminal and waits for the shell's first prompt. After the
   * command the terminal prints its exit status and stays open: tmux may drop the last output of
   * a terminal that closes as soon as its process ends.
   */
  static async start(cwd: string, command: string, prompt = 'Sales> ', env: Record<string, string> = {}): Promise<Terminal> {
    const terminal = new Terminal(`shell-${++sessions}`, prompt);
    const environment = Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
    await tmux('new-session', '-d', '-s', terminal.session, '-x', '160', '-y', '50', '-c', cwd, ...environment, `${command}; echo "[exit status $?]"; read _`);
    await terminal.waitFor((screen) => terminal.promptLines(screen) > 0, 'the first prompt', STARTUP_TIMEOUT_MS);
    return terminal;
  }

  /** Starts the launcher of `folder` with tsx. */
  static launch(folder: string, prompt?: string, env?: Record<string, string>): Promise<Terminal> {
    return Terminal.start(folder, `node --import ${TSX} launch.ts`, prompt, env);
  }

  /** Types text as it is (key names such as Up are not interpreted). */
  async type(text: string): Promise<void> {
    await tmux('send-keys', '-t', this.session, '-l', '--', text);
  }

  /** Presses keys by name: Enter, Tab, Up, C-c, C-d. */
  async press(...keys: string[]): Promise<void> {
    await tmux('send-keys', '-t', this.session, ...keys);
  }

  /** Everything the terminal shows and has scrolled away, wrapped lines joined. */
  async screen(): Promise<string> {
    const { stdout } = await tmux('capture-pane', '-p', '-J', '-S', '-', '-t', this.session);
    return stdout.replace(/\n+$/, '');
  }

  /** The line the cursor is on, as the user sees it while typing. */
  async currentLine(): Promise<string> {
    const { stdout } = await tmux('display-message', '-p', '-t', this.session, '#{cursor_y}');
    const { stdout: visible } = await tmux('capture-pane', '-p', '-t', this.session);
    return visible.split('\n')[Number(stdout.trim())] ?? '';
  }

  /** Waits until `test` holds for the screen; on timeout, fails showing it. */
  async waitFor(test: RegExp | ((screen: string) => boolean), what = String(test), timeoutMs = TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      if (typeof test === 'function' ? test(screen) : test.test(screen)) return screen;
      if (Date.now() > deadline) assert.fail(`Timed out after ${timeoutMs} ms waiting for ${what}. The terminal shows:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits until the line the cursor is on matches (what Tab and Up leave there). */
  async waitForLine(expected: string): Promise<void> {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const line = await this.currentLine();
      if (line.trimEnd() === expected.trimEnd()) return;
      if (Date.now() > deadline) assert.fail(`Timed out waiting for the line ${JSON.stringify(expected)}; it is ${JSON.stringify(line)}. The terminal shows:\n${await this.screen()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  promptLines(screen: string): number {
    return screen.split('\n').filter((line) => line.startsWith(this.prompt) || line === this.prompt.trimEnd()).length;
  }

  /**
   * Types `line` (if given), presses Enter, and returns what the command printed: the lines
   * between its prompt line and the next prompt.
   */
  async enter(line = ''): Promise<string> {
    if (line) await this.type(line);
    const before = this.promptLines(await this.screen());
    await this.press('Enter');
    const screen = await this.waitFor((text) => this.promptLines(text) > before, `the prompt after ${JSON.stringify(line)}`);
    const lines = screen.split('\n');
    const prompts = lines.flatMap((text, index) => (text.startsWith(this.prompt) || text === this.prompt.trimEnd() ? [index] : []));
    return lines.slice(prompts[before - 1]! + 1, prompts[before]).join('\n');
  }

  /** Waits for the process to end; resolves to its exit status, which the terminal's shell prints after it. */
  async exitStatus(): Promise<number> {
    const screen = await this.waitFor(/^\[exit status \d+\]$/m, 'the process to end');
    return Number(/^\[exit status (\d+)\]$/m.exec(screen)![1]);
  }

  /** Leaves with `keys` (typed text then Enter, or a key such as C-d) and checks the process ended cleanly. */
  async leaveWith(keys: string): Promise<string> {
    if (keys.startsWith('C-')) await this.press(keys);
    else {
      await this.type(keys);
      await this.press('Enter');
    }
    assert.equal(await this.exitStatus(), 0);
    const screen = await this.screen();
    assert.match(screen, /\[shell ended\]/);
    return screen;
  }
}

/**
 * A table row starting with these cells: a string is a whole cell, a pattern the start of one
 * (`row('Load', /skipped/)` matches `│ Load   │ skipped: not selected`).
 */
function row(...cells: (string | RegExp)[]): RegExp {
  const source = cells.map((cell, index) => {
    if (typeof cell !== 'string') return cell.source;
    const escaped = cell.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return index === cells.length - 1 ? `${escaped} ` : escaped;
  });
  return new RegExp(`│ ${source.join(' +│ ')}`);
}

before(async () => {
  try {
    await run('tmux', ['-V']);
  } catch {
    throw new Error('The shell tests need tmux, to type into a real terminal. Run scripts/setup-test-tools.sh (it installs tmux), then run the tests again.');
  }
  // Not temporaryFolder(): its clean-up, registered in a hook, would remove the socket before the tests run.
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'littlepipes-tmux-'));
  const config = path.join(folder, 'tmux.conf');
  // Keep the server up between sessions; keep enough scrollback for a whole test's screens.
  fs.writeFileSync(config, 'set -g exit-empty off\nset -g history-limit 10000\n');
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The shell is tested as a person sees it: a spinner, not CI's plain lines; the test's own cache folder.
  for (const key of ['CI', 'NO_COLOR', 'LITTLEPIPES_DIR', 'NODE_OPTIONS']) delete env[key];
  socket = path.join(folder, 'tmux.sock');
  await run('tmux', ['-S', socket, '-f', config, 'start-server'], { env });
});

after(async () => {
  await tmux('kill-server').catch(() => {});
  fs.rmSync(path.dirname(socket), { recursive: true, force: true });
});

describe('the shell in a terminal', { concurrency: TERMINALS_AT_ONCE }, () => {
  test('shows the title, header and prompt; list-tasks says not cached, then cached after execute; quit leaves', async () => {
    const terminal = await Terminal.launch(project());
    const start = await terminal.screen();
    assert.match(start, /^littlepipes shell · Sales$/m);
    assert.match(start, /^4 tasks\. Type help for the commands/m);

    const before = await terminal.enter('list-tasks');
    assert.match(before, row('Load', 'not cached', 'Reads the raw sales rows.'));
    assert.match(before, row('Monthly Report', 'not cached'));
    assert.ok(before.indexOf('Load') < before.indexOf('Clean') && before.indexOf('Clean') < before.indexOf('Totals'), 'tasks in the order they run');

    const executed = await terminal.enter('execute');
    assert.match(executed, /✔ Load done in/);
    assert.match(executed, row('Totals', /ran \(not cached\)/));
    assert.match(executed, /Sales: 4 ran in/);

    const after = await terminal.enter('list_tasks');
    for (const name of ['Load', 'Clean', 'Totals', 'Monthly Report']) assert.match(after, row(name, 'cached'));
    await terminal.leaveWith('quit');
  });

  test('list-tasks marks a task stale, saying why: its code changed, or a task it depends on will run', async () => {
    const folder = project();
    const terminal = await Terminal.launch(folder);
    await terminal.enter('execute');
    await terminal.enter('clear-cache Load');
    const listed = await terminal.enter('list-tasks');
    assert.match(listed, row('Load', 'not cached'));
    assert.match(listed, row('Clean', 'stale', 'waits on Load, which will run'));

    await terminal.enter('execute');
    const file = path.join(folder, 'pipeline.ts');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('row.amount >= 2', 'row.amount >= 3'));
    const edited = await terminal.enter('list-tasks');
    assert.match(edited, row('Load', 'cached'));
    assert.match(edited, row('Clean', 'stale', /code changed[^│]*/));
    await terminal.leaveWith('q');
  });

  test('execute-one runs a task and what it needs; --no-deps runs just it, on cached dependencies', async () => {
    const terminal = await Terminal.launch(project());
    const alone = await terminal.enter('execute-one Clean --no-deps');
    assert.match(alone, row('Load', /skipped/));
    assert.match(alone, row('Clean', /blocked/), 'without a cached Load, Clean cannot run alone');

    const withNeeds = await terminal.enter('execute-one Clean');
    assert.match(withNeeds, row('Load', /ran/));
    assert.match(withNeeds, row('Clean', /ran/));
    assert.match(withNeeds, row('Totals', /skipped/));

    const justTotals = await terminal.enter('execute_one Totals --no-deps');
    assert.match(justTotals, row('Load', /skipped/));
    assert.match(justTotals, row('Clean', /skipped/));
    assert.match(justTotals, row('Totals', /ran \(not cached\)/), 'Clean\'s cached result serves it');

    const forced = await terminal.enter('execute-one Totals --force');
    assert.match(forced, row('Clean', 'cached'));
    assert.match(forced, row('Totals', /ran \(forced\)/));
    await terminal.leaveWith('exit');
  });

  test('execute --force NAME and --skip NAME', async () => {
    const terminal = await Terminal.launch(project());
    await terminal.enter('execute');
    const forced = await terminal.enter('execute --force Load');
    assert.match(forced, row('Load', /ran \(forced\)/));
    assert.match(forced, row('Clean', 'cached'), 'same result: early cutoff');
    const skipped = await terminal.enter('execute --force --skip Totals');
    assert.match(skipped, row('Load', /ran \(forced\)/));
    assert.match(skipped, row('Totals', /skipped/));
    await terminal.leaveWith('q');
  });

  test('peek shows a result summarised; info describes a task; a task with no result says how to compute it', async () => {
    const folder = project();
    const terminal = await Terminal.launch(folder);
    const none = await terminal.enter('peek Clean');
    assert.equal(none, 'Clean has no fresh result: it has never run. Type execute-one Clean to compute it.');

    await terminal.enter('execute');
    const rows = await terminal.enter('peek Load');
    assert.match(rows, /^array of 4 rows × 2 columns$/m);
    assert.match(rows, row('north', '10'));
    const text = await terminal.enter('peek "Monthly Report"');
    assert.match(text, /string of \d+ characters\n'north: 17; south: 5'/);

    const info = await terminal.enter('info Clean');
    assert.match(info, /^Clean\n {2}Drops rows under the minimum\.$/m);
    assert.match(info, /depends on +Load$/m);
    assert.match(info, /needed by +Totals$/m);
    assert.match(info, /processes +run$/m);
    assert.match(info, /expires +never$/m);
    assert.match(info, /params +\{"minimum":2\}$/m);
    assert.match(info, /cache +ok, stored \d{4}-\d\d-\d\d \d\d:\d\d, \d+ B/);
    assert.match(info, /plan +Clean is cached$/m);
    assert.ok(info.includes(`  log         ${path.join(fs.realpathSync(folder), '.cache', 'logs', 'Sales', 'Clean.log')}`), info);
    await terminal.leaveWith('C-d');
  });

  test('list-cache, with --all the entries of a removed task; clear-cache NAME, . and --hard', async () => {
    const folder = project();
    // A run of the pipeline with a task that is since removed leaves its entry in the cache.
    fs.writeFileSync(path.join(folder, 'prepare.ts'), "import { pipeline } from './pipeline.ts';\nawait pipeline.execute({ progress: false });\nawait pipeline.close();\n");
    await run(process.execPath, ['--import', TSX, 'prepare.ts'], { cwd: folder, env: { ...process.env, WITH_OLD: '1' } });
    const terminal = await Terminal.launch(folder);

    const defined = await terminal.enter('list-cache');
    assert.match(defined, row('Load', 'ok', /\d{4}-\d\d-\d\d \d\d:\d\d/, /\d+ B/));
    assert.doesNotMatch(defined, /Old/);
    assert.match(await terminal.enter('list_cache --all'), row('Old (removed)', 'ok'));

    assert.equal(await terminal.enter('clear-cache Load'), 'Cleared Load.');
    assert.doesNotMatch(await terminal.enter('list-cache'), row('Load'));
    assert.equal(await terminal.enter('clear-cache .'), 'Cleared the cached results of all 4 tasks.');
    const left = await terminal.enter('list-cache --all');
    assert.match(left, row('Old (removed)', 'ok'), '. clears the tasks the pipeline defines');
    assert.doesNotMatch(left, row('Clean'));
    assert.equal(await terminal.enter('clear-cache --hard'), "Cleared everything of Sales: 1 cached result (removed tasks' too) and the run history.");
    assert.equal(await terminal.enter('list-cache --all'), 'The cache holds nothing for Sales.');
    assert.match(await terminal.enter('clear-cache'), /^Name the tasks to clear: clear-cache NAME/);
    await terminal.leaveWith('q');
  });

  test('plan says what will run and why; plan NAME explains one task', async () => {
    const terminal = await Terminal.launch(project());
    const fresh = await terminal.enter('plan');
    assert.match(fresh, /^Sales: 4 will run$/m);
    assert.match(fresh, /^ {2}Load: will run \(not cached\)$/m);

    await terminal.enter('execute');
    await terminal.enter('clear-cache Clean');
    const after = await terminal.enter('plan');
    assert.match(after, /^Sales: 1 will run, 2 wait, 1 cached$/m);
    assert.match(after, /^ {2}Totals: waits on Clean/m);
    assert.equal(await terminal.enter('plan Clean'), 'Clean will run: not cached');
    assert.equal(await terminal.enter('plan Load'), 'Load is cached');
    assert.match(await terminal.enter('plan Totals'), /^Totals waits on Clean, which will run \(not cached\); it re-runs only if Clean's result changes$/);
    assert.equal(await terminal.enter('validate'), 'Valid: 4 tasks, every dependency defined, no cycles.');
    await terminal.leaveWith('q');
  });

  test('validate lists every problem of an invalid pipeline, and the shell goes on', async () => {
    const source = `
import { Pipeline, Task } from '${LIB}';
export const pipeline = new Pipeline('Cycle', { cacheDir: '.cache' }).add(
  new Task('A', { dependencies: ['B'] }).process('run', () => 1),
  new Task('B', { dependencies: ['A', 'Nowhere'] }).process('run', () => 2),
);`;
    const terminal = await Terminal.launch(project(source), 'Cycle> ');
    assert.match(await terminal.screen(), /The pipeline is not valid: type validate to see why\./);
    const problems = await terminal.enter('validate');
    assert.match(problems, /^Pipeline "Cycle" cannot run; fix these \d+ problems:/);
    assert.match(problems, /Nowhere/);
    assert.match(problems, /cycle/i);
    assert.match(await terminal.enter('list-tasks'), /Pipeline "Cycle" cannot run/);
    await terminal.leaveWith('q');
  });

  test('an unknown command, a bad task name, a bad option and a failing task each show one line, and the shell goes on', async () => {
    const terminal = await Terminal.launch(project());
    assert.equal(await terminal.enter('lst-tasks'), 'Unknown command "lst-tasks". Did you mean "list-tasks"? Type help for the list.');
    assert.equal(await terminal.enter('frobnicate'), 'Unknown command "frobnicate". Type help for the list.');
    assert.equal(await terminal.enter('peek Clen'), 'There is no task named "Clen". Did you mean "Clean"?');
    assert.equal(await terminal.enter('execute --forse'), 'execute has no option --forse. Did you mean --force?');
    assert.equal(await terminal.enter('execute --skip Totls'), 'There is no task named "Totls". Did you mean "Totals"?');
    assert.match(await terminal.enter('execute Load'), /^execute runs every task that is not fresh and takes no task names; to run Load and what it needs, type execute-one Load\.$/);
    assert.equal(await terminal.enter('peek'), 'peek needs a task name: peek NAME');
    assert.match(await terminal.enter('log loud'), /^Pipeline "Sales": logLevel must be one of trace, debug, info, warn, error, fatal, silent, got "loud" \(string\)\.$/);
    assert.match(await terminal.enter('list-tasks'), row('Load', 'not cached'), 'the shell goes on');
    await terminal.leaveWith('q');
  });

  test('a failing task: the report, then one line naming it and its log, no stack; Ctrl-C cancels a run and the shell goes on', async () => {
    const terminal = await Terminal.launch(project(TROUBLES), 'Troubles> ');
    const failed = await terminal.enter('execute-one Broken');
    assert.match(failed, row('Broken', 'failed: no region column'));
    assert.match(failed, /^1 task failed: Broken\. Broken: no region column\. Its log, with the stack: .*Broken\.log$/m);
    assert.doesNotMatch(failed, STACK_LINE);

    await terminal.type('execute-one Slow');
    const prompts = terminal.promptLines(await terminal.screen());
    await terminal.press('Enter');
    await terminal.waitFor(/running Slow|Slow started/, 'the run to start');
    await terminal.press('C-c');
    const screen = await terminal.waitFor((text) => terminal.promptLines(text) > prompts, 'the prompt after Ctrl-C');
    assert.match(screen, /Cancelling the run: no new task starts; finished tasks stay cached\./);
    assert.match(screen, row('Slow', /cancelled/));
    assert.match(screen, /^The run was cancelled; tasks that had finished are cached, nothing half-done is\.$/m);
    assert.match(await terminal.enter('list-tasks'), row('Slow', 'not cached'), 'the shell goes on');
    await terminal.leaveWith('q');
  });

  test('Ctrl-C clears a line being typed; on an empty line it hints, and a second one leaves', async () => {
    const terminal = await Terminal.launch(project());
    await terminal.type('list-tas');
    await terminal.press('C-c');
    await terminal.waitForLine('Sales> ');
    await terminal.press('C-c');
    await terminal.waitFor(/^\(To leave, type exit or press Ctrl-D, or press Ctrl-C again\.\)$/m, 'the hint');
    assert.match(await terminal.enter('plan Load'), /^Load will run: not cached$/, 'a command after the hint runs as typed');
    await terminal.press('C-c');
    await terminal.waitFor((screen) => screen.split('(To leave').length === 3, 'the second hint');
    await terminal.leaveWith('C-c');
  });

  test('Tab completes commands, with dashes or underscores, then task names (in any case, quoted when they have spaces) and flags', async () => {
    const terminal = await Terminal.launch(project());
    await terminal.type('list-t');
    await terminal.press('Tab');
    await terminal.waitForLine('Sales> list-tasks ');
    await terminal.press('C-u');
    await terminal.type('list_c');
    await terminal.press('Tab');
    await terminal.waitForLine('Sales> list_cache ');
    await terminal.type('--a');
    await terminal.press('Tab');
    await terminal.waitForLine('Sales> list_cache --all ');
    await terminal.press('C-u');

    await terminal.type('info Tot');
    await terminal.press('Tab');
    await terminal.waitForLine('Sales> info Totals ');
    assert.match(await terminal.enter(), /^Totals\n/);

    await terminal.type('peek tot');
    await terminal.press('Tab');
    await terminal.waitForLine('Sales> peek Totals ');
    await terminal.press('C-u');

    await terminal.type('peek Mon');
    await terminal.press('Tab');
    await terminal.waitForLine('Sales> peek "Monthly Report" ');
    assert.match(await terminal.enter(), /^Monthly Report has no fresh result/);

    await terminal.type('execute-one C');
    await terminal.press('Tab');
    await terminal.waitForLine('Sales> execute-one Clean ');
    await terminal.type('--n');
    await terminal.press('Tab');
    await terminal.waitForLine('Sales> execute-one Clean --no-deps ');
    await terminal.press('C-u');

    // Two commands start with "exe": Tab completes what they share, a second Tab lists them.
    await terminal.type('exe');
    await terminal.press('Tab');
    await terminal.waitForLine('Sales> execute');
    await terminal.press('Tab');
    await terminal.waitFor(/^execute +execute-one$/m, 'the list of both');
    await terminal.press('C-u');
    await terminal.leaveWith('q');
  });

  test('Up recalls earlier commands; with a history file they are there in the next session too', async () => {
    const folder = project();
    const env = { HISTORY_FILE: path.join(folder, 'history') };
    const first = await Terminal.launch(folder, 'Sales> ', env);
    await first.enter('plan Load');
    await first.enter('validate');
    await first.press('Up');
    await first.waitForLine('Sales> validate');
    await first.press('Up');
    await first.waitForLine('Sales> plan Load');
    assert.equal(await first.enter(), 'Load will run: not cached', 'the recalled command runs');
    await first.leaveWith('q');

    const second = await Terminal.launch(folder, 'Sales> ', env);
    await second.press('Up');
    await second.waitForLine('Sales> q');
    await second.press('Up');
    await second.waitForLine('Sales> plan Load');
    await second.press('C-u');
    await second.leaveWith('q');
  });

  test('log LEVEL sets what task logs write; quiet switches execute to one summary line and back', async () => {
    const folder = project();
    const terminal = await Terminal.launch(folder);
    assert.match(await terminal.enter('log'), /^Task logs write info and above, to .*\.cache\/logs\/Sales\/$/);
    assert.match(await terminal.enter('log DEBUG'), /^Task logs write debug and above/);

    assert.equal(await terminal.enter('quiet'), 'Quiet: execute prints one summary line.');
    const quiet = await terminal.enter('execute');
    assert.match(quiet, /^Sales: 4 ran in [\d.]+ m?s$/, 'one line, no progress, no table');

    const logFile = path.join(folder, '.cache', 'logs', 'Sales', 'Load.log');
    await waitForFile(logFile, /debug line from Load/);

    assert.equal(await terminal.enter('quiet'), 'Not quiet: execute shows progress and the report table.');
    const loud = await terminal.enter('execute --force Load');
    assert.match(loud, /✔ Load done in/);
    assert.match(loud, row('Load', /ran \(forced\)/));
    assert.equal(await terminal.enter('quiet on'), 'Quiet: execute prints one summary line.');
    assert.equal(await terminal.enter('quiet on'), 'Quiet: execute prints one summary line.');
    await terminal.leaveWith('q');
  });

  test('help lists the commands; help COMMAND tells one', async () => {
    const terminal = await Terminal.launch(project());
    const help = await terminal.enter('help');
    for (const command of ['list-tasks', 'peek NAME', 'info NAME', 'list-cache [--all]', 'clear-cache NAME... | . | --hard', 'execute [--force [NAME...]] [--skip NAME...]',
      'execute-one NAME [--no-deps] [--force]', 'plan [NAME]', 'validate', 'log [LEVEL]', 'quiet [on|off]', 'help [COMMAND]', 'exit, quit, q']) {
      assert.ok(help.includes(`  ${command} `), `help lists ${command}:\n${help}`);
    }
    assert.equal(await terminal.enter('help execute_one'), 'execute-one NAME [--no-deps] [--force]\n  run one task, and what it needs that is not fresh; --no-deps runs just it, on cached dependencies');
    assert.equal(await terminal.enter('help quit'), 'exit\n  leave the shell (so does Ctrl-D)\n  also: quit, q');
    await terminal.leaveWith('q');
  });

  test('a subclass: its own title, header, prompt and commands; startup and shutdown hooks; a bug in a command is shown', async () => {
    const terminal = await Terminal.launch(project(SALES, SUBCLASS_LAUNCHER), 'tool$ ');
    const start = await terminal.screen();
    assert.match(start, /^Sales tool\nFor the monthly close\.\nWarehouse connected\.\ntool\$ $/m);

    await terminal.enter('execute');
    assert.equal(await terminal.enter('count-rows Clean'), 'Clean returned 3 rows');
    await terminal.type('count_rows L');
    await terminal.press('Tab');
    await terminal.waitForLine('tool$ count_rows Load ');
    assert.equal(await terminal.enter(), 'Load returned 4 rows');
    assert.equal(await terminal.enter('count-rows'), 'count-rows takes one task name');
    assert.match(await terminal.enter('help'), /^ {2}count-rows NAME +how many rows a task returned$/m);
    const bug = await terminal.enter('oops');
    assert.equal(bug, 'TypeError: rows is not iterable', 'the message, without a stack unless verbose');
    assert.match(await terminal.enter('list-tasks'), row('Load', 'cached'), 'the built-in commands are there too');

    const end = await terminal.leaveWith('exit');
    assert.match(end, /^Warehouse disconnected\.\n\[shell ended\]$/m);
  });

  test('lines piped in are carried out in order, and the shell ends with the input; a verbose shell shows stacks', async () => {
    const folder = project(SALES, SUBCLASS_LAUNCHER);
    const child = execFile(process.execPath, ['--import', TSX, 'launch.ts'], { cwd: folder, env: { ...process.env, SHELL_VERBOSE: '1', NO_COLOR: '1' } });
    child.stdin!.end('execute\nbogus\ncount-rows Clean\noops\nplan\n');
    let output = '';
    child.stdout!.on('data', (chunk: string) => (output += chunk));
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 0, output);
    const order = ['Sales: 4 ran in', 'Unknown command "bogus"', 'Clean returned 3 rows', 'TypeError: rows is not iterable', 'Sales: 4 cached', 'Warehouse disconnected.', '[shell ended]'];
    const positions = order.map((text) => output.indexOf(text));
    assert.ok(positions.every((position, index) => position >= 0 && (index === 0 || position > positions[index - 1]!)), `in this order: ${order.join(' / ')}\n${output}`);
    assert.match(output.slice(positions[3]!), STACK_LINE, 'verbose: the stack of an error that is not littlepipes\' own');
  });

  test('littlepipes shell, through the command line', async () => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build (npm test builds first).`);
    const folder = makeProject();
    const terminal = await Terminal.start(folder, `node ${CLI} shell`);
    assert.match(await terminal.screen(), /^littlepipes shell · Sales$/m);
    assert.match(await terminal.enter('execute'), /Sales: 4 ran in/);
    assert.match(await terminal.enter('peek Totals'), /object with 2 keys\n\{ north: 17, south: 5 \}/);
    await terminal.press('C-d');
    assert.equal(await terminal.exitStatus(), 0);
    // What was typed can hold secrets (a password in a custom command): owner only, as the cache.
    assert.equal(fs.statSync(path.join(folder, '.littlepipes', 'shell-history-Sales')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(folder, '.littlepipes')).mode & 0o777, 0o700);

    const again = await Terminal.start(folder, `node ${CLI} shell`);
    await again.press('Up');
    await again.waitForLine('Sales> peek Totals');
    await again.press('C-u');
    await again.press('C-d');
    assert.equal(await again.exitStatus(), 0);
  });
});

async function waitForFile(file: string, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (pattern.test(text)) return;
    if (Date.now() > deadline) assert.fail(`${file} never contained ${pattern}; it holds:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
