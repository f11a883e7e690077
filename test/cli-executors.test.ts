// `littlepipes run --executor` for real: the built command line in a user's project, a private
// redis-server, and `littlepipes worker` processes. Each task returns the pid and thread it ran
// in, read back with `littlepipes show`, so where a task ran is proved, not inferred.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli, makeProject, start } from './cli/project.js';
import { type TestServer, freePort, startRedis } from './servers.js';

/** Two tasks that may travel, then one that stays with the coordinator; each says where it ran. */
function wherePipeline(store?: string): string {
  return `
import { Pipeline, Task } from 'littlepipes';
import { threadId } from 'node:worker_threads';

const away = new Task('Away').process('run', () => ({ pid: process.pid, thread: threadId }));
const next = new Task('Next', { dependencies: ['Away'] })
  .process('run', (t) => ({ pid: process.pid, thread: threadId, after: t.result<{ pid: number }>('Away').pid }));
const here = new Task('Here', { dependencies: ['Next'], local: true })
  .process('run', (t) => ({ pid: process.pid, thread: threadId, after: t.result<{ pid: number }>('Next').pid }));

export const pipeline = new Pipeline('Where'${store ? `, { store: ${JSON.stringify(store)} }` : ''}).add(away, next, here);
`;
}

interface Place {
  pid: number;
  thread: number;
  after?: number;
}

/** Where a task ran, from its cached result as `littlepipes show` prints it. */
async function placeOf(project: string, task: string): Promise<Place> {
  const shown = await cli(project, 'show', task, '--full');
  assert.equal(shown.code, 0, shown.stderr);
  const field = (name: string) => /(\d+)/.exec(new RegExp(`${name}: \\d+`).exec(shown.stdout)?.[0] ?? '')?.[1];
  const [pid, thread, upstream] = ['pid', 'thread', 'after'].map(field);
  assert.ok(pid !== undefined && thread !== undefined, `a place in:\n${shown.stdout}`);
  return { pid: Number(pid), thread: Number(thread), ...(upstream === undefined ? {} : { after: Number(upstream) }) };
}

/** Starts `littlepipes worker ...flags` in `project`, resolving once it is ready. */
async function startWorker(project: string, ...flags: string[]) {
  const worker = start(project, 'worker', ...flags);
  after(() => {
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  });
  await worker.waitFor(': ready on queue');
  return worker;
}

async function stopWorker(worker: Awaited<ReturnType<typeof startWorker>>): Promise<void> {
  const exited = new Promise((resolve) => worker.child.once('exit', resolve));
  worker.child.kill('SIGTERM');
  assert.equal(await exited, 0, worker.output());
}

let redis: TestServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

test('run --executor bullmq --connection URL sends the tasks that can travel to a littlepipes worker process; the local one stays', { timeout: 120_000 }, async () => {
  const project = makeProject(wherePipeline(redis.url));
  const worker = await startWorker(project, '--connection', redis.url);
  const run = await cli(project, 'run', '--executor', 'bullmq', '--connection', redis.url, '--json');
  assert.equal(run.code, 0, `${run.stderr}\n${worker.output()}`);
  const report = JSON.parse(run.stdout) as { tasks: { name: string; status: string; worker?: string }[] };
  assert.deepEqual(report.tasks.map((task) => [task.name, task.status, task.worker]), [
    ['Away', 'ran', `${os.hostname()}:${worker.child.pid}`],
    ['Next', 'ran', `${os.hostname()}:${worker.child.pid}`],
    ['Here', 'ran', undefined],
  ]);

  const away = await placeOf(project, 'Away');
  const next = await placeOf(project, 'Next');
  const here = await placeOf(project, 'Here');
  assert.equal(away.pid, worker.child.pid, 'Away ran in the worker process');
  assert.equal(next.pid, worker.child.pid, 'Next ran in the worker process');
  assert.equal(next.after, away.pid, "Next read Away's result from the shared store");
  assert.notEqual(here.pid, worker.child.pid, 'Here (local: true) ran in the coordinator');
  assert.equal(here.after, worker.child.pid, "Here got Next's result back from the worker");

  // Run again: everything is fresh in the shared store, and nothing is sent.
  const again = await cli(project, 'run', '--executor', 'bullmq', '--connection', redis.url, '--json');
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual((JSON.parse(again.stdout) as { tasks: { status: string }[] }).tasks.map((task) => task.status), ['cached', 'cached', 'cached']);
  await stopWorker(worker);
});

test('a worker stopped by Ctrl-C exits 130, as run and watch do; stopped by SIGTERM (a process manager), 0', { timeout: 120_000 }, async () => {
  const project = makeProject(wherePipeline(redis.url));
  const interrupted = await startWorker(project, '--connection', redis.url);
  const exited = new Promise((resolve) => interrupted.child.once('exit', resolve));
  interrupted.child.kill('SIGINT');
  assert.equal(await exited, 130, interrupted.output());
  assert.match(interrupted.output(), /stopping once its running tasks are done/);
  await stopWorker(await startWorker(project, '--connection', redis.url));
});

test('littlepipes.yaml settings.executor: bullmq and LITTLEPIPES_CONNECTION (over settings.connection) make a plain run distributed; --executor local wins over them', { timeout: 120_000 }, async () => {
  // settings.connection names a port where nothing listens: the run only reaches the worker if the environment wins.
  const nowhere = `redis://127.0.0.1:${await freePort()}`;
  const project = makeProject(wherePipeline(redis.url), { 'littlepipes.yaml': `settings:\n  executor: bullmq\n  connection: ${nowhere}\n` });
  // A project of its own name: the first test's results, in the same Redis, are not its own.
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'configured', type: 'module', littlepipes: { pipeline: 'pipeline.ts' } }));
  process.env.LITTLEPIPES_CONNECTION = redis.url;
  try {
    // The worker takes its queue from LITTLEPIPES_CONNECTION too: no --connection.
    const worker = await startWorker(project);
    assert.match(worker.output(), new RegExp(`ready on queue .+ \\(${redis.url}\\)`));
    const run = await cli(project, 'run');
    assert.equal(run.code, 0, `${run.stderr}\n${worker.output()}`);
    assert.equal((await placeOf(project, 'Away')).pid, worker.child.pid, 'Away ran in the worker process');
    assert.equal((await placeOf(project, 'Next')).pid, worker.child.pid, 'Next ran in the worker process');

    const local = await cli(project, 'run', '--force', '--executor', 'local');
    assert.equal(local.code, 0, local.stderr);
    const away = await placeOf(project, 'Away');
    assert.notEqual(away.pid, worker.child.pid, 'with --executor local, Away ran in the run process');
    assert.equal((await placeOf(project, 'Here')).after, (await placeOf(project, 'Next')).pid);
    await stopWorker(worker);
  } finally {
    delete process.env.LITTLEPIPES_CONNECTION;
  }

  // Without LITTLEPIPES_CONNECTION, settings.connection is the queue: nothing listens there, and the run says so at once.
  const unreachable = await cli(project, 'run', '--force');
  assert.equal(unreachable.code, 1, unreachable.stderr);
  assert.match(unreachable.stderr, new RegExp(`^littlepipes: The bullmq executor of Where: cannot reach Redis at ${nowhere}: .*ECONNREFUSED`));
});

test('run --executor threads runs the tasks in worker threads of the run process, and so does settings.executor: threads; --executor local wins', { timeout: 120_000 }, async () => {
  const project = makeProject(wherePipeline());
  const threads = await cli(project, 'run', '--executor', 'threads');
  assert.equal(threads.code, 0, threads.stderr);
  const away = await placeOf(project, 'Away');
  const next = await placeOf(project, 'Next');
  const here = await placeOf(project, 'Here');
  assert.notEqual(away.thread, 0, 'Away ran in a worker thread');
  assert.notEqual(next.thread, 0, 'Next ran in a worker thread');
  assert.equal(here.thread, 0, 'Here (local: true) ran on the main thread');
  assert.deepEqual(new Set([away.pid, next.pid, here.pid]).size, 1, 'all in the one run process');

  const local = await cli(project, 'run', '--force');
  assert.equal(local.code, 0, local.stderr);
  assert.equal((await placeOf(project, 'Away')).thread, 0, 'by default, on the main thread');

  fs.writeFileSync(path.join(project, 'littlepipes.yaml'), 'settings:\n  executor: threads\n');
  const configured = await cli(project, 'run', '--force');
  assert.equal(configured.code, 0, configured.stderr);
  assert.notEqual((await placeOf(project, 'Away')).thread, 0, 'settings.executor: threads: in a worker thread');
  const overridden = await cli(project, 'run', '--force', '--executor', 'local');
  assert.equal(overridden.code, 0, overridden.stderr);
  assert.equal((await placeOf(project, 'Away')).thread, 0, '--executor local: on the main thread');
});
