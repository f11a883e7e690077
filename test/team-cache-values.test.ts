import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { CacheStoreError, Pipeline, Task } from '../lib/index.js';
import { temporaryFolder } from './helpers.js';
import { type TestServer, startPostgres, startRedis } from './servers.js';

/**
 * Large results in a store given by URL live beside the entries, as bytes under keys of their
 * own (in chunks), so no value is too large for one Redis string or PostgreSQL field, an entry
 * stays small, and a value no entry refers to any more is deleted.
 */
const { Client } = createRequire(import.meta.url)('pg') as {
  Client: new (options: { connectionString: string }) => { connect(): Promise<void>; query(sql: string): Promise<{ rows: Record<string, unknown>[] }>; end(): Promise<void> };
};

/** What the store holds, seen with its own client: the largest entry, and how many value chunks. */
interface Contents {
  largestEntryBytes: number;
  valueChunks: number;
}

const MB = 1024 * 1024;
/** Each store's chunk size: a few large strings in Redis; rows of a few MB in PostgreSQL, which reads them fastest. */
const STORES: Record<string, { start: () => Promise<TestServer>; chunk: number; contents: (url: string) => Promise<Contents>; dropValues: (url: string) => Promise<unknown> }> = {
  Redis: {
    start: startRedis,
    chunk: 32 * MB,
    async contents(url) {
      const redis = new Redis(url);
      try {
        const keys = await redis.keys('*');
        const values = keys.filter((key) => key.startsWith('littlepipes:value:'));
        const entries = keys.filter((key) => key.includes(':task:') && !key.startsWith('littlepipes:'));
        const sizes = await Promise.all(entries.map((key) => redis.strlen(key)));
        return { largestEntryBytes: Math.max(0, ...sizes), valueChunks: values.length };
      } finally {
        redis.disconnect();
      }
    },
    async dropValues(url) {
      const redis = new Redis(url);
      try {
        for (const key of await redis.keys('littlepipes:value:*')) await redis.del(key);
      } finally {
        redis.disconnect();
      }
    },
  },
  PostgreSQL: {
    start: startPostgres,
    chunk: 4 * MB,
    async contents(url) {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        const entries = await client.query(`SELECT coalesce(max(octet_length(value)), 0) AS bytes FROM keyv WHERE key LIKE '%:task:%'`);
        const chunks = await client.query('SELECT count(*) AS chunks FROM littlepipes_values');
        return { largestEntryBytes: Number(entries.rows[0]!.bytes), valueChunks: Number(chunks.rows[0]!.chunks) };
      } finally {
        await client.end();
      }
    },
    async dropValues(url) {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('DELETE FROM littlepipes_values');
      } finally {
        await client.end();
      }
    },
  },
};

/** 272 MB serialized: above the 256 MB that a result may take inside an entry (STORE_VALUE_LIMIT). */
const LENGTH = 34_000_000;

for (const [kind, { start, chunk, contents, dropValues }] of Object.entries(STORES)) {
  describe(`large results in a ${kind} store`, () => {
    let server: TestServer;
    before(async () => {
      server = await start();
    });
    after(() => server.stop());

    test('a result above 256 MB is stored in chunks and served whole, to a pipeline opened afresh too; its entry stays small', { timeout: 120_000 }, async () => {
      const make = () => new Pipeline('Big', { store: server.url, project: 'values', cacheDir: temporaryFolder() }).add(
        new Task('Matrix').process('run', () => Float64Array.from({ length: LENGTH }, (_, index) => index % 977)),
        new Task('Corner', { dependencies: ['Matrix'] }).process('run', (t) => t.result<Float64Array>('Matrix')[LENGTH - 1]),
      );
      const first = make();
      assert.equal((await first.execute({ progress: false })).task('Matrix')?.status, 'ran');
      const [listing] = await first.listCache();
      assert.equal(listing!.bytes > 256 * 1024 * 1024, true, `${listing!.bytes} bytes`);
      await first.close();

      const { largestEntryBytes, valueChunks } = await contents(server.url);
      assert.ok(largestEntryBytes < 64 * 1024, `an entry of ${largestEntryBytes} bytes holds more than the value's address`);
      assert.equal(valueChunks, Math.ceil(listing!.bytes / chunk), `in chunks of ${chunk / MB} MB`);

      const second = make();
      const report = await second.execute({ progress: false });
      assert.equal(report.task('Matrix')?.status, 'cached');
      const matrix = await second.getResult('Matrix');
      assert.ok(matrix instanceof Float64Array);
      assert.equal(matrix.length, LENGTH);
      assert.equal(matrix[LENGTH - 1], (LENGTH - 1) % 977);
      assert.equal(matrix[12_345_678], 12_345_678 % 977);
      assert.equal(await second.getResult('Corner'), (LENGTH - 1) % 977);
      await second.close();
    });

    test('a large value replaced by a new result, or purged, leaves no chunks behind', { timeout: 120_000 }, async () => {
      const before = (await contents(server.url)).valueChunks;
      let fill = 1;
      const pipeline = new Pipeline('Replaced', { store: server.url, project: 'values', cacheDir: temporaryFolder() }).add(
        new Task('Series').process('run', () => new Float64Array(1_000_000).fill(fill)),
      );
      await pipeline.execute({ progress: false });
      const { bytes } = (await pipeline.listCache())[0]!;
      const chunks = Math.ceil(bytes / chunk);
      assert.equal((await contents(server.url)).valueChunks, before + chunks);
      fill = 2;
      const forced = await pipeline.execute({ progress: false, force: true });
      assert.equal(forced.task('Series')?.status, 'ran');
      assert.equal((await pipeline.getResult('Series') as Float64Array)[0], 2);
      assert.equal((await contents(server.url)).valueChunks, before + chunks, 'the first value was deleted once the second was committed');
      assert.equal(await pipeline.purge(), 1);
      assert.equal((await contents(server.url)).valueChunks, before);
      await pipeline.close();
    });

    test('a large value that went missing from the store (evicted, removed by hand) is a CacheStoreError that says how to recover', { timeout: 60_000 }, async () => {
      const pipeline = new Pipeline('Evicted', { store: server.url, project: 'values', cacheDir: temporaryFolder() }).add(
        new Task('Series').process('run', () => new Float64Array(100_000).fill(3)),
      );
      await pipeline.execute({ progress: false });
      await dropValues(server.url);
      await assert.rejects(pipeline.getResult('Series'), (error: unknown) => {
        assert.ok(error instanceof CacheStoreError, String(error));
        assert.match(error.message, /^The cached result of Series is missing from (redis|postgresql):\/\/[^ ]+: another run replaced or removed it meanwhile, or the server evicted it\. Run again; if this comes back, clear it with pipeline\.clear\(\['Series'\]\)/);
        return true;
      });
      await pipeline.clear(['Series']);
      assert.equal((await pipeline.execute({ progress: false })).task('Series')?.status, 'ran');
      assert.equal(((await pipeline.getResult('Series')) as Float64Array)[99_999], 3);
      await pipeline.close();
    });
  });
}
