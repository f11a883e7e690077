// new Pipeline(name, { tasks }) holds the tasks as add() would: the form that keeps their types
// when the tasks are defined in statements of their own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pipeline, Task } from '../lib/index.js';
import { statuses, temporaryFolder } from './helpers.js';

const quiet = { progress: false } as const;

test('the tasks option adds the tasks, in any order, as add() does', async () => {
  const orders = new Task('Orders').process('run', () => [3, 4]);
  const total = new Task('Total', { dependencies: [orders] }).process('run', (t) => t.result(orders).reduce((sum, n) => sum + n, 0));
  const pipeline = new Pipeline('Sales', { cacheDir: temporaryFolder(), tasks: [total, orders] });
  assert.deepEqual(pipeline.tasks.map((task) => task.name), ['Orders', 'Total']);
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Orders: 'ran', Total: 'ran' });
  assert.equal(await pipeline.getResult('Total'), 7);
  await pipeline.close();
});

test('add() returns the pipeline itself, with the added tasks, however its result is kept', async () => {
  const pipeline = new Pipeline('Sales', { cacheDir: temporaryFolder(), tasks: [new Task('Orders').process('run', () => 1)] });
  const more = pipeline.add(new Task('Refunds').process('run', () => 2));
  assert.ok(more === pipeline, 'add() returns the pipeline it was called on');
  await more.execute(quiet);
  assert.equal(await more.getResult('Refunds'), 2);
  assert.equal(await more.getResult('Orders'), 1);
  await pipeline.close();
});
