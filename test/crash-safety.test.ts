import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO } from './cli/project.js';
import { temporaryFolder } from './helpers.js';

const KILLS = 50;
const COUNT = 200;

/** A seeded random number generator (mulberry32), so a failing round can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Round {
  fresh: string[] | undefined;
  waiting: string[] | undefined;
  wrong: string[] | undefined;
  cleared: boolean;
  announced: string[];
  finished: boolean;
  exitCode: number | null;
  stderr: string;
}

/**
 * Runs the crash pipeline, clearing `clear` first; with `killAfterMs`, sends SIGKILL that long
 * after it printed `executing` (or, with `fromStart`, after it was spawned).
 */
function round(project: string, cacheDir: string, clear: string[], kill?: { afterMs: number; fromStart: boolean }): Promise<Round> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(project, 'crash-pipeline.mjs'), cacheDir, clear.join(',')], { cwd: project, env: { ...process.env, CI: '1', NO_COLOR: '1' } });
    const result: Round = { fresh: undefined, waiting: undefined, wrong: undefined, cleared: false, announced: [], finished: false, exitCode: null, stderr: '' };
    let buffered = '';
    const scheduleKill = () => kill && setTimeout(() => child.kill('SIGKILL'), kill.afterMs);
    if (kill?.fromStart) scheduleKill();
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith('fresh ')) result.fresh = JSON.parse(line.slice(6));
        else if (line.startsWith('waiting ')) result.waiting = JSON.parse(line.slice(8));
        else if (line.startsWith('wrong ')) result.wrong = JSON.parse(line.slice(6));
        else if (line === 'cleared') result.cleared = true;
        else if (line === 'executing' && kill && !kill.fromStart) scheduleKill();
        else if (line === 'finished') result.finished = true;
      }
    });
    // Progress goes to stderr: one line per task as it is announced done.
    let progress = '';
    child.stderr.on('data', (chunk: Buffer) => {
      result.stderr += chunk.toString();
      progress += chunk.toString();
      let newline: number;
      while ((newline = progress.indexOf('\n')) >= 0) {
        const done = /^✔ (T\d+) done/.exec(progress.slice(0, newline));
        if (done) result.announced.push(done[1]!);
        progress = progress.slice(newline + 1);
      }
    });
    child.on('exit', (code) => {
      result.exitCode = code;
      resolve(result);
    });
  });
}

test(`a run killed at ${KILLS} points keeps every result it announced, never serves a broken one, and the next run finishes the rest`, { timeout: 600_000 }, async () => {
  const project = temporaryFolder('littlepipes-crash-');
  fs.copyFileSync(path.join(REPO, 'test', 'fixtures', 'crash-pipeline.mjs'), path.join(project, 'crash-pipeline.mjs'));
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ type: 'module' }));
  fs.mkdirSync(path.join(project, 'node_modules'));
  fs.symlinkSync(REPO, path.join(project, 'node_modules', 'littlepipes'), 'dir');
  const cacheDir = path.join(project, 'cache');
  const next = random(20261122);

  // Tasks that must be served, correctly, at the start of the next round.
  let promised = new Set<string>();
  let killsDuringExecution = 0;
  let previousClear: string[] = [];
  for (let kill = 0; kill < KILLS; kill++) {
    // Clear a random set each round, so every round has work to be killed in the middle of.
    const clear = Array.from({ length: COUNT }, (_, i) => `T${i}`).filter(() => next() < 0.35);
    const fromStart = kill % 5 === 4; // Some kills land while it starts, checks or clears.
    const outcome = await round(project, cacheDir, clear, { afterMs: Math.floor(next() * (fromStart ? 400 : 300)), fromStart });
    const where = `round ${kill + 1} (killed ${fromStart ? 'from start' : 'into the run'})`;
    assert.doesNotMatch(outcome.stderr, /Error|corrupt|malformed/i, `${where}: the cache opened cleanly\n${outcome.stderr}`);
    if (outcome.fresh !== undefined) {
      assert.deepEqual(outcome.wrong, [], `${where}: no cached result is wrong`);
      // Kept means served now, or served once an upstream cut short by the kill has run again.
      const missing = [...promised].filter((name) => !outcome.fresh!.includes(name) && !outcome.waiting!.includes(name));
      assert.deepEqual(missing, [], `${where}: every task announced done before the kill is kept in the cache`);
    }
    // What this round announced is promised to the next, minus what it cleared (or may have).
    if (outcome.fresh === undefined) promised = new Set([...promised].filter((name) => !previousClear.includes(name)));
    const mayBeCleared = new Set(clear);
    promised = new Set([...promised].filter((name) => !mayBeCleared.has(name)));
    for (const name of outcome.announced) promised.add(name);
    if (outcome.cleared && outcome.announced.length > 0 && !outcome.finished) killsDuringExecution++;
    previousClear = outcome.fresh === undefined ? previousClear.concat(clear) : clear;
  }
  assert.ok(killsDuringExecution >= 25, `at least half of the kills land while tasks run and results are written (${killsDuringExecution})`);

  const last = await round(project, cacheDir, []);
  assert.equal(last.exitCode, 0, last.stderr);
  assert.ok(last.finished);
  assert.deepEqual(last.wrong, []);
  const missing = [...promised].filter((name) => !last.fresh!.includes(name) && !last.waiting!.includes(name));
  assert.deepEqual(missing, [], 'every announced task is kept for the final round');
  const rerun = last.announced.filter((name) => promised.has(name));
  assert.deepEqual(rerun, [], 'the final run serves every announced task from the cache rather than running it again');
  const check = await round(project, cacheDir, []);
  assert.equal(check.fresh?.length, COUNT, 'after the final run every task is cached and right');
  assert.equal(check.announced.length, 0, 'and nothing runs again');
});
