import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Pipeline, PipelineRunError, Task, UncacheableResultError } from '../lib/index.js';
import { temporaryFolder } from './helpers.js';

const quiet = { progress: false } as const;

/** Stores `value` as a task result, then reads it back through a new Pipeline on the same cache. */
async function roundTrip(value: unknown): Promise<unknown> {
  const folder = temporaryFolder();
  const task = new Task('Value').process('run', () => value);
  const writer = new Pipeline('RoundTrip', { cacheDir: folder }).add(task);
  await writer.execute(quiet);
  await writer.close();
  const reader = new Pipeline('RoundTrip', { cacheDir: folder }).add(task);
  const result = await reader.getResult('Value');
  await reader.close();
  return result;
}

test('structured-clone values round-trip exactly through the cache', async () => {
  const value = {
    date: new Date('2026-03-08T07:30:00Z'),
    map: new Map<unknown, unknown>([['a', 1], [2, { nested: [new Set([1, 2])] }]]),
    set: new Set(['x', 'y']),
    big: 12345678901234567890n,
    regexp: /ab+c/giu,
    floats: new Float64Array([1.5, Number.NaN, -0, Infinity]),
    ints: new Int32Array([1, -2, 3]),
    bigints: new BigUint64Array([2n ** 64n - 1n]),
    buffer: Buffer.from('héllo'),
    arrayBuffer: new Uint8Array([9, 8, 7]).buffer,
    nested: { deep: [[1, [2, [3, { four: 4 }]]]], missing: undefined, nothing: null },
    sparse: [1, , 3],
    error: new RangeError('out of range'),
  };
  const result = (await roundTrip(value)) as typeof value;
  assert.deepEqual(result, value);
  assert.ok(result.date instanceof Date);
  assert.ok(result.map instanceof Map);
  assert.ok(result.buffer instanceof Buffer, 'a Buffer comes back as a Buffer');
  assert.ok(result.floats instanceof Float64Array);
  assert.ok(Object.is(result.floats[2], -0), '-0 survives');
  assert.ok('missing' in result.nested, 'undefined properties survive');
  assert.ok(!(1 in result.sparse), 'holes survive');
  assert.ok(result.error instanceof RangeError);
});

test('circular references round-trip', async () => {
  const node: { name: string; self?: unknown } = { name: 'loop' };
  node.self = node;
  const result = (await roundTrip(node)) as typeof node;
  assert.equal(result.self, result);
});

test('large results are stored beside the cache and read back exactly', async () => {
  const values = new Float64Array(1_000_000).map((_, index) => index * 0.5);
  const result = (await roundTrip(values)) as Float64Array;
  assert.equal(result.length, values.length);
  assert.deepEqual(result.subarray(999_990), values.subarray(999_990));
});

test('a large result that is replaced does not leave its old file behind', async () => {
  const folder = temporaryFolder();
  const pipeline = new Pipeline('Blobs', { cacheDir: folder });
  pipeline.add(new Task('Big').process('run', () => new Uint8Array(200_000).fill(1)));
  await pipeline.execute(quiet);
  pipeline.replace(new Task('Big').process('run', () => new Uint8Array(200_000).fill(2)));
  await pipeline.execute(quiet);
  await pipeline.close();
  const files = fs.readdirSync(path.join(folder, 'blobs', 'Blobs'));
  assert.equal(files.length, 1, `one file left, found ${files.join(', ')}`);
});

class Model {
  predict() {
    return 1;
  }
}

for (const [label, value, expected] of [
  ['a function nested in an object', { model: { predict: () => 1 } }, 'Bad: result.model.predict is a function'],
  ['a class instance', { model: new Model() }, 'Bad: result.model is an instance of Model, which would come back as a plain object'],
  ['a symbol in an array', [1, Symbol('s')], 'Bad: result[1] is a symbol'],
  ['a promise', { pending: Promise.resolve(1) }, 'Bad: result.pending is a Promise'],
  ['a function inside a Map', new Map([['fn', () => 1]]), 'Bad: result.get("fn") is a function'],
] as const) {
  test(`a result holding ${label} fails its task with the path of the problem, and nothing else is lost`, async () => {
    const folder = temporaryFolder();
    const pipeline = new Pipeline('Uncacheable', { cacheDir: folder }).add(
      new Task('Bad').process('run', () => value),
      new Task('Good').process('run', () => 'fine'),
    );
    const error = await pipeline.execute(quiet).then(() => undefined, (thrown: unknown) => thrown);
    assert.ok(error instanceof PipelineRunError);
    const failure = error.report.task('Bad')?.error;
    assert.ok(failure instanceof UncacheableResultError);
    assert.equal(failure.code, 'ERR_UNCACHEABLE_RESULT');
    assert.ok(failure.message.startsWith(expected), failure.message);
    assert.equal(await pipeline.getResult('Good'), 'fine');
    await pipeline.close();
  });
}

test('the uncacheable check finds a class instance behind a cycle or as a Map key', async () => {
  const { findUncacheable } = await import('../lib/cache/codec.js');
  const cyclic: { next?: unknown; payload?: unknown } = {};
  cyclic.next = { back: cyclic, deeper: [{ payload: new Model() }] };
  assert.deepEqual(findUncacheable(cyclic), { path: 'result.next.deeper[0].payload', problem: 'is an instance of Model, which would come back as a plain object' });
  assert.equal(findUncacheable(new Map([[new Model(), 1]]))?.path, 'result<key [object Object]>');
});

test('symbol-keyed properties are left out, as structuredClone leaves them out', async () => {
  const tag = Symbol('tag');
  const result = (await roundTrip({ kept: 1, [tag]: 'dropped' })) as Record<string | symbol, unknown>;
  assert.deepEqual(result, structuredClone({ kept: 1, [tag]: 'dropped' }));
  assert.equal(tag in result, false);
});

test('the uncacheable check accepts large results with shared and circular references', async () => {
  const { findUncacheable } = await import('../lib/cache/codec.js');
  const shared = { unit: 'kg' };
  const rows = Array.from({ length: 100_000 }, (_, id) => ({ id, name: `row ${id}`, value: id / 3, flag: id % 2 === 0, shared }));
  const table: { rows: unknown[]; self?: unknown } = { rows };
  table.self = table;
  assert.equal(findUncacheable(table), undefined);
});
