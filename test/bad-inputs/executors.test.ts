// Bad executor options and bad worker commands: a clear error of its own class naming the
// option (with a did-you-mean for a misspelt executor), raised before any task runs, never a
// hang on an unreachable Redis; results cached before are still served after.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import KeyvRedis from '@keyv/redis';
import { ExecutorError, InvalidOptionError, Task } from '../../lib/index.js';
import { REPO, cli, makeProject } from '../cli/project.js';
import { type TestServer, freePort, startRedis } from '../servers.js';
import { testPipeline } from '../helpers.js';
import { assertStillCached, cachedPipeline, oneErrorLine, rejectsWith } from './helpers.js';

let redis: TestServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

test('a misspelt executor is an InvalidOptionError with a did-you-mean; nothing runs', async () => {
  const pipeline = await cachedPipeline('MisspeltExecutor');
  await rejectsWith(pipeline.execute({ executor: 'bulmq' as never, force: true, progress: false }), InvalidOptionError, 'ERR_INVALID_OPTION',
    "execute(): executor must be one of 'local', 'threads', 'bullmq', got \"bulmq\" (string). Did you mean 'bullmq'?");
  await rejectsWith(pipeline.plan({ executor: 'thread' as never }), InvalidOptionError, 'ERR_INVALID_OPTION', "Did you mean 'threads'?");
  await assertStillCached(pipeline);
});

test('the bullmq executor without a connection, or with one that is not a Redis URL, is an InvalidOptionError naming connection', async () => {
  const pipeline = await cachedPipeline('NoConnection');
  const error = await rejectsWith(pipeline.execute({ executor: 'bullmq', progress: false }), InvalidOptionError, 'ERR_INVALID_OPTION',
    "the bullmq executor needs connection, the Redis URL of its queue: execute({ executor: 'bullmq', connection: 'redis://localhost:6379' }), LITTLEPIPES_CONNECTION, or connection under settings in littlepipes.yaml.");
  assert.equal(error.option, 'connection');
  await rejectsWith(pipeline.execute({ executor: 'bullmq', connection: 'localhost:6379', progress: false }), InvalidOptionError, 'ERR_INVALID_OPTION',
    "connection must be a Redis URL such as 'redis://localhost:6379', got \"localhost:6379\" (string)");
  await rejectsWith(pipeline.execute({ connection: redis.url, progress: false }), InvalidOptionError, 'ERR_INVALID_OPTION',
    "connection is the Redis URL of the bullmq executor; add executor: 'bullmq'");
  await assertStillCached(pipeline);
});

test('LITTLEPIPES_CONNECTION that is not a Redis URL is refused by name when the bullmq executor would use it, and ignored by the others', async () => {
  const pipeline = await cachedPipeline('EnvironmentConnection');
  process.env.LITTLEPIPES_CONNECTION = 'queue.internal:6379';
  try {
    await rejectsWith(pipeline.execute({ executor: 'bullmq', progress: false }), InvalidOptionError, 'ERR_INVALID_OPTION',
      'execute(): LITTLEPIPES_CONNECTION must be a Redis URL such as redis://localhost:6379, got "queue.internal:6379" (string).');
    // A default is no request: a local run neither uses it nor refuses it.
    const report = await pipeline.execute({ force: ['Report'], progress: false });
    assert.equal(report.task('Report')!.status, 'ran');
  } finally {
    delete process.env.LITTLEPIPES_CONNECTION;
  }
  await assertStillCached(pipeline);
});

test('threads must be a whole number from 1 up, and only with the threads executor', async () => {
  const pipeline = await cachedPipeline('BadThreads');
  await rejectsWith(pipeline.execute({ executor: 'threads', threads: 0, progress: false }), InvalidOptionError, 'ERR_INVALID_OPTION', 'threads must be a whole number from 1 up, got 0 (number)');
  await rejectsWith(pipeline.execute({ threads: 2, progress: false }), InvalidOptionError, 'ERR_INVALID_OPTION', "threads is the pool size of the threads executor; add executor: 'threads'");
  await assertStillCached(pipeline);
});

test('local: true must be a boolean', () => {
  assert.throws(() => new Task('Odd', { local: 'yes' as never }), (error: unknown) => error instanceof InvalidOptionError && error.message === 'Task "Odd": local must be true or false, got "yes" (string).');
});

test('the bullmq executor on the local SQLite store is refused before anything runs', async () => {
  const pipeline = await cachedPipeline('LocalStore');
  let calls = 0;
  pipeline.add(new Task('Counted').process('run', () => ++calls));
  await rejectsWith(pipeline.execute({ executor: 'bullmq', connection: redis.url, progress: false }), ExecutorError, 'ERR_EXECUTOR',
    'Pipeline "LocalStore": the bullmq executor needs a store the workers share, and this pipeline\'s results live in the local SQLite file',
    "Give it a shared store by URL: new Pipeline('LocalStore', { store: 'redis://...' }), or LITTLEPIPES_STORE=redis://... in the environment of the coordinator and of every worker.");
  assert.equal(calls, 0);
  await assertStillCached(pipeline);
});

test('an unreachable Redis is an ExecutorError within the connect timeout, not a hang; nothing runs', { timeout: 20_000 }, async () => {
  const pipeline = testPipeline('Unreachable', { store: new KeyvRedis(redis.url), project: 'bad-inputs' });
  let calls = 0;
  pipeline.add(new Task('Counted').process('run', () => ++calls));
  const nobody = `redis://127.0.0.1:${await freePort()}`;
  await rejectsWith(pipeline.execute({ executor: 'bullmq', connection: nobody, progress: false }), ExecutorError, 'ERR_EXECUTOR',
    `The bullmq executor of Unreachable: cannot reach Redis at ${nobody}`, 'ECONNREFUSED', 'Start Redis there, or fix the URL.');
  // A password in the URL is not repeated in the message, which ends up in logs and CI output.
  const withPassword = nobody.replace('redis://', 'redis://analyst:s3cret@');
  await assert.rejects(pipeline.execute({ executor: 'bullmq', connection: withPassword, progress: false }), (error: Error) => {
    assert.ok(error instanceof ExecutorError);
    assert.match(error.message, new RegExp(`cannot reach Redis at ${nobody.replace('redis://', 'redis://analyst:\\*\\*\\*@')}`));
    assert.doesNotMatch(error.message, /s3cret/);
    return true;
  });
  assert.equal(calls, 0);
});

test('littlepipes worker with a missing pipeline file, a bad --connection or an unreachable Redis: one line, no stack', async () => {
  const project = makeProject();
  oneErrorLine(await cli(project, 'worker', '--pipeline', 'nowhere.ts', '--connection', redis.url), 2,
    'Pipeline file nowhere.ts does not exist', 'Check the path given to --pipeline.');
  oneErrorLine(await cli(project, 'worker', '--connection', 'localhost'), 2, 'littlepipes: worker: --connection must be a Redis URL such as redis://localhost:6379, got "localhost".');
  oneErrorLine(await cli(project, 'worker', '--connection', redis.url, '--concurrency', '0'), 2, 'littlepipes: worker: --concurrency must be a whole number from 1 up, got "0".');
  oneErrorLine(await cli(project, 'worker'), 2,
    'littlepipes: worker: give the Redis URL of the queue, as the coordinator was given it: --connection redis://localhost:6379, LITTLEPIPES_CONNECTION, or connection under settings in littlepipes.yaml.');
  // The project's pipeline keeps its results in the local SQLite file: workers cannot share it.
  oneErrorLine(await cli(project, 'worker', '--connection', redis.url), 1,
    'littlepipes: worker: the pipeline "Sales" in', 'keeps its results in the local SQLite file',
    "Give it a shared store by URL: new Pipeline('Sales', { store: 'redis://...' }), or LITTLEPIPES_STORE=redis://...");
});

test('littlepipes worker on an unreachable Redis exits at once with one line', { timeout: 30_000 }, async () => {
  const project = makeProject(`
import KeyvRedis from '@keyv/redis';
import { Pipeline, Task } from 'littlepipes';
export const pipeline = new Pipeline('Shared', { store: new KeyvRedis(${JSON.stringify(redis.url)}) }).add(new Task('One').process('run', () => 1));
`);
  fs.symlinkSync(path.join(REPO, 'node_modules', '@keyv'), path.join(project, 'node_modules', '@keyv'), 'dir');
  const nobody = `redis://127.0.0.1:${await freePort()}`;
  oneErrorLine(await cli(project, 'worker', '--connection', nobody), 1, `littlepipes: worker: cannot reach Redis at ${nobody}`, 'ECONNREFUSED');
});
