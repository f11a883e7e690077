import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO } from './cli/project.js';
import { temporaryFolder } from './helpers.js';

/** A script that runs a pipeline with a task that takes a minute; it never handles SIGINT itself. */
function script(folder: string, ignoresSignal: boolean): string {
  const file = path.join(folder, 'slow.mjs');
  fs.writeFileSync(file, `
import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, Task } from ${JSON.stringify(path.join(REPO, 'dist', 'index.js'))};
const pipeline = new Pipeline('Slow', { cacheDir: ${JSON.stringify(path.join(folder, 'cache'))} }).add(
  new Task('Quick').process('run', () => 1),
  new Task('Long', { dependencies: ['Quick'] }).process('run', async (t) => {
    ${ignoresSignal ? 'await sleep(60_000);' : 'await sleep(60_000, undefined, { signal: t.signal });'}
    return 2;
  }),
  new Task('After', { dependencies: ['Long'] }).process('run', () => 3),
);
await pipeline.execute();
console.log('not reached');
`);
  return file;
}

function start(file: string) {
  const child = spawn(process.execPath, [file], { env: { ...process.env, CI: '1', NO_COLOR: '1' } });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = async (text: string) => {
    const deadline = Date.now() + 20_000;
    while (!output.includes(text)) {
      if (Date.now() > deadline) throw new Error(`no "${text}" in:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { child, exited, waitFor, output: () => output };
}

// The library never exits the process itself: once the run has stopped, it passes the Ctrl-C on, so
// the script ends as Ctrl-C ends any Node script, by SIGINT (exit code null; a shell reports 130).
test('Ctrl-C in a script stops the run through the tasks\' signal, shows the report so far, keeps what finished, and ends the script by SIGINT', async () => {
  const folder = temporaryFolder();
  const file = script(folder, false);
  const run = start(file);
  await run.waitFor('▶ Long started');
  run.child.kill('SIGINT');
  assert.deepEqual(await run.exited, { code: null, signal: 'SIGINT' });
  const output = run.output();
  assert.match(output, /Interrupted: stopping the running tasks/);
  assert.match(output, /Long +│ cancelled/);
  assert.match(output, /Quick +│ ran/);
  assert.doesNotMatch(output, /not reached|^\s+at .+:\d+:\d+/m);
  // Started again, Quick is served from the cache and Long starts afresh.
  const again = start(file);
  await again.waitFor('▶ Long started');
  assert.doesNotMatch(again.output(), /Quick started/);
  again.child.kill('SIGKILL');
});

test('a second Ctrl-C ends the script at once by SIGINT, while the first is still winding the run down', async () => {
  // A resource whose close() hangs keeps the run from ending after the first Ctrl-C (a task that
  // ignores its signal does not: the run leaves it behind and the process ends by SIGINT).
  const folder = temporaryFolder();
  const file = path.join(folder, 'stuck.mjs');
  fs.writeFileSync(file, `
import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, Task } from ${JSON.stringify(path.join(REPO, 'dist', 'index.js'))};
const pipeline = new Pipeline('Stuck', { cacheDir: ${JSON.stringify(path.join(folder, 'cache'))} })
  .provide('db', () => ({ close: () => sleep(60_000) }))
  .add(new Task('Long', { uses: ['db'] }).process('run', async (t) => { t.use('db'); await sleep(60_000, undefined, { signal: t.signal }); return 2; }));
await pipeline.execute();
console.log('not reached');
`);
  const run = start(file);
  await run.waitFor('▶ Long started');
  run.child.kill('SIGINT');
  await run.waitFor('Interrupted');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(run.child.exitCode, null, 'the first Ctrl-C waits for the resource to close');
  const sent = Date.now();
  run.child.kill('SIGINT');
  assert.deepEqual(await run.exited, { code: null, signal: 'SIGINT' });
  assert.ok(Date.now() - sent < 5000, 'it did not wait for the resource');
});
