import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cli, makeProject } from './cli/project.js';

// `graph --timeline` shows where a run's time went. A run that served everything from the cache
// spent none on tasks, so its timeline would be an empty chart: the timeline drawn is of the last
// run that ran a task, and stderr says which run that is (stdout stays a Mermaid chart).

const NAMES = ['Load', 'Clean', 'Totals', 'Report'];

/** When a run started, as `littlepipes history` writes it. */
const shown = (startedAt: string) => new Date(startedAt).toLocaleString('sv-SE');

test('graph --timeline after a fully cached run draws the last run that ran a task, and says which run it is', async () => {
  const project = makeProject();
  assert.equal((await cli(project, 'run')).code, 0);
  assert.equal((await cli(project, 'run')).code, 0);
  const [cached, worked] = JSON.parse((await cli(project, 'history', '--json')).stdout) as { startedAt: string }[];
  const timeline = await cli(project, 'graph', '--timeline');
  assert.equal(timeline.code, 0, timeline.stderr);
  assert.match(timeline.stdout, /^gantt\n/);
  for (const name of NAMES) assert.match(timeline.stdout, new RegExp(`^  ${name} :`, 'm'), `${name} has a bar`);
  assert.equal(
    timeline.stderr.trim(),
    `littlepipes: the last run (${shown(cached!.startedAt)}) ran no task: 4 cached. This is the timeline of the run before it (${shown(worked!.startedAt)}).`,
  );

  assert.equal((await cli(project, 'run')).code, 0);
  const later = await cli(project, 'graph', '--timeline');
  assert.equal(later.code, 0, later.stderr);
  assert.match(later.stdout, /^  Load :/m);
  assert.equal(
    later.stderr.trim(),
    `littlepipes: the last 2 runs ran no task (the last: 4 cached). This is the timeline of the run of ${shown(worked!.startedAt)}, the last that ran one.`,
  );
});

test('graph --timeline when no run in the history ran a task says so and draws nothing', async () => {
  const project = makeProject();
  // Load is skipped with nothing cached, so every other task is blocked: nothing runs (and run exits 1, since they could not run).
  assert.equal((await cli(project, 'run', '--skip', 'Load')).code, 1);
  const timeline = await cli(project, 'graph', '--timeline');
  assert.equal(timeline.code, 1);
  assert.equal(timeline.stdout, '');
  assert.equal(
    timeline.stderr.trim(),
    'littlepipes: the only run in the history ran no task (3 blocked, 1 skipped), so there is no timeline to draw. littlepipes run --force runs every task again.',
  );
});

test('graph --timeline after a run that ran a task draws that run and says nothing more', async () => {
  const project = makeProject();
  assert.equal((await cli(project, 'run')).code, 0);
  const timeline = await cli(project, 'graph', '--timeline');
  assert.equal(timeline.code, 0, timeline.stderr);
  assert.equal(timeline.stderr, '');
  for (const name of NAMES) assert.match(timeline.stdout, new RegExp(`^  ${name} :`, 'm'));
});
