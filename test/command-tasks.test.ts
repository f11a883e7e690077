import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import {
  CommandFailedError,
  CommandOutputError,
  CommandStartError,
  InvalidOptionError,
  NoFreshResultError,
  type Pipeline,
  PipelineRunError,
  RunCancelledError,
  Task,
  TaskTimeoutError,
  commandTask,
  rTask,
} from '../lib/index.js';
import { statuses, temporaryFolder, testPipeline } from './helpers.js';

const quiet = { progress: false } as const;
const SETUP = 'Run `bash scripts/setup-test-tools.sh` (as root it installs what is missing), then the tests again.';

// Debian's python3, which scripts/setup-test-tools.sh installs: a python3 found first on the PATH
// may be a version manager's shim, several times slower to start.
const PYTHON = '/usr/bin/python3';

function requireProgram(program: string, packageName: string): void {
  const found = spawnSync(program, ['--version'], { stdio: 'ignore' });
  if (found.error) assert.fail(`These tests need ${program} (Debian's ${packageName}), which is not there. ${SETUP}`);
}

// Paths in task options are relative to the working directory: each test works in its own folder.
function inFolder(files: Record<string, string> = {}): string {
  const folder = temporaryFolder();
  process.chdir(folder);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return folder;
}

/** The error a task failed with, from the PipelineRunError of a run. */
async function failureOf(pipeline: Pipeline<any>, name: string): Promise<Error> {
  const error = await pipeline.execute(quiet).then(() => undefined, (thrown: unknown) => thrown);
  assert.ok(error instanceof PipelineRunError, `expected the run to fail, got ${String(error)}`);
  const failure = error.report.task(name)?.error;
  assert.ok(failure, `${name} has no error in the report`);
  return failure;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `check` holds, up to `ms`. */
async function eventually(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`${what} (waited ${ms} ms)`);
    await sleep(20);
  }
}

/** The pid a program wrote to `file` once it started. */
async function pidIn(file: string): Promise<number> {
  await eventually(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() !== '', 10_000, `the program never wrote ${file}`);
  return Number(fs.readFileSync(file, 'utf8').trim());
}

test('a program\'s JSON stdout is the task\'s result, and its params reach it as JSON in LITTLEPIPES_PARAMS', async () => {
  requireProgram(PYTHON, 'python3');
  inFolder({
    'tile.py': [
      'import json, os',
      'params = json.loads(os.environ["LITTLEPIPES_PARAMS"])',
      'print(json.dumps({"task": os.environ["LITTLEPIPES_TASK"], "tiles": params["zoom"] * 10, "params": params}))',
    ].join('\n'),
  });
  const pipeline = testPipeline().add(commandTask('Tile', [PYTHON, 'tile.py'], { params: { zoom: 12, region: 'north' }, result: 'json' }));
  await pipeline.execute(quiet);
  // The command is kept in params for change detection, but the program sees only the task's own params.
  assert.deepEqual(await pipeline.getResult('Tile'), { task: 'Tile', tiles: 120, params: { zoom: 12, region: 'north' } });
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Tile: 'cached' });
});

test('result \'stdout\' (the default) is the trimmed stdout, and \'none\' is { exitCode: 0 }', async () => {
  requireProgram(PYTHON, 'python3');
  inFolder();
  const pipeline = testPipeline().add(
    commandTask('Text', [PYTHON, '-c', 'print("  two\\nlines  ")']),
    commandTask('Nothing', [PYTHON, '-c', 'print("chatter")'], { result: 'none' }),
  );
  await pipeline.execute(quiet);
  // The result option also types the result (checked by tsc in npm test).
  const text: string = await pipeline.getResult('Text');
  const nothing: { exitCode: 0 } = await pipeline.getResult('Nothing');
  // @ts-expect-error the default result is text
  const wrong: number = await pipeline.getResult('Text');
  assert.equal(text, 'two\nlines');
  assert.equal(wrong, text);
  assert.deepEqual(nothing, { exitCode: 0 });
});

test('inputs and outputs work as for TypeScript tasks: the program gets their paths, and a deleted output re-runs it', async () => {
  requireProgram(PYTHON, 'python3');
  inFolder({
    'data/a.csv': 'x\n1\n2\n',
    'count.py': [
      'import json, os',
      'inputs = json.loads(os.environ["LITTLEPIPES_INPUTS"])',
      'outputs = json.loads(os.environ["LITTLEPIPES_OUTPUTS"])',
      'rows = sum(len(open(f).read().splitlines()) - 1 for f in inputs)',
      'open(outputs[0], "w").write(str(rows))',
      'print(rows)',
    ].join('\n'),
  });
  fs.mkdirSync('out');
  const pipeline = testPipeline().add(commandTask('Count', [PYTHON, 'count.py'], { inputs: 'data/*.csv', outputs: 'out/rows.txt' }));
  await pipeline.execute(quiet);
  assert.equal(await pipeline.getResult('Count'), '2');
  assert.equal(fs.readFileSync('out/rows.txt', 'utf8'), '2');
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Count: 'cached' });

  fs.rmSync('out/rows.txt');
  let report = await pipeline.execute(quiet);
  assert.equal(report.task('Count')?.status, 'ran');
  assert.equal(report.task('Count')?.reason, 'output missing: out/rows.txt');
  assert.equal(fs.readFileSync('out/rows.txt', 'utf8'), '2');

  fs.writeFileSync('data/b.csv', 'x\n3\n');
  report = await pipeline.execute(quiet);
  assert.equal(report.task('Count')?.reason, 'input changed: data/b.csv (added)');
  assert.equal(await pipeline.getResult('Count'), '3');
});

test('editing the script re-runs the task and the reason names the file; a file it does not run changes nothing', async () => {
  requireProgram(PYTHON, 'python3');
  inFolder({ 'tile.py': 'print(1)\n', 'notes.txt': 'first\n' });
  const pipeline = testPipeline().add(commandTask('Tile', [PYTHON, 'tile.py']));
  await pipeline.execute(quiet);
  fs.writeFileSync('notes.txt', 'second\n');
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Tile: 'cached' });

  fs.writeFileSync('tile.py', 'print(2)\n');
  const report = await pipeline.execute(quiet);
  assert.equal(report.task('Tile')?.reason, 'code changed: file tile.py');
  assert.equal(await pipeline.getResult('Tile'), '2');
});

test('a changed command re-runs the task, and the reason says how it changed', async () => {
  requireProgram(PYTHON, 'python3');
  inFolder({ 'tile.py': 'import sys\nprint(sys.argv[1:])\n' });
  const cacheDir = path.resolve('.littlepipes');
  const first = testPipeline('Command', { cacheDir }).add(commandTask('Tile', [PYTHON, 'tile.py']));
  await first.execute(quiet);
  await first.close();
  const second = testPipeline('Command', { cacheDir }).add(commandTask('Tile', [PYTHON, 'tile.py', '--fast']));
  const report = await second.execute(quiet);
  assert.equal(report.task('Tile')?.reason, `params changed: $command ${JSON.stringify([PYTHON, 'tile.py'])} → ${JSON.stringify([PYTHON, 'tile.py', '--fast'])}`);
  assert.equal(await second.getResult('Tile'), "['--fast']");
});

test('stdout and stderr go to the task\'s log line by line, stderr as warnings', async () => {
  requireProgram(PYTHON, 'python3');
  inFolder({ 'talk.py': 'import sys\nprint("first out")\nprint("a warning", file=sys.stderr)\nprint("second out")\n' });
  const pipeline = testPipeline().add(commandTask('Talk', [PYTHON, 'talk.py'], { result: 'none' }));
  await pipeline.execute(quiet);
  await pipeline.close();
  const lines = fs.readFileSync(pipeline.logFile('Talk'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { msg: string; stream?: string; level: number });
  const program = lines.filter((line) => line.stream !== undefined).map(({ msg, stream, level }) => ({ msg, stream, level }));
  // Each stream keeps its order; they are read separately, so how the two interleave is not fixed.
  assert.deepEqual(program.filter((line) => line.stream === 'stdout'), [
    { msg: 'first out', stream: 'stdout', level: 30 },
    { msg: 'second out', stream: 'stdout', level: 30 },
  ]);
  assert.deepEqual(program.filter((line) => line.stream === 'stderr'), [{ msg: 'a warning', stream: 'stderr', level: 40 }]);
  assert.ok(lines.some((line) => line.msg === `running ${PYTHON} talk.py`));
});

test('a non-zero exit fails the task with a CommandFailedError carrying the code and the tail of stderr, and caches nothing', async () => {
  requireProgram(PYTHON, 'python3');
  inFolder({ 'fail.py': 'import sys\nfor n in range(1, 31):\n    print(f"problem {n}", file=sys.stderr)\nsys.exit(2)\n' });
  const pipeline = testPipeline().add(
    commandTask('Fail', [PYTHON, 'fail.py']),
    new Task('After', { dependencies: ['Fail'] }).process('run', (t) => t.result('Fail')),
  );
  const error = await pipeline.execute(quiet).then(() => undefined, (thrown: unknown) => thrown);
  assert.ok(error instanceof PipelineRunError);
  assert.deepEqual(statuses(error.report), { Fail: 'failed', After: 'blocked' });
  const failure = error.report.task('Fail')?.error;
  assert.ok(failure instanceof CommandFailedError);
  assert.equal(failure.code, 'ERR_COMMAND_FAILED');
  assert.equal(failure.exitCode, 2);
  assert.equal(failure.signal, null);
  const expected = Array.from({ length: 20 }, (_, index) => `problem ${index + 11}`).join('\n');
  assert.equal(failure.stderrTail, expected);
  assert.equal(failure.message, `Fail: ${PYTHON} fail.py exited with code 2. The last lines of its stderr:\n${expected}`);
  await assert.rejects(pipeline.getResult('Fail'), (error: unknown) => error instanceof NoFreshResultError && error.reason === 'failed last run');
});

test('a program that is not installed is a CommandStartError naming it and what to install', async () => {
  inFolder({ 'fit.R': 'cat(1)\n' });
  const emptyPath = temporaryFolder();
  const pipeline = testPipeline().add(
    commandTask('Nowhere', ['littlepipes-no-such-program', 'x']),
    // With a PATH where R is not, Rscript is missing as on a machine without R.
    rTask('Fit', 'fit.R', { env: { PATH: emptyPath } }),
  );
  const error = await pipeline.execute(quiet).then(() => undefined, (thrown: unknown) => thrown);
  assert.ok(error instanceof PipelineRunError);
  const nowhere = error.report.task('Nowhere')?.error;
  assert.ok(nowhere instanceof CommandStartError);
  assert.equal(nowhere.code, 'ERR_COMMAND_START');
  assert.equal(nowhere.message, 'Nowhere: cannot start littlepipes-no-such-program: there is no such program on the PATH. Install it, or give its full path in the command.');
  const fit = error.report.task('Fit')?.error;
  assert.ok(fit instanceof CommandStartError);
  assert.match(fit.message, /^Fit: cannot start Rscript: there is no such program on the PATH\. Install it \(on Debian and Ubuntu: apt-get install r-base-core\)/);
});

test('cancelling the run stops the program and what it started', async () => {
  requireProgram(PYTHON, 'python3');
  // A shell script killed by SIGTERM leaves the command it waits for running: python3 here.
  inFolder({ 'step.sh': `${PYTHON} -c 'import os, time; open("step.pid", "w").write(str(os.getpid())); time.sleep(30)'\necho finished\n` });
  const pipeline = testPipeline().add(commandTask('Step', ['sh', 'step.sh'], { result: 'none' }));
  const controller = new AbortController();
  const running = pipeline.execute({ ...quiet, signal: controller.signal });
  const pid = await pidIn('step.pid');
  assert.ok(alive(pid));
  controller.abort();
  await assert.rejects(running, RunCancelledError);
  await eventually(() => !alive(pid), 5_000, `the script's python3 (pid ${pid}) is still running after the run was cancelled`);
  await assert.rejects(pipeline.getResult('Step'), NoFreshResultError);
});

test('a timeout stops the program, and the task fails with a TaskTimeoutError', async () => {
  requireProgram(PYTHON, 'python3');
  inFolder({ 'slow.py': 'import os, time\nopen("slow.pid", "w").write(str(os.getpid()))\ntime.sleep(30)\n' });
  const pipeline = testPipeline().add(commandTask('Slow', [PYTHON, 'slow.py'], { timeout: 2_000 }));
  const started = Date.now();
  const failure = await failureOf(pipeline, 'Slow');
  assert.ok(failure instanceof TaskTimeoutError);
  const pid = await pidIn('slow.pid');
  await eventually(() => !alive(pid), 5_000, `slow.py (pid ${pid}) is still running after its timeout`);
  assert.ok(Date.now() - started < 10_000);
});

test('a program that ignores SIGTERM is killed after killGraceMs', async () => {
  requireProgram(PYTHON, 'python3');
  inFolder({
    'stubborn.py': 'import os, signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nopen("stubborn.pid", "w").write(str(os.getpid()))\ntime.sleep(30)\n',
  });
  const pipeline = testPipeline().add(commandTask('Stubborn', [PYTHON, 'stubborn.py'], { killGraceMs: 1_500 }));
  const controller = new AbortController();
  const running = pipeline.execute({ ...quiet, signal: controller.signal });
  const pid = await pidIn('stubborn.pid');
  controller.abort();
  await assert.rejects(running, RunCancelledError);
  await sleep(300);
  assert.ok(alive(pid), 'the program ignores SIGTERM, so it runs until the grace period ends');
  await eventually(() => !alive(pid), 5_000, `stubborn.py (pid ${pid}) is still running after its grace period`);
});

test('dependencies\' results reach the program as JSON in the file LITTLEPIPES_UPSTREAM names', async () => {
  requireProgram(PYTHON, 'python3');
  inFolder({
    'total.py': [
      'import json, os',
      'upstream = json.load(open(os.environ["LITTLEPIPES_UPSTREAM"]))',
      'print(json.dumps({"sum": sum(upstream["Rows"]["values"]), "labels": upstream["Rows"]["labels"], "big": upstream["Rows"]["big"]}))',
    ].join('\n'),
  });
  const pipeline = testPipeline().add(
    new Task('Rows').process('run', () => ({ values: [1, 2, 3], labels: new Map([['a', 1]]), big: 2n ** 70n })),
    commandTask('Total', [PYTHON, 'total.py'], { dependencies: ['Rows'], result: 'json' }),
  );
  await pipeline.execute(quiet);
  assert.deepEqual(await pipeline.getResult('Total'), { sum: 6, labels: { a: 1 }, big: String(2n ** 70n) });
});

test('a mapped command task runs its program once per item, which it reads from LITTLEPIPES_ITEM', async () => {
  requireProgram(PYTHON, 'python3');
  inFolder({ 'shout.py': 'import json, os\nprint(json.loads(os.environ["LITTLEPIPES_ITEM"]).upper() + os.environ["LITTLEPIPES_ITEM_INDEX"])\n' });
  const pipeline = testPipeline().add(
    new Task('Words').process('run', () => ['a', 'b']),
    commandTask('Shout', [PYTHON, 'shout.py'], { dependencies: ['Words'], map: { over: 'Words' } }),
  );
  await pipeline.execute(quiet);
  assert.deepEqual(await pipeline.getResult('Shout'), ['A0', 'B1']);
});

test('stdout that is not JSON, with result \'json\', is a CommandOutputError showing the start of it', async () => {
  requireProgram(PYTHON, 'python3');
  inFolder();
  const pipeline = testPipeline().add(commandTask('Chatty', [PYTHON, '-c', 'print("loading...")\nprint("{}")'], { result: 'json' }));
  const failure = await failureOf(pipeline, 'Chatty');
  assert.ok(failure instanceof CommandOutputError);
  assert.equal(failure.code, 'ERR_COMMAND_OUTPUT');
  assert.equal(
    failure.message,
    `Chatty: ${PYTHON} -c 'print("loading...")\nprint("{}")' printed stdout that is not JSON, and its result option is 'json'. ` +
      'Print only the JSON on stdout (messages go to stderr), or use result: \'stdout\'. Its stdout starts:\nloading...\n{}\n',
  );
});

test('the script is the first argument that is a file, found from cwd; the program gets paths from cwd too', async () => {
  requireProgram(PYTHON, 'python3');
  inFolder({
    'scripts/where.py': 'import json, os\nprint(json.dumps({"cwd": os.path.basename(os.getcwd()), "inputs": json.loads(os.environ["LITTLEPIPES_INPUTS"])}))\n',
    'data/a.csv': '1\n',
    'run.sh': 'echo hi\n',
  });
  const task = commandTask('Where', [PYTHON, '-u', 'where.py'], { cwd: 'scripts', inputs: 'data/a.csv', result: 'json' });
  assert.deepEqual(task.sources, [path.join('scripts', 'where.py')]);
  assert.deepEqual(commandTask('Own', ['./run.sh']).sources, ['run.sh']);
  assert.deepEqual(commandTask('None', ['./run.sh'], { script: false }).sources, []);
  assert.deepEqual(commandTask('Sleep', ['sleep', '1']).sources, []);
  assert.deepEqual(commandTask('Interpreter', [PYTHON, 'run.sh'], { sources: 'data/a.csv' }).sources, ['run.sh', 'data/a.csv']);
  const pipeline = testPipeline().add(task);
  await pipeline.execute(quiet);
  assert.deepEqual(await pipeline.getResult('Where'), { cwd: 'scripts', inputs: ['../data/a.csv'] });
});

test('bad options are InvalidOptionErrors naming the task and the option', () => {
  const invalid = (pattern: RegExp) => (error: unknown) => error instanceof InvalidOptionError && pattern.test(error.message);
  assert.throws(() => commandTask('T', []), invalid(/Task "T": the command must be an array of strings, the program first/));
  assert.throws(() => commandTask('T', ['python3'], { scirpt: 'x.py' } as never), invalid(/Task "T": unknown option "scirpt"\. Did you mean "script"\?/));
  assert.throws(() => commandTask('T', ['python3'], { result: 'text' } as never), invalid(/result must be 'stdout', 'json' or 'none'/));
  assert.throws(() => commandTask('T', ['python3'], { params: { $command: 1 } }), invalid(/the param name \$command is taken by commandTask/));
  assert.throws(() => commandTask('T', ['python3'], { env: { N: 1 } as never }), invalid(/env must be an object of strings/));
  assert.throws(() => rTask('T', ''), invalid(/rTask needs the path of an R script/));
  assert.throws(() => rTask('T', 'fit.R', { vanila: false } as never), invalid(/Did you mean "vanilla"\?/));
});

test('an R task runs its script with Rscript, which reads params as JSON and prints its result', async () => {
  requireProgram('Rscript', 'r-base-core');
  inFolder({
    'r/summary.R': [
      'params <- jsonlite::fromJSON(Sys.getenv("LITTLEPIPES_PARAMS"))',
      'cat(jsonlite::toJSON(list(mean = mean(params$values) * params$scale, n = length(params$values)), auto_unbox = TRUE))',
    ].join('\n'),
  });
  const pipeline = testPipeline().add(rTask('Summary', 'r/summary.R', { params: { values: [1, 2, 3, 4], scale: 10 }, result: 'json' }));
  await pipeline.execute(quiet);
  assert.deepEqual(await pipeline.getResult('Summary'), { mean: 25, n: 4 });
  fs.appendFileSync('r/summary.R', '\n# a comment changes the file\n');
  assert.equal((await pipeline.execute(quiet)).task('Summary')?.reason, 'code changed: file r/summary.R');
});

test('cancelling an R task stops R', async () => {
  requireProgram('Rscript', 'r-base-core');
  inFolder({ 'wait.R': 'writeLines(as.character(Sys.getpid()), "r.pid")\nSys.sleep(30)\n' });
  const pipeline = testPipeline().add(rTask('Wait', 'wait.R'));
  const controller = new AbortController();
  const running = pipeline.execute({ ...quiet, signal: controller.signal });
  const pid = await pidIn('r.pid');
  controller.abort();
  await assert.rejects(running, RunCancelledError);
  await eventually(() => !alive(pid), 5_000, `R (pid ${pid}) is still running after the run was cancelled`);
});
