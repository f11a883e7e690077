import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, Pipeline, Task, UndeclaredDependencyError, anyOf } from '../lib/index.js';
import { statuses, temporaryFolder } from './helpers.js';

const quiet = { progress: false } as const;

/** A pipeline with a littlepipes.yaml of its own, in a temporary project folder. */
function project(yaml: string | undefined, build: (pipeline: Pipeline) => Pipeline<any>): { pipeline: Pipeline<any>; folder: string } {
  const folder = temporaryFolder();
  const config = path.join(folder, 'littlepipes.yaml');
  if (yaml !== undefined) fs.writeFileSync(config, yaml);
  const pipeline = build(new Pipeline('Composed', { cacheDir: path.join(folder, 'cache'), ...(yaml === undefined ? {} : { config }) }));
  return { pipeline, folder };
}

test('requires: a prerequisite runs once before every task that requires it, is pulled in by only, and passes no result', async () => {
  let built = 0;
  const order: string[] = [];
  const { pipeline } = project(undefined, (p) => p.add(
    new Task('BuildIndex').process('run', () => {
      built++;
      order.push('BuildIndex');
      return 'index v1';
    }),
    new Task('QueryA', { requires: ['BuildIndex'] }).process('run', (t) => {
      order.push('QueryA');
      // @ts-expect-error a required task passes no result: t.result of it is a compile error too
      return t.result('BuildIndex');
    }),
    new Task('QueryB', { requires: ['BuildIndex'] }).process('run', () => {
      order.push('QueryB');
      return 'b';
    }),
  ));
  const report = await pipeline.execute({ ...quiet, only: ['QueryB'] });
  assert.deepEqual(statuses(report), { BuildIndex: 'ran', QueryA: 'skipped', QueryB: 'ran' });
  const full = await pipeline.execute(quiet).catch((error: { report: unknown }) => error.report as typeof report);
  assert.equal(built, 1, 'run once');
  assert.deepEqual(order, ['BuildIndex', 'QueryB', 'QueryA']);
  assert.ok(full.task('QueryA')?.error instanceof UndeclaredDependencyError, 'a required task\'s result is not passed');
  await pipeline.close();
});

test('a required task whose result changes does not re-run the task that requires it; one that fails blocks it', async () => {
  let version = 1;
  let fail = false;
  const { pipeline } = project(undefined, (p) => p.add(
    new Task('Prepare').process('run', () => {
      if (fail) throw new Error('disk full');
      return version;
    }),
    new Task('Use', { requires: ['Prepare'] }).process('run', () => 'used'),
  ));
  await pipeline.execute(quiet);
  version = 2;
  const second = await pipeline.execute({ ...quiet, force: ['Prepare'] });
  assert.deepEqual(statuses(second), { Prepare: 'ran', Use: 'cached' });
  fail = true;
  const third = await pipeline.execute({ ...quiet, force: ['Prepare'] }).catch((error: { report: typeof second }) => error.report);
  assert.deepEqual(statuses(third), { Prepare: 'failed', Use: 'blocked' });
  await pipeline.close();
});

function datasets(p: Pipeline, seen: string[] = []) {
  return p.add(
    new Task('LoadFull', { stage: 'datasets' }).process('run', () => [1, 2, 3, 4, 5, 6]),
    new Task('LoadSample', { stage: 'datasets' }).process('run', () => [1, 2]),
    new Task('Clean', { dependencies: [anyOf('LoadFull', 'LoadSample')] }).process('run', (t) => {
      const source = t.has('LoadFull') ? 'LoadFull' : 'LoadSample';
      seen.push(source);
      return t.result<number[]>(source).length;
    }),
    new Task('Report', { dependencies: ['Clean'] }).process('run', (t) => `rows: ${t.result<number>('Clean')}`),
  );
}

const DATASETS_YAML = `
profiles:
  sample:
    stages:
      datasets: [LoadSample]
  full:
    stages:
      datasets: LoadFull
`;

test('a stage runs the branch the profile chooses; an anyOf gate reads whichever is in the run', async () => {
  const seen: string[] = [];
  const { pipeline } = project(DATASETS_YAML, (p) => datasets(p, seen));
  const sample = await pipeline.execute({ ...quiet, profile: 'sample' });
  assert.deepEqual(statuses(sample), { LoadFull: 'skipped', LoadSample: 'ran', Clean: 'ran', Report: 'ran' });
  assert.equal(sample.task('LoadFull')?.reason, 'stage datasets runs LoadSample in profile sample');
  assert.equal(await pipeline.getResult('Report'), 'rows: 2');
  const full = await pipeline.execute({ ...quiet, profile: 'full' });
  assert.deepEqual(statuses(full), { LoadFull: 'ran', LoadSample: 'skipped', Clean: 'ran', Report: 'ran' });
  assert.deepEqual(seen, ['LoadSample', 'LoadFull']);
  await pipeline.close();
});

test('an anyOf gate pulls nothing in: with none of its tasks in the run, the task is skipped, and what needs it, with the reason', async () => {
  const { pipeline } = project(undefined, (p) => datasets(p));
  const report = await pipeline.execute({ ...quiet, only: ['Report'] });
  assert.deepEqual(statuses(report), { LoadFull: 'skipped', LoadSample: 'skipped', Clean: 'skipped', Report: 'skipped' });
  assert.equal(report.task('Clean')?.reason, 'none of LoadFull, LoadSample is in this run');
  assert.match(report.task('Report')!.reason, /^it needs Clean, which is not in this run \(none of LoadFull, LoadSample is in this run\)$/);
  const plan = await pipeline.plan({ only: ['Report'] });
  assert.equal(plan.task('Clean')?.why, 'none of LoadFull, LoadSample is in this run', 'plan applies the same gates as run');
  await pipeline.close();
});

test('an optional group switched off is routed around; on by default', async () => {
  const yaml = `
profiles:
  fast:
    optional:
      qa_checks: false
`;
  const { pipeline } = project(yaml, (p) => p.add(
    new Task('Load').process('run', () => [3, 1, 2]),
    new Task('CheckDuplicates', { dependencies: ['Load'], optional: 'qa_checks' }).process('run', (t) => new Set(t.result<number[]>('Load')).size === 3),
    new Task('Report', { dependencies: ['CheckDuplicates'] }).process('run', (t) => (t.has('CheckDuplicates') ? `checked: ${t.result('CheckDuplicates')}` : 'unchecked')),
  ));
  const fast = await pipeline.execute({ ...quiet, profile: 'fast' });
  assert.deepEqual(statuses(fast), { Load: 'ran', CheckDuplicates: 'skipped', Report: 'ran' });
  assert.equal(fast.task('CheckDuplicates')?.reason, 'optional group qa_checks is off in profile fast');
  assert.equal(await pipeline.getResult('Report'), 'unchecked');
  const all = await pipeline.execute(quiet);
  assert.deepEqual(statuses(all), { Load: 'cached', CheckDuplicates: 'ran', Report: 'ran' });
  assert.equal(await pipeline.getResult('Report'), 'checked: true');
  await pipeline.close();
});

test('profile params merge into the task\'s params and so into its fingerprint; extends applies ancestors first', async () => {
  const yaml = `
profiles:
  base:
    params:
      Filter: { minimum: 2, region: north }
  strict:
    extends: base
    params:
      Filter: { minimum: 5 }
`;
  const { pipeline } = project(yaml, (p) => p.add(
    new Task('Filter', { params: { minimum: 0, region: 'all', unit: 'eur' } }).process('run', (t) => JSON.stringify(t.params)),
  ));
  await pipeline.execute({ ...quiet, profile: 'base' });
  assert.equal(await pipeline.getResult('Filter'), '{"minimum":2,"region":"north","unit":"eur"}');
  const strict = await pipeline.execute({ ...quiet, profile: 'strict' });
  assert.match(strict.task('Filter')!.reason, /params changed: minimum 2 → 5/);
  const plan = await pipeline.plan({ profile: 'strict' });
  assert.equal(plan.task('Filter')?.action, 'cached', 'plan applies the same profile as run');
  await pipeline.close();
});

test('startFrom runs that task and what follows; before it, fresh results are served and missing ones computed', async () => {
  const ran: string[] = [];
  const task = (name: string, dependencies: string[] = []) => new Task(name, { dependencies, uses: name === 'Extract' ? ['db'] : [] }).process('run', (t) => {
    ran.push(name);
    if (name === 'Extract') return t.use<{ rows: number }>('db').rows;
    return name;
  });
  const yaml = `
profiles:
  fromTransform:
    startFrom: Transform
  untilTransform:
    stopAfter: Transform
`;
  const { pipeline } = project(yaml, (p) => p.provide('db', () => ({ rows: 42 })).add(task('Extract'), task('Transform', ['Extract']), task('Load', ['Transform'])));
  const first = await pipeline.execute({ ...quiet, profile: 'fromTransform' });
  assert.deepEqual(statuses(first), { Extract: 'ran', Transform: 'ran', Load: 'ran' }, 'Extract had no result: computed, with its resource, rather than failing');
  assert.equal(await pipeline.getResult('Extract'), 42);
  ran.length = 0;
  const again = await pipeline.execute({ ...quiet, profile: 'fromTransform' });
  assert.deepEqual(statuses(again), { Extract: 'cached', Transform: 'ran', Load: 'ran' });
  const stop = await pipeline.execute({ ...quiet, profile: 'untilTransform', force: true });
  assert.deepEqual(statuses(stop), { Extract: 'ran', Transform: 'ran', Load: 'skipped' });
  assert.equal(stop.task('Load')?.reason, 'it comes after Transform, where profile untilTransform stops');
  await pipeline.close();
});

test('littlepipes.yaml errors name the file, the line and the key, with a suggestion', async () => {
  // The file's shape is checked when the pipeline reads it (new Pipeline), names when a profile is used.
  const check = (yaml: string, profile: string, message: RegExp) => {
    const run = async () => project(yaml, (p) => datasets(p)).pipeline.execute({ ...quiet, profile });
    return assert.rejects(run(), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.code, 'ERR_CONFIG');
      assert.match(error.message, message);
      return true;
    });
  };
  await check('profiles:\n  sample:\n    stages:\n      datasets: [LoadSampel]\n', 'sample', /littlepipes\.yaml:4: profiles\.sample\.stages\.datasets: task "LoadSampel" is not in the pipeline\. Did you mean "LoadSample"\?/);
  await check('profiles:\n  sample:\n    stagse:\n      datasets: [LoadSample]\n', 'sample', /littlepipes\.yaml:3: profiles\.sample\.stagse: unknown key\. Did you mean "stages"\?/);
  await check('profiles:\n  sample:\n    stages:\n      dataset: [LoadSample]\n', 'sample', /littlepipes\.yaml:4: profiles\.sample\.stages\.dataset: stage "dataset" is not in the pipeline\. Did you mean "datasets"\?/);
  await check('profiles:\n  a:\n    extends: b\n  b:\n    extends: c\n  c:\n    extends: a\n', 'a', /profiles extend each other in a cycle: a -> b -> c -> a/);
  await check('profiles:\n  sample: {stages: [\n', 'sample', /littlepipes\.yaml:\d+: this is not valid YAML/);
  await check('profiles:\n  sample:\n    startFrom: Clen\n', 'sample', /littlepipes\.yaml:3: profiles\.sample\.startFrom: task "Clen" is not in the pipeline\. Did you mean "Clean"\?/);
  await check('profiles:\n  sample: {}\n', 'smaple', /there is no profile "smaple"\. Did you mean "sample"\?/);
});

/** Profiles where `both` extends `left` and `right`, which both extend `root`: a shared ancestor. */
function diamondProfiles(order: string): string {
  return `profiles:
  root:
    params: { Count: { add: 1 } }
  left:
    extends: root
    params: { Count: { left: true } }
  right:
    extends: root
    params: { Count: { add: 10 } }
  both:
    extends: ${order}
`;
}

test('a shared ancestor is applied once, and settings give the cache folder and the concurrency', async () => {
  const yaml = `
settings:
  cacheDir: shared-cache
  concurrency: 1
${diamondProfiles('[left, right]')}`;
  const folder = temporaryFolder();
  fs.writeFileSync(path.join(folder, 'littlepipes.yaml'), yaml);
  let running = 0;
  let most = 0;
  const slow = (name: string) => new Task(name).process('run', async () => {
    most = Math.max(most, ++running);
    await new Promise((resolve) => setTimeout(resolve, 20));
    running--;
    return name;
  });
  const pipeline = new Pipeline('Settings', { config: path.join(folder, 'littlepipes.yaml') }).add(
    new Task('Count', { params: { add: 0 } }).process('run', (t) => JSON.stringify(t.params)),
    slow('A'), slow('B'), slow('C'),
  );
  assert.equal(pipeline.cacheDir, path.join(folder, 'shared-cache'));
  await pipeline.execute({ ...quiet, profile: 'both' });
  assert.equal(most, 1, 'settings.concurrency applies');
  assert.equal(await pipeline.getResult('Count'), '{"add":10,"left":true}');
  await pipeline.close();
});

test('requires is transitive: a prerequisite\'s own prerequisites are pulled in and ordered before it', async () => {
  const order: string[] = [];
  const task = (name: string, requires: string[] = []) => new Task(name, { requires }).process('run', () => {
    order.push(name);
    return name;
  });
  const { pipeline } = project(undefined, (p) => p.add(task('Query', ['Index']), task('Index', ['Schema']), task('Schema'), task('Unrelated')));
  const report = await pipeline.execute({ ...quiet, only: ['Query'] });
  assert.deepEqual(statuses(report), { Schema: 'ran', Index: 'ran', Query: 'ran', Unrelated: 'skipped' });
  assert.deepEqual(order, ['Schema', 'Index', 'Query']);
  await pipeline.close();
});

test('with no profile choosing, every branch of a stage runs, and the gate sees them all', async () => {
  const { pipeline } = project(DATASETS_YAML, (p) => p.add(
    new Task('LoadFull', { stage: 'datasets' }).process('run', () => [1, 2, 3]),
    new Task('LoadSample', { stage: 'datasets' }).process('run', () => [1]),
    new Task('Sources', { dependencies: [anyOf('LoadFull', 'LoadSample')] }).process('run', (t) => ['LoadFull', 'LoadSample'].filter((name) => t.has(name))),
  ));
  const report = await pipeline.execute(quiet);
  assert.deepEqual(statuses(report), { LoadFull: 'ran', LoadSample: 'ran', Sources: 'ran' });
  assert.deepEqual(await pipeline.getResult('Sources'), ['LoadFull', 'LoadSample']);
  await pipeline.close();
});

test('startFrom: the task it names gets its resource though the tasks before it, served from the cache, never made it', async () => {
  let made = 0;
  const yaml = 'profiles:\n  late:\n    startFrom: Transform\n';
  const { pipeline } = project(yaml, (p) => p.provide('db', () => ({ rows: 7 + made++ })).add(
    new Task('Extract', { uses: ['db'] }).process('run', (t) => t.use<{ rows: number }>('db').rows),
    new Task('Transform', { dependencies: ['Extract'], uses: ['db'] }).process('run', (t) => t.use<{ rows: number }>('db').rows * 100 + t.result<number>('Extract')),
  ));
  await pipeline.execute(quiet);
  const late = await pipeline.execute({ ...quiet, profile: 'late' });
  assert.deepEqual(statuses(late), { Extract: 'cached', Transform: 'ran' });
  assert.equal(made, 2, 'one resource per run');
  assert.equal(await pipeline.getResult('Transform', { profile: 'late' }), 807);
  await pipeline.close();
});

test('an anyOf gate in requires: t.has tells which prerequisite is in the run, though none passes its result', async () => {
  const { pipeline } = project(undefined, (p) => p.add(
    new Task('IndexByDate').process('run', () => 'built'),
    new Task('IndexByRegion').process('run', () => 'built'),
    new Task('Query', { requires: [anyOf('IndexByDate', 'IndexByRegion')] }).process('run', (t) => ['IndexByDate', 'IndexByRegion'].filter((name) => t.has(name))),
  ));
  const byRegion = await pipeline.execute({ ...quiet, only: ['Query', 'IndexByRegion'] });
  assert.deepEqual(statuses(byRegion), { IndexByDate: 'skipped', IndexByRegion: 'ran', Query: 'ran' });
  assert.deepEqual(await pipeline.getResult('Query'), ['IndexByRegion']);
  await pipeline.close();
});

test('extends [right, left] with a shared ancestor applies it once, first: applied again before left, it would undo what right set', async () => {
  const yaml = diamondProfiles('[right, left]');
  const { pipeline } = project(yaml, (p) => p.add(new Task('Count', { params: { add: 0 } }).process('run', (t) => JSON.stringify(t.params))));
  await pipeline.execute({ ...quiet, profile: 'both' });
  assert.equal(await pipeline.getResult('Count', { profile: 'both' }), '{"add":10,"left":true}');
  await pipeline.close();
});
