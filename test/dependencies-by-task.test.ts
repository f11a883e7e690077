// A Task in `dependencies`, `requires` or `anyOf(...)` stands for its name: the run sees names
// only, and `t.result` and `t.has` take the task or its name alike.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Task, anyOf } from '../lib/index.js';
import { statuses, testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

test('a Task among the dependencies stands for its name, mixed with names', async () => {
  const one = new Task('TaskOne').process('run', () => 1);
  const two = new Task('TaskTwo').process('run', () => 2);
  const three = new Task('TaskThree').process('run', () => 3);
  const sum = new Task('Sum', { dependencies: [one, two, 'TaskThree'] }).process('run', (t) => t.result(one) + t.result('TaskTwo') + t.result<number>('TaskThree'));
  assert.deepEqual(sum.dependencies, ['TaskOne', 'TaskTwo', 'TaskThree']);
  const pipeline = testPipeline().add(sum, one, two, three);
  await pipeline.execute(quiet);
  assert.equal(await pipeline.getResult('Sum'), 6);
});

test('the same task given as itself and by name is one dependency', () => {
  const one = new Task('TaskOne').process('run', () => 1);
  assert.deepEqual(new Task('Twice', { dependencies: [one, 'TaskOne'] }).dependencies, ['TaskOne']);
});

test('requires and anyOf take tasks too, and t.has tells which member of a gate ran', async () => {
  const index = new Task('BuildIndex').process('run', () => 'built');
  const full = new Task('LoadFull', { stage: 'source' }).process('run', () => [1, 2, 3]);
  const sample = new Task('LoadSample', { stage: 'source' }).process('run', () => [1]);
  const query = new Task('Query', { requires: [index], dependencies: [anyOf(full, sample)] })
    .process('run', (t) => `${t.has(full) ? 'full' : 'sample'}: ${(t.has(full) ? t.result(full) : t.result(sample)).length}`);
  assert.deepEqual(query.requires, ['BuildIndex']);
  assert.deepEqual(query.gates, [{ anyOf: ['LoadFull', 'LoadSample'], passesResults: true }]);
  const pipeline = testPipeline().add(index, full, sample, query);
  const report = await pipeline.execute({ ...quiet, profile: { name: 'sample', stages: { source: ['LoadSample'] } } });
  assert.deepEqual(statuses(report), { BuildIndex: 'ran', LoadFull: 'skipped', LoadSample: 'ran', Query: 'ran' });
  assert.equal(await pipeline.getResult('Query'), 'sample: 1');
});
