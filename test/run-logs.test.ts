import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Pipeline, Task } from '../lib/index.js';
import { runLogFiles } from '../lib/logs/run-logs.js';
import { RUN_LOGS_KEPT } from '../lib/logs/task-logs.js';
import { REPO, cli, makeProject } from './cli/project.js';
import { temporaryFolder } from './helpers.js';

const quiet = { progress: false } as const;

interface Line {
  level: number;
  time: number;
  task: string;
  msg: string;
  reason?: string;
}

function linesOf(file: string): Line[] {
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Line);
}

function twoTasks(folder: string) {
  return new Pipeline('Runs', { cacheDir: folder }).add(
    new Task('A').process('run', () => 1),
    new Task('B', { dependencies: ['A'] }).process('run', () => 2),
  );
}

test("each run writes one log of the runner's lines, with the task as a field", async () => {
  const folder = temporaryFolder();
  const pipeline = twoTasks(folder);
  await pipeline.execute(quiet);
  await pipeline.execute(quiet);
  await pipeline.close();
  const logFolder = path.join(folder, 'logs', 'Runs');
  const runs = await runLogFiles(logFolder);
  assert.equal(runs.length, 2);
  assert.ok(runs.every((file) => path.dirname(file) === path.join(logFolder, 'runs')), runs.join('\n'));
  const cold = linesOf(runs[0]!);
  assert.deepEqual(cold.map((line) => [line.task, line.msg.replace(/\d+ ms/, 'N ms')]), [['A', 'started'], ['A', 'done in N ms'], ['B', 'started'], ['B', 'done in N ms']]);
  assert.equal(cold[0]!.reason, 'not cached');
  assert.deepEqual(linesOf(runs[1]!).map((line) => [line.task, line.msg]), [['A', 'served from cache'], ['B', 'served from cache']]);
  assert.deepEqual(fs.readdirSync(logFolder), ['runs'], 'tasks that logged nothing have no files of their own');
});

test(`the logs of the last ${RUN_LOGS_KEPT} runs are kept, and older ones deleted`, async () => {
  const folder = temporaryFolder();
  const logFolder = path.join(folder, 'logs', 'Runs');
  const pipeline = twoTasks(folder);
  await pipeline.execute(quiet);
  await pipeline.close();
  const [oldest] = await runLogFiles(logFolder);
  for (let run = 1; run < RUN_LOGS_KEPT + 2; run++) {
    await pipeline.execute({ ...quiet, force: run % 2 === 0 });
    await pipeline.close();
  }
  const kept = await runLogFiles(logFolder);
  assert.equal(kept.length, RUN_LOGS_KEPT);
  assert.ok(!kept.includes(oldest!), 'the oldest run log is gone');
  assert.deepEqual(linesOf(kept.at(-1)!).map((line) => line.msg), ['served from cache', 'served from cache'], 'the newest is kept');
});

/** Runs `script` (an ES module beside a littlepipes install) in a child process in `project`. */
function runScript(project: string, script: string): Promise<{ code: number; stderr: string }> {
  fs.writeFileSync(path.join(project, 'script.mjs'), script);
  return new Promise((resolve) => {
    execFile(process.execPath, ['script.mjs'], { cwd: project, timeout: 60_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr });
    });
  });
}

function scriptProject(): string {
  const project = temporaryFolder('littlepipes-run-logs-');
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ type: 'module' }));
  fs.mkdirSync(path.join(project, 'node_modules'));
  fs.symlinkSync(REPO, path.join(project, 'node_modules', 'littlepipes'), 'dir');
  return project;
}

const RUN_THEN = (end: string) => `
import { Pipeline, Task } from 'littlepipes';
const pipeline = new Pipeline('Crash', { cacheDir: 'cache' }).add(
  new Task('Writer').process('run', (t) => { for (let i = 0; i < 3; i++) t.log.info('line ' + i); return 1; }),
  new Task('Quiet', { dependencies: ['Writer'] }).process('run', () => 2),
);
await pipeline.execute({ progress: false });
${end}
`;

for (const [how, end, code] of [
  ['calls process.exit() without close()', 'process.exit(3);', 3],
  ['crashes on an uncaught error', "setImmediate(() => { throw new Error('crash after the run'); });", 1],
] as const) {
  test(`a process that ${how} right after a run still has every line of the tasks that ran`, async () => {
    const project = scriptProject();
    const result = await runScript(project, RUN_THEN(end));
    assert.equal(result.code, code, result.stderr);
    const logFolder = path.join(project, 'cache', 'logs', 'Crash');
    assert.deepEqual(linesOf(path.join(logFolder, 'Writer.log')).map((line) => line.msg), ['line 0', 'line 1', 'line 2']);
    const runs = await runLogFiles(logFolder);
    assert.equal(runs.length, 1);
    assert.deepEqual(linesOf(runs[0]!).map((line) => `${line.task} ${line.msg.replace(/\d+ ms/, 'N ms')}`), ['Writer started', 'Writer done in N ms', 'Quiet started', 'Quiet done in N ms']);
  });
}

test("littlepipes logs TASK, for a task that logs nothing, shows the runner's lines about it from the run logs", async () => {
  const project = makeProject();
  assert.equal((await cli(project, 'run')).code, 0);
  assert.equal((await cli(project, 'run')).code, 0);
  assert.equal(fs.existsSync(path.join(project, '.littlepipes', 'logs', 'Sales', 'Clean.log')), false, 'Clean logs nothing of its own');
  const logs = await cli(project, 'logs', 'Clean');
  assert.equal(logs.code, 0, logs.stderr);
  const lines = logs.stdout.split('\n').filter((line) => line.startsWith('['));
  assert.deepEqual(lines.map((line) => line.replace(/^\[[^\]]+\] INFO: /, '').replace(/\d+ ms/, 'N ms')), ['started', 'done in N ms', 'served from cache']);
  const raw = await cli(project, 'logs', 'Load', '--raw');
  assert.deepEqual(raw.stdout.trim().split('\n').map((line) => (JSON.parse(line) as Line).msg.replace(/\d+ ms/, 'N ms')), ['started', 'loaded 4 rows', 'done in N ms', 'served from cache'], "Load's own line between the runner's");
});
