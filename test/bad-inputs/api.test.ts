// Bad input to the API gives a clear error: the exact class, its stable code, and a message that
// names the wrong thing and says what to do. A bad call never loses what is cached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DuplicateTaskError,
  ExpiryPolicyError,
  InvalidOptionError,
  LittlepipesError,
  NoFreshResultError,
  Pipeline,
  PipelineRunError,
  RunReport,
  Task,
  TaskDefinitionError,
  UncacheableResultError,
  UndeclaredDependencyError,
  UnknownTaskError,
  expire,
  type AnyTask,
} from '../lib/index.js';
import { temporaryFolder, testPipeline } from './helpers.js';

type ErrorClass<E> = new (...args: any[]) => E;
type Fragment = string | RegExp;

function checkError<E extends LittlepipesError>(error: unknown, Class: ErrorClass<E>, code: string, fragments: Fragment[]): E {
  assert.ok(error instanceof Class, `expected ${Class.name}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  assert.equal(error.code, code);
  for (const fragment of fragments) {
    if (typeof fragment === 'string') assert.ok(error.message.includes(fragment), `message "${error.message}" lacks ${JSON.stringify(fragment)}`);
    else assert.match(error.message, fragment);
  }
  return error;
}

/** Asserts `fn` throws an instance of `Class` with `code` and a message containing every fragment. */
function throwsError<E extends LittlepipesError>(fn: () => unknown, Class: ErrorClass<E>, code: string, ...fragments: Fragment[]): E {
  let caught: E | undefined;
  assert.throws(fn, (error: unknown) => {
    caught = checkError(error, Class, code, fragments);
    return true;
  });
  return caught!;
}

/** Asserts `promise` rejects with an instance of `Class` with `code` and a message containing every fragment. */
async function rejectsWith<E extends LittlepipesError>(promise: Promise<unknown>, Class: ErrorClass<E>, code: string, ...fragments: Fragment[]): Promise<E> {
  let caught: E | undefined;
  await assert.rejects(promise, (error: unknown) => {
    caught = checkError(error, Class, code, fragments);
    return true;
  });
  return caught!;
}

/** Asserts the run rejects with PipelineRunError and returns its report. */
async function failedRun(promise: Promise<unknown>): Promise<RunReport> {
  const error = await rejectsWith(promise, PipelineRunError, 'ERR_RUN_FAILED');
  assert.ok(error.report instanceof RunReport, 'PipelineRunError carries the RunReport');
  return error.report;
}

function run(name: string, value: unknown, dependencies: string[] = []): AnyTask {
  return new Task(name, { dependencies }).process('run', () => value);
}

/** A pipeline with Load -> Report already run, so that later bad calls can be checked not to lose it. */
async function cachedPipeline(name: string) {
  const pipeline = testPipeline(name).add(run('Load', [1, 2, 3]), run('Report', 'ok', ['Load']));
  await pipeline.execute({ progress: false });
  return pipeline;
}

/** The results cached before a bad call are still served after it. */
async function assertStillCached(pipeline: Pipeline): Promise<void> {
  assert.deepEqual(await pipeline.getResult('Load'), [1, 2, 3]);
  assert.equal(await pipeline.getResult('Report'), 'ok');
}

// ================================================================ Task

test('a Task with an empty name is a TaskDefinitionError that asks for a short name', () => {
  for (const name of ['', '   ']) {
    throwsError(() => new Task(name), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'Task name: the name is empty', 'Use a short name');
  }
});

test('a Task whose name is not a string is a TaskDefinitionError that says what it got', () => {
  // @ts-expect-error a number is not a task name
  throwsError(() => new Task(42), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'expected a string, got 42 (number)');
  // @ts-expect-error undefined is not a task name
  throwsError(() => new Task(undefined), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'expected a string, got undefined');
});

for (const name of ['raw/sales', 'raw\\sales', 'Say "hi"']) {
  test(`a Task name with a path separator or quote (${JSON.stringify(name)}) is a TaskDefinitionError naming it`, () => {
    const error = throwsError(
      () => new Task(name),
      TaskDefinitionError,
      'ERR_TASK_DEFINITION',
      `"${name}" contains a path separator, quote, backslash or control character`,
      'Use a short name such as "LoadSales"',
    );
    assert.equal(error.task, name);
  });
}

test('a Task named ".." (or ".") is a TaskDefinitionError, since names become file names', () => {
  throwsError(() => new Task('..'), TaskDefinitionError, 'ERR_TASK_DEFINITION', '".." is not allowed');
  throwsError(() => new Task('.'), TaskDefinitionError, 'ERR_TASK_DEFINITION', '"." is not allowed');
});

test('an unknown Task option is an InvalidOptionError with a did-you-mean (dependecies -> dependencies)', () => {
  // @ts-expect-error misspelled option
  const error = throwsError(() => new Task('Sum', { dependecies: ['A'] }), InvalidOptionError, 'ERR_INVALID_OPTION', 'Task "Sum": unknown option "dependecies".', 'Did you mean "dependencies"?');
  assert.equal(error.option, 'dependecies');
});

test('Task dependencies that are not an array are an InvalidOptionError naming `dependencies`', () => {
  // @ts-expect-error a string instead of an array
  const error = throwsError(() => new Task('Sum', { dependencies: 'TaskOne' }), InvalidOptionError, 'ERR_INVALID_OPTION', 'Task "Sum"', '`dependencies` must be an array of task names', 'got "TaskOne" (string)');
  assert.equal(error.option, 'dependencies');
});

test('Task dependencies containing a non-string are an InvalidOptionError naming the bad item', () => {
  const error = throwsError(
    // @ts-expect-error a number among the names
    () => new Task('Sum', { dependencies: ['TaskOne', 2] }),
    InvalidOptionError,
    'ERR_INVALID_OPTION',
    'Task "Sum"',
    '`dependencies` must be an array of task names',
    // The message must say which item is wrong, not just "got an array".
    '2 (number)',
  );
  assert.equal(error.option, 'dependencies');
});

for (const reserved of ['name', 'log', 'signal', 'result', 'params', 'pipeline']) {
  test(`a process cannot be named "${reserved}", a member of the task context`, () => {
    const error = throwsError(
      () => new Task('Clean').process(reserved, () => 1),
      TaskDefinitionError,
      'ERR_TASK_DEFINITION',
      `Task "Clean": a process cannot be named "${reserved}"`,
      `t.${reserved} is part of the task context`,
      'Choose another name',
    );
    assert.equal(error.task, 'Clean');
  });
}

test('a reserved process name is refused in the statement form too (a function named `log`)', () => {
  throwsError(() => new Task('Clean').process(function log() { return 1; }), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'a process cannot be named "log"');
});

test('an anonymous function in the statement form is a TaskDefinitionError that says how to name it', () => {
  throwsError(
    () => new Task('Clean').process((t) => t.name),
    TaskDefinitionError,
    'ERR_TASK_DEFINITION',
    'Task "Clean": a process needs a name',
    "task.process('run', fn)",
    'named function',
  );
});

test('registering the same process name twice is a TaskDefinitionError that points to pipeline.replace', () => {
  const task = new Task('Clean').process('run', () => 1);
  throwsError(() => task.process('run', () => 2), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'Task "Clean" already has a process named "run"', 'pipeline.replace(task)');
  throwsError(() => task.process(function run() { return 3; }), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'already has a process named "run"');
  assert.equal(task.processes.size, 1, 'the first definition is kept');
});

test('a process that is not a function is a TaskDefinitionError naming the process', () => {
  // @ts-expect-error a number is not a process
  throwsError(() => new Task('Clean').process('extract', 42), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'Task "Clean": process "extract" must be a function, got 42 (number)');
  // @ts-expect-error the function is missing
  throwsError(() => new Task('Clean').process('run'), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'process "run" must be a function, got undefined');
});

// ================================================================ Pipeline

test('a bad Pipeline name is an InvalidOptionError on `name`', () => {
  for (const [name, fragment] of [['', 'the name is empty'], ['a/b', 'contains a path separator'], ['..', '".." is not allowed']] as const) {
    const error = throwsError(() => new Pipeline(name), InvalidOptionError, 'ERR_INVALID_OPTION', `Pipeline name: `, fragment, 'Use a short name such as "Sales"');
    assert.equal(error.option, 'name');
  }
  // @ts-expect-error a number is not a pipeline name
  throwsError(() => new Pipeline(7), InvalidOptionError, 'ERR_INVALID_OPTION', 'expected a string, got 7 (number)');
});

test('an unknown Pipeline option is an InvalidOptionError with a did-you-mean (cachedir -> cacheDir)', () => {
  const folder = temporaryFolder();
  // @ts-expect-error misspelled option
  const error = throwsError(() => new Pipeline('Sales', { cachedir: folder }), InvalidOptionError, 'ERR_INVALID_OPTION', 'Pipeline "Sales": unknown option "cachedir".', 'Did you mean "cacheDir"?');
  assert.equal(error.option, 'cachedir');
});

test('adding a different task under a taken name is a DuplicateTaskError that points to replace', () => {
  const original = run('Load', 1);
  const pipeline = testPipeline('Duplicate').add(original);
  const error = throwsError(() => pipeline.add(run('Load', 2)), DuplicateTaskError, 'ERR_DUPLICATE_TASK', 'already has a different task named "Load"', 'pipeline.replace(task)');
  assert.equal(error.task, 'Load');
  assert.equal(pipeline.getTask('Load'), original, 'the first task is kept');
});

test('an add() that throws adds none of its tasks', () => {
  const pipeline = testPipeline('Atomic').add(run('Load', 1));
  assert.deepEqual(pipeline.tasks.map((task) => task.name), ['Load']);
  throwsError(() => pipeline.add(run('Fresh', 2), run('Load', 3)), DuplicateTaskError, 'ERR_DUPLICATE_TASK', '"Load"');
  // @ts-expect-error not a Task
  throwsError(() => pipeline.add(run('Other', 4), { name: 'Fake' }), TaskDefinitionError, 'ERR_TASK_DEFINITION');
  throwsError(() => pipeline.getTask('Fresh'), UnknownTaskError, 'ERR_UNKNOWN_TASK');
  throwsError(() => pipeline.getTask('Other'), UnknownTaskError, 'ERR_UNKNOWN_TASK');
  assert.deepEqual(pipeline.tasks.map((task) => task.name), ['Load']);
});

test('adding the same task object twice is harmless: it runs once', async () => {
  let calls = 0;
  const load = new Task('Load').process('run', () => ++calls);
  const pipeline = testPipeline('Twice').add(load, load).add(load);
  assert.equal(pipeline.tasks.length, 1);
  const report = await pipeline.execute({ progress: false });
  assert.equal(report.tasks.length, 1);
  assert.equal(calls, 1);
  assert.equal(await pipeline.getResult('Load'), 1);
});

test('replace() of an unknown name is an UnknownTaskError with a suggestion', () => {
  const pipeline = testPipeline('ReplaceUnknown').add(run('Load', 1));
  const error = throwsError(() => pipeline.replace(run('Lod', 2)), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'pipeline.replace(): there is no task named "Lod".', 'Did you mean "Load"?');
  assert.equal(error.task, 'Lod');
  assert.equal(error.suggestion, 'Load');
  assert.deepEqual(pipeline.tasks.map((task) => task.name), ['Load'], 'nothing was added');
});

test('add() of something that is not a Task is a TaskDefinitionError that says what it got', () => {
  const pipeline = testPipeline('NotATask');
  // @ts-expect-error a plain object is not a Task
  throwsError(() => pipeline.add({ name: 'Load', run: () => 1 }), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'pipeline.add() expects Task objects, got an object (Object)');
  // @ts-expect-error undefined (a missing export, say) is not a Task
  throwsError(() => pipeline.add(undefined), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'pipeline.add() expects Task objects, got undefined');
  // @ts-expect-error a plain object is not a Task
  throwsError(() => pipeline.replace({ name: 'Load' }), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'pipeline.replace() expects a Task');
});

// ================================================================ execute()

test('an unknown execute() option is an InvalidOptionError with a did-you-mean, and the cache is kept', async () => {
  const pipeline = await cachedPipeline('ExecUnknown');
  // @ts-expect-error misspelled option
  const error = await rejectsWith(pipeline.execute({ progress: false, concurency: 2 }), InvalidOptionError, 'ERR_INVALID_OPTION', 'execute(): unknown option "concurency".', 'Did you mean "concurrency"?');
  assert.equal(error.option, 'concurency');
  await assertStillCached(pipeline);
});

for (const [label, concurrency] of [['0', 0], ['-1', -1], ['1.5', 1.5], ["'2'", '2']] as const) {
  test(`execute({ concurrency: ${label} }) is an InvalidOptionError asking for a whole number from 1, and the cache is kept`, async () => {
    const pipeline = await cachedPipeline(`Concurrency${label.replace(/\W/g, '_')}`);
    const error = await rejectsWith(
      // @ts-expect-error the cast admits the string '2'; the numbers type-check, their value is what is wrong
      pipeline.execute({ progress: false, concurrency: concurrency as number | string }),
      InvalidOptionError,
      'ERR_INVALID_OPTION',
      'execute(): concurrency must be a whole number from 1 up',
      typeof concurrency === 'string' ? 'got "2" (string)' : `got ${concurrency} (number)`,
    );
    assert.equal(error.option, 'concurrency');
    await assertStillCached(pipeline);
  });
}

test('execute({ force: "Load" }) (a string) is an InvalidOptionError that says to use an array, and the cache is kept', async () => {
  const pipeline = await cachedPipeline('ForceString');
  // @ts-expect-error a string instead of an array of names
  const error = await rejectsWith(pipeline.execute({ progress: false, force: 'Load' }), InvalidOptionError, 'ERR_INVALID_OPTION', 'force must be true, false or an array of task names', 'got "Load" (string)');
  assert.equal(error.option, 'force');
  await assertStillCached(pipeline);
});

for (const option of ['only', 'force', 'skip'] as const) {
  test(`an unknown task in execute({ ${option} }) is an UnknownTaskError with a suggestion, and the cache is kept`, async () => {
    const pipeline = await cachedPipeline(`Unknown_${option}`);
    const error = await rejectsWith(
      pipeline.execute({ progress: false, [option]: ['Load', 'Reprot'] }),
      UnknownTaskError,
      'ERR_UNKNOWN_TASK',
      `execute({ ${option} }): there is no task named "Reprot".`,
      'Did you mean "Report"?',
    );
    assert.equal(error.task, 'Reprot');
    assert.equal(error.suggestion, 'Report');
    await assertStillCached(pipeline);
  });
}

test('an unknown task differing only in case is suggested with its right case', async () => {
  const pipeline = await cachedPipeline('CaseTypo');
  await rejectsWith(pipeline.execute({ progress: false, skip: ['report'] }), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'no task named "report"', 'Did you mean "Report"?');
  await assertStillCached(pipeline);
});

test('execute({ signal }) that is not an AbortSignal is an InvalidOptionError, and the cache is kept', async () => {
  const pipeline = await cachedPipeline('BadSignal');
  const controller = new AbortController();
  // @ts-expect-error the controller, not its signal
  const error = await rejectsWith(pipeline.execute({ progress: false, signal: controller }), InvalidOptionError, 'ERR_INVALID_OPTION', 'execute(): signal must be an AbortSignal', 'got an object (AbortController)');
  assert.equal(error.option, 'signal');
  await assertStillCached(pipeline);
});

test('execute({ progress }) that is not a boolean is an InvalidOptionError, and the cache is kept', async () => {
  const pipeline = await cachedPipeline('BadProgress');
  // @ts-expect-error a string instead of a boolean
  const error = await rejectsWith(pipeline.execute({ progress: 'false' }), InvalidOptionError, 'ERR_INVALID_OPTION', 'execute(): progress must be true or false', 'got "false" (string)');
  assert.equal(error.option, 'progress');
  await assertStillCached(pipeline);
});

test('a rejected execute() runs nothing and leaves the pipeline usable', async () => {
  let calls = 0;
  const pipeline = testPipeline('RejectedRunsNothing').add(new Task('Count').process('run', () => ++calls));
  await rejectsWith(pipeline.execute({ progress: false, concurrency: 0 }), InvalidOptionError, 'ERR_INVALID_OPTION');
  assert.equal(calls, 0);
  const report = await pipeline.execute({ progress: false });
  assert.equal(report.task('Count')?.status, 'ran');
  assert.equal(calls, 1);
});

// ================================================================ getResult / getTask / clear

test('getResult() of an unknown name is an UnknownTaskError with a suggestion', async () => {
  const pipeline = await cachedPipeline('GetResultUnknown');
  const error = await rejectsWith(pipeline.getResult('Lod'), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'pipeline.getResult(): there is no task named "Lod".', 'Did you mean "Load"?');
  assert.equal(error.where, 'pipeline.getResult()');
  await assertStillCached(pipeline);
});

test('getTask() of an unknown name is an UnknownTaskError with a suggestion', () => {
  const pipeline = testPipeline('GetTaskUnknown').add(run('Load', 1), run('Report', 2));
  throwsError(() => pipeline.getTask('Reprt'), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'pipeline.getTask(): there is no task named "Reprt".', 'Did you mean "Report"?');
  throwsError(() => pipeline.getTask('Zzzzzzzz'), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'no task named "Zzzzzzzz"', 'Check the spelling against pipeline.tasks');
});

test('clear() of an unknown name is an UnknownTaskError with a suggestion, and clears nothing', async () => {
  const pipeline = await cachedPipeline('ClearUnknown');
  await rejectsWith(pipeline.clear(['Report', 'Loadd']), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'pipeline.clear(): there is no task named "Loadd".', 'Did you mean "Load"?');
  await assertStillCached(pipeline);
});

// ================================================================ t.result()

test('t.result() of a task that is not a declared dependency fails the task with UndeclaredDependencyError', async () => {
  const pipeline = testPipeline('Undeclared').add(
    run('Load', 1),
    run('Prices', 2),
    new Task('Report', { dependencies: ['Load'] }).process('run', (t) => t.result<number>('Load') + t.result<number>('Prices')),
  );
  const report = await failedRun(pipeline.execute({ progress: false }));
  const failed = report.task('Report');
  assert.equal(failed?.status, 'failed');
  const error = checkError(
    failed?.error,
    UndeclaredDependencyError,
    'ERR_UNDECLARED_DEPENDENCY',
    [
      'Report asked for the result of "Prices", which is not one of its dependencies.',
      'Add "Prices" to the dependencies of Report',
    ],
  );
  assert.equal(error.task, 'Report');
  assert.equal(error.requested, 'Prices');
  assert.deepEqual([report.task('Load')?.status, report.task('Prices')?.status], ['ran', 'ran']);
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
  { label: 'an object with a function at result.model.predict', task: 'Fit', value: () => ({ model: { weights: [1, 2], predict: (x: number) => x * 2 } }), prefix: 'Fit: result.model.predict is a function' },
];

for (const { label, task, value, prefix } of UNCACHEABLE) {
  test(`a task returning ${label} fails with UncacheableResultError; the other tasks still run and are cached`, async () => {
    const pipeline = testPipeline(`Uncacheable_${task}`).add(
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
  });
}

test('the nested-function message is exactly prefixed "<Task>: result.model.predict is a function"', async () => {
  const pipeline = testPipeline('NestedFunction').add(new Task('Train').process('run', () => ({ model: { predict: () => 0 } })));
  const report = await failedRun(pipeline.execute({ progress: false }));
  const error = checkError(report.task('Train')?.error, UncacheableResultError, 'ERR_UNCACHEABLE_RESULT', []);
  assert.equal(error.path, 'result.model.predict');
  assert.equal(error.problem, 'is a function');
  assert.ok(error.message.startsWith('Train: result.model.predict is a function. '), error.message);
});

// ================================================================ throwing tasks

test('a task that throws synchronously fails with its error, its dependents are blocked, the rest runs', async () => {
  const boom = new Error('boom');
  const pipeline = testPipeline('SyncThrow').add(
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
});

for (const [label, thrown, shown] of [['a string', 'disk full', '"disk full" (string)'], ['undefined', undefined, 'undefined']] as const) {
  test(`a task that rejects with ${label} fails with an Error naming the task, and its dependents are blocked`, async () => {
    const pipeline = testPipeline(`Rejects_${label.replace(/\W/g, '_')}`).add(
      new Task('Fetch').process('run', () => Promise.reject(thrown)),
      run('Parse', 'never', ['Fetch']),
      run('Independent', 'fine'),
    );
    const report = await failedRun(pipeline.execute({ progress: false }));
    const failed = report.task('Fetch');
    assert.equal(failed?.status, 'failed');
    assert.ok(failed?.error instanceof Error, `expected an Error, got ${String(failed?.error)}`);
    assert.match(failed.error.message, /\bFetch\b/);
    assert.match(failed.error.message, /not an Error/);
    assert.ok(failed.error.message.includes(shown), `"${failed.error.message}" lacks ${shown}`);
    assert.equal(report.task('Parse')?.status, 'blocked');
    assert.match(report.task('Parse')!.reason, /upstream Fetch failed/);
    assert.equal(report.task('Independent')?.status, 'ran');
    await rejectsWith(pipeline.getResult('Fetch'), NoFreshResultError, 'ERR_NO_FRESH_RESULT', 'its last run failed', 'Fetch');
  });
}

// ================================================================ expiry

test("expire.weekly('Mnday') is an ExpiryPolicyError naming the bad day and the valid ones", () => {
  throwsError(() => expire.weekly('Mnday'), ExpiryPolicyError, 'ERR_EXPIRY_POLICY', 'expire.weekly: "Mnday" is not a weekday', 'Monday');
});

test("a Task with expire: 'daily' (a string) is an error naming the task and the `expire` option", () => {
  throwsError(
    // @ts-expect-error a string is not an expiry policy
    () => new Task('Prices', { expire: 'daily' }),
    ExpiryPolicyError,
    'ERR_EXPIRY_POLICY',
    '"daily"',
    'expire.atMidnight()',
    'Prices',
    // The option as the user wrote it, not only inside an example such as expire.atMidnight().
    /\bexpire\b(?!\.)/,
  );
});
