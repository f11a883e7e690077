import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Task } from '../lib/index.js';
import { cli, makeProject, SALES_PIPELINE } from './cli/project.js';
import { statuses, testPipeline } from './helpers.js';

/** A stack trace line from inside a program: what the command line never prints without --verbose. */
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

test('run executes every task, then serves them from the cache; --json prints the report', async () => {
  const project = makeProject();
  const first = await cli(project, 'run');
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /Sales: 4 ran/);
  const second = await cli(project, 'run', '--json');
  assert.equal(second.code, 0, second.stderr);
  const report = JSON.parse(second.stdout) as { tasks: { name: string; status: string }[] };
  assert.deepEqual(report.tasks.map((task) => [task.name, task.status]), [['Load', 'cached'], ['Clean', 'cached'], ['Totals', 'cached'], ['Report', 'cached']]);
});

test('run TASK and run --only TASK run it and what it needs; --no-deps runs just it; --force re-runs', async () => {
  const project = makeProject();
  const ran = async (...args: string[]) => {
    const result = await cli(project, 'run', ...args, '--json');
    assert.equal(result.code, 0, result.stderr);
    return statuses(JSON.parse(result.stdout) as { tasks: { name: string; status: string }[] });
  };
  assert.deepEqual(await ran('Clean'), { Load: 'ran', Clean: 'ran', Totals: 'skipped', Report: 'skipped' });
  assert.deepEqual(await ran('--only', 'Totals'), { Load: 'cached', Clean: 'cached', Totals: 'ran', Report: 'skipped' }, '--only is the API\'s only: these and what they need');
  assert.deepEqual(await ran('Report', '--no-deps', '--force', 'Report'), { Load: 'skipped', Clean: 'skipped', Totals: 'skipped', Report: 'ran' }, '--no-deps: just Report, on Totals from the cache');
  assert.deepEqual(await ran('--force', 'Load'), { Load: 'ran', Clean: 'cached', Totals: 'cached', Report: 'cached' });
  const alone = await cli(project, 'run', '--no-deps');
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /--no-deps runs just the tasks named/);
});

test('only means one thing on both surfaces: execute({ only }), run TASK, run --only TASK and plan --only TASK select the same tasks', async () => {
  const api = testPipeline('Sales').add(
    new Task('Load').process('run', () => [1]),
    new Task('Clean', { dependencies: ['Load'] }).process('run', () => [1]),
    new Task('Totals', { dependencies: ['Clean'] }).process('run', () => 1),
    new Task('Report', { dependencies: ['Totals'] }).process('run', () => '1'),
  );
  const expected = statuses(await api.execute({ only: ['Totals'], progress: false }));
  for (const args of [['Totals'], ['--only', 'Totals']]) {
    const project = makeProject();
    const plan = JSON.parse((await cli(project, 'plan', ...args, '--json')).stdout) as { tasks: { name: string; action: string }[] };
    assert.deepEqual(Object.fromEntries(plan.tasks.map((task) => [task.name, task.action === 'run' ? 'ran' : task.action])), expected, `plan ${args.join(' ')}`);
    const run = JSON.parse((await cli(project, 'run', ...args, '--json')).stdout) as { tasks: { name: string; status: string }[] };
    assert.deepEqual(statuses(run), expected, `run ${args.join(' ')}`);
  }
});

test('a failing task: exit 1, the report, and one line saying which task failed, without a stack', async () => {
  const project = makeProject(SALES_PIPELINE.replace("return totals;", "throw new Error('no region column');"));
  const result = await cli(project, 'run');
  assert.equal(result.code, 1);
  assert.match(result.stderr, /littlepipes: 1 task failed: Totals\. Totals: no region column/);
  assert.match(result.stderr, /Report +│ blocked/);
  assert.doesNotMatch(result.stderr, STACK_LINE);
});

test('bad usage exits 2 with one clear line: unknown option, unknown task (with a suggestion), bad concurrency', async () => {
  const project = makeProject();
  const option = await cli(project, 'run', '--forse');
  assert.equal(option.code, 2);
  assert.match(option.stderr, /unknown option '--forse'/);
  const task = await cli(project, 'run', 'Totls');
  assert.equal(task.code, 2);
  assert.match(task.stderr, /Totls/);
  assert.match(task.stderr, /Did you mean "Totals"\?/);
  assert.doesNotMatch(task.stderr, STACK_LINE);
  const concurrency = await cli(project, 'run', '--concurrency', 'many');
  assert.equal(concurrency.code, 2);
  assert.match(concurrency.stderr, /concurrency must be a whole number/);
});

test('an invalid pipeline exits 2: no pipeline found, a module that throws, one without an export, a cycle', async () => {
  const empty = makeProject();
  fs.rmSync(path.join(empty, 'pipeline.ts'));
  const missing = await cli(empty, 'plan');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /names the pipeline "pipeline.ts", but .*pipeline.ts does not exist/);

  const throwing = makeProject("import { Pipeline } from 'littlepipes';\nconst rows = JSON.parse('{oops');\nexport const pipeline = new Pipeline('X');\n");
  const thrown = await cli(throwing, 'run');
  assert.equal(thrown.code, 2);
  assert.match(thrown.stderr, /Cannot load the pipeline pipeline\.ts: .*JSON.*\(at pipeline\.ts:2\)/);
  assert.doesNotMatch(thrown.stderr, STACK_LINE);
  const verbose = await cli(throwing, 'run', '--verbose');
  assert.match(verbose.stderr, STACK_LINE, '--verbose shows the stack');

  const noExport = makeProject("import { Pipeline } from 'littlepipes';\nexport const sales = new Pipeline('X');\n");
  const none = await cli(noExport, 'run');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /pipeline\.ts exports no pipeline \(it exports sales\)/);

  const cycle = makeProject(`import { Pipeline, Task } from 'littlepipes';
export const pipeline = new Pipeline('Cycle').add(
  new Task('A', { dependencies: ['B'] }).process('run', () => 1),
  new Task('B', { dependencies: ['A'] }).process('run', () => 2),
);`);
  const cyclic = await cli(cycle, 'run');
  assert.equal(cyclic.code, 2);
  assert.match(cyclic.stderr, /cycle/i);
});

test('the pipeline is found by --pipeline, by package.json, or as ./pipeline.ts', async () => {
  const project = makeProject();
  fs.renameSync(path.join(project, 'pipeline.ts'), path.join(project, 'sales.ts'));
  assert.equal((await cli(project, 'plan', '--pipeline', 'sales.ts')).code, 0);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ type: 'module', littlepipes: { pipeline: 'sales.ts' } }));
  assert.equal((await cli(project, 'plan')).code, 0);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ type: 'module' }));
  const none = await cli(project, 'plan');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /No pipeline found in .*Pass --pipeline FILE, or name it in package\.json/);
  fs.renameSync(path.join(project, 'sales.ts'), path.join(project, 'pipeline.ts'));
  assert.equal((await cli(project, 'plan')).code, 0);
});

test('plan says what would run and why; --check gates CI; status is the same; --json and --explain', async () => {
  const project = makeProject();
  const before = await cli(project, 'plan');
  assert.equal(before.code, 0);
  assert.match(before.stdout, /Load +│ will run +│ not cached/);
  assert.match(before.stdout, /Sales: 4 will run/);
  assert.equal((await cli(project, 'plan', '--check')).code, 1);
  await cli(project, 'run');
  const after = await cli(project, 'status', '--check');
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stdout, /Everything is up to date/);

  fs.writeFileSync(path.join(project, 'pipeline.ts'), SALES_PIPELINE.replace('minimum: 2', 'minimum: 6'));
  const changed = await cli(project, 'plan', '--check');
  assert.equal(changed.code, 1);
  assert.match(changed.stdout, /Clean +│ will run +│ params changed: minimum 2 → 6/);
  assert.match(changed.stderr, /not up to date/);
  const json = JSON.parse((await cli(project, 'plan', '--json')).stdout) as { tasks: { name: string; action: string }[] };
  assert.deepEqual(json.tasks.map((task) => task.action), ['cached', 'run', 'wait', 'wait']);
  const explained = await cli(project, 'plan', '--explain', 'Totals');
  assert.match(explained.stdout, /^Totals waits on Clean/);
});

test('graph draws every task: ascii, mermaid, dot, an HTML page, and the last run as a timeline', async () => {
  const project = makeProject();
  const names = ['Load', 'Clean', 'Totals', 'Report'];
  const ascii = await cli(project, 'graph');
  assert.equal(ascii.code, 0, ascii.stderr);
  for (const name of names) assert.match(ascii.stdout, new RegExp(name));
  const mermaid = await cli(project, 'graph', '--format', 'mermaid');
  assert.match(mermaid.stdout, /^flowchart/);
  for (const name of names) assert.match(mermaid.stdout, new RegExp(name));
  const dot = await cli(project, 'graph', '--format', 'dot');
  assert.match(dot.stdout, /^digraph/);
  const noRun = await cli(project, 'graph', '--timeline');
  assert.equal(noRun.code, 1);
  assert.match(noRun.stderr, /has not run yet/);
  await cli(project, 'run');
  const timeline = await cli(project, 'graph', '--timeline');
  assert.match(timeline.stdout, /gantt/);
  for (const name of names) assert.match(timeline.stdout, new RegExp(name));
  assert.equal((await cli(project, 'graph', '--html', 'graph.html')).code, 0);
  const html = fs.readFileSync(path.join(project, 'graph.html'), 'utf8');
  for (const name of names) assert.match(html, new RegExp(`data-task="${name}"`));
  const badFormat = await cli(project, 'graph', '--format', 'png');
  assert.equal(badFormat.code, 2);
  assert.match(badFormat.stderr, /Allowed choices are ascii, mermaid, dot/);
});

test('show prints a result readably; a task with no fresh result says why, in one line', async () => {
  const project = makeProject();
  const never = await cli(project, 'show', 'Totals');
  assert.equal(never.code, 1);
  assert.match(never.stderr, /littlepipes: Totals has no fresh result: it has never run/);
  await cli(project, 'run');
  const shown = await cli(project, 'show', 'Clean');
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /array of 3 rows × 2 columns\nregion: string\namount: number\n/, 'the size, then the schema');
  assert.match(shown.stdout, /│ north +│ 10 +│/);
  assert.match(shown.stderr, /Clean: stored \d+ s ago/);
  const totals = await cli(project, 'show', 'Totals');
  assert.match(totals.stdout, /north: 17/);
});

test('clear drops named results or everything; clear alone is a usage error', async () => {
  const project = makeProject();
  await cli(project, 'run');
  const cleared = await cli(project, 'clear', 'Totals');
  assert.equal(cleared.code, 0);
  assert.match(cleared.stdout, /Cleared Totals\./);
  assert.match((await cli(project, 'plan')).stdout, /Totals +│ will run +│ not cached/);
  const nothing = await cli(project, 'clear');
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /name the tasks to clear, or pass --all/);
  const all = await cli(project, 'clear', '--all');
  assert.match(all.stdout, /Cleared everything of Sales: 3 cached results and the run history/);
  assert.match((await cli(project, 'plan')).stdout, /Sales: 4 will run/);
});

test('history lists past runs with the time of each task that ran', async () => {
  const project = makeProject();
  assert.match((await cli(project, 'history')).stdout, /Sales has not run yet/);
  await cli(project, 'run');
  await cli(project, 'run', '--force', 'Report');
  const history = await cli(project, 'history');
  assert.equal(history.code, 0);
  const runs = history.stdout.split('\n\n');
  assert.equal(runs.length, 2);
  assert.match(runs[0]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +1 ran, 3 cached in /);
  assert.match(runs[0]!, /\n +Report +ran +[\d.]+ ms/);
  assert.match(runs[1]!, /4 ran in/);
  const json = JSON.parse((await cli(project, 'history', '--limit', '1', '--json')).stdout) as unknown[];
  assert.equal(json.length, 1);
});

test('logs prints what a task logged, readably; --raw prints the JSON lines', async () => {
  const project = makeProject();
  const none = await cli(project, 'logs', 'Load');
  assert.equal(none.code, 1);
  assert.match(none.stderr, /Load has no log yet/);
  await cli(project, 'run');
  const logs = await cli(project, 'logs', 'Load');
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: loaded 4 rows/);
  const raw = await cli(project, 'logs', 'Load', '--raw', '--lines', '1');
  assert.equal(raw.stdout.trim().split('\n').length, 1);
  assert.ok(JSON.parse(raw.stdout).msg);
});

test('--help works for the program and every command, with examples', async () => {
  const project = makeProject();
  const main = await cli(project, '--help');
  assert.equal(main.code, 0);
  for (const command of ['run', 'plan', 'graph', 'show', 'clear', 'history', 'logs', 'watch', 'shell']) assert.match(main.stdout, new RegExp(`\\n  ${command}`));
  for (const command of ['run', 'plan', 'graph', 'show', 'clear', 'history', 'logs', 'watch', 'shell']) {
    const help = await cli(project, command, '--help');
    assert.equal(help.code, 0, command);
    assert.match(help.stdout, /Examples:\n  \$ littlepipes/, `${command} --help has examples`);
  }
});

test('run --html writes a picture of the run: every task drawn, a timeline bar for each that ran', async () => {
  const project = makeProject();
  const result = await cli(project, 'run', '--html', 'run.html');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Picture of the run: .*run\.html/);
  const html = fs.readFileSync(path.join(project, 'run.html'), 'utf8');
  assert.doesNotMatch(html, /http-equiv="refresh"/, 'the finished page no longer refreshes itself');
  for (const name of ['Load', 'Clean', 'Totals', 'Report']) {
    assert.ok((html.match(new RegExp(`data-task="${name}"`, 'g')) ?? []).length >= 2, `${name} has a node and a timeline bar`);
  }
});

test('show --full prints every item of a large result', async () => {
  const project = makeProject(`import { Pipeline, Task } from 'littlepipes';
export const pipeline = new Pipeline('Big').add(new Task('Numbers').process('run', () => Array.from({ length: 500 }, (_, i) => i)));`);
  await cli(project, 'run');
  const summary = await cli(project, 'show', 'Numbers');
  assert.match(summary.stdout, /array of 500 items/);
  assert.match(summary.stdout, /\.\.\. 480 more items/);
  const full = await cli(project, 'show', 'Numbers', '--full');
  assert.match(full.stdout, /499/);
  assert.doesNotMatch(full.stdout, /more items/);
});

test('--profile runs, plans and shows with a profile from littlepipes.yaml; a bad profile is a usage error naming the file and line', async () => {
  const project = makeProject(`import { Pipeline, Task, anyOf } from 'littlepipes';
export const pipeline = new Pipeline('Staged').add(
  new Task('LoadFull', { stage: 'datasets' }).process('run', () => [1, 2, 3, 4]),
  new Task('LoadSample', { stage: 'datasets' }).process('run', () => [1]),
  new Task('Count', { dependencies: [anyOf('LoadFull', 'LoadSample')] }).process('run', (t) => t.result<number[]>(t.has('LoadFull') ? 'LoadFull' : 'LoadSample').length),
);`, { 'littlepipes.yaml': 'profiles:\n  sample:\n    stages:\n      datasets: [LoadSample]\n' });
  const plan = await cli(project, 'plan', '--profile', 'sample', '--json');
  const actions = Object.fromEntries((JSON.parse(plan.stdout) as { tasks: { name: string; action: string }[] }).tasks.map((task) => [task.name, task.action]));
  assert.deepEqual(actions, { LoadFull: 'skipped', LoadSample: 'run', Count: 'run' });
  const run = await cli(project, 'run', '--profile', 'sample', '--json');
  assert.equal(run.code, 0, run.stderr);
  assert.equal((await cli(project, 'show', 'Count', '--profile', 'sample')).stdout.trim().split('\n').at(-1), '1');
  const bad = await cli(project, 'run', '--profile', 'smaple');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /littlepipes: littlepipes\.yaml:1: there is no profile "smaple"\. Did you mean "sample"\?/);
});

test('a run that leaves tasks blocked behind a skipped task with no cached result exits 1 and says which and why', async () => {
  const project = makeProject();
  const result = await cli(project, 'run', '--skip', 'Load');
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /run: 3 tasks could not run, for a task they need was skipped and has no fresh cached result: Clean, Totals, Report\. Run it \(leave it out of --skip\) once/);
  const again = await cli(project, 'run');
  assert.equal(again.code, 0, 'once everything ran, the same run is fine');
  assert.equal((await cli(project, 'run', '--skip', 'Load')).code, 0, 'a skipped task with a fresh cached result blocks nothing');
});
