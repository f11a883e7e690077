import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Pipeline, Task } from '../lib/index.js';
import { temporaryFolder } from './helpers.js';

const quiet = { progress: false } as const;

function logLines(folder: string, pipeline: string, task: string): { msg: string; task: string; level: number }[] {
  return fs.readFileSync(path.join(folder, 'logs', pipeline, `${task}.log`), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
}

test('each task logs to its own file: its own lines and the runner\'s lines about it', async () => {
  const folder = temporaryFolder();
  const pipeline = new Pipeline('Logs', { cacheDir: folder }).add(
    new Task('Writer').process('run', (t) => {
      t.log.info({ rows: 3 }, 'wrote rows');
      return 3;
    }),
    new Task('Other').process('run', () => 0),
  );
  await pipeline.execute(quiet);
  await pipeline.execute(quiet);
  await pipeline.close();
  const lines = logLines(folder, 'Logs', 'Writer');
  const messages = lines.map((line) => line.msg);
  assert.equal(messages.length, 4);
  assert.deepEqual([messages[0], messages[1], messages[3]], ['started', 'wrote rows', 'served from cache']);
  assert.match(messages[2]!, /^done in \d+ ms$/);
  assert.ok(lines.every((line) => line.task === 'Writer'));
  assert.ok(logLines(folder, 'Logs', 'Other').every((line) => line.task === 'Other'));
});

test('one logger per task name: recreating a task object does not duplicate its log lines', async () => {
  const folder = temporaryFolder();
  for (let round = 0; round < 3; round++) {
    const task = new Task('Again').process('run', (t) => {
      t.log.info(`round ${round}`);
      return round;
    });
    const pipeline = new Pipeline('Dup', { cacheDir: folder }).add(task);
    await pipeline.execute({ ...quiet, force: true });
    await pipeline.close();
  }
  const rounds = logLines(folder, 'Dup', 'Again').filter((line) => line.msg.startsWith('round'));
  assert.deepEqual(rounds.map((line) => line.msg), ['round 0', 'round 1', 'round 2']);
});

test('a task log does not grow without bound: it is rotated past its size limit', async () => {
  const folder = temporaryFolder();
  const pipeline = new Pipeline('Rotate', { cacheDir: folder }).add(
    new Task('Chatty').process('run', (t) => {
      for (let line = 0; line < 2_000; line++) t.log.info({ line, padding: 'x'.repeat(400) }, 'chatter');
      return 1;
    }),
  );
  for (let run = 0; run < 4; run++) await pipeline.execute({ ...quiet, force: true });
  await pipeline.close();
  const file = path.join(folder, 'logs', 'Rotate', 'Chatty.log');
  const total = fs.statSync(file).size + fs.statSync(`${file}.1`).size;
  // Four runs wrote about 3.6 MB; at most two files of about 1 MiB each remain.
  assert.ok(total < 2.5 * 1024 * 1024, `logs hold ${total} bytes`);
  assert.ok(fs.readFileSync(file, 'utf8').includes('"line":1999'), 'the newest lines are kept');
});

test('logLevel filters what task logs write', async () => {
  const folder = temporaryFolder();
  const pipeline = new Pipeline('Levels', { cacheDir: folder, logLevel: 'warn' }).add(
    new Task('Quiet').process('run', (t) => {
      t.log.info('hidden');
      t.log.warn('shown');
      return 1;
    }),
  );
  await pipeline.execute(quiet);
  await pipeline.close();
  assert.deepEqual(logLines(folder, 'Levels', 'Quiet').map((line) => line.msg), ['shown']);
});
