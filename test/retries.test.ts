import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidOptionError, PipelineRunError, Task, TaskTimeoutError, renderTable } from '../lib/index.js';
import { testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

async function failedReport(promise: Promise<unknown>) {
  const error = await promise.then(() => assert.fail('the run should fail'), (thrown: unknown) => thrown);
  assert.ok(error instanceof PipelineRunError, String(error));
  return error.report;
}

function logLines(pipeline: { cacheDir: string; name: string }, task: string): { level: number; msg: string; attempt?: number; waitMs?: number }[] {
  const file = path.join(pipeline.cacheDir, 'logs', pipeline.name, `${task}.log`);
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
}

test('a task that fails twice and then succeeds, with retries: 2, runs three times and is cached; each attempt is logged', async () => {
  const seen: number[] = [];
  const pipeline = testPipeline('Retry').add(
    new Task('Flaky', { retries: { count: 2, delayMs: 1 } }).process('run', (t) => {
      seen.push(t.attempt);
      if (t.attempt < 3) throw new Error(`connection reset ${t.attempt}`);
      return 'rows';
    }),
  );
  const report = await pipeline.execute(quiet);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(report.task('Flaky')?.status, 'ran');
  assert.equal(report.task('Flaky')?.attempts, 3);
  assert.match(report.task('Flaky')!.reason, /not cached; 3 attempts/);
  assert.match(renderTable(report), /3 attempts/);
  assert.equal(await pipeline.getResult('Flaky'), 'rows');
  await pipeline.close();
  const warnings = logLines(pipeline, 'Flaky').filter((line) => line.level === 40);
  assert.deepEqual(warnings.map((line) => line.msg), [
    'attempt 1 of 3 failed: connection reset 1; retrying in 1 ms',
    'attempt 2 of 3 failed: connection reset 2; retrying in 2 ms',
  ]);
});

test('when every attempt fails, the task fails with the last error and the report says how many attempts it took', async () => {
  let calls = 0;
  const pipeline = testPipeline('Exhausted').add(
    new Task('Down', { retries: { count: 2, delayMs: 1 } }).process('run', () => {
      calls++;
      throw new Error(`503 from the API (${calls})`);
    }),
    new Task('After', { dependencies: ['Down'] }).process('run', () => 1),
  );
  const report = await failedReport(pipeline.execute(quiet));
  assert.equal(calls, 3);
  assert.equal(report.task('Down')?.error?.message, '503 from the API (3)');
  assert.match(report.task('Down')!.reason, /^failed after 3 attempts: 503 from the API \(3\)$/);
  assert.equal(report.task('After')?.status, 'blocked');
});

test('the waits grow by the factor, up to maxDelayMs', async () => {
  const pipeline = testPipeline('Backoff').add(
    new Task('Slow', { retries: { count: 4, delayMs: 5, factor: 3, maxDelayMs: 50 } }).process('run', (t) => {
      if (t.attempt < 5) throw new Error('busy');
      return 1;
    }),
  );
  await pipeline.execute(quiet);
  await pipeline.close();
  assert.deepEqual(logLines(pipeline, 'Slow').filter((line) => line.level === 40).map((line) => line.waitMs), [5, 15, 45, 50]);
});

test('retries.when decides which errors are retried; a mistake in the definition is never retried', async () => {
  let transient = 0;
  let permanent = 0;
  let undeclared = 0;
  const pipeline = testPipeline('When').add(
    new Task('Transient', { retries: { count: 3, delayMs: 1, when: (error) => error.message.includes('ETIMEDOUT') } }).process('run', () => {
      transient++;
      if (transient < 2) throw new Error('ETIMEDOUT');
      return 1;
    }),
    new Task('Permanent', { retries: { count: 3, delayMs: 1, when: (error) => error.message.includes('ETIMEDOUT') } }).process('run', () => {
      permanent++;
      throw new Error('column "price" does not exist');
    }),
    new Task('Undeclared', { retries: 3 }).process('run', (t) => {
      undeclared++;
      // @ts-expect-error an undeclared dependency is a compile error too; this is the run-time check
      return t.result('Transient');
    }),
  );
  const report = await failedReport(pipeline.execute(quiet));
  assert.deepEqual([transient, permanent, undeclared], [2, 1, 1]);
  assert.equal(report.task('Transient')?.status, 'ran');
  assert.equal(report.task('Permanent')?.status, 'failed');
  assert.equal(report.task('Undeclared')?.status, 'failed');
});

test('a task past its timeout fails with TaskTimeoutError, and its signal aborts with that error', async () => {
  let abortReason: unknown;
  const pipeline = testPipeline('Timeout').add(
    new Task('Query', { timeout: 50 }).process('run', async (t) => {
      t.signal.addEventListener('abort', () => (abortReason = t.signal.reason));
      await sleep(10_000, undefined, { signal: t.signal });
      return 1;
    }),
    new Task('Other').process('run', () => 2),
  );
  const started = Date.now();
  const report = await failedReport(pipeline.execute(quiet));
  assert.ok(Date.now() - started < 5000, 'the run does not wait for the sleep');
  const error = report.task('Query')?.error;
  assert.ok(error instanceof TaskTimeoutError);
  assert.equal(error.code, 'ERR_TASK_TIMEOUT');
  assert.match(error.message, /^Query timed out after 50 ms/);
  assert.ok(abortReason instanceof TaskTimeoutError, 'the task saw its signal abort with the timeout');
  assert.equal(report.task('Other')?.status, 'ran');
});

test('a task that ignores its signal still fails at its timeout, and nothing it returns later is cached', async () => {
  const pipeline = testPipeline('Ignores').add(
    new Task('Stubborn', { timeout: 30 }).process('run', async () => {
      await sleep(300);
      return 'late';
    }),
  );
  const report = await failedReport(pipeline.execute(quiet));
  assert.ok(report.task('Stubborn')?.error instanceof TaskTimeoutError);
  await sleep(400);
  await assert.rejects(pipeline.getResult('Stubborn'), /its last run failed \(Stubborn timed out after 30 ms/);
});

test('a timed-out attempt is retried like any failure', async () => {
  const pipeline = testPipeline('TimeoutRetry').add(
    new Task('Sometimes', { timeout: 50, retries: { count: 1, delayMs: 1 } }).process('run', async (t) => {
      if (t.attempt === 1) await sleep(10_000, undefined, { signal: t.signal });
      return t.attempt;
    }),
  );
  const report = await pipeline.execute(quiet);
  assert.equal(report.task('Sometimes')?.attempts, 2);
  assert.equal(await pipeline.getResult('Sometimes'), 2);
});

test('wrong retries and timeout options are InvalidOptionErrors that name the task and the option', () => {
  const cases: [unknown, RegExp][] = [
    [{ retries: -1 }, /Task "T": the retry count must be a whole number from 0 up, got -1 \(number\)/],
    [{ retries: 'twice' }, /Task "T": retries must be a number of retries or \{ count/],
    [{ retries: { count: 2, dealyMs: 5 } }, /unknown option "dealyMs"\. Did you mean "delayMs"\?/],
    [{ retries: { count: 2, factor: 0.5 } }, /retries\.factor must be a number from 1 up/],
    [{ retries: { count: 2, when: true } }, /retries\.when must be a function/],
    [{ timeout: 0 }, /Task "T": timeout must be a number of milliseconds above 0, got 0/],
    [{ timeout: '5s' }, /timeout must be a number of milliseconds/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => new Task('T', options as never), (error: unknown) => error instanceof InvalidOptionError && message.test(error.message), JSON.stringify(options));
  }
});
