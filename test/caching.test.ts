import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { NoFreshResultError, Pipeline, Task, expire } from '../lib/index.js';
import { statuses, temporaryFolder, testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

test('a second run serves every fresh task from the cache without calling it', async () => {
  const folder = temporaryFolder();
  let calls = 0;
  const one = new Task('One').process('run', () => ++calls);
  const first = new Pipeline('P', { cacheDir: folder }).add(one);
  assert.deepEqual(statuses(await first.execute(quiet)), { One: 'ran' });
  await first.close();
  const second = new Pipeline('P', { cacheDir: folder }).add(one);
  assert.deepEqual(statuses(await second.execute(quiet)), { One: 'cached' });
  assert.equal(await second.getResult('One'), 1);
  assert.equal(calls, 1);
  await second.close();
});

test('a changed run process re-runs the task, and the report says its code changed', async () => {
  const folder = temporaryFolder();
  const before = new Pipeline('P', { cacheDir: folder }).add(new Task('A').process('run', () => 1));
  await before.execute(quiet);
  await before.close();
  const after = new Pipeline('P', { cacheDir: folder }).add(new Task('A').process('run', () => 2));
  const report = await after.execute(quiet);
  assert.equal(report.task('A')?.status, 'ran');
  assert.equal(report.task('A')?.reason, 'code changed: process run');
  assert.equal(await after.getResult('A'), 2);
  await after.close();
});

test('a changed upstream result re-runs its dependents', async () => {
  const folder = temporaryFolder();
  const build = (value: number) =>
    new Pipeline('P', { cacheDir: folder }).add(
      new Task('Up').process('run', () => value),
      new Task('Down', { dependencies: ['Up'] }).process('run', (t) => t.result<number>('Up') * 10),
    );
  const first = build(1);
  await first.execute(quiet);
  await first.close();
  // The upstream is forced to run and now returns 2: its dependent must follow.
  const second = build(1);
  second.replace(new Task('Up').process('run', () => 2));
  const report = await second.execute(quiet);
  assert.deepEqual(statuses(report), { Up: 'ran', Down: 'ran' });
  assert.equal(report.task('Down')?.reason, 'upstream Up changed');
  assert.equal(await second.getResult('Down'), 20);
  await second.close();
});

test('an upstream that re-runs to the same value leaves its dependents cached (early cutoff)', async () => {
  const pipeline = testPipeline();
  let downstreamCalls = 0;
  pipeline.add(
    new Task('Up').process('run', () => ({ rows: [1, 2, 3] })),
    new Task('Down', { dependencies: ['Up'] }).process('run', (t) => {
      downstreamCalls++;
      return t.result<{ rows: number[] }>('Up').rows.length;
    }),
  );
  await pipeline.execute(quiet);
  const report = await pipeline.execute({ ...quiet, force: ['Up'] });
  assert.deepEqual(statuses(report), { Up: 'ran', Down: 'cached' });
  assert.equal(downstreamCalls, 1);
});

test('early cutoff holds when the same value comes back in another form: passed on from a cached upstream, or held as doubles', async () => {
  const pipeline = testPipeline();
  const calls: string[] = [];
  let scale = 1;
  pipeline.add(
    new Task('Raw').process('run', () => ({ rows: [{ id: 1, tags: ['a', 'b'] }, { id: 2, tags: [] }] })),
    // Returns its upstream's arrays as it gets them: live on the first run, read back from the cache later.
    new Task('Clean', { dependencies: ['Raw'] }).process('run', (t) => t.result<{ rows: unknown[] }>('Raw').rows),
    // The same numbers, held by V8 as doubles once `scale` has been a fraction.
    new Task('Numbers').process('run', () => [2, 4].map((n) => (n * scale) / scale)),
    new Task('Report', { dependencies: ['Clean', 'Numbers'] }).process('run', (t) => {
      calls.push('Report');
      return [t.result<unknown[]>('Clean').length, t.result<number[]>('Numbers')];
    }),
  );
  await pipeline.execute(quiet);
  scale = 0.1;
  const report = await pipeline.execute({ ...quiet, force: ['Clean', 'Numbers'] });
  assert.deepEqual(statuses(report), { Raw: 'cached', Clean: 'ran', Numbers: 'ran', Report: 'cached' });
  assert.deepEqual(calls, ['Report']);
  // A value that really changed still reaches its dependents.
  pipeline.replace(new Task('Numbers').process('run', () => [2, 5]));
  const changed = await pipeline.execute(quiet);
  assert.equal(changed.task('Report')!.status, 'ran');
  assert.deepEqual(await pipeline.getResult('Report'), [2, [2, 5]]);
});

test('early cutoff tells apart values equal but for their order: keys, Map entries and Set members in another order reach the dependents', async () => {
  const pipeline = testPipeline();
  let reversed = false;
  const order = <T>(items: T[]) => (reversed ? [...items].reverse() : items);
  pipeline.add(
    new Task('Columns').process('run', () => Object.fromEntries(order([['region', 'north'], ['amount', 10]]))),
    new Task('Lookup').process('run', () => new Map(order([['a', 1], ['b', 2]]))),
    new Task('Tags').process('run', () => new Set(order(['x', 'y']))),
    // What a dependent makes of them depends on their order: a header row, a listing.
    new Task('Header', { dependencies: ['Columns', 'Lookup', 'Tags'] }).process('run', (t) =>
      [Object.keys(t.result<object>('Columns')), [...t.result<Map<string, number>>('Lookup').keys()], [...t.result<Set<string>>('Tags')]].join(' | ')),
  );
  await pipeline.execute(quiet);
  assert.equal(await pipeline.getResult('Header'), 'region,amount | a,b | x,y');
  reversed = true;
  const report = await pipeline.execute({ ...quiet, force: ['Columns', 'Lookup', 'Tags'] });
  assert.equal(report.task('Header')!.status, 'ran', 'a result in another order is another result');
  assert.equal(await pipeline.getResult('Header'), 'amount,region | b,a | y,x');
});

test('force: true re-runs every task even when all are fresh', async () => {
  const pipeline = testPipeline();
  const calls: string[] = [];
  pipeline.add(
    new Task('A').process('run', () => calls.push('A')),
    new Task('B', { dependencies: ['A'] }).process('run', () => calls.push('B')),
  );
  await pipeline.execute(quiet);
  const report = await pipeline.execute({ ...quiet, force: true });
  assert.deepEqual(statuses(report), { A: 'ran', B: 'ran' });
  assert.equal(report.task('B')?.reason, 'forced');
  assert.deepEqual(calls, ['A', 'B', 'A', 'B']);
});

test('force with names re-runs exactly those tasks', async () => {
  const pipeline = testPipeline();
  let bCalls = 0;
  pipeline.add(new Task('A').process('run', () => 1), new Task('B').process('run', () => ++bCalls));
  await pipeline.execute(quiet);
  const report = await pipeline.execute({ ...quiet, force: ['B'] });
  assert.deepEqual(statuses(report), { A: 'cached', B: 'ran' });
  assert.equal(await pipeline.getResult('B'), 2);
});

test('null and undefined are cached results like any other, and are served', async () => {
  const pipeline = testPipeline();
  let calls = 0;
  pipeline.add(
    new Task('Null').process('run', () => {
      calls++;
      return null;
    }),
    new Task('Undefined').process('run', () => {
      calls++;
      return undefined;
    }),
  );
  await pipeline.execute(quiet);
  const report = await pipeline.execute(quiet);
  assert.deepEqual(statuses(report), { Null: 'cached', Undefined: 'cached' });
  assert.equal(calls, 2);
  assert.equal(await pipeline.getResult('Null'), null);
  assert.equal(await pipeline.getResult('Undefined'), undefined);
});

test('getResult of a task that never ran says so', async () => {
  const pipeline = testPipeline();
  pipeline.add(new Task('Never').process('run', () => 1));
  await assert.rejects(pipeline.getResult('Never'), (error: NoFreshResultError) => {
    assert.ok(error instanceof NoFreshResultError);
    assert.equal(error.reason, 'never ran');
    assert.match(error.message, /Never has no fresh result: it has never run\. Run pipeline\.execute\(\)/);
    return true;
  });
});

test('getResult of an expired result says it expired and why', async () => {
  const pipeline = testPipeline();
  // Far enough ahead that a busy machine still reads the result before it expires.
  const expiresAt = Date.now() + 1000;
  pipeline.add(new Task('Old', { expire: expire.at(new Date(expiresAt)) }).process('run', () => 'v'));
  await pipeline.execute(quiet);
  assert.equal(await pipeline.getResult('Old'), 'v');
  await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 30));
  await assert.rejects(pipeline.getResult('Old'), (error: NoFreshResultError) => error.reason === 'expired' && /expired/.test(error.message));
  const report = await pipeline.execute(quiet);
  assert.equal(report.task('Old')?.status, 'ran');
  assert.match(report.task('Old')!.reason, /^expired/);
});

test('getResult of a task whose code changed since it ran says it is out of date', async () => {
  const pipeline = testPipeline();
  pipeline.add(new Task('A').process('run', () => 1));
  await pipeline.execute(quiet);
  pipeline.replace(new Task('A').process('run', () => 2));
  await assert.rejects(pipeline.getResult('A'), (error: NoFreshResultError) => error.reason === 'out of date' && /code changed/.test(error.message));
});

test('getResult of a task whose upstream result changed since it ran says it is out of date', async () => {
  const pipeline = testPipeline();
  pipeline.add(
    new Task('Up').process('run', () => 1),
    new Task('Down', { dependencies: ['Up'] }).process('run', (t) => t.result<number>('Up')),
  );
  await pipeline.execute(quiet);
  pipeline.replace(new Task('Up').process('run', () => 2));
  await pipeline.execute({ ...quiet, only: ['Up'] });
  await assert.rejects(pipeline.getResult('Down'), (error: NoFreshResultError) => error.reason === 'out of date' && /dependency Up changed/.test(error.message));
});

test('only runs the named tasks and what they need, leaving the rest alone', async () => {
  const pipeline = testPipeline();
  const calls: string[] = [];
  pipeline.add(
    new Task('Base').process('run', () => calls.push('Base')),
    new Task('Wanted', { dependencies: ['Base'] }).process('run', () => calls.push('Wanted')),
    new Task('Other').process('run', () => calls.push('Other')),
  );
  const report = await pipeline.execute({ ...quiet, only: ['Wanted'] });
  assert.deepEqual(calls.sort(), ['Base', 'Wanted']);
  assert.equal(report.task('Other')?.status, 'skipped');
  await assert.rejects(pipeline.getResult('Other'), NoFreshResultError);
});

test('skip does not execute a task; its fresh cached result still serves its dependents', async () => {
  const pipeline = testPipeline();
  let upCalls = 0;
  pipeline.add(
    new Task('Up').process('run', () => ++upCalls),
    new Task('Down', { dependencies: ['Up'] }).process('run', (t) => t.result<number>('Up') + 100),
  );
  const blocked = await pipeline.execute({ ...quiet, skip: ['Up'] });
  assert.deepEqual(statuses(blocked), { Up: 'skipped', Down: 'blocked' });
  assert.match(blocked.task('Down')!.reason, /Up was skipped and has no fresh cached result/);
  await pipeline.execute(quiet);
  pipeline.replace(new Task('Down', { dependencies: ['Up'] }).process('run', (t) => t.result<number>('Up') + 200));
  const served = await pipeline.execute({ ...quiet, skip: ['Up'] });
  assert.deepEqual(statuses(served), { Up: 'skipped', Down: 'ran' });
  assert.equal(await pipeline.getResult('Down'), 201);
  assert.equal(upCalls, 1);
});

test('skip wins over force: with everything forced, a skipped task still serves its fresh cached result', async () => {
  const pipeline = testPipeline();
  let upCalls = 0;
  let downCalls = 0;
  pipeline.add(
    new Task('Up').process('run', () => ++upCalls),
    new Task('Down', { dependencies: ['Up'] }).process('run', (t) => ++downCalls + t.result<number>('Up') * 100),
  );
  await pipeline.execute(quiet);
  const report = await pipeline.execute({ ...quiet, force: true, skip: ['Up'] });
  assert.deepEqual(statuses(report), { Up: 'skipped', Down: 'ran' });
  assert.match(report.task('Up')!.reason, /its cached result is used/);
  assert.equal(await pipeline.getResult('Down'), 102);
  assert.equal(upCalls, 1);
  // A skipped task that is stale on its own account still cannot serve, forced or not.
  pipeline.replace(new Task('Up').process('run', () => -1));
  const stale = await pipeline.execute({ ...quiet, force: true, skip: ['Up'] });
  assert.deepEqual(statuses(stale), { Up: 'skipped', Down: 'blocked' });
  assert.match(stale.task('Up')!.reason, /code changed/);
});

test('clear drops cached results so the tasks run again', async () => {
  const pipeline = testPipeline();
  pipeline.add(new Task('A').process('run', () => 1), new Task('B').process('run', () => 2));
  await pipeline.execute(quiet);
  await pipeline.clear(['A']);
  await assert.rejects(pipeline.getResult('A'), (error: NoFreshResultError) => error.reason === 'never ran');
  assert.equal(await pipeline.getResult('B'), 2);
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { A: 'ran', B: 'cached' });
  await pipeline.clear();
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { A: 'ran', B: 'ran' });
});

test('the cache folder and its missing parents are created', async () => {
  const deep = path.join(temporaryFolder(), 'not', 'yet', 'there');
  const pipeline = new Pipeline('P', { cacheDir: deep }).add(new Task('A').process('run', () => 1));
  await pipeline.execute(quiet);
  await pipeline.close();
  assert.ok(fs.existsSync(path.join(deep, 'cache.sqlite')));
  assert.ok(fs.existsSync(path.join(deep, 'logs', 'P', 'runs')), 'the run log folder is created');
});

test('LITTLEPIPES_DIR chooses the cache folder when cacheDir is not given', async () => {
  const folder = temporaryFolder();
  const previous = process.env.LITTLEPIPES_DIR;
  process.env.LITTLEPIPES_DIR = folder;
  try {
    const pipeline = new Pipeline('FromEnv').add(new Task('A').process('run', () => 1));
    assert.equal(pipeline.cacheDir, folder);
    await pipeline.execute(quiet);
    await pipeline.close();
    assert.ok(fs.existsSync(path.join(folder, 'cache.sqlite')));
  } finally {
    if (previous === undefined) delete process.env.LITTLEPIPES_DIR;
    else process.env.LITTLEPIPES_DIR = previous;
  }
});

test('pipelines sharing a cache file keep their results apart by name', async () => {
  const folder = temporaryFolder();
  const one = new Pipeline('One', { cacheDir: folder }).add(new Task('T').process('run', () => 'one'));
  const two = new Pipeline('Two', { cacheDir: folder }).add(new Task('T').process('run', () => 'two'));
  await one.execute(quiet);
  await two.execute(quiet);
  assert.equal(await one.getResult('T'), 'one');
  assert.equal(await two.getResult('T'), 'two');
  await one.close();
  await two.close();
});

test('a Keyv store adapter can replace the SQLite file', async () => {
  const map = new Map();
  const folder = temporaryFolder();
  const pipeline = new Pipeline('Mem', { cacheDir: folder, store: map }).add(new Task('A').process('run', () => new Map([[1, 'x']])));
  await pipeline.execute(quiet);
  assert.ok(map.size > 0);
  assert.deepEqual(await pipeline.getResult('A'), new Map([[1, 'x']]));
  assert.ok(!fs.existsSync(path.join(folder, 'cache.sqlite')));
  await pipeline.close();
});

test('a process built at run time is compared by its own text, since its call site does not show it', async () => {
  // One call site for every version: only the function's text tells them apart.
  const make = (body: string) => new Task('Built').process('run', new Function('t', body) as (t: unknown) => number);
  const pipeline = testPipeline();
  pipeline.add(make('return 1'));
  await pipeline.execute(quiet);
  pipeline.replace(make('return 1'));
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Built: 'cached' }, 'the same text: nothing to run');
  pipeline.replace(make('return 2'));
  const report = await pipeline.execute(quiet);
  assert.equal(report.task('Built')?.reason, 'code changed: process run (runtime text)');
  assert.equal(await pipeline.getResult('Built'), 2);
});
