import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Task } from '../lib/index.js';
import { renderTable } from '../lib/report/table.js';
import { valueToHTML } from '../lib/report/value-html.js';
import { describeShape, summarizeValue } from '../lib/report/value-summary.js';
import { cli, makeProject } from './cli/project.js';
import { testPipeline } from './helpers.js';

// Messages read as a person would write them: one of a thing is singular, a word is not said
// twice, and a status is not repeated in the reason shown beside it.

test('a count of one takes the singular: 1 row, 1 column, 1 item, 1 character, 1 entry, 1 key', () => {
  assert.equal(describeShape([{ a: 1 }]), 'array of 1 row × 1 column');
  assert.equal(describeShape([1]), 'array of 1 item');
  assert.equal(describeShape('a'), 'string of 1 character');
  assert.equal(describeShape(new Map([['a', 1]])), 'Map of 1 entry');
  assert.equal(describeShape(new Set([1])), 'Set of 1 entry');
  assert.equal(describeShape({ a: 1 }), 'object with 1 key');
  assert.equal(describeShape(new Float64Array(1)), 'Float64Array of 1 item (8 B)');
  assert.equal(describeShape([{ a: 1 }, { a: 2 }]), 'array of 2 rows × 1 column');
  assert.equal(describeShape([]), 'array of 0 items');
  assert.match(valueToHTML([{ a: 1 }])!, /<caption[^>]*>array of 1 row × 1 column<br>/);
});

test('what is left out of a preview is counted in the singular for one: 1 more row, 1 more column, 1 more line', () => {
  const rows = Array.from({ length: 11 }, (_, index) => ({ a: index, b: 0, c: 0, d: 0, e: 0, f: 0, g: 0, h: 0, i: 0 }));
  assert.equal(summarizeValue(rows).split('\n').at(-1), '… 1 more row, 1 more column');
  assert.match(valueToHTML(rows)!, /… 1 more row<\/td>/);
  const wide = Object.fromEntries(Array.from({ length: 21 }, (_, index) => [`c${index}`, 0]));
  assert.match(valueToHTML([wide])!, /… 1 more column<\/td>/);
  // 61 lines: `{`, a line per key, `}`; 60 are shown.
  const keys = Object.fromEntries(Array.from({ length: 59 }, (_, index) => [`key${index}`, index]));
  assert.equal(summarizeValue(keys, { width: 40 }).split('\n').at(-1), '… 1 more line');
});

test('a mapped task over one item reports "1 of 1 item ran"', async () => {
  const pipeline = testPipeline('OneItem').add(
    new Task('List').process('run', () => ['a']),
    new Task('Each', { dependencies: ['List'], map: { over: 'List' } }).process('run', (t, item: string) => item.toUpperCase()),
  );
  const report = await pipeline.execute({ progress: false });
  assert.match(report.task('Each')!.reason, /; 1 of 1 item ran, 0 cached$/);
});

test('a skipped task\'s reason does not say "skipped" again: the table reads "skipped: by request; its cached result is used"', async () => {
  const pipeline = testPipeline('Skip').add(
    new Task('Up').process('run', () => 1),
    new Task('Down', { dependencies: ['Up'] }).process('run', (t) => t.result<number>('Up') + 1),
  );
  const fresh = await pipeline.execute({ progress: false, skip: ['Up'] });
  assert.equal(fresh.task('Up')!.reason, 'by request; it has no cached result');
  await pipeline.execute({ progress: false });
  const report = await pipeline.execute({ progress: false, skip: ['Up'], force: ['Down'] });
  assert.equal(report.task('Up')!.reason, 'by request; its cached result is used');
  const table = renderTable(report);
  assert.match(table, /│ Up +│ skipped: by request; its cached result is used +│/);
  assert.doesNotMatch(table, /skipped: skipped/);
});

test('on the command line, a skipped task reads "skipped: by request" in the report table', async () => {
  const project = makeProject();
  assert.equal((await cli(project, 'run')).code, 0);
  const skipped = await cli(project, 'run', '--skip', 'Load', '--force', 'Clean');
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.match(skipped.stderr, /│ Load +│ skipped: by request; its cached result is used +│/);
  assert.doesNotMatch(skipped.stderr, /skipped: skipped/);
});

test('the graph shows a skipped task\'s state once, and says "Up keeps its own" of one upstream', async () => {
  const { asciiGraph, graphViewFromPlan } = await import('../lib/report/pictures/index.js');
  const pipeline = testPipeline('SkipGraph').add(
    new Task('Up').process('run', () => 1),
    new Task('Down', { dependencies: ['Up'] }).process('run', (t) => t.result<number>('Up') + 1),
  );
  const never = asciiGraph(graphViewFromPlan(pipeline.tasks, await pipeline.plan({ skip: ['Up'] })));
  assert.match(never, /Up +skipped +it has no cached result$/m);
  await pipeline.execute({ progress: false });
  const waiting = asciiGraph(graphViewFromPlan(pipeline.tasks, await pipeline.plan({ skip: ['Down'], force: ['Up'] })));
  assert.match(waiting, /Down +skipped +← Up +its cached result serves only if Up keeps its own$/m);
  const fresh = asciiGraph(graphViewFromPlan(pipeline.tasks, await pipeline.plan({ skip: ['Up'] })));
  assert.match(fresh, /Up +skipped$/m);
  for (const graph of [never, waiting, fresh]) assert.doesNotMatch(graph, /skipped +skipped/);
});

test('a task run for want of a cached result reads "ran (not cached)", not "ran (never ran)"; a skipped one "it has no cached result"', async () => {
  const pipeline = testPipeline('FirstRun').add(
    new Task('Up').process('run', () => 1),
    new Task('Down', { dependencies: ['Up'] }).process('run', (t) => t.result<number>('Up') + 1),
  );
  assert.equal(await pipeline.explain('Up'), 'Up will run: not cached');
  assert.equal(await pipeline.explain('Up', { skip: ['Up'] }), 'Up is skipped, and it has no cached result');
  assert.equal(await pipeline.explain('Down', { skip: ['Up'] }), 'Down is blocked: Up is skipped and has no fresh result (not cached)');
  const skipped = await pipeline.execute({ progress: false, skip: ['Up'] });
  assert.equal(skipped.task('Up')!.reason, 'by request; it has no cached result');
  const report = await pipeline.execute({ progress: false });
  assert.equal(report.task('Up')!.reason, 'not cached');
  assert.match(renderTable(report), /│ Up +│ ran \(not cached\) +│/);
  assert.doesNotMatch(renderTable(report), /never ran/);
});
