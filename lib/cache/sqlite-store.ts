import KeyvSqlite from '@keyv/sqlite';

/** Rows per statement: 2 variables each, well under SQLite's limit of 32,766 variables. */
const ROWS_PER_STATEMENT = 1000;

/**
 * @keyv/sqlite with the optional `setMany` of Keyv's adapter contract, which it lacks: without
 * it, Keyv writes a batch as one INSERT per entry, and a run of 10,000 tasks spends most of its
 * store time in statement round trips. Keyv hands `setMany` keys already prefixed with the
 * namespace and values already serialized, so this only has to write rows.
 */
export class BatchingSqliteStore extends KeyvSqlite {
  async setMany(entries: { key: string; value: unknown }[]): Promise<boolean[]> {
    const table = (this.opts as { table: string }).table;
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
