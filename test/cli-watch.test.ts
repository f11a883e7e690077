import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cli, makeProject, SALES_PIPELINE, start } from './cli/project.js';
import { temporaryFolder } from './helpers.js';

function exited(child: import('node:child_process').ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

test('watch runs, re-runs what an edit makes stale, survives a broken pipeline file, and stops cleanly on Ctrl-C with exit code 130, as run does', async () => {
  const project = makeProject(SALES_PIPELINE, { 'data/notes.txt': 'first' });
  const watch = start(project, 'watch', '--debounce', '100');
  try {
    let at = await watch.waitFor('Watching for changes');
    assert.match(watch.output(), /Sales: 4 ran/);

    fs.writeFileSync(path.join(project, 'pipeline.ts'), SALES_PIPELINE.replace('minimum: 2', 'minimum: 6'));
    at = await watch.waitFor('Watching for changes', at);
    const second = watch.output().slice(0, at);
    assert.match(second, /Changed: pipeline\.ts/);
    assert.match(second.slice(second.lastIndexOf('Changed:')), /Clean +│ ran \(params changed: minimum 2 → 6\)/);

    fs.writeFileSync(path.join(project, 'pipeline.ts'), `${SALES_PIPELINE}\nconst broken = ;\n`);
    at = await watch.waitFor(/Run ended with exit code 2\. Watching for changes/, at);
    assert.match(watch.output(), /Cannot load the pipeline/);

    fs.writeFileSync(path.join(project, 'pipeline.ts'), SALES_PIPELINE);
    at = await watch.waitFor('Watching for changes', at);
    assert.match(watch.output().slice(watch.output().lastIndexOf('Changed:')), /Clean +│ ran \(params changed: minimum 6 → 2\)/);

    // A file that no task reads changes: a run starts, and change detection runs nothing.
    fs.writeFileSync(path.join(project, 'data/notes.txt'), 'second');
    at = await watch.waitFor('Watching for changes', at);
    assert.match(watch.output().slice(watch.output().lastIndexOf('Changed:')), /Sales: 4 cached/);

    watch.child.kill('SIGINT');
    assert.equal(await exited(watch.child), 130);
    assert.match(watch.output(), /Stopped watching\./);
  } finally {
    watch.child.kill('SIGKILL');
  }
});

test('watch stopped by SIGTERM (a process manager, kill) stops its run and exits 0', async () => {
  const project = makeProject(`import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, Task } from 'littlepipes';
export const pipeline = new Pipeline('Slow').add(
  new Task('Slow').process('run', async (t) => { await sleep(60_000, undefined, { signal: t.signal }); return 2; }),
);`);
  const watch = start(project, 'watch');
  try {
    await watch.waitFor('▶ Slow started');
    watch.child.kill('SIGTERM');
    assert.equal(await exited(watch.child), 0);
    assert.match(watch.output(), /Stopped watching\./);
    assert.match(watch.output(), /The run was cancelled/);
  } finally {
    watch.child.kill('SIGKILL');
  }
});

test('Ctrl-C during run stops the running task, keeps what finished, and exits 130', async () => {
  const project = makeProject(`import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, Task } from 'littlepipes';
export const pipeline = new Pipeline('Slow').add(
  new Task('Quick').process('run', () => 1),
  new Task('Slow', { dependencies: ['Quick'] }).process('run', async (t) => { t.log.info('slow started'); await sleep(60_000, undefined, { signal: t.signal }); return 2; }),
);`);
  const run = start(project, 'run');
  await run.waitFor('▶ Slow started');
  run.child.kill('SIGINT');
  assert.equal(await exited(run.child), 130);
  assert.match(run.output(), /Interrupted: stopping the running tasks/);
  assert.match(run.output(), /The run was cancelled/);
  const plan = await cli(project, 'plan', '--json');
  const actions = Object.fromEntries((JSON.parse(plan.stdout) as { tasks: { name: string; action: string }[] }).tasks.map((task) => [task.name, task.action]));
  assert.deepEqual(actions, { Quick: 'cached', Slow: 'run' });
});

test('watch ignores what runs write to a cache folder of their own, re-runs the task whose input changed, and survives a failing task', async () => {
  const project = makeProject(`import fs from 'node:fs';
import { Pipeline, Task } from 'littlepipes';
export const pipeline = new Pipeline('Inputs', { cacheDir: 'cache' }).add(
  new Task('Read', { inputs: 'data/rows.txt' }).process('run', () => {
    const text = fs.readFileSync('data/rows.txt', 'utf8');
    if (text.includes('bad')) throw new Error('a bad row');
    return text.trim().split('\\n').length;
  }),
  new Task('Other').process('run', () => 1),
);`, { 'data/rows.txt': 'a\nb\n' });
  const outside = temporaryFolder('littlepipes-outside-');
  const watch = start(project, 'watch', '--debounce', '100', '--watch', outside);
  try {
    let at = await watch.waitFor('Watching for changes');
    assert.match(watch.output(), /Inputs: 2 ran/);
    // The run wrote cache/cache.sqlite and cache/logs/: none of that may start another run.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.doesNotMatch(watch.output().slice(at), /Changed:/, 'the cache folder written by the run started another run');

    fs.writeFileSync(path.join(project, 'data/rows.txt'), 'a\nb\nc\n');
    at = await watch.waitFor('Watching for changes', at);
    const edited = watch.output().slice(watch.output().lastIndexOf('Changed:'));
    assert.match(edited, /Changed: data\/rows\.txt\n/);
    assert.match(edited, /Read +│ ran \(input changed/);
    assert.match(edited, /Other +│ cached/);

    fs.writeFileSync(path.join(project, 'data/rows.txt'), 'bad\n');
    at = await watch.waitFor(/Run ended with exit code 1\. Watching for changes/, at);
    fs.writeFileSync(path.join(project, 'data/rows.txt'), 'a\n');
    at = await watch.waitFor('Watching for changes', at);
    assert.match(watch.output().slice(watch.output().lastIndexOf('Changed:')), /Read +│ ran/);

    // --watch: a folder outside the project (where an input may live) starts a run too.
    fs.writeFileSync(path.join(outside, 'lookup.csv'), 'x\n');
    at = await watch.waitFor('Watching for changes', at);
    assert.match(watch.output().slice(watch.output().lastIndexOf('Changed:')), /^Changed: .*lookup\.csv\n/);

    watch.child.kill('SIGINT');
    assert.equal(await exited(watch.child), 130);
  } finally {
    watch.child.kill('SIGKILL');
  }
});

test('a second Ctrl-C during run quits at once, while the first is still winding the run down', async () => {
  // A resource whose close() hangs keeps the first Ctrl-C from ending the process: the run ends
  // only once its resources are closed. (A task that ignores its signal does not: it is left behind.)
  const project = makeProject(`import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, Task } from 'littlepipes';
export const pipeline = new Pipeline('Stuck')
  .provide('db', () => ({ close: () => sleep(60_000) }))
  .add(new Task('Query', { uses: ['db'] }).process('run', async (t) => { t.use('db'); await sleep(60_000, undefined, { signal: t.signal }); return 1; }));`);
  const run = start(project, 'run');
  try {
    let at = await run.waitFor('▶ Query started');
    run.child.kill('SIGINT');
    at = await run.waitFor('Interrupted: stopping the running tasks', at);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(run.child.exitCode, null, 'the first Ctrl-C waits for the resource to close');
    const sent = Date.now();
    run.child.kill('SIGINT');
    assert.equal(await exited(run.child), 130);
    assert.ok(Date.now() - sent < 10_000, 'it did not wait for the resource');
  } finally {
    run.child.kill('SIGKILL');
  }
});
