import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CLI, REPO, cli, makeProject } from './cli/project.js';
import { temporaryFolder } from './helpers.js';

// What a person reads must follow the order things happened in. A task starts only once what it
// depends on has finished, so its "started" line must come after their "done" lines. The runner
// announces a result done only once it is committed, while its dependents may already be running.

/** Each task and what it waits for: its dependencies and the tasks it requires. */
type Edges = ReadonlyMap<string, readonly string[]>;

const SAMPLE = fs.readFileSync(path.join(REPO, 'samples', 'pipeline.ts'), 'utf8');

async function edgesOf(module: string): Promise<Edges> {
  const { pipeline } = await import(module);
  return new Map(pipeline.tasks.map((task: { name: string; dependencies: string[]; requires: string[] }) => [task.name, [...task.dependencies, ...task.requires]]));
}

/** Where each task's line of each kind first appears in `output`. */
function positions(output: string, pattern: RegExp): Map<string, number> {
  const found = new Map<string, number>();
  for (const match of output.matchAll(pattern)) if (!found.has(match[1]!)) found.set(match[1]!, match.index);
  return found;
}

/**
 * For every edge whose two ends both show a line, the upstream's last line (done, failed...) comes
 * before the dependent's first; and each task's own lines come started, then done.
 */
function assertFollowsDependencies(output: string, edges: Edges, expectStarted: readonly string[]): void {
  const started = positions(output, /^▶ (\w+) started$/gm);
  const ended = positions(output, /^[✔✖–] (\w+) (?:done|failed|blocked|cancelled)/gm);
  assert.deepEqual([...started.keys()].sort(), [...expectStarted].sort(), `the tasks announced started:\n${output}`);
  for (const [name, at] of started) {
    assert.ok(ended.has(name) && ended.get(name)! > at, `${name} is announced done after it is announced started:\n${output}`);
    for (const upstream of edges.get(name) ?? []) {
      if (!ended.has(upstream)) continue;
      assert.ok(ended.get(upstream)! < at, `${upstream} is announced done before ${name}, which depends on it, is announced started:\n${output}`);
    }
  }
}

test('progress lines follow the run: a task is announced started only after everything it depends on is announced done', { timeout: 60_000 }, async () => {
  const project = makeProject(SAMPLE);
  const edges = await edgesOf(path.join(REPO, 'samples', 'pipeline.ts'));
  const run = await cli(project, 'run');
  assert.equal(run.code, 0, run.stderr);
  assertFollowsDependencies(run.stderr, edges, [...edges.keys()]);
});

const CHAIN = `import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, Task } from 'littlepipes';
export const pipeline = new Pipeline('Chain').add(
  new Task('Source').process('run', async () => { await sleep(50); return 1; }),
  new Task('Middle', { dependencies: ['Source'] }).process('run', (t) => t.result('Source') + 1),
  new Task('Last', { dependencies: ['Middle'] }).process('run', (t) => t.result('Middle') + 1),
  new Task('Side', { requires: ['Source'] }).process('run', () => 0),
);`;

test('a cached task between two that run passes the order on: the one after it starts after the one before it is done', { timeout: 60_000 }, async () => {
  const project = makeProject(CHAIN);
  const edges = await edgesOf(path.join(project, 'pipeline.ts'));
  const first = await cli(project, 'run');
  assert.equal(first.code, 0, first.stderr);
  assertFollowsDependencies(first.stderr, edges, ['Source', 'Middle', 'Last', 'Side']);
  // Source re-runs to the same value, so Middle stays cached (early cutoff); Last is forced.
  const second = await cli(project, 'run', '--force', 'Source', 'Last', 'Side');
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /Middle +│ cached/);
  const transitive = new Map(edges);
  transitive.set('Last', ['Source']);
  assertFollowsDependencies(second.stderr, transitive, ['Source', 'Last', 'Side']);
});

test('the README sample (npm run sample) announces Sum started after the three tasks it adds are done', { timeout: 60_000 }, () => {
  const sample = spawnSync(process.execPath, ['--import', 'tsx', 'samples/example1.ts'], {
    cwd: REPO,
    env: { ...process.env, LITTLEPIPES_DIR: temporaryFolder(), NO_COLOR: '1' },
    encoding: 'utf8',
  });
  assert.equal(sample.status, 0, sample.stderr);
  assertFollowsDependencies(sample.stderr, new Map([['Sum', ['TaskOne', 'TaskTwo', 'TaskThree']]]), ['TaskOne', 'TaskTwo', 'TaskThree', 'Sum']);
});

test('on a terminal the spinner names a task running only after what it depends on is done, and never after its own done line', { timeout: 60_000 }, async () => {
  const project = makeProject(SAMPLE);
  const edges = await edgesOf(path.join(REPO, 'samples', 'pipeline.ts'));
  // `script` (util-linux) gives the command line a real pseudo-terminal, wide enough for every name.
  const command = `stty cols 200 rows 40; ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} run`;
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '', NO_COLOR: '1', TERM: 'xterm' };
  delete env.LITTLEPIPES_DIR;
  const terminal = spawnSync('script', ['-qfec', command, '/dev/null'], { cwd: project, env, encoding: 'utf8' });
  const output = terminal.stdout;
  assert.equal(terminal.status, 0, output.slice(-2000));
  const done = positions(output, /✔ (\w+) done/g);
  assert.deepEqual([...done.keys()].sort(), [...edges.keys()].sort(), `every task is announced done:\n${output}`);
  const frames = [...output.matchAll(/\d+\/\d+ done · running ((?:\w+, )*\w+)/g)];
  assert.ok(frames.length > 0, `the spinner shows:\n${output}`);
  for (const frame of frames) {
    for (const name of frame[1]!.split(', ')) {
      assert.ok(!(done.get(name)! < frame.index), `the spinner shows ${name} running after its done line: "${frame[0]}"`);
      for (const upstream of edges.get(name)!) {
        assert.ok(done.get(upstream)! < frame.index, `the spinner shows ${name} running before ${upstream}, which it depends on, is done: "${frame[0]}"`);
      }
    }
  }
});

test('on a terminal the spinner counts cached tasks as done: "4/6 done · running TopProducts", not "0/6"', { timeout: 60_000 }, async () => {
  const project = makeProject(SAMPLE);
  assert.equal((await cli(project, 'run')).code, 0);
  // Orders, Rates, Clean and ByRegion are served from the cache; Report waits on TopProducts.
  const command = `stty cols 200 rows 40; ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} run --force TopProducts`;
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '', NO_COLOR: '1', TERM: 'xterm' };
  delete env.LITTLEPIPES_DIR;
  const terminal = spawnSync('script', ['-qfec', command, '/dev/null'], { cwd: project, env, encoding: 'utf8' });
  assert.equal(terminal.status, 0, terminal.stdout.slice(-2000));
  const frames = new Set([...terminal.stdout.matchAll(/\d+\/\d+ done · running [\w, ]+/g)].map((match) => match[0]));
  assert.deepEqual([...frames], ['4/6 done · running TopProducts']);
});

test('events follow the graph too, and a cached or skipped task is told by taskCachedOrSkipped', async () => {
  const { Task } = await import('../lib/index.js');
  const { testPipeline } = await import('./helpers.js');
  const pipeline = testPipeline('Events').add(
    new Task('Up').process('run', () => 1),
    new Task('Down', { dependencies: ['Up'] }).process('run', (t) => t.result<number>('Up') + 1),
    new Task('Last', { dependencies: ['Down'] }).process('run', (t) => t.result<number>('Down') + 1),
  );
  const told: string[] = [];
  const events = {
    taskStarted: (name: string) => told.push(`started ${name}`),
    taskFinished: (task: { name: string; status: string }) => told.push(`${task.status} ${task.name}`),
    taskCachedOrSkipped: (task: { name: string; status: string }) => told.push(`${task.status} ${task.name}`),
  };
  await pipeline.execute({ progress: false, events });
  assert.deepEqual(told, ['started Up', 'ran Up', 'started Down', 'ran Down', 'started Last', 'ran Last']);
  told.length = 0;
  await pipeline.execute({ progress: false, events, force: ['Last'], skip: ['Up'] });
  assert.deepEqual(told, ['skipped Up', 'cached Down', 'started Last', 'ran Last']);
});
