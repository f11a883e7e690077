import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { NoFreshResultError, RunCancelledError, Task } from '../lib/index.js';
import { statuses, testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

/** Independent tasks that record how many of them run at the same moment. */
function trackedTasks(count: number, ms: number) {
  const tracker = { running: 0, peak: 0 };
  const tasks = Array.from({ length: count }, (_, index) =>
    new Task(`T${index}`).process('run', async () => {
      tracker.running++;
      tracker.peak = Math.max(tracker.peak, tracker.running);
      await sleep(ms);
      tracker.running--;
      return index;
    }),
  );
  return { tracker, tasks };
}

test('independent tasks run concurrently up to the concurrency limit', async () => {
  const { tracker, tasks } = trackedTasks(8, 30);
  const pipeline = testPipeline().add(...tasks);
  await pipeline.execute({ ...quiet, concurrency: 3 });
  assert.equal(tracker.peak, 3);
});

test('the default concurrency lets four independent tasks overlap', async () => {
  const { tracker, tasks } = trackedTasks(8, 30);
  await testPipeline().add(...tasks).execute(quiet);
  assert.equal(tracker.peak, 4);
});

test('concurrency 1 runs one task at a time, dependencies first', async () => {
  const order: string[] = [];
  const pipeline = testPipeline().add(
    new Task('C', { dependencies: ['B'] }).process('run', () => order.push('C')),
    new Task('B', { dependencies: ['A'] }).process('run', () => order.push('B')),
    new Task('A').process('run', async () => {
      await sleep(5);
      order.push('A');
    }),
  );
  await pipeline.execute({ ...quiet, concurrency: 1 });
  assert.deepEqual(order, ['A', 'B', 'C']);
});

test('a cancelled run starts nothing new, aborts running tasks through their signal, and caches nothing half-done', async () => {
  const controller = new AbortController();
  let sawAbort = false;
  const pipeline = testPipeline().add(
    new Task('Quick').process('run', () => 'quick'),
    new Task('Long', { dependencies: ['Quick'] }).process('run', async (t) => {
      setTimeout(() => controller.abort(new Error('user pressed stop')), 10);
      await new Promise((resolve) => t.signal.addEventListener('abort', resolve, { once: true }));
      sawAbort = true;
      return 'half done';
    }),
    new Task('After', { dependencies: ['Long'] }).process('run', () => 'never'),
  );
  const error = await pipeline.execute({ ...quiet, signal: controller.signal }).then(() => undefined, (thrown: unknown) => thrown);
  assert.ok(error instanceof RunCancelledError);
  assert.equal(error.code, 'ERR_RUN_CANCELLED');
  assert.deepEqual(statuses(error.report), { Quick: 'ran', Long: 'cancelled', After: 'cancelled' });
  await sleep(5);
  assert.ok(sawAbort, 'the running task saw its signal abort');
  assert.equal(await pipeline.getResult('Quick'), 'quick');
  await assert.rejects(pipeline.getResult('Long'), NoFreshResultError);
  await assert.rejects(pipeline.getResult('After'), NoFreshResultError);
});

test('a signal already aborted runs nothing', async () => {
  let calls = 0;
  const pipeline = testPipeline().add(new Task('A').process('run', () => ++calls));
  await assert.rejects(pipeline.execute({ ...quiet, signal: AbortSignal.abort() }), RunCancelledError);
  assert.equal(calls, 0);
});

test('overlapping execute() calls on one pipeline run one after the other', async () => {
  let calls = 0;
  const pipeline = testPipeline().add(
    new Task('Once').process('run', async () => {
      await sleep(20);
      return ++calls;
    }),
  );
  const [first, second] = await Promise.all([pipeline.execute(quiet), pipeline.execute(quiet)]);
  assert.equal(first.task('Once')?.status, 'ran');
  assert.equal(second.task('Once')?.status, 'cached');
  assert.equal(calls, 1);
});

test('every process call is timed, and the report lists them per process', async () => {
  const pipeline = testPipeline().add(
    new Task('Timed')
      .process('step', async (t, ms: number) => {
        await sleep(ms);
        return ms;
      })
      .process('run', async (t) => (await t.step(30)) + (await t.step(20))),
  );
  const report = await pipeline.execute(quiet);
  const timed = report.task('Timed')!;
  const step = timed.processes.find((process) => process.name === 'step')!;
  assert.equal(step.calls, 2);
  assert.ok(step.ms >= 45, `step took ${step.ms} ms`);
  const run = timed.processes.find((process) => process.name === 'run')!;
  assert.ok(run.ms >= step.ms);
  assert.ok(timed.ms >= run.ms);
  assert.ok(report.ms >= timed.ms);
});

test('a signal reused across many runs does not collect a listener per run', async () => {
  const controller = new AbortController();
  const pipeline = testPipeline().add(new Task('A').process('run', () => 1));
  for (let run = 0; run < 5; run++) await pipeline.execute({ ...quiet, signal: controller.signal });
  assert.equal(EventEmitter.getEventListeners(controller.signal, 'abort').length, 0);
});
