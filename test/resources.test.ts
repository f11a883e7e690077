import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { InvalidOptionError, PipelineRunError, ResourceError, Task } from '../lib/index.js';
import { RESOURCE_CLOSE_LIMIT_MS } from '../lib/run/resources.js';
import { temporaryFolder, testPipeline } from './helpers.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('..', import.meta.url));

const quiet = { progress: false } as const;

/** A stand-in for a database connection that records its life. */
class Connection {
  static opened = 0;
  closed = false;
  readonly id = ++Connection.opened;
  query(sql: string) {
    if (this.closed) throw new Error('connection closed');
    return `${sql} on connection ${this.id}`;
  }
  async close() {
    await sleep(1);
    this.closed = true;
  }
}

test('a resource is made once per run, when the first task that uses it starts, shared, and closed when the run ends', async () => {
  const made: string[] = [];
  const connections: Connection[] = [];
  const pipeline = testPipeline('Resources')
    .provide('db', async () => {
      made.push('db');
      await sleep(5);
      const connection = new Connection();
      connections.push(connection);
      return connection;
    })
    .add(
      new Task('NoDb').process('run', () => made.length),
      new Task('A', { uses: ['db'], dependencies: ['NoDb'] }).process('run', (t) => t.use<Connection>('db').query('select a')),
      new Task('B', { uses: ['db'], dependencies: ['NoDb'] }).process('run', (t) => t.use<Connection>('db').query('select b')),
    );
  await pipeline.execute(quiet);
  assert.equal(await pipeline.getResult('NoDb'), 0, 'nothing is made before a task that uses it starts');
  assert.deepEqual(made, ['db'], 'made once for the two tasks');
  assert.equal(await pipeline.getResult('A'), `select a on connection ${connections[0]!.id}`);
  assert.equal(await pipeline.getResult('B'), `select b on connection ${connections[0]!.id}`);
  assert.equal(connections[0]!.closed, true, 'closed at the end of the run');

  await pipeline.execute({ ...quiet, force: ['A'] });
  assert.equal(connections.length, 2, 'a new run makes it anew');
  assert.equal(connections[1]!.closed, true);
  await pipeline.execute(quiet);
  assert.equal(connections.length, 2, 'a run where every task is cached makes nothing');
});

test('plan shows which resources each task uses', async () => {
  const pipeline = testPipeline('PlanUses')
    .provide('db', () => new Connection())
    .add(new Task('A', { uses: ['db'] }).process('run', () => 1), new Task('B').process('run', () => 2));
  const plan = await pipeline.plan();
  assert.deepEqual(plan.task('A')?.uses, ['db']);
  assert.equal(plan.task('B')?.uses, undefined);
});

test('a resource that is not provided, cannot be made, or is used undeclared fails the task with a ResourceError naming it', async () => {
  const pipeline = testPipeline('BadResources')
    .provide('broken', () => {
      throw new Error('connection refused');
    })
    .add(
      new Task('Missing', { uses: ['warehouse'] }).process('run', () => 1),
      new Task('Broken', { uses: ['broken'] }).process('run', () => 1),
      new Task('Undeclared').process('run', (t) => t.use('broken')),
      new Task('Fine').process('run', () => 'ok'),
    );
  const error = await pipeline.execute(quiet).then(() => assert.fail('should fail'), (thrown: unknown) => thrown);
  assert.ok(error instanceof PipelineRunError);
  const message = (name: string) => {
    const failure = error.report.task(name)?.error;
    assert.ok(failure instanceof ResourceError, `${name}: ${String(failure)}`);
    assert.equal(failure.code, 'ERR_RESOURCE');
    return failure.message;
  };
  assert.match(message('Missing'), /Missing uses the resource "warehouse", which the pipeline does not provide\. Add pipeline\.provide\('warehouse'/);
  assert.match(message('Broken'), /The resource "broken" could not be made \(for Broken\): connection refused/);
  assert.match(message('Undeclared'), /Undeclared uses the resource "broken" without declaring it\. Add it to the task's options: uses: \['broken'\]/);
  assert.equal(error.report.task('Fine')?.status, 'ran');
});

test('provide() checks its arguments', () => {
  const pipeline = testPipeline('ProvideArgs');
  assert.throws(() => pipeline.provide('db', 'duckdb://x' as never), (error: unknown) => error instanceof InvalidOptionError && /must be a function that makes the resource, got "duckdb:\/\/x" \(string\)/.test(error.message));
  assert.throws(() => pipeline.provide('', () => 1), InvalidOptionError);
});

test('a resource with dispose() instead of close() is disposed when the run ends, also when a task failed', async () => {
  const disposed: string[] = [];
  const pipeline = testPipeline('Disposed')
    .provide('client', () => ({ dispose: () => { disposed.push('client'); } }))
    .add(
      new Task('Uses', { uses: ['client'] }).process('run', (t) => typeof t.use('client')),
      new Task('Fails', { uses: ['client'] }).process('run', () => {
        throw new Error('query failed');
      }),
    );
  await assert.rejects(pipeline.execute(quiet), PipelineRunError);
  assert.deepEqual(disposed, ['client'], 'disposed once, after the run that failed');
  assert.equal(await pipeline.getResult('Uses'), 'object');
});

test('a resource whose close() never finishes is left behind after a time limit, with a warning naming it: execute() resolves and the other resources still close', async () => {
  const folder = temporaryFolder();
  const script = path.join(folder, 'hanging-close.mjs');
  fs.writeFileSync(script, `
import { Pipeline, Task } from ${JSON.stringify(path.join(REPO, 'dist', 'index.js'))};
const pipeline = new Pipeline('Hanging', { cacheDir: ${JSON.stringify(path.join(folder, 'cache'))}, logLevel: 'silent' })
  .provide('files', () => ({ close: () => console.log('files closed') }))
  .provide('pool', () => ({ end: () => new Promise(() => {}) }))
  .add(new Task('Query', { uses: ['files', 'pool'] }).process('run', (t) => { t.use('files'); t.use('pool'); return 42; }));
const report = await pipeline.execute({ progress: false });
console.log('execute resolved:', report.tasks[0].status, await pipeline.getResult('Query'));
await pipeline.close();
`);
  const { stdout, stderr } = await run(process.execPath, [script], { timeout: RESOURCE_CLOSE_LIMIT_MS + 30_000 });
  assert.match(stdout, /^files closed$/m, 'the resource made before it still closes');
  assert.match(stdout, /^execute resolved: ran 42$/m);
  assert.match(stderr, new RegExp(`the resource "pool" did not finish closing within ${RESOURCE_CLOSE_LIMIT_MS / 1000} s; the run ends without waiting for it`));
});
