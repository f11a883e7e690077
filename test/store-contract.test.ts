// One contract, every backend: the local SQLite file, a Keyv Map, and real Redis and PostgreSQL
// servers each pass the same suite, as every Keyv adapter passes @keyv/test-suite. A new backend
// is added to BACKENDS and passes it before it is merged.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type StoreChoice, chooseStore } from '../lib/cache/backends/backend.js';
import { openBackend } from '../lib/cache/backends/open-backend.js';
import { EncodedValue } from '../lib/cache/codec.js';
import { type CacheEntry, ENTRY_FORMAT } from '../lib/cache/entry.js';
import { ResultStore } from '../lib/cache/store.js';
import { CacheStoreError, DamagedResultError } from '../lib/errors.js';
import type { RunRecord } from '../lib/run/outcome.js';
import { temporaryFolder } from './helpers.js';
import { type TestServer, startPostgres, startRedis } from './servers.js';

interface Backend {
  name: string;
  /** A store of the same cache each call: what one process writes, a second one reads. */
  choice(): StoreChoice;
  /** Whether processes can coordinate on it (leases). */
  leases: boolean;
  /** Whether a large result is kept apart from its entry. */
  apart: boolean;
  stop?(): Promise<void>;
}

const BACKENDS: { name: string; open(): Promise<Backend> }[] = [
  {
    name: 'SQLite file',
    async open() {
      const folder = temporaryFolder();
      return { name: 'SQLite file', choice: () => chooseStore(undefined, folder, 'test'), leases: true, apart: true };
    },
  },
  {
    name: 'Keyv Map',
    async open() {
      const map = new Map();
      return { name: 'Keyv Map', choice: () => chooseStore(map, '', 'test'), leases: false, apart: false };
    },
  },
  {
    name: 'Redis',
    async open() {
      const server = await startRedis();
      return { name: 'Redis', choice: () => chooseStore(server.url, '', 'test'), leases: true, apart: true, stop: () => server.stop() };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const server: TestServer = await startPostgres();
      return { name: 'PostgreSQL', choice: () => chooseStore(server.url, '', 'test'), leases: true, apart: true, stop: () => server.stop() };
    },
  },
];

let namespaces = 0;

function entry(value: CacheEntry['value'], resultHash: string, code = 'code-1'): CacheEntry {
  return {
    format: ENTRY_FORMAT,
    state: 'ok',
    definition: { code, options: 'options', symbols: { 'process run': 'h1' } },
    upstream: [],
    resultHash,
    storedAt: Date.now(),
    expiry: 'never',
    value,
    durationMs: 12,
  };
}

function record(tasks: string[]): RunRecord {
  return {
    pipeline: 'Contract',
    startedAt: new Date().toISOString(),
    ms: 5,
    counts: { ran: tasks.length, cached: 0, failed: 0, blocked: 0, skipped: 0, cancelled: 0 },
    tasks: tasks.map((name) => ({ name, status: 'ran', reason: 'never ran', ms: 1, processes: [] })),
  } as unknown as RunRecord;
}

for (const { name, open } of BACKENDS) {
  describe(`the store contract: ${name}`, { concurrency: false }, () => {
    let backend: Backend;
    let namespace: string;
    const stores: ResultStore[] = [];
    /** A store on the backend, as a new process would open it. */
    const store = () => {
      const opened = new ResultStore({ pipeline: 'Contract', namespace, choice: backend.choice() });
      stores.push(opened);
      return opened;
    };

    before(async () => {
      backend = await open();
    });
    after(async () => {
      for (const opened of stores) await opened.close().catch(() => {});
      await backend.stop?.();
    });

    test('entries written and flushed are read back by another store, with their code tables; removed ones are gone', async () => {
      namespace = `contract-${++namespaces}`;
      const writer = store();
      await writer.readEntries([]); // As a run does: the entries are read before results are stored.
      const small = writer.storeValue('Small', new EncodedValue([Buffer.from('small bytes')])) as { hash: string; value: CacheEntry['value'] };
      writer.put('Small', entry(small.value, small.hash));
      writer.put('Gone', entry(small.value, small.hash));
      await writer.flush();
      writer.remove(new Map([['Gone', undefined]]));
      await writer.close();

      const reader = store();
      const entries = await reader.readEntries(['Small', 'Gone', 'Never']);
      assert.deepEqual([...entries.keys()], ['Small']);
      assert.deepEqual(entries.get('Small')!.definition.symbols, { 'process run': 'h1' }, 'the code table comes back with the entry');
      assert.deepEqual(Buffer.from(await reader.loadBytes('Small', entries.get('Small')!.value!)).toString(), 'small bytes');
      const listed = await reader.listEntries(['Small', 'Gone']);
      assert.deepEqual([...listed.keys()], ['Small']);
    });

    test('a large result round-trips, checked against its hash; a replaced one is removed once its entry is', async () => {
      namespace = `contract-${++namespaces}`;
      const writer = store();
      const bytes = Buffer.alloc(300 * 1024, 7);
      const stored = await writer.storeValue('Large', new EncodedValue([bytes.subarray(0, 1000), bytes.subarray(1000)]));
      assert.equal('inline' in stored.value, !backend.apart, backend.apart ? 'kept apart from its entry' : 'kept inside its entry');
      writer.put('Large', entry(stored.value, stored.hash));
      await writer.flush();

      const reader = store();
      const [read] = (await reader.readEntries(['Large'])).values();
      assert.deepEqual(Buffer.from(await reader.loadBytes('Large', read!.value!)), bytes);
      await assert.rejects(reader.loadValue('Large', read!.value!, 'not-its-hash'), DamagedResultError, 'bytes that do not match the hash are not served');

      // Replacing the entry drops the value it referred to.
      const next = writer.storeValue('Large', new EncodedValue([Buffer.from('now small')])) as { hash: string; value: CacheEntry['value'] };
      writer.put('Large', entry(next.value, next.hash), read);
      await writer.flush();
      if (backend.apart) await assert.rejects(store().loadBytes('Large', read!.value!), CacheStoreError, 'the old value is gone');
    });

    test('a result stored by reference (a worker hands it over) reads back by its reference', async () => {
      namespace = `contract-${++namespaces}`;
      const writer = store();
      const bytes = Buffer.from('computed on a worker');
      const stored = await writer.storeValueRef('Remote', bytes);
      assert.equal('inline' in stored.value, false);
      assert.deepEqual(Buffer.from(await store().loadBytes('Remote', stored.value)), bytes);
    });

    test('the run history keeps runs newest first; purge removes entries, values and history', async () => {
      namespace = `contract-${++namespaces}`;
      const writer = store();
      writer.recordRun(record(['A']));
      writer.recordRun(record(['A', 'B']));
      const small = writer.storeValue('A', new EncodedValue([Buffer.from('a')])) as { hash: string; value: CacheEntry['value'] };
      writer.put('A', entry(small.value, small.hash));
      await writer.flush();
      const history = await store().history();
      assert.deepEqual(history.map((run) => run.tasks.length), [2, 1]);

      assert.equal(await writer.purge(['A']), 1);
      const after = store();
      assert.equal((await after.readEntries(['A'])).size, 0);
      assert.deepEqual(await after.history(), []);
    });

    test('an entry with fields missing is set aside with a warning; a cache marked by a newer littlepipes is refused', async () => {
      namespace = `contract-${++namespaces}`;
      const raw = openBackend(backend.choice(), namespace, 'Contract', async () => {});
      await raw.ready;
      await raw.writeBatch([{ key: 'task:Broken', value: { format: ENTRY_FORMAT, state: 'ok' } }], []);
      const warnings: string[] = [];
      const listen = (warning: Error) => warnings.push(warning.message);
      process.on('warning', listen);
      try {
        assert.equal((await store().readEntries(['Broken'])).size, 0);
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('warning', listen);
      }
      assert.ok(warnings.some((warning) => warning.includes('entry of Broken')), warnings.join(' | '));

      await raw.writeBatch([{ key: 'littlepipes:format', value: { format: 99, version: '9.0.0' } }], []);
      await assert.rejects(store().readEntries(['Broken']), (error: Error) => error instanceof CacheStoreError && /newer littlepipes \(9\.0\.0/.test(error.message) && /Upgrade littlepipes/.test(error.message));
      await raw.close();
    });

    test('leases exist exactly where the backend can coordinate processes, and one holder at a time has each', async () => {
      namespace = `contract-${++namespaces}`;
      const raw = openBackend(backend.choice(), namespace, 'Contract', async () => {});
      await raw.ready;
      assert.equal(store().leases === undefined, !backend.leases);
      if (!backend.leases) {
        assert.equal(raw.leases, undefined);
        await raw.close();
        return;
      }
      const leases = await raw.leases!;
      const key = `${namespace}:task:T`;
      assert.equal(await leases.take(key, 'host:1', 60_000, undefined), true);
      assert.equal(await leases.take(key, 'host:2', 60_000, undefined), false, 'a held lease is not taken');
      assert.equal(await leases.holder(key), 'host:1');
      assert.equal(await leases.take(key, 'host:2', 60_000, 'host:1'), true, 'a dead holder named is replaced');
      await leases.release(key, 'host:1');
      assert.equal(await leases.holder(key), 'host:2', 'only the holder releases');
      await leases.release(key, 'host:2');
      assert.equal(await leases.holder(key), undefined);
      assert.deepEqual(await leases.beat(namespace, 'host:1', [], 60_000), []);
      assert.deepEqual(await leases.beat(namespace, 'host:2', [], 60_000), ['host:1'], 'each sees the others present');
      await leases.leave(namespace, 'host:1', []);
      assert.deepEqual(await leases.beat(namespace, 'host:2', [], 60_000), []);
      await raw.close();
    });
  });
}
