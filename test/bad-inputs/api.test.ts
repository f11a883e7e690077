// Bad input to the API (Task and Pipeline options, execute() options, calls by task name) gives a
// clear error: the exact class, its stable code, and a message that names the wrong thing and says
// what to do. A bad call never loses what is cached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DuplicateTaskError,
  ExpiryPolicyError,
  InvalidOptionError,
  Pipeline,
  Task,
  TaskDefinitionError,
  UnknownTaskError,
  expire,
} from '../../lib/index.js';
import { temporaryFolder, testPipeline } from '../helpers.js';
import { assertStillCached, cachedPipeline, rejectsWith, run, throwsError } from './helpers.js';

/** One pipeline with results cached, shared by the tests of definitions: a bad Task is offered to it, and it keeps its results. */
const shared = await cachedPipeline('Shared');

/** Defines a task with `options` for the shared pipeline; the definition is expected to throw. */
function defineFor(name: string, options: unknown): () => unknown {
  return () => shared.add(new Task(name, options as never).process('run', () => 1));
}

// ================================================================ Task names

test('a Task with an empty name is a TaskDefinitionError that asks for a short name', async () => {
  for (const name of ['', '   ']) {
    throwsError(() => shared.add(new Task(name)), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'Task name: the name is empty', 'Use a short name');
  }
  await assertStillCached(shared);
});

test('a Task whose name is not a string is a TaskDefinitionError that says what it got', () => {
  // @ts-expect-error a number is not a task name
  throwsError(() => new Task(42), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'expected a string, got 42 (number)');
  // @ts-expect-error undefined is not a task name
  throwsError(() => new Task(undefined), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'expected a string, got undefined');
});

for (const name of ['raw/sales', 'raw\\sales', 'Say "hi"', 'two\nlines']) {
  test(`a Task name with a path separator, quote or control character (${JSON.stringify(name)}) is a TaskDefinitionError naming it`, async () => {
    const error = throwsError(
      () => shared.add(new Task(name)),
      TaskDefinitionError,
      'ERR_TASK_DEFINITION',
      `"${name}" contains a path separator, quote, backslash or control character`,
      'Use a short name such as "LoadSales"',
    );
    assert.equal(error.task, name);
    await assertStillCached(shared);
  });
}

test('a Task named ".." (or ".") is a TaskDefinitionError, since names become file names', () => {
  throwsError(() => new Task('..'), TaskDefinitionError, 'ERR_TASK_DEFINITION', '".." is not allowed');
  throwsError(() => new Task('.'), TaskDefinitionError, 'ERR_TASK_DEFINITION', '"." is not allowed');
});

test('a Task name over 200 characters is a TaskDefinitionError giving its length', () => {
  throwsError(() => new Task('x'.repeat(201)), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'the name is 201 characters long; the limit is 200');
});

// ================================================================ Task options

test('Task options that are not an object are a TaskDefinitionError that says what they are', async () => {
  for (const [options, shown] of [[null, 'got null'], [[], 'got an array'], ['fast', 'got "fast" (string)']] as const) {
    throwsError(defineFor('Sum', options), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'Task "Sum": options must be an object', shown);
  }
  await assertStillCached(shared);
});

test('an unknown Task option is an InvalidOptionError with a did-you-mean (dependecies -> dependencies)', async () => {
  const error = throwsError(defineFor('Sum', { dependecies: ['A'] }), InvalidOptionError, 'ERR_INVALID_OPTION', 'Task "Sum": unknown option "dependecies".', 'Did you mean "dependencies"?');
  assert.equal(error.option, 'dependecies');
  await assertStillCached(shared);
});

test('an unknown Task option far from any is an InvalidOptionError listing the valid ones', () => {
  const error = throwsError(defineFor('Sum', { colour: 'red' }), InvalidOptionError, 'ERR_INVALID_OPTION', 'unknown option "colour"', 'Valid options are: dependencies, expire, inputs');
  assert.equal(error.option, 'colour');
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

test('a dependency that cannot be a task name (empty, with a slash) is an InvalidOptionError naming it', async () => {
  for (const [dependency, problem] of [['', 'the name is empty'], ['raw/sales', 'contains a path separator']] as const) {
    const error = throwsError(defineFor('Sum', { dependencies: ['Load', dependency] }), InvalidOptionError, 'ERR_INVALID_OPTION', `Task "Sum": dependency ${JSON.stringify(dependency)} cannot be a task name`, problem);
    assert.equal(error.option, 'dependencies');
  }
  await assertStillCached(shared);
});

/** A wrong value for each Task option, and what the message must say; `field` is the error's `option` when it is not the option itself. */
const WRONG_TASK_OPTIONS: { option: string; value: unknown; fragments: string[]; field?: string }[] = [
  { option: 'inputs', value: 5, fragments: ['Task "Sum": inputs must be a path or an array of paths', 'got 5 (number)'] },
  { option: 'inputs', value: ['data.csv', ''], fragments: ['inputs must be a path or an array of paths (non-empty strings)'] },
  { option: 'allowEmptyInputs', value: 'yes', fragments: ['Task "Sum": allowEmptyInputs must be true or false, got "yes" (string)'] },
  { option: 'outputs', value: { file: 'out.csv' }, fragments: ['Task "Sum": outputs must be a path or an array of paths', 'got an object (Object)'] },
  { option: 'outputs', value: '../elsewhere.csv', fragments: ['Task "Sum": output ../elsewhere.csv is outside the project', 'write outputs inside it'] },
  { option: 'params', value: [1, 2], fragments: ['Task "Sum": params must be a plain object of JSON values, got an array'] },
  { option: 'params', value: 'minimum=2', fragments: ['params must be a plain object of JSON values, got "minimum=2" (string)'] },
  { option: 'description', value: 42, fragments: ['Task "Sum": description must be a string, got 42 (number)'] },
  { option: 'retries', value: '3', fragments: ['Task "Sum": retries must be a number of retries or { count, delayMs, factor, maxDelayMs, when }, got "3" (string)'] },
  { option: 'retries', value: -1, fragments: ['the retry count must be a whole number from 0 up, got -1 (number)'] },
  { option: 'retries', value: { cont: 3 }, fragments: ['Task "Sum": retries: unknown option "cont".', 'Did you mean "count"?'], field: 'cont' },
  { option: 'retries', value: { count: 2, factor: 0.5 }, fragments: ['retries.factor must be a number from 1 up, got 0.5 (number)'] },
  { option: 'timeout', value: 0, fragments: ['Task "Sum": timeout must be a number of milliseconds above 0, got 0 (number)'] },
  { option: 'timeout', value: '30s', fragments: ['timeout must be a number of milliseconds above 0, got "30s" (string)'] },
  { option: 'uses', value: 'db', fragments: ['Task "Sum": `uses` must be an array of resource names, got "db" (string)'] },
  { option: 'uses', value: [''], fragments: ['Task "Sum": `uses` must be an array of resource names, but item 0 is "" (string)'] },
  { option: 'requires', value: 'BuildIndex', fragments: ['Task "Sum": `requires` must be an array of task names (or anyOf(...) gates), got "BuildIndex" (string)'] },
  { option: 'requires', value: ['raw/index'], fragments: ['Task "Sum": required task "raw/index" cannot be a task name', 'path separator'] },
  { option: 'stage', value: 5, fragments: ['Task "Sum": stage must be a group name, got 5 (number)'] },
  { option: 'optional', value: true, fragments: ['Task "Sum": optional must be a group name, got true (boolean)'] },
  { option: 'map', value: 'Load', fragments: ['Task "Sum": map must be { over: \'TaskName\' }', 'got "Load" (string)'] },
  { option: 'map', value: { over: 'Load', concurrency: 0 }, fragments: ['Task "Sum": map.concurrency must be a whole number from 1 up, got 0 (number)'] },
  { option: 'sources', value: 5, fragments: ['Task "Sum": sources must be a path or an array of paths', 'got 5 (number)'] },
];

for (const { option, value, fragments, field = option } of WRONG_TASK_OPTIONS) {
  test(`Task option ${option}: ${JSON.stringify(value)} is an InvalidOptionError on \`${field}\`, and the cache is kept`, async () => {
    const error = throwsError(defineFor('Sum', { [option]: value }), InvalidOptionError, 'ERR_INVALID_OPTION', ...fragments);
    assert.equal(error.option, field);
    await assertStillCached(shared);
  });
}

test("a Task with expire: 'daily' (a string) is an ExpiryPolicyError naming the task and the `expire` option", () => {
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

test('a Task with expire: 24 (hours, meant) or an object is an ExpiryPolicyError showing the value', () => {
  throwsError(defineFor('Prices', { expire: 24 }), ExpiryPolicyError, 'ERR_EXPIRY_POLICY', 'Task "Prices": the expire option: got 24', 'expire.atMidnight()');
  throwsError(defineFor('Prices', { expire: { hours: 24 } }), ExpiryPolicyError, 'ERR_EXPIRY_POLICY', 'got {"hours":24}');
});

test("expire.weekly('Mnday') is an ExpiryPolicyError naming the bad day and the valid ones", () => {
  throwsError(() => expire.weekly('Mnday'), ExpiryPolicyError, 'ERR_EXPIRY_POLICY', 'expire.weekly: "Mnday" is not a weekday', 'Monday');
});

// ================================================================ params that are not JSON

class Model {
  weights = [0.5, 0.25];
}

const circular: Record<string, unknown> = { minimum: 2 };
circular.self = circular;

const NOT_JSON: { label: string; params: Record<string, unknown>; fragments: string[] }[] = [
  { label: 'a Date', params: { since: new Date(0) }, fragments: ['params.since is an object (Date)'] },
  { label: 'NaN', params: { threshold: Number.NaN }, fragments: ['params.threshold is NaN'] },
  { label: 'Infinity, in an array', params: { limits: [1, Number.POSITIVE_INFINITY] }, fragments: ['params.limits[1] is Infinity'] },
  { label: 'a function', params: { score: (row: number) => row * 2 }, fragments: ['params.score is a function'] },
  { label: 'a class instance', params: { model: new Model() }, fragments: ['params.model is an object (Model)'] },
  { label: 'undefined', params: { region: undefined }, fragments: ['params.region is undefined'] },
  { label: 'a BigInt, nested', params: { range: { from: 1n } }, fragments: ['params.range.from is 1 (bigint)'] },
  { label: 'a circular reference', params: circular, fragments: ['params contain a circular reference'] },
];

for (const { label, params, fragments } of NOT_JSON) {
  test(`params holding ${label} are an InvalidOptionError naming where, and the cache is kept`, async () => {
    const error = throwsError(defineFor('Filter', { params }), InvalidOptionError, 'ERR_INVALID_OPTION', 'Task "Filter": ', ...fragments, 'params must be plain JSON');
    assert.equal(error.option, 'params');
    await assertStillCached(shared);
  });
}

// ================================================================ processes

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
  throwsError(() => new Task('Clean').process('', () => 1), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'a process needs a name');
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

test('a bad Pipeline name (empty, with a slash, a backslash or a quote, "..") is an InvalidOptionError on `name`', () => {
  const names = [['', 'the name is empty'], ['a/b', 'contains a path separator'], ['a\\b', 'contains a path separator'], ['Say "hi"', 'quote'], ['..', '".." is not allowed']] as const;
  for (const [name, fragment] of names) {
    const error = throwsError(() => new Pipeline(name), InvalidOptionError, 'ERR_INVALID_OPTION', 'Pipeline name: ', fragment, 'Use a short name such as "Sales"');
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

test('Pipeline options that are not an object (null, an array, a string) are an InvalidOptionError on `options`', () => {
  for (const [options, shown] of [[null, 'got null'], [[], 'got an array'], ['.cache', 'got ".cache" (string)']] as const) {
    const error = throwsError(() => new Pipeline('Sales', options as never), InvalidOptionError, 'ERR_INVALID_OPTION', 'Pipeline "Sales": options must be an object', shown);
    assert.equal(error.option, 'options');
  }
});

const WRONG_PIPELINE_OPTIONS: { option: string; value: unknown; fragments: string[] }[] = [
  { option: 'cacheDir', value: 5, fragments: ['Pipeline "Sales": cacheDir must be a folder path, got 5 (number)'] },
  { option: 'cacheDir', value: '', fragments: ['cacheDir must be a folder path, got "" (string)'] },
  { option: 'store', value: 'mysql://localhost:3306/cache', fragments: ['Pipeline "Sales": store URL "mysql://localhost:3306/cache" has the scheme "mysql:", which littlepipes does not know; use one of redis://, rediss://, postgres://, postgresql://'] },
  { option: 'store', value: 'localhost:6379', fragments: ['store URL "localhost:6379" has the scheme "localhost:"'] },
  { option: 'store', value: 'cache', fragments: ['Pipeline "Sales": store must be a URL (redis://, rediss://, postgres://, postgresql://) or a Keyv store adapter, got "cache" (string)'] },
  { option: 'store', value: 6379, fragments: ['store must be a URL (redis://, rediss://, postgres://, postgresql://), a Keyv instance', 'got 6379 (number)'] },
  { option: 'store', value: { get: () => undefined }, fragments: ['a Keyv store adapter (with get, set, delete and clear)', 'got an object (Object)'] },
  { option: 'logLevel', value: 'verbose', fragments: ['Pipeline "Sales": logLevel must be one of trace, debug, info, warn, error, fatal, silent, got "verbose" (string)'] },
  { option: 'logLevel', value: 30, fragments: ['logLevel must be one of', 'got 30 (number)'] },
  { option: 'redact', value: 'password', fragments: ['Pipeline "Sales": `redact` must be an array of field paths, got "password" (string)'] },
  { option: 'redact', value: ['password', ''], fragments: ['Pipeline "Sales": `redact` must be an array of field paths, but item 1 is "" (string)'] },
  { option: 'project', value: '', fragments: ['Pipeline "Sales": project must be a non-empty name, got "" (string)'] },
  { option: 'project', value: 7, fragments: ['project must be a non-empty name, got 7 (number)'] },
  { option: 'tasks', value: 'Orders', fragments: ['Pipeline "Sales": tasks must be an array of tasks, got "Orders" (string)'] },
];

test('a tasks option holding something that is not a Task is a TaskDefinitionError naming the option', () => {
  throwsError(() => new Pipeline('Sales', { tasks: ['Orders'] as never }), TaskDefinitionError, 'ERR_TASK_DEFINITION', 'Pipeline "Sales": the tasks option expects Task objects, got "Orders" (string).');
});

for (const { option, value, fragments } of WRONG_PIPELINE_OPTIONS) {
  test(`Pipeline option ${option}: ${JSON.stringify(value) ?? 'an object'} is an InvalidOptionError on \`${option}\``, () => {
    const error = throwsError(() => new Pipeline('Sales', { [option]: value } as never), InvalidOptionError, 'ERR_INVALID_OPTION', ...fragments);
    assert.equal(error.option, option);
  });
}

test('setting pipeline.logLevel to an unknown level is an InvalidOptionError, and the level is kept', async () => {
  const pipeline = await cachedPipeline('LogLevelSetter');
  pipeline.logLevel = 'warn';
  throwsError(() => (pipeline.logLevel = 'loud'), InvalidOptionError, 'ERR_INVALID_OPTION', 'logLevel must be one of', 'got "loud" (string)');
  assert.equal(pipeline.logLevel, 'warn');
  await assertStillCached(pipeline);
});

test('adding a different task under a taken name is a DuplicateTaskError that points to replace, and the cache is kept', async () => {
  const pipeline = await cachedPipeline('Duplicate');
  const original = pipeline.getTask('Load');
  const error = throwsError(() => pipeline.add(run('Load', 2)), DuplicateTaskError, 'ERR_DUPLICATE_TASK', 'already has a different task named "Load"', 'pipeline.replace(task)');
  assert.equal(error.task, 'Load');
  assert.equal(pipeline.getTask('Load'), original, 'the first task is kept');
  await assertStillCached(pipeline);
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

test('execute() options that are not an object (null, an array, a string) are an InvalidOptionError, and the cache is kept', async () => {
  const pipeline = await cachedPipeline('ExecNotObject');
  for (const [options, shown] of [[null, 'got null'], [[], 'got an array'], ['fast', 'got "fast" (string)']] as const) {
    const error = await rejectsWith(pipeline.execute(options as never), InvalidOptionError, 'ERR_INVALID_OPTION', 'execute(): options must be an object', shown);
    assert.equal(error.option, 'options');
  }
  await assertStillCached(pipeline);
});

for (const [label, concurrency] of [['0', 0], ['-1', -1], ['1.5', 1.5], ["'2'", '2'], ['NaN', Number.NaN], ['Infinity', Number.POSITIVE_INFINITY]] as const) {
  test(`execute({ concurrency: ${label} }) is an InvalidOptionError asking for a whole number from 1, and the cache is kept`, async () => {
    const pipeline = await cachedPipeline(`Concurrency${label.replace(/\W/g, '_')}`);
    const error = await rejectsWith(
      pipeline.execute({ progress: false, concurrency: concurrency as never }),
      InvalidOptionError,
      'ERR_INVALID_OPTION',
      'execute(): concurrency must be a whole number from 1 up',
      typeof concurrency === 'string' ? 'got "2" (string)' : `got ${concurrency} (number)`,
    );
    assert.equal(error.option, 'concurrency');
    await assertStillCached(pipeline);
  });
}

/** Wrong values for execute()'s options other than concurrency, and what the message must say; `field` as above. */
const WRONG_EXECUTE_OPTIONS: { option: string; value: unknown; fragments: string[]; field?: string }[] = [
  { option: 'force', value: 'Load', fragments: ['execute(): force must be true, false or an array of task names', 'got "Load" (string)'] },
  { option: 'force', value: [1], fragments: ['execute(): `force` must be an array of task names, but item 0 is 1 (number)'] },
  { option: 'only', value: 'Report', fragments: ['execute(): `only` must be an array of task names', 'got "Report" (string)'] },
  { option: 'only', value: true, fragments: ['`only` must be an array of task names', 'got true (boolean)'] },
  { option: 'skip', value: null, fragments: ['execute(): `skip` must be an array of task names', 'got null'] },
  { option: 'signal', value: new AbortController(), fragments: ['execute(): signal must be an AbortSignal', 'got an object (AbortController)'] },
  { option: 'progress', value: 'false', fragments: ['execute(): progress must be true or false', 'got "false" (string)'] },
  { option: 'events', value: () => {}, fragments: ['execute(): events must be an object of functions (taskStarted, taskFinished, taskCachedOrSkipped, runFinished)', 'got a function'] },
  { option: 'events', value: [], fragments: ['events must be an object of functions', 'got an array'] },
  { option: 'events', value: { taskStrated: () => {} }, fragments: ['execute(): events: unknown option "taskStrated".', 'Did you mean "taskStarted"?'], field: 'taskStrated' },
  { option: 'events', value: { taskFinished: 'log' }, fragments: ['execute(): events.taskFinished must be a function, got "log" (string)'] },
];

for (const { option, value, fragments, field = option } of WRONG_EXECUTE_OPTIONS) {
  const shown = typeof value === 'function' ? 'a function' : value instanceof AbortController ? 'an AbortController' : JSON.stringify(value);
  test(`execute({ ${option}: ${shown} }) is an InvalidOptionError, and the cache is kept`, async () => {
    const pipeline = await cachedPipeline(`Exec_${option}_${shown.replace(/\W/g, '')}`);
    const error = await rejectsWith(pipeline.execute({ progress: false, [option]: value }), InvalidOptionError, 'ERR_INVALID_OPTION', ...fragments);
    assert.equal(error.option, field);
    await assertStillCached(pipeline);
  });
}

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

test('plan(), verify() and explain() check their options as execute() does, naming the method', async () => {
  const pipeline = await cachedPipeline('PlanOptions');
  await rejectsWith(pipeline.plan({ only: ['Lod'] }), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'plan({ only }): there is no task named "Lod".', 'Did you mean "Load"?');
  await rejectsWith(pipeline.verify({ concurrency: 0 }), InvalidOptionError, 'ERR_INVALID_OPTION', 'verify(): concurrency must be a whole number');
  await rejectsWith(pipeline.explain('Report', { skip: 'Load' } as never), InvalidOptionError, 'ERR_INVALID_OPTION', 'explain(): `skip` must be an array of task names');
  await rejectsWith(pipeline.explain('Reprt'), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'pipeline.explain(): there is no task named "Reprt".', 'Did you mean "Report"?');
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

// ================================================================ calls by task name

test('getResult() of an unknown name is an UnknownTaskError with a suggestion', async () => {
  const pipeline = await cachedPipeline('GetResultUnknown');
  const error = await rejectsWith(pipeline.getResult('Lod'), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'pipeline.getResult(): there is no task named "Lod".', 'Did you mean "Load"?');
  assert.equal(error.where, 'pipeline.getResult()');
  await assertStillCached(pipeline);
});

test('getTask() of an unknown name is an UnknownTaskError with a suggestion, or a hint when nothing is close', () => {
  const pipeline = testPipeline('GetTaskUnknown').add(run('Load', 1), run('Report', 2));
  throwsError(() => pipeline.getTask('Reprt'), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'pipeline.getTask(): there is no task named "Reprt".', 'Did you mean "Report"?');
  throwsError(() => pipeline.getTask('Zzzzzzzz'), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'no task named "Zzzzzzzz"', 'Check the spelling against pipeline.tasks');
});

test('logFile() of an unknown name is an UnknownTaskError with a suggestion', async () => {
  const pipeline = await cachedPipeline('LogFileUnknown');
  throwsError(() => pipeline.logFile('Reprot'), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'pipeline.logFile(): there is no task named "Reprot".', 'Did you mean "Report"?');
  await assertStillCached(pipeline);
});

test('clear() of an unknown name is an UnknownTaskError with a suggestion, and clears nothing', async () => {
  const pipeline = await cachedPipeline('ClearUnknown');
  await rejectsWith(pipeline.clear(['Report', 'Loadd']), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'pipeline.clear(): there is no task named "Loadd".', 'Did you mean "Load"?');
  await assertStillCached(pipeline);
});

test('clear("Load") (a string, not an array) is an InvalidOptionError, and clears nothing', async () => {
  const pipeline = await cachedPipeline('ClearString');
  await rejectsWith(pipeline.clear('Load' as never), InvalidOptionError, 'ERR_INVALID_OPTION', 'pipeline.clear(): `names` must be an array of task names, got "Load" (string)');
  await assertStillCached(pipeline);
});

test('history() and listCache() options: an unknown one, or a limit below 1, is an InvalidOptionError', async () => {
  const pipeline = await cachedPipeline('ListingOptions');
  await rejectsWith(pipeline.history({ limit: 0 }), InvalidOptionError, 'ERR_INVALID_OPTION', 'history(): limit must be a whole number from 1 up, got 0 (number)');
  await rejectsWith(pipeline.history({ lmit: 3 } as never), InvalidOptionError, 'ERR_INVALID_OPTION', 'history(): unknown option "lmit".', 'Did you mean "limit"?');
  await rejectsWith(pipeline.listCache({ al: true } as never), InvalidOptionError, 'ERR_INVALID_OPTION', 'listCache(): unknown option "al".', 'Did you mean "all"?');
  await assertStillCached(pipeline);
});
