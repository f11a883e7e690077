import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pipeline, type RunReport, Task } from '../lib/index.js';
import { statuses, temporaryFolder, testPipeline } from './helpers.js';

function threeTasks(pipeline: Pipeline, fail = false) {
  return pipeline.add(
    new Task('Load').process('run', () => [1, 2, 3]),
    new Task('Clean', { dependencies: ['Load'] }).process('run', (t) => {
      if (fail) throw new Error('bad rows');
      return t.result<number[]>('Load').filter((n) => n > 1);
    }),
    new Task('Report', { dependencies: ['Clean'] }).process('run', (t) => t.result<number[]>('Clean').length),
  );
}

test('every run is kept in the history, the newest first, with each task\'s status and times', async () => {
  const pipeline = threeTasks(testPipeline('History'));
  await pipeline.execute({ progress: false });
  await pipeline.execute({ progress: false, force: ['Report'] });
  const [second, first, ...older] = await pipeline.history();
  assert.equal(older.length, 0);
  assert.deepEqual(statuses(first!), { Load: 'ran', Clean: 'ran', Report: 'ran' });
  assert.deepEqual(statuses(second!), { Load: 'cached', Clean: 'cached', Report: 'ran' });
  assert.ok(Date.parse(second!.startedAt) >= Date.parse(first!.startedAt));
  const report = first!.tasks.find((task) => task.name === 'Report')!;
  assert.ok(report.startMs! >= first!.tasks.find((task) => task.name === 'Clean')!.endMs!, 'Report starts after Clean ends');
});

test('the history survives the process: a new Pipeline object on the same cache reads it', async () => {
  const cacheDir = temporaryFolder();
  const first = threeTasks(new Pipeline('Survives', { cacheDir }), true);
  await assert.rejects(first.execute({ progress: false }));
  await first.close();
  const second = new Pipeline('Survives', { cacheDir });
  const [run] = await second.history();
  assert.equal(run?.counts.failed, 1);
  assert.equal(run?.tasks.find((task) => task.name === 'Clean')?.error?.message, 'bad rows');
  await second.close();
});

test('the history keeps the last 20 runs', async () => {
  const pipeline = testPipeline('Twenty').add(new Task('A').process('run', () => 1));
  for (let i = 0; i < 23; i++) await pipeline.execute({ progress: false, force: true });
  assert.equal((await pipeline.history()).length, 20);
  assert.equal((await pipeline.history({ limit: 3 })).length, 3);
});

test('listCache lists each cached task with its state and size; with all, entries of removed tasks too', async () => {
  const cacheDir = temporaryFolder();
  const before = threeTasks(new Pipeline('Listing', { cacheDir }));
  before.add(new Task('Old').process('run', () => 'x'.repeat(1000)));
  await before.execute({ progress: false });
  await before.close();
  const after = threeTasks(new Pipeline('Listing', { cacheDir }), true);
  await assert.rejects(after.execute({ progress: false, force: ['Clean'] }));
  const listing = await after.listCache();
  assert.deepEqual(listing.map((line) => [line.task, line.state]), [['Load', 'ok'], ['Clean', 'failed'], ['Report', 'ok']]);
  assert.equal(listing[1]!.error, 'bad rows');
  const all = await after.listCache({ all: true });
  const old = all.find((line) => line.task === 'Old');
  assert.equal(old?.defined, false);
  assert.ok(old!.bytes >= 1000, `Old's result is about 1000 bytes, listed as ${old?.bytes}`);
  await after.close();
});

test('purge drops every entry of the pipeline, removed tasks and history included, and nothing of another pipeline', async () => {
  const cacheDir = temporaryFolder();
  const other = threeTasks(new Pipeline('Other', { cacheDir }));
  await other.execute({ progress: false });
  const before = threeTasks(new Pipeline('Purged', { cacheDir })).add(new Task('Old').process('run', () => 1));
  await before.execute({ progress: false });
  await before.close();
  const after = threeTasks(new Pipeline('Purged', { cacheDir }));
  assert.equal(await after.purge(), 4);
  assert.deepEqual(await after.listCache({ all: true }), []);
  assert.deepEqual(await after.history(), []);
  assert.equal(await other.getResult('Report'), 2);
  assert.equal((await other.history()).length, 1);
  await after.close();
  await other.close();
});

test('the history gives back each task as the report had it: status, reason, times to the microsecond, processes, attempts and the error message', async () => {
  let calls = 0;
  const pipeline = testPipeline('HistoryFields').add(
    new Task('Load').process('clean', () => 1).process('run', (t) => t.clean() + t.clean()),
    new Task('Flaky', { retries: { count: 1, delayMs: 1 } }).process('run', () => {
      if (++calls === 1) throw new Error('first try');
      return 2;
    }),
    new Task('Broken', { dependencies: ['Load'] }).process('run', () => {
      throw new Error('bad rows');
    }),
    new Task('After', { dependencies: ['Broken'] }).process('run', () => 3),
  );
  const report = await pipeline.execute({ progress: false }).then(
    () => assert.fail('the run succeeded with a failing task'),
    (thrown: unknown) => (thrown as { report: RunReport }).report,
  );
  const expected = report.toJSON();
  const [run] = await pipeline.history();
  const toMicroseconds = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms * 1000) / 1000);
  assert.deepEqual(run, {
    ...expected,
    tasks: expected.tasks.map(({ error: failure, ...task }) => ({
      ...task,
      ms: toMicroseconds(task.ms),
      ...(task.startMs === undefined ? {} : { startMs: toMicroseconds(task.startMs), endMs: toMicroseconds(task.endMs) }),
      processes: task.processes.map((process) => ({ ...process, ms: toMicroseconds(process.ms) })),
      ...(failure ? { error: { message: failure.message } } : {}),
    })),
  });
  assert.deepEqual(run!.tasks.find((task) => task.name === 'Load')!.processes.map(({ name, calls: count }) => [name, count]), [['run', 1], ['clean', 2]]);
  assert.equal(run!.tasks.find((task) => task.name === 'Flaky')!.attempts, 2);
  assert.equal(run!.tasks.find((task) => task.name === 'After')!.status, 'blocked');
});
