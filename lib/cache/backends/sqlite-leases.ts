import type { LeaseBackend } from '../leases.js';
import type { BatchingSqliteStore } from './sqlite-store.js';

const TABLE = 'littlepipes_leases';

/**
 * Leases in a table of the local SQLite cache: one row per lease, task leases and presences
 * alike (`<namespace>:presence:<owner>`), with an expiry in ms since the epoch. Every process
 * using the file is on this machine, so its clock is the one clock.
 */
export class SqliteLeases implements LeaseBackend {
  readonly #sqlite: BatchingSqliteStore;
  #ready: Promise<void> | undefined;

  constructor(sqlite: BatchingSqliteStore) {
    this.#sqlite = sqlite;
  }

  async holder(key: string): Promise<string | undefined> {
    const [current] = await this.#query(`SELECT owner FROM ${TABLE} WHERE key = ? AND expires > ?`, key, Date.now()) as { owner: string }[];
    return current?.owner;
  }

  async take(key: string, owner: string, ms: number, replacing: string | undefined): Promise<boolean> {
    const now = Date.now();
    await this.#query(
      `INSERT INTO ${TABLE} (key, owner, expires) VALUES (?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
       WHERE ${TABLE}.owner = ? OR ${TABLE}.expires <= ? OR ${TABLE}.owner = ?`,
      key, owner, now + ms, replacing ?? owner, now, owner,
    );
    return (await this.holder(key)) === owner;
  }

  async beat(namespace: string, owner: string, held: readonly string[], ms: number): Promise<string[]> {
    const now = Date.now();
    await this.#query(
      `INSERT INTO ${TABLE} (key, owner, expires) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET expires = excluded.expires`,
      `${namespace}:presence:${owner}`, owner, now + ms,
    );
    if (held.length > 0) {
      await this.#query(`UPDATE ${TABLE} SET expires = ? WHERE owner = ? AND key IN (SELECT value FROM json_each(?))`, now + ms, owner, JSON.stringify(held));
    }
    const prefix = `${namespace}:presence:`;
    const present = await this.#query(
      `SELECT owner FROM ${TABLE} WHERE substr(key, 1, length(?)) = ? AND owner != ? AND expires > ?`, prefix, prefix, owner, now,
    ) as { owner: string }[];
    return present.map((row) => row.owner);
  }

  async forget(_namespace: string, owners: readonly string[]): Promise<void> {
    await this.#query(`DELETE FROM ${TABLE} WHERE owner IN (SELECT value FROM json_each(?))`, JSON.stringify(owners));
  }

  async release(key: string, owner: string): Promise<void> {
    await this.#query(`DELETE FROM ${TABLE} WHERE key = ? AND owner = ?`, key, owner);
  }

  async leave(_namespace: string, owner: string): Promise<void> {
    await this.#query(`DELETE FROM ${TABLE} WHERE owner = ?`, owner);
  }

  async #query(sql: string, ...parameters: unknown[]): Promise<unknown[]> {
    this.#ready ??= this.#sqlite
      .query(`CREATE TABLE IF NOT EXISTS ${TABLE} (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires INTEGER NOT NULL)`)
      .then(() => {});
    await this.#ready;
    return this.#sqlite.query(sql, ...parameters);
  }
}
