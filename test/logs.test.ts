import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Pipeline, Task } from '../lib/index.js';
import { taskLogLines } from '../lib/logs/task-log-lines.js';
import { temporaryFolder } from './helpers.js';

const quiet = { progress: false } as const;

function parsed(lines: string[]): { msg: string; task: string; level: number }[] {
  return lines.map((line) => JSON.parse(line));
}

function logLines(folder: string, pipeline: string, task: string): { msg: string; task: string; level: number }[] {
  return parsed(fs.readFileSync(path.join(folder, 'logs', pipeline, `${task}.log`), 'utf8').trim().split('\n'));
}

test("a task's own lines go to its own file; the runner's lines about it go to the run's log; read together they are in order", async () => {
  const folder = temporaryFolder();
  const pipeline = new Pipeline('Logs', { cacheDir: folder }).add(
    new Task('Writer').process('run', (t) => {
      t.log.info({ rows: 3 }, 'wrote rows');
      return 3;
    }),
    new Task('Other').process('run', (t) => {
      t.log.info('other line');
      return 0;
    }),
  );
  await pipeline.execute(quiet);
  await pipeline.execute(quiet);
  await pipeline.close();
  assert.deepEqual(logLines(folder, 'Logs', 'Writer').map((line) => [line.task, line.msg]), [['Writer', 'wrote rows']]);
  const lines = parsed(await taskLogLines(path.join(folder, 'logs', 'Logs'), 'Writer'));
  const messages = lines.map((line) => line.msg);
  assert.equal(messages.length, 4);
  assert.deepEqual([messages[0], messages[1], messages[3]], ['started', 'wrote rows', 'served from cache']);
  assert.match(messages[2]!, /^done in \d+ ms$/);
  assert.ok(lines.every((line) => line.task === 'Writer'));
  assert.deepEqual(parsed(await taskLogLines(path.join(folder, 'logs', 'Logs'), 'Other')).map((line) => line.msg).filter((msg) => !msg.startsWith('done')), ['started', 'other line', 'served from cache']);
});

test('a task served from the cache writes nothing to its own log file, and one that logs nothing has none', async () => {
  const folder = temporaryFolder();
  const define = () => new Pipeline('Served', { cacheDir: folder }).add(
    new Task('Talks').process('run', (t) => {
      t.log.info('computing');
      return 1;
    }),
    new Task('Silent', { dependencies: ['Talks'] }).process('run', () => 2),
  );
  const first = define();
  await first.execute(quiet);
  await first.close();
  const talks = path.join(folder, 'logs', 'Served', 'Talks.log');
  const before = fs.readFileSync(talks, 'utf8');
  assert.equal(fs.existsSync(first.logFile('Silent')), false, 'a task that ran and logged nothing has no file of its own');

  const second = define();
  const report = await second.execute(quiet);
  await second.close();
  assert.deepEqual(report.tasks.map((task) => task.status), ['cached', 'cached']);
  assert.equal(fs.readFileSync(talks, 'utf8'), before, 'the cached run appended nothing to Talks.log');
  assert.equal(fs.existsSync(second.logFile('Silent')), false);
  const silent = parsed(await taskLogLines(path.join(folder, 'logs', 'Served'), 'Silent')).map((line) => line.msg);
  assert.equal(silent.length, 3);
  assert.deepEqual([silent[0], silent[2]], ['started', 'served from cache'], 'its runner lines are in the run logs');
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
