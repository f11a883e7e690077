// Static, unlike the packages in deferred-packages.ts: the class below extends it, the local store
// opens synchronously (Pipeline#openStore), and it is an ES module, which cannot be require()d.
import KeyvSqlite from '@keyv/sqlite';
import type { StoredData } from 'keyv';

/** Rows per statement: 2 variables each, well under SQLite's limit of 32,766 variables. */
const ROWS_PER_STATEMENT = 1000;

/**
 * @keyv/sqlite with two methods of Keyv's adapter contract done for batches:
 * - `setMany`, which it lacks: without it Keyv writes a batch as one INSERT per entry, and a run
 *   of 10,000 tasks spends most of its store time in statement round trips;
 * - `getMany`, whose original matches rows to keys with a linear search per key; this one has
 *   SQLite say which key each row is for.
 * Keyv hands these keys already prefixed with the namespace and values already serialized.
 */
export class BatchingSqliteStore extends KeyvSqlite {
  get #table(): string {
    return (this.opts as { table: string }).table;
  }

  override async getMany<Value>(keys: string[]): Promise<StoredData<Value | undefined>[]> {
    // A row per stored key with its index in `keys` (json_each's `key`): no key text to send
    // back, and no map to match rows to keys.
    const rows: { index: number; value: StoredData<Value> }[] = await this.query(
      `SELECT wanted.key AS "index", stored.value AS value FROM json_each(?) AS wanted JOIN ${this.#table} AS stored ON stored.key = wanted.value`,
      JSON.stringify(keys),
    );
    const values = new Array<StoredData<Value> | undefined>(keys.length).fill(undefined);
    for (const row of rows) values[row.index] = row.value;
    return values;
  }

  async setMany(entries: { key: string; value: unknown }[]): Promise<boolean[]> {
    const table = this.#table;
    for (let start = 0; start < entries.length; start += ROWS_PER_STATEMENT) {
      const rows = entries.slice(start, start + ROWS_PER_STATEMENT);
      const placeholders = rows.map(() => '(?, ?)').join(', ');
      const parameters = rows.flatMap(({ key, value }) => [key, value]);
      await this.query(
        `INSERT INTO ${table} (key, value) VALUES ${placeholders} ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
        ...parameters,
      );
    }
    return entries.map(() => true);
  }
}
