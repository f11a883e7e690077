// A name that is one slip away from a real one gets a did-you-mean, wherever names are given:
// tasks, processes, profiles, options, shell commands. A slip is a letter added, dropped,
// changed, or two neighbours swapped; how many slips are allowed grows with the name's length.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { InvalidOptionError, Pipeline, type PipelineRunError, Task, UnknownTaskError } from '../lib/index.js';
import { suggest } from '../lib/names.js';
import { oneErrorLine, rejectsWith, shellSession } from './bad-inputs/helpers.js';
import { cli, makeProject } from './cli/project.js';
import { temporaryFolder, testPipeline } from './helpers.js';

test('two neighbouring letters swapped count as one slip, as a letter added, dropped or changed does', () => {
  const tasks = ['Keep', 'Load', 'Totals', 'Report'];
  assert.equal(suggest('Kepe', tasks), 'Keep');
  assert.equal(suggest('Kep', tasks), 'Keep');
  assert.equal(suggest('Keeps', tasks), 'Keep');
  assert.equal(suggest('Kaep', tasks), 'Keep');
  assert.equal(suggest('Totlas', tasks), 'Totals');
  assert.equal(suggest('Reprot', tasks), 'Report');
  assert.equal(suggest('report', tasks), 'Report', 'case is not a slip');
});

test('the slips allowed grow with the length of the name: none for one letter, one up to five letters, more for a longer name', () => {
  assert.equal(suggest('B', ['A']), undefined);
  assert.equal(suggest('qq', ['qa']), 'qa');
  assert.equal(suggest('Lod', ['Load']), 'Load');
  assert.equal(suggest('Lxxd', ['Load']), undefined, 'two slips in a name of four letters');
  assert.equal(suggest('CleanSalesRwos', ['CleanSalesRows']), 'CleanSalesRows');
  assert.equal(suggest('ClaenSalesRwos', ['CleanSalesRows']), 'CleanSalesRows');
  assert.equal(suggest('Forecast', ['Load', 'Report']), undefined);
});

test('getResult of a task with two letters swapped suggests it (Kepe: Keep), as one with a letter missing does', async () => {
  const pipeline = testPipeline('Swapped').add(new Task('Keep').process('run', () => 1));
  for (const typo of ['Kepe', 'Kep']) {
    const error = await rejectsWith(pipeline.getResult(typo), UnknownTaskError, 'ERR_UNKNOWN_TASK', `there is no task named "${typo}". Did you mean "Keep"?`);
    assert.equal(error.suggestion, 'Keep');
  }
  await rejectsWith(pipeline.execute({ progress: false, only: ['Kepe'] }), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'Did you mean "Keep"?');
});

test('a dependency, a process, an option and a profile with two letters swapped are suggested too', async () => {
  const dependency = testPipeline('SwappedDependency').add(
    new Task('Keep').process('run', () => 1),
    new Task('Use', { dependencies: ['Kepe'] }).process('run', () => 2),
  );
  await assert.rejects(dependency.execute({ progress: false }), /Use depends on "Kepe", which is not in the pipeline\. Did you mean "Keep"\?/);

  const process = testPipeline('SwappedProcess').add(
    new Task('Clean')
      .process('tidy', (t, n: number) => n + 1)
      .process('run', (t) => (t as unknown as { tdiy: (n: number) => number }).tdiy(1)),
  );
  const failed = await process.execute({ progress: false }).then(() => assert.fail('should fail'), (thrown: unknown) => thrown as PipelineRunError);
  assert.match(failed.report.task('Clean')!.error!.message, /Clean has no process "tdiy"\. Did you mean t\.tidy\(\)\?/);

  const options = testPipeline('SwappedOption').add(new Task('Keep').process('run', () => 1));
  await rejectsWith(options.execute({ progress: false, froce: true } as never), InvalidOptionError, 'ERR_INVALID_OPTION', 'unknown option "froce". Did you mean "force"?');

  const folder = temporaryFolder();
  fs.writeFileSync(path.join(folder, 'littlepipes.yaml'), 'profiles:\n  quick:\n    params:\n      Keep: { n: 1 }\n');
  const profiled = new Pipeline('SwappedProfile', { cacheDir: path.join(folder, 'cache'), config: path.join(folder, 'littlepipes.yaml') }).add(new Task('Keep', { params: { n: 0 } }).process('run', () => 1));
  try {
    await assert.rejects(profiled.execute({ progress: false, profile: 'qucik' }), /there is no profile "qucik"\. Did you mean "quick"\?/);
  } finally {
    await profiled.close();
  }
});

test('a shell command or task name with two letters swapped is suggested', async () => {
  const pipeline = testPipeline('SwappedShell').add(new Task('Keep').process('run', () => 1));
  const { send, close } = await shellSession(pipeline);
  try {
    assert.equal(await send('peke Keep'), 'Unknown command "peke". Did you mean "peek"? Type help for the list.');
    assert.match(await send('peek Kepe'), /There is no task named "Kepe"\. Did you mean "Keep"\?/);
  } finally {
    await close();
  }
});

test('a flag value one slip from a choice, or a file extension one slip from a format, is suggested on the command line', async () => {
  const project = makeProject();
  oneErrorLine(await cli(project, 'run', '--executor', 'bulmq'), 2, "argument 'bulmq' is invalid", 'Allowed choices are local, threads, bullmq. Did you mean bullmq?');
  oneErrorLine(await cli(project, 'graph', '--format', 'mermiad'), 2, 'Did you mean mermaid?');
  const line = (await cli(project, 'export', 'Report', 'sales.parqet')).stderr.trim();
  assert.match(line, /^littlepipes export: cannot tell the format of "sales\.parqet" from its extension "\.parqet"\. Did you mean \.parquet\?/);
});
