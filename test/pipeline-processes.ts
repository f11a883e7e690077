import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './cli/project.js';
import { temporaryFolder } from './helpers.js';

/**
 * Processes that run the pipeline of test/fixtures/shared-pipeline.mjs at once, on one cache:
 * the local SQLite file, or a shared store through LITTLEPIPES_STORE. Every execution of a task
 * appends a line to the executions file, so a test can count how often each one ran.
 */
export interface SharedProject {
  folder: string;
  cacheDir: string;
  executions: string;
}

/**
 * A project folder with the fixture pipeline, importing littlepipes as a user's project does;
 * `name` is its package.json name (which namespaces its keys in a shared store).
 */
export function sharedProject(name?: string): SharedProject {
  const folder = temporaryFolder('littlepipes-shared-');
  fs.copyFileSync(path.join(REPO, 'test', 'fixtures', 'shared-pipeline.mjs'), path.join(folder, 'shared-pipeline.mjs'));
  fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name, type: 'module' }));
  fs.mkdirSync(path.join(folder, 'node_modules'));
  fs.symlinkSync(REPO, path.join(folder, 'node_modules', 'littlepipes'), 'dir');
  return { folder, cacheDir: path.join(folder, 'cache'), executions: path.join(folder, 'executions.txt') };
}

export interface PipelineProcess {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
  waitFor: (text: string) => Promise<void>;
}

/** Starts the fixture pipeline in `where`; `env` adds variables (SLOW_MS, LITTLEPIPES_STORE). */
export function startPipeline(where: SharedProject, env: Record<string, string> = {}): PipelineProcess {
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
export function executions(file: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of fs.readFileSync(file, 'utf8').trim().split('\n')) {
    const task = line.split(' ')[0]!;
    counts.set(task, (counts.get(task) ?? 0) + 1);
  }
  return counts;
}

/** Tasks executed more than once, as `T3 ×2`. */
export function duplicates(counts: Map<string, number>): string[] {
  return [...counts].filter(([, count]) => count > 1).map(([task, count]) => `${task} ×${count}`);
}

/** Tasks in the fixture pipeline: T0 to T39, then Slow. */
export const FIXTURE_TASKS = 41;

/**
 * A process holding Slow's lease is killed while another waits on it: the waiter computes Slow
 * itself once the lease is free (at once on the same host). `env` chooses the cache.
 */
export async function assertKilledHolderTakenOver(where: SharedProject, env: Record<string, string> = {}): Promise<void> {
  const holder = startPipeline(where, { ...env, SLOW_MS: '60000' });
  await holder.waitFor('▶ Slow started');
  const waiter = startPipeline(where, { ...env, SLOW_MS: '0' });
  // The waiter finds everything else cached and Slow leased; then the holder dies.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(waiter.child.exitCode, null, 'the waiter waits while Slow is leased by a live process');
  holder.child.kill('SIGKILL');
  assert.equal(await waiter.exit, 0, waiter.output());
  assert.match(waiter.output(), /✔ Slow done/);
  assert.equal(executions(where.executions).get('Slow'), 2, 'Slow ran in the killed process, then once more in the waiter');
}
