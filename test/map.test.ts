import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidOptionError, PipelineRunError, Task } from '../lib/index.js';
import { testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

test('a mapped task runs once per item; a changed or added item runs alone, a removed one is dropped; the result keeps the order', async () => {
  let files = ['a.csv', 'b.csv', 'c.csv'];
  const parsed: string[] = [];
  const pipeline = testPipeline('Map').add(
    new Task('ListFiles').process('run', () => files),
    new Task('Parse', { dependencies: ['ListFiles'], map: { over: 'ListFiles' } }).process('run', (t, file: string, index: number) => {
      parsed.push(file);
      return `${index}:${file.toUpperCase()}`;
    }),
  );
  await pipeline.execute(quiet);
  assert.deepEqual(await pipeline.getResult('Parse'), ['0:A.CSV', '1:B.CSV', '2:C.CSV']);
  assert.deepEqual(parsed.sort(), ['a.csv', 'b.csv', 'c.csv']);

  parsed.length = 0;
  files = ['b.csv', 'a.csv', 'd.csv'];
  const report = await pipeline.execute({ ...quiet, force: ['ListFiles'] });
  assert.deepEqual(parsed, ['d.csv'], 'only the new item runs');
  assert.match(report.task('Parse')!.reason, /1 of 3 items ran, 2 cached/);
  // Cached items keep the result they were computed with (their index then): an item is its content.
  assert.deepEqual(await pipeline.getResult('Parse'), ['1:B.CSV', '0:A.CSV', '2:D.CSV']);
  const cache = await pipeline.listCache({ all: true });
  assert.deepEqual(cache.map((line) => line.task), ['ListFiles', 'Parse'], 'items are not listed as tasks');
});

test('items are told apart by content, not by their string form', async () => {
  const pipeline = testPipeline('Content').add(
    new Task('Values').process('run', () => [1, '1', { id: 1 }, { id: '1' }]),
    new Task('Kind', { dependencies: ['Values'], map: { over: 'Values' } }).process('run', (t, value: unknown) => typeof value === 'object' ? `object ${typeof (value as { id: unknown }).id}` : typeof value),
  );
  await pipeline.execute(quiet);
  assert.deepEqual(await pipeline.getResult('Kind'), ['number', 'string', 'object number', 'object string']);
});

test('a path into the upstream result; a cached provider still feeds the map when the mapped task must run', async () => {
  let listed = 0;
  let suffix = '!';
  const build = () => testPipeline('Path').add(
    new Task('Listing').process('run', () => {
      listed++;
      return { folder: 'data', files: ['x', 'y'] };
    }),
    new Task('Shout', { dependencies: ['Listing'], map: { over: 'Listing.files', concurrency: 1 } }).process('run', (t, file: string) => file + suffix),
  );
  const pipeline = build();
  await pipeline.execute(quiet);
  assert.deepEqual(await pipeline.getResult('Shout'), ['x!', 'y!']);
  suffix = '?';
  const report = await pipeline.execute({ ...quiet, force: ['Shout'] });
  assert.equal(report.task('Listing')?.status, 'cached');
  assert.equal(listed, 1);
  assert.deepEqual(await pipeline.getResult('Shout'), ['x?', 'y?'], 'the provider\'s cached list fed the map: not zero items');
});

test('items run up to map.concurrency at once', async () => {
  let running = 0;
  let most = 0;
  const pipeline = testPipeline('Concurrent').add(
    new Task('Ids').process('run', () => Array.from({ length: 8 }, (_, i) => i)),
    new Task('Fetch', { dependencies: ['Ids'], map: { over: 'Ids', concurrency: 3 } }).process('run', async (t, id: number) => {
      most = Math.max(most, ++running);
      await sleep(15);
      running--;
      return id * 2;
    }),
  );
  await pipeline.execute(quiet);
  assert.equal(most, 3);
  assert.deepEqual(await pipeline.getResult('Fetch'), [0, 2, 4, 6, 8, 10, 12, 14]);
});

test('mapping over something that is not an array fails the task with a clear error; map.over must be a dependency', async () => {
  const pipeline = testPipeline('NotArray').add(
    new Task('Config').process('run', () => ({ files: 'a.csv' })),
    new Task('Parse', { dependencies: ['Config'], map: { over: 'Config.files' } }).process('run', (t, file: string) => file),
  );
  const error = await pipeline.execute(quiet).then(() => assert.fail('should fail'), (thrown: unknown) => thrown);
  assert.ok(error instanceof PipelineRunError);
  assert.match(error.report.task('Parse')!.error!.message, /Parse maps over Config\.files, which is "a\.csv" \(string\), not an array/);
  assert.throws(() => new Task('Loose', { map: { over: 'Elsewhere' } }), (thrown: unknown) => thrown instanceof InvalidOptionError && /Elsewhere must be one of its dependencies/.test(thrown.message));
});
