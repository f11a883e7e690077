import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO } from './cli/project.js';
import { temporaryFolder } from './helpers.js';

const TASKS = 41;

function project(): { folder: string; cacheDir: string; executions: string } {
  const folder = temporaryFolder('littlepipes-shared-');
  fs.copyFileSync(path.join(REPO, 'test', 'fixtures', 'shared-pipeline.mjs'), path.join(folder, 'shared-pipeline.mjs'));
  fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ type: 'module' }));
  fs.mkdirSync(path.join(folder, 'node_modules'));
  fs.symlinkSync(REPO, path.join(folder, 'node_modules', 'littlepipes'), 'dir');
  return { folder, cacheDir: path.join(folder, 'cache'), executions: path.join(folder, 'executions.txt') };
}

interface Runner {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
  waitFor: (text: string) => Promise<void>;
}

function start(where: ReturnType<typeof project>, env: Record<string, string> = {}): Runner {
  const child = spawn(process.execPath, [path.join(where.folder, 'shared-pipeline.mjs'), where.cacheDir, where.executions], {
    cwd: where.folder,
    env: { ...process.env, CI: '1', NO_COLOR: '1', ...env },
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = (text: string) => new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 30_000;
    const poll = () => (output.includes(text) ? resolve() : Date.now() > deadline ? reject(new Error(`no "${text}" in:\n${output}`)) : setTimeout(poll, 20));
    poll();
  });
  return { child, output: () => output, exit, waitFor };
}

/** How many times each task was executed, from the executions file. */
function executions(file: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of fs.readFileSync(file, 'utf8').trim().split('\n')) {
    const task = line.split(' ')[0]!;
    counts.set(task, (counts.get(task) ?? 0) + 1);
  }
  return counts;
}

function duplicates(counts: Map<string, number>): string[] {
  return [...counts].filter(([, count]) => count > 1).map(([task, count]) => `${task} ×${count}`);
}

test('four processes started at once on one cache finish without errors, and each task executes once', { timeout: 120_000 }, async () => {
  const where = project();
  const runners = Array.from({ length: 4 }, () => start(where));
  const codes = await Promise.all(runners.map((runner) => runner.exit));
  for (const runner of runners) assert.doesNotMatch(runner.output(), /database is locked|SQLITE_BUSY|Error/i, runner.output());
  assert.deepEqual(codes, [0, 0, 0, 0], runners.map((runner) => runner.output()).join('\n---\n'));
  const counts = executions(where.executions);
  assert.equal(counts.size, TASKS, 'every task executed');
  assert.deepEqual(duplicates(counts), [], 'no task executed twice');
  const served = runners.map((runner) => runner.output()).join('\n');
  assert.match(served, /"cached":\d*[1-9]/, 'some process served results another computed');
});

test('a process that starts while another is mid-run waits for the tasks that one is computing', { timeout: 120_000 }, async () => {
  const where = project();
  const first = start(where);
  await first.waitFor('▶ T6 started');
  const second = start(where);
  await second.waitFor('report');
  await first.waitFor('report');
  assert.deepEqual(await Promise.all([first.exit, second.exit]), [0, 0], `${first.output()}\n---\n${second.output()}`);
  const counts = executions(where.executions);
  assert.equal(counts.size, TASKS);
  assert.deepEqual(duplicates(counts), [], 'no task executed twice');
});

test('a lease left by a killed process is taken over: the waiting process computes the task itself', { timeout: 120_000 }, async () => {
  const where = project();
  const holder = start(where, { SLOW_MS: '60000' });
  await holder.waitFor('▶ Slow started');
  const waiter = start(where, { SLOW_MS: '0' });
  // The waiter finds everything else cached and Slow leased; then the holder dies.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(waiter.child.exitCode, null, 'the waiter waits while Slow is leased by a live process');
  holder.child.kill('SIGKILL');
  assert.equal(await waiter.exit, 0, waiter.output());
  assert.match(waiter.output(), /✔ Slow done/);
  assert.equal(executions(where.executions).get('Slow'), 2, 'Slow ran in the killed process, then once more in the waiter');
});
