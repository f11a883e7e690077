import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { temporaryFolder } from './helpers.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Runs the sample as a user would: a separate process, importing the built package by its name. */
function runSample(cacheDir: string): { stdout: string; stderr: string } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'samples/example1.ts'], {
    cwd: root,
    env: { ...process.env, LITTLEPIPES_DIR: cacheDir, NO_COLOR: '1' },
    encoding: 'utf8',
  });
  assert.equal(child.status, 0, child.stderr);
  return child;
}

/** The status column of the report table printed on stderr, by task. */
function tableStatuses(stderr: string): Record<string, string> {
  const rows = [...stderr.matchAll(/^│ (\w+)\s+│ (\w+)/gm)].filter(([, task]) => task !== 'task');
  return Object.fromEntries(rows.map(([, task, status]) => [task, status!]));
}

test('the README sample prints Final Result: 6, then serves all but TaskThree from the cache', { timeout: 60_000 }, () => {
  const cacheDir = temporaryFolder();
  const first = runSample(cacheDir);
  assert.equal(first.stdout.trim(), 'Final Result: 6');
  assert.deepEqual(tableStatuses(first.stderr), { TaskOne: 'ran', TaskTwo: 'ran', TaskThree: 'ran', Sum: 'ran' });
  assert.match(first.stderr, /TaskTwo\s+│ ran.*│ run [\d.]+ s, extract 1\.\d+ s, transform 1\.\d+ s/, 'sub-processes are timed');
  assert.doesNotMatch(first.stderr, /\u001b\[/, 'with NO_COLOR the output has no escape codes');

  const second = runSample(cacheDir);
  assert.equal(second.stdout.trim(), 'Final Result: 6');
  assert.deepEqual(tableStatuses(second.stderr), { TaskOne: 'cached', TaskTwo: 'cached', TaskThree: 'ran', Sum: 'cached' });
  assert.match(second.stderr, /TaskThree\s+│ ran \(expired: when the run completes\)/);
});

test('on a terminal a spinner names the running tasks; elsewhere progress is plain lines', { timeout: 60_000 }, () => {
  const cacheDir = temporaryFolder();
  // `script` (util-linux) gives the sample a real pseudo-terminal, here 100 columns wide.
  const command = `stty cols 100 rows 30; ${JSON.stringify(process.execPath)} --import tsx samples/example1.ts`;
  const terminal = spawnSync('script', ['-qfec', command, '/dev/null'], {
    cwd: root,
    env: { ...process.env, LITTLEPIPES_DIR: cacheDir, CI: '', NO_COLOR: '1', TERM: 'xterm' },
    encoding: 'utf8',
  });
  assert.equal(terminal.status, 0, terminal.stdout.slice(-2000));
  assert.ok(terminal.stdout.length < 20_000, `the spinner redraws in place (${terminal.stdout.length} characters of output)`);
  assert.match(terminal.stdout, /running TaskTwo/, 'the spinner names the running task');
  assert.match(terminal.stdout, /Final Result: 6/);

  const plain = runSample(temporaryFolder());
  assert.match(plain.stderr, /^▶ TaskTwo started$/m);
  assert.match(plain.stderr, /^✔ TaskTwo done in 2\.\d+ s$/m);
  assert.doesNotMatch(plain.stderr, /running TaskTwo/, 'no spinner without a terminal');
});
