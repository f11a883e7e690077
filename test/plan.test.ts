import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError, type Pipeline, PipelineRunError, Task, UnknownTaskError, expire } from '../lib/index.js';
import { planTable } from '../lib/cli/plan-table.js';
import { Plan } from '../lib/plan/plan.js';
import { explainTask } from '../lib/report/explain.js';
import { statuses, testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

/** Actions of a plan by task name, for compact assertions. */
function actions(plan: { tasks: readonly { name: string; action: string }[] }): Record<string, string> {
  return Object.fromEntries(plan.tasks.map((task) => [task.name, task.action]));
}

/** Up -> Down -> Last, each adding one to the result before it. */
function chain(pipeline: Pipeline, upValue = 1): Pipeline<any> {
  return pipeline.add(
    new Task('Up').process('run', () => upValue),
    new Task('Down', { dependencies: ['Up'] }).process('run', (t) => t.result<number>('Up') + 1),
    new Task('Last', { dependencies: ['Down'] }).process('run', (t) => t.result<number>('Down') + 1),
  );
}

test('plan of a never-run pipeline says every task will run', async () => {
  const pipeline = chain(testPipeline());
  const plan = await pipeline.plan();
  assert.equal(plan.pipeline, 'Test');
  assert.deepEqual(plan.tasks, [
    { name: 'Up', action: 'run', reasons: [{ kind: 'never ran' }] },
    { name: 'Down', action: 'run', reasons: [{ kind: 'never ran' }] },
    { name: 'Last', action: 'run', reasons: [{ kind: 'never ran' }] },
  ]);
  assert.equal(plan.summary(), 'Test: 3 will run');
});

test('plan of a pipeline that just ran says every task is cached', async () => {
  const pipeline = chain(testPipeline());
  await pipeline.execute(quiet);
  const plan = await pipeline.plan();
  assert.deepEqual(actions(plan), { Up: 'cached', Down: 'cached', Last: 'cached' });
  assert.ok(plan.tasks.every((task) => task.reasons.length === 0 && task.waitsOn === undefined));
  assert.equal(plan.summary(), 'Test: 3 cached');
});

test('plan lists tasks in topological order, whatever the order they were added in', async () => {
  const pipeline = testPipeline().add(
    new Task('Last', { dependencies: ['Down'] }).process('run', () => 3),
    new Task('Down', { dependencies: ['Up'] }).process('run', () => 2),
    new Task('Up').process('run', () => 1),
  );
  assert.deepEqual((await pipeline.plan()).tasks.map((task) => task.name), ['Up', 'Down', 'Last']);
});

test('a task whose upstream will run waits on it', async () => {
  const pipeline = chain(testPipeline());
  await pipeline.execute(quiet);
  pipeline.replace(new Task('Up').process('run', () => 0 + 1));
  const plan = await pipeline.plan();
  assert.equal(plan.task('Up')?.action, 'run');
  assert.equal(plan.task('Up')?.reasons[0]?.kind, 'code changed');
  assert.deepEqual(plan.task('Down'), { name: 'Down', action: 'wait', reasons: [], waitsOn: ['Up'] });
  // The nearest task that will run or wait: Last waits on Down, not on Up.
  assert.deepEqual(plan.task('Last'), { name: 'Last', action: 'wait', reasons: [], waitsOn: ['Down'] });
  assert.equal(plan.summary(), 'Test: 1 will run, 2 wait');
  // Up re-runs to the same value: early cutoff keeps both waiting tasks cached.
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Up: 'ran', Down: 'cached', Last: 'cached' });
});

test('a waiting task runs when the upstream it waits on changes its result', async () => {
  const pipeline = chain(testPipeline());
  await pipeline.execute(quiet);
  pipeline.replace(new Task('Up').process('run', () => 5));
  assert.deepEqual(actions(await pipeline.plan()), { Up: 'run', Down: 'wait', Last: 'wait' });
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Up: 'ran', Down: 'ran', Last: 'ran' });
});

test('a task whose own entry is stale will run even when its upstream will run too', async () => {
  const pipeline = chain(testPipeline());
  await pipeline.execute(quiet);
  pipeline.replace(new Task('Up').process('run', () => 7));
  pipeline.replace(new Task('Down', { dependencies: ['Up'] }).process('run', (t) => t.result<number>('Up') + 2));
  const plan = await pipeline.plan();
  assert.equal(plan.task('Down')?.action, 'run');
  assert.equal(plan.task('Down')?.reasons[0]?.kind, 'code changed');
  assert.equal(plan.task('Down')?.waitsOn, undefined);
  assert.deepEqual(plan.task('Last'), { name: 'Last', action: 'wait', reasons: [], waitsOn: ['Down'] });
});

test('plan says a task will run when its dependencies changed, naming those added and removed', async () => {
  const pipeline = testPipeline().add(
    new Task('A').process('run', () => 1),
    new Task('B').process('run', () => 2),
    new Task('C').process('run', () => 3),
    new Task('Sum', { dependencies: ['A', 'C'] }).process('run', (t) => t.result<number>('A')),
  );
  await pipeline.execute(quiet);
  pipeline.replace(new Task('Sum', { dependencies: ['A', 'B'] }).process('run', (t) => t.result<number>('A')));
  assert.deepEqual((await pipeline.plan()).task('Sum'), { name: 'Sum', action: 'run', reasons: [{ kind: 'dependencies changed', added: ['B'], removed: ['C'] }] });
  assert.equal(await pipeline.explain('Sum'), 'Sum will run: dependencies changed: B added, C removed');
  assert.equal((await pipeline.execute(quiet)).task('Sum')?.reason, 'dependencies changed: B added, C removed');
});

test('plan names the upstream whose result changed since a task ran', async () => {
  const pipeline = chain(testPipeline());
  await pipeline.execute(quiet);
  pipeline.replace(new Task('Up').process('run', () => 2));
  await pipeline.execute({ ...quiet, only: ['Up'] });
  const plan = await pipeline.plan();
  assert.deepEqual(plan.task('Down'), { name: 'Down', action: 'run', reasons: [{ kind: 'upstream changed', task: 'Up' }] });
  assert.deepEqual(plan.task('Last'), { name: 'Last', action: 'wait', reasons: [], waitsOn: ['Down'] });
  const report = await pipeline.execute(quiet);
  assert.equal(report.task('Down')?.reason, 'upstream Up changed');
});

test('plan names the expired policy', async () => {
  const pipeline = testPipeline().add(
    new Task('PerRun', { expire: expire.onComplete() }).process('run', () => 1),
    new Task('Dated', { expire: expire.at('2020-01-01T00:00:00Z') }).process('run', () => 2),
    new Task('Kept', { expire: expire.after({ hours: 1 }) }).process('run', () => 3),
  );
  await pipeline.execute(quiet);
  const plan = await pipeline.plan();
  assert.deepEqual(plan.task('PerRun'), { name: 'PerRun', action: 'run', reasons: [{ kind: 'expired', detail: 'when the run completes' }] });
  assert.equal(plan.task('Dated')?.action, 'run');
  const reason = plan.task('Dated')!.reasons[0]!;
  assert.equal(reason.kind, 'expired');
  assert.match(reason.kind === 'expired' ? reason.detail : '', /^at 2020-01-01T00:00:00\.000Z, at /);
  assert.equal(plan.task('Kept')?.action, 'cached');
});

test('plan says a task will run because its last run failed, with the message', async () => {
  const fail = { value: true };
  const pipeline = testPipeline().add(
    new Task('Flaky').process('run', () => {
      if (fail.value) throw new Error('source unavailable');
      return 1;
    }),
    new Task('Child', { dependencies: ['Flaky'] }).process('run', (t) => t.result<number>('Flaky')),
  );
  await assert.rejects(pipeline.execute(quiet), PipelineRunError);
  const plan = await pipeline.plan();
  assert.deepEqual(plan.task('Flaky'), { name: 'Flaky', action: 'run', reasons: [{ kind: 'failed last run', message: 'source unavailable' }] });
  assert.deepEqual(plan.task('Child'), { name: 'Child', action: 'run', reasons: [{ kind: 'never ran' }] });
});

test('plan follows force like execute: forced tasks run, their dependents wait', async () => {
  const pipeline = chain(testPipeline());
  await pipeline.execute(quiet);
  const named = await pipeline.plan({ force: ['Up'] });
  assert.deepEqual(named.task('Up'), { name: 'Up', action: 'run', reasons: [{ kind: 'forced' }] });
  assert.deepEqual(actions(named), { Up: 'run', Down: 'wait', Last: 'wait' });
  assert.deepEqual(actions(await pipeline.plan({ force: true })), { Up: 'run', Down: 'run', Last: 'run' });
  assert.deepEqual(statuses(await pipeline.execute({ ...quiet, force: ['Up'] })), { Up: 'ran', Down: 'cached', Last: 'cached' });
});

test('plan follows only like execute: tasks outside it and what they need are skipped', async () => {
  const pipeline = chain(testPipeline()).add(new Task('Other').process('run', () => 0));
  const plan = await pipeline.plan({ only: ['Down'] });
  assert.deepEqual(actions(plan), { Up: 'run', Down: 'run', Last: 'skipped', Other: 'skipped' });
  assert.deepEqual(plan.task('Last'), { name: 'Last', action: 'skipped', reasons: [] });
  assert.deepEqual(statuses(await pipeline.execute({ ...quiet, only: ['Down'] })), { Up: 'ran', Down: 'ran', Last: 'skipped', Other: 'skipped' });
});

test('plan follows skip like execute: a skipped task without a fresh result blocks its dependents', async () => {
  const pipeline = chain(testPipeline());
  const plan = await pipeline.plan({ skip: ['Up'] });
  assert.deepEqual(plan.tasks, [
    { name: 'Up', action: 'skipped', reasons: [{ kind: 'never ran' }] },
    { name: 'Down', action: 'blocked', reasons: [] },
    { name: 'Last', action: 'blocked', reasons: [] },
  ]);
  assert.equal(plan.summary(), 'Test: 2 blocked, 1 skipped');
  assert.deepEqual(statuses(await pipeline.execute({ ...quiet, skip: ['Up'] })), { Up: 'skipped', Down: 'blocked', Last: 'blocked' });
});

test('plan follows skip like execute: a skipped task with a fresh result still serves its dependents', async () => {
  const pipeline = chain(testPipeline());
  await pipeline.execute(quiet);
  pipeline.replace(new Task('Down', { dependencies: ['Up'] }).process('run', (t) => t.result<number>('Up') + 10));
  const plan = await pipeline.plan({ skip: ['Up'] });
  assert.deepEqual(plan.task('Up'), { name: 'Up', action: 'skipped', reasons: [] });
  assert.deepEqual(actions(plan), { Up: 'skipped', Down: 'run', Last: 'wait' });
  assert.deepEqual(statuses(await pipeline.execute({ ...quiet, skip: ['Up'] })), { Up: 'skipped', Down: 'ran', Last: 'ran' });
});

test('a task named in skip is blocked, as execute reports it, when a task it needs has no result', async () => {
  const pipeline = chain(testPipeline());
  const plan = await pipeline.plan({ skip: ['Up', 'Down'] });
  assert.deepEqual(actions(plan), { Up: 'skipped', Down: 'blocked', Last: 'blocked' });
  assert.deepEqual(statuses(await pipeline.execute({ ...quiet, skip: ['Up', 'Down'] })), { Up: 'skipped', Down: 'blocked', Last: 'blocked' });
});

test('a skipped task whose upstream will run serves its dependents only if that upstream keeps its result', async () => {
  const pipeline = chain(testPipeline());
  await pipeline.execute(quiet);
  const plan = await pipeline.plan({ force: ['Up'], skip: ['Down'] });
  assert.deepEqual(plan.task('Down'), { name: 'Down', action: 'skipped', reasons: [], waitsOn: ['Up'] });
  assert.deepEqual(plan.task('Last'), { name: 'Last', action: 'wait', reasons: [], waitsOn: ['Down'] });
  assert.deepEqual(statuses(await pipeline.execute({ ...quiet, force: ['Up'], skip: ['Down'] })), { Up: 'ran', Down: 'skipped', Last: 'cached' });

  pipeline.replace(new Task('Up').process('run', () => 2));
  assert.deepEqual(actions(await pipeline.plan({ skip: ['Down'] })), { Up: 'run', Down: 'skipped', Last: 'wait' });
  // Up's result changes, so Down's cached result cannot be used, and Last has nothing to run on.
  assert.deepEqual(statuses(await pipeline.execute({ ...quiet, skip: ['Down'] })), { Up: 'ran', Down: 'skipped', Last: 'blocked' });
});

test('plan validates its options like execute', async () => {
  const pipeline = chain(testPipeline());
  await assert.rejects(pipeline.plan({ forse: true } as never), (error: InvalidOptionError) => error instanceof InvalidOptionError && /^plan\(\): unknown option "forse"\. Did you mean "force"\?/.test(error.message));
  await assert.rejects(pipeline.plan({ skip: ['Dow'] }), (error: UnknownTaskError) => error instanceof UnknownTaskError && error.where === 'plan({ skip })' && error.suggestion === 'Down');
  await assert.rejects(pipeline.verify({ concurrency: 0 }), (error: InvalidOptionError) => error instanceof InvalidOptionError && /^verify\(\): concurrency/.test(error.message));
  await assert.rejects(pipeline.explain('Up', { only: 'Up' } as never), (error: InvalidOptionError) => error instanceof InvalidOptionError && /^explain\(\): `only` must be an array/.test(error.message));
  // Accepted and ignored: they only matter to a run.
  const plan = await pipeline.plan({ concurrency: 1, progress: true, signal: AbortSignal.abort() });
  assert.deepEqual(actions(plan), { Up: 'run', Down: 'run', Last: 'run' });
});

test('plan is JSON-serialisable', async () => {
  const pipeline = chain(testPipeline());
  await assert.rejects(
    pipeline.add(new Task('Broken').process('run', () => {
      throw new Error('no "data" here');
    })).execute(quiet),
    PipelineRunError,
  );
  pipeline.replace(new Task('Up').process('run', () => 3));
  const plan = await pipeline.plan({ skip: ['Last'] });
  const json = JSON.parse(JSON.stringify(plan));
  assert.deepEqual(json, { pipeline: 'Test', tasks: plan.tasks });
  assert.deepEqual(actions(json), { Up: 'run', Down: 'wait', Last: 'skipped', Broken: 'run' });
  assert.deepEqual(json.tasks[3]!.reasons, [{ kind: 'failed last run', message: 'no "data" here' }]);
});

test('the plan table ends with every task\'s warnings, also those of tasks it does not list', () => {
  const plan = new Plan('Plugins', [
    { name: 'Load', action: 'cached', reasons: [], warnings: ['process run loads import(name) (tasks.ts:3), whose path no literal part bounds'] },
    { name: 'Report', action: 'run', reasons: [{ kind: 'never ran' }] },
  ]);
  const lines = planTable(plan, false, false).split('\n');
  assert.equal(lines.at(-1), 'Warning: Load: process run loads import(name) (tasks.ts:3), whose path no literal part bounds');
  assert.ok(!lines.slice(0, -1).some((line) => line.includes('Load')), 'Load is cached: its row is not listed');
});

test('plan waits for a run already started, and sees its results', async () => {
  const pipeline = chain(testPipeline());
  const running = pipeline.execute(quiet);
  const plan = await pipeline.plan();
  await running;
  assert.deepEqual(actions(plan), { Up: 'cached', Down: 'cached', Last: 'cached' });
});

test('plan changes nothing in the cache', async () => {
  const pipeline = chain(testPipeline()).add(new Task('PerRun', { expire: expire.onComplete() }).process('run', () => 4));
  const first = await pipeline.plan();
  assert.deepEqual(await pipeline.plan(), first);
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Up: 'ran', Down: 'ran', Last: 'ran', PerRun: 'ran' });

  pipeline.replace(new Task('Down', { dependencies: ['Up'] }).process('run', (t) => t.result<number>('Up') + 2));
  await pipeline.plan();
  await pipeline.plan({ force: true });
  await pipeline.verify();
  await pipeline.explain('Last');
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Up: 'cached', Down: 'ran', Last: 'ran', PerRun: 'ran' });
});

test('verify is true only when everything is cached', async () => {
  const pipeline = chain(testPipeline()).add(new Task('Other').process('run', () => 0));
  assert.equal(await pipeline.verify(), false);
  await pipeline.execute(quiet);
  assert.equal(await pipeline.verify(), true);
  assert.equal(await pipeline.verify({ force: ['Other'] }), false);

  pipeline.replace(new Task('Up').process('run', () => 1 + 0));
  assert.equal(await pipeline.verify(), false, 'Up will run and the rest waits on it');
  assert.equal(await pipeline.verify({ only: ['Other'] }), true, 'nothing Other needs will run');
  assert.equal(await pipeline.verify({ skip: ['Up'] }), false, 'Up cannot serve its stale result: the rest is blocked');
  await pipeline.execute(quiet);
  assert.equal(await pipeline.verify(), true);
});

test('explain renders a task that will run, with its reasons', async () => {
  const pipeline = testPipeline().add(new Task('TaskThree', { expire: expire.onComplete() }).process('run', () => 3));
  assert.equal(await pipeline.explain('TaskThree'), 'TaskThree will run: not cached');
  await pipeline.execute(quiet);
  assert.equal(await pipeline.explain('TaskThree'), 'TaskThree will run: expired (when the run completes)');
  assert.equal(await pipeline.explain('TaskThree', { force: ['TaskThree'] }), 'TaskThree will run: forced');
});

test('explain renders a task whose upstream result changed, naming the upstream', async () => {
  const pipeline = chain(testPipeline());
  await pipeline.execute(quiet);
  pipeline.replace(new Task('Up').process('run', () => 2));
  await pipeline.execute({ ...quiet, only: ['Up'] });
  assert.equal(await pipeline.explain('Down'), "Down will run: Up's result changed");
});

test('explain renders a cached task', async () => {
  const pipeline = chain(testPipeline());
  await pipeline.execute(quiet);
  assert.equal(await pipeline.explain('Last'), 'Last is cached');
});

test('explain renders a waiting task with what it waits on', async () => {
  const pipeline = testPipeline().add(
    new Task('Load').process('run', () => [1, 2]),
    new Task('Clean', { dependencies: ['Load'] }).process('run', (t) => t.result<number[]>('Load')),
    new Task('Rates').process('run', () => 1),
    new Task('Report', { dependencies: ['Clean', 'Rates'] }).process('run', (t) => t.result<number[]>('Clean').length),
  );
  await pipeline.execute(quiet);
  pipeline.replace(new Task('Clean', { dependencies: ['Load'] }).process('run', (t) => t.result<number[]>('Load').filter(Boolean)));
  // The code change may name what changed (`code changed: process run`).
  assert.match(await pipeline.explain('Report'), /^Report waits on Clean, which will run \(code changed(: [^)]+)?\); it re-runs only if Clean's result changes$/);

  pipeline.replace(new Task('Load').process('run', () => [1, 2, 3]));
  pipeline.replace(new Task('Clean', { dependencies: ['Load'] }).process('run', (t) => t.result<number[]>('Load')));
  assert.equal(
    await pipeline.explain('Report', { force: ['Rates'] }),
    "Report waits on Clean, which waits on Load, and on Rates, which will run (forced); it re-runs only if the result of Clean or Rates changes",
  );
});

test('explain renders a blocked task with the skipped task that blocks it', async () => {
  const pipeline = chain(testPipeline());
  assert.equal(await pipeline.explain('Last', { skip: ['Up'] }), 'Last is blocked: Up is skipped and has no fresh result (not cached)');
});

test('explain renders skipped tasks: not selected, or skipped with or without a usable result', async () => {
  const pipeline = chain(testPipeline());
  assert.equal(await pipeline.explain('Last', { only: ['Down'] }), 'Last is skipped: it is not selected by `only`');
  assert.equal(await pipeline.explain('Up', { skip: ['Up'] }), 'Up is skipped, and it has no cached result');
  await pipeline.execute(quiet);
  assert.equal(await pipeline.explain('Up', { skip: ['Up'] }), 'Up is skipped; its cached result is used');
  assert.equal(
    await pipeline.explain('Down', { skip: ['Down'], force: ['Up'] }),
    "Down is skipped; its cached result is used only if Up's result does not change",
  );
  assert.equal(
    await pipeline.explain('Last', { skip: ['Down'], force: ['Up'] }),
    "Last waits on Down, which is skipped, its cached result used only if Up's result does not change; " +
      "it re-runs only if Down's result changes, and is blocked if Down cannot use its cached result",
  );
});

test('explain of an unknown task is an UnknownTaskError with a suggestion', async () => {
  const pipeline = chain(testPipeline());
  await assert.rejects(pipeline.explain('Lst'), (error: UnknownTaskError) => {
    assert.ok(error instanceof UnknownTaskError);
    assert.equal(error.suggestion, 'Last');
    assert.match(error.message, /pipeline\.explain\(\): there is no task named "Lst"\. Did you mean "Last"\?/);
    return true;
  });
});

test('explain puts one full stop between sentences, also after a warning that ends in one', () => {
  const plan = new Plan('P', [{ name: 'A', action: 'cached', reasons: [], warnings: ['it loads a module by a path nothing bounds (a.ts:3).', 'declare it in inputs'] }]);
  assert.equal(
    explainTask(plan, 'A', { dependencies: () => [], skip: new Set() }),
    'A is cached. Warning: it loads a module by a path nothing bounds (a.ts:3). Warning: declare it in inputs',
  );
});
