// A distributed run for real: a private redis-server, three `littlepipes worker` processes (the
// built command line) loading the same pipeline module as the coordinator (this process), with
// results in the shared Redis store. One worker is SIGKILLed in the middle of a task.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { CLI, REPO } from './cli/project.js';
import { type TestServer, startRedis } from './servers.js';
import { temporaryFolder } from './helpers.js';
import type { RunReport } from '../lib/index.js';

const FIXTURE = path.join(REPO, 'test', 'fixtures', 'distributed-pipeline.mjs');

let redis: TestServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  // The fixture's pipeline is this process's coordinator in every test: its store's connection goes last.
  const { pipeline } = (await import(FIXTURE)) as { pipeline: import('../lib/index.js').Pipeline<any> };
  await pipeline.close();
  await redis?.stop();
});

interface Worker {
  child: ChildProcess;
  output: () => string;
  /** The folder of its cache and logs: its "host's" disk. */
  dir: string;
}

/** Starts `littlepipes worker` on `module`, resolving once it says it is ready. */
async function startWorker(module: string, env: NodeJS.ProcessEnv, ...flags: string[]): Promise<Worker> {
  const dir = temporaryFolder('littlepipes-worker-');
  const child = spawn(process.execPath, [CLI, 'worker', '--pipeline', module, '--connection', redis.url, ...flags], {
    cwd: REPO,
    env: { ...env, LITTLEPIPES_DIR: dir, NO_COLOR: '1' },
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const deadline = Date.now() + 30_000;
  while (!output.includes(': ready on queue')) {
    if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`the worker did not get ready:\n${output}`);
    await sleep(50);
  }
  return { child, output: () => output, dir };
}

async function stopWorker(worker: Worker): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  const exited = new Promise((resolve) => worker.child.once('exit', resolve));
  worker.child.kill('SIGTERM');
  await exited;
}

/** Executions by task, from the lines "<task> <pid>" the fixture appends. */
function executionsIn(file: string): Map<string, number[]> {
  const byTask = new Map<string, number[]>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const [task, pid] = line.split(' ') as [string, string];
    byTask.set(task, [...(byTask.get(task) ?? []), Number(pid)]);
  }
  return byTask;
}

test('three workers, one SIGKILLed mid-task: its job goes to another worker, every result is right and stored once', async () => {
  const executions = path.join(temporaryFolder(), 'executions.txt');
  fs.writeFileSync(executions, '');
  const env: NodeJS.ProcessEnv = { ...process.env, LITTLEPIPES_TEST_REDIS: redis.url, LITTLEPIPES_TEST_EXECUTIONS: executions };
  delete env.NODE_OPTIONS;
  const workers = await Promise.all([1, 2, 3].map(() => startWorker(FIXTURE, env, '--concurrency', '1', '--stall-ms', '1000')));
  const workerPids = workers.map((worker) => worker.child.pid!);

  process.env.LITTLEPIPES_TEST_REDIS = redis.url;
  process.env.LITTLEPIPES_TEST_EXECUTIONS = executions;
  process.env.LITTLEPIPES_DIR = temporaryFolder('littlepipes-coordinator-');
  const { pipeline } = (await import(FIXTURE)) as { pipeline: import('../lib/index.js').Pipeline<any> };

  // Kill the worker that runs Slow as soon as it has started it.
  let killed: number | undefined;
  const killer = (async () => {
    while (killed === undefined) {
      const slow = executionsIn(executions).get('Slow');
      if (slow) {
        killed = slow[0]!;
        assert.ok(workerPids.includes(killed), `Slow ran on a worker (${killed}), not in the coordinator`);
        process.kill(killed, 'SIGKILL');
      }
      await sleep(20);
    }
  })();
  const report = await pipeline.execute({ executor: 'bullmq', connection: redis.url, concurrency: 8, skip: ['Stuck'], progress: false });
  await killer;

  assert.equal(report.counts.ran, 16, JSON.stringify(report.counts));
  const runs = executionsIn(executions);
  // Slow ran twice: on the worker killed in its middle, then on another; every other task once.
  assert.deepEqual(runs.get('Slow')!.length, 2);
  assert.notEqual(runs.get('Slow')![1], killed);
  assert.ok(workerPids.includes(runs.get('Slow')![1]!));
  for (const [task, pids] of runs) if (task !== 'Slow') assert.equal(pids.length, 1, `${task} ran ${pids.length} times`);
  // Tasks that can travel ran on the workers; the local one here.
  for (let i = 1; i <= 12; i++) assert.ok(workerPids.includes(runs.get(`Square${i}`)![0]!), `Square${i} ran on a worker`);
  assert.deepEqual(runs.get('Here'), [process.pid]);
  assert.ok(workerPids.includes(runs.get('Report')![0]!));

  // The results, read back from the shared store, are right.
  assert.equal(await pipeline.getResult('Sum'), 650);
  assert.deepEqual(await pipeline.getResult('Square7'), { i: 7, square: 49, when: new Date(0) });
  assert.equal(await pipeline.getResult('Slow'), 'slow 9');
  assert.deepEqual(await pipeline.getResult('Here'), { pid: process.pid, sum: 650 });
  assert.equal(await pipeline.getResult('Report'), '650 / slow 9 / 650');

  // Each result is stored once: one value (of one chunk, as they are small) per task that ran on a worker.
  const client = new Redis(redis.url);
  after(() => client.quit());
  // Keys of the team cache's large values: littlepipes:value:<namespace>:value:<task>.<hash>.bin#<chunk>.
  const valueKeys = (await client.keys('littlepipes:value:*')).map((key) => /:value:([^:.#]+)\.[0-9a-f]+\.bin#\d+$/.exec(key)![1]!);
  const remote = [...runs.keys()].filter((task) => task !== 'Here').sort();
  assert.deepEqual(valueKeys.sort(), remote);

  // The report says where each remote task's log lives: the worker that ran it, and its log file there.
  const slowReport = report.task('Slow')!;
  assert.equal(slowReport.worker, `${os.hostname()}:${runs.get('Slow')![1]}`);
  assert.equal(report.task('Here')!.worker, undefined);
  const survivors = workers.filter((worker) => worker.child.pid !== killed);
  await Promise.all(survivors.map(stopWorker));
  const slowWorker = workers.find((worker) => worker.child.pid === runs.get('Slow')![1])!;
  assert.equal(slowReport.logFile, path.join(slowWorker.dir, 'logs', 'Distributed', 'Slow.log'));
  assert.match(fs.readFileSync(slowReport.logFile!, 'utf8'), /slow work begins/);

  // A second run finds everything fresh in the shared store, and sends nothing.
  const again = await pipeline.execute({ skip: ['Stuck'], progress: false });
  assert.equal(again.counts.cached, 16);
});

test("a task's timeout aborts its signal on the worker running it, and the attempt fails with TaskTimeoutError", async () => {
  const executions = path.join(temporaryFolder(), 'executions.txt');
  fs.writeFileSync(executions, '');
  process.env.LITTLEPIPES_TEST_EXECUTIONS = executions;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const worker = await startWorker(FIXTURE, env, '--stall-ms', '1000');
  const { pipeline } = (await import(FIXTURE)) as { pipeline: import('../lib/index.js').Pipeline<any> };
  const error = await pipeline.execute({ executor: 'bullmq', connection: redis.url, only: ['Stuck'], progress: false }).then(() => undefined, (thrown: unknown) => thrown as { report: RunReport });
  const stuck = error!.report.task('Stuck')!;
  assert.equal(stuck.status, 'failed');
  assert.equal((stuck.error as Error & { code: string }).code, 'ERR_TASK_TIMEOUT', String(stuck.error?.stack));
  const deadline = Date.now() + 10_000;
  while (!executionsIn(executions).has('Stuck-aborted') && Date.now() < deadline) await sleep(50);
  assert.deepEqual(executionsIn(executions).get('Stuck-aborted'), [worker.child.pid]);
  await stopWorker(worker);
});

test('a worker whose module defines a task differently, or lacks it, fails that task with WorkerMismatchError, not retried', async () => {
  // The same pipeline, one edit apart: Square tasks compute differently, and Slow is named Slows.
  const skewed = path.join(REPO, 'test', 'fixtures', `.skewed-${process.pid}.mjs`);
  fs.writeFileSync(skewed, fs.readFileSync(FIXTURE, 'utf8').replace('square: i * i,', 'square: i * i + 0,').replace("new Task('Slow'", "new Task('Slows'"));
  after(() => fs.rmSync(skewed, { force: true }));
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const worker = await startWorker(skewed, env);
  const { pipeline } = (await import(FIXTURE)) as { pipeline: import('../lib/index.js').Pipeline<any> };

  const first = await pipeline.execute({ executor: 'bullmq', connection: redis.url, only: ['Square1'], force: true, progress: false }).then(() => undefined, (thrown: unknown) => thrown as { report: RunReport });
  const square = first!.report.task('Square1')!;
  assert.equal(square.status, 'failed');
  assert.equal((square.error as Error & { code: string }).code, 'ERR_WORKER_MISMATCH');
  assert.match(square.error!.message, /^Worker .+:\d+ defines Square1 differently from the coordinator .+:\d+ \(its code differ\): the worker runs another version of .+\.skewed-\d+\.mjs\. Restart the workers on the coordinator's code\.$/);
  assert.equal(square.attempts, undefined, 'tried once');

  const second = await pipeline.execute({ executor: 'bullmq', connection: redis.url, only: ['Slow'], force: ['Slow'], progress: false }).then(() => undefined, (thrown: unknown) => thrown as { report: RunReport });
  const slow = second!.report.task('Slow')!;
  assert.equal((slow.error as Error & { code: string }).code, 'ERR_WORKER_MISMATCH');
  assert.match(slow.error!.message, /cannot run Slow: its pipeline module .+ defines no task of that name \(did you mean "Slows"\?\)\. Start the workers with the coordinator's pipeline module\./);
  await stopWorker(worker);
});

test('with no worker on the queue the run warns; cancelling it takes its waiting jobs off the queue', async () => {
  const { pipeline } = (await import(FIXTURE)) as { pipeline: import('../lib/index.js').Pipeline<any> };
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  after(() => process.off('warning', onWarning));
  const controller = new AbortController();
  const running = pipeline.execute({ executor: 'bullmq', connection: redis.url, only: ['Square1'], force: true, signal: controller.signal, progress: false });
  const { Queue } = await import('bullmq');
  const queue = new Queue('littlepipes.distributed-test%2FDistributed', { connection: { url: redis.url } });
  after(() => queue.close());
  const deadline = Date.now() + 10_000;
  while ((await queue.getWaitingCount()) === 0 && Date.now() < deadline) await sleep(20);
  assert.equal(await queue.getWaitingCount(), 1, 'Square1 waits on the queue');
  controller.abort(new Error('enough'));
  await assert.rejects(running, (error: Error & { code?: string }) => error.code === 'ERR_RUN_CANCELLED');
  assert.ok(warnings.some((warning) => (warning as Error & { code?: string }).code === 'LITTLEPIPES_NO_WORKERS' && warning.message.includes('littlepipes worker --pipeline FILE --connection')), 'warned of no workers');
  while ((await queue.getWaitingCount()) > 0 && Date.now() < deadline) await sleep(20);
  assert.equal(await queue.getWaitingCount(), 0, 'its job was taken off the queue');
});
