// The coordinator of a distributed run whose queue's Redis goes away: a real redis-server for the
// queue, stopped while a real `littlepipes worker` runs a task, and another for the results.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, REPO } from './cli/project.js';
import { temporaryFolder } from './helpers.js';
import { type TestServer, startRedis } from './servers.js';
import type { ExecutorError, Pipeline, PipelineRunError } from '../lib/index.js';
import { REDIS_LOST_LIMIT_MS } from '../lib/run/executors/bullmq-executor.js';

const FIXTURE = path.join(REPO, 'test', 'fixtures', 'redis-lost-pipeline.mjs');

let store: TestServer;
let queue: TestServer;
before(async () => {
  [store, queue] = await Promise.all([startRedis(), startRedis()]);
});
after(async () => {
  await Promise.all([store?.stop(), queue?.stop()]);
});

test('the queue\'s Redis lost mid-run: the task out on a worker fails after a time limit with an ExecutorError saying so, the run ends, and what finished stays cached', { timeout: REDIS_LOST_LIMIT_MS + 60_000 }, async () => {
  const marker = path.join(temporaryFolder(), 'long-started');
  const env: NodeJS.ProcessEnv = { ...process.env, LITTLEPIPES_TEST_STORE: store.url, LITTLEPIPES_TEST_MARKER: marker, LITTLEPIPES_DIR: temporaryFolder('littlepipes-worker-'), NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  const worker = spawn(process.execPath, [CLI, 'worker', '--pipeline', FIXTURE, '--connection', queue.url], { cwd: REPO, env });
  let output = '';
  worker.stdout.on('data', (chunk) => (output += chunk));
  worker.stderr.on('data', (chunk) => (output += chunk));
  after(() => void worker.kill('SIGKILL'));
  while (!output.includes(': ready on queue')) {
    assert.equal(worker.exitCode, null, `the worker exited:\n${output}`);
    await sleep(50);
  }

  process.env.LITTLEPIPES_TEST_STORE = store.url;
  process.env.LITTLEPIPES_TEST_MARKER = marker;
  process.env.LITTLEPIPES_DIR = temporaryFolder('littlepipes-coordinator-');
  const { pipeline } = (await import(FIXTURE)) as { pipeline: Pipeline<any> };
  after(() => pipeline.close());
  let settled = false;
  const run = pipeline.execute({ executor: 'bullmq', connection: queue.url, progress: false }).then(
    (report) => {
      settled = true;
      return { report, error: undefined };
    },
    (error: unknown) => {
      settled = true;
      return { report: undefined, error };
    },
  );
  // Bounded, and watching the run: a run that ended first would otherwise leave this waiting for ever.
  const startedBy = Date.now() + 60_000;
  while (!fs.existsSync(marker)) {
    // The messages are made only on failure: made eagerly, the first would wait for the whole run.
    if (settled) assert.fail(`the run ended before Long started on the worker (${String((await run).error ?? 'it succeeded')}); the worker printed:\n${output}`);
    if (Date.now() > startedBy) assert.fail(`Long did not start on the worker within 60 s; the worker printed:\n${output}`);
    await sleep(20);
  }
  assert.equal(fs.readFileSync(marker, 'utf8'), String(worker.pid), 'Long runs on the worker');
  await queue.stop();

  const { error } = await run;
  assert.ok(error, 'the run succeeded without its queue');
  // The fixture's littlepipes is the built package, this file's the source: compare by name and code.
  assert.equal((error as Error).name, 'PipelineRunError', String(error));
  const { report } = error as PipelineRunError;
  assert.equal(report.task('First')!.status, 'ran');
  const long = report.task('Long')!;
  assert.equal(long.status, 'failed');
  assert.equal((long.error as ExecutorError).code, 'ERR_EXECUTOR');
  assert.match(long.reason, new RegExp(`^failed: lost the connection to Redis at ${queue.url} \\(connect ECONNREFUSED [^)]+\\) for ${REDIS_LOST_LIMIT_MS / 1000} s, so its job cannot report back\\. Bring Redis back, then run again: what finished is cached\\.$`));
  // The store is another Redis, still up: First's result was kept, and Long has none.
  assert.equal(await pipeline.getResult('First'), 1);
  await assert.rejects(pipeline.getResult('Long'));
});
