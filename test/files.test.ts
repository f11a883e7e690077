import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { InputFileError, InvalidOptionError, OutputFileError, PipelineRunError, Task } from '../lib/index.js';
import { recordFiles } from '../lib/fingerprint/files.js';
import { statuses, temporaryFolder, testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

// Inputs and outputs are relative to the working directory: each test works in its own folder.
function inFolder(files: Record<string, string> = {}): void {
  const folder = temporaryFolder();
  process.chdir(folder);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(file.split('/').slice(0, -1).join('/') || '.', { recursive: true });
    fs.writeFileSync(file, text);
  }
}

const loader = () =>
  new Task('Load', { inputs: ['data/*.csv', 'config.json'] }).process('run', (t) => t.inputs.map((file) => `${file}:${fs.readFileSync(file, 'utf8').length}`));

test('inputs are hashed: a changed, added or removed file re-runs the task, and says which', async () => {
  inFolder({ 'data/a.csv': 'x,y\n1,2\n', 'data/b.csv': 'x\n', 'config.json': '{}' });
  const pipeline = testPipeline().add(loader());
  await pipeline.execute(quiet);
  assert.deepEqual(await pipeline.getResult('Load'), ['config.json:2', 'data/a.csv:8', 'data/b.csv:2']);
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Load: 'cached' });

  fs.writeFileSync('data/a.csv', 'x,y\n1,3\n');
  let report = await pipeline.execute(quiet);
  assert.equal(report.task('Load')?.reason, 'input changed: data/a.csv (modified)');

  fs.writeFileSync('data/c.csv', 'new\n');
  fs.rmSync('data/b.csv');
  report = await pipeline.execute(quiet);
  assert.equal(report.task('Load')?.reason, 'input changed: data/b.csv (removed), data/c.csv (added)');
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Load: 'cached' });
});

test('an input touched without a change in content re-runs nothing', async () => {
  inFolder({ 'data/a.csv': '1\n', 'config.json': '{}' });
  const pipeline = testPipeline().add(loader());
  await pipeline.execute(quiet);
  const later = new Date(Date.now() + 60_000);
  fs.utimesSync('data/a.csv', later, later);
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Load: 'cached' });
});

test('an input edited with its size and mtime restored (as cp -p, rsync -a and tar x leave it) re-runs the task', async () => {
  inFolder({ 'data/a.csv': 'abcd', 'config.json': '{}' });
  // A whole-second mtime, which utimes can restore exactly.
  const pinned = new Date(2024, 0, 2, 3, 4, 5);
  fs.utimesSync('data/a.csv', pinned, pinned);
  const pipeline = testPipeline().add(loader());
  await pipeline.execute(quiet);
  fs.writeFileSync('data/a.csv', 'abcE');
  fs.utimesSync('data/a.csv', pinned, pinned);
  assert.equal((await pipeline.execute(quiet)).task('Load')?.reason, 'input changed: data/a.csv (modified)');
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Load: 'cached' });
});

test('a file whose size, mtime, ctime and inode are unchanged is not read again; any of them changed, it is', async () => {
  inFolder({ 'big.bin': 'aaaa' });
  const [record] = Object.values(await recordFiles(['big.bin'], undefined));
  // A recorded hash no read of the file can give: it survives only if the file is not read.
  const known = { ...record!, hash: 'recorded' };
  assert.equal((await recordFiles(['big.bin'], { 'big.bin': known }))['big.bin']!.hash, 'recorded', 'an unchanged stat costs no read');
  for (const field of ['size', 'mtimeMs', 'ctimeMs', 'ino'] as const) {
    const stale = { ...known, [field]: known[field]! + 1 };
    assert.equal((await recordFiles(['big.bin'], { 'big.bin': stale }))['big.bin']!.hash, record!.hash, `another ${field}: read again`);
  }
  const { ctimeMs, ino, ...before } = known;
  assert.ok(ctimeMs !== undefined && ino !== undefined);
  assert.equal((await recordFiles(['big.bin'], { 'big.bin': before }))['big.bin']!.hash, record!.hash, 'a record without ctime and inode (an older cache): read again');
});

test('a folder input counts every file inside it', async () => {
  inFolder({ 'raw/one.txt': '1', 'raw/nested/two.txt': '2' });
  const pipeline = testPipeline().add(new Task('Folder', { inputs: 'raw' }).process('run', (t) => t.inputs));
  await pipeline.execute(quiet);
  assert.deepEqual(await pipeline.getResult('Folder'), ['raw/nested/two.txt', 'raw/one.txt']);
  fs.writeFileSync('raw/nested/two.txt', '22');
  assert.equal((await pipeline.execute(quiet)).task('Folder')?.reason, 'input changed: raw/nested/two.txt (modified)');
});

test('a missing input is a clear error before the task runs, and loses nothing cached', async () => {
  inFolder({ 'data/a.csv': '1\n', 'config.json': '{}' });
  let calls = 0;
  const task = new Task('Load', { inputs: ['data/*.csv', 'config.json'] }).process('run', () => ++calls);
  const pipeline = testPipeline().add(task, new Task('After', { dependencies: ['Load'] }).process('run', (t) => t.result<number>('Load')));
  await pipeline.execute(quiet);
  fs.renameSync('config.json', 'config.old');
  const error = await pipeline.execute(quiet).then(() => undefined, (thrown: unknown) => thrown);
  assert.ok(error instanceof PipelineRunError);
  const failure = error.report.task('Load')?.error;
  assert.ok(failure instanceof InputFileError);
  assert.equal(failure.message, 'Load: input config.json does not exist; create it, or fix the path in the task\'s inputs.');
  assert.equal(error.report.task('After')?.status, 'blocked');
  assert.equal(calls, 1, 'the task did not run');
  fs.renameSync('config.old', 'config.json');
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Load: 'cached', After: 'cached' }, 'the cached results survived');
});

test('a glob that matches nothing is an error, unless the task allows it', async () => {
  inFolder();
  const strict = testPipeline().add(new Task('Strict', { inputs: 'none/*.csv' }).process('run', () => 1));
  const error = await strict.execute(quiet).then(() => undefined, (thrown: PipelineRunError) => thrown.report.task('Strict')?.error);
  assert.ok(error instanceof InputFileError);
  assert.match(error.message, /Strict: input none\/\*\.csv matches no file; .* allowEmptyInputs: true/);
  const lenient = testPipeline().add(new Task('Lenient', { inputs: 'none/*.csv', allowEmptyInputs: true }).process('run', (t) => t.inputs.length));
  await lenient.execute(quiet);
  assert.equal(await lenient.getResult('Lenient'), 0);
});

const exporter = (write = true) =>
  new Task('Export', { outputs: ['out/report.csv'] }).process('run', () => {
    if (write) {
      fs.mkdirSync('out', { recursive: true });
      fs.writeFileSync('out/report.csv', 'total\n6\n');
    }
    return 'written';
  });

test('a deleted or modified output re-runs the task that writes it', async () => {
  inFolder();
  const pipeline = testPipeline().add(exporter());
  await pipeline.execute(quiet);
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Export: 'cached' });
  fs.rmSync('out/report.csv');
  assert.equal((await pipeline.execute(quiet)).task('Export')?.reason, 'output missing: out/report.csv');
  fs.writeFileSync('out/report.csv', 'edited by hand\n');
  assert.equal((await pipeline.execute(quiet)).task('Export')?.reason, 'output modified: out/report.csv (modified)');
  assert.equal(fs.readFileSync('out/report.csv', 'utf8'), 'total\n6\n');
});

test('a task that does not write an output it declares fails, naming it, and is not cached', async () => {
  inFolder();
  const pipeline = testPipeline().add(exporter(false));
  const error = await pipeline.execute(quiet).then(() => undefined, (thrown: PipelineRunError) => thrown.report.task('Export')?.error);
  assert.ok(error instanceof OutputFileError);
  assert.equal(error.message, 'Export: output out/report.csv was not written by the task; write it, or remove it from the task\'s outputs.');
  await assert.rejects(pipeline.getResult('Export'), /failed last run|last run failed/);
});

test('an output outside the project is refused when the task is defined', () => {
  inFolder();
  assert.throws(() => new Task('Escape', { outputs: '../elsewhere.csv' }), (error: InvalidOptionError) => error instanceof InvalidOptionError && /output \.\.\/elsewhere\.csv is outside the project/.test(error.message));
  assert.throws(() => new Task('Root', { outputs: '/tmp/x.csv' }), InvalidOptionError);
});

test('plan names the input that changed', async () => {
  inFolder({ 'data/a.csv': '1\n', 'config.json': '{}' });
  const pipeline = testPipeline().add(loader());
  await pipeline.execute(quiet);
  fs.writeFileSync('config.json', '{"changed":true}');
  const plan = await pipeline.plan();
  assert.deepEqual(plan.task('Load')?.reasons, [{ kind: 'input changed', files: [{ path: 'config.json', change: 'modified' }] }]);
});
