import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { CLI, makeProject } from './cli/project.js';

// Ctrl-C typed in a terminal is not `kill -INT`: the terminal turns it into SIGINT only while it is
// not in raw mode, which a spinner may put it in. So these tests type it, in tmux.
const run = promisify(execFile);
// The tmux server is ended before its socket's folder is removed: the other way round, the
// server (and the shells it keeps waiting at `read`) would outlive the tests.
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'littlepipes-terminal-'));
const socket = path.join(folder, 'tmux');
const tmux = (...args: string[]) => run('tmux', ['-S', socket, ...args]);
after(async () => {
  await tmux('kill-server').catch(() => undefined);
  fs.rmSync(folder, { recursive: true, force: true });
});

const SLOW_PIPELINE = `import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, Task } from 'littlepipes';
export const pipeline = new Pipeline('Slow').add(
  new Task('Quick').process('run', () => 1),
  new Task('Slow', { dependencies: ['Quick'] }).process('run', async (t) => { await sleep(60_000, undefined, { signal: t.signal }); return 2; }),
);`;

let sessions = 0;

/** Runs `littlepipes ...args` in a new 120×40 terminal, with a spinner (no CI, no NO_COLOR). */
async function terminal(cwd: string, ...args: string[]) {
  const session = `cli-${++sessions}`;
  const command = `env -u CI -u NO_COLOR ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} ${args.join(' ')}; echo "[exit status $?]"; read _`;
  await tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', '-c', cwd, '-e', 'TERM=xterm-256color', command);
  const screen = async () => (await tmux('capture-pane', '-p', '-J', '-S', '-', '-t', session)).stdout;
  return {
    screen,
    /** The screen with its colours, as escape sequences. */
    colours: async () => (await tmux('capture-pane', '-p', '-e', '-J', '-S', '-', '-t', session)).stdout,
    press: (key: string) => tmux('send-keys', '-t', session, key),
    async waitFor(pattern: RegExp, ms = 30_000): Promise<string> {
      const deadline = Date.now() + ms;
      for (;;) {
        const shown = await screen();
        if (pattern.test(shown)) return shown;
        if (Date.now() > deadline) assert.fail(`Timed out waiting for ${pattern}. The terminal shows:\n${shown}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

test('Ctrl-C typed in a terminal stops littlepipes run while its spinner spins: the report so far, exit 130', async () => {
  const shell = await terminal(makeProject(SLOW_PIPELINE), 'run');
  await shell.waitFor(/running Slow/);
  await shell.press('C-c');
  const screen = await shell.waitFor(/^\[exit status \d+\]$/m, 15_000);
  assert.match(screen, /^\[exit status 130\]$/m);
  assert.match(screen, /Slow +│ cancelled/);
  assert.match(screen, /The run was cancelled/);
});

test('Ctrl-C typed in a terminal stops littlepipes watch and the run it started: exit 130', async () => {
  const shell = await terminal(makeProject(SLOW_PIPELINE), 'watch');
  await shell.waitFor(/running Slow/);
  await shell.press('C-c');
  const screen = await shell.waitFor(/^\[exit status \d+\]$/m, 15_000);
  assert.match(screen, /Stopped watching\./);
  assert.match(screen, /^\[exit status 130\]$/m);
});

test('on a terminal, graph is coloured by state; --no-color takes the colours out', async () => {
  const project = makeProject();
  const coloured = await terminal(project, 'graph');
  await coloured.waitFor(/^\[exit status 0\]$/m);
  assert.match(await coloured.colours(), /\u001b\[[\d;]*m/, 'colours on a terminal');
  const plain = await terminal(project, '--no-color', 'graph');
  const screen = await plain.waitFor(/^\[exit status 0\]$/m);
  assert.match(screen, /Report/);
  assert.doesNotMatch(await plain.colours(), /\u001b\[[\d;]*m/, '--no-color');
});
