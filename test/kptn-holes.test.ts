// kptn's known holes, each closed here with a test (the issue "Composition and profiles").
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Pipeline, Task, anyOf } from '../lib/index.js';
import { statuses, temporaryFolder, testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

test('changing the code of a task that declares output files re-runs it', async () => {
  // Outputs are relative to the working directory: this test works in its own folder.
  process.chdir(temporaryFolder());
  const output = 'report.txt';
  const build = (text: string) => testPipeline('Outputs').add(
    new Task('Write', { outputs: output }).process('run', () => {
      fs.writeFileSync(output, text);
      return text.length;
    }),
  );
  const first = build('v1');
  await first.execute(quiet);
  await first.close();
  // The same output file, unchanged on disk; a different process (new code: another literal).
  const second = testPipeline('Outputs', { cacheDir: first.cacheDir }).add(
    new Task('Write', { outputs: output }).process('run', () => {
      fs.writeFileSync(output, 'v2, longer');
      return 'v2, longer'.length;
    }),
  );
  const report = await second.execute(quiet);
  assert.equal(report.task('Write')?.status, 'ran');
  assert.match(report.task('Write')!.reason, /^code changed/);
});

test('an upstream that re-ran in a partial run still reaches its dependents in the next full run', async () => {
  let version = 1;
  const pipeline = testPipeline('Partial').add(
    new Task('Extract').process('run', () => version),
    new Task('Transform', { dependencies: ['Extract'] }).process('run', (t) => t.result<number>('Extract') * 10),
  );
  await pipeline.execute(quiet);
  version = 2;
  const partial = await pipeline.execute({ ...quiet, only: ['Extract'], force: ['Extract'] });
  assert.deepEqual(statuses(partial), { Extract: 'ran', Transform: 'skipped' });
  const full = await pipeline.execute(quiet);
  assert.deepEqual(statuses(full), { Extract: 'cached', Transform: 'ran' });
  assert.match(full.task('Transform')!.reason, /upstream Extract changed/);
  assert.equal(await pipeline.getResult('Transform'), 20);
});

test('a task placed twice is one node: added twice, named twice in a gate, listed twice in a stage', async () => {
  const folder = temporaryFolder();
  fs.writeFileSync(path.join(folder, 'littlepipes.yaml'), 'profiles:\n  twice:\n    stages:\n      load: [Load, Load]\n');
  let runs = 0;
  const load = new Task('Load', { stage: 'load' }).process('run', () => {
    runs++;
    return 1;
  });
  const pipeline = new Pipeline('Twice', { cacheDir: path.join(folder, 'cache'), config: path.join(folder, 'littlepipes.yaml') })
    .add(load, load)
    .add(load, new Task('Use', { dependencies: [anyOf('Load', 'Load')] }).process('run', (t) => t.result<number>('Load') + 1));
  assert.deepEqual(pipeline.tasks.map((task) => task.name), ['Load', 'Use']);
  const report = await pipeline.execute({ ...quiet, profile: 'twice' });
  assert.equal(report.tasks.length, 2);
  assert.equal(runs, 1);
  assert.equal(await pipeline.getResult('Use'), 2);
  await pipeline.close();
});

test('plan applies the same gating and profiles as run, task for task', async () => {
  const folder = temporaryFolder();
  fs.writeFileSync(path.join(folder, 'littlepipes.yaml'), `
profiles:
  lean:
    stages: { source: [Sample] }
    optional: { qa: false }
    params: { Summary: { digits: 1 } }
    stopAfter: Summary
`);
  const pipeline = new Pipeline('Same', { cacheDir: path.join(folder, 'cache'), config: path.join(folder, 'littlepipes.yaml') }).add(
    new Task('Full', { stage: 'source' }).process('run', () => [1.234, 5.678]),
    new Task('Sample', { stage: 'source' }).process('run', () => [1.234]),
    new Task('Check', { dependencies: [anyOf('Full', 'Sample')], optional: 'qa' }).process('run', () => true),
    new Task('Summary', { dependencies: [anyOf('Full', 'Sample'), 'Check'], params: { digits: 2 } }).process('run', (t) => {
      const rows = t.result<number[]>(t.has('Full') ? 'Full' : 'Sample');
      return rows.reduce((a, b) => a + b, 0).toFixed(t.params.digits as number);
    }),
    new Task('Publish', { dependencies: ['Summary'] }).process('run', (t) => `published ${t.result('Summary')}`),
  );
  const expectedByPlan = { run: 'ran', cached: 'cached', skipped: 'skipped', blocked: 'blocked', wait: 'ran' } as const;
  const plan = await pipeline.plan({ profile: 'lean' });
  const report = await pipeline.execute({ ...quiet, profile: 'lean' });
  for (const task of plan.tasks) assert.equal(report.task(task.name)?.status, expectedByPlan[task.action], task.name);
  assert.deepEqual(statuses(report), { Full: 'skipped', Sample: 'ran', Check: 'skipped', Summary: 'ran', Publish: 'skipped' });
  assert.equal(await pipeline.getResult('Summary'), '1.2');
  const again = await pipeline.plan({ profile: 'lean' });
  assert.ok(again.tasks.every((task) => task.action === 'cached' || task.action === 'skipped'), 'after the run, plan with the profile sees it all fresh');
  await pipeline.close();
});
