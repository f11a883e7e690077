import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { Pipeline, Task } from '../lib/index.js';
import { FIXTURE_TASKS, assertKilledHolderTakenOver, duplicates, executions, sharedProject, startPipeline } from './pipeline-processes.js';
import { type TestServer, startPostgres, startRedis } from './servers.js';

/**
 * The guarantees of several processes on one cache (test/multi-process.test.ts) on a shared
 * store, where the leases live in the store: each process stands for a machine of the team.
 */
const STORES = { Redis: startRedis, PostgreSQL: startPostgres };

/** node-postgres (no types of its own), for what another machine's process would write. */
const { Client } = createRequire(import.meta.url)('pg') as {
  Client: new (options: { connectionString: string }) => { connect(): Promise<void>; query(sql: string, values: unknown[]): Promise<unknown>; end(): Promise<void> };
};

/** What the tasks of the fixture return, whoever computed them. */
const RESULTS = 'results {"T39":{"i":39,"square":1521},"Slow":"slow"}';

for (const [kind, startServer] of Object.entries(STORES)) {
  describe(`several processes on one ${kind} store`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer();
    });
    after(() => server.stop());

    test('four processes started at once finish without errors, each task executes once in all, and all see the same results', { timeout: 120_000 }, async () => {
      const where = sharedProject();
      const runners = Array.from({ length: 4 }, () => startPipeline(where, { LITTLEPIPES_STORE: server.url }));
      const codes = await Promise.all(runners.map((runner) => runner.exit));
      assert.deepEqual(codes, [0, 0, 0, 0], runners.map((runner) => runner.output()).join('\n---\n'));
      for (const runner of runners) {
        assert.doesNotMatch(runner.output(), /Error|warning/i, runner.output());
        assert.ok(runner.output().includes(RESULTS), runner.output());
      }
      const counts = executions(where.executions);
      assert.equal(counts.size, FIXTURE_TASKS, 'every task executed');
      assert.deepEqual(duplicates(counts), [], 'no task executed twice');
      assert.match(runners.map((runner) => runner.output()).join('\n'), /"cached":\d*[1-9]/, 'some process served results another computed');
      assert.equal(fs.existsSync(path.join(where.cacheDir, 'cache.sqlite')), false, 'the results went to the shared store, not to a local cache file');
    });

    test('a lease left by a killed process is taken over: the waiting process computes the task itself', { timeout: 120_000 }, async () => {
      await assertKilledHolderTakenOver(sharedProject(), { LITTLEPIPES_STORE: server.url });
    });


    test('a lease held by a process on another machine is waited for until it expires, then taken over', { timeout: 120_000 }, async () => {
      const where = sharedProject('far-team');
      // Opening the store once creates its tables, as any earlier run of the team has.
      const opener = new Pipeline('Opener', { store: server.url, project: 'far-team' }).add(new Task('Nothing').process('run', () => 0));
      await opener.execute({ progress: false });
      await opener.close();
      // No pid tells from here whether a process of another host lives: only expiry frees its lease.
      const leaseMs = 4000;
      await leaveLease(kind, server.url, 'far-team/Shared', 'other-machine:4242:deadbeef', 'Slow', leaseMs);
      const started = Date.now();
      const runner = startPipeline(where, { LITTLEPIPES_STORE: server.url });
      assert.equal(await runner.exit, 0, runner.output());
      assert.ok(Date.now() - started >= leaseMs - 500, `Slow was taken over after ${Date.now() - started} ms, before the other machine's lease expired`);
      const counts = executions(where.executions);
      assert.equal(counts.get('Slow'), 1);
      assert.deepEqual(duplicates(counts), []);
    });
  });
}

/**
 * Writes, with the store's own client, what a process on another machine leaves when it dies
 * mid-task: its presence on the pipeline `namespace` and its lease on `task`, for `ms`.
 */
async function leaveLease(kind: string, url: string, namespace: string, owner: string, task: string, ms: number): Promise<void> {
  if (kind === 'Redis') {
    const redis = new Redis(url);
    try {
      const [seconds] = await redis.time();
      await redis.zadd(`littlepipes:presence:${namespace}`, Number(seconds) * 1000 + ms, owner);
      await redis.set(`littlepipes:lease:${namespace}:task:${task}`, owner, 'PX', ms);
    } finally {
      redis.disconnect();
    }
    return;
  }
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const key of [`${namespace}:presence:${owner}`, `${namespace}:task:${task}`]) {
      await client.query(`INSERT INTO littlepipes_leases (key, owner, expires) VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')`, [key, owner, ms]);
    }
  } finally {
    await client.end();
  }
}
