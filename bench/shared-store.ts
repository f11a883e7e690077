/**
 * Large results in a shared store (Redis, PostgreSQL): the cases of the large-result bench,
 * stored by a run and loaded by getResult() through a store given by URL, against the floor in
 * the same run on the same server: the value `v8.serialize`d and written with the raw client
 * (ioredis SET, or a pg INSERT of a bytea, one value in one piece), then read back (GET, SELECT)
 * and `v8.deserialize`d.
 * The servers are private ones started here (test/servers.ts), on loopback, with their data in
 * memory or a temporary folder, and stopped at the end.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';
import { Redis } from 'ioredis';
import { type Pipeline, Task } from '../dist/index.js';
import { type TestServer, startPostgres, startRedis } from '../test/servers.js';
import { type Baseline, type Case, CASES, type Round, prime, round, summarize } from './large-results.js';
import { type Figure, fmt, list, median, removeFolder, temporaryFolder, timeMs } from './util.js';

const BENCH = 'shared';
/** Rounds per case at most, and untimed rounds before them: each round moves the value over a socket four times. */
const MAX_ROUNDS = 5;
const WARM_ROUNDS = 2;

/** node-postgres, the driver inside @keyv/postgres (no types of its own). */
interface PgPool {
  query(sql: string, values?: unknown[]): Promise<{ rows: { bytes: Buffer }[] }>;
  end(): Promise<void>;
}
const { Pool } = createRequire(import.meta.url)('pg') as { Pool: new (options: { connectionString: string; max: number }) => PgPool };

interface Store {
  kind: string;
  /** The largest value the raw client can write and read back in one piece; larger cases are timed without a baseline. */
  singleValueLimit: number;
  start: () => Promise<TestServer>;
  /** The raw client's baseline on the server at `url`, and how to release the client. */
  baseline: (url: string) => Promise<{ at: (index: number) => Baseline; close: () => Promise<unknown> }>;
}

const STORES: Store[] = [
  {
    kind: 'redis',
    // proto-max-bulk-len, Redis's largest string.
    singleValueLimit: 512 * 1024 * 1024,
    start: startRedis,
    async baseline(url) {
      const redis = new Redis(url);
      return {
        at: (index) => ({
          write: (bytes) => redis.set(`baseline:${index}`, bytes),
          read: async () => (await redis.getBuffer(`baseline:${index}`))!,
          remove: () => redis.del(`baseline:${index}`),
        }),
        close: async () => redis.disconnect(),
      };
    },
  },
  {
    kind: 'postgres',
    // node-postgres reads a bytea as hex text: past this, a string longer than V8 allows (it throws where it cannot be caught).
    singleValueLimit: 256 * 1024 * 1024,
    start: startPostgres,
    async baseline(url) {
      const pool = new Pool({ connectionString: url, max: 1 });
      // Uncompressed, as littlepipes' own table. (node-postgres reads a bytea as hex text, so it
      // cannot read one over 256 MB: the string would be longer than V8 allows; see below.)
      await pool.query('CREATE TABLE IF NOT EXISTS baseline (key TEXT PRIMARY KEY, bytes BYTEA NOT NULL)');
      await pool.query('ALTER TABLE baseline ALTER COLUMN bytes SET STORAGE EXTERNAL');
      return {
        at: (index) => ({
          write: (bytes) => pool.query('INSERT INTO baseline (key, bytes) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET bytes = excluded.bytes', [String(index), bytes]),
          read: async () => (await pool.query('SELECT bytes FROM baseline WHERE key = $1', [String(index)])).rows[0]!.bytes,
          remove: () => pool.query('DELETE FROM baseline WHERE key = $1', [String(index)]),
        }),
        close: () => pool.end(),
      };
    },
  },
];

export async function sharedStoreBench(log: (line: string) => void): Promise<Figure[]> {
  const figures: Figure[] = [];
  const root = temporaryFolder('littlepipes-bench-shared-');
  try {
    for (const store of STORES) {
      const server = await store.start();
      const baseline = await store.baseline(server.url);
      try {
        for (const item of CASES) {
          const folder = path.join(root, `${store.kind}-${item.key}`);
          const pipeline: Pipeline = await prime(folder, server.url);
          let value: unknown = item.make();
          const bytes = v8.serialize(value).length;
          log(`${BENCH}: ${store.kind}: ${item.label}: ${fmt(bytes / 1e6)} MB serialized`);
          const rounds: Round[] = [];
          if (bytes > store.singleValueLimit) {
            log(`${BENCH}:   no baseline: the raw client cannot take ${fmt(bytes / 1e6)} MB in one value (at most ${fmt(store.singleValueLimit / 1e6)} MB); littlepipes stores it in chunks`);
            figures.push(...(await withoutBaseline(item, value, store.kind, pipeline, log)));
          } else {
            for (let index = -WARM_ROUNDS; index < 0; index++) await round(item, value, true, baseline.at(index), index, pipeline);
            for (let index = 0; index < Math.min(item.rounds, MAX_ROUNDS); index++) {
              const r = await round(item, value, index % 2 === 0, baseline.at(index), index, pipeline);
              rounds.push(r);
              log(`${BENCH}:   round ${index + 1}: store ${fmt(r.lpStore)} ms (baseline ${fmt(r.baseStore)}), load ${fmt(r.lpLoad)} ms (baseline ${fmt(r.baseLoad)})`);
            }
          }
          value = undefined;
          await pipeline.close();
          removeFolder(folder);
          if (rounds.length > 0) {
            figures.push(...summarize(BENCH, { ...item, key: `${store.kind} ${item.key}` }, rounds, log, 1.5, `${store.kind} ${item.label}`));
          }
        }
      } finally {
        await baseline.close();
        await server.stop();
      }
    }
  } finally {
    removeFolder(root);
  }
  return figures;
}

/** Store and load times of a value no raw client can take in one piece: the median of a few rounds, after one untimed. */
async function withoutBaseline(item: Case, value: unknown, kind: string, pipeline: Pipeline, log: (line: string) => void): Promise<Figure[]> {
  const times = { store: [] as number[], load: [] as number[] };
  for (let index = -1; index < Math.min(item.rounds, MAX_ROUNDS); index++) {
    const name = `Alone${index + 1}`;
    pipeline.add(new Task(name).process('run', () => value));
    const stored = await timeMs(() => pipeline.execute({ progress: false, only: [name] }));
    const loaded = await timeMs(() => pipeline.getResult(name));
    if (!item.same(value, loaded.value)) throw new Error(`${kind} ${item.key}: the loaded result differs from the stored one`);
    await pipeline.clear([name]);
    if (index < 0) continue;
    times.store.push(stored.ms);
    times.load.push(loaded.ms);
    log(`${BENCH}:   round ${index + 1}: store ${fmt(stored.ms)} ms, load ${fmt(loaded.ms)} ms`);
  }
  return (['store', 'load'] as const).map((op) => {
    log(`  ${kind} ${item.label} ${op.padEnd(5)}: littlepipes ${fmt(median(times[op]))} ms ${list(times[op])}, no baseline`);
    return { bench: BENCH, name: `${kind} ${item.key} ${op} littlepipes ms`, value: median(times[op]), unit: 'ms' };
  });
}
