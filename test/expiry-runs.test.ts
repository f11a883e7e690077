import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { NoFreshResultError, Pipeline, Task, expire } from '../lib/index.js';
import { statuses, temporaryFolder, testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

/** Runs a pipeline with one session-scoped task in a separate Node process and returns its status there. */
function runInChildProcess(folder: string): string {
  const script = `
    import { Pipeline, Task, expire } from './lib/index.js';
    const pipeline = new Pipeline('Session', { cacheDir: ${JSON.stringify(folder)} })
      .add(new Task('PerSession', { expire: expire.session() }).process('run', () => process.pid));
    const report = await pipeline.execute({ progress: false });
    console.log(report.task('PerSession').status);
    await pipeline.close();`;
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
}

test('a session result is served within its process and expires when the process ends', async () => {
  const folder = temporaryFolder();
  assert.equal(runInChildProcess(folder), 'ran');
  // Another process is another session: the result must not be served.
  assert.equal(runInChildProcess(folder), 'ran');
  const here = new Pipeline('Session', { cacheDir: folder }).add(new Task('PerSession', { expire: expire.session() }).process('run', () => process.pid));
  await assert.rejects(here.getResult('PerSession'), (error: NoFreshResultError) => error.reason === 'expired' && /another session/.test(error.message));
  assert.equal((await here.execute(quiet)).task('PerSession')?.status, 'ran');
  assert.equal((await here.execute(quiet)).task('PerSession')?.status, 'cached');
  assert.equal(await here.getResult('PerSession'), process.pid);
  await here.close();
});

test('an onComplete result serves its dependents during the run and expires when the run ends', async () => {
  const pipeline = testPipeline();
  let transientCalls = 0;
  pipeline.add(
    new Task('Transient', { expire: expire.onComplete() }).process('run', () => {
      transientCalls++;
      return 3;
    }),
    new Task('User', { dependencies: ['Transient'] }).process('run', (t) => t.result<number>('Transient') * 2),
  );
  await pipeline.execute(quiet);
  assert.equal(await pipeline.getResult('User'), 6);
  await assert.rejects(pipeline.getResult('Transient'), (error: NoFreshResultError) => error.reason === 'expired');
  // Next run: the transient task runs again, to the same value, so its dependent stays cached.
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Transient: 'ran', User: 'cached' });
  assert.equal(transientCalls, 2);
});

test('onComplete expiry belongs to each pipeline: one run does not expire another pipeline\'s results', async () => {
  const first = testPipeline('First');
  const second = testPipeline('Second');
  first.add(new Task('Shared', { expire: expire.onComplete() }).process('run', () => 'first'));
  second.add(new Task('Shared', { expire: expire.never() }).process('run', () => 'second'));
  await second.execute(quiet);
  await first.execute(quiet);
  assert.equal(await second.getResult('Shared'), 'second');
  assert.deepEqual(statuses(await second.execute(quiet)), { Shared: 'cached' });
});

test('a time-based expiry is fixed when the result is stored', async () => {
  const pipeline = testPipeline();
  pipeline.add(new Task('Hourly', { expire: expire.after({ hours: 1 }) }).process('run', () => Date.now()));
  await pipeline.execute(quiet);
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Hourly: 'cached' });
});

test('a custom expiry function decides the expiry time', async () => {
  const pipeline = testPipeline();
  pipeline.add(new Task('AlreadyOld', { expire: (storedAt) => new Date(storedAt.getTime() - 1) }).process('run', () => 1));
  await pipeline.execute(quiet);
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { AlreadyOld: 'ran' });
});
