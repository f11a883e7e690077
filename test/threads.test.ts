// The threads executor: tasks run in worker threads (piscina), in parallel, off the main thread.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type AnyTask, PipelineRunError, type RunReport } from '../lib/index.js';
import * as arrow from 'apache-arrow';
import { barrierA, barrierB, fails, make, makeTable, readTable, returnsFunction, stays, use } from './fixtures/thread-tasks.js';
import { statuses, temporaryFolder, testPipeline } from './helpers.js';

test('two tasks run at once in two worker threads, and the main thread stays free meanwhile', async () => {
  process.env.LITTLEPIPES_TEST_BARRIER = temporaryFolder();
  const pipeline = testPipeline('Threads').add(barrierA, barrierB);
  // Main-thread timer ticks: a display refreshing while the tasks spin.
  const ticks: number[] = [];
  const timer = setInterval(() => ticks.push(Date.now()), 10);
  let report: RunReport;
  try {
    report = await pipeline.execute({ executor: 'threads', threads: 2, progress: false });
  } finally {
    clearInterval(timer);
  }
  assert.deepEqual(statuses(report), { BarrierA: 'ran', BarrierB: 'ran' });
  const a = (await pipeline.getResult('BarrierA')) as { threadId: number; start: number; end: number };
  const b = (await pipeline.getResult('BarrierB')) as { threadId: number; start: number; end: number };
  // Each got past its barrier only because the other had started: their windows overlap.
  assert.ok(a.start <= b.end && b.start <= a.end, `windows overlap: ${JSON.stringify({ a, b })}`);
  assert.notEqual(a.threadId, b.threadId);
  assert.ok(a.threadId !== 0 && b.threadId !== 0, 'neither ran on the main thread');
  const overlap = [Math.max(a.start, b.start), Math.min(a.end, b.end)] as const;
  assert.ok(ticks.some((tick) => tick >= overlap[0] && tick <= overlap[1]), 'the main thread ran timers while both tasks spun');
  // What a task logs in its thread lands in its own log file.
  await pipeline.close();
  assert.match(fs.readFileSync(pipeline.logFile('BarrierA'), 'utf8'), /BarrierA waits for BarrierB/);
});

test('values cross to a thread and back by structured clone: Map, Set, Date, BigInt, typed arrays', async () => {
  const pipeline = testPipeline('ThreadValues').add(make, use, stays);
  await pipeline.execute({ executor: 'threads', progress: false });
  const result = (await pipeline.getResult('Use')) as Record<string, unknown>;
  assert.notEqual(result.threadId, 0);
  assert.deepEqual({ ...result, threadId: 0 }, {
    threadId: 0,
    north: 3,
    year: 2026,
    big: 12345678901234567891n,
    total: 4.5,
    tags: new Set(['a', 'b', 'c']),
    copy: new Map([['north', 3], ['south', 5]]),
  });
  // A task's processes are timed in the thread as they are here.
  const report = (await pipeline.history({ limit: 1 }))[0]!;
  const timings = report.tasks.find((task) => task.name === 'Use')!.processes.map((process) => [process.name, process.calls]);
  assert.deepEqual(timings, [['run', 1], ['total', 1]]);
  // local: true keeps a task on the main thread.
  assert.equal(await pipeline.getResult('Stays'), 0);
});

test('an error inside a thread fails the task cleanly, with its class name, message and stack; the others run', async () => {
  const pipeline = testPipeline('ThreadErrors').add(make, fails, returnsFunction);
  const error = await pipeline.execute({ executor: 'threads', progress: false }).then(() => undefined, (thrown: unknown) => thrown);
  assert.ok(error instanceof PipelineRunError, String(error));
  assert.deepEqual(statuses(error.report), { Make: 'ran', Fails: 'failed', ReturnsFunction: 'failed' });
  const failed = error.report.task('Fails')!.error!;
  assert.equal(failed.name, 'RangeError');
  assert.equal(failed.message, 'bad input 7 in a thread');
  assert.match(failed.stack!, /thread-tasks\.ts/);
  const uncacheable = error.report.task('ReturnsFunction')!.error as Error & { code?: string };
  assert.equal(uncacheable.code, 'ERR_UNCACHEABLE_RESULT');
  assert.match(uncacheable.message, /result\.callback is a function/);
  assert.deepEqual((await pipeline.getResult('Make') as { tags: Set<string> }).tags, new Set(['a', 'b']));
});

test("the pool is kept for the pipeline's next run, and started anew once the task's module is edited", async () => {
  const module = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', `.edited-${process.pid}.ts`);
  const source = (value: string) => `import { threadId } from 'node:worker_threads';
import { Task } from '../../lib/index.js';
export const edited = new Task('Edited').process('run', () => ({ threadId, value: '${value}' }));
`;
  fs.writeFileSync(module, source('first'));
  after(() => fs.rmSync(module, { force: true }));
  const { edited } = (await import(pathToFileURL(module).href)) as { edited: AnyTask };
  const pipeline = testPipeline('KeptPool').add(edited);
  const run = async () => {
    await pipeline.execute({ executor: 'threads', threads: 1, force: true, progress: false });
    return (await pipeline.getResult('Edited')) as { threadId: number; value: string };
  };
  const first = await run();
  const second = await run();
  assert.deepEqual(second, first, 'the same thread ran it again');
  // An edit a second later (file times have a coarse grain on some file systems).
  fs.writeFileSync(module, source('second'));
  fs.utimesSync(module, new Date(), new Date(Date.now() + 2000));
  const third = await run();
  assert.equal(third.value, 'second', 'the new pool imported the module as it is now');
  assert.notEqual(third.threadId, first.threadId);
});

test('a table made in a worker thread reaches a dependent in another thread, and getResult here, as an apache-arrow Table', async () => {
  const pipeline = testPipeline('ThreadTables').add(makeTable, readTable);
  await pipeline.execute({ executor: 'threads', threads: 2, progress: false });
  const read = (await pipeline.getResult('ReadTable')) as { threadId: number; isTable: boolean; rows: number; regions: string[] };
  assert.notEqual(read.threadId, 0, 'ReadTable ran in a thread');
  assert.deepEqual({ isTable: read.isTable, rows: read.rows, regions: [...read.regions] }, { isTable: true, rows: 3, regions: ['north', 'south', 'east'] });
  const made = (await pipeline.getResult('MakeTable')) as { threadId: number; table: arrow.Table };
  assert.notEqual(made.threadId, 0, 'MakeTable ran in a thread');
  assert.ok(made.table instanceof arrow.Table, 'the table comes back as an apache-arrow Table');
  assert.deepEqual(made.table.toArray().map((row) => row.toJSON()), [{ id: 1, region: 'north' }, { id: 2, region: 'south' }, { id: 3, region: 'east' }]);
  await pipeline.close();
});
