import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pipeline, Task, UndeclaredDependencyError, renderTable, tasksIn } from '../lib/index.js';
import { testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

test('the statement form registers a process under its function\'s own name', async () => {
  const task = new Task('Statement');
  task.process(function extract() {
    return [1, 2, 3];
  });
  task.process(function run(t) {
    return t.extract().length;
  });
  assert.deepEqual([...task.processes.keys()], ['extract', 'run']);
  const pipeline = testPipeline().add(task);
  await pipeline.execute(quiet);
  assert.equal(await pipeline.getResult('Statement'), 3);
});

test('the context gives a process its task name, pipeline, logger and signal', async () => {
  const seen: Record<string, unknown> = {};
  const pipeline = testPipeline('Ctx');
  pipeline.add(
    new Task('Inspect').process('run', (t) => {
      seen.name = t.name;
      seen.pipeline = t.pipeline;
      seen.log = typeof t.log.info;
      seen.signal = t.signal instanceof AbortSignal;
      seen.params = t.params;
      return 1;
    }),
  );
  await pipeline.execute(quiet);
  assert.deepEqual(seen, { name: 'Inspect', pipeline, log: 'function', signal: true, params: {} });
});

test('t.result of a task that is not a declared dependency fails the task', async () => {
  const pipeline = testPipeline().add(
    new Task('A').process('run', () => 1),
    // @ts-expect-error an undeclared dependency is a compile error too; this is the run-time check
    new Task('Sneaky').process('run', (t) => t.result('A')),
  );
  const error = await pipeline.execute(quiet).then(() => undefined, (thrown: { report: { task(name: string): { error?: Error } } }) => thrown);
  assert.ok(error?.report.task('Sneaky').error instanceof UndeclaredDependencyError);
  assert.match(error!.report.task('Sneaky').error!.message, /Add "A" to the dependencies of Sneaky/);
});

test('tasksIn collects the Task instances a module exports, arrays included', () => {
  const a = new Task('A');
  const b = new Task('B');
  const c = new Task('C');
  const namespace = { a, b, notATask: 42, helper: () => 1, more: [c, a] };
  assert.deepEqual(tasksIn(namespace), [a, b, c]);
});

test('pipeline.tasks lists tasks in dependency order, and getTask finds one by name', () => {
  const pipeline = new Pipeline('Order').add(
    new Task('Report', { dependencies: ['Clean'] }).process('run', () => 0),
    new Task('Clean', { dependencies: ['Load'] }).process('run', () => 0),
    new Task('Load').process('run', () => 0),
  );
  assert.deepEqual(pipeline.tasks.map((task) => task.name), ['Load', 'Clean', 'Report']);
  assert.equal(pipeline.getTask('Clean').name, 'Clean');
});

test('the report renders as a table with task, status, time and processes', async () => {
  const pipeline = testPipeline().add(
    new Task('Two').process('half', () => 1).process('run', (t) => t.half() + t.half()),
  );
  const table = renderTable(await pipeline.execute(quiet));
  assert.match(table, /│ task\s+│ status\s+│ time\s+│ processes\s+│/);
  assert.match(table, /│ Two\s+│ ran \(not cached\)\s+│ [\d.]+ ms\s+│ run [\d.]+ ms, half [\d.]+ ms ×2\s+│/);
  assert.match(table, /Test: 1 ran in [\d.]+ ms$/);
  const json = JSON.parse(JSON.stringify(await pipeline.execute(quiet)));
  assert.equal(json.tasks[0].status, 'cached');
  assert.equal(json.counts.cached, 1);
});

test('a large report folds cached tasks into one line', async () => {
  const tasks = Array.from({ length: 40 }, (_, index) => new Task(`T${index}`).process('run', () => index));
  const pipeline = testPipeline().add(...tasks);
  await pipeline.execute(quiet);
  pipeline.replace(new Task('T7').process('run', () => 'changed'));
  const table = renderTable(await pipeline.execute(quiet));
  assert.match(table, /│ T7\s+│ ran \(code changed: process run\)/);
  assert.match(table, /… 39 more\s+│ cached or skipped/);
  assert.doesNotMatch(table, /│ T8 /);
});
