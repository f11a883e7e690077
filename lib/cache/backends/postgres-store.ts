import { createRequire } from 'node:module';
import type { LeaseBackend } from '../leases.js';
import { type SharedStore, chunkCount, loadOptional } from './shared-store.js';

const LEASES = 'littlepipes_leases';
const VALUES = 'littlepipes_values';
/**
 * Large values go in rows of this size. A field holds at most 1 GB, and node-postgres reads a
 * bytea as hex text, which for more than 256 MB is a string longer than V8 allows; rows of a few
 * MB also read and write faster than rows of 32 MB or more (measured with bench/shared-store.ts).
 */
const VALUE_CHUNK = 4 * 1024 * 1024;
/** PostgreSQL's codes for a table created at the same moment by another connection. */
const CREATED_CONCURRENTLY = new Set(['23505', '42P07']);

type Query = (sql: string, values?: unknown[]) => Promise<Record<string, unknown>[]>;

/** The part of node-postgres (the driver inside @keyv/postgres, which has no types of its own) used here. */
interface PoolClient {
  query(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  release(): void;
}
interface Pool extends Omit<PoolClient, 'release'> {
  connect(): Promise<PoolClient>;
  end(): Promise<void>;
  on(event: 'error', listener: () => void): void;
}

/**
 * PostgreSQL through @keyv/postgres: entries are Keyv's rows; leases are rows of their own table
 * (INSERT ... ON CONFLICT DO UPDATE ... WHERE, one atomic statement) whose expiry is the server's
 * clock; large values are `bytea` rows, in chunks (a field holds at most 1 GB).
 */
export async function openPostgres(url: string): Promise<SharedStore> {
  const { default: KeyvPostgres } = await loadOptional<typeof import('@keyv/postgres')>('@keyv/postgres', () => import('@keyv/postgres'), url);
  // @keyv/postgres keeps one pool per process, which the first disconnect() ends for every
  // store; a pool of this store's own lets two pipelines of one process close independently.
  const pg = createRequire(import.meta.resolve('@keyv/postgres'))('pg') as { Pool: new (options: object) => Pool };
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => {}); // An idle connection lost: the next query reports it.
  const query: Query = async (sql, values) => (await pool.query(sql, values)).rows;
  class OwnPoolPostgres extends KeyvPostgres {
    override async connect() {
      return query as never;
    }

    override async disconnect() {
      await pool.end();
    }
  }
  // Keys are `<project>/<pipeline>:task:<task>` with task names of up to 200 characters: more
  // than @keyv/postgres's default of 255 for a new table. Listing entries (listCache({ all }),
  // purge) pages through them: 1,000 rows a query, not 10.
  const adapter = new OwnPoolPostgres({ uri: url, keySize: 1024, iterationLimit: 1000 });
  adapter.on('error', () => {}); // Reported through the rejected query instead.
  await adapter.query('SELECT 1');
  await createTables(query);

  const expiry = `clock_timestamp() + $3 * interval '1 millisecond'`;
  const leases: LeaseBackend = {
    async holder(key) {
      const [row] = await query(`SELECT owner FROM ${LEASES} WHERE key = $1 AND expires > clock_timestamp()`, [key]);
      return row?.owner as string | undefined;
    },
    async take(key, owner, ms, replacing) {
      const rows = await query(
        `INSERT INTO ${LEASES} AS lease (key, owner, expires) VALUES ($1, $2, ${expiry})
         ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
         WHERE lease.owner = $2 OR lease.owner = $4 OR lease.expires <= clock_timestamp()
         RETURNING owner`,
        [key, owner, ms, replacing ?? owner],
      );
      return rows.length === 1;
    },
    async beat(namespace, owner, held, ms) {
      await query(
        `INSERT INTO ${LEASES} (key, owner, expires) VALUES ($1, $2, ${expiry}) ON CONFLICT (key) DO UPDATE SET expires = excluded.expires`,
        [`${namespace}:presence:${owner}`, owner, ms],
      );
      if (held.length > 0) await query(`UPDATE ${LEASES} SET expires = ${expiry} WHERE owner = $2 AND key = ANY($1)`, [held, owner, ms]);
      const prefix = `${namespace}:presence:`;
      const rows = await query(`SELECT owner FROM ${LEASES} WHERE left(key, length($1)) = $1 AND owner <> $2 AND expires > clock_timestamp()`, [prefix, owner]);
      return rows.map((row) => row.owner as string);
    },
    async forget(_namespace, owners) {
      await query(`DELETE FROM ${LEASES} WHERE owner = ANY($1)`, [owners]);
    },
    async release(key, owner) {
      await query(`DELETE FROM ${LEASES} WHERE key = $1 AND owner = $2`, [key, owner]);
    },
    async leave(_namespace, owner) {
      await query(`DELETE FROM ${LEASES} WHERE owner = $1`, [owner]);
    },
  };

  return {
    adapter,
    leases,
    values: {
      async write(key, value) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query(`DELETE FROM ${VALUES} WHERE key = $1`, [key]);
          for (let index = 0; index < chunkCount(value.length, VALUE_CHUNK); index++) {
            await client.query(`INSERT INTO ${VALUES} (key, chunk, bytes) VALUES ($1, $2, $3)`, [key, index, value.subarray(index * VALUE_CHUNK, (index + 1) * VALUE_CHUNK)]);
          }
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      },
      async read(key, size) {
        const rows = await query(`SELECT bytes FROM ${VALUES} WHERE key = $1 ORDER BY chunk`, [key]);
        if (rows.length !== chunkCount(size, VALUE_CHUNK)) return undefined;
        return rows.length === 1 ? (rows[0]!.bytes as Buffer) : Buffer.concat(rows.map((row) => row.bytes as Buffer), size);
      },
      async remove(values) {
        if (values.length > 0) await query(`DELETE FROM ${VALUES} WHERE key = ANY($1)`, [values.map((value) => value.key)]);
      },
    },
    close: () => adapter.disconnect(),
  };
}

async function createTables(query: Query): Promise<void> {
  const [{ exists } = { exists: false }] = await query(`SELECT to_regclass('${VALUES}') IS NOT NULL AS exists`);
  const statements = [`CREATE TABLE IF NOT EXISTS ${LEASES} (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires TIMESTAMPTZ NOT NULL)`];
  if (!exists) {
    statements.push(
      `CREATE TABLE IF NOT EXISTS ${VALUES} (key TEXT NOT NULL, chunk INTEGER NOT NULL, bytes BYTEA NOT NULL, PRIMARY KEY (key, chunk))`,
      // Not compressed: serialized numbers hardly compress, and compressing took most of a write.
      // Once, when the table is new: ALTER TABLE would wait for every other process using it.
      `ALTER TABLE ${VALUES} ALTER COLUMN bytes SET STORAGE EXTERNAL`,
    );
  }
  for (const sql of statements) {
    try {
      await query(sql);
    } catch (error) {
      if (!CREATED_CONCURRENTLY.has((error as { code?: string }).code ?? '')) throw error;
    }
  }
}
