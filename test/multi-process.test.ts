import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIXTURE_TASKS as TASKS, assertKilledHolderTakenOver, duplicates, executions, sharedProject as project, startPipeline as start } from './pipeline-processes.js';

test('four processes started at once on one cache finish without errors, and each task executes once', { timeout: 120_000 }, async () => {
  const where = project();
  const runners = Array.from({ length: 4 }, () => start(where));
  const codes = await Promise.all(runners.map((runner) => runner.exit));
  for (const runner of runners) assert.doesNotMatch(runner.output(), /database is locked|SQLITE_BUSY|Error/i, runner.output());
  assert.deepEqual(codes, [0, 0, 0, 0], runners.map((runner) => runner.output()).join('\n---\n'));
  const counts = executions(where.executions);
  assert.equal(counts.size, TASKS, 'every task executed');
  assert.deepEqual(duplicates(counts), [], 'no task executed twice');
  const served = runners.map((runner) => runner.output()).join('\n');
  assert.match(served, /"cached":\d*[1-9]/, 'some process served results another computed');
});

test('a process that starts while another is mid-run waits for the tasks that one is computing', { timeout: 120_000 }, async () => {
  const where = project();
  const first = start(where);
  await first.waitFor('▶ T6 started');
  const second = start(where);
  await second.waitFor('report');
  await first.waitFor('report');
  assert.deepEqual(await Promise.all([first.exit, second.exit]), [0, 0], `${first.output()}\n---\n${second.output()}`);
  const counts = executions(where.executions);
  assert.equal(counts.size, TASKS);
  assert.deepEqual(duplicates(counts), [], 'no task executed twice');
});

test('a lease left by a killed process is taken over: the waiting process computes the task itself', { timeout: 120_000 }, async () => {
  await assertKilledHolderTakenOver(project());
});
