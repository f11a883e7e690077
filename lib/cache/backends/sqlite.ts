import fs from 'node:fs';
import path from 'node:path';
import Keyv from 'keyv';
import { CacheStoreError } from '../../errors.js';
import type { LeaseBackend } from '../leases.js';
import { type Backend, UNREADABLE_ROW } from './backend.js';
import { KeyvRows } from './keyv-rows.js';
import { ResultFiles } from './result-files.js';
import { setAsideIfDamaged } from './sqlite-file.js';
import { SqliteLeases } from './sqlite-leases.js';
import type { BatchingSqliteStore } from './sqlite-store.js';

/**
 * The default cache: one SQLite file in the cache folder (through @keyv/sqlite), large results in
 * files beside it, and leases in a table of the same file. WAL lets readers and one writer work
 * at once; each batch of entries is one transaction.
 */
export class SqliteBackend implements Backend {
  readonly location: string;
  readonly ready: Promise<void>;
  readonly values: ResultFiles;
  readonly leases: Promise<LeaseBackend>;
  #sqlite!: BatchingSqliteStore;
  #rows!: KeyvRows;
  #writing: Promise<unknown> = Promise.resolve();

  /** `check` runs first, before anything is written: a cache it refuses is left as it was. */
  constructor(file: string, cacheDir: string, namespace: string, pipeline: string, check: (backend: Backend) => Promise<void>) {
    this.location = file;
    try {
      fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new CacheStoreError(`Cannot create the cache folder ${cacheDir}: ${(error as Error).message}. Choose another folder with the cacheDir option or LITTLEPIPES_DIR.`, { cause: error });
    }
    const damaged = setAsideIfDamaged(file);
    if (damaged) {
      process.emitWarning(`The cache file ${file} ${damaged.problem}. It was moved to ${damaged.movedTo} and a new cache was started; results will be computed again.`, { code: 'LITTLEPIPES_CACHE_RECOVERED' });
    }
    ownerOnly(cacheDir, file);
    this.values = new ResultFiles(path.join(cacheDir, 'blobs', pipeline));
    this.ready = (async () => {
      // Loaded as the first cache opens, not when littlepipes is imported: @keyv/sqlite and
      // SQLite's native module were about 12 ms of every import, a plan without a run included.
      const { BatchingSqliteStore } = await import('./sqlite-store.js');
      const sqlite = new BatchingSqliteStore({ uri: `sqlite://${file}`, busyTimeout: 15_000 });
      sqlite.on('error', () => {}); // Reported through the rejected query instead.
      this.#sqlite = sqlite;
      this.#rows = new KeyvRows(new Keyv({ store: sqlite, namespace, serialize: JSON.stringify, deserialize: JSON.parse, throwOnErrors: true, emitErrors: false }));
      await check(this);
      // NORMAL syncs at checkpoints, which WAL keeps crash-safe.
      await sqlite.query('PRAGMA journal_mode=WAL');
      await sqlite.query('PRAGMA synchronous=NORMAL');
    })();
    // Leases are rows in the same file: none is taken in a cache that is refused.
    this.leases = this.ready.then(() => new SqliteLeases(this.#sqlite));
    this.leases.catch(() => {});
  }

  readMany(keys: readonly string[]): Promise<unknown[]> {
    return this.#rows.readMany(keys);
  }

  /** One transaction at a time: they share the one connection, and SQLite does not nest them. */
  writeBatch(sets: readonly { key: string; value: unknown }[], deletes: readonly string[]): Promise<void> {
    const writing = this.#writing.then(() => this.#transaction(sets, deletes));
    this.#writing = writing.catch(() => {});
    return writing;
  }

  async #transaction(sets: readonly { key: string; value: unknown }[], deletes: readonly string[]): Promise<void> {
    await this.#sqlite.query('BEGIN IMMEDIATE');
    try {
      await this.#rows.writeMany(sets);
      await this.#rows.deleteMany(deletes);
      await this.#sqlite.query('COMMIT');
    } catch (error) {
      await this.#sqlite.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  async list(prefix: string): Promise<[string, unknown][]> {
    const namespace = this.#rows.keyv.namespace!;
    const full = `${namespace}:${prefix}`;
    const table = (this.#sqlite.opts as { table: string }).table;
    const rows: { key: string; value: string }[] = await this.#sqlite.query(`SELECT key, value FROM ${table} WHERE substr(key, 1, length(?)) = ?`, full, full);
    return rows.map((row) => {
      const key = row.key.slice(namespace.length + 1);
      try {
        return [key, (JSON.parse(row.value) as { value?: unknown }).value];
      } catch {
        return [key, UNREADABLE_ROW];
      }
    });
  }

  close(): Promise<void> {
    // Closed also when the cache was refused: SQLite removes the -wal and -shm files it made on
    // closing, so a refused cache is left byte for byte as it was. One that never connected has nothing to close.
    return this.ready.catch(() => {}).then(() => (this.#rows as KeyvRows | undefined)?.close());
  }
}

/**
 * Results and logs may hold private data: the cache folder is made owner-only (with a warning
 * when it was not), and the cache file is created owner-only before SQLite opens it, since SQLite
 * gives its -wal and -shm files, which hold results too, the database file's permissions.
 * Changing the mode after opening left them readable by everyone for the whole run.
 */
function ownerOnly(cacheDir: string, file: string): void {
  try {
    const mode = fs.statSync(cacheDir).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      fs.chmodSync(cacheDir, 0o700);
      process.emitWarning(`The cache folder ${cacheDir} was open to other users (mode ${mode.toString(8)}); it holds results and logs, so it was made owner-only (700).`, { code: 'LITTLEPIPES_CACHE_PERMISSIONS' });
    }
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    for (const own of [file, `${file}-wal`, `${file}-shm`]) {
      if (fs.existsSync(own) && (fs.statSync(own).mode & 0o077) !== 0) fs.chmodSync(own, 0o600);
    }
  } catch (error) {
    throw new CacheStoreError(`Cannot make the cache in ${cacheDir} owner-only: ${(error as Error).message}. Check that the folder is yours and writable, or choose another with the cacheDir option or LITTLEPIPES_DIR.`, { cause: error });
  }
}
