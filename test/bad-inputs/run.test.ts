// What tasks do wrong at run time, and graphs that cannot run: each is a clear error of its own
// class, naming the task; the tasks that do not depend on it still run; and results cached
// before the bad run are still served after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InputFileError,
  NoFreshResultError,
  OutputFileError,
  PipelineRunError,
  PipelineValidationError,
  RunReport,
  Task,
  TaskTimeoutError,
  UncacheableResultError,
  UndeclaredDependencyError,
  type LittlepipesError,
} from '../../lib/index.js';
import { type ErrorClass, assertStillCached, cachedPipeline, checkError, failedRun, rejectsWith, run } from './helpers.js';
import { testPipeline } from '../helpers.js';

// ================================================================ graphs that cannot run

test('a task that depends on itself is a PipelineValidationError naming it; nothing runs, the cache is kept', async () => {
  let calls = 0;
  const pipeline = (await cachedPipeline('SelfDependency')).add(new Task('Loop', { dependencies: ['Loop'] }).process('run', () => ++calls));
  const error = await rejectsWith(pipeline.execute({ progress: false }), PipelineValidationError, 'ERR_PIPELINE_INVALID', 'Pipeline "SelfDependency" cannot run', 'Loop depends on itself. Remove "Loop" from its dependencies.');
  assert.deepEqual(error.problems.map((problem) => [problem.task, problem.kind]), [['Loop', 'self-dependency']]);
  assert.equal(calls, 0);
  await assertStillCached(pipeline);
});

test('a cycle of three is a PipelineValidationError listing the cycle path; nothing runs, the cache is kept', async () => {
  let calls = 0;
  const pipeline = (await cachedPipeline('CycleOfThree')).add(
    new Task('A', { dependencies: ['C'] }).process('run', () => ++calls),
    new Task('B', { dependencies: ['A'] }).process('run', () => ++calls),
    new Task('C', { dependencies: ['B'] }).process('run', () => ++calls),
  );
  const error = await rejectsWith(
    pipeline.execute({ progress: false }),
    PipelineValidationError,
    'ERR_PIPELINE_INVALID',
    'Tasks depend on each other in a cycle: A -> C -> B -> A (each depends on the next).',
    'Remove one of these dependencies.',
  );
  assert.deepEqual(error.problems.map((problem) => problem.kind), ['cycle']);
  assert.equal(calls, 0);
  await assertStillCached(pipeline);
});

test('a dependency on a task the pipeline lacks is a PipelineValidationError with a did-you-mean', async () => {
  const pipeline = (await cachedPipeline('UnknownDependency')).add(run('Summary', 1, ['Reprot']));
  const error = await rejectsWith(pipeline.plan(), PipelineValidationError, 'ERR_PIPELINE_INVALID', 'Summary depends on "Reprot", which is not in the pipeline. Did you mean "Report"?');
  assert.deepEqual(error.problems.map((problem) => [problem.task, problem.kind]), [['Summary', 'unknown-dependency']]);
  await assertStillCached(pipeline);
});

test('a task without a run process is a PipelineValidationError that says how to add one', async () => {
  const pipeline = (await cachedPipeline('MissingRun')).add(new Task('Clean').process('dropEmpty', (t, rows: number[]) => rows));
  await rejectsWith(pipeline.execute({ progress: false }), PipelineValidationError, 'ERR_PIPELINE_INVALID', 'Clean has no "run" process.', ".process('run', (t) => ...)");
  await assertStillCached(pipeline);
});

// ================================================================ t.result()

test('t.result() of a task that is not a declared dependency fails the task with UndeclaredDependencyError', async () => {
  const pipeline = (await cachedPipeline('Undeclared')).add(
    run('Prices', 2),
    // @ts-expect-error an undeclared dependency is a compile error too; this is the run-time check
    new Task('Summary', { dependencies: ['Load'] }).process('run', (t) => t.result<number[]>('Load').length + t.result<number>('Prices')),
  );
  const report = await failedRun(pipeline.execute({ progress: false }));
  const failed = report.task('Summary');
  assert.equal(failed?.status, 'failed');
  const error = checkError(failed?.error, UndeclaredDependencyError, 'ERR_UNDECLARED_DEPENDENCY', [
    'Summary asked for the result of "Prices", which is not one of its dependencies.',
    'Add "Prices" to the dependencies of Summary',
  ]);
  assert.equal(error.task, 'Summary');
  assert.equal(error.requested, 'Prices');
  assert.equal(report.task('Prices')?.status, 'ran');
  await assertStillCached(pipeline);
});

// ================================================================ uncacheable results

class Model {
  weights = [0.5, 0.25];
}

const UNCACHEABLE: { label: string; task: string; value: () => unknown; prefix: string }[] = [
  { label: 'a function', task: 'ReturnsFunction', value: () => () => 1, prefix: 'ReturnsFunction: result is a function' },
  { label: 'a class instance', task: 'ReturnsModel', value: () => new Model(), prefix: 'ReturnsModel: result is an instance of Model, which would come back as a plain object' },
  { label: 'a Promise inside an object', task: 'HoldsPromise', value: () => ({ rows: Promise.resolve([1]) }), prefix: 'HoldsPromise: result.rows is a Promise (await it before returning)' },
  { label: 'a symbol', task: 'ReturnsSymbol', value: () => Symbol('done'), prefix: 'ReturnsSymbol: result is a symbol' },
  { label: 'a WeakMap', task: 'ReturnsWeakMap', value: () => new WeakMap(), prefix: 'ReturnsWeakMap: result is a WeakMap, which cannot be stored' },
  { label: 'an object with a function at result.model.predict', task: 'Fit', value: () => ({ model: { weights: [1, 2], predict: (x: number) => x * 2 } }), prefix: 'Fit: result.model.predict is a function' },
];

for (const { label, task, value, prefix } of UNCACHEABLE) {
  test(`a task returning ${label} fails with UncacheableResultError; the others still run, and the cache is kept`, async () => {
    const pipeline = (await cachedPipeline(`Uncacheable_${task}`)).add(
      run('Before', 'before'),
      new Task(task, { dependencies: ['Before'] }).process('run', () => value()),
      run('Independent', { ok: true }),
      run('Dependent', 'never', [task]),
    );
    const report = await failedRun(pipeline.execute({ progress: false }));
    const failed = report.task(task);
    assert.equal(failed?.status, 'failed');
    const error = checkError(failed?.error, UncacheableResultError, 'ERR_UNCACHEABLE_RESULT', ['Results must survive a round trip through the cache', 'return plain data']);
    assert.ok(error.message.startsWith(prefix), `"${error.message}" should start with "${prefix}"`);
    assert.equal(error.task, task);
    assert.deepEqual(report.failed.map((t) => t.name), [task]);
    assert.equal(report.task('Before')?.status, 'ran');
    assert.equal(report.task('Independent')?.status, 'ran');
    assert.equal(report.task('Dependent')?.status, 'blocked');
    assert.equal(await pipeline.getResult('Before'), 'before');
    assert.deepEqual(await pipeline.getResult('Independent'), { ok: true });
    await rejectsWith(pipeline.getResult(task), NoFreshResultError, 'ERR_NO_FRESH_RESULT', `${task} has no fresh result`, 'its last run failed');
    await assertStillCached(pipeline);
  });
}

test('the nested-function message is exactly prefixed "<Task>: result.model.predict is a function"', async () => {
  const pipeline = (await cachedPipeline('NestedFunction')).add(new Task('Train').process('run', () => ({ model: { predict: () => 0 } })));
  const report = await failedRun(pipeline.execute({ progress: false }));
  const error = checkError(report.task('Train')?.error, UncacheableResultError, 'ERR_UNCACHEABLE_RESULT', []);
  assert.equal(error.path, 'result.model.predict');
  assert.equal(error.problem, 'is a function');
  assert.ok(error.message.startsWith('Train: result.model.predict is a function. '), error.message);
  await assertStillCached(pipeline);
});

test('a task that returned a value before, and now returns a function, keeps nothing half-stored: it fails, the others are served', async () => {
  const pipeline = await cachedPipeline('WasFine');
  // @ts-expect-error a run that returns a function is a compile error too; this is the run-time check
  pipeline.replace(new Task('Report', { dependencies: ['Load'] }).process('run', () => () => 'ok'));
  const report = await failedRun(pipeline.execute({ progress: false }));
  checkError(report.task('Report')?.error, UncacheableResultError, 'ERR_UNCACHEABLE_RESULT', ['Report: result is a function']);
  assert.deepEqual(await pipeline.getResult('Load'), [1, 2, 3]);
  await rejectsWith(pipeline.getResult('Report'), NoFreshResultError, 'ERR_NO_FRESH_RESULT', 'Report has no fresh result: its last run failed');
});

// ================================================================ throwing and rejecting tasks

test('a task that throws synchronously fails with its error, its dependents are blocked, the rest runs', async () => {
  const boom = new Error('boom');
  const pipeline = (await cachedPipeline('SyncThrow')).add(
    new Task('Explode').process('run', () => {
      throw boom;
    }),
    run('After', 'never', ['Explode']),
    run('Independent', 'fine'),
  );
  const error = await rejectsWith(pipeline.execute({ progress: false }), PipelineRunError, 'ERR_RUN_FAILED', '1 task failed: Explode.', 'Explode: boom');
  assert.ok(error.report instanceof RunReport);
  const report = error.report;
  assert.equal(report.task('Explode')?.status, 'failed');
  assert.equal(report.task('Explode')?.error, boom);
  assert.equal(error.cause, boom);
  assert.equal(report.task('After')?.status, 'blocked');
  assert.match(report.task('After')!.reason, /upstream Explode failed/);
  assert.equal(report.task('Independent')?.status, 'ran');
  assert.equal(await pipeline.getResult('Independent'), 'fine');
  await assertStillCached(pipeline);
});

test('a sub-process that throws fails its task with that error, named in the run error', async () => {
  const pipeline = (await cachedPipeline('SubProcessThrows')).add(
    new Task('Parse')
      .process('readHeader', () => {
        throw new TypeError('no header row');
      })
      .process('run', (t) => t.readHeader()),
  );
  const error = await rejectsWith(pipeline.execute({ progress: false }), PipelineRunError, 'ERR_RUN_FAILED', '1 task failed: Parse.', 'Parse: no header row');
  assert.ok(error.report.task('Parse')?.error instanceof TypeError);
  await assertStillCached(pipeline);
});

/** Values a task may throw or reject with that are not Errors, and how the message shows them. */
const NOT_ERRORS: { label: string; fail: () => unknown; shown: string }[] = [
  { label: 'rejects with a string', fail: () => Promise.reject('disk full'), shown: '"disk full" (string)' },
  { label: 'rejects with undefined', fail: () => Promise.reject(undefined), shown: 'undefined' },
  { label: 'rejects with a number', fail: () => Promise.reject(503), shown: '503 (number)' },
  { label: 'rejects with null', fail: () => Promise.reject(null), shown: 'null' },
  { label: 'rejects with a plain object', fail: () => Promise.reject({ status: 500 }), shown: 'an object (Object)' },
  {
    label: 'throws a string synchronously',
    fail: () => {
      throw 'bad row';
    },
    shown: '"bad row" (string)',
  },
];

for (const { label, fail, shown } of NOT_ERRORS) {
  test(`a task that ${label} fails with an Error naming the task and the value; dependents are blocked, the cache is kept`, async () => {
    const pipeline = (await cachedPipeline(`NotAnError_${label.replace(/\W/g, '_')}`)).add(
      new Task('Fetch').process('run', fail),
      run('Parse', 'never', ['Fetch']),
      run('Independent', 'fine'),
    );
    const error = await rejectsWith(pipeline.execute({ progress: false }), PipelineRunError, 'ERR_RUN_FAILED', '1 task failed: Fetch.', 'not an Error', shown);
    const failed = error.report.task('Fetch');
    assert.equal(failed?.status, 'failed');
    assert.ok(failed?.error instanceof Error, `expected an Error, got ${String(failed?.error)}`);
    assert.match(failed.error.message, /\bFetch\b/);
    assert.match(failed.error.message, /not an Error/);
    assert.ok(failed.error.message.includes(shown), `"${failed.error.message}" lacks ${shown}`);
    assert.equal(error.report.task('Parse')?.status, 'blocked');
    assert.match(error.report.task('Parse')!.reason, /upstream Fetch failed/);
    assert.equal(error.report.task('Independent')?.status, 'ran');
    await rejectsWith(pipeline.getResult('Fetch'), NoFreshResultError, 'ERR_NO_FRESH_RESULT', 'its last run failed', 'Fetch');
    await assertStillCached(pipeline);
  });
}

// ================================================================ littlepipes' own failures at run time

const RUN_TIME_FAILURES: { label: string; task: () => Task<string, any, any>; Class: ErrorClass<LittlepipesError>; code: string; fragments: string[] }[] = [
  {
    label: 'takes longer than its timeout',
    task: () => new Task('Slow', { timeout: 20 }).process('run', (t) => new Promise((resolve) => {
      const timer = setTimeout(resolve, 5_000);
      t.signal.addEventListener('abort', () => clearTimeout(timer));
    })),
    Class: TaskTimeoutError,
    code: 'ERR_TASK_TIMEOUT',
    fragments: ['Slow timed out after 20 ms (its timeout option)', 'Raise the timeout'],
  },
  {
    label: 'names an input file that does not exist',
    task: () => new Task('Slow', { inputs: ['no-such-folder/sales.csv'] }).process('run', () => 1),
    Class: InputFileError,
    code: 'ERR_INPUT',
    fragments: ['Slow: input no-such-folder/sales.csv does not exist', "fix the path in the task's inputs"],
  },
  {
    label: 'does not write an output it declares',
    task: () => new Task('Slow', { outputs: ['no-such-folder/report.csv'] }).process('run', () => 1),
    Class: OutputFileError,
    code: 'ERR_OUTPUT',
    fragments: ['Slow: output no-such-folder/report.csv was not written by the task', "remove it from the task's outputs"],
  },
];

for (const { label, task, Class, code, fragments } of RUN_TIME_FAILURES) {
  test(`a task that ${label} fails with ${Class.name}, and the cache is kept`, async () => {
    const pipeline = (await cachedPipeline(`RunTime_${code}`)).add(task());
    const report = await failedRun(pipeline.execute({ progress: false }));
    assert.equal(report.task('Slow')?.status, 'failed');
    checkError(report.task('Slow')?.error, Class, code, fragments);
    await assertStillCached(pipeline);
  });
}

test('a misspelt process is a TypeError that says which process was meant', async () => {
  const pipeline = testPipeline('Misspelt').add(
    new Task('Clean')
      .process('helper', (t, n: number) => n + 1)
      .process('run', (t) => (t as unknown as { hlper: (n: number) => number }).hlper(1)),
  );
  const error = await pipeline.execute({ progress: false }).then(() => assert.fail('should fail'), (thrown: unknown) => thrown as PipelineRunError);
  const failure = error.report.task('Clean')!.error!;
  assert.ok(failure instanceof TypeError);
  assert.equal(failure.message, 't.hlper is not a function: Clean has no process "hlper". Did you mean t.helper()?');
});

test('a task whose code has a BigInt literal is fingerprinted like any other', async () => {
  const pipeline = testPipeline('BigIntLiteral').add(new Task('Big').process('run', () => 10n ** 20n));
  await pipeline.execute({ progress: false });
  assert.equal(await pipeline.getResult('Big'), 100000000000000000000n);
  assert.equal((await pipeline.plan()).task('Big')?.action, 'cached');
});
