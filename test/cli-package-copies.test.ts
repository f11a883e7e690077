// `npm i -g littlepipes` gives a command line that is one copy of littlepipes, running a project
// whose pipeline module imports the project's own copy. Their error classes are different classes,
// so the command line must tell errors apart by their `code`, never by `instanceof`.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { cli, makeProject, REPO, SALES_PIPELINE, start } from './cli/project.js';

/**
 * A second copy of the built littlepipes (dist/ and package.json), under test/.work/ so that its
 * own dependencies resolve from the repository's node_modules.
 */
function copyOfLittlepipes(): string {
  fs.mkdirSync(path.join(REPO, 'test', '.work'), { recursive: true });
  const root = fs.mkdtempSync(path.join(REPO, 'test', '.work', 'littlepipes-copy-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const copy = path.join(root, 'littlepipes');
  fs.cpSync(path.join(REPO, 'dist'), path.join(copy, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(copy, 'package.json'));
  return copy;
}

const copy = copyOfLittlepipes();

/** A project whose pipeline module imports the copy, not the littlepipes the command line is; the module checks it. */
function projectOnTheCopy(source: string, files: Record<string, string> = {}): string {
  const guard = `
import { fileURLToPath as pathOfUrl } from 'node:url';
if (!pathOfUrl(import.meta.resolve('littlepipes')).startsWith(${JSON.stringify(copy)})) throw new Error('the project does not use its own copy of littlepipes');
`;
  const project = makeProject(`${source}\n${guard}`, files);
  const link = path.join(project, 'node_modules', 'littlepipes');
  fs.rmSync(link);
  fs.symlinkSync(copy, link, 'dir');
  return project;
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

test('a failed run of a project on its own copy: exit 1, the report as JSON with --json, one line naming the task', async () => {
  const project = projectOnTheCopy(SALES_PIPELINE.replace('return totals;', "throw new Error('no region column');"));
  const result = await cli(project, 'run', '--json');
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(result.stdout) as { tasks: { name: string; status: string }[] };
  assert.deepEqual(Object.fromEntries(report.tasks.map((task) => [task.name, task.status])), { Load: 'ran', Clean: 'ran', Totals: 'failed', Report: 'blocked' });
  assert.match(result.stderr, /^littlepipes: 1 task failed: Totals\. Totals: no region column\. `littlepipes logs Totals` shows its log/);
  assert.doesNotMatch(result.stderr, /--verbose for the stack/);
});

test('bad usage on a project on its own copy exits 2: an unknown task, a bad profile, a cycle', async () => {
  const project = projectOnTheCopy(SALES_PIPELINE, { 'littlepipes.yaml': 'profiles:\n  sample:\n    params:\n      Clean: { minimum: 1 }\n' });
  const unknown = await cli(project, 'run', 'Totls');
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.match(unknown.stderr, /there is no task named "Totls"\. Did you mean "Totals"\?/);
  const profile = await cli(project, 'run', '--profile', 'smaple');
  assert.equal(profile.code, 2, profile.stderr);
  assert.match(profile.stderr, /littlepipes\.yaml:1: there is no profile "smaple"\. Did you mean "sample"\?/);
  for (const result of [unknown, profile]) assert.doesNotMatch(result.stderr, /--verbose for the stack/);

  const cyclic = projectOnTheCopy(`import { Pipeline, Task } from 'littlepipes';
export const pipeline = new Pipeline('Cycle').add(
  new Task('A', { dependencies: ['B'] }).process('run', () => 1),
  new Task('B', { dependencies: ['A'] }).process('run', () => 2),
);`);
  const cycle = await cli(cyclic, 'run');
  assert.equal(cycle.code, 2, cycle.stderr);
  assert.match(cycle.stderr, /cycle/);
});

test('Ctrl-C during a run of a project on its own copy: exit 130, and the report so far with --json', async () => {
  const project = projectOnTheCopy(`import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, Task } from 'littlepipes';
export const pipeline = new Pipeline('Slow').add(
  new Task('Quick').process('run', () => 1),
  new Task('Slow', { dependencies: ['Quick'] }).process('run', async (t) => { fs.writeFileSync('slow-started', ''); await sleep(60_000, undefined, { signal: t.signal }); return 2; }),
);`);
  const run = start(project, 'run', '--json');
  try {
    // With --json there is no progress to wait for: Slow leaves a file when it starts.
    while (!fs.existsSync(path.join(project, 'slow-started'))) await new Promise((resolve) => setTimeout(resolve, 50));
    run.child.kill('SIGINT');
    assert.equal(await exited(run.child), 130, run.output());
    assert.match(run.output(), /"status": "cancelled"/);
    assert.match(run.output(), /The run was cancelled/);
  } finally {
    run.child.kill('SIGKILL');
  }
});
