import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { NoFreshResultError, Pipeline, PipelineRunError, Task } from '../lib/index.js';
import { statuses, temporaryFolder, testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

function failingPipeline(pipeline: Pipeline, fail: { value: boolean }) {
  return pipeline.add(
    new Task('Flaky').process('run', () => {
      if (fail.value) throw new Error('source unavailable');
      return 'data';
    }),
    new Task('Child', { dependencies: ['Flaky'] }).process('run', (t) => `${t.result('Flaky')}!`),
    new Task('Grandchild', { dependencies: ['Child'] }).process('run', (t) => `${t.result('Child')}!`),
    new Task('Independent').process('run', () => 'ok'),
  );
}

test('a failed task blocks its dependents transitively while independent tasks still run', async () => {
  const pipeline = failingPipeline(testPipeline(), { value: true });
  const error = await pipeline.execute(quiet).then(() => undefined, (thrown: unknown) => thrown);
  assert.ok(error instanceof PipelineRunError);
  assert.equal(error.code, 'ERR_RUN_FAILED');
  assert.match(error.message, /1 task failed: Flaky\. Flaky: source unavailable/);
  assert.deepEqual(statuses(error.report), { Flaky: 'failed', Child: 'blocked', Grandchild: 'blocked', Independent: 'ran' });
  assert.equal(error.report.task('Flaky')?.error?.message, 'source unavailable');
  assert.match(error.report.task('Child')!.reason, /upstream Flaky failed/);
  assert.match(error.report.task('Grandchild')!.reason, /upstream Child is blocked/);
  assert.equal(await pipeline.getResult('Independent'), 'ok');
});

test('a failure replaces the older result, which is no longer served', async () => {
  const fail = { value: false };
  const pipeline = failingPipeline(testPipeline(), fail);
  await pipeline.execute(quiet);
  assert.equal(await pipeline.getResult('Flaky'), 'data');
  fail.value = true;
  await assert.rejects(pipeline.execute({ ...quiet, force: ['Flaky'] }), PipelineRunError);
  await assert.rejects(pipeline.getResult('Flaky'), (error: NoFreshResultError) => {
    assert.equal(error.reason, 'failed last run');
    assert.match(error.message, /source unavailable/);
    return true;
  });
});

test('a failure is not remembered once the task succeeds: the next run retries it', async () => {
  const fail = { value: true };
  const pipeline = failingPipeline(testPipeline(), fail);
  await assert.rejects(pipeline.execute(quiet), PipelineRunError);
  fail.value = false;
  const report = await pipeline.execute(quiet);
  assert.deepEqual(statuses(report), { Flaky: 'ran', Child: 'ran', Grandchild: 'ran', Independent: 'cached' });
  assert.match(report.task('Flaky')!.reason, /failed last run/);
  assert.equal(await pipeline.getResult('Grandchild'), 'data!!');
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Flaky: 'cached', Child: 'cached', Grandchild: 'cached', Independent: 'cached' });
});

test('a failed task logs its error with the stack to its log file', async () => {
  const folder = temporaryFolder();
  const pipeline = failingPipeline(new Pipeline('Logs', { cacheDir: folder }), { value: true });
  await assert.rejects(pipeline.execute(quiet), PipelineRunError);
  await pipeline.close();
  const lines = fs.readFileSync(path.join(folder, 'logs', 'Logs', 'Flaky.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  const failure = lines.find((line) => line.msg === 'failed');
  assert.ok(failure, 'a "failed" line is logged');
  assert.equal(failure.level, 50);
  assert.equal(failure.err.message, 'source unavailable');
  assert.match(failure.err.stack, /failures\.test\.ts/);
});

test('execute() rejects with the report after the whole run, not at the first failure', async () => {
  const pipeline = testPipeline();
  pipeline.add(
    new Task('FailsFast').process('run', () => {
      throw new Error('boom');
    }),
    new Task('Slow').process('run', async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return 'slow done';
    }),
  );
  await assert.rejects(pipeline.execute(quiet), PipelineRunError);
  assert.equal(await pipeline.getResult('Slow'), 'slow done');
});
