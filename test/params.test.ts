import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError, NoFreshResultError, Task } from '../lib/index.js';
import { statuses, testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

const filter = (params: Record<string, unknown>) =>
  new Task('Filter', { params }).process('run', (t) => (t.params.values as number[]).filter((value) => value >= (t.params.minimum as number)));

test('a task reads its params as t.params, and they are part of its fingerprint', async () => {
  const pipeline = testPipeline().add(filter({ minimum: 2, values: [1, 2, 3] }));
  await pipeline.execute(quiet);
  assert.deepEqual(await pipeline.getResult('Filter'), [2, 3]);
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Filter: 'cached' });
});

test('a changed param re-runs the task, and the reason names the key with its old and new value', async () => {
  const pipeline = testPipeline().add(filter({ minimum: 2, values: [1, 2, 3] }));
  await pipeline.execute(quiet);
  pipeline.replace(filter({ minimum: 3, values: [1, 2, 3], label: 'new' }));
  await assert.rejects(pipeline.getResult('Filter'), (error: NoFreshResultError) => error.reason === 'out of date' && /params changed/.test(error.message));
  const report = await pipeline.execute(quiet);
  assert.equal(report.task('Filter')?.status, 'ran');
  assert.equal(report.task('Filter')?.reason, 'params changed: minimum 2 → 3, label (none) → "new"');
  assert.deepEqual(await pipeline.getResult('Filter'), [3]);
});

test('the order of keys in params does not matter', async () => {
  const pipeline = testPipeline().add(filter({ minimum: 2, values: [1, 2, 3], nested: { a: 1, b: 2 } }));
  await pipeline.execute(quiet);
  pipeline.replace(filter({ nested: { b: 2, a: 1 }, values: [1, 2, 3], minimum: 2 }));
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Filter: 'cached' });
});

test('params are copied and frozen: changing the object passed in changes nothing', async () => {
  const params = { minimum: 2, values: [1, 2, 3] };
  const task = filter(params);
  params.minimum = 100;
  params.values.push(4);
  assert.deepEqual(task.params, { minimum: 2, values: [1, 2, 3] });
  assert.throws(() => {
    (task.params as Record<string, unknown>).minimum = 5;
  }, TypeError);
});

for (const [label, params, path] of [
  ['a Date', { when: new Date(0) }, 'params.when'],
  ['NaN', { ratio: Number.NaN }, 'params.ratio'],
  ['a function', { pick: () => 1 }, 'params.pick'],
  ['undefined', { missing: undefined }, 'params.missing'],
  ['a nested Map', { lookup: [{ table: new Map() }] }, 'params.lookup[0].table'],
] as const) {
  test(`params holding ${label} are refused, naming where it is`, () => {
    assert.throws(
      () => new Task('Bad', { params: params as Record<string, unknown> }),
      (error: InvalidOptionError) => error instanceof InvalidOptionError && error.option === 'params' && error.message.startsWith(`Task "Bad": ${path} is `),
    );
  });
}

test('params that are not an object are refused', () => {
  // @ts-expect-error params must be an object
  assert.throws(() => new Task('Bad', { params: [1, 2] }), /params must be a plain object of JSON values, got an array/);
});
