// Graph validation: every problem in the graph is found before anything runs, reported together
// in one PipelineValidationError, and a failed validation neither runs nor loses anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NoFreshResultError, PipelineValidationError, Task, type AnyTask, type ValidationProblem } from '../lib/index.js';
import { testPipeline } from './helpers.js';

/** A task with a `run` process returning `value`. */
function task(name: string, dependencies: string[] = [], value: unknown = name): AnyTask {
  return new Task(name, { dependencies }).process('run', () => value);
}

/** Asserts `fn` throws a PipelineValidationError (code ERR_PIPELINE_INVALID) and returns it. */
function validationError(fn: () => unknown): PipelineValidationError {
  let caught: PipelineValidationError | undefined;
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof PipelineValidationError, `expected PipelineValidationError, got ${String(error)}`);
    assert.equal(error.code, 'ERR_PIPELINE_INVALID');
    caught = error;
    return true;
  });
  return caught!;
}

/** Asserts `promise` rejects with a PipelineValidationError (code ERR_PIPELINE_INVALID) and returns it. */
async function validationRejection(promise: Promise<unknown>): Promise<PipelineValidationError> {
  let caught: PipelineValidationError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof PipelineValidationError, `expected PipelineValidationError, got ${String(error)}`);
    assert.equal(error.code, 'ERR_PIPELINE_INVALID');
    caught = error;
    return true;
  });
  return caught!;
}

function kinds(problems: readonly ValidationProblem[]): string[] {
  return problems.map((problem) => problem.kind).sort();
}

/** Every problem's message appears in the error's own message, so printing the error shows them all. */
function assertMessageListsEveryProblem(error: PipelineValidationError): void {
  for (const problem of error.problems) assert.ok(error.message.includes(problem.message), `"${error.message}" lacks "${problem.message}"`);
}

// ---------------------------------------------------------------- single problems

test('a task without a "run" process is a missing-run problem that says how to add one', async () => {
  const pipeline = testPipeline('NoRun').add(new Task('Load').process('fetch', () => 1));
  const error = await validationRejection(pipeline.execute({ progress: false }));
  assert.equal(error.pipeline, 'NoRun');
  assert.equal(error.problems.length, 1);
  assert.deepEqual({ task: error.problems[0]!.task, kind: error.problems[0]!.kind }, { task: 'Load', kind: 'missing-run' });
  assert.match(error.problems[0]!.message, /Load has no "run" process/);
  assert.match(error.problems[0]!.message, /\.process\('run'/);
  assert.match(error.message, /^Pipeline "NoRun" cannot run; fix this problem:/);
  assertMessageListsEveryProblem(error);
});

test('an unknown dependency is reported with a did-you-mean suggestion (TaskOen -> TaskOne)', async () => {
  const pipeline = testPipeline('Typo').add(task('TaskOne'), task('Sum', ['TaskOen']));
  const error = await validationRejection(pipeline.execute({ progress: false }));
  assert.equal(error.problems.length, 1);
  const [problem] = error.problems;
  assert.equal(problem!.task, 'Sum');
  assert.equal(problem!.kind, 'unknown-dependency');
  assert.match(problem!.message, /Sum depends on "TaskOen", which is not in the pipeline\./);
  assert.match(problem!.message, /Did you mean "TaskOne"\?/);
  assertMessageListsEveryProblem(error);
});

test('an unknown dependency with no close name says to add the task or remove the dependency', async () => {
  const pipeline = testPipeline('NoGuess').add(task('TaskOne'), task('Sum', ['CompletelyDifferent']));
  const error = await validationRejection(pipeline.execute({ progress: false }));
  const [problem] = error.problems;
  assert.equal(problem!.kind, 'unknown-dependency');
  assert.match(problem!.message, /"CompletelyDifferent"/);
  assert.doesNotMatch(problem!.message, /Did you mean/);
  assert.match(problem!.message, /Add that task, or remove the dependency/);
});

test('a task that depends on itself is a self-dependency problem that says what to remove', async () => {
  const pipeline = testPipeline('Self').add(task('Loop', ['Loop']));
  const error = await validationRejection(pipeline.execute({ progress: false }));
  assert.equal(error.problems.length, 1);
  assert.deepEqual({ task: error.problems[0]!.task, kind: error.problems[0]!.kind }, { task: 'Loop', kind: 'self-dependency' });
  assert.match(error.problems[0]!.message, /Loop depends on itself\. Remove "Loop" from its dependencies\./);
});

test('a cycle of two is reported with its path, A -> B -> A', async () => {
  const pipeline = testPipeline('Cycle2').add(task('A', ['B']), task('B', ['A']));
  const error = await validationRejection(pipeline.execute({ progress: false }));
  assert.equal(error.problems.length, 1);
  const [problem] = error.problems;
  assert.equal(problem!.kind, 'cycle');
  assert.ok(['A', 'B'].includes(problem!.task), `cycle reported for ${problem!.task}`);
  assert.match(problem!.message, /A -> B -> A|B -> A -> B/);
  assert.match(problem!.message, /Remove one of these dependencies/);
  assert.match(error.message, /A -> B -> A|B -> A -> B/);
});

test('a cycle of three is reported with its path in dependency direction (each depends on the next)', async () => {
  // A depends on B, B on C, C on A.
  const pipeline = testPipeline('Cycle3').add(task('A', ['B']), task('B', ['C']), task('C', ['A']));
  const error = await validationRejection(pipeline.execute({ progress: false }));
  assert.equal(error.problems.length, 1);
  const [problem] = error.problems;
  assert.equal(problem!.kind, 'cycle');
  assert.match(problem!.message, /A -> B -> C -> A|B -> C -> A -> B|C -> A -> B -> C/);
});

test('two separate cycles are both reported', async () => {
  const pipeline = testPipeline('TwoCycles').add(task('A', ['B']), task('B', ['A']), task('C', ['D']), task('D', ['C']), task('Fine'));
  const error = await validationRejection(pipeline.execute({ progress: false }));
  assert.deepEqual(kinds(error.problems), ['cycle', 'cycle']);
  const messages = error.problems.map((problem) => problem.message).join('\n');
  assert.match(messages, /A -> B -> A|B -> A -> B/);
  assert.match(messages, /C -> D -> C|D -> C -> D/);
  assert.match(error.message, /fix these 2 problems/);
  assertMessageListsEveryProblem(error);
});

test('a cycle reached through a task outside it names only the tasks in the cycle', async () => {
  // Report depends on A, and A and B depend on each other: Report is not part of the cycle.
  const pipeline = testPipeline('LeadIn').add(task('Report', ['A']), task('A', ['B']), task('B', ['A']));
  const error = await validationRejection(pipeline.execute({ progress: false }));
  assert.equal(error.problems.length, 1);
  const [problem] = error.problems;
  assert.equal(problem!.kind, 'cycle');
  assert.ok(['A', 'B'].includes(problem!.task), `the cycle is attributed to ${problem!.task}, which is not in it`);
  assert.match(problem!.message, /: (A -> B -> A|B -> A -> B) \(/);
  assert.doesNotMatch(problem!.message, /Report/);
});

test('all problems are reported at once in one PipelineValidationError, each with its kind', async () => {
  const pipeline = testPipeline('Everything').add(
    task('TaskOne'),
    new Task('NoRun').process('fetch', () => 1),
    task('Typo', ['TaskOen']),
    task('Selfish', ['Selfish']),
    task('A', ['B']),
    task('B', ['A']),
  );
  const error = await validationRejection(pipeline.execute({ progress: false }));
  assert.deepEqual(kinds(error.problems), ['cycle', 'missing-run', 'self-dependency', 'unknown-dependency']);
  const byKind = new Map(error.problems.map((problem) => [problem.kind, problem]));
  assert.equal(byKind.get('missing-run')!.task, 'NoRun');
  assert.equal(byKind.get('unknown-dependency')!.task, 'Typo');
  assert.match(byKind.get('unknown-dependency')!.message, /Did you mean "TaskOne"\?/);
  assert.equal(byKind.get('self-dependency')!.task, 'Selfish');
  assert.match(byKind.get('cycle')!.message, /A -> B -> A|B -> A -> B/);
  assert.match(error.message, /^Pipeline "Everything" cannot run; fix these 4 problems:/);
  assertMessageListsEveryProblem(error);
});

test('a task with several problems has each of them reported', async () => {
  const pipeline = testPipeline('Several').add(new Task('Messy', { dependencies: ['Messy', 'Nowhere'] }).process('fetch', () => 1));
  const error = await validationRejection(pipeline.execute({ progress: false }));
  assert.deepEqual(kinds(error.problems), ['missing-run', 'self-dependency', 'unknown-dependency']);
  assert.ok(error.problems.every((problem) => problem.task === 'Messy'));
});

// ---------------------------------------------------------------- nothing runs, nothing is lost

test('nothing runs when validation fails, not even the valid tasks', async () => {
  const calls: string[] = [];
  const pipeline = testPipeline('NothingRuns').add(
    new Task('Valid').process('run', () => {
      calls.push('Valid');
      return 1;
    }),
    new Task('Broken', { dependencies: ['Valid', 'Missing'] }).process('run', () => {
      calls.push('Broken');
      return 2;
    }),
  );
  await validationRejection(pipeline.execute({ progress: false }));
  assert.deepEqual(calls, []);
  await assert.rejects(pipeline.getResult('Valid'), (error: unknown) => {
    assert.ok(error instanceof NoFreshResultError, `expected NoFreshResultError, got ${String(error)}`);
    assert.equal(error.reason, 'never ran');
    return true;
  });
});

test('a failed validation loses nothing already cached, and the pipeline runs again once fixed', async () => {
  let runs = 0;
  const first = new Task('First').process('run', () => {
    runs++;
    return { total: 42 };
  });
  const pipeline = testPipeline('KeepCache').add(first);
  await pipeline.execute({ progress: false });
  assert.equal(runs, 1);

  pipeline.add(task('Broken', ['First', 'Frist', 'Nope']));
  const error = await validationRejection(pipeline.execute({ progress: false }));
  assert.deepEqual(kinds(error.problems), ['unknown-dependency', 'unknown-dependency']);
  assert.deepEqual(await pipeline.getResult('First'), { total: 42 });

  const fixed = pipeline.replace(task('Broken', ['First'], 'fixed'));
  const report = await fixed.execute({ progress: false });
  assert.equal(report.task('First')?.status, 'cached');
  assert.equal(report.task('Broken')?.status, 'ran');
  assert.equal(runs, 1);
  assert.equal(await fixed.getResult('Broken'), 'fixed');
});

// ---------------------------------------------------------------- pipeline.tasks

test('pipeline.tasks lists every dependency before its dependents, whatever the add order', () => {
  const pipeline = testPipeline('Order').add(
    task('Report', ['Summary', 'Clean']),
    task('Summary', ['Clean']),
    task('Clean', ['Load']),
    task('Unrelated'),
    task('Load'),
  );
  const names = pipeline.tasks.map((t) => t.name);
  assert.deepEqual([...names].sort(), ['Clean', 'Load', 'Report', 'Summary', 'Unrelated']);
  for (const t of pipeline.tasks) {
    for (const dependency of t.dependencies) {
      assert.ok(names.indexOf(dependency) < names.indexOf(t.name), `${dependency} should come before ${t.name} in ${names.join(', ')}`);
    }
  }
  assert.ok(pipeline.tasks.every((t) => t === pipeline.getTask(t.name)), 'pipeline.tasks holds the added Task objects');
});

test('pipeline.tasks throws PipelineValidationError on a cycle', () => {
  const pipeline = testPipeline('OrderCycle').add(task('A', ['B']), task('B', ['A']));
  const error = validationError(() => pipeline.tasks);
  assert.deepEqual(kinds(error.problems), ['cycle']);
  assert.match(error.message, /A -> B -> A|B -> A -> B/);
});

test('a chain of 10,000 tasks validates and orders without a stack overflow', () => {
  const count = 10_000;
  const chain: AnyTask[] = [];
  for (let i = 0; i < count; i++) chain.push(task(`T${i}`, i === 0 ? [] : [`T${i - 1}`]));
  // Added last-first, so the order has to come from the dependencies.
  const pipeline = testPipeline('Chain').add(...chain.reverse());
  const ordered = pipeline.tasks;
  assert.equal(ordered.length, count);
  assert.equal(ordered[0]!.name, 'T0');
  assert.equal(ordered[count - 1]!.name, `T${count - 1}`);
  assert.equal(ordered[5000]!.name, 'T5000');
});

test('the order puts every dependency first, in the order each task lists them, and keeps the order tasks were added otherwise', () => {
  // Report needs Clean and Load (listed in that order); Clean needs Load; Audit and Notes stand alone.
  const pipeline = testPipeline('Ties').add(task('Audit', []), task('Report', ['Clean', 'Load']), task('Notes', []), task('Clean', ['Load']), task('Load', []));
  assert.deepEqual(pipeline.tasks.map((each) => each.name), ['Audit', 'Load', 'Clean', 'Report', 'Notes']);
});
